"""Attribution formulas against numpy written from the papers, on smooth (tanh) models.

Each test names in its docstring the planted error it was shown to catch (planted in the
library, the test run and seen to fail, the plant reverted).
"""

import numpy as np
import pytest

from deepkit.viz import attribution as A
from tests.viz.attribution.numpy_models import (conv_forward, conv_head_model, dense_gradient, dense_logit,
                                                dense_model, head_gradient)


def _images(shape, n=3, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, (n,) + shape).astype("float32")


def test_grad_cam_plus_plus_matches_the_paper():
    """Grad-CAM++ (Chattopadhay et al. 2018, eq. 19 with an exponential score):
    alpha = g^2 / (2 g^2 + sum_ab A_ab g^3), w_k = sum_ij alpha relu(g), map relu(sum_k w_k A_k).

    Planted errors caught: plain Grad-CAM weights (the mean gradient) instead; the factor 2 of
    alpha's denominator dropped.
    """
    model = conv_head_model()
    x = _images((6, 6, 2))
    classes = np.array([0, 1, 2])
    a = conv_forward(model, x)
    g = np.stack([head_gradient(model, a[i:i + 1], c)[0] for i, c in enumerate(classes)])
    g2, g3 = g**2, g**3
    denom = 2 * g2 + a.sum(axis=(1, 2), keepdims=True) * g3
    alpha = g2 / np.where(denom != 0, denom, 1.0)
    w = (alpha * np.maximum(g, 0)).sum(axis=(1, 2))
    want = np.maximum(np.einsum("nhwk,nk->nhw", a, w), 0)
    got = A.grad_cam_plus_plus(model, x, classes, layer="conv", upsample=False, normalize=False)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * want.max())
    # On this model Grad-CAM++ is not Grad-CAM (the test would not notice otherwise).
    plain = np.maximum(np.einsum("nhwk,nk->nhw", a, g.mean(axis=(1, 2))), 0)
    norm = lambda m: m / m.max(axis=(1, 2), keepdims=True)  # noqa: E731
    assert np.abs(norm(plain) - norm(want)).max() > 0.05


def test_grad_cam_matches_the_paper():
    """Grad-CAM (Selvaraju et al. 2017): w_k = mean_ij dY/dA_ij, map relu(sum_k w_k A_k).

    Planted error caught: the sum instead of the mean of the gradient (with normalize=False).
    """
    model = conv_head_model()
    x = _images((6, 6, 2))
    classes = np.array([2, 0, 1])
    a = conv_forward(model, x)
    g = np.stack([head_gradient(model, a[i:i + 1], c)[0] for i, c in enumerate(classes)])
    want = np.maximum(np.einsum("nhwk,nk->nhw", a, g.mean(axis=(1, 2))), 0)
    got = A.grad_cam(model, x, classes, layer="conv", upsample=False, normalize=False)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def _noisy_copies(x, num_samples, noise_level, seed):
    # The documented noise: N(0, 1) drawn per image from default_rng([seed, image]), scaled
    # by noise_level * (max - min) of the image.
    out = []
    for i, img in enumerate(x):
        noise = np.random.default_rng([seed, i]).standard_normal((num_samples,) + img.shape).astype("float32")
        out.append(img + noise_level * (img.max() - img.min()) * noise)
    return np.stack(out)


@pytest.mark.parametrize("kind", ["smoothgrad", "smoothgrad_sq", "vargrad"])
def test_noise_tunnel_kinds_match_their_definitions(kind):
    """SmoothGrad (mean of the noisy copies' gradients), SmoothGrad-squared (mean of their
    squares, Hooker et al. 2019) and VarGrad (their variance, Adebayo et al. 2018), from numpy
    gradients of the same noisy copies.

    Planted errors caught: smoothgrad_sq as the square of the mean; vargrad as the standard
    deviation; the mean taken over num_samples + 1.
    """
    model = dense_model()
    x = _images((4, 4, 1), n=2)
    classes = np.array([1, 2])
    copies = _noisy_copies(x, 5, 0.2, seed=4)
    grads = np.stack([dense_gradient(model, copies[i].astype("float64"), c) for i, c in enumerate(classes)])
    want = {"smoothgrad": grads.mean(1), "smoothgrad_sq": (grads**2).mean(1), "vargrad": grads.var(1)}[kind]
    got = A.noise_tunnel("saliency", model, x, classes, num_samples=5, noise_level=0.2, kind=kind,
                         seed=4, reduce=None)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    if kind == "smoothgrad_sq":
        np.testing.assert_allclose(A.smoothgrad(model, x, classes, num_samples=5, noise_level=0.2,
                                                squared=True, seed=4, reduce=None), want, rtol=1e-4, atol=1e-6)


