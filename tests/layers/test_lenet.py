"""deepkit.layers checked against plain numpy references (and PyTorch's LRN where installed)."""

import os

import keras
import numpy as np
import pytest
from keras import ops

from deepkit.layers import (
    ChannelPadShortcut, LocalResponseNormalization, PartialConv2D, RBFOutput, ScaledTanh, Subsampling2D,
)
from deepkit.spec.registry import get_layer_class


def to_np(x):
    return ops.convert_to_numpy(x)


# ----------------------------------------------------------------------------- references

def lrn_reference(a, size, alpha, beta, k):
    """Loop over channels exactly as written in Krizhevsky et al. (2012), section 3.3."""
    n_channels = a.shape[-1]
    out = np.empty_like(a, dtype=np.float64)
    for c in range(n_channels):
        lo, hi = max(0, c - size // 2), min(n_channels - 1, c + (size - 1) // 2)
        s = np.sum(a[..., lo:hi + 1].astype(np.float64) ** 2, axis=-1)
        out[..., c] = a[..., c] / (k + alpha * s) ** beta
    return out


def conv2d_reference(x, kernel, stride=1):
    """Valid 2-D cross-correlation, NHWC x HWIO."""
    n, h, w, _ = x.shape
    kh, kw, _, o = kernel.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, oh, ow, o))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(patch, kernel, axes=([1, 2, 3], [0, 1, 2]))
    return out


# ----------------------------------------------------------------------------- LRN

@pytest.mark.parametrize("size,alpha,beta,k", [(5, 1e-4, 0.75, 2.0), (3, 0.5, 1.0, 1.0), (4, 0.1, 0.5, 0.5)])
def test_lrn_matches_numpy_reference(size, alpha, beta, k):
    rng = np.random.default_rng(0)
    x = rng.normal(scale=3.0, size=(2, 3, 4, 9)).astype("float32")
    got = to_np(LocalResponseNormalization(size, alpha, beta, k)(x))
    np.testing.assert_allclose(got, lrn_reference(x, size, alpha, beta, k), rtol=1e-5, atol=1e-6)


def test_lrn_paper_values_actually_normalize():
    # With large activations the paper's constants shrink them noticeably; a no-op would fail here.
    x = np.full((1, 1, 1, 7), 100.0, "float32")
    got = to_np(LocalResponseNormalization()(x))[0, 0, 0]
    expected = 100.0 / (2.0 + 1e-4 * np.array([3, 4, 5, 5, 5, 4, 3]) * 1e4) ** 0.75
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert got[3] < got[0] < 100.0


def test_lrn_channel_axis_1():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 6, 3, 3)).astype("float32")  # channels first
    got = to_np(LocalResponseNormalization(size=3, alpha=0.2, beta=0.75, k=1.0, axis=1)(x))
    ref = np.moveaxis(lrn_reference(np.moveaxis(x, 1, -1), 3, 0.2, 0.75, 1.0), -1, 1)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_lrn_matches_torch_with_alpha_convention():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.normal(scale=5.0, size=(2, 4, 4, 8)).astype("float32")
    ours = to_np(LocalResponseNormalization(size=5, alpha=1e-3, beta=0.75, k=2.0)(x))
    # torch divides alpha by size and works channels-first.
    theirs = torch.nn.functional.local_response_norm(
        torch.from_numpy(np.moveaxis(x, -1, 1)), size=5, alpha=5 * 1e-3, beta=0.75, k=2.0)
    np.testing.assert_allclose(ours, np.moveaxis(theirs.numpy(), 1, -1), rtol=1e-5, atol=1e-6)


def test_lrn_gradient_is_finite_and_nonzero():
    x = keras.Input((3, 3, 6))
    model = keras.Model(x, keras.layers.Dense(1)(keras.layers.Flatten()(LocalResponseNormalization()(x))))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    data = np.random.default_rng(3).normal(size=(8, 3, 3, 6)).astype("float32")
    before = to_np(model.layers[-1].kernel).copy()
    model.fit(data, np.ones((8, 1), "float32"), epochs=1, batch_size=8, verbose=0)
    after = to_np(model.layers[-1].kernel)
    assert np.all(np.isfinite(after)) and not np.allclose(before, after)


