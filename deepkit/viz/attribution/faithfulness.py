"""More measures of an attribution: sparseness, faithfulness correlation, max-sensitivity.

- :func:`sparseness` (Chalasani et al. 2020): the Gini index of the absolute attributions, 0
  for a uniform map, near 1 when a few pixels hold everything;
- :func:`faithfulness_correlation` (Bhatt, Weller & Moura 2020): the Pearson correlation, over
  random pixel subsets, between the attributions' sum on the subset and the score drop when the
  subset is replaced by a baseline;
- :func:`max_sensitivity` (Yeh et al. 2019): the largest change of the explanation under small
  uniform perturbations of the input.

They are exported by :mod:`deepkit.viz.attribution.metrics`.

Example:
    >>> sparseness(np.ones((1, 4, 4))).round(6).tolist()
    [0.0]
"""

import numpy as np

from deepkit.viz.attribution.inputs import positive_int, prepare

__all__ = ["sparseness", "faithfulness_correlation", "max_sensitivity", "random_subsets"]


def sparseness(heatmaps):
    """Sparseness (Chalasani et al. 2020): the Gini index of each map's absolute values.

    ``G = sum_k (2k - d - 1) a_(k) / (d sum_k a_(k))`` with ``a_(1) <= ... <= a_(d)`` the sorted
    absolute attributions of the ``d`` pixels: 0 for a uniform map, ``(d - 1) / d`` for one pixel.

    Args:
        heatmaps: ``(N, ...)`` attributions.

    Returns:
        float32 ``(N,)`` (0 for an all-zero map).

    Example:
        >>> m = np.zeros((1, 2, 2)); m[0, 0, 0] = 5.0
        >>> sparseness(m).tolist()
        [0.75]
    """
    a = np.sort(np.abs(np.asarray(heatmaps, "float64")).reshape(len(heatmaps), -1), axis=1)
    d = a.shape[1]
    k = np.arange(1, d + 1)
    total = a.sum(axis=1)
    gini = ((2 * k - d - 1) * a).sum(axis=1) / np.where(total > 0, d * total, 1.0)
    return np.where(total > 0, gini, 0.0).astype("float32")


def random_subsets(num_pixels, subset_size, num_subsets, seed, image):
    """The random pixel subsets of :func:`faithfulness_correlation` for one image.

    Drawn from ``numpy.random.default_rng([seed, image])``, each without replacement.

    Args:
        num_pixels: ``H * W``.
        subset_size: Pixels per subset.
        num_subsets: Number of subsets.
        seed: The seed.
        image: The image's index in its batch.

    Returns:
        int ``(num_subsets, subset_size)`` flat pixel indices.

    Example:
        >>> random_subsets(16, 3, 2, 0, 0).shape
        (2, 3)
    """
    rng = np.random.default_rng([seed, image])
    return np.stack([rng.choice(num_pixels, subset_size, replace=False) for _ in range(num_subsets)])


