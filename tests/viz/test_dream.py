"""deepkit.viz.dream on small models."""

import keras
import numpy as np
import pytest

from deepkit.viz import dream
from deepkit.viz.featurevis import evaluate
from deepkit.viz.featurevis import objectives as O
from tests.viz.attribution_models import trained_digits_cnn


@pytest.fixture(scope="module")
def digits_model():
    model, x, y, _ = trained_digits_cnn()
    return model, x[1500:1564], y[1500:1564]


def test_deep_dream_increases_layer_objective(digits_model):
    model, x, _ = digits_model
    before = evaluate(model, O.layer("conv2"), x[:8])
    dreamed = dream.deep_dream(model, x[:8], "conv2", steps=20, step_size=0.02, batch_size=8)
    after = evaluate(model, O.layer("conv2"), dreamed)
    assert dreamed.shape == x[:8].shape and dreamed.min() >= 0 and dreamed.max() <= 1
    print(f"\ndeep dream: mean squared conv2 activation {before.mean():.3f} -> {after.mean():.3f}")
    assert np.all(after > before)


def test_deep_dream_weights_and_octaves():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((None, None, 3)),
                              keras.layers.Conv2D(4, 3, activation="relu", name="a"),
                              keras.layers.Conv2D(4, 3, activation="relu", name="b")])
    x = np.random.default_rng(0).random((2, 20, 20, 3)).astype("float32")
    out = dream.deep_dream(model, x, {"a": 1.0, "b": 0.5}, steps=4, octaves=3)
    assert out.shape == x.shape
    objective = O.layer("a") + 0.5 * O.layer("b")
    assert np.all(evaluate(model, objective, out) > evaluate(model, objective, x))
    fixed = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c")])
    with pytest.raises(ValueError, match="fixed input size"):
        dream.deep_dream(fixed, np.zeros((1, 8, 8, 1)), "c", octaves=2)
