"""Decision boundaries of 2-D toy problems: logistic regression vs. an MLP.

As in the TensorFlow playground: a linear classifier can only cut the plane with a
straight line, while one or two small hidden layers bend the boundary around circles,
moons, XOR and spirals. :func:`compare_boundaries` trains both on the same data and
draws them side by side.
"""

import numpy as np

from deepkit.probabilities import predict_proba  # one rule for the package: (N, C) float32
from deepkit.viz.plotting import new_figure, save_png

__all__ = [
    "decision_grid",
    "plot_decision_boundary",
    "logistic_regression",
    "mlp",
    "compare_boundaries",
]


def _check_xy(x, y, where):
    x = np.asarray(x, np.float32)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"{where}: x must be 2-D points (N, 2). Received: shape={x.shape}")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 2:
            y = y.argmax(axis=1)
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"{where}: {x.shape[0]} points but {y.shape[0]} labels.")
        y = y.astype(np.int64)
    return x, y


def decision_grid(model, x, resolution=200, margin=0.25):
    """Evaluate a 2-D classifier on a regular grid covering the data.

    Args:
        model: a ``keras.Model`` on 2-D inputs.
        x: the data points ``(N, 2)`` (to choose the extent).
        resolution: grid points per axis.
        margin: extra border, as a fraction of the data range.

    Returns:
        ``(xx, yy, probs)``: ``xx``, ``yy`` are ``(R, R)`` coordinate arrays
        (``np.meshgrid``), ``probs`` is ``(R, R, K)``.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
        >>> xx, yy, p = decision_grid(m, np.random.rand(10, 2), resolution=5)
        >>> xx.shape, p.shape
        ((5, 5), (5, 5, 2))
    """
    x, _ = _check_xy(x, None, "decision_grid")
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = (hi - lo) * margin + 1e-3
    gx = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    gy = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    xx, yy = np.meshgrid(gx, gy)
    pts = np.stack([xx.ravel(), yy.ravel()], axis=1)
    probs = predict_proba(model, pts)
    return xx, yy, probs.reshape(resolution, resolution, -1)


