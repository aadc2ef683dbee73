"""Sparseness, faithfulness correlation and max-sensitivity against numpy from their papers.

Each test names the planted error it was shown to catch.
"""

import numpy as np

from deepkit.viz import attribution as A
from deepkit.viz.attribution.faithfulness import random_subsets
from tests.viz.attribution.numpy_models import dense_gradient, dense_logit, dense_model


def _images(n=2, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 4, 4, 1)).astype("float32")


def test_sparseness_is_the_gini_index():
    """Gini index (Chalasani et al. 2020; Hurley & Rickard 2009), from its mean-difference form
    G = sum_ij |a_i - a_j| / (2 d^2 mean(a)).

    Planted errors caught: the values not sorted; (2k - d + 1) for (2k - d - 1).
    """
    m = np.random.default_rng(0).normal(size=(3, 5, 4))
    a = np.abs(m).reshape(3, -1)
    want = np.abs(a[:, :, None] - a[:, None, :]).sum((1, 2)) / (2 * a.shape[1] ** 2 * a.mean(1))
    np.testing.assert_allclose(A.sparseness(m), want, rtol=1e-5)
    assert A.sparseness(np.zeros((1, 3, 3))).tolist() == [0.0]


def _softmax_prob(model, x, c):
    logits = np.array([dense_logit(model, x, j) for j in range(3)])
    e = np.exp(logits - logits.max())
    return e[c] / e.sum()


def test_faithfulness_correlation_matches_the_paper():
    """Bhatt et al. 2020, eq. 3: Pearson correlation over random subsets S between sum_S a and
    f(x) - f(x with S at the baseline), with the same subsets and numpy probabilities.

    Planted errors caught: the subset kept instead of replaced; the correlation with the score
    after removal instead of the drop (the sign flips).
    """
    model = dense_model()
    x = _images()
    heat = np.random.default_rng(2).random((2, 4, 4)).astype("float32")
    classes = [0, 2]
    got = A.faithfulness_correlation(model, x, heat, classes, subset_size=4, num_subsets=12, baseline=0.1, seed=5)
    want = []
    for i, c in enumerate(classes):
        sums, drops = [], []
        for s in random_subsets(16, 4, 12, 5, i):
            mask = np.zeros(16, bool)
            mask[s] = True
            removed = np.where(mask.reshape(4, 4, 1), 0.1, x[i])
            sums.append(heat[i].ravel()[s].sum())
            drops.append(_softmax_prob(model, x[i], c) - _softmax_prob(model, removed, c))
        want.append(np.corrcoef(sums, drops)[0, 1])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_max_sensitivity_matches_the_paper():
    """Yeh et al. 2019, def. 3.1 by Monte Carlo: max_j ||Phi(x + d_j) - Phi(x)||_2, d_j uniform in
    the L-inf ball (per image from default_rng([seed, i])), Phi the raw gradient in numpy.

    Planted errors caught: the mean over perturbations instead of the max; the explanation of
    each perturbed image for its own predicted class rather than the clean image's.
    """
    model = dense_model()
    x = _images()
    classes = np.array([1, 2])
    got = A.max_sensitivity("saliency", model, x, classes, radius=0.3, num_samples=6, seed=2, reduce=None)
    want = []
    for i, c in enumerate(classes):
        noise = np.random.default_rng([2, i]).uniform(-0.3, 0.3, (6,) + x.shape[1:]).astype("float32")
        clean = dense_gradient(model, x[i].astype("float64"), c)
        want.append(max(np.linalg.norm(dense_gradient(model, (x[i] + d).astype("float64"), c) - clean)
                        for d in noise))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    norm = np.linalg.norm(A.saliency(model, x, classes, reduce=None).reshape(2, -1), axis=1)
    np.testing.assert_allclose(A.max_sensitivity("saliency", model, x, classes, radius=0.3, num_samples=6, seed=2,
                                                 reduce=None, normalize=True), np.array(want) / norm, rtol=1e-4)


def test_max_sensitivity_of_an_explanation_with_no_norm_is_not_normalised():
    """A model whose inputs do not matter: its gradients are 0 everywhere, clean and perturbed, so the
    sensitivity is 0; normalised, it stays 0 (nothing to divide by), not NaN.

    Mutation survivor caught (faithfulness.py: the zero-norm guard ``norm > 0`` -> ``norm > -1``).
    """
    import keras

    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(3, kernel_initializer="zeros", bias_initializer="ones")])
    for normalize in (False, True):
        got = A.max_sensitivity("saliency", model, _images(), [0, 1], radius=0.3, num_samples=3,
                                normalize=normalize, reduce=None)
        np.testing.assert_array_equal(got, [0.0, 0.0])


def test_the_blur_is_a_gaussian_filter_and_the_blur_baseline_takes_an_eighth_of_the_image():
    """``gaussian_blur`` against scipy's Gaussian filter (mirror edges, 3 sigma); insertion from ``"blur"`` equals
    insertion from that filter with sigma = max(H, W) / 8 (2 for 16 x 16), as the docstring says.

    Mutation survivors caught (metrics.py): the batch axis padded, the baseline's sigma = size / 9.
    """
    import keras
    from scipy import ndimage

    from deepkit.viz.attribution.metrics import gaussian_blur

    rng = np.random.default_rng(0)
    x = rng.random((2, 16, 16, 3)).astype("float32")
    want = ndimage.gaussian_filter(x.astype("float64"), sigma=(0, 2, 2, 0), mode="mirror", truncate=3.0)
    np.testing.assert_allclose(gaussian_blur(x, 2.0), want, rtol=1e-5, atol=1e-6)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Flatten(), keras.layers.Dense(3)])
    heat = rng.random((2, 16, 16)).astype("float32")
    got, _ = A.deletion_insertion(model, x, heat, [0, 1], mode="insertion", steps=4, baseline="blur")
    ref, _ = A.deletion_insertion(model, x, heat, [0, 1], mode="insertion", steps=4, baseline=want.astype("float32"))
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
