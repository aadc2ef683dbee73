"""deepkit.probabilities: the package's one "outputs logits?" answer and its one predict_proba."""

import keras
import numpy as np
import pytest

from deepkit import probabilities
from deepkit.probabilities import as_probabilities, outputs_logits, predict_proba, squashing_activation


def _models():
    inp = keras.Input((4,))
    nested = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    act = keras.layers.Activation("sigmoid")(keras.layers.Dense(1)(inp))
    return {
        "dense logits": (keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]), True),
        "dense softmax": (keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")]), False),
        "softmax layer": (keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Softmax()]), False),
        "activation layer": (keras.Model(inp, act), False),
        "nested softmax": (keras.Sequential([keras.Input((4,)), nested]), False),
        "log_softmax": (keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="log_softmax")]), True),
    }


def test_outputs_logits_reads_the_output_layer_also_inside_nested_models():
    """Before, the CLI looked at ``model.layers[-1]`` only: a Sequential ending in a nested softmax
    model counted as logits, so its loss got ``from_logits=True``."""
    for name, (model, expected) in _models().items():
        assert outputs_logits(model) is expected, name
    assert squashing_activation(keras.layers.ReLU()) is None


def test_the_package_asks_one_function():
    import inspect

    from deepkit import cli
    from deepkit.viz import boundary
    from deepkit.viz.graph import submodels

    assert boundary.predict_proba is probabilities.predict_proba
    assert "squashing_activation" in inspect.getsource(submodels)
    for module in (cli, submodels):  # no rule of their own about softmax / sigmoid names
        assert '"softmax", "sigmoid"' not in inspect.getsource(module)


def test_one_logit_in_zero_one_still_goes_through_the_sigmoid():
    """A one-unit linear model whose outputs happen to lie in [0, 1] was read as probabilities (the
    values decided). Reference: numpy's sigmoid of the Keras outputs.
    Planted error that this catches: ``from_logits=None`` in ``predict_proba`` (values decide)."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros",
                                                                      bias_initializer=keras.initializers.Constant(0.3))])
    x = np.random.default_rng(0).random((5, 2)).astype("float32")
    logits = model.predict(x, verbose=0)[:, 0]
    p = 1.0 / (1.0 + np.exp(-logits))
    np.testing.assert_allclose(predict_proba(model, x), np.stack([1 - p, p], axis=1), rtol=1e-6)


def test_softmax_outputs_are_kept_and_logits_softmaxed():
    """Reference: Keras' own softmax of the model's logits.
    Planted error that this catches: ``from_logits=False`` in ``predict_proba`` (logits kept as they are)."""
    keras.utils.set_random_seed(0)
    logits_model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    x = np.random.default_rng(1).random((6, 4)).astype("float32")
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(logits_model(x)))
    np.testing.assert_allclose(predict_proba(logits_model, x), expected, rtol=1e-5, atol=1e-7)
    soft = keras.Sequential([logits_model, keras.layers.Softmax()])
    np.testing.assert_allclose(predict_proba(soft, x), expected, rtol=1e-5, atol=1e-7)


def test_predict_proba_refuses_models_that_are_no_classifier():
    inp = keras.Input((4,))
    two = keras.Model(inp, [keras.layers.Dense(2)(inp), keras.layers.Dense(3)(inp)], name="two")
    with pytest.raises(ValueError, match="model 'two' has 2 outputs"):
        predict_proba(two, np.zeros((2, 4)))
    maps = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 1)], name="maps")
    with pytest.raises(ValueError, match=r"outputs shape \(2, 4, 4, 2\)"):
        predict_proba(maps, np.zeros((2, 4, 4, 1)))
    assert as_probabilities(np.array([[0.2, 0.8]])).tolist() == [[pytest.approx(0.2), pytest.approx(0.8)]]
