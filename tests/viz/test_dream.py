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


def test_deep_dream_on_raw_pixels_stays_in_the_models_range():
    # A model taking 0-255 pixels (Rescaling(1/255) first): the images are dreamed in 0-255, not clipped to [0, 1].
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Rescaling(1 / 255),
                              keras.layers.Conv2D(4, 3, activation="relu", name="c")])
    x = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 1)).astype("uint8")
    out = dream.deep_dream(model, x, "c", steps=3, step_size=0.01)
    assert out.min() >= 0 and out.max() <= 255 and out.max() > 1.0
    assert 0 < np.abs(out - x).max() <= 3 * 0.01 * 255 * 20  # normalized steps: a few grey levels each


def test_deep_dream_on_a_1d_model_names_the_input_it_needs():
    model = keras.Sequential([keras.Input((50, 3)), keras.layers.Conv1D(4, 3, name="conv")])
    with pytest.raises(ValueError, match=r"image input \(height, width, channels\); model '.*' takes inputs of "
                                         r"shape \(50, 3\)\. Received: images.shape=\(2, 50, 3\)"):
        dream.deep_dream(model, np.zeros((2, 50, 3), "float32"), "conv", steps=1)


def test_deep_dream_names_the_models_input_for_wrong_images():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="c")])
    with pytest.raises(ValueError, match=r"images must be \(N,\) \+ \(8, 8, 1\).*Received: images.shape=\(2, 8, 8, 3\)"):
        dream.deep_dream(model, np.zeros((2, 8, 8, 3), "float32"), "c", steps=1)