def plot_decision_boundary(model, x, y, resolution=200, ax=None, title=None, path=None):
    """Draw a classifier's decision regions and boundary with the data on top.

    Two classes are shaded by the probability of class 1 (the 0.5 contour is
    the boundary); more classes by the winning class, lighter where the
    model is unsure.

    Args:
        model: a ``keras.Model`` on 2-D inputs.
        x: points ``(N, 2)``.
        y: labels ``(N,)``.
        resolution: grid points per axis.
        ax: draw into this matplotlib axes (else a new figure).
        title: axes title; default gives the accuracy on ``(x, y)``.
        path: if given, save the figure as PNG.

    Returns:
        The matplotlib ``Figure``.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
        >>> fig = plot_decision_boundary(m, np.random.rand(20, 2), np.arange(20) % 2, resolution=20)
        >>> fig.axes[0].get_title().startswith("accuracy")
        True
    """
    import matplotlib

    x, y = _check_xy(x, y, "plot_decision_boundary")
    xx, yy, probs = decision_grid(model, x, resolution=resolution)
    k = probs.shape[-1]
    if ax is None:
        fig, ax = new_figure(figsize=(4.0, 3.8))
    else:
        fig = ax.figure
    cmap = matplotlib.colormaps["tab10"]
    if k == 2:
        ax.contourf(xx, yy, probs[..., 1], levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(xx, yy, probs[..., 1], levels=[0.5], colors="k", linewidths=1.2)
        colors = np.array([[0.13, 0.4, 0.67], [0.7, 0.09, 0.17]])
    else:
        win = probs.argmax(-1)
        conf = probs.max(-1)
        rgb = cmap(win % 10)[..., :3]
        rgb = 1.0 - (1.0 - rgb) * (0.25 + 0.5 * conf[..., None])
        ax.imshow(rgb, origin="lower", extent=(xx.min(), xx.max(), yy.min(), yy.max()),
                  aspect="auto", interpolation="bilinear")
        colors = np.array([cmap(i % 10)[:3] for i in range(max(k, int(y.max()) + 1))])
    ax.scatter(x[:, 0], x[:, 1], c=colors[y % len(colors)], s=10, edgecolors="white",
               linewidths=0.4)
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_xticks([])
    ax.set_yticks([])
    if title is None:
        acc = float(np.mean(predict_proba(model, x).argmax(1) == y))
        title = f"accuracy {acc:.2f}"
    ax.set_title(title, fontsize=9)
    if path is not None:
        save_png(fig, path)
    return fig


def logistic_regression(num_classes=2, name="logistic_regression"):
    """A linear classifier on 2-D points: one softmax Dense layer.

    Args:
        num_classes: number of classes.
        name: model name.

    Returns:
        A ``deepkit.Sequential`` (``(N, 2) -> (N, num_classes)`` probabilities).

    Example:
        >>> logistic_regression(3).count_params()
        9
    """
    import deepkit

    return deepkit.Sequential([{"Dense": {"units": num_classes, "activation": "softmax"}}],
                              input_shape=(2,), name=name)


def mlp(hidden=(8, 8), activation="tanh", num_classes=2, name="mlp"):
    """A small multi-layer perceptron on 2-D points (the TensorFlow-playground default).

    Args:
        hidden: units of each hidden layer.
        activation: hidden activation.
        num_classes: number of classes.
        name: model name.

    Returns:
        A ``deepkit.Sequential`` ending in softmax.

    Example:
        >>> mlp((4,), num_classes=2).count_params()
        22
    """
    import deepkit

    layers = [{"Dense": {"units": int(u), "activation": activation}} for u in hidden]
    layers.append({"Dense": {"units": num_classes, "activation": "softmax"}})
    return deepkit.Sequential(layers, input_shape=(2,), name=name)


def compare_boundaries(x, y, models=None, epochs=150, learning_rate=0.03, batch_size=32, seed=0,
                       resolution=150, title=None, path=None):
    """Train several classifiers on 2-D data and draw their decision boundaries side by side.

    Args:
        x: points ``(N, 2)``.
        y: labels ``(N,)``.
        models: dict ``{name: keras.Model}`` (trained here; compiled here if
            not compiled; deepkit models train with deepkit's on-device
            fast path); default logistic regression and ``mlp((8, 8))``.
        epochs: training epochs.
        learning_rate: Adam learning rate.
        batch_size: batch size.
        seed: seed for initialisation and shuffling.
        resolution: grid points per axis.
        title: figure title.
        path: if given, save as PNG.

    Returns:
        ``(fig, results)``; ``results[name]`` is a dict with ``"model"``,
        ``"accuracy"`` (training accuracy) and ``"history"``.

    Example:
        >>> from sklearn.datasets import make_blobs
        >>> x, y = make_blobs(60, centers=2, random_state=0)
        >>> fig, res = compare_boundaries(x, y, epochs=2, resolution=20)
        >>> sorted(res)
        ['logistic regression', 'mlp 8-8']
    """
    import keras

    import deepkit

    x, y = _check_xy(x, y, "compare_boundaries")
    num_classes = int(y.max()) + 1
    keras.utils.set_random_seed(seed)
    if models is None:
        models = {"logistic regression": logistic_regression(num_classes),
                  "mlp 8-8": mlp((8, 8), num_classes=num_classes)}
    results = {}
    fig, axes = new_figure(1, len(models), figsize=(3.8 * len(models), 3.8), squeeze=False)
    for ax, (name, model) in zip(axes[0], models.items()):
        if not getattr(model, "compiled", False) and getattr(model, "optimizer", None) is None:
            model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                          loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        fit_kw = {}
        if isinstance(model, (deepkit.Model, deepkit.Sequential)):
            fit_kw["fast"] = True  # data on the device, many steps per call: ~5x faster here
        hist = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, **fit_kw)
        acc = float(np.mean(predict_proba(model, x).argmax(1) == y))
        results[name] = {"model": model, "accuracy": acc, "history": hist.history}
        plot_decision_boundary(model, x, y, resolution=resolution, ax=ax,
                               title=f"{name}: accuracy {acc:.2f}")
    if title:
        fig.suptitle(title, fontsize=10)
    if path is not None:
        save_png(fig, path)
    return fig, results
