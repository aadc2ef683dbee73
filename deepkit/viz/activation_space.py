"""Activation atlas (Carter, Armstrong, Schubert, Johnson & Olah 2019): what a layer represents, as a map.

A single unit's feature visualization shows one direction of a layer's activation space; real images
use combinations. The activation atlas samples many *spatial* activation vectors of a layer (one per
image position, over a data set), lays them out in 2-D (PCA or t-SNE, where the paper used UMAP), bins
the layout into a grid, and draws each occupied cell by feature visualization of the cell's *mean*
activation vector (the objective: the spatial mean of the activations' dot product with it). Cells with
many vectors are the layer's common states; neighbouring cells are similar states.

Choices, against the paper: the 2-D layout is scikit-learn's (PCA by default, deterministic and fast;
``method="tsne"`` for the paper's non-linear look), and the objective is the dot product, not the
paper's dot product times cosine similarity. All cells are rendered in one batch.

Example:
    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu",
    ...                       name="c")])
    >>> x = np.random.default_rng(0).random((20, 8, 8, 1)).astype("float32")
    >>> atlas = activation_atlas(m, x, "c", grid=3, steps=4, min_count=1)
    >>> atlas.counts.shape, int(atlas.counts.sum()), atlas.images.shape[1:]
    ((3, 3), 720, (8, 8, 1))
"""

import dataclasses

import numpy as np

__all__ = ["ActivationAtlas", "activation_atlas", "plot_activation_atlas", "spatial_activations"]


@dataclasses.dataclass
class ActivationAtlas:
    """An activation atlas of one layer.

    Attributes:
        layer: the layer path.
        grid: cells per side.
        counts: ``(grid, grid)`` number of activation vectors per cell (row 0 at the top).
        cells: ``(K, 2)`` (row, column) of the K drawn cells.
        means: ``(K, channels)`` mean activation vector of each drawn cell.
        images: ``(K, H, W, C)`` the feature visualization of each drawn cell, in the model's input range.
        coords: ``(M, 2)`` the 2-D layout of the sampled vectors.
        sources: ``(M, 3)`` (image, row, column) each sampled vector came from.

    Example:
        >>> ActivationAtlas("c", 2, np.zeros((2, 2)), np.zeros((0, 2)), np.zeros((0, 3)),
        ...                 np.zeros((0, 4, 4, 1)), np.zeros((0, 2)), np.zeros((0, 3))).grid
        2
    """

    layer: str
    grid: int
    counts: np.ndarray
    cells: np.ndarray
    means: np.ndarray
    images: np.ndarray
    coords: np.ndarray
    sources: np.ndarray


def spatial_activations(model, x, layer, max_vectors=4000, seed=0, batch_size=64):
    """Sample spatial activation vectors of a layer: one per (image, row, column).

    Args:
        model: a ``keras.Model``.
        x: input images.
        layer: the layer (name, path or index) with an ``(N, h, w, channels)`` output.
        max_vectors: keep at most this many (a random subset, fixed by ``seed``).
        seed: the subset's seed.
        batch_size: images per forward pass.

    Returns:
        ``(vectors (M, channels), sources (M, 3))``.

    Raises:
        ValueError: the layer's output is not a spatial map.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((5, 5, 1)), keras.layers.Conv2D(2, 3, name="c")])
        >>> v, s = spatial_activations(m, np.zeros((3, 5, 5, 1), "float32"), "c")
        >>> v.shape, s.shape
        ((27, 2), (27, 3))
    """
    from deepkit.viz.activations import feature_maps

    maps = next(iter(feature_maps(model, x, [layer], batch_size=batch_size).values()))
    if maps.ndim != 4:
        raise ValueError(f"activation_atlas: layer {layer!r} outputs shape {maps.shape[1:]}; an activation atlas "
                         "needs a spatial map (height, width, channels): choose a convolution or pooling layer")
    n, h, w, c = maps.shape
    sources = np.stack(np.meshgrid(np.arange(n), np.arange(h), np.arange(w), indexing="ij"), -1).reshape(-1, 3)
    vectors = maps.reshape(-1, c)
    if len(vectors) > max_vectors:
        keep = np.sort(np.random.default_rng(seed).choice(len(vectors), max_vectors, replace=False))
        vectors, sources = vectors[keep], sources[keep]
    return vectors.astype("float32"), sources


def _bin(coords, grid):
    low, high = coords.min(axis=0), coords.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    scaled = np.clip(((coords - low) / span * grid).astype(int), 0, grid - 1)
    rows = grid - 1 - scaled[:, 1]  # y up, as a plot
    return rows, scaled[:, 0]


