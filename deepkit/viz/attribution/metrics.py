"""Evaluation of attributions: deletion / insertion curves, the pointing game, sanity checks.

Deletion / insertion (Petsiuk, Das & Saenko 2018, RISE) measure how fast the class
probability falls (rises) as pixels are removed (added) in the order an attribution ranks
them; the pointing game (Zhang et al. 2016) asks whether a map's maximum lies on the object;
:func:`randomized_model` gives the randomised-weight copies of the Adebayo et al. 2018
sanity checks; :func:`sparseness`, :func:`faithfulness_correlation` and :func:`max_sensitivity`
are in :mod:`.faithfulness`, :func:`road` (ROAD, Rong et al. 2022: accuracy under noisy linear
imputation of the removed pixels) and :func:`noisy_linear_imputation` in :mod:`.road_metric`; all are
exported here.

Example:
    >>> pointing_game(np.eye(3)[None], [[0, 0, 1, 1]]).tolist()
    [True]
"""

import keras
import numpy as np

from deepkit.viz import graph
from deepkit.viz.attribution.faithfulness import faithfulness_correlation, max_sensitivity, sparseness
from deepkit.viz.attribution.road_metric import noisy_linear_imputation, road
from deepkit.viz.engine import check_batch_size, engine


__all__ = ["deletion_insertion", "pointing_game", "randomized_model", "sparseness", "faithfulness_correlation",
           "max_sensitivity", "road", "noisy_linear_imputation"]


def deletion_insertion(model, images, heatmaps, class_index=None, *, mode="deletion",
                       steps=20, baseline=0.0, batch_size=64):
    """Deletion / insertion curves (Petsiuk, Das & Saenko 2018, RISE).

    Deletion removes pixels from the image in decreasing order of attribution (replacing
    them with ``baseline``) and records the class probability after each step: a good
    attribution makes it fall fast (small area under the curve). Insertion starts from the
    baseline and adds pixels in the same order: a good attribution makes it rise fast
    (large area).

    Args:
        model: A classifier with image inputs.
        images: ``(N, H, W, C)`` array.
        heatmaps: ``(N, H, W)`` attributions (higher = more important). Ties are broken by
            pixel order.
        class_index: ``None`` (predicted class of the clean image), int, or one per image.
        mode: ``"deletion"`` or ``"insertion"``.
        steps: Number of steps; step ``t`` changes ``round(t / steps * H * W)`` pixels.
        baseline: Value of removed pixels: a float, an array broadcastable to images, or
            ``"blur"`` for a Gaussian-blurred copy of each image (sigma = 1/8 of the image
            size), which RISE uses for insertion so that the curve measures the evidence in
            the details rather than the appearance of any pixels at all.
        batch_size: Images per compiled call.

    Returns:
        ``(curves, auc)``: ``curves`` float32 ``(N, steps + 1)`` probabilities at fractions
        ``0, 1/steps, ..., 1``; ``auc`` float32 ``(N,)``, the trapezoidal area under each
        curve over the fraction axis [0, 1].

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(2)])
        >>> x = np.random.rand(3, 4, 4, 1)
        >>> curves, auc = deletion_insertion(model, x, np.random.rand(3, 4, 4), steps=4)
        >>> curves.shape, auc.shape
        ((3, 5), (3,))
    """
    where = "deletion_insertion"
    if mode not in ("deletion", "insertion"):
        raise ValueError(f"{where}: mode must be 'deletion' or 'insertion'. Received: mode={mode!r}")
    eng = engine(model)
    x = eng.images(images, where)
    batch_size = check_batch_size(batch_size, where)
    heat = np.asarray(heatmaps, "float32")
    if heat.shape != x.shape[:3]:
        raise ValueError(f"{where}: heatmaps must have shape {x.shape[:3]}. Received: heatmaps.shape={heat.shape}")
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"{where}: steps must be a positive integer. Received: steps={steps!r}")
    if isinstance(baseline, str):
        if baseline != "blur":
            raise ValueError(f"{where}: baseline must be a number, an array or 'blur'. Received: baseline={baseline!r}")
        base = gaussian_blur(x, sigma=max(x.shape[1:3]) / 8.0)
    else:
        base = np.broadcast_to(np.asarray(baseline, "float32"), x.shape)
    n, H, W = heat.shape
    order = np.argsort(-heat.reshape(n, -1), axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(n)[:, None], order] = np.arange(H * W)[None]
    rank = rank.reshape(n, H, W)
    counts = np.round(np.linspace(0, 1, steps + 1) * H * W).astype(int)
    onehot = eng.resolved_targets(x, class_index, batch_size, where)

    def make_rows(i, k):
        changed = (rank[i] < counts[k][:, None, None])[..., None]  # (R, H, W, 1)
        if mode == "deletion":
            return np.where(changed, base[i], x[i])
        return np.where(changed, x[i], base[i])

    curves = eng.row_scores(x, onehot, steps + 1, make_rows, batch_size)
    auc = ((curves[:, 1:] + curves[:, :-1]) / 2.0).sum(axis=1) / steps
    return curves.astype("float32"), auc.astype("float32")


