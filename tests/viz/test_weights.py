"""Filters and kernels as images."""

import keras
import numpy as np
import pytest
from PIL import Image

from deepkit.viz import weights
from tests.viz.digits import trained_digits_cnn

L = keras.layers


def _model(first):
    return keras.Sequential([keras.Input((9, 9, 3)), first, L.Flatten(), L.Dense(2)])


def test_kernels_layouts_match_keras_weights():
    conv = L.Conv2D(4, (3, 5), name="c")
    m = _model(conv)
    k = conv.get_weights()[0]  # (3, 5, 3, 4)
    np.testing.assert_array_equal(weights.kernels(m, "c"), np.transpose(k, (3, 0, 1, 2)))
    assert weights.kernels(m).shape == (4, 3, 5, 3)  # default: the first conv

    dw = L.DepthwiseConv2D(3, depth_multiplier=2, name="dw")
    m = _model(dw)
    k = dw.get_weights()[0]  # (3, 3, 3, 2)
    out = weights.kernels(m, "dw")
    assert out.shape == (6, 3, 3, 1)
    # filter index = in_channel * multiplier + m, as Keras orders the depthwise outputs
    np.testing.assert_array_equal(out[1 * 2 + 1, ..., 0], k[:, :, 1, 1])

    sep = L.SeparableConv2D(5, 3, name="sep")
    m = _model(sep)
    np.testing.assert_array_equal(weights.kernels(m, "sep")[2, ..., 0],
                                  sep.get_weights()[0][:, :, 2, 0])

    tr = L.Conv2DTranspose(4, 3, name="tr")
    m = _model(tr)
    k = tr.get_weights()[0]  # (3, 3, out=4, in=3)
    np.testing.assert_array_equal(weights.kernels(m, "tr")[3], k[:, :, 3, :])

    c1 = L.Conv1D(6, 4, name="c1")
    m1 = keras.Sequential([keras.Input((20, 2)), c1])
    assert weights.kernels(m1, "c1").shape == (6, 1, 4, 2)


def test_kernels_rejects_non_conv_layer_and_bad_names():
    m = _model(L.Conv2D(4, 3, name="c"))
    with pytest.raises(ValueError, match=r"'dense.*' \(Dense\) is not a convolution layer"):
        weights.kernels(m, -1)
    with pytest.raises(ValueError, match="Did you mean 'c'"):
        weights.kernels(m, "cc")
    with pytest.raises(IndexError, match="valid indices are 0..2"):
        weights.kernels(m, 7)


def test_filter_images_modes():
    conv = L.Conv2D(4, 3, name="c")
    deeper = L.Conv2D(2, 3, name="c2")
    m = keras.Sequential([keras.Input((9, 9, 3)), conv, deeper])
    k = conv.get_weights()[0]
    imgs, titles = weights.filter_images(m, "c")
    np.testing.assert_array_equal(imgs[2], k[..., 2])
    imgs, titles = weights.filter_images(m, "c2")  # 4 input channels -> one image per pair
    assert imgs.shape == (8, 3, 3, 1) and titles[:3] == ["0/c0", "0/c1", "0/c2"]
    np.testing.assert_array_equal(imgs[1 * 4 + 3, ..., 0], deeper.get_weights()[0][:, :, 3, 1])
    mean, _ = weights.filter_images(m, "c2", mode="mean")
    np.testing.assert_allclose(mean[1, ..., 0], deeper.get_weights()[0][..., 1].mean(-1),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="mode='rgb' needs 1 or 3 input channels.*has 4"):
        weights.filter_images(m, "c2", mode="rgb")
    with pytest.raises(ValueError, match="mode='bogus'"):
        weights.filter_images(m, "c", mode="bogus")


def test_dense_first_layer_templates():
    dense = L.Dense(5, name="fc")
    m = keras.Sequential([keras.Input((6, 4, 1)), L.Flatten(), dense, L.Dense(2, name="out")])
    imgs, _ = weights.filter_images(m)  # no conv: the first Dense
    w = dense.get_weights()[0]
    assert imgs.shape == (5, 6, 4, 1)
    np.testing.assert_array_equal(imgs[3, ..., 0], w[:, 3].reshape(6, 4))
    with pytest.raises(ValueError, match="'out' has 5 inputs"):
        weights.filter_images(m, "out")


def test_plot_filters_of_trained_model(tmp_path):
    model, _, _, _ = trained_digits_cnn()
    fig = weights.plot_filters(model, path=tmp_path / "f.png")
    grid = fig.deepkit_image
    assert grid.shape[-1] == 3 and grid.min() >= 0 and grid.max() <= 1
    # grey filters on light-blue separators: the first tile is grey (R == G == B)
    assert np.allclose(grid[3, 3], grid[3, 3, 0]) and not np.allclose(grid[0, 0], grid[0, 0, 0])
    png = Image.open(tmp_path / "f.png")
    assert png.size[0] > 100
    # a conv layer with 8 input channels is drawn filter x channel
    fig2 = weights.plot_filters(model, "conv2", max_filters=4, max_channels=8)
    # 4 rows x 8 columns of 3x3 kernels upscaled x8 (24 px) with 2-px separators
    assert fig2.deepkit_image.shape[:2] == (4 * 26 + 2, 8 * 26 + 2)
    assert "rows: filters" in fig2.axes[0].get_title()
