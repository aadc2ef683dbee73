"""logit_model: which output layers squash is deepkit.probabilities' answer, used here too."""

import keras
import numpy as np

from deepkit.viz.graph import logit_model


def _dense(units, activation=None):
    return keras.layers.Dense(units, activation=activation, name="dense")


def _find_dense(model):
    for layer in model.layers:
        if layer.name == "dense":
            return layer
        if hasattr(layer, "layers"):
            return _find_dense(layer)
    return None


def test_logit_model_stops_before_every_squashing_output_layer():
    """Reference: the Keras model's own pre-activation output (the same Dense with no activation).
    Planted error that this catches: ``squashing_activation`` answering ``None`` for ``"sigmoid"``
    (the sigmoid model is then returned unchanged and its outputs are probabilities)."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    inp = keras.Input((4,))
    for build in (
        lambda: keras.Sequential([inp, _dense(3, "softmax")]),
        lambda: keras.Sequential([inp, _dense(1, "sigmoid")]),
        lambda: keras.Sequential([inp, _dense(3), keras.layers.Activation("softmax")]),
        lambda: keras.Sequential([inp, _dense(3), keras.layers.Softmax()]),
        lambda: keras.Sequential([inp, keras.Sequential([keras.Input((4,)), _dense(3, "softmax")])]),
    ):
        model = build()
        kernel, bias = (keras.ops.convert_to_numpy(w) for w in _find_dense(model).weights)
        expected = x @ kernel + bias
        got = keras.ops.convert_to_numpy(logit_model(model)(x))
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_logit_outputs_are_kept():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="log_softmax")])
    assert logit_model(model) is model