def gaussian_blur(x, sigma):
    """Separable Gaussian blur of ``(N, H, W, C)`` images in numpy (reflecting borders).

    The ``"blur"`` baseline of :func:`deletion_insertion` (RISE).

    Args:
        x: ``(N, H, W, C)`` array.
        sigma: Standard deviation in pixels.

    Returns:
        float32 array of the same shape.

    Example:
        >>> x = np.zeros((1, 9, 9, 1), "float32"); x[0, 4, 4] = 1
        >>> round(float(gaussian_blur(x, 1.0).sum()), 3)
        1.0
    """
    radius = max(int(3 * sigma), 1)
    t = np.arange(-radius, radius + 1)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    k = (k / k.sum()).astype("float32")
    out = x
    for axis in (1, 2):
        pad = [(0, 0)] * 4
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="reflect" if out.shape[axis] > radius else "edge")
        out = sum(
            k[i] * np.take(padded, np.arange(i, i + out.shape[axis]), axis=axis)
            for i in range(len(k))
        )
    return out.astype("float32")


def pointing_game(heatmaps, boxes, tolerance=0):
    """Pointing game (Zhang et al. 2016): is each heatmap's maximum inside the object?

    Args:
        heatmaps: ``(N, H, W)`` attributions.
        boxes: ``(N, 4)`` boxes ``(y0, x0, y1, x1)`` in pixels, end exclusive, or ``(N, H, W)``
            boolean masks of the object.
        tolerance: Pixels the box is grown by on every side (15 px in the original paper at
            224 px resolution).

    Returns:
        Boolean array ``(N,)``: ``True`` where the maximum is a hit. With several maxima,
        the first in row-major order counts.

    Example:
        >>> heat = np.zeros((2, 5, 5)); heat[0, 1, 1] = 1; heat[1, 4, 4] = 1
        >>> pointing_game(heat, [[0, 0, 2, 2], [0, 0, 2, 2]]).tolist()
        [True, False]
    """
    heat = np.asarray(heatmaps, "float32")
    if heat.ndim != 3:
        raise ValueError(f"pointing_game: heatmaps must be (N, H, W). Received: heatmaps.shape={heat.shape}")
    n, H, W = heat.shape
    boxes = np.asarray(boxes)
    if boxes.shape == heat.shape:
        region = boxes.astype(bool)
        if tolerance:
            grown = region.copy()
            for dy in range(-tolerance, tolerance + 1):
                for dx in range(-tolerance, tolerance + 1):
                    grown |= np.roll(np.roll(region, dy, axis=1), dx, axis=2)
            region = grown
    elif boxes.shape == (n, 4):
        region = np.zeros((n, H, W), bool)
        for i, (y0, x0, y1, x1) in enumerate(boxes.astype(int)):
            region[i, max(y0 - tolerance, 0) : y1 + tolerance, max(x0 - tolerance, 0) : x1 + tolerance] = True
    else:
        raise ValueError(
            f"pointing_game: boxes must be (N, 4) or masks shaped like heatmaps {heat.shape}. "
            f"Received: boxes.shape={boxes.shape}"
        )
    flat = heat.reshape(n, -1).argmax(axis=1)
    ys, xs = np.unravel_index(flat, (H, W))
    return region[np.arange(n), ys, xs]


def randomized_model(model, layers=None, seed=None):
    """A copy of ``model`` with some or all layers re-initialised (Adebayo et al. 2018).

    The "model parameter randomisation test": an attribution method that explains the model
    must give different maps for the trained model and a copy with random weights.
    Cascading randomisation (from the top layer down) is done by passing growing lists.

    Args:
        model: A functional or Sequential ``keras.Model``.
        layers: ``None`` to re-initialise every layer, or a list of layers (index, name or
            object of ``model``) to re-initialise; the others keep ``model``'s weights.
        seed: If given, ``keras.utils.set_random_seed(seed)`` is called first so the new
            weights are reproducible (this resets the global random state).

    Returns:
        A new ``keras.Model`` with the same architecture; ``model`` is unchanged.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="a"),
        ...                           keras.layers.Dense(2, name="b")])
        >>> r = randomized_model(model, layers=["b"], seed=0)
        >>> bool(np.allclose(r.get_layer("a").kernel, model.get_layer("a").kernel))
        True
        >>> bool(np.allclose(r.get_layer("b").kernel, model.get_layer("b").kernel))
        False
    """
    if seed is not None:
        keras.utils.set_random_seed(seed)
    fresh = keras.models.clone_model(model)
    if layers is None:
        return fresh
    chosen = {id(graph.resolve_layer(model, layer)) for layer in layers}
    result = keras.models.clone_model(model)
    result.set_weights(model.get_weights())
    for original, new_layer, fresh_layer in zip(model.layers, result.layers, fresh.layers):
        if id(original) in chosen:
            new_layer.set_weights(fresh_layer.get_weights())
    return result
