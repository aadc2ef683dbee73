"""ROAD, RemOve And Debias (Rong, Leemann, Borisov, Kasneci & Kasneci 2022, ICML).

Deletion curves replace pixels with a constant, and the model then reads *where* the pixels were
removed (the mask's shape leaks the class) rather than what is missing. ROAD fills the removed
pixels by **noisy linear imputation** instead: each removed pixel becomes the weighted mean of its
eight neighbours, direct neighbours weighing ``1/6`` and diagonal ones ``1/12``, the removed
neighbours being unknowns too, so one sparse linear system per image gives all the values at once;
then Gaussian noise of standard deviation ``noise`` (absolute, default 0.01) is added to every
imputed value. At the image border a pixel's missing neighbours are left out and the remaining
weights renormalised (the equation is ``sum_q w_q (x_p - x_q) = 0`` over the neighbours ``q`` inside
the image). The weights, the border rule and the noise are those of the authors' reference code
(``road/imputations.py``, ``NoisyLinearImputer``, github.com/tleemann/road_evaluation), which
Quantus' ``ROAD`` (``noisy_linear_imputation``) reuses; the system is solved with
``scipy.sparse.linalg.spsolve`` as there.

The metric (:func:`road`) removes, for each percentage ``p``, the ``floor(H * W * p / 100)`` pixels
ranked most relevant (MoRF) or least relevant (LeRF) by the attribution, imputes them, and records
whether the model still predicts the target class and the target class' probability. The paper
reports the **accuracy** (the fraction of images still classified correctly, the targets being the
true labels: pass them as ``class_index``), as Quantus' ``ROAD`` does; the reference code also
returns the mean probability of the class, given here per image.

Example:
    >>> img = np.zeros((3, 3, 1), "float32"); img[0, 0] = 6.0
    >>> removed = np.zeros((3, 3), bool); removed[1, 1] = True
    >>> float(noisy_linear_imputation(img, removed, noise=0.0)[1, 1, 0])  # 6 * (1/12) / 1
    0.5
"""

import numpy as np

from deepkit.viz.attribution.inputs import from_channels_last, prepare

__all__ = ["road", "noisy_linear_imputation", "removal_count", "NEIGHBOUR_WEIGHTS", "DEFAULT_PERCENTAGES"]

#: ``((row offset, column offset), weight)`` of the imputation (the reference code's).
NEIGHBOUR_WEIGHTS = (((-1, 0), 1 / 6), ((1, 0), 1 / 6), ((0, -1), 1 / 6), ((0, 1), 1 / 6),
                     ((-1, -1), 1 / 12), ((-1, 1), 1 / 12), ((1, -1), 1 / 12), ((1, 1), 1 / 12))

#: The removal percentages of the paper's figures.
DEFAULT_PERCENTAGES = (10, 20, 30, 40, 50, 60, 70, 80, 90)


def _system(removed):
    """The sparse matrix ``A`` and the known-neighbour weights of the imputation of one mask."""
    from scipy import sparse

    h, w = removed.shape
    rows, cols = np.nonzero(removed)
    k = len(rows)
    index = np.full((h, w), -1, np.int64)
    index[rows, cols] = np.arange(k)
    diag = np.zeros(k)
    a_rows, a_cols, a_vals = [], [], []
    known = []  # (equation, neighbour row, neighbour col, weight)
    for (dy, dx), weight in NEIGHBOUR_WEIGHTS:
        ny, nx = rows + dy, cols + dx
        inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
        eq = np.flatnonzero(inside)
        ny, nx = ny[inside], nx[inside]
        diag[eq] += weight
        other = index[ny, nx]
        unknown = other >= 0
        a_rows.append(eq[unknown])
        a_cols.append(other[unknown])
        a_vals.append(np.full(unknown.sum(), -weight))
        known.append((eq[~unknown], ny[~unknown], nx[~unknown], weight))
    a_rows.append(np.arange(k))
    a_cols.append(np.arange(k))
    a_vals.append(diag)
    matrix = sparse.csr_matrix((np.concatenate(a_vals), (np.concatenate(a_rows), np.concatenate(a_cols))),
                               shape=(k, k))
    return matrix, known, rows, cols


