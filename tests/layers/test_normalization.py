"""deepkit.layers.normalization: local response normalization against the paper's loop (and PyTorch's LRN)."""

import keras
import numpy as np
import pytest
from keras import ops

from deepkit.layers import LocalResponseNormalization


def to_np(x):
    return ops.convert_to_numpy(x)


def lrn_reference(a, size, alpha, beta, k):
    """Loop over channels exactly as written in Krizhevsky et al. (2012), section 3.3."""
    n_channels = a.shape[-1]
    out = np.empty_like(a, dtype=np.float64)
    for c in range(n_channels):
        lo, hi = max(0, c - size // 2), min(n_channels - 1, c + (size - 1) // 2)
        s = np.sum(a[..., lo:hi + 1].astype(np.float64) ** 2, axis=-1)
        out[..., c] = a[..., c] / (k + alpha * s) ** beta
    return out


@pytest.mark.parametrize("size,alpha,beta,k", [(5, 1e-4, 0.75, 2.0), (3, 0.5, 1.0, 1.0), (4, 0.1, 0.5, 0.5)])
def test_lrn_matches_numpy_reference(size, alpha, beta, k):
    rng = np.random.default_rng(0)
    x = rng.normal(scale=3.0, size=(2, 3, 4, 9)).astype("float32")
    got = to_np(LocalResponseNormalization(size, alpha, beta, k)(x))
    np.testing.assert_allclose(got, lrn_reference(x, size, alpha, beta, k), rtol=1e-5, atol=1e-6)


def test_lrn_paper_values_actually_normalize():
    # With large activations the paper's constants shrink them noticeably; a no-op would fail here.
    x = np.full((1, 1, 1, 7), 100.0, "float32")
    got = to_np(LocalResponseNormalization()(x))[0, 0, 0]
    expected = 100.0 / (2.0 + 1e-4 * np.array([3, 4, 5, 5, 5, 4, 3]) * 1e4) ** 0.75
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert got[3] < got[0] < 100.0


def test_lrn_channel_axis_1():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 6, 3, 3)).astype("float32")  # channels first
    got = to_np(LocalResponseNormalization(size=3, alpha=0.2, beta=0.75, k=1.0, axis=1)(x))
    ref = np.moveaxis(lrn_reference(np.moveaxis(x, 1, -1), 3, 0.2, 0.75, 1.0), -1, 1)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_lrn_matches_torch_with_alpha_convention():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.normal(scale=5.0, size=(2, 4, 4, 8)).astype("float32")
    ours = to_np(LocalResponseNormalization(size=5, alpha=1e-3, beta=0.75, k=2.0)(x))
    # torch divides alpha by size and works channels-first.
    theirs = torch.nn.functional.local_response_norm(
        torch.from_numpy(np.moveaxis(x, -1, 1)), size=5, alpha=5 * 1e-3, beta=0.75, k=2.0)
    np.testing.assert_allclose(ours, np.moveaxis(theirs.numpy(), 1, -1), rtol=1e-5, atol=1e-6)


def test_lrn_gradient_is_finite_and_nonzero():
    x = keras.Input((3, 3, 6))
    model = keras.Model(x, keras.layers.Dense(1)(keras.layers.Flatten()(LocalResponseNormalization()(x))))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    data = np.random.default_rng(3).normal(size=(8, 3, 3, 6)).astype("float32")
    before = to_np(model.layers[-1].kernel).copy()
    model.fit(data, np.ones((8, 1), "float32"), epochs=1, batch_size=8, verbose=0)
    after = to_np(model.layers[-1].kernel)
    assert np.all(np.isfinite(after)) and not np.allclose(before, after)


@pytest.mark.parametrize("kwargs,match", [({"size": 0}, "size=0"), ({"size": 2.5}, "size=2.5"),
                                          ({"beta": -1.0}, "beta=-1.0")])
def test_lrn_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LocalResponseNormalization(**kwargs)
