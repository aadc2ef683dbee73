"""deepkit.viz.featurevis.objectives: objective algebra, evaluation, pre-activation and class objectives."""

import keras
import numpy as np
import pytest

from deepkit.viz import featurevis
from deepkit.viz.featurevis import objectives as O


def _np(t):
    return keras.ops.convert_to_numpy(t)


def test_pre_activation_objective():
    model = keras.Sequential([keras.Input((4, 4, 1)),
                              keras.layers.Conv2D(2, 1, activation="relu", name="c"),
                              keras.layers.ReLU(name="r")])
    model.get_layer("c").set_weights([np.array([1.0, -1.0], "float32").reshape(1, 1, 1, 2),
                                      np.zeros(2, "float32")])
    x = np.random.default_rng(0).random((3, 4, 4, 1)).astype("float32")
    np.testing.assert_allclose(featurevis.evaluate(model, O.channel("c", 1, pre_activation=True), x),
                               -x.mean(axis=(1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(featurevis.evaluate(model, O.channel("c", 1), x), 0.0)
    # For a ReLU layer the pre-activation is its input.
    np.testing.assert_allclose(featurevis.evaluate(model, O.channel(O.pre_activation("r"), 0), x),
                               x.mean(axis=(1, 2, 3)), rtol=1e-5)
    with pytest.raises(ValueError, match="no activation to remove"):
        from deepkit.viz.layers import feature_model

        feature_model(keras.Sequential([keras.Input((4,)), keras.layers.Flatten(name="f")]), "f",
                      pre_activation=True)


def test_objective_algebra_and_evaluate():
    model = keras.Sequential([keras.Input((4, 4, 1)),
                              keras.layers.Conv2D(3, 1, kernel_initializer="ones", name="c")])
    x = np.random.default_rng(0).random((5, 4, 4, 1)).astype("float32")
    act = x.mean(axis=(1, 2, 3))
    tv = np.abs(np.diff(x, axis=1)).mean(axis=(1, 2, 3)) + np.abs(np.diff(x, axis=2)).mean(axis=(1, 2, 3))
    obj = 2 * O.channel("c", 1) - 0.5 * O.total_variation() + 1.0
    np.testing.assert_allclose(featurevis.evaluate(model, obj, x), 2 * act - 0.5 * tv + 1, rtol=1e-5)
    np.testing.assert_allclose(featurevis.evaluate(model, -O.layer("c"), x), -(x ** 2).mean(axis=(1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(featurevis.evaluate(model, O.neuron("c", 0, x=1, y=2), x), x[:, 2, 1, 0], rtol=1e-6)
    np.testing.assert_allclose(featurevis.evaluate(model, "c:2", x), act, rtol=1e-5)
    batched = featurevis.evaluate(model, O.channel("c", [0, 1, 2, 0, 1]), x)
    np.testing.assert_allclose(batched, act, rtol=1e-5)
    only_first = featurevis.evaluate(model, O.channel("c", 0, batch=0), x)
    assert only_first[0] > 0 and np.all(only_first[1:] == 0)
    with pytest.raises(ValueError, match="different batch sizes"):
        O.channel("c", range(4)) + O.channel("c", range(5))
    with pytest.raises(ValueError, match=r"3 channels \(0\.\.2\). Received: index=7"):
        featurevis.evaluate(model, O.channel("c", 7), x)
    with pytest.raises(TypeError, match="scaled by numbers only"):
        O.channel("c", 0) * O.channel("c", 1)


def test_class_objectives_use_logits():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(0).random((4, 2, 2, 1)).astype("float32")
    logits = x.reshape(4, -1) @ _np(model.layers[-1].kernel) + _np(model.layers[-1].bias)
    np.testing.assert_allclose(featurevis.evaluate(model, O.class_logit(2), x), logits[:, 2], rtol=1e-5)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    np.testing.assert_allclose(featurevis.evaluate(model, O.class_probability([0, 1, 2, 0]), x),
                               logp[np.arange(4), [0, 1, 2, 0]], rtol=1e-5)