def test_integrated_gradients_matches_the_trapezoid_and_the_integral():
    """Integrated Gradients (Sundararajan et al. 2017): (x - x') * int_0^1 grad f(x' + a (x - x')) da.

    Against numpy: the same trapezoidal rule on steps + 1 points a = k / steps, and a 64-point
    Gauss-Legendre quadrature of the integral (the trapezoid's error bound O(1/steps^2)).
    Planted error caught: the sample points shifted by one step (a = (k + 1) / steps).
    """
    model = dense_model()
    x = _images((4, 4, 1), n=2).astype("float64")
    base = np.full_like(x, 0.25)
    classes = np.array([0, 2])
    steps = 16
    got = A.integrated_gradients(model, x, classes, baseline=0.25, steps=steps, reduce=None)

    def integral(alphas, weights):
        out = np.zeros_like(x)
        for a, wt in zip(alphas, weights):
            path = base + a * (x - base)
            out += wt * np.stack([dense_gradient(model, path[i], c) for i, c in enumerate(classes)])
        return (x - base) * out

    trapezoid = np.full(steps + 1, 1.0 / steps)
    trapezoid[[0, -1]] /= 2
    np.testing.assert_allclose(got, integral(np.linspace(0, 1, steps + 1), trapezoid), rtol=1e-4, atol=1e-6)
    nodes, weights = np.polynomial.legendre.leggauss(64)
    exact = integral((nodes + 1) / 2, weights / 2)
    assert np.abs(got - exact).max() < 2e-3 * np.abs(exact).max()
    # Completeness: the attributions sum to f(x) - f(x') (exactly for the integral).
    delta = [dense_logit(model, x[i], c) - dense_logit(model, base[i], c) for i, c in enumerate(classes)]
    np.testing.assert_allclose(exact.sum(axis=(1, 2, 3)), delta, rtol=1e-6)


def _cam_inputs(classes=(1, 0, 2)):
    model = conv_head_model()
    x = _images((6, 6, 2))
    a = conv_forward(model, x)
    g = np.stack([head_gradient(model, a[i:i + 1], c)[0] for i, c in enumerate(classes)])
    return model, x, np.array(classes), a, g


@pytest.mark.parametrize("name", ["xgrad_cam", "layer_cam", "hires_cam"])
def test_cam_variants_match_their_papers(name):
    """XGrad-CAM (Fu et al. 2020, eq. 8): w_k = sum_ij (A_k,ij / sum_ab A_k,ab) g_k,ij;
    LayerCAM (Jiang et al. 2021, eq. 6): relu(sum_k relu(g_k,ij) A_k,ij);
    HiResCAM (Draelos & Carin 2020): relu(sum_k g_k,ij A_k,ij).

    Planted errors caught: XGrad-CAM without the division by sum_ab A; LayerCAM without the
    ReLU of the gradient (HiResCAM instead); HiResCAM with the gradient averaged (Grad-CAM).
    """
    model, x, classes, a, g = _cam_inputs()
    if name == "xgrad_cam":
        w = (a / a.sum(axis=(1, 2), keepdims=True) * g).sum(axis=(1, 2))
        want = np.einsum("nhwk,nk->nhw", a, w)
    elif name == "layer_cam":
        want = (np.maximum(g, 0) * a).sum(-1)
    else:
        want = (g * a).sum(-1)
    want = np.maximum(want, 0)
    got = A.get_method(name).function(model, x, classes, layer="conv", upsample=False, normalize=False)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * want.max())
    assert np.abs(got - np.maximum(np.einsum("nhwk,nk->nhw", a, g.mean((1, 2))), 0)).max() > 1e-3 * want.max()


