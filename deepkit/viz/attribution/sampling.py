"""Attribution by random masks: RISE (Petsiuk, Das & Saenko 2018).

Forward passes only: each image is evaluated under ``num_masks`` random smooth masks and every
pixel's saliency is the class probability averaged over the masks, each weighted by how much
the mask kept that pixel. The masks are drawn once per call from ``seed`` (shared by all images,
as in the paper) and the masked copies are chunked by the model's engine.

Example:
    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(3)])
    >>> rise(model, np.random.rand(2, 8, 8, 1), num_masks=16).shape
    (2, 8, 8)
"""

import numpy as np
from keras import ops

from deepkit.backend import gradients
from deepkit.viz.attribution.inputs import positive_int, prepare
from deepkit.viz.attribution.registry import register

__all__ = ["rise", "rise_masks"]


def rise_masks(size, num_masks=1000, cells=7, p=0.5, seed=0):
    """RISE's random masks (Petsiuk et al. 2018, section 3.2).

    A ``cells x cells`` grid of independent Bernoulli(``p``) ones is upsampled bilinearly to
    ``(cells + 1) * ceil(H / cells)`` pixels a side and cropped at a random shift of up to one
    cell, so the masks are smooth and not aligned to the grid.

    Args:
        size: ``(H, W)``.
        num_masks: Number of masks.
        cells: Grid size ``s``.
        p: Probability that a grid cell is kept.
        seed: Seed (numpy ``default_rng``).

    Returns:
        float32 ``(num_masks, H, W)`` in [0, 1].

    Example:
        >>> rise_masks((8, 8), num_masks=3, cells=2).shape
        (3, 8, 8)
    """
    height, width = (int(v) for v in size)
    rng = np.random.default_rng(seed)
    grid = (rng.random((num_masks, cells, cells)) < p).astype("float32")
    ch, cw = -(-height // cells), -(-width // cells)
    big = ((cells + 1) * ch, (cells + 1) * cw)
    with gradients.no_grad():
        up = gradients.to_numpy(ops.image.resize(ops.convert_to_tensor(grid[..., None]), big,
                                                 interpolation="bilinear"))[..., 0]
    dy = rng.integers(0, ch, num_masks)
    dx = rng.integers(0, cw, num_masks)
    return np.stack([up[k, dy[k]:dy[k] + height, dx[k]:dx[k] + width] for k in range(num_masks)]).astype("float32")


@register("perturbation", quick={"num_masks": 16}, title="RISE", display="heat", order=2,
          report={"num_masks": 500}, reference="Petsiuk, Das & Saenko 2018")
def rise(model, images, class_index=None, *, num_masks=1000, cells=7, p=0.5, seed=0, batch_size=64):
    """RISE (Petsiuk, Das & Saenko 2018): saliency from the scores of randomly masked images.

    ``S(x) = 1 / (N p) * sum_k f_c(x * M_k) M_k`` over ``N`` masks ``M_k`` (:func:`rise_masks`),
    ``f_c`` the class probability: the expected score given that the pixel was kept.

    Args:
        model: A classifier with image inputs.
        images: ``(N, H, W, C)`` array.
        class_index: ``None`` (predicted class of the clean image), int, or one per image.
        num_masks: Number of masks (the paper uses 4,000-8,000 for ImageNet).
        cells: Grid size of the masks.
        p: Probability that a grid cell is kept.
        seed: Seed of the masks.
        batch_size: Masked images per compiled call.

    Returns:
        float32 array ``(N, H, W)``.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(3)])
        >>> rise(model, np.random.rand(2, 8, 8, 1), num_masks=8, cells=2).shape
        (2, 8, 8)
    """
    where = "rise"
    inputs = prepare(model, images, batch_size, where, image=True)
    eng, x = inputs.engine, inputs.x
    num_masks = positive_int(num_masks, "num_masks", where)
    cells = positive_int(cells, "cells", where)
    if not 0 < p <= 1:
        raise ValueError(f"{where}: p must be in (0, 1]. Received: p={p!r}")
    onehot = eng.resolved_targets(x, class_index, inputs.batch_size, where)
    masks = rise_masks(inputs.hw, num_masks, cells, p, seed)
    expand = (slice(None), None) if inputs.channel_axis == 1 else (slice(None), slice(None), slice(None), None)

    def make_rows(i, k):
        return x[i] * masks[k][expand]

    scores = eng.row_scores(x, onehot, num_masks, make_rows, inputs.batch_size)
    return (np.einsum("nk,khw->nhw", scores, masks) / (num_masks * p)).astype("float32")
