"""Shared image helpers for deepkit.viz: scaling, grids, colour maps, overlays and PNG output.

Everything here works on numpy arrays and matplotlib ``Figure`` objects built
without ``pyplot`` (no global figure state, safe in servers, tests and
notebooks alike). Images are ``(H, W)`` grey or ``(H, W, C)`` with ``C`` in
``{1, 3, 4}``, channels last.
"""

import base64
import io
import math
import os

import numpy as np

#: Separator colour of image grids: a light blue that neither white nor black content matches.
SEPARATOR = (0.80, 0.86, 0.94)

__all__ = [
    "normalize_image",
    "to_uint8",
    "make_grid",
    "apply_colormap",
    "overlay_heatmap",
    "new_figure",
    "grid_figsize",
    "plot_image_grid",
    "plot_image_table",
    "to_png_bytes",
    "save_png",
    "png_data_uri",
]


def normalize_image(x, mode="minmax", axis=None, percentile=99.5, eps=1e-8):
    """Scale an array to ``[0, 1]`` for display.

    Args:
        x: array-like of any shape.
        mode: ``"minmax"`` maps min..max to 0..1; ``"symmetric"`` maps
            ``-m..m`` to 0..1 with ``m = max|x|`` so that zero is mid-grey
            (good for weights and signed attributions); ``"percentile"``
            clips at the given percentile of ``|x|`` first (robust to a few
            extreme values, as used for gradients) and maps ``0..p`` to
            ``0..1``; ``"abs-percentile"`` is the same on ``|x|``.
        axis: axes that share one scaling; ``None`` scales the whole array
            together. E.g. ``axis=(1, 2, 3)`` scales every image of an
            ``(N, H, W, C)`` batch separately.
        percentile: used by the percentile modes.
        eps: guard against division by zero for constant inputs.

    Returns:
        A float32 numpy array of the same shape, values in ``[0, 1]``.

    Raises:
        ValueError: for an unknown ``mode``.

    Example:
        >>> normalize_image([0.0, 5.0, 10.0]).tolist()
        [0.0, 0.5, 1.0]
        >>> normalize_image([-2.0, 0.0, 1.0], mode="symmetric").tolist()
        [0.0, 0.5, 0.75]
    """
    x = np.asarray(x, dtype=np.float32)
    if axis is not None:
        axis = tuple(a % x.ndim for a in np.atleast_1d(axis))
    kw = dict(axis=axis, keepdims=True)
    if mode == "minmax":
        lo, hi = np.min(x, **kw), np.max(x, **kw)
        out = (x - lo) / np.maximum(hi - lo, eps)
    elif mode == "symmetric":
        m = np.max(np.abs(x), **kw)
        out = 0.5 + 0.5 * x / np.maximum(m, eps)
    elif mode in ("percentile", "abs-percentile"):
        if mode == "abs-percentile":
            x = np.abs(x)
        p = np.percentile(np.abs(x), percentile, **kw)
        out = x / np.maximum(p, eps)
    else:
        raise ValueError(
            "normalize_image: mode must be one of 'minmax', 'symmetric', "
            f"'percentile', 'abs-percentile'. Received: mode={mode!r}"
        )
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def to_uint8(image):
    """Convert a float image in ``[0, 1]`` (or an integer image) to ``uint8``.

    Args:
        image: array with values in ``[0, 1]`` (floats) or ``0..255`` (ints).

    Returns:
        The ``uint8`` array; floats are clipped and rounded.

    Example:
        >>> to_uint8([0.0, 0.5, 1.0, 2.0]).tolist()
        [0, 128, 255, 255]
    """
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    if np.issubdtype(image.dtype, np.integer) or image.dtype == bool:
        return np.clip(image, 0, 255).astype(np.uint8)
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def _as_image_batch(images, where):
    images = np.asarray(images)
    if images.ndim == 3:  # (N, H, W) grey
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(
            f"{where}: expected images of shape (N, H, W) or (N, H, W, C). "
            f"Received: shape={images.shape}"
        )
    if images.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"{where}: images need 1, 3 or 4 channels (last axis). "
            f"Received: shape={images.shape}"
        )
    return images