@pytest.mark.parametrize("kwargs,match", [({"size": 0}, "size=0"), ({"size": 2.5}, "size=2.5"),
                                          ({"beta": -1.0}, "beta=-1.0")])
def test_lrn_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LocalResponseNormalization(**kwargs)


# ----------------------------------------------------------------------------- option A shortcut

def test_channel_pad_shortcut_matches_numpy():
    x = np.random.default_rng(4).normal(size=(2, 8, 8, 16)).astype("float32")
    got = to_np(ChannelPadShortcut(32, strides=2)(x))
    ref = np.pad(x[:, ::2, ::2, :], [(0, 0), (0, 0), (0, 0), (8, 8)])
    np.testing.assert_array_equal(got, ref)
    assert got.shape == (2, 4, 4, 32)


def test_channel_pad_shortcut_odd_size_and_identity():
    x = np.random.default_rng(5).normal(size=(1, 7, 7, 3)).astype("float32")
    layer = ChannelPadShortcut(6, strides=2)
    y = to_np(layer(x))
    assert y.shape == (1, 4, 4, 6) == layer.compute_output_shape((1, 7, 7, 3))
    np.testing.assert_array_equal(y[..., 1:4], x[:, ::2, ::2, :])
    np.testing.assert_array_equal(to_np(ChannelPadShortcut(3, strides=1)(x)), x)


def test_channel_pad_shortcut_errors():
    with pytest.raises(ValueError, match="filters=0"):
        ChannelPadShortcut(0)
    with pytest.raises(ValueError, match="more than filters=4"):
        ChannelPadShortcut(4)(np.zeros((1, 4, 4, 8), "float32"))


# ----------------------------------------------------------------------------- LeNet pieces

PAPER_C3 = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 0], [5, 0, 1],
            [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 0], [4, 5, 0, 1], [5, 0, 1, 2],
            [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], [0, 1, 2, 3, 4, 5]]


def test_partial_conv_matches_masked_full_convolution():
    layer = PartialConv2D(16, 5, connections=PAPER_C3, bias_initializer="random_normal")
    x = np.random.default_rng(6).normal(size=(2, 14, 14, 6)).astype("float32")
    y = to_np(layer(x))
    assert y.shape == (2, 10, 10, 16)
    assert layer.count_params() == 1516  # LeNet-5's C3: 60 kernels of 5x5 + 16 biases
    kernel = to_np(layer.kernel)
    full = np.zeros((5, 5, 6, 16))
    n = 0
    for o, row in enumerate(PAPER_C3):
        for i in sorted(row):
            full[:, :, i, o] = kernel[:, :, n]
            n += 1
    ref = conv2d_reference(x.astype(np.float64), full) + to_np(layer.bias)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)
    assert layer.compute_macs((14, 14, 6), (10, 10, 16)) == 10 * 10 * 60 * 25  # deepkit.summary's shapes
    assert layer.compute_macs((None, 14, 14, 6), (None, 10, 10, 16)) == 10 * 10 * 60 * 25


def test_lenet_layers_are_counted_by_the_summary():
    import deepkit

    model = deepkit.Sequential([PartialConv2D(16, 5, connections=PAPER_C3, name="c3"),
                                Subsampling2D(2, name="s4"), keras.layers.Flatten(), RBFOutput(10, name="rbf")],
                               input_shape=(14, 14, 6))
    rows = {r["name"]: r["macs"] for r in deepkit.summary(model, print_fn=lambda line: None)}
    assert rows["c3"] == 10 * 10 * 60 * 25 and rows["s4"] == 5 * 5 * 16 and rows["rbf"] == 400 * 10


