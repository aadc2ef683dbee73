"""deepkit.layers.lenet: partial connections, subsampling, scaled tanh and RBF outputs against numpy."""

import os

import keras
import numpy as np
import pytest
from keras import ops

from deepkit.layers import PartialConv2D, RBFOutput, ScaledTanh, Subsampling2D


def to_np(x):
    return ops.convert_to_numpy(x)


# ----------------------------------------------------------------------------- references

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