def make_grid(images, ncols=None, padding=1, pad_value=1.0, normalize=None, pad_color=None):
    """Tile a batch of images into one image.

    Args:
        images: ``(N, H, W)`` or ``(N, H, W, C)`` array, ``C`` in ``{1, 3, 4}``.
        ncols: images per row; default ``ceil(sqrt(N))``.
        padding: pixels of ``pad_value`` between (and around) tiles.
        pad_value: value of the separator pixels (in the images' scale).
        normalize: ``None`` (use values as they are), ``"each"`` (min-max
            scale every image on its own), ``"all"`` (one min-max scale for
            the batch) or ``"symmetric"`` (zero is grey, per batch).
        pad_color: an RGB triple; when given the grid is returned as RGB
            (grey images repeated) with separators and empty cells in this
            colour, so they stand out from white or black image content.

    Returns:
        An array ``(rows*(H+p)+p, ncols*(W+p)+p, C)``; empty cells hold
        ``pad_value`` (or ``pad_color``, then ``C == 3``).

    Raises:
        ValueError: for a wrong shape, an empty batch or an unknown
            ``normalize``.

    Example:
        >>> grid = make_grid(np.zeros((5, 4, 4)), ncols=3, padding=1)
        >>> grid.shape
        (11, 16, 1)
        >>> make_grid(np.zeros((2, 4, 4)), pad_color=(1, 0, 0))[0, 0].tolist()
        [1.0, 0.0, 0.0]
    """
    images = _as_image_batch(images, "make_grid").astype(np.float32)
    n, h, w, c = images.shape
    if n == 0:
        raise ValueError("make_grid: received an empty batch of images (N=0).")
    if normalize == "each":
        images = normalize_image(images, "minmax", axis=(1, 2, 3))
    elif normalize == "all":
        images = normalize_image(images, "minmax")
    elif normalize == "symmetric":
        images = normalize_image(images, "symmetric")
    elif normalize is not None:
        raise ValueError(
            "make_grid: normalize must be None, 'each', 'all' or 'symmetric'. "
            f"Received: normalize={normalize!r}"
        )
    ncols = int(ncols or math.ceil(math.sqrt(n)))
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    p = int(padding)
    if pad_color is not None:
        if c == 1:
            images = np.repeat(images, 3, axis=-1)
        images = images[..., :3]
        c = 3
    grid = np.full((nrows * (h + p) + p, ncols * (w + p) + p, c), pad_value, np.float32)
    mask = np.ones(grid.shape[:2], bool)
    for i in range(n):
        r, q = divmod(i, ncols)
        y, x = p + r * (h + p), p + q * (w + p)
        grid[y : y + h, x : x + w] = images[i]
        mask[y : y + h, x : x + w] = False
    if pad_color is not None:
        grid[mask] = np.asarray(pad_color, np.float32)[:3]
    return grid


def apply_colormap(values, cmap="viridis", vmin=None, vmax=None):
    """Map a 2-D array of scalars to RGB with a matplotlib colour map.

    Args:
        values: ``(H, W)`` array.
        cmap: colour map name or object.
        vmin, vmax: value range mapped to the ends of the colour map;
            default the array's min and max.

    Returns:
        A float32 ``(H, W, 3)`` array in ``[0, 1]``.

    Example:
        >>> rgb = apply_colormap(np.array([[0.0, 1.0]]), cmap="gray")
        >>> rgb.shape, rgb[0, 0].tolist(), rgb[0, 1].tolist()
        ((1, 2, 3), [0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    """
    import matplotlib

    values = np.asarray(values, dtype=np.float32)
    lo = np.min(values) if vmin is None else vmin
    hi = np.max(values) if vmax is None else vmax
    scaled = np.clip((values - lo) / max(float(hi - lo), 1e-12), 0.0, 1.0)
    cm = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    return cm(scaled)[..., :3].astype(np.float32)


def _resize(image, size):
    """Bilinear resize of a float ``(h, w[, c])`` array to ``size=(H, W)``."""
    from PIL import Image

    image = np.asarray(image, np.float32)
    squeeze = image.ndim == 2
    if squeeze:
        image = image[..., None]
    chans = [
        np.asarray(Image.fromarray(image[..., k]).resize((size[1], size[0]), Image.BILINEAR))
        for k in range(image.shape[-1])
    ]
    out = np.stack(chans, axis=-1)
    return out[..., 0] if squeeze else out


def overlay_heatmap(image, heatmap, alpha=0.5, cmap="jet", normalize=True):
    """Blend a heatmap (e.g. a Grad-CAM map) over an image.

    Args:
        image: ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)`` image, any range
            (it is min-max scaled for display).
        heatmap: ``(h, w)`` map; resized bilinearly to ``(H, W)``.
        alpha: weight of the heatmap colour.
        cmap: colour map for the heatmap.
        normalize: min-max scale the heatmap first (else it must lie in
            ``[0, 1]``).

    Returns:
        A float32 ``(H, W, 3)`` RGB array in ``[0, 1]``.

    Example:
        >>> out = overlay_heatmap(np.zeros((8, 8)), np.eye(4), alpha=0.5)
        >>> out.shape
        (8, 8, 3)
    """
    image = np.asarray(image, np.float32)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.ndim != 3 or image.shape[-1] not in (3, 4):
        raise ValueError(
            f"overlay_heatmap: image must be (H, W), (H, W, 1) or (H, W, 3). "
            f"Received: shape={image.shape}"
        )
    image = normalize_image(image[..., :3])
    heatmap = np.asarray(heatmap, np.float32)
    if heatmap.ndim == 3 and heatmap.shape[-1] == 1:
        heatmap = heatmap[..., 0]
    if heatmap.ndim != 2:
        raise ValueError(
            f"overlay_heatmap: heatmap must be 2-D (h, w). Received: shape={heatmap.shape}"
        )
    if heatmap.shape != image.shape[:2]:
        heatmap = _resize(heatmap, image.shape[:2])
    colored = apply_colormap(heatmap, cmap, *((None, None) if normalize else (0.0, 1.0)))
    return np.clip((1 - alpha) * image + alpha * colored, 0.0, 1.0).astype(np.float32)


