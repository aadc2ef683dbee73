"""Modified backward passes refuse a model they cannot modify, and leave the model unchanged."""

import keras
import numpy as np
import pytest

from deepkit.viz import attribution as A
from tests.viz.attribution.numpy_models import dense_model


@pytest.mark.parametrize("name", ["guided_backprop", "deconvnet"])
def test_a_model_without_relu_is_refused_not_given_the_plain_gradient(name):
    with pytest.raises(ValueError, match=f"{name}: model 'dense_tanh' has no ReLU layer"):
        getattr(A, name)(dense_model(), np.zeros((1, 4, 4, 1), "float32"))


def test_the_relus_are_restored_after_the_call():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3, activation="relu"),
                              keras.layers.ReLU(), keras.layers.Flatten(), keras.layers.Dense(2)])
    x = np.random.default_rng(0).random((2, 4, 4, 1)).astype("float32")
    before = A.saliency(model, x, 0, reduce=None)
    A.guided_backprop(model, x, 0)
    assert model.layers[0].activation is keras.activations.relu and "call" not in model.layers[1].__dict__
    np.testing.assert_array_equal(A.saliency(model, x, 0, reduce=None), before)
