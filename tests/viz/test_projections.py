"""Deconvnet projections of single units against Captum's ``Deconvolution`` on a torch twin whose
output is the chosen units' activations."""

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
    with pytest.raises(ValueError, match="no ReLU layer"):
        deconvnet_projections(linear, "c", np.zeros((1, 4, 4, 1)), 0)
