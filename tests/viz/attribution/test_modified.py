"""Modified backward passes refuse a model they cannot modify, and leave the model unchanged."""

import keras
import numpy as np
import pytest

from deepkit.viz import attribution as A
from tests.viz.attribution.numpy_models import dense_model


def test_a_model_without_relu_is_refused_not_given_the_plain_gradient():
    with pytest.raises(ValueError, match="guided_backprop: model 'dense_tanh' has no ReLU layer"):
        A.guided_backprop(dense_model(), np.zeros((1, 4, 4, 1), "float32"))
    linear = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2)], name="lin")
    with pytest.raises(ValueError, match="deconvnet: model 'lin' has no element-wise non-linearity"):
        A.deconvnet(linear, np.zeros((1, 4, 4, 1), "float32"))


def test_deconvnet_rectifies_a_tanh_instead_of_differentiating_it():
    """Zeiler & Fergus' backward pass on a tanh layer, in numpy: logit_c = w2_c . tanh(x W1 + b1)
    + b2_c, so the deconvnet's signal at the input is W1 relu(w2_c), whatever x is.

    Planted errors caught: the tanh's derivative kept and the result rectified,
    relu(g) * (1 - tanh^2) (max diff 1.03); the tanh left unpatched (the plain gradient, 1.25).
    """
    model = dense_model()
    x = np.random.default_rng(0).uniform(-1, 1, (3, 4, 4, 1)).astype("float32")
    classes = np.array([0, 1, 2])
    w1 = np.asarray(model.get_layer("hidden").kernel, "float64")
    w2 = np.asarray(model.get_layer("logits").kernel, "float64")
    want = np.stack([(w1 @ np.maximum(w2[:, c], 0)).reshape(4, 4, 1) for c in classes])
    np.testing.assert_allclose(A.deconvnet(model, x, classes, reduce=None), want, atol=1e-5)


def test_the_relus_are_restored_after_the_call():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3, activation="relu"),
                              keras.layers.ReLU(), keras.layers.Flatten(), keras.layers.Dense(2)])
    x = np.random.default_rng(0).random((2, 4, 4, 1)).astype("float32")
    before = A.saliency(model, x, 0, reduce=None)
    A.guided_backprop(model, x, 0)
    assert model.layers[0].activation is keras.activations.relu and "call" not in model.layers[1].__dict__
    np.testing.assert_array_equal(A.saliency(model, x, 0, reduce=None), before)