def new_figure(nrows=1, ncols=1, figsize=None, squeeze=True, **subplot_kw):
    """Create a matplotlib figure and axes without touching ``pyplot`` state.

    Args:
        nrows, ncols: subplot grid.
        figsize: inches; default ``(3 * ncols, 3 * nrows)``.
        squeeze: as in ``Figure.subplots``.
        **subplot_kw: forwarded to ``Figure.subplots`` (``sharex`` etc.).

    Returns:
        ``(fig, axes)``. The figure has an Agg canvas, so ``savefig`` works
        anywhere and it renders inline in Jupyter.

    Example:
        >>> fig, ax = new_figure()
        >>> type(fig).__name__
        'Figure'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figsize = figsize or (3.0 * ncols, 3.0 * nrows)
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=squeeze, **subplot_kw)
    return fig, axes


def grid_figsize(grid_shape, tile_pixels, tile_inches=0.8, max_width=8.0, max_height=11.0,
                 min_size=1.6, extra_height=0.4):
    """Figure size (inches) that shows a tiled image at about ``tile_inches`` per tile.

    Args:
        grid_shape: ``(height, width, ...)`` of the tiled image in pixels.
        tile_pixels: pixels of one tile side (including its upscaling).
        tile_inches: wanted inches per tile.
        max_width, max_height: caps (the size shrinks keeping proportions).
        min_size: lower bound for either side.
        extra_height: added for a title.

    Returns:
        ``(width, height)`` in inches.

    Example:
        >>> grid_figsize((50, 100), tile_pixels=25, tile_inches=1.0)
        (4.0, 2.4)
    """
    per_px = tile_inches / float(max(tile_pixels, 1))
    w, h = grid_shape[1] * per_px, grid_shape[0] * per_px
    shrink = min(1.0, max_width / max(w, 1e-9), max_height / max(h, 1e-9))
    w, h = w * shrink, h * shrink
    return (round(max(w, min_size), 3), round(max(h, min_size) + extra_height, 3))


def plot_image_table(images, col_titles=None, row_titles=None, cell_inches=1.2, max_width=12.0,
                     padding=2, path=None):
    """Draw an ``R x C`` table of equally sized images as one picture with labels.

    Much faster than one matplotlib axes per image for large tables (a single
    ``imshow``), e.g. samples x attribution methods.

    Args:
        images: array ``(R, C, H, W)`` or ``(R, C, H, W, 1|3)``, values in ``[0, 1]``.
        col_titles: ``C`` column headings.
        row_titles: ``R`` row labels.
        cell_inches: inches per cell.
        max_width: width cap in inches.
        padding: white pixels between cells (before upscaling).
        path: if given, also save as PNG.

    Returns:
        The matplotlib ``Figure``; ``fig.deepkit_image`` holds the table image.

    Example:
        >>> fig = plot_image_table(np.random.rand(2, 3, 8, 8), col_titles=list("abc"))
        >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
        ['a', 'b', 'c']
    """
    images = np.asarray(images, np.float32)
    if images.ndim == 4:
        images = images[..., None]
    if images.ndim != 5:
        raise ValueError(
            f"plot_image_table: images must be (R, C, H, W[, ch]). Received: shape={images.shape}"
        )
    r, c, h, w, ch = images.shape
    if ch == 1:
        images = np.repeat(images, 3, axis=-1)
    up = max(1, int(math.ceil(48 / max(h, w))))
    tiles = images.reshape(r * c, h, w, images.shape[-1])[..., :3]
    tiles = np.repeat(np.repeat(tiles, up, 1), up, 2)
    grid = make_grid(tiles, ncols=c, padding=padding, pad_value=1.0)
    th, tw = tiles.shape[1:3]
    fig, ax = new_figure(figsize=grid_figsize(grid.shape, tw, cell_inches, max_width=max_width,
                                              max_height=40.0))
    ax.imshow(np.clip(grid, 0, 1), interpolation="nearest")
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_xticks([padding + i * (tw + padding) + tw / 2 for i in range(c)],
                  col_titles if col_titles is not None else [""] * c, fontsize=7)
    ax.xaxis.tick_top()
    ax.set_yticks([padding + i * (th + padding) + th / 2 for i in range(r)],
                  row_titles if row_titles is not None else [""] * r, fontsize=7)
    ax.tick_params(length=0)
    fig.deepkit_image = grid
    if path is not None:
        save_png(fig, path)
    return fig


def _show_image(ax, image, cmap="gray", title=None, vmin=None, vmax=None):
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    else:
        ax.imshow(np.clip(image, 0, 1), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(str(title), fontsize=8)


def plot_image_grid(images, titles=None, ncols=None, cmap="gray", normalize="each",
                    suptitle=None, cell_size=1.2, path=None):
    """Show a batch of images as a grid of subplots (one per image, with titles).

    Args:
        images: ``(N, H, W)`` or ``(N, H, W, C)`` array.
        titles: optional list of ``N`` strings.
        ncols: columns; default ``ceil(sqrt(N))``.
        cmap: colour map for one-channel images.
        normalize: as ``make_grid``: ``"each"``, ``"all"``, ``"symmetric"``
            or ``None`` (values already in ``[0, 1]``).
        suptitle: figure title.
        cell_size: inches per cell.
        path: if given, the figure is also saved there as PNG.

    Returns:
        The matplotlib ``Figure``.

    Example:
        >>> fig = plot_image_grid(np.random.rand(4, 5, 5), titles=list("abcd"))
        >>> len(fig.axes)
        4
    """
    images = _as_image_batch(images, "plot_image_grid").astype(np.float32)
    n = images.shape[0]
    if n == 0:
        raise ValueError("plot_image_grid: received an empty batch of images (N=0).")
    if normalize == "each":
        images = normalize_image(images, "minmax", axis=(1, 2, 3))
    elif normalize == "all":
        images = normalize_image(images, "minmax")
    elif normalize == "symmetric":
        images = normalize_image(images, "symmetric")
    elif normalize is not None:
        raise ValueError(
            "plot_image_grid: normalize must be None, 'each', 'all' or 'symmetric'. "
            f"Received: normalize={normalize!r}"
        )
    if titles is not None and len(titles) != n:
        raise ValueError(
            f"plot_image_grid: got {n} images but {len(titles)} titles; they must match."
        )
    ncols = int(ncols or math.ceil(math.sqrt(n)))
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(cell_size * ncols, cell_size * nrows + 0.3),
                           squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        if i < n:
            _show_image(ax, images[i], cmap=cmap, vmin=0, vmax=1,
                        title=None if titles is None else titles[i])
        else:
            ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    if path is not None:
        save_png(fig, path)
    return fig


def to_png_bytes(obj, dpi=100):
    """Encode a figure or an image array as PNG bytes.

    Args:
        obj: a matplotlib ``Figure``, or an image array (``(H, W)``,
            ``(H, W, 1|3|4)``; floats are taken to lie in ``[0, 1]``).
        dpi: resolution for figures.

    Returns:
        ``bytes`` of a PNG file.

    Example:
        >>> to_png_bytes(np.zeros((2, 2)))[:4]
        b'\\x89PNG'
    """
    buf = io.BytesIO()
    if hasattr(obj, "savefig"):
        obj.savefig(buf, format="png", dpi=dpi)
    else:
        from PIL import Image

        arr = to_uint8(obj)
        if arr.ndim == 3 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)):
            raise ValueError(
                "to_png_bytes: an image must be (H, W), (H, W, 1), (H, W, 3) or "
                f"(H, W, 4). Received: shape={arr.shape}"
            )
        Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def save_png(obj, path, dpi=100):
    """Save a figure or an image array as a PNG file (parent folders are created).

    Args:
        obj: a matplotlib ``Figure`` or an image array (see ``to_png_bytes``).
        path: destination file name.
        dpi: resolution for figures.

    Returns:
        The path, as a string.

    Example:
        >>> import tempfile, os
        >>> p = save_png(np.ones((3, 3, 3)), os.path.join(tempfile.mkdtemp(), "a", "x.png"))
        >>> os.path.getsize(p) > 0
        True
    """
    path = os.fspath(path)
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    with open(path, "wb") as f:
        f.write(to_png_bytes(obj, dpi=dpi))
    return path


def png_data_uri(obj, dpi=100):
    """A ``data:image/png;base64,...`` URI for inlining a figure or image in HTML.

    Args:
        obj: a matplotlib ``Figure`` or an image array (see ``to_png_bytes``).
        dpi: resolution for figures.

    Returns:
        The URI string.

    Example:
        >>> png_data_uri(np.zeros((1, 1)))[:22]
        'data:image/png;base64,'
    """
    return "data:image/png;base64," + base64.b64encode(to_png_bytes(obj, dpi=dpi)).decode("ascii")
