"""The report's own matplotlib figures (the rest come from ``deepkit.viz``'s ``plot_*`` functions).

Each function turns arrays that are already computed into a ``Figure``; none runs the model.
"""

import math

import numpy as np

from deepkit.viz.plotting import new_figure, normalize_image, overlay_heatmap, plot_image_table

__all__ = ["class_label", "samples_figure", "attribution_figure", "image_grid_figure",
           "channel_values_figure", "integer_epochs", "as_rgb"]

# gradient maps are dominated by a few pixels: clip at a percentile before colouring
_PERCENTILE_SCALED = ("saliency", "smoothgrad", "integrated_gradients")


def class_label(index, class_names=None):
    """The name of class ``index`` (its number when there are no names).

    Args:
        index: the class index.
        class_names: names, or ``None``.

    Returns:
        A string.

    Example:
        >>> class_label(1, ["cat", "dog"]), class_label(4)
        ('dog', '4')
    """
    return str(class_names[index]) if class_names and 0 <= index < len(class_names) else str(index)


def as_rgb(images):
    """Images ``(..., h, w, 1|3|more)`` as RGB float32 (grey repeated, extra channels dropped).

    Args:
        images: the images.

    Returns:
        A float32 array ending in 3 channels.

    Example:
        >>> as_rgb(np.zeros((2, 4, 4, 1))).shape
        (2, 4, 4, 3)
    """
    images = np.asarray(images, np.float32)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    return images[..., :3]


def _show(ax, image):
    ax.imshow(image[..., 0] if image.shape[-1] == 1 else image[..., :3], cmap="gray",
              interpolation="nearest")


def samples_figure(x, idx, y=None, probs=None, class_names=None):
    """The chosen samples, titled with the prediction (and confidence) and the true class.

    Args:
        x: all inputs ``(N, h, w, c)``.
        idx: indices of the samples to show.
        y: true labels or ``None``.
        probs: class probabilities ``(N, K)`` or ``None``.
        class_names: names of the classes.

    Returns:
        The ``Figure``.

    Example:
        >>> fig = samples_figure(np.random.rand(3, 8, 8, 1), [0, 2], y=np.array([1, 0, 1]))
        >>> [ax.get_title() for ax in fig.axes]
        ['true 1', 'true 1']
    """
    n = len(idx)
    ncols = min(n, 8)
    nrows = math.ceil(n / ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(1.5 * ncols, 1.75 * nrows), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k >= n:
            continue
        i = int(idx[k])
        _show(ax, normalize_image(x[i]))
        parts = []
        if probs is not None:
            p = int(probs[i].argmax())
            parts.append(f"pred {class_label(p, class_names)} ({probs[i, p]:.2f})")
        if y is not None:
            parts.append(f"true {class_label(int(y[i]), class_names)}")
        ax.set_title("\n".join(parts), fontsize=7)
    return fig


def attribution_figure(images, columns, row_titles):
    """A table: one row per sample, its input then one heat-map overlay per attribution method.

    Args:
        images: the samples ``(n, h, w, c)``.
        columns: ``(method, title, maps)`` per column; maps ``(n, h, w)`` or
            ``(n, h, w, c)`` (then the largest absolute value over channels).
        row_titles: one label per sample.

    Returns:
        The ``Figure``.

    Example:
        >>> imgs = np.random.rand(2, 8, 8, 1)
        >>> fig = attribution_figure(imgs, [("saliency", "Gradient", np.random.rand(2, 8, 8))],
        ...                          ["a", "b"])
        >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
        ['input', 'Gradient']
    """
    tables = [as_rgb(np.stack([normalize_image(im) for im in images]))]
    for method, _, method_maps in columns:
        method_maps = np.asarray(method_maps)
        if method_maps.ndim == 4:
            method_maps = np.abs(method_maps).max(axis=-1)
        scaled = [normalize_image(m, "percentile") if method in _PERCENTILE_SCALED else m
                  for m in method_maps]
        tables.append(as_rgb(np.stack([overlay_heatmap(im, m, alpha=0.55, normalize=True)
                                       for im, m in zip(images, scaled)])))
    return plot_image_table(np.stack(tables, axis=1), col_titles=["input", *(t for _, t, _ in columns)],
                            row_titles=list(row_titles), cell_inches=1.1)


def image_grid_figure(images, titles, title):
    """Images in rows of up to eight, each scaled to its own range.

    Args:
        images: ``(n, h, w, c)``.
        titles: one per image.
        title: the figure title.

    Returns:
        The ``Figure``.

    Example:
        >>> len(image_grid_figure(np.random.rand(3, 6, 6, 3), ["a", "b", "c"], "t").axes)
        3
    """
    images = np.asarray(images, np.float32)
    images = normalize_image(images, "minmax", axis=tuple(range(1, images.ndim)))
    n = len(images)
    ncols = min(n, 8)
    nrows = math.ceil(n / ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(1.25 * ncols, 1.35 * nrows + 0.3), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k < n:
            _show(ax, images[k])
            ax.set_title(titles[k], fontsize=7)
    fig.suptitle(title, fontsize=9)
    return fig


def channel_values_figure(values, title, max_channels=64):
    """Bars of one sample's channel activations, for layers whose maps are 1x1.

    A 1x1 map scaled to its own range is one flat square; a grid of them says
    nothing. One bar per channel shows the values on a shared axis instead.

    Args:
        values: ``(channels,)`` activations (any shape with one value per channel).
        title: the axes title.
        max_channels: show at most this many (the first ones).

    Returns:
        The ``Figure``.

    Example:
        >>> fig = channel_values_figure(np.array([0.5, 2.0, 0.0]), "sample 0")
        >>> [round(float(p.get_height()), 1) for p in fig.axes[0].patches]
        [0.5, 2.0, 0.0]
    """
    from matplotlib.ticker import MaxNLocator

    values = np.asarray(values, np.float32).reshape(-1)[:max_channels]
    fig, ax = new_figure(figsize=(min(8.0, max(3.2, 1.6 + 0.12 * len(values))), 2.4))
    ax.bar(np.arange(len(values)), values, width=0.8, color="#2f6fb0")
    ax.axhline(0.0, color="#5b6672", linewidth=0.6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("channel", fontsize=8)
    ax.set_ylabel("activation", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=9)
    return fig


def integer_epochs(fig):
    """Make every epoch axis of a training-curves figure tick at whole epochs only.

    Args:
        fig: a ``Figure`` from ``deepkit.viz.plot_history``.

    Returns:
        The same figure.

    Example:
        >>> from deepkit.viz import plot_history
        >>> fig = integer_epochs(plot_history({"loss": [1.0, 0.6, 0.4]}))
        >>> all(float(t).is_integer() for t in fig.axes[0].get_xticks())
        True
    """
    from matplotlib.ticker import MaxNLocator

    for ax in fig.axes:
        if ax.get_xlabel() == "epoch":
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig
