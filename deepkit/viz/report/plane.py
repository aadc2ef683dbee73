"""What a model on 2 input features does over its input plane: each unit's response and the decision map.

The same pictures as the playground's neurons: the unit's output at every point of a grid covering the
data (with a margin), drawn as a heatmap with the data points on top.
"""

import numpy as np

__all__ = ["plane_grid", "unit_response_grid", "response_figure", "output_map_figure"]


def plane_grid(x, resolution=64, margin=0.25):
    """A regular grid covering 2-D points, as :func:`deepkit.viz.boundary.decision_grid` lays it out.

    Args:
        x: the data points ``(N, 2)``.
        resolution: grid points per axis.
        margin: extra border, as a fraction of the data range.

    Returns:
        ``(gx, gy, points)``: the axis values ``(R,)`` each and the grid points ``(R * R, 2)``, row
        ``i * R + j`` being ``(gx[j], gy[i])`` (rows of the picture are ``y``, columns ``x``).

    Example:
        >>> gx, gy, pts = plane_grid(np.array([[0.0, 0.0], [1.0, 2.0]]), resolution=3, margin=0)
        >>> gy.tolist(), pts[3].tolist()
        ([0.0, 1.0, 2.0], [0.0, 1.0])
    """
    x = np.asarray(x, np.float32)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"plane_grid: x must be 2-D points (N, 2). Received: shape={x.shape}")
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = (hi - lo) * margin + (1e-3 if margin else 0.0)
    gx = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    gy = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    xx, yy = np.meshgrid(gx, gy)
    return gx, gy, np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)


def unit_response_grid(model, path, x, resolution=64, batch_size=1024):
    """Every unit's output of one layer over the input plane of a model on 2 features.

    Args:
        model: a ``keras.Model`` on inputs ``(2,)``.
        path: the layer path.
        x: the data points ``(N, 2)`` (to choose the extent).
        resolution: grid points per axis.
        batch_size: points per forward pass.

    Returns:
        ``(gx, gy, values)``: ``values[i, j, u]`` is unit ``u`` at the point ``(gx[j], gy[i])``.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, name="d")])
        >>> gx, gy, v = unit_response_grid(m, "d", np.random.rand(10, 2), resolution=4)
        >>> v.shape
        (4, 4, 3)
    """
    from deepkit.viz import feature_maps

    gx, gy, points = plane_grid(x, resolution)
    values = np.asarray(feature_maps(model, points, layers=[path], batch_size=batch_size)[path], np.float32)
    return gx, gy, values.reshape(len(gy), len(gx), -1)


def _scatter(ax, x, y):
    import matplotlib

    if y is None:
        ax.scatter(x[:, 0], x[:, 1], c="k", s=6, edgecolors="white", linewidths=0.3)
        return
    y = np.asarray(y)
    if np.issubdtype(y.dtype, np.integer):
        colors = np.array([matplotlib.colormaps["tab10"](i % 10)[:3] for i in range(int(y.max()) + 1)])
        ax.scatter(x[:, 0], x[:, 1], c=colors[y], s=8, edgecolors="white", linewidths=0.4)
    else:
        ax.scatter(x[:, 0], x[:, 1], c=y, cmap="viridis", s=8, edgecolors="white", linewidths=0.4)


def response_figure(gx, gy, values, x, y=None, title="", size=3.2, points=True, colorbar=True):
    """A heatmap of one unit's output over the plane (blue negative, red positive) with the data points.

    Args:
        gx, gy: the grid's axis values (see :func:`unit_response_grid`).
        values: ``(R, R)``, ``values[i, j]`` at ``(gx[j], gy[i])``.
        x: data points ``(N, 2)``.
        y: their labels (coloured by class), float targets (viridis), or ``None``.
        title: the axes title.
        size: the figure's side in inches.
        points: draw the data points.
        colorbar: draw the colour scale.

    Returns:
        A matplotlib ``Figure``.

    Example:
        >>> fig = response_figure(np.arange(3.0), np.arange(3.0), np.eye(3), np.zeros((2, 2)), title="u")
        >>> fig.axes[0].get_title()
        'u'
    """
    from deepkit.viz.plotting import new_figure

    fig, ax = new_figure(figsize=(size, size))
    limit = float(np.max(np.abs(values))) or 1.0
    image = ax.imshow(values, origin="lower", extent=(gx[0], gx[-1], gy[0], gy[-1]), aspect="auto",
                      cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="bilinear")
    if points:
        _scatter(ax, np.asarray(x), y)
    ax.set_xlim(gx[0], gx[-1])
    ax.set_ylim(gy[0], gy[-1])
    ax.set_xticks([])
    ax.set_yticks([])
    if colorbar:
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(title, fontsize=9)
    return fig


def output_map_figure(model, x, y, classifier, resolution=100):
    """The model's decision map: class regions for a classifier, the output over the plane otherwise.

    Args:
        model: a ``keras.Model`` on inputs ``(2,)``.
        x: data points ``(N, 2)``.
        y: labels, targets or ``None``.
        classifier: draw with :func:`deepkit.viz.boundary.plot_decision_boundary` (needs labels).
        resolution: grid points per axis.

    Returns:
        A matplotlib ``Figure``.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> output_map_figure(m, np.random.rand(9, 2), None, False, resolution=8).axes[0].get_title()
        'model output'
    """
    if classifier and y is not None:
        from deepkit.viz.boundary import plot_decision_boundary

        return plot_decision_boundary(model, x, y, resolution=resolution)
    gx, gy, points = plane_grid(x, resolution)
    values = np.asarray(model.predict(points, batch_size=1024, verbose=0), np.float32)
    return response_figure(gx, gy, values.reshape(len(gy), len(gx), -1)[..., 0], x, y, title="model output",
                           size=4.0)
