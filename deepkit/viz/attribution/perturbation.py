"""Perturbation attribution: occlusion sensitivity (Zeiler & Fergus 2014).

Forward passes only: each image is evaluated with a square patch covered at every position,
and the drop of the class score is spread over the pixels the patch covered. All
(image, position) rows are cut into chunks of ``batch_size`` (see
:class:`deepkit.viz.engine.Engine`), so nothing is padded beyond the last chunk.

Example:
    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(3)])
    >>> occlusion(model, np.random.rand(1, 8, 8, 1), patch_size=4, stride=4).shape
    (1, 8, 8)
"""

import numpy as np

from deepkit.viz.attribution.inputs import positive_int, prepare
from deepkit.viz.attribution.registry import register

__all__ = ["occlusion"]


def _positions(size, patch, stride):
    last = max(size - patch, 0)  # the patch's last start: at the bottom/right edge (0 for a patch >= the image)
    starts = list(range(0, last + 1, stride))
    if starts[-1] != last:
        starts.append(last)
    return starts


def _occlusion_report_options(images):
    size = 4 if images is None else max(2, min(np.shape(images)[1:3]) // 8)
    return {"patch_size": size, "stride": max(1, size // 2)}


@register("perturbation", quick={"patch_size": 4, "stride": 4}, title="Occlusion", in_report=True,
          report=_occlusion_report_options, reference="Zeiler & Fergus 2014")
def occlusion(model, images, class_index=None, *, patch_size=4, stride=2, fill=0.0,
              score="probability", batch_size=64):
    """Occlusion sensitivity (Zeiler & Fergus 2014): how much the class probability drops
    when a square patch of the image is covered.

    Args:
        model: A classifier with image inputs.
        images: ``(N, H, W, C)`` array.
        class_index: ``None`` (predicted class), int, or one per image.
        patch_size: Side of the square occluder, in pixels (int or ``(ph, pw)``).
        stride: Step between occluder positions (int or ``(sh, sw)``); positions always
            reach the bottom/right edge.
        fill: Occluder value: a float, or ``"mean"`` for each image's mean pixel.
        score: ``"probability"`` (Zeiler & Fergus) or ``"logit"``; logits do not saturate,
            so they still rank regions when the model is certain (probability ~ 1).
        batch_size: Occluded images per compiled call.

    Returns:
        float32 array ``(N, H, W)``: for each pixel, the mean score drop
        ``s(x) - s(x occluded)`` over the occluder positions that cover it (positive where
        the evidence is).

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(3)])
        >>> occlusion(model, np.random.rand(2, 8, 8, 1), patch_size=4, stride=4).shape
        (2, 8, 8)
    """
    where = "occlusion"
    inputs = prepare(model, images, batch_size, where, image=True)
    eng, x, batch_size = inputs.engine, inputs.x, inputs.batch_size
    ph, pw = (patch_size, patch_size) if np.ndim(patch_size) == 0 else patch_size
    sh, sw = (stride, stride) if np.ndim(stride) == 0 else stride
    for name, v in (("patch_size", ph), ("patch_size", pw), ("stride", sh), ("stride", sw)):
        positive_int(v, name, where)
    H, W = inputs.hw
    masks = []
    for y0 in _positions(H, ph, sh):
        for x0 in _positions(W, pw, sw):
            m = np.zeros((H, W), "float32")
            m[y0 : y0 + ph, x0 : x0 + pw] = 1.0
            masks.append(m)
    masks = np.stack(masks)
    if isinstance(fill, str):
        if fill != "mean":
            raise ValueError(f"{where}: fill must be a number or 'mean'. Received: fill={fill!r}")
        fills = x.mean(axis=(1, 2, 3)).reshape(-1, 1, 1, 1)
    else:
        fills = np.full((len(x), 1, 1, 1), float(fill), "float32")
    if score not in ("probability", "logit"):
        raise ValueError(f"{where}: score must be 'probability' or 'logit'. Received: score={score!r}")
    logit = score == "logit"
    onehot = eng.resolved_targets(x, class_index, batch_size, where)
    # The clean image is row 0 of each image, the occluded copies rows 1..P: one pass.
    expand = (slice(None), None) if inputs.channel_axis == 1 else (slice(None), slice(None), slice(None), None)

    def make_rows(i, k):
        mk = masks[np.maximum(k - 1, 0)][expand] * (k > 0).reshape(-1, 1, 1, 1)
        return x[i] * (1.0 - mk) + fills[i] * mk

    scores = eng.row_scores(x, onehot, len(masks) + 1, make_rows, batch_size, logit)
    base, scores = scores[:, :1], scores[:, 1:]
    drop = base - scores  # (N, P)
    coverage = masks.sum(axis=0)
    heat = np.einsum("np,phw->nhw", drop, masks) / np.maximum(coverage, 1.0)
    return heat.astype("float32")