def faithfulness_correlation(model, images, heatmaps, class_index=None, *, subset_size=None,
                             num_subsets=100, baseline=0.0, score="probability", seed=0, batch_size=64):
    """Faithfulness correlation (Bhatt, Weller & Moura 2020, eq. 3).

    For ``num_subsets`` random subsets ``S`` of ``subset_size`` pixels (:func:`random_subsets`),
    the Pearson correlation between ``sum_{i in S} a_i`` and ``f(x) - f(x_[S = baseline])``:
    near 1 when the pixels an attribution ranks high are those whose removal costs the score.

    Args:
        model: A classifier with image inputs.
        images: ``(N, H, W, C)`` array.
        heatmaps: ``(N, H, W)`` attributions.
        class_index: ``None`` (predicted class of the clean image), int, or one per image.
        subset_size: Pixels per subset; default ``H * W // 8``.
        num_subsets: Number of random subsets.
        baseline: Value of the replaced pixels (all channels).
        score: ``"probability"`` or ``"logit"``.
        seed: Seed of the subsets.
        batch_size: Rows per compiled call.

    Returns:
        float32 ``(N,)`` correlations (0 where either side is constant).

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(2)])
        >>> faithfulness_correlation(model, np.random.rand(2, 4, 4, 1), np.random.rand(2, 4, 4),
        ...                          num_subsets=5).shape
        (2,)
    """
    where = "faithfulness_correlation"
    inputs = prepare(model, images, batch_size, where, image=True)
    eng, x = inputs.engine, inputs.channels_last()
    height, width = x.shape[1:3]
    heat = np.asarray(heatmaps, "float64")
    if heat.shape != x.shape[:3]:
        raise ValueError(f"{where}: heatmaps must have shape {x.shape[:3]}. Received: heatmaps.shape={heat.shape}")
    subset_size = positive_int(max(1, height * width // 8) if subset_size is None else subset_size,
                               "subset_size", where)
    if subset_size > height * width:
        raise ValueError(f"{where}: subset_size must be at most H * W = {height * width}. "
                         f"Received: subset_size={subset_size}")
    num_subsets = positive_int(num_subsets, "num_subsets", where)
    if score not in ("probability", "logit"):
        raise ValueError(f"{where}: score must be 'probability' or 'logit'. Received: score={score!r}")
    n = len(x)
    subsets = np.stack([random_subsets(height * width, subset_size, num_subsets, seed, i) for i in range(n)])
    masks = np.zeros((n, num_subsets, height * width), bool)
    np.put_along_axis(masks, subsets, True, axis=2)
    masks = masks.reshape(n, num_subsets, height, width)
    onehot = eng.resolved_targets(inputs.x, class_index, inputs.batch_size, where)
    axis = inputs.channel_axis

    def make_rows(i, k):
        mk = masks[i, np.maximum(k - 1, 0)] & (k > 0)[:, None, None]  # row 0: the clean image
        rows = np.where(mk[..., None], np.float32(baseline), x[i])
        return rows if axis == -1 else np.moveaxis(rows, -1, 1)

    scores = eng.row_scores(inputs.x, onehot, num_subsets + 1, make_rows, inputs.batch_size,
                            logit=score == "logit").astype("float64")
    drops = scores[:, :1] - scores[:, 1:]
    sums = np.einsum("nkhw,nhw->nk", masks, heat)
    out = np.zeros(n)
    for i in range(n):
        a, b = sums[i] - sums[i].mean(), drops[i] - drops[i].mean()
        den = np.sqrt((a * a).sum() * (b * b).sum())
        out[i] = (a * b).sum() / den if den > 0 else 0.0
    return out.astype("float32")


def max_sensitivity(method, model, images, class_index=None, *, radius=0.02, num_samples=10,
                    normalize=False, seed=0, batch_size=64, **options):
    """Max-sensitivity (Yeh et al. 2019, definition 3.1), estimated by Monte Carlo.

    ``max_j ||Phi(x + d_j) - Phi(x)||_2`` over ``num_samples`` perturbations ``d_j`` uniform in
    the L-infinity ball of radius ``radius``, the explanation ``Phi`` taken for the clean image's
    class; low is better (an explanation that does not jump under imperceptible changes).

    Args:
        method: A registered attribution method or its name.
        model: A classifier.
        images: ``(N, H, W, C)`` array.
        class_index: ``None`` (predicted class of the clean image), int, or one per image.
        radius: Radius of the perturbations, in input units.
        num_samples: Perturbations per image.
        normalize: Divide by ``||Phi(x)||_2`` (as Quantus' default).
        seed: Seed of the perturbations (numpy, per image from ``(seed, index)``).
        batch_size: Passed to the method.
        **options: Options of the method.

    Returns:
        float32 ``(N,)``.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(2)])
        >>> max_sensitivity("saliency", model, np.random.rand(2, 4, 4, 1), num_samples=3).tolist()
        [0.0, 0.0]
    """
    from deepkit.viz.attribution import registry

    where = "max_sensitivity"
    name = method if isinstance(method, str) else getattr(method, "__name__", repr(method))
    function = registry.get_method(name).function
    inputs = prepare(model, images, batch_size, where)
    x, eng = inputs.x, inputs.engine
    num_samples = positive_int(num_samples, "num_samples", where)
    if not radius >= 0:
        raise ValueError(f"{where}: radius must be >= 0. Received: radius={radius!r}")
    targets = eng.resolved_targets(x, class_index, inputs.batch_size, where).argmax(-1)
    clean = np.asarray(function(eng.model, x, targets, batch_size=inputs.batch_size, **options), "float64")
    n = len(x)
    noise = np.stack([np.random.default_rng([seed, i]).uniform(-radius, radius, (num_samples,) + x.shape[1:])
                      for i in range(n)]).astype("float32")
    noisy = (x[:, None] + noise).reshape((n * num_samples,) + x.shape[1:])
    maps = np.asarray(function(eng.model, noisy, np.repeat(targets, num_samples), batch_size=inputs.batch_size,
                               **options), "float64").reshape((n, num_samples) + clean.shape[1:])
    diffs = np.sqrt(((maps - clean[:, None]) ** 2).reshape(n, num_samples, -1).sum(-1)).max(axis=1)
    if normalize:
        norm = np.sqrt((clean**2).reshape(n, -1).sum(-1))
        diffs = diffs / np.where(norm > 0, norm, 1.0)
    return diffs.astype("float32")