def test_eigen_cam_is_the_first_principal_component():
    """EigenCAM (Muhammad & Yeasin 2020): the centred (h*w, K) activations projected on their
    first right singular vector (signed to agree with the summed maps), rectified.

    Planted errors caught: the last singular vector instead of the first; no centring.
    """
    model, x, _, a, _ = _cam_inputs()
    n, h, w, k = a.shape
    want = []
    for m in a.reshape(n, h * w, k):
        c = m - m.mean(0)
        _, _, vt = np.linalg.svd(c)
        p = c @ vt[0]
        want.append(np.maximum(p * np.sign(p @ m.sum(-1)), 0).reshape(h, w))
    got = A.eigen_cam(model, x, layer="conv", upsample=False, normalize=False)
    np.testing.assert_allclose(got, np.stack(want), rtol=1e-4, atol=1e-5 * np.max(want))


def test_rise_matches_the_paper():
    """RISE (Petsiuk et al. 2018, eq. 6): S = 1 / (N p) sum_k softmax(f(x * M_k))_c M_k, with
    the same masks (``rise_masks``) and numpy scores.

    Planted errors caught: normalised by N instead of N p; the logit instead of the probability.
    """
    from deepkit.viz.attribution.sampling import rise_masks

    model = dense_model()
    x = _images((4, 4, 1), n=2)
    classes = np.array([2, 1])
    masks = rise_masks((4, 4), num_masks=20, cells=2, p=0.4, seed=3)
    want = []
    for img, c in zip(x, classes):
        logits = np.stack([dense_logit(model, img * m[..., None], j) for j in range(3) for m in [masks]], -1)
        prob = np.exp(logits - logits.max(-1, keepdims=True))
        prob = (prob / prob.sum(-1, keepdims=True))[:, c]
        want.append(np.einsum("k,khw->hw", prob, masks) / (20 * 0.4))
    got = A.rise(model, x, classes, num_masks=20, cells=2, p=0.4, seed=3, batch_size=7)
    np.testing.assert_allclose(got, np.stack(want), rtol=1e-4, atol=1e-6)
    masks = rise_masks((10, 12), num_masks=50, cells=3, p=0.5, seed=0)
    assert masks.shape == (50, 10, 12) and 0 <= masks.min() and masks.max() <= 1
    assert abs(masks.mean() - 0.5) < 0.1  # E[M] = p


