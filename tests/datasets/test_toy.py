"""deepkit.datasets.toy: the 2-D problems' shapes, geometry, noise, seeding and arguments."""

import numpy as np
import pytest

from deepkit.datasets import toy

pytestmark = pytest.mark.backend_independent


@pytest.mark.parametrize("name", toy.NAMES)
def test_toy_shapes_dtypes_balance_determinism(name):
    fn = getattr(toy, name)
    x, y = fn(n_samples=101, seed=7)
    assert x.shape == (101, 2) and x.dtype == np.float32 and y.shape == (101,) and y.dtype == np.int32
    assert sorted(np.bincount(y).tolist()) == [50, 51]
    assert np.all(np.isfinite(x)) and np.abs(x).max() < 3
    x2, y2 = fn(n_samples=101, seed=7)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, _ = fn(n_samples=101, seed=8)
    assert not np.array_equal(x, x3)
    # Shuffled: the classes are not in blocks.
    assert np.abs(np.diff(y)).sum() > 10


def test_toy_geometry_without_noise():
    x, y = toy.circles(n_samples=200, noise=0.0, factor=0.3)
    r = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-6)

    x, y = toy.moons(n_samples=200, noise=0.0)
    centre_a = np.array([-0.5, -0.25])  # upper moon: unit half circle around (0, 0), shifted
    centre_b = np.array([0.5, 0.25])  # lower moon: around (1, 0.5), shifted
    np.testing.assert_allclose(np.linalg.norm(x[y == 0] - centre_a, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(x[y == 1] - centre_b, axis=1), 1.0, atol=1e-6)

    x, y = toy.xor(n_samples=200, padding=0.1)
    assert np.all((x[:, 0] * x[:, 1] < 0) == (y == 1))
    assert np.abs(x).min() >= 0.1 and np.abs(x).max() <= 1.0

    x, y = toy.spiral(n_samples=300, n_classes=3)
    assert np.bincount(y).tolist() == [100, 100, 100]
    r = np.hypot(x[:, 0], x[:, 1])
    assert r.max() <= 1.0 + 1e-6

    x, y = toy.gaussians(n_samples=3000, noise=0.2, n_classes=3)
    for k in range(3):
        angle = np.pi / 4 + 2 * np.pi * k / 3
        np.testing.assert_allclose(x[y == k].mean(0), [np.cos(angle), np.sin(angle)], atol=0.03)
        np.testing.assert_allclose(x[y == k].std(0), 0.2, atol=0.02)


def test_toy_noise_is_gaussian_with_given_std():
    x, y = toy.circles(n_samples=4000, noise=0.04, factor=0.5, seed=5)
    r = np.hypot(x[:, 0], x[:, 1])
    # Isotropic noise of std s moves a point radially by ~N(0, s^2) (for s << radius).
    np.testing.assert_allclose((r[y == 0] - 1.0).std(), 0.04, rtol=0.1)
    np.testing.assert_allclose((r[y == 1] - 0.5).std(), 0.04, rtol=0.1)
    np.testing.assert_allclose((r[y == 0] - 1.0).mean(), 0.0, atol=0.01)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: toy.moons(n_samples=0), r"toy\.moons: `n_samples` must be an integer >= 1\. Received: n_samples=0"),
        (lambda: toy.circles(noise=-1), r"toy\.circles: `noise` must be a finite number >= 0.0\. Received: noise=-1"),
        (lambda: toy.circles(factor=1.0), r"`factor` must be < 1 .* Received: factor=1\.0"),
        (lambda: toy.xor(noise=float("nan")), r"toy\.xor: `noise` must be a finite number"),
        (lambda: toy.spiral(n_classes=1), r"toy\.spiral: `n_classes` must be an integer >= 2\. Received: n_classes=1"),
        (lambda: toy.gaussians(n_samples=2, n_classes=3), r"`n_samples` must be an integer >= 3\. Received: n_samples=2"),
        (lambda: toy.spiral(seed=1.5), r"`seed` must be an integer or None\. Received: seed=1\.5"),
        (lambda: toy.moons(n_samples="100"), r"Received: n_samples='100'"),
    ],
)
def test_toy_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
