"""ROAD (Rong et al. 2022) against numpy written from the paper's equations: the noisy linear
imputation as a dense linear system on a tiny image, and the metric on a tanh CNN.

Each test names the planted errors it was shown to catch.
"""

import numpy as np
import pytest

from deepkit.viz import attribution as A
from tests.viz.attribution.numpy_models import conv_forward, conv_head_model

pytest.importorskip("scipy")


def _dense_imputation(image, removed):
    """Each removed pixel p: sum over its 8 neighbours q inside the image of w_q (x_p - x_q) = 0,
    w = 1/6 for the 4 direct neighbours and 1/12 for the 4 diagonal ones; one dense solve."""
    h, w, c = image.shape
    unknown = [(r, s) for r in range(h) for s in range(w) if removed[r, s]]
    number = {p: k for k, p in enumerate(unknown)}
    a = np.zeros((len(unknown), len(unknown)))
    b = np.zeros((len(unknown), c))
    for k, (r, s) in enumerate(unknown):
        for dr in (-1, 0, 1):
            for ds in (-1, 0, 1):
                if (dr, ds) == (0, 0) or not (0 <= r + dr < h and 0 <= s + ds < w):
                    continue
                weight = 1 / 6 if dr == 0 or ds == 0 else 1 / 12
                a[k, k] += weight
                if (r + dr, s + ds) in number:
                    a[k, number[(r + dr, s + ds)]] -= weight
                else:
                    b[k] += weight * image[r + dr, s + ds]
    out = image.astype("float64").copy()
    if unknown:
        out[tuple(np.array(unknown).T)] = np.linalg.solve(a, b)
    return out, unknown


def test_noisy_linear_imputation_solves_the_neighbour_equations():
    """The imputed values solve the paper's linear system (dense numpy solve); the noise is
    ``noise * rng.standard_normal((k, C))`` over the removed pixels in row-major order.

    Planted errors caught: two diagonal weights 1/6 instead of 1/12 (max diff 0.12); border weights
    not renormalised (the diagonal summing all 8 weights whether inside or not: max diff 0.91);
    both also fail the ROAD tests.
    """
    rng = np.random.default_rng(0)
    image = rng.normal(size=(5, 6, 2)).astype("float32")
    removed = rng.random((5, 6)) < 0.55
    removed[0, 0] = removed[4, 5] = removed[2, 0] = True  # a corner, another corner, an edge
    want, unknown = _dense_imputation(image, removed)
    got = A.noisy_linear_imputation(image, removed, noise=0.0)
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert np.abs(want - image).max() > 0.1
    noisy = A.noisy_linear_imputation(image, removed, noise=0.3, rng=np.random.default_rng(7))
    draws = 0.3 * np.random.default_rng(7).standard_normal((len(unknown), 2))
    np.testing.assert_allclose(noisy[tuple(np.array(unknown).T)] - want[tuple(np.array(unknown).T)], draws,
                               atol=1e-5)
    np.testing.assert_array_equal(noisy[~removed], image[~removed])
    with pytest.raises(ValueError, match="every pixel is removed"):
        A.noisy_linear_imputation(image, np.ones((5, 6), bool))


def _numpy_probabilities(model, x):
    """Softmax of :func:`conv_head_model`'s logits, in numpy."""
    w1, b1 = (np.asarray(v, "float64") for v in model.get_layer("hidden").weights)
    w2, b2 = (np.asarray(v, "float64") for v in model.get_layer("logits").weights)
    hidden = np.tanh(conv_forward(model, x.astype("float64")).reshape(len(x), -1) @ w1 + b1)
    logits = hidden @ w2 + b2
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("order", ["morf", "lerf"])
def test_road_matches_numpy_from_the_paper(order):
    """ROAD on a tanh CNN: for each percentage p, floor(36 p / 100) pixels ranked first (highest
    attributions for MoRF, lowest for LeRF) imputed as in :func:`_dense_imputation` plus the noise
    of default_rng([seed, i]) drawn percentage after percentage; correct = argmax is the target,
    probability = the target's softmax, in numpy.

    Planted errors caught: LeRF ranked like MoRF (lerf fails, max diff 0.41); ceil instead of floor for the
    number of pixels removed (both fail at p=10, 3.6 pixels); the noise of each image drawn from
    one generator for the whole batch (both fail).
    """
    model = conv_head_model(1)
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (3, 6, 6, 2)).astype("float32")
    heat = rng.random((3, 6, 6)).astype("float32")
    classes = np.array([0, 2, 1])
    percentages = (10, 25, 50, 90)
    correct, prob = A.road(model, x, heat, classes, percentages=percentages, order=order, noise=0.05, seed=4)
    want_prob = np.zeros((3, len(percentages)))
    want_correct = np.zeros((3, len(percentages)), bool)
    for i in range(3):
        noise = np.random.default_rng([4, i])
        flat = heat[i].ravel()
        ranked = np.argsort(-flat if order == "morf" else flat, kind="stable")
        for j, p in enumerate(percentages):
            removed = np.zeros(36, bool)
            removed[ranked[:int(np.floor(36 * p / 100))]] = True
            imputed, unknown = _dense_imputation(x[i], removed.reshape(6, 6))
            imputed[tuple(np.array(unknown).T)] += 0.05 * noise.standard_normal((len(unknown), 2))
            probs = _numpy_probabilities(model, imputed[None])[0]
            want_prob[i, j] = probs[classes[i]]
            want_correct[i, j] = probs.argmax() == classes[i]
    assert correct.dtype == bool and correct.shape == prob.shape == (3, len(percentages))
    np.testing.assert_allclose(prob, want_prob, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(correct, want_correct)
    assert np.ptp(want_prob) > 0.01


def test_road_refuses_bad_input_with_the_reason():
    model = conv_head_model(1)
    x = np.zeros((2, 6, 6, 2), "float32")
    heat = np.zeros((2, 6, 6))
    with pytest.raises(ValueError, match=r"percentages must be .*\[0, 100\).*100"):
        A.road(model, x, heat, percentages=(50, 100))
    with pytest.raises(ValueError, match="order must be 'morf' or 'lerf'. Received: order='most'"):
        A.road(model, x, heat, order="most")
    with pytest.raises(ValueError, match=r"heatmaps must have shape \(2, 6, 6\)"):
        A.road(model, x, heat[:, :5])
