"""deepkit.layers.shortcut: the option-A (zero-padded channels) ResNet shortcut against numpy."""

import numpy as np
import pytest
from keras import ops

from deepkit.layers import ChannelPadShortcut


def to_np(x):
    return ops.convert_to_numpy(x)


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
