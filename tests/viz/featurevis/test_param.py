"""deepkit.viz.featurevis.param: image parameterizations (FFT spectrum, value range, init)."""

import numpy as np
import pytest

from deepkit.viz.featurevis import param as P


def test_fft_param_has_1_over_f_spectrum_and_range():
    p = P.image(32, 32, channels=3, batch=64, fft=True, decorrelate=False, sd=0.01, value_range=(-1, 3))
    imgs = p.images()
    assert imgs.shape == (64, 32, 32, 3) and imgs.min() >= -1 and imgs.max() <= 3
    # Before the sigmoid the image is ~ N(0, small): the power spectrum falls like 1/f^2.
    t = np.log((imgs + 1) / 4 / (1 - (imgs + 1) / 4))
    power = (np.abs(np.fft.fft2(t, axes=(1, 2))) ** 2).mean(axis=(0, 3))
    f = np.sqrt(np.fft.fftfreq(32)[:, None] ** 2 + np.fft.fftfreq(32)[None] ** 2)
    low = power[(f > 0.05) & (f < 0.1)].mean()
    high = power[(f > 0.3) & (f < 0.45)].mean()
    assert low / high > 10  # 1/f^2 predicts (0.375 / 0.075)^2 = 25


def test_param_init_round_trips_and_validates():
    start = np.random.default_rng(0).uniform(0.1, 0.9, (2, 5, 5, 3)).astype("float32")
    p = P.image(5, 5, 3, 2, fft=False, init=start)
    np.testing.assert_allclose(p.images(), start, atol=1e-5)
    with pytest.raises(ValueError, match="value_range must be"):
        P.image(4, 4, value_range=(1, 1))
    with pytest.raises(ValueError, match="init= needs fft=False"):
        P.image(5, 5, 3, 2, init=start)