def activation_atlas(model, x, layer, grid=8, method="pca", max_vectors=4000, min_count=3, steps=128,
                     seed=0, batch_size=64, value_range=None):
    """Build the activation atlas of ``layer`` over the images ``x`` (see the module docstring).

    Args:
        model: a ``keras.Model`` with an image input.
        x: images (in the model's input range).
        layer: a layer with a spatial output (name, path or index).
        grid: cells per side of the 2-D layout.
        method: the layout: ``"pca"`` or ``"tsne"`` (``deepkit.viz.embed``).
        max_vectors: spatial activation vectors sampled at most.
        min_count: a cell is drawn when it holds at least this many vectors.
        steps: feature-visualization steps.
        seed: seed of the sampling, the layout and the rendering.
        batch_size: images per forward pass.
        value_range: the rendered images' range (default: the model's, see ``deepkit.viz.render``).

    Returns:
        An :class:`ActivationAtlas`.

    Raises:
        ValueError: a non-spatial layer, ``grid < 1``, or no cell with ``min_count`` vectors.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(3, 3, name="c")])
        >>> x = np.random.default_rng(1).random((10, 6, 6, 1)).astype("float32")
        >>> atlas = activation_atlas(m, x, "c", grid=2, steps=2, min_count=1)
        >>> len(atlas.cells) == len(atlas.images) == len(atlas.means), atlas.means.shape[1]
        (True, 3)
    """
    from deepkit.viz.embedding import embed
    from deepkit.viz.featurevis import objectives, render

    if not isinstance(grid, (int, np.integer)) or grid < 1:
        raise ValueError(f"activation_atlas: grid must be a positive integer. Received: grid={grid!r}")
    from deepkit.viz.layers import layer_path

    path = layer_path(model, layer)
    vectors, sources = spatial_activations(model, x, path, max_vectors, seed, batch_size)
    coords = np.asarray(embed(vectors, method=method, seed=seed), "float32")
    rows, cols = _bin(coords, grid)
    counts = np.zeros((grid, grid), "int64")
    np.add.at(counts, (rows, cols), 1)
    cells = np.argwhere(counts >= min_count)
    if not len(cells):
        raise ValueError(f"activation_atlas: no cell of the {grid}x{grid} layout holds {min_count} vectors "
                         f"({len(vectors)} sampled); lower min_count or grid")
    means = np.stack([vectors[(rows == r) & (cols == c)].mean(axis=0) for r, c in cells]).astype("float32")
    objective = None
    for i, mean in enumerate(means):
        term = objectives.direction(path, mean, batch=i)
        objective = term if objective is None else objective + term
    images = render(model, objective, steps=steps, batch_size=len(means), seed=seed,
                    value_range=value_range, progress=False)
    return ActivationAtlas(path, int(grid), counts, cells, means, np.asarray(images), coords, sources)


def plot_activation_atlas(atlas, ax=None, title=None, show_counts=True):
    """Draw the atlas: each drawn cell's image at its place in the grid (empty cells blank).

    Args:
        atlas: an :class:`ActivationAtlas`.
        ax: a matplotlib axis (a new figure when None).
        title: the title (default names the layer).
        show_counts: write each cell's number of vectors in its corner.

    Returns:
        The matplotlib ``Figure``.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c")])
        >>> x = np.random.default_rng(0).random((10, 6, 6, 1)).astype("float32")
        >>> fig = plot_activation_atlas(activation_atlas(m, x, "c", grid=2, steps=2, min_count=1))
        >>> len(fig.axes)
        1
    """
    from deepkit.viz.plotting import new_figure, normalize_image

    if ax is None:
        fig, ax = new_figure(figsize=(min(12, 1.1 * atlas.grid + 1), min(12, 1.1 * atlas.grid + 1)))
    else:
        fig = ax.figure
    h, w, c = atlas.images.shape[1:]
    canvas = np.ones((atlas.grid * h, atlas.grid * w, 3), "float32")
    for (r, col), image in zip(atlas.cells, atlas.images):
        shown = normalize_image(image)
        canvas[r * h:(r + 1) * h, col * w:(col + 1) * w] = shown if c == 3 else np.repeat(shown[..., :1], 3, -1)
    ax.imshow(canvas, interpolation="nearest")
    if show_counts:
        for r, col in atlas.cells:
            ax.text(col * w + 1, r * h + 1, str(int(atlas.counts[r, col])), fontsize=6, color="white",
                    va="top", ha="left", bbox={"facecolor": "black", "alpha": 0.5, "pad": 0.5, "lw": 0})
    ax.set_axis_off()
    ax.set_title(title or f"activation atlas of {atlas.layer} ({int(atlas.counts.sum())} activations, "
                          f"{len(atlas.cells)} cells)", fontsize=9)
    return fig
