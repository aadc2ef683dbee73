"""deepkit.viz.featurevis.render: activation maximization and its argument checks."""

import keras
import numpy as np
import pytest

from deepkit.viz import featurevis
from deepkit.viz.featurevis import objectives as O
from deepkit.viz.featurevis import param as P
from tests.viz.attribution_models import trained_digits_cnn


def _np(t):
    return keras.ops.convert_to_numpy(t)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::deepkit.viz.featurevis.DeadObjectiveWarning")  # its dead channels, left out below
def test_activation_maximization_beats_best_of_1000_real_inputs():
    # All 32 channels of the trained digits CNN's top conv layer (post-ReLU mean activation),
    # against the best of 1,000 real digits per channel. Channels never active on any real
    # digit ("dead") are left out of the comparison.
    model, x, _, _ = trained_digits_cnn()
    real = x[:1000]
    conv2 = keras.Model(model.inputs[0], model.get_layer("conv2").output)
    real_acts = _np(conv2(real)).mean(axis=(1, 2))
    best_real = real_acts.max(axis=0)  # (32,)
    alive = best_real > 1e-6

    # 1. Lucid-style, from noise: FFT + decorrelated param, standard transforms, 32 channels
    #    x 4 random starts in one batch of 128 (keep the best start per channel).
    images, values = featurevis.render(model, O.channel("conv2", list(range(32)) * 4), steps=128,
                                       return_values=True)
    assert images.shape == (128, 8, 8, 1) and images.min() >= 0.0 and images.max() <= 1.0
    own = _np(conv2(images)).mean(axis=(1, 2))[np.arange(128), np.tile(np.arange(32), 4)]
    np.testing.assert_allclose(values, own, rtol=1e-4, atol=1e-6)  # values = real activations
    from_noise = values.reshape(4, 32).max(axis=0)
    ratio = from_noise[alive] / best_real[alive]
    print(f"\nactmax from noise / best of 1000 real digits, {alive.sum()} live channels: "
          f"beaten {np.mean(ratio > 1):.0%}, min {ratio.min():.2f}, median {np.median(ratio):.2f}")
    # From noise, a few channels' optima can lie in basins random starts do not reach (on
    # some trainings all channels are beaten, on others a handful end at 0.8-0.95).
    assert np.median(ratio) > 1.3 and np.mean(ratio > 1) >= 0.75

    # 2. Started from each channel's best real digit (pixel param, no transforms), the
    #    optimization must beat the best real input on every live channel.
    start = np.clip(real[real_acts.argmax(axis=0)], 0.01, 0.99)
    param = P.image(8, 8, 1, 32, fft=False, init=start)
    images, values = featurevis.render(model, O.channel("conv2", range(32)), param=param,
                                       transforms=None, steps=64, return_values=True)
    ratio = values[alive] / best_real[alive]
    print(f"actmax from the best real digit: min {ratio.min():.2f}, median {np.median(ratio):.2f}")
    assert np.all(values[alive] > best_real[alive])


def test_render_batch_validation():
    model = keras.Sequential([keras.Input((6, 6, 3)), keras.layers.Conv2D(4, 3, name="c")])
    with pytest.raises(ValueError, match="needs a batch of 4. Received: batch_size=3"):
        featurevis.render(model, O.channel("c", range(4)), steps=1, batch_size=3)
    imgs = featurevis.render(model, O.channel("c", 1) - 0.1 * O.l2(), steps=2, batch_size=2,
                             value_range=(0, 255))
    assert imgs.shape == (2, 6, 6, 3) and imgs.max() <= 255 and imgs.min() >= 0


def test_render_of_a_dead_unit_says_so():
    # Channel 0's ReLU never fires (zero kernel, bias -1): its gradient is zero everywhere, so the image
    # cannot move from its start; channel 1 (bias +1, kernel ones) is alive.
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(
        2, 3, activation="relu", name="c", kernel_initializer=keras.initializers.Constant([[[[0.0, 1.0]]]]),
        bias_initializer=keras.initializers.Constant([-1.0, 1.0]))])
    with pytest.warns(featurevis.DeadObjectiveWarning, match=r"channel\(c, \[0\.\.1\]\) had a zero gradient at every "
                                                             r"one of the 3 steps for image\(s\) \[0\] of 2"):
        images = featurevis.render(model, O.channel("c", [0, 1]), steps=3)
    assert images.shape == (2, 8, 8, 1)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", featurevis.DeadObjectiveWarning)
        featurevis.render(model, O.channel("c", 1), steps=3)  # alive: no warning


def test_render_and_the_attacks_share_the_one_input_range():
    from deepkit.models.preprocessing import input_range

    raw = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Rescaling(1 / 255),
                            keras.layers.Conv2D(2, 3, name="c")])
    assert featurevis.default_param(raw).value_range == input_range(raw) == (0.0, 255.0)
    images = featurevis.render(raw, O.channel("c", 0), steps=2)
    assert images.min() >= 0 and images.max() <= 255 and images.max() > 1.0
