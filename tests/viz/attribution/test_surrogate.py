"""LIME and KernelSHAP (:mod:`deepkit.viz.attribution.surrogate`): exact Shapley values against numpy
written from the definition, seeds, batching and input checks (the comparison with Captum's ``Lime``
and ``KernelShap`` is in ``test_captum.py``)."""

import itertools
import math

import numpy as np
import pytest

from deepkit.viz import attribution as A
from tests.viz.attribution.numpy_models import dense_logit, dense_model


def _shapley_values(v, m):
    """phi_j = sum over S not containing j of |S|! (M - |S| - 1)! / M! (v(S + j) - v(S))."""
    phi = np.zeros(m)
    for j in range(m):
        others = [k for k in range(m) if k != j]
        for size in range(m):
            weight = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
            for s in itertools.combinations(others, size):
                phi[j] += weight * (v(set(s) | {j}) - v(set(s)))
    return phi


def test_kernel_shap_gives_exact_shapley_values_on_a_nonlinear_model():
    """Every coalition (num_samples >= 2^4): KernelSHAP equals the Shapley values of the game
    v(S) = logit(x kept on the regions of S, baseline elsewhere), enumerated in numpy from the
    definition, on a tanh MLP (not additive: the values differ from the score differences of
    single regions), 4 irregular regions labelled 3, 7, 9, 12, a random baseline.

    Planted errors caught: the Shapley kernel without the binomial C(M, |z|) (weights
    (M - 1) / (|z| (M - |z|))); a coalition's bit painted on the next region; the baseline not
    applied (removed regions zero).
    """
    model = dense_model()
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, 4, 4, 1)).astype("float32")
    baseline = rng.uniform(-1, 1, (2, 4, 4, 1)).astype("float32")
    labels = rng.permutation(np.repeat([3, 7, 9, 12], 4)).reshape(4, 4)
    got = A.kernel_shap(model, x, [0, 2], feature_mask=labels, baseline=baseline, num_samples=16, batch_size=5)
    regions = np.searchsorted([3, 7, 9, 12], labels)
    for i, c in enumerate([0, 2]):
        def v(s):
            keep = np.isin(regions, list(s))[..., None]
            return dense_logit(model, np.where(keep, x[i], baseline[i]).astype("float64"), c)

        want = _shapley_values(v, 4)
        np.testing.assert_allclose(got[i], want[regions], rtol=1e-5, atol=1e-6)
        assert abs(want.sum() - (v({0, 1, 2, 3}) - v(set()))) < 1e-6  # efficiency
        singles = np.array([v({j}) - v(set()) for j in range(4)])
        assert np.abs(singles - want).max() > 1e-3  # the game is not additive


@pytest.mark.parametrize("name", ["lime", "kernel_shap"])
def test_seeds_and_batching(name):
    """Same seed, same map (whatever batch_size); another seed, another map.

    Planted error caught: the seed ignored (coalitions drawn from (0, image index)).
    """
    model = dense_model()
    x = np.random.default_rng(1).uniform(-1, 1, (3, 4, 4, 1)).astype("float32")
    method = getattr(A, name)
    options = {"patch_size": 1, "num_samples": 48}  # 16 regions: sampled, not enumerated
    first = method(model, x, 1, seed=3, batch_size=64, **options)
    np.testing.assert_array_equal(method(model, x, 1, seed=3, batch_size=64, **options), first)
    np.testing.assert_allclose(method(model, x, 1, seed=3, batch_size=7, **options), first, rtol=1e-5, atol=1e-6)
    other = method(model, x, 1, seed=4, batch_size=64, **options)
    assert np.abs(other - first).max() > 1e-3
    assert np.abs(first).max() > 1e-3


def test_given_coalitions_replace_the_draws():
    """Given coalitions are used (as an array or a list per image; flipping one region's bits
    changes the map).

    Planted error caught: the given coalitions ignored (drawn ones used instead).
    """
    model = dense_model()
    x = np.random.default_rng(2).uniform(-1, 1, (2, 4, 4, 1)).astype("float32")
    z = np.random.default_rng(0).integers(0, 2, (2, 20, 4))
    a = A.lime(model, x, 0, patch_size=2, coalitions=z, alpha=0.001)
    b = A.lime(model, x, 0, patch_size=2, coalitions=list(z), alpha=0.001)
    np.testing.assert_array_equal(a, b)
    z[:, :, 0] = 1 - z[:, :, 0]
    assert np.abs(A.lime(model, x, 0, patch_size=2, coalitions=z, alpha=0.001) - a).max() > 1e-4


def test_grid_mask_and_bad_inputs():
    assert A.surrogate.grid_mask((16, 16)).max() == 63 and A.surrogate.grid_mask((5, 3), 2).max() == 5
    model = dense_model()
    x = np.zeros((2, 4, 4, 1), "float32")
    with pytest.raises(ValueError, match=r"feature_mask must have shape \(H, W\) = \(4, 4\).*\(3, 3\)"):
        A.lime(model, x, feature_mask=np.zeros((3, 3), int))
    with pytest.raises(ValueError, match="feature_mask must hold integer region labels.*float64"):
        A.kernel_shap(model, x, feature_mask=np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"coalitions of image 0 must be a non-empty \(samples, 4\) array of 0 and 1"):
        A.kernel_shap(model, x, patch_size=2, coalitions=np.full((2, 5, 4), 2))
    with pytest.raises(ValueError, match=r"coalitions must have shape \(images, samples, regions\)"):
        A.kernel_shap(model, x, patch_size=2, coalitions=np.ones((5, 4)))
    with pytest.raises(ValueError, match="surrogate must be one of"):
        A.lime(model, x, surrogate="tree")
    with pytest.raises(ValueError, match="baseline must broadcast"):
        A.lime(model, x, baseline=np.zeros((3, 4)))
    with pytest.raises(ValueError, match="score must be 'probability' or 'logit'"):
        A.kernel_shap(model, x, score="prob")


def test_registered_for_the_report_cli_and_exports_but_not_drawn_by_default():
    from deepkit import viz
    from deepkit.viz.attribution import registry

    for name, title in (("lime", "LIME"), ("kernel_shap", "KernelSHAP")):
        method = registry.get_method(name)
        assert (method.family, method.title, method.display, method.tunnel) == ("perturbation", title, "signed", False)
        assert getattr(viz, name) is method.function and name in viz.__all__
        assert name in registry.report_methods(default_only=False) and name not in registry.report_methods()
        assert registry.report_options(name, batch_size=8) == {"num_samples": 256, "batch_size": 8}
