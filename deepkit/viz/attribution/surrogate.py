"""Surrogate-model attribution: LIME (Ribeiro, Singh & Guestrin 2016) and KernelSHAP (Lundberg &
Lee 2017), forward passes only.

Both explain an image through ``M`` interpretable features, the regions of a ``feature_mask``
(integer labels over the image plane, all channels of a pixel together, as Captum's
``feature_mask``; default: a grid of square patches, :func:`grid_mask`). A coalition
``z in {0, 1}^M`` keeps the regions where ``z = 1`` and replaces the others by a baseline; the
model scores every coalition (all rows of all images chunked by the model's
:class:`~deepkit.viz.engine.Engine`) and a weighted linear model of the scores on the
coalitions is fitted with scikit-learn, one per image. Its coefficients, painted over their
regions, are the map.

- :func:`lime`: coalitions Bernoulli(1/2), weights ``exp(-d^2 / (2 w^2))`` with ``d`` the
  cosine distance between the image and the perturbed image, a Lasso (``alpha=0.01``): Captum's
  ``Lime`` defaults.
- :func:`kernel_shap`: the Shapley kernel. The first two rows are the full and the empty
  coalition, weighted 1e6 (to pin the intercept to the baseline's score and the sum of the
  coefficients to the score difference); the others have a size ``k`` drawn with probability
  proportional to ``(M - 1) / (k (M - k))``, ``0 < k < M``, and their ``k`` regions uniformly,
  weight 1; an unregularised weighted linear regression: Captum's ``KernelShap``. When
  ``num_samples >= 2^M`` every coalition is evaluated once instead and the weighted regression
  is solved with the two constraints exact: the result is then the exact Shapley values of
  the ``M`` regions.

The coalitions are drawn per image from ``(seed, image index)``, so maps do not depend on
``batch_size`` or on the other images; ``coalitions`` takes given ones instead (to reproduce
another library's).

Example:
    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(3)])
    >>> kernel_shap(model, np.random.rand(2, 8, 8, 1), patch_size=4).shape
    (2, 8, 8)
"""

import math

import numpy as np
from sklearn import base as sk_base
from sklearn import linear_model

from deepkit.viz.attribution.inputs import positive_int, prepare, to_channels_last
from deepkit.viz.attribution.registry import register

__all__ = ["lime", "kernel_shap", "grid_mask"]

#: Weight of the full and the empty coalition in sampled KernelSHAP (Captum's ``inf_weight``).
_INF_WEIGHT = 1e6
_SURROGATES = ("lasso", "ridge", "linear")