def noisy_linear_imputation(image, removed, *, noise=0.01, rng=None):
    """ROAD's noisy linear imputation of the ``removed`` pixels of one image (module docstring).

    Each removed pixel ``p`` solves ``sum_q w_q (x_p - x_q) = 0`` over its neighbours ``q`` inside
    the image (``w = 1/6`` direct, ``1/12`` diagonal), known neighbours with their values, every
    channel separately; then ``noise * N(0, 1)`` is added to each imputed value.

    Args:
        image: ``(H, W, C)`` array.
        removed: ``(H, W)`` boolean mask of the pixels to impute (not all of them: the system
            needs one known pixel).
        noise: Standard deviation of the added Gaussian noise (absolute; 0 for none).
        rng: A ``numpy.random.Generator`` for the noise (default ``default_rng(0)``); the noise of
            the ``k`` removed pixels is ``rng.standard_normal((k, C))``, pixels in row-major order.

    Returns:
        float32 ``(H, W, C)``: the known pixels unchanged, the removed ones imputed.

    Raises:
        ValueError: For shapes that do not match or a mask that removes every pixel.

    Example:
        >>> img = np.arange(9, dtype="float32").reshape(3, 3, 1)
        >>> removed = np.zeros((3, 3), bool); removed[1] = True
        >>> noisy_linear_imputation(img, removed, noise=0.0)[1, :, 0].round(3).tolist()  # border: 5 neighbours
        [3.5, 4.0, 4.5]
    """
    from scipy.sparse.linalg import spsolve

    where = "noisy_linear_imputation"
    image = np.asarray(image, "float64")
    removed = np.asarray(removed, bool)
    if image.ndim != 3 or removed.shape != image.shape[:2]:
        raise ValueError(f"{where}: image must be (H, W, C) and removed (H, W). "
                         f"Received: image.shape={image.shape}, removed.shape={removed.shape}")
    if removed.all():
        raise ValueError(f"{where}: every pixel is removed, so no known pixel anchors the imputation. "
                         f"Received: a mask removing all {removed.size} pixels")
    if not noise >= 0:
        raise ValueError(f"{where}: noise must be >= 0. Received: noise={noise!r}")
    out = image.copy()
    if not removed.any():
        return out.astype("float32")
    matrix, known, rows, cols = _system(removed)
    rhs = np.zeros((len(rows), image.shape[2]))
    for eq, ny, nx, weight in known:
        np.add.at(rhs, eq, weight * image[ny, nx])
    solution = spsolve(matrix.tocsc(), rhs)
    solution = solution.reshape(len(rows), image.shape[2])
    if noise:
        rng = np.random.default_rng(0) if rng is None else rng
        solution = solution + noise * rng.standard_normal(solution.shape)
    out[rows, cols] = solution
    return out.astype("float32")


def removal_count(height, width, percentage):
    """Pixels removed at ``percentage``: ``floor(H * W * percentage / 100)`` (the reference code's).

    Args:
        height: ``H``.
        width: ``W``.
        percentage: In ``[0, 100)``.

    Returns:
        int.

    Example:
        >>> removal_count(4, 4, 30)
        4
    """
    return int(np.floor(height * width * percentage / 100.0 + 1e-9))


