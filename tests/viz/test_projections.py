"""Deconvnet projections of single units against Captum's ``Deconvolution`` on a torch twin whose
output is the chosen units' activations; on tanh / average-pooling models against numpy written from
Zeiler & Fergus' backward pass, and in the report of such a model."""

import json

import numpy as np
import pytest

from deepkit.viz import deconvnet_projections, feature_model, receptive_field, top_k_patches, top_k_projections
from tests.viz.attribution.torch_twins import keras_cnn, to_torch, to_numpy, torch_twin

# Keras layer -> the torch twin's modules up to it (conv1 includes its ReLU; relu2 after conv2).
_DEPTH = {"conv1": 2, "pool": 3, "relu2": 5}


def _captum_unit_deconvolution(model, layer, x, units, positions):
    """Captum's Deconvolution of the twin cut at ``layer``, target = the flat index of each
    image's (unit, row, col) in the NCHW map."""
    captum = pytest.importorskip("captum.attr")
    from torch import nn

    body = torch_twin(model)[:_DEPTH[layer]]
    wrapped = nn.Sequential(*body, nn.Flatten()).eval()
    h, w = model.get_layer(layer).output.shape[1:3]
    targets = [int(u) * h * w + int(r) * w + int(c) for u, (r, c) in zip(units, positions)]
    return to_numpy(captum.Deconvolution(wrapped).attribute(to_torch(x), target=targets))


@pytest.mark.parametrize("layer", ["conv1", "pool", "relu2"])
def test_unit_projection_equals_captum_deconvolution(layer):
    """Whole-image projections equal Captum's Deconvolution of the unit's activation (float32
    rounding). Planted errors seen to fail here: the guided rule instead of the deconvnet one in
    ``deconvnet_projections`` (fails at pool and relu2, max diff 0.32), and the mask's row and
    column swapped (fails at all three)."""
    pytest.importorskip("torch")
    model = keras_cnn(0)
    x = np.random.default_rng(3).normal(size=(6, 8, 8, 2)).astype("float32")
    h, w, channels = model.get_layer(layer).output.shape[1:]
    rng = np.random.default_rng(4)
    units = rng.integers(0, channels, len(x))
    positions = np.stack([rng.integers(0, h, len(x)), rng.integers(0, w, len(x))], axis=-1)
    ours = deconvnet_projections(model, layer, x, units, positions, crop=False)
    ref = _captum_unit_deconvolution(model, layer, x, units, positions)
    assert np.abs(ref).max() > 1e-3
    np.testing.assert_allclose(ours, ref, atol=1e-5 * np.abs(ref).max(), rtol=0)


def test_default_position_is_the_strongest_and_crop_is_the_receptive_field():
    """Default positions are each image's argmax of its channel (numpy), the cropped projection is
    the receptive-field window of the whole one (zero outside the image). Planted error seen to
    fail: the crop box shifted by one row."""
    pytest.importorskip("torch")
    model = keras_cnn(0)
    x = np.random.default_rng(5).normal(size=(4, 8, 8, 2)).astype("float32")
    units = np.array([0, 1, 2, 3])
    acts = np.asarray(feature_model(model, "pool").predict(x, verbose=0))
    flat = acts[np.arange(4), :, :, units].reshape(4, -1).argmax(1)
    positions = np.stack(np.divmod(flat, acts.shape[2]), -1)
    whole = _captum_unit_deconvolution(model, "pool", x, units, positions)
    cropped = deconvnet_projections(model, "pool", x, units)
    rf = receptive_field(model, "pool")
    assert cropped.shape == (4, *rf.size, 2)
    for i, (r, c) in enumerate(positions):
        y0, x0 = rf.start[0] + r * rf.stride[0], rf.start[1] + c * rf.stride[1]
        padded = np.pad(whole[i], ((4, 4), (4, 4), (0, 0)))
        window = padded[y0 + 4:y0 + 4 + rf.size[0], x0 + 4:x0 + 4 + rf.size[1]]
        np.testing.assert_allclose(cropped[i], window, atol=1e-5 * np.abs(whole).max(), rtol=0)


def test_top_k_projections_line_up_with_the_patches():
    model = keras_cnn(0)
    x = np.random.default_rng(6).normal(size=(12, 8, 8, 2)).astype("float32")
    top = top_k_patches(model, "relu2", x, k=3, channels=[1, 4])
    proj = top_k_projections(model, top, x)
    assert proj.shape == top.patches.shape
    one = deconvnet_projections(model, "relu2", x[top.indices[1, 2]][None], 4, top.positions[1, 2][None])
    np.testing.assert_allclose(proj[1, 2], one[0], atol=1e-6)


