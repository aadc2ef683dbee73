"""deepkit.spec.registry: deepkit's own layers are registered for specs and round-trip through their configs."""

import keras
import pytest

from deepkit.layers import (
    ChannelPadShortcut, LocalResponseNormalization, PartialConv2D, RBFOutput, ScaledTanh, Subsampling2D,
)
from deepkit.spec.registry import get_layer_class


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