def road(model, images, heatmaps, class_index=None, *, percentages=DEFAULT_PERCENTAGES, order="morf",
         noise=0.01, seed=0, batch_size=64):
    """ROAD (Rong et al. 2022): the model's accuracy as pixels are removed and linearly imputed.

    For each percentage ``p``, the ``floor(H * W * p / 100)`` pixels ranked first by ``heatmaps``
    (``order="morf"``: most relevant first, the highest values; ``"lerf"``: least relevant first,
    the lowest) are replaced, in all channels, by :func:`noisy_linear_imputation`, and the model
    is asked again. A faithful attribution makes the MoRF accuracy fall fast (and the LeRF one
    stay high). Ties are broken by pixel order (row-major), where the reference code adds a
    ``1e-4`` random perturbation to the map. ``p`` is the fraction *removed* in both orders (the
    reference code's LeRF at ``th_p = p`` keeps the top ``p`` and removes the rest, our ``100 - p``).

    Args:
        model: A classifier with image inputs (channels last or first).
        images: ``(N, H, W, C)`` array (``(N, C, H, W)`` for a channels-first model).
        heatmaps: ``(N, H, W)`` attributions.
        class_index: The targets: ``None`` (the predicted class of the clean image), an int, or one
            per image (the true labels give the paper's accuracy).
        percentages: Removal percentages, each in ``[0, 100)``.
        order: ``"morf"`` or ``"lerf"``.
        noise: Standard deviation of the imputation noise (absolute, in input units).
        seed: Seed of the noise: image ``i`` draws from ``numpy.random.default_rng([seed, i])``,
            one :func:`noisy_linear_imputation` per percentage, in the given order.
        batch_size: Images per compiled call.

    Returns:
        ``(correct, probability)``: bool ``(N, P)``, whether the model's predicted class of each
        imputed image is the target (for a one-output model: whether the probability is at least
        0.5), and float32 ``(N, P)``, the target class' probability (softmax of the logits, sigmoid
        for one output). ``correct.mean(axis=0)`` is the accuracy curve over ``percentages``.

    Raises:
        ValueError: For shapes that do not fit, a percentage outside ``[0, 100)`` or an unknown order.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(3)])
        >>> correct, prob = road(model, np.random.rand(2, 4, 4, 1), np.random.rand(2, 4, 4),
        ...                      percentages=(25, 50))
        >>> correct.shape, prob.shape
        ((2, 2), (2, 2))
    """
    where = "road"
    inputs = prepare(model, images, batch_size, where, image=True)
    eng, x = inputs.engine, inputs.channels_last()
    n, height, width = x.shape[:3]
    heat = np.asarray(heatmaps, "float64")
    if heat.shape != (n, height, width):
        raise ValueError(f"{where}: heatmaps must have shape {(n, height, width)}. "
                         f"Received: heatmaps.shape={heat.shape}")
    if order not in ("morf", "lerf"):
        raise ValueError(f"{where}: order must be 'morf' or 'lerf'. Received: order={order!r}")
    pcts = np.asarray(percentages, "float64").reshape(-1)
    if not len(pcts) or not ((pcts >= 0) & (pcts < 100)).all():
        raise ValueError(f"{where}: percentages must be a non-empty list of numbers in [0, 100). "
                         f"Received: percentages={percentages!r}")
    if not noise >= 0:
        raise ValueError(f"{where}: noise must be >= 0. Received: noise={noise!r}")
    onehot = eng.resolved_targets(inputs.x, class_index, inputs.batch_size, where)
    targets = onehot.argmax(-1)
    ranking = -heat.reshape(n, -1) if order == "morf" else heat.reshape(n, -1)
    ranked = np.argsort(ranking, axis=1, kind="stable")
    imputed = np.empty((len(pcts),) + x.shape, "float32")
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        for j, p in enumerate(pcts):
            removed = np.zeros(height * width, bool)
            removed[ranked[i, :removal_count(height, width, p)]] = True
            imputed[j, i] = noisy_linear_imputation(x[i], removed.reshape(height, width), noise=noise, rng=rng)
    rows = from_channels_last(imputed.reshape((-1,) + x.shape[1:]), inputs.channel_axis)
    logits = eng.predict_logits(rows, inputs.batch_size).astype("float64").reshape(len(pcts), n, -1)
    tgt = np.broadcast_to(targets, (len(pcts), n))
    if logits.shape[-1] == 1:
        prob = 1.0 / (1.0 + np.exp(-logits[..., 0]))
        correct = prob >= 0.5
    else:
        shifted = np.exp(logits - logits.max(-1, keepdims=True))
        prob = np.take_along_axis(shifted / shifted.sum(-1, keepdims=True), tgt[..., None], -1)[..., 0]
        correct = logits.argmax(-1) == tgt
    return correct.T.copy(), prob.T.astype("float32")