def test_bad_input_is_refused_with_the_reason():
    import keras

    model = keras_cnn(0)
    x = np.zeros((2, 8, 8, 2), "float32")
    with pytest.raises(ValueError, match=r"6 channels.*\[6\]"):
        deconvnet_projections(model, "relu2", x, [0, 6])
    with pytest.raises(ValueError, match="positions must be"):
        deconvnet_projections(model, "relu2", x, 0, positions=[[0, 0], [4, 0]])
    with pytest.raises(ValueError, match="image-like"):
        deconvnet_projections(model, "fc", x, 0)
    linear = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3, name="c")])
    with pytest.raises(ValueError, match="no element-wise non-linearity"):
        deconvnet_projections(linear, "c", np.zeros((1, 4, 4, 1)), 0)


def _tanh_lenet(seed=0):
    """x (6, 6, 1) -> Conv2D(2, 3, tanh) "c1" -> AveragePooling2D(2) "s2" -> Conv2D(3, 2, tanh) "c3"
    (1x1) -> Flatten -> Dense(4): LeNet-5's layer kinds, tiny."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((6, 6, 1)),
        keras.layers.Conv2D(2, 3, activation="tanh", name="c1"),
        keras.layers.AveragePooling2D(2, name="s2"),
        keras.layers.Conv2D(3, 2, activation="tanh", name="c3"),
        keras.layers.Flatten(), keras.layers.Dense(4, name="out"),
    ])


def _numpy_tanh_projection(model, layer, unit, position):
    """Zeiler & Fergus' backward pass written out: a ReLU rectifies the signal at each tanh, the
    average pooling is transposed (each window cell gets a quarter), convolutions are transposed."""
    w1 = np.asarray(model.get_layer("c1").kernel, "float64")
    w3 = np.asarray(model.get_layer("c3").kernel, "float64")
    r, c = position
    if layer == "c3":
        signal_c3 = np.maximum(np.eye(3)[unit], 0)  # rectified at c3's tanh
        s2 = np.einsum("abku,u->abk", w3, signal_c3)  # transposed 2x2 convolution from the 1x1 map
    else:
        s2 = np.zeros((2, 2, 2))
        s2[r, c, unit] = 1.0
    c1 = np.maximum(np.repeat(np.repeat(s2, 2, 0), 2, 1) / 4.0, 0)  # transposed pooling, rectified at c1's tanh
    x = np.zeros((6, 6, 1))
    for i in range(4):
        for j in range(4):
            x[i:i + 3, j:j + 3, 0] += np.einsum("abk,k->ab", w1[:, :, 0, :], c1[i, j])
    return x


@pytest.mark.parametrize("layer", ["s2", "c3"])
def test_projection_through_tanh_and_average_pooling_is_zeiler_fergus_backward_pass(layer):
    """On a tanh / average-pooling model the projection rectifies the signal at each tanh (never
    differentiates it) and transposes the pooling, as numpy from the paper's rule.

    Planted errors caught: the tanh's derivative kept under the rectification (``relu(g) * (1 -
    tanh^2)``; both fail, max diff 0.11 and 0.06); the tanh left unpatched (the plain gradient; both
    fail, 0.11 and 0.16).
    """
    model = _tanh_lenet()
    x = np.random.default_rng(2).uniform(-1, 1, (4, 6, 6, 1)).astype("float32")
    h, w, channels = model.get_layer(layer).output.shape[1:]
    rng = np.random.default_rng(5)
    units = rng.integers(0, channels, 4)
    positions = np.stack([rng.integers(0, h, 4), rng.integers(0, w, 4)], axis=-1)
    got = deconvnet_projections(model, layer, x, units, positions, crop=False)
    want = np.stack([_numpy_tanh_projection(model, layer, u, p) for u, p in zip(units, positions)])
    assert np.abs(want).max() > 1e-2
    np.testing.assert_allclose(got, want, atol=1e-5 * np.abs(want).max(), rtol=0)


def test_report_of_a_tanh_average_pooling_lenet_shows_the_projections(tmp_path):
    """The atlas of a LeNet-style model (tanh, average pooling, no ReLU) has Zeiler & Fergus'
    figure on its convolution pages and the projections on their unit pages."""
    from deepkit.viz import report

    model = _tanh_lenet()
    x = np.random.default_rng(0).random((24, 6, 6, 1)).astype("float32")
    report.build_report(model, (x, np.arange(24) % 4), tmp_path / "atlas", featurevis=False, attributions=["saliency"],
                        embedding=False, progress=False, num_samples=2, top_k=4, max_units=2, unit_pages=1)
    for name in ("layer-c1.html", "layer-c3.html"):
        page = (tmp_path / "atlas" / name).read_text(encoding="utf-8")
        assert "Deconvnet projections (Zeiler &amp; Fergus 2014, figure 2)" in page, name
    unit = (tmp_path / "atlas" / "unit-c1-0.html").read_text(encoding="utf-8")
    assert "Their deconvnet projections" in unit
    assert json.loads((tmp_path / "atlas" / "report.json").read_text())["errors"] == []