def test_partial_conv_kernel_trains_and_serializes(tmp_path):
    inputs = keras.Input((6, 6, 3))
    out = keras.layers.Flatten()(PartialConv2D(2, 3, connections=[[0, 2], [1]], strides=2, name="pc")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1)(out))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = np.random.default_rng(7).normal(size=(8, 6, 6, 3)).astype("float32")
    before = to_np(model.get_layer("pc").kernel).copy()
    model.fit(x, np.ones((8, 1), "float32"), epochs=1, batch_size=8, verbose=0)
    assert not np.allclose(before, to_np(model.get_layer("pc").kernel))
    path = os.path.join(tmp_path, "pc.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.get_layer("pc"), PartialConv2D)
    assert loaded.get_layer("pc").connections == [[0, 2], [1]]
    np.testing.assert_allclose(to_np(loaded(x)), to_np(model(x)), rtol=1e-5, atol=1e-6)


def test_partial_conv_errors():
    with pytest.raises(ValueError, match="Received: connections"):
        PartialConv2D(2, 3, connections=[[0]])
    with pytest.raises(ValueError, match="input map 5"):
        PartialConv2D(1, 3, connections=[[5]])(np.zeros((1, 4, 4, 2), "float32"))
    with pytest.raises(ValueError, match="kernel_size=0"):
        PartialConv2D(1, 0, connections=[[0]])


def test_subsampling_matches_numpy():
    layer = Subsampling2D(2, activation="tanh", coefficient_initializer="random_normal",
                          bias_initializer="random_normal")
    x = np.random.default_rng(8).normal(size=(2, 6, 6, 4)).astype("float32")
    y = to_np(layer(x))
    sums = x.reshape(2, 3, 2, 3, 2, 4).sum(axis=(2, 4))
    ref = np.tanh(sums * to_np(layer.coefficient) + to_np(layer.bias))
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    assert layer.count_params() == 8


def test_scaled_tanh_and_rbf():
    x = np.linspace(-3, 3, 13).astype("float32")
    np.testing.assert_allclose(to_np(ScaledTanh()(x)), 1.7159 * np.tanh(2 / 3 * x), rtol=1e-6)
    rbf = RBFOutput(10, seed=3)
    f6 = np.random.default_rng(9).normal(size=(5, 84)).astype("float32")
    y = to_np(rbf(f6))
    centers = to_np(rbf.centers)
    assert set(np.unique(centers)) == {-1.0, 1.0}
    ref = -((f6[:, :, None] - centers[None]) ** 2).sum(axis=1)
    np.testing.assert_allclose(y, ref, rtol=1e-5)
    assert rbf.trainable_weights == [] and rbf.count_params() == 840


@pytest.mark.parametrize("name,cls", [("LRN", LocalResponseNormalization), ("ChannelPadShortcut", ChannelPadShortcut),
                                      ("PartialConv2D", PartialConv2D), ("Subsampling2D", Subsampling2D),
                                      ("ScaledTanh", ScaledTanh), ("RBFOutput", RBFOutput)])
def test_registered_for_specs_and_config_roundtrip(name, cls):
    assert get_layer_class(name) is cls
    examples = {
        LocalResponseNormalization: dict(size=3, alpha=0.5, beta=0.6, k=1.5, axis=1),
        ChannelPadShortcut: dict(filters=8, strides=2),
        PartialConv2D: dict(filters=2, kernel_size=(3, 2), connections=[[1], [0, 1]], padding="same"),
        Subsampling2D: dict(pool_size=3, strides=2, activation="sigmoid"),
        ScaledTanh: dict(amplitude=2.0, slope=0.5),
        RBFOutput: dict(units=4, seed=7),
    }
    layer = cls(**examples[cls])
    clone = cls.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    serialized = keras.saving.serialize_keras_object(layer)
    assert serialized["module"] is None or "deepkit" in str(serialized.get("registered_name"))
    assert type(keras.saving.deserialize_keras_object(serialized)) is cls