def _first_max_routing(values, z, pool=2):
    """numpy: each window's value to the first (row-major) maximum of ``z`` in that window."""
    n, h, w, c = z.shape
    out = np.zeros_like(z, dtype="float64")
    for b in range(n):
        for i in range(h // pool):
            for j in range(w // pool):
                for k in range(c):
                    window = z[b, i * pool:(i + 1) * pool, j * pool:(j + 1) * pool, k]
                    r, s = np.unravel_index(np.argmax(window), window.shape)
                    out[b, i * pool + r, j * pool + s, k] += values[b, i, j, k]
    return out


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_deeplift_max_pooling_rule_matches_the_paper(padding):
    """DeepLIFT (Shrikumar et al. 2017) through ReLU -> 2x2 max pooling -> dense, with random
    baselines. The ReLU's rescale multiplier times the pooling's gives each position
    ``Delta r * m_pool``: the window's ``w (max(y, y0) - y0)`` at the first maximum of the input's
    window plus ``w (y - max(y, y0))`` at the first maximum of the baseline's window (the pooling
    rule routes the change of the pooled value, Captum's maxpool rule). The attributions sum to
    ``f(x) - f(x0)``. (Captum 0.9's own ``DeepLift`` breaks that sum when a ReLU precedes the
    pooling, see test_captum.py: this numpy is the reference there.) With ``"same"`` padding the
    7x7 input's last row and column form windows of their own.

    Planted errors caught: the second term routed through the input's maxima (``U_x`` for
    ``U_x0``); ``max(y, y0) - y0`` replaced by ``y - y0``.
    """
    import keras

    size = 8 if padding == "valid" else 7
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((size, size, 2)), keras.layers.ReLU(name="relu"),
                              keras.layers.MaxPooling2D(2, padding=padding, name="pool"),
                              keras.layers.Flatten(), keras.layers.Dense(3, name="out")])
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (3, size, size, 2)).astype("float32")
    x0 = rng.uniform(-1, 1, x.shape).astype("float32")
    classes = np.array([0, 2, 1])
    got = A.deeplift(model, x, classes, baseline=x0, reduce=None)

    side = -(-size // 2)
    r, r0 = (np.pad(np.maximum(v, 0).astype("float64"), [(0, 0), (0, 2 * side - size), (0, 2 * side - size),
                                                         (0, 0)], constant_values=-np.inf) for v in (x, x0))
    y = r.reshape(3, side, 2, side, 2, 2).max(axis=(2, 4))
    y0 = r0.reshape(3, side, 2, side, 2, 2).max(axis=(2, 4))
    top = np.maximum(y, y0)
    kernel = np.asarray(model.get_layer("out").kernel, "float64")
    w = kernel[:, classes].T.reshape(3, side, side, 2)
    want = _first_max_routing(w * (top - y0), r) + _first_max_routing(w * (y - top), r0)
    want = want[:, :size, :size]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    delta = model.predict(x, verbose=0) - model.predict(x0, verbose=0)
    np.testing.assert_allclose(got.sum(axis=(1, 2, 3)), delta[np.arange(3), classes], rtol=1e-4, atol=1e-5)


def _score_cam_reference(model, x, classes, keep=None):
    """Score-CAM (Wang et al. 2020, eq. 5-8) in numpy around Keras forward passes: each feature map A_k,
    min-max normalised to [0, 1], masks the image; the softmax probability of the class for the masked
    image is w_k; relu(sum_k w_k A_k). ``keep``: only the ``keep`` maps with the largest maximum."""
    import keras

    a = np.asarray(keras.Model(model.inputs[0], model.get_layer("conv").output)(x), "float64")  # (N, 6, 6, K)
    cams = []
    for img, act, c in zip(x, a, classes):
        channels = np.argsort(-act.max(axis=(0, 1)), kind="stable")[:keep] if keep else range(act.shape[-1])
        maps = np.stack([act[..., k] for k in channels])                      # (K', 6, 6)
        lo, hi = maps.min(axis=(1, 2), keepdims=True), maps.max(axis=(1, 2), keepdims=True)
        masks = (maps - lo) / (hi - lo)
        logits = np.asarray(model(img[None] * masks[..., None].astype("float32")), "float64")
        prob = np.exp(logits - logits.max(-1, keepdims=True))
        w = (prob / prob.sum(-1, keepdims=True))[:, c]
        cams.append(np.maximum(np.einsum("k,khw->hw", w, maps), 0.0))
    return np.stack(cams)


def test_score_cam_matches_the_paper():
    """Score-CAM against :func:`_score_cam_reference` (a "same" convolution: the maps need no upsampling).

    Planted errors caught (mutation survivors of cam.py): the min-max masks divided instead of multiplied
    by 1 / span, the channels ranked by their maxima over the wrong axes with ``max_channels``, the peak
    test ``peak > 0`` -> ``peak > 1`` (maps whose maximum is below 1 zeroed).
    """
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 6, 2)),
                              keras.layers.Conv2D(4, 3, padding="same", activation="tanh", name="conv"),
                              keras.layers.Flatten(), keras.layers.Dense(3, name="logits")])
    x = _images((6, 6, 2))
    classes = np.array([1, 0, 2])
    want = _score_cam_reference(model, x, classes)
    got = A.score_cam(model, x, classes, layer="conv", normalize=False, batch_size=5)
    assert want.max() < 1  # a peak below 1: normalisation must still divide by it
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    got = A.score_cam(model, x, classes, layer="conv", batch_size=5)
    np.testing.assert_allclose(got, want / want.max(axis=(1, 2), keepdims=True), rtol=1e-4, atol=1e-6)
    few = _score_cam_reference(model, x, classes, keep=2)
    got = A.score_cam(model, x, classes, layer="conv", max_channels=2, normalize=False, batch_size=5)
    np.testing.assert_allclose(got, few, rtol=1e-4, atol=1e-6)
    assert np.abs(few - want).max() > 1e-3 * want.max()


