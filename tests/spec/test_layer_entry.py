"""deepkit/spec/layer_entry.py: Keras layer instances in specs (issue 27 item 16's spec parts)."""

import keras
import pytest

import deepkit
from deepkit.errors import SpecError


def test_keras_layers_inside_a_named_residual_are_named_as_the_docs_say_and_keep_it_through_a_round_trip():
    """Before: a Keras-named instance kept ``dense_7`` in the model and came back as ``blk_dense`` from its spec."""
    keras.layers.Dense(1)  # Keras' counter moves on: the instance below is "dense_<n>", a name Keras made up
    model = deepkit.from_spec({"input_shape": [4], "layers": [
        deepkit.Residual([keras.layers.Dense(4), keras.layers.Dense(4, name="mine")], name="blk")]})
    names = [layer.name for layer in model.layers]
    assert names == ["input", "blk_dense", "mine", "blk_add"]
    assert [layer.name for layer in deepkit.from_spec(model.to_spec()).layers] == names
    sequential = deepkit.Sequential([deepkit.Residual([keras.layers.Dense(4)], name="blk")], input_shape=(4,))
    assert [layer.name for layer in sequential.layers[0].layers] == ["blk_dense", "blk_add"]
    rebuilt = deepkit.Sequential(sequential.to_spec()["layers"], input_shape=(4,))
    assert [layer.name for layer in rebuilt.layers[0].layers] == ["blk_dense", "blk_add"]


def test_a_keras_applications_model_inside_a_sequential_is_not_asked_to_be_registered():
    base = keras.applications.MobileNetV3Small(input_shape=(32, 32, 3), include_top=False, weights=None,
                                               include_preprocessing=False)
    model = deepkit.Sequential([keras.Input((32, 32, 3)), base, keras.layers.GlobalAveragePooling2D(), {"Dense": 2}])
    with pytest.raises(SpecError) as caught:
        model.to_spec()
    message = str(caught.value)
    assert "register" not in message
    assert "layer 'MobileNetV3Small' is a whole Keras model (class Functional" in message
    assert "model.save('model.keras') keeps it whole" in message
