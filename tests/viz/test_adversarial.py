"""deepkit.viz.adversarial on a small trained model."""

import numpy as np
import pytest

from deepkit.viz import adversarial
from tests.viz.attribution_models import trained_digits_cnn


@pytest.fixture(scope="module")
def digits_model():
    model, x, y, _ = trained_digits_cnn()
    return model, x[1500:1564], y[1500:1564]


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