def test_occlusion_is_the_mean_drop_over_the_patches_covering_each_pixel():
    """Occlusion (Zeiler & Fergus 2014) in numpy: for each patch position, the class probability's drop when the
    patch is filled; each pixel averages the drops of the patches covering it, 0 where none does (1 x 1 patches
    with stride 2 on 4 x 4: positions 0, 2 and the edge 3; row and column 1 are never covered).

    Planted error caught (mutation survivor of perturbation.py): dividing by the raw coverage (NaN where 0).
    """
    model = dense_model()
    x = _images((4, 4, 1), n=2)
    classes = np.array([2, 0])
    positions = [0, 2, 3]

    def prob(img, c):
        logits = np.array([dense_logit(model, img, j) for j in range(3)])
        e = np.exp(logits - logits.max())
        return e[c] / e.sum()

    want = np.zeros((2, 4, 4))
    for i, c in enumerate(classes):
        for r in positions:
            for s in positions:
                occluded = x[i].copy()
                occluded[r, s] = 0.5
                want[i, r, s] = prob(x[i], c) - prob(occluded, c)
    got = A.occlusion(model, x, classes, patch_size=1, stride=2, fill=0.5, batch_size=8)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert not got[:, 1].any() and not got[:, :, 1].any()
    # a patch as large as the image: one position, every pixel gets the drop of the filled image
    whole = A.occlusion(model, x, classes, patch_size=4, stride=2, fill=0.5, batch_size=8)
    drop = [prob(x[i], c) - prob(np.full_like(x[i], 0.5), c) for i, c in enumerate(classes)]
    np.testing.assert_allclose(whole, np.broadcast_to(np.array(drop)[:, None, None], (2, 4, 4)), rtol=1e-4, atol=1e-6)


def test_normalized_cams_are_divided_by_their_maximum():
    """``normalize=True`` divides each map by its own maximum (maxima below 1 here).

    Mutation survivor caught (cam.py: the peak guard ``peak > 0`` -> ``peak > 1`` leaving such maps undivided).
    """
    model, x, classes, _, _ = _cam_inputs()
    x = x * 0.05  # small activations: maps with maxima in (0, 1)
    for name in ("grad_cam", "grad_cam_plus_plus"):
        raw = A.get_method(name).function(model, x, classes, layer="conv", upsample=False, normalize=False)
        peaks = raw.max(axis=(1, 2))
        assert ((0 < peaks) & (peaks < 1)).any(), peaks
        got = A.get_method(name).function(model, x, classes, layer="conv", upsample=False, normalize=True)
        want = np.where(peaks[:, None, None] > 0, raw / np.where(peaks > 0, peaks, 1)[:, None, None], 0)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_gradient_shap_takes_twenty_rows_per_image_by_default():
    """The documented default ``num_samples=20``: path points given without ``num_samples`` are (images, 20);
    with every alpha 1/2 and the zero baseline, each row is the gradient at x / 2 times x (numpy).

    Mutation survivor caught (gradient_shap.py: the default 20 -> 21).
    """
    model = dense_model()
    x = _images((4, 4, 1), n=2)
    got = A.gradient_shap(model, x, [2, 0], alphas=np.full((2, 20), 0.5), reduce=None)
    want = np.stack([dense_gradient(model, 0.5 * x[i].astype("float64"), c) * x[i] for i, c in enumerate([2, 0])])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match=r"alphas must have shape \(images, num_samples\) = \(2, 20\)"):
        A.gradient_shap(model, x, [2, 0], alphas=np.full((2, 21), 0.5))
