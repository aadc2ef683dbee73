"""The regression toy sets (toy.plane, toy.multi_gaussians) against the TensorFlow Playground's definitions.

The expected targets are written here from the Playground's dataset.ts in its own units (the plane
[-6, 6]^2): plane label = (x + y) / 10; multiple Gaussians: six centres with signs, each label
sign * clamp(1 - distance / 2, 0, 1), the one largest in absolute value wins.
"""

import numpy as np
import pytest

from deepkit.datasets import toy

pytestmark = pytest.mark.backend_independent

_PLAYGROUND_BUMPS = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]


def _playground_gauss_label(px, py):
    best = 0.0
    for cx, cy, sign in _PLAYGROUND_BUMPS:
        value = sign * min(1.0, max(0.0, 1 - np.hypot(px - cx, py - cy) / 2))
        if abs(value) > abs(best):
            best = value
    return best


def test_multi_gaussians_matches_the_playground():
    """Planted error that fails it: a bump radius of 0.5 instead of 0.4 in toy.multi_gaussians."""
    x, y = toy.multi_gaussians(n_samples=500, seed=3)
    expected = [_playground_gauss_label(5 * a, 5 * b) for a, b in x]
    np.testing.assert_allclose(y, expected, atol=1e-6)
    assert np.abs(x).max() <= 1.2 and y.dtype == np.float32


def test_plane_matches_the_playground():
    x, y = toy.plane(n_samples=200, seed=1)
    np.testing.assert_allclose(y, (5 * x[:, 0] + 5 * x[:, 1]) / 10, atol=1e-6)


def test_noise_moves_where_the_target_is_read_not_the_point():
    x0, y0 = toy.plane(n_samples=100, noise=0.0, seed=2)
    x1, y1 = toy.plane(n_samples=100, noise=0.2, seed=2)
    np.testing.assert_array_equal(x0, x1)
    assert 0 < np.abs(y1 - y0).mean() < 0.3


def test_bad_arguments_say_what_was_received():
    with pytest.raises(ValueError, match="n_samples=0"):
        toy.plane(0)
    with pytest.raises(ValueError, match="noise=-1"):
        toy.multi_gaussians(10, noise=-1)
