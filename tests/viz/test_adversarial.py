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


# ------------------------------------------------ raw 0-255 pixel models (issue 27 item 4): one input-range rule
def _raw_pixel_model(classes=3):
    import keras

    keras.utils.set_random_seed(3)
    return keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                             keras.layers.Dense(classes, name="dense")])


def _raw_pixels(n=4, seed=0):
    return np.random.default_rng(seed).integers(1, 255, (n, 6, 6, 1)).astype("uint8")


def test_fgsm_on_raw_pixels_matches_the_paper_in_numpy():
    """FGSM (Goodfellow et al. 2015) on a model taking 0-255 pixels: x + eps * 255 * sign(dCE/dx), clipped to
    [0, 255], with the gradient of softmax cross-entropy written in numpy for logits = (x / 255) W + b.
    Fails on the code before the one input-range rule (images clipped to [0, 1], pixels moved by ~254) and
    on the planted error "epsilon not scaled by the range" (pixels moved by 0.03)."""
    model = _raw_pixel_model()
    x, y = _raw_pixels(), np.array([0, 1, 2, 0])
    adv = adversarial.fgsm(model, x, y, epsilon=0.03)
    kernel, bias = (np.asarray(w, np.float64) for w in model.get_layer("dense").get_weights())
    flat = x.reshape(len(x), -1).astype(np.float64)
    logits = flat / 255.0 @ kernel + bias
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    grad = (p - np.eye(3)[y]) @ kernel.T / 255.0
    expected = np.clip(flat + 0.03 * 255.0 * np.sign(grad), 0, 255).reshape(x.shape)
    np.testing.assert_allclose(adv, expected, atol=1e-3)
    assert 1.0 < adv.max() <= 255.0 and np.abs(adv - x).max() <= 0.03 * 255 + 1e-3


def test_iterative_fgsm_and_pgd_stay_in_an_epsilon_box_of_the_range():
    model = _raw_pixel_model()
    x = _raw_pixels()
    for random_start in (False, True):
        adv = adversarial.iterative_fgsm(model, x, epsilon=8 / 255, steps=3, random_start=random_start)
        assert np.abs(adv - x).max() <= 8 + 1e-3 and np.abs(adv - x).max() > 1.0
        assert adv.min() >= 0 and adv.max() <= 255


def test_epsilon_is_a_fraction_and_images_must_be_in_the_models_range():
    with pytest.raises(ValueError, match=r"epsilon is a fraction of the input range.*Received: epsilon=8"):
        adversarial.fgsm(_raw_pixel_model(), _raw_pixels(), epsilon=8)
    import keras

    unit = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match=r"fgsm: images must lie in \[0, 1\].*Received: images with values in"):
        adversarial.fgsm(unit, _raw_pixels())
    adv = adversarial.fgsm(unit, _raw_pixels(), epsilon=0.1, value_range=(0, 255))  # an explicit range
    assert np.abs(adv - _raw_pixels()).max() <= 25.5 + 1e-3


def test_fooling_images_of_a_raw_pixel_model_are_raw_pixels():
    images, probs = adversarial.fooling_images(_raw_pixel_model(), [0, 2], steps=5)
    assert images.shape == (2, 6, 6, 1) and images.min() >= 0 and images.max() <= 255 and images.max() > 1.0