def grid_mask(size, patch_size=None):
    """A feature mask of square patches: region labels numbered row by row.

    Args:
        size: ``(H, W)`` of the images.
        patch_size: Side of a patch in pixels (int or ``(ph, pw)``; the last row / column of
            patches may be smaller); ``None``: ``ceil(min(H, W) / 8)``, about an 8 x 8 grid.

    Returns:
        int ``(H, W)`` array of labels ``0 .. M - 1``.

    Example:
        >>> grid_mask((4, 6), 2).tolist()
        [[0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2], [3, 3, 4, 4, 5, 5], [3, 3, 4, 4, 5, 5]]
    """
    height, width = (int(v) for v in size)
    if patch_size is None:
        patch_size = max(1, -(-min(height, width) // 8))
    ph, pw = (patch_size, patch_size) if np.ndim(patch_size) == 0 else tuple(patch_size)
    ph, pw = positive_int(ph, "patch_size", "grid_mask"), positive_int(pw, "patch_size", "grid_mask")
    rows = np.arange(height) // ph
    cols = np.arange(width) // pw
    return (rows[:, None] * (-(-width // pw)) + cols[None, :]).astype(int)


def _regions(feature_mask, n, hw, patch_size, where):
    """One ``(H, W)`` label array per image, labels ``0 .. M_i - 1`` (the sorted distinct values)."""
    if feature_mask is None:
        return [grid_mask(hw, patch_size)] * n
    mask = np.asarray(feature_mask)
    if mask.dtype.kind not in "iu":
        raise ValueError(f"{where}: feature_mask must hold integer region labels. "
                         f"Received: feature_mask.dtype={mask.dtype}")
    if mask.shape == tuple(hw):
        labels = np.unique(mask, return_inverse=True)[1].reshape(hw)
        return [labels] * n
    if mask.shape == (n,) + tuple(hw):
        return [np.unique(m, return_inverse=True)[1].reshape(hw) for m in mask]
    raise ValueError(f"{where}: feature_mask must have shape (H, W) = {tuple(hw)} or (N, H, W) = "
                     f"{(n,) + tuple(hw)}. Received: feature_mask.shape={mask.shape}")


def _baseline(x, baseline, where):
    if isinstance(baseline, str):
        if baseline != "mean":
            raise ValueError(f"{where}: baseline must be a float, 'mean' or an array broadcastable to the "
                             f"images. Received: baseline={baseline!r}")
        return np.broadcast_to(x.mean(axis=tuple(range(1, x.ndim)), keepdims=True), x.shape).astype("float32")
    try:
        return np.broadcast_to(np.asarray(0.0 if baseline is None else baseline, "float32"), x.shape).copy()
    except ValueError:
        raise ValueError(f"{where}: baseline must broadcast to images of shape {x.shape}. "
                         f"Received: baseline.shape={np.shape(baseline)}") from None


def _given(coalitions, sizes, where):
    """Check given coalitions: one ``(S_i, M_i)`` 0/1 array per image."""
    n = len(sizes)
    if isinstance(coalitions, np.ndarray) or not isinstance(coalitions, (list, tuple)):
        coalitions = np.asarray(coalitions)
        if coalitions.ndim != 3 or len(coalitions) != n:
            raise ValueError(f"{where}: coalitions must have shape (images, samples, regions) = "
                             f"({n}, S, {sizes[0]}) (or be a list of one (S, M) array per image). "
                             f"Received: coalitions.shape={coalitions.shape}")
    if len(coalitions) != n:
        raise ValueError(f"{where}: coalitions must hold one (samples, regions) array per image ({n}). "
                         f"Received: {len(coalitions)} arrays")
    out = []
    for i, (z, m) in enumerate(zip(coalitions, sizes)):
        z = np.asarray(z)
        if z.ndim != 2 or z.shape[1] != m or not len(z) or not np.isin(z, (0, 1)).all():
            raise ValueError(f"{where}: coalitions of image {i} must be a non-empty (samples, {m}) array of 0 and 1 "
                             f"({m} regions in its feature mask). Received: shape={z.shape}, "
                             f"values={np.unique(z)[:5].tolist()}")
        out.append(z.astype("float64"))
    return out


def _region_sums(a, labels, m):
    """Sum of ``a`` (``(H, W, C)``) over each region: ``(M,)``."""
    return np.bincount(labels.ravel(), weights=a.sum(axis=-1).ravel(), minlength=m)


def _evaluate(inputs, class_index, baseline, regions, coalitions, score, where):
    """Scores of every coalition of every image: a list of ``(S_i,)`` float64 arrays."""
    eng, x = inputs.engine, inputs.x
    if score not in ("probability", "logit"):
        raise ValueError(f"{where}: score must be 'probability' or 'logit'. Received: score={score!r}")
    onehot = eng.resolved_targets(x, class_index, inputs.batch_size, where)
    b = baseline
    samples = max(len(z) for z in coalitions)
    # Pixel masks are made per chunk: z[k][labels] is the region's bit at every pixel.
    expand = (slice(None), None) if inputs.channel_axis == 1 else (Ellipsis, None)

    def make_rows(i, k):
        keep = np.stack([coalitions[a][min(c, len(coalitions[a]) - 1)][regions[a]] for a, c in zip(i, k)])
        keep = keep[expand].astype("float32")
        return x[i] * keep + b[i] * (1.0 - keep)

    scores = eng.row_scores(x, onehot, samples, make_rows, inputs.batch_size, score == "logit")
    return [scores[i, :len(z)].astype("float64") for i, z in enumerate(coalitions)]


def _paint(coefs, regions):
    return np.stack([c[r] for c, r in zip(coefs, regions)]).astype("float32")


def _setup(model, images, batch_size, feature_mask, patch_size, baseline, num_samples, where):
    inputs = prepare(model, images, batch_size, where, image=True)
    num_samples = positive_int(num_samples, "num_samples", where)
    regions = _regions(feature_mask, len(inputs.x), inputs.hw, patch_size, where)
    sizes = [int(r.max()) + 1 for r in regions]
    return inputs, num_samples, regions, sizes, _baseline(inputs.x, baseline, where)


# ---------------------------------------------------------------------------------------- LIME


def _lime_coalitions(n, sizes, num_samples, seed):
    return [np.random.default_rng([seed, i]).integers(0, 2, (num_samples, m)).astype("float64")
            for i, m in zip(range(n), sizes)]


def _lime_weights(x, b, labels, m, z, distance, kernel_width):
    """Captum's ``get_exp_kernel_similarity_function``: ``exp(-d^2 / (2 w^2))`` between the image and
    each perturbed image, from per-region sums (the perturbed image is ``x`` where ``z = 1``, else ``b``)."""
    if distance == "cosine":
        xx, xb, bb = (_region_sums(p * q, labels, m) for p, q in ((x, x), (x, b), (b, b)))
        dot = z @ xx + (1 - z) @ xb
        norms = np.sqrt(xx.sum() * (z @ xx + (1 - z) @ bb))
        d = 1.0 - dot / np.maximum(norms, 1e-8)  # torch's CosineSimilarity (eps 1e-8)
    else:
        d = np.sqrt((1 - z) @ _region_sums((x - b) ** 2, labels, m))
    return np.exp(-(d ** 2) / (2.0 * kernel_width ** 2))


def _surrogate_model(surrogate, alpha, where):
    if isinstance(surrogate, str):
        if surrogate not in _SURROGATES:
            raise ValueError(f"{where}: surrogate must be one of {_SURROGATES} or a scikit-learn regressor. "
                             f"Received: surrogate={surrogate!r}")
        if surrogate == "linear":
            return linear_model.LinearRegression()
        return (linear_model.Lasso if surrogate == "lasso" else linear_model.Ridge)(alpha=alpha)
    if not (hasattr(surrogate, "fit") and hasattr(surrogate, "get_params")):
        raise ValueError(f"{where}: surrogate must be one of {_SURROGATES} or a scikit-learn regressor "
                         f"(with fit(X, y, sample_weight) and coef_). Received: surrogate={surrogate!r}")
    return surrogate


def _fit(estimator, z, y, w):
    model = sk_base.clone(estimator)
    model.fit(z, y, sample_weight=w)
    return np.ravel(model.coef_)


@register("perturbation", quick={"num_samples": 16, "patch_size": 4}, title="LIME", display="signed",
          order=3, report={"num_samples": 256}, reference="Ribeiro, Singh & Guestrin 2016")
def lime(model, images, class_index=None, *, feature_mask=None, patch_size=None, baseline=0.0,
         num_samples=256, surrogate="lasso", alpha=0.01, kernel_width=1.0, distance="cosine",
         score="logit", seed=0, coalitions=None, batch_size=64):
    """LIME (Ribeiro, Singh & Guestrin 2016): a sparse linear model of the class score on which
    regions are kept, fitted near the image.

    ``num_samples`` coalitions ``z ~ Bernoulli(1/2)^M`` per image; each perturbed image keeps the
    regions with ``z = 1`` and shows ``baseline`` elsewhere; a linear model (default: scikit-learn's
    ``Lasso(alpha=0.01)``) of the scores on ``z`` is fitted with sample weights
    ``exp(-d^2 / (2 kernel_width^2))``, ``d`` the cosine distance between the image and the
    perturbed image. Its coefficients are the map. Captum's ``Lime`` with its defaults.

    Args:
        model: A classifier with image inputs.
        images: ``(N, H, W, C)`` array (``(N, C, H, W)`` for a channels-first model).
        class_index: ``None`` (predicted class), int, or one per image.
        feature_mask: Integer region labels, ``(H, W)`` (shared) or ``(N, H, W)`` (one per image,
            e.g. superpixels); the regions are the distinct values. ``None``: :func:`grid_mask`.
        patch_size: Patch side of the default grid mask (``None``: about an 8 x 8 grid).
        baseline: What replaces a removed region: a float, ``"mean"`` (each image's mean), or
            an array broadcastable to ``images``.
        num_samples: Coalitions (model evaluations) per image.
        surrogate: ``"lasso"``, ``"ridge"``, ``"linear"`` or a scikit-learn regressor (cloned per
            image; fitted with ``sample_weight``; its ``coef_`` is the map).
        alpha: Regularisation of ``"lasso"`` and ``"ridge"``.
        kernel_width: ``w`` of the exponential kernel.
        distance: ``"cosine"`` (Captum's default) or ``"euclidean"`` (between the images).
        score: ``"logit"`` (the class logit, what Captum explains on a torch classifier's output)
            or ``"probability"`` (its softmax; small changes, which a Lasso's ``alpha`` may zero).
        seed: Seed of the coalitions (per image, from ``(seed, image index)``).
        coalitions: Optional given coalitions instead of drawn ones: ``(N, S, M)`` 0/1 (or a list
            of one ``(S, M_i)`` array per image); ``S`` replaces ``num_samples``.
        batch_size: Model evaluations per compiled call (all rows of all images are chunked).

    Returns:
        float32 array ``(N, H, W)``: each pixel shows its region's coefficient.

    Raises:
        ValueError: For a bad feature mask, baseline, surrogate, distance or coalitions.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(2)])
        >>> lime(model, np.random.rand(3, 4, 4, 1), patch_size=2, num_samples=32).shape
        (3, 4, 4)
    """
    where = "lime"
    inputs, num_samples, regions, sizes, b = _setup(model, images, batch_size, feature_mask, patch_size,
                                                   baseline, num_samples, where)
    if distance not in ("cosine", "euclidean"):
        raise ValueError(f"{where}: distance must be 'cosine' or 'euclidean'. Received: distance={distance!r}")
    if not kernel_width > 0:
        raise ValueError(f"{where}: kernel_width must be > 0. Received: kernel_width={kernel_width!r}")
    estimator = _surrogate_model(surrogate, alpha, where)
    n = len(inputs.x)
    z = (_lime_coalitions(n, sizes, num_samples, seed) if coalitions is None
         else _given(coalitions, sizes, where))
    scores = _evaluate(inputs, class_index, b, regions, z, score, where)
    xs = to_channels_last(inputs.x, inputs.channel_axis).astype("float64")
    bs = to_channels_last(b, inputs.channel_axis).astype("float64")
    coefs = [_fit(estimator, z[i], scores[i],
                  _lime_weights(xs[i], bs[i], regions[i], sizes[i], z[i], distance, float(kernel_width)))
             for i in range(n)]
    return _paint(coefs, regions)


# ---------------------------------------------------------------------------------- KernelSHAP


def _shap_coalitions(m, num_samples, rng):
    """Captum's ``kernel_shap_perturb_generator``: the full and the empty coalition, then sizes
    ``k ~ (M - 1) / (k (M - k))`` (``0 < k < M``) and ``k`` regions uniformly."""
    z = np.zeros((num_samples, m))
    z[0] = 1.0
    if m > 1 and num_samples > 2:
        k = np.arange(1, m)
        p = (m - 1) / (k * (m - k))
        sizes = rng.choice(k, size=num_samples - 2, p=p / p.sum())
        for row, size in enumerate(sizes, start=2):
            z[row, rng.permutation(m)[:size]] = 1.0
    return z[:num_samples]


def _all_coalitions(m):
    return ((np.arange(2 ** m)[:, None] >> np.arange(m)[None, :]) & 1).astype("float64")


def _shapley_kernel(z):
    """Captum's ``kernel_shap_similarity_kernel``: 1e6 for the empty and full coalitions, else 1
    (the sizes are drawn in proportion to the Shapley kernel already)."""
    size, m = z.sum(axis=1), z.shape[1]
    return np.where((size == 0) | (size == m), _INF_WEIGHT, 1.0)


def _exact_shapley(z, y):
    """Shapley values from every coalition: the Shapley-kernel weighted regression (Lundberg & Lee
    2017, theorem 2) with ``phi_0 = f(empty)`` and ``sum(phi) = f(full) - f(empty)`` imposed exactly
    by eliminating the last coefficient."""
    m = z.shape[1]
    size = z.sum(axis=1)
    f0, f1 = y[size == 0][0], y[size == m][0]
    if m == 1:
        return np.array([f1 - f0])
    mid = (size > 0) & (size < m)
    k = size[mid]
    w = (m - 1) / (np.array([math.comb(m, int(s)) for s in k]) * k * (m - k))
    last = z[mid, -1]
    design = z[mid, :-1] - last[:, None]
    target = y[mid] - f0 - last * (f1 - f0)
    head = _fit(linear_model.LinearRegression(fit_intercept=False), design, target, w)
    return np.append(head, f1 - f0 - head.sum())


@register("perturbation", quick={"num_samples": 12, "patch_size": 4}, title="KernelSHAP", display="signed",
          order=4, report={"num_samples": 256}, reference="Lundberg & Lee 2017")
def kernel_shap(model, images, class_index=None, *, feature_mask=None, patch_size=None, baseline=0.0,
                num_samples=256, score="logit", seed=0, coalitions=None, batch_size=64):
    """KernelSHAP (Lundberg & Lee 2017): Shapley values of the regions by a Shapley-kernel weighted
    linear regression of the class score on which regions are kept.

    Sampled (``num_samples < 2^M``, Captum's ``KernelShap``): rows 0 and 1 are the full and the
    empty coalition, weighted 1e6; the others draw a size ``k`` with probability proportional to
    ``(M - 1) / (k (M - k))`` and ``k`` regions uniformly, weight 1; a removed region shows
    ``baseline``; scikit-learn's ``LinearRegression`` (with intercept) of the scores on ``z``.
    Exact (``num_samples >= 2^M`` and no ``coalitions`` given): all ``2^M`` coalitions, weights
    ``(M - 1) / (C(M, |z|) |z| (M - |z|))``, the intercept and the sum of the coefficients
    constrained exactly: the Shapley values of the game ``v(S) = f(x_S, baseline_rest)``.
    The fits are in float64 (Captum's in float32: with few samples per region the weighted
    design is ill-conditioned and the two differ by more than rounding).

    Args:
        model: A classifier with image inputs.
        images: ``(N, H, W, C)`` array (``(N, C, H, W)`` for a channels-first model).
        class_index: ``None`` (predicted class), int, or one per image.
        feature_mask: Integer region labels, ``(H, W)`` (shared) or ``(N, H, W)`` (one per image);
            the regions are the distinct values. ``None``: :func:`grid_mask`.
        patch_size: Patch side of the default grid mask (``None``: about an 8 x 8 grid).
        baseline: What replaces a removed region: a float, ``"mean"`` (each image's mean), or
            an array broadcastable to ``images``.
        num_samples: Coalitions (model evaluations) per image, the full and the empty one included;
            at least ``2^M``: the ``2^M`` coalitions, once each (exact Shapley values).
        score: ``"logit"`` (the class logit, what Captum explains on a torch classifier's output)
            or ``"probability"`` (its softmax; small changes, which a Lasso's ``alpha`` may zero).
        seed: Seed of the coalitions (per image, from ``(seed, image index)``).
        coalitions: Optional given coalitions instead of drawn ones: ``(N, S, M)`` 0/1 (or a list
            of one ``(S, M_i)`` array per image), weighted as in the sampled case (1e6 for the
            full and the empty ones, else 1); ``S`` replaces ``num_samples``.
        batch_size: Model evaluations per compiled call (all rows of all images are chunked).

    Returns:
        float32 array ``(N, H, W)``: each pixel shows its region's Shapley value.

    Raises:
        ValueError: For a bad feature mask, baseline or coalitions.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(1, kernel_initializer="ones")])
        >>> kernel_shap(model, np.ones((1, 2, 2, 1)), 0, patch_size=1).round(4).tolist()
        [[[1.0, 1.0], [1.0, 1.0]]]
    """
    where = "kernel_shap"
    inputs, num_samples, regions, sizes, b = _setup(model, images, batch_size, feature_mask, patch_size,
                                                   baseline, num_samples, where)
    n = len(inputs.x)
    if coalitions is not None:
        z, exact = _given(coalitions, sizes, where), [False] * n
    else:
        exact = [num_samples >= 2 ** m for m in sizes]
        z = [_all_coalitions(m) if e else _shap_coalitions(m, num_samples, np.random.default_rng([seed, i]))
             for i, (m, e) in enumerate(zip(sizes, exact))]
    scores = _evaluate(inputs, class_index, b, regions, z, score, where)
    coefs = [_exact_shapley(z[i], scores[i]) if exact[i]
             else _fit(linear_model.LinearRegression(), z[i], scores[i], _shapley_kernel(z[i]))
             for i in range(n)]
    return _paint(coefs, regions)
