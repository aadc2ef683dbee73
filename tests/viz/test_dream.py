"""deepkit.viz.dream and deepkit.viz.adversarial on small models."""

import keras
import numpy as np
import pytest
from tests.viz.attribution_models import trained_digits_cnn

from deepkit.viz import adversarial, dream
from deepkit.viz.featurevis import evaluate
from deepkit.viz.featurevis import objectives as O


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


def test_fgsm_perturbation_is_bounded_and_effective(digits_model):
    model, x, y = digits_model
    p = adversarial.predict_proba(model, x)
    correct = p.argmax(1) == y
    adv = adversarial.fgsm(model, x, y, epsilon=0.1)
    assert np.abs(adv - x).max() <= 0.1 + 1e-6 and adv.min() >= 0 and adv.max() <= 1
    p_adv = adversarial.predict_proba(model, adv)
    # The true-class probability drops for (almost) every image.
    drop = p[np.arange(len(y)), y] - p_adv[np.arange(len(y)), y]
    acc_clean, acc_adv = correct.mean(), (p_adv.argmax(1) == y).mean()
    print(f"\nFGSM eps=0.1: accuracy {acc_clean:.2f} -> {acc_adv:.2f}")
    assert np.mean(drop > 0) > 0.95
    assert acc_adv < acc_clean - 0.3


def test_targeted_iterative_fgsm_reaches_target(digits_model):
    model, x, y = digits_model
    target = (y + 1) % 10
    adv = adversarial.iterative_fgsm(model, x, target, targeted=True, epsilon=0.3, steps=20)
    assert np.abs(adv - x).max() <= 0.3 + 1e-6
    hit = (adversarial.predict_proba(model, adv).argmax(1) == target).mean()
    print(f"\ntargeted iterative FGSM eps=0.3: {hit:.2f} reach the target class")
    assert hit > 0.8


def test_fooling_images_are_classified_with_high_confidence(digits_model):
    model, x, _ = digits_model
    images, probs = adversarial.fooling_images(model, list(range(10)), steps=300,
                                               learning_rate=0.2)
    assert images.shape == (10, 8, 8, 1)
    print(f"\nfooling images: target-class confidence min {probs.min():.3f}, "
          f"median {np.median(probs):.3f}")
    # Nguyen et al. report > 99 % confidence; on this small 8x8 model every class gets > 98 %.
    assert probs.min() > 0.98 and np.median(probs) > 0.995
    # They are not digits: far from every real image of their class.
    _, xs, ys, _ = trained_digits_cnn()
    for c in range(10):
        dist = np.sqrt(((xs[ys == c] - images[c]) ** 2).mean(axis=(1, 2, 3))).min()
        assert dist > 0.1
    with pytest.raises(ValueError, match=r"class_index must be in 0\.\.9. Received: class_index=10"):
        adversarial.fooling_images(model, 10)
