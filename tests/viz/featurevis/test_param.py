"""deepkit.viz.featurevis.param: image parameterizations (FFT spectrum, colour, value range, norm bound, init)."""

import numpy as np
import pytest

from deepkit.viz.featurevis import param as P


@pytest.mark.parametrize("channels", [1, 3])
def test_fft_param_has_1_over_f_spectrum_and_range(channels):
    p = P.image(32, 32, channels=channels, batch=64, fft=True, decorrelate=False, sd=0.01, value_range=(-1, 3))
    imgs = p.images()
    assert imgs.shape == (64, 32, 32, channels) and imgs.min() >= -1 and imgs.max() <= 3
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


def test_colour_decorrelation_only_for_rgb():
    rgb = P.image(6, 6, 3, 2)
    gray = P.image(6, 6, 1, 2)
    four = P.image(6, 6, 4, 2)
    assert rgb.decorrelated and not gray.decorrelated and not four.decorrelated
    assert gray.fft and gray.channels == 1 and gray.images().shape == (2, 6, 6, 1)
    assert "grayscale" in gray.description and "decorrelated" in rgb.description
    # Decorrelated colour: a parameter in the first (luminance) plane moves all of R, G, B
    # together; on one channel the parameter is the (pre-sigmoid) image itself.
    lum = np.zeros((1, 1, 1, 3), "float32")
    lum[..., 0] = 1.0
    rgb_px = P.image(1, 1, 3, 1, fft=False)
    out = rgb_px.images(lum)[0, 0, 0]
    expected = 1 / (1 + np.exp(-(P.COLOR_CORRELATION_SVD_SQRT[:, 0] /
                                  np.linalg.norm(P.COLOR_CORRELATION_SVD_SQRT, axis=0).max())))
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    gray_px = P.image(1, 1, 1, 1, fft=False)
    np.testing.assert_allclose(gray_px.images(np.ones((1, 1, 1, 1), "float32")), 1 / (1 + np.exp(-1.0)),
                               rtol=1e-5)
    with pytest.raises(ValueError, match=r"the image has 1 channel\. .*Received: decorrelate=True, channels=1"):
        P.image(6, 6, 1, decorrelate=True)
    with pytest.raises(ValueError, match="decorrelate must be 'auto', True or False"):
        P.image(6, 6, 3, decorrelate="yes")


def test_max_norm_keeps_images_in_the_ball_and_the_range():
    rng = np.random.default_rng(0)
    for fft, channels in ((False, 1), (True, 1), (True, 3)):
        p = P.image(6, 6, channels, 3, fft=fft, max_norm=2.0, value_range=(-1, 5), sd=5.0)
        imgs = p.images()
        dist = np.linalg.norm((imgs - 2.0).reshape(3, -1), axis=1)
        np.testing.assert_allclose(dist, 2.0, rtol=1e-4)  # large start: on the sphere
        assert p.max_norm == 2.0 and imgs.min() >= -1 and imgs.max() <= 5
    # Inside the ball the map is the identity around the centre.
    small = rng.normal(0, 0.01, (2, 4, 4, 1)).astype("float32")
    np.testing.assert_allclose(P.image(4, 4, 1, 2, fft=False, max_norm=0.5).images(small), 0.5 + small,
                               atol=1e-6)
    start = 0.5 + 0.1 * rng.uniform(-1, 1, (2, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(P.image(4, 4, 3, 2, fft=False, max_norm=0.5, init=start).images(), start,
                               atol=1e-5)
    with pytest.raises(ValueError, match=r"at most half the value range \(0.5\).*Received: max_norm=0.6"):
        P.image(4, 4, 1, max_norm=0.6)
    with pytest.raises(ValueError, match="init images must lie within max_norm=0.1"):
        P.image(4, 4, 3, 2, fft=False, max_norm=0.1, init=start)
