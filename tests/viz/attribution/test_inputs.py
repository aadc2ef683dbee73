"""The checks every attribution method shares: counts, the channel axis of the layer a CAM reads."""

import keras
import numpy as np
import pytest

from deepkit.viz import attribution as A
from deepkit.viz.attribution.cam import layer_channel_axis


@pytest.mark.parametrize("call", [
    lambda m, x: A.score_cam(m, x, 0, layer="conv", max_channels=0),
    lambda m, x: A.rise(m, x, 0, num_masks=0),
    lambda m, x: A.occlusion(m, x, 0, patch_size=0),
])
def test_counts_below_one_are_refused_with_the_value(call):
    """Mutation survivor (inputs.py: positive_int's ``value < 1`` -> ``value < 0``): 0 is not a count."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="conv"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"must be a positive integer.*Received.*0"):
        call(model, np.zeros((1, 6, 6, 1), "float32"))


def test_a_cam_layer_without_a_data_format_takes_the_models_channel_axis():
    """A channels-first model read at an Activation layer (no ``data_format``): the maps of its channels-last twin.

    Mutation survivor (cam.py: ``layer_channel_axis`` returning None instead of the model's axis).
    """
    def build(fmt):
        keras.utils.set_random_seed(0)
        return keras.Sequential([
            keras.Input((6, 6, 2) if fmt == "channels_last" else (2, 6, 6)),
            keras.layers.Conv2D(3, 3, padding="same", data_format=fmt, name="conv"),
            keras.layers.Activation("tanh", name="act"),
            keras.layers.GlobalAveragePooling2D(data_format=fmt), keras.layers.Dense(3)])

    last, first = build("channels_last"), build("channels_first")
    first.set_weights(last.get_weights())
    x = np.random.default_rng(0).random((2, 6, 6, 2)).astype("float32")
    assert layer_channel_axis(first, "act") == 1 and layer_channel_axis(last, "act") == -1
    want = A.score_cam(last, x, [0, 2], layer="act", batch_size=8)
    got = A.score_cam(first, np.moveaxis(x, -1, 1), [0, 2], layer="act", batch_size=8)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
