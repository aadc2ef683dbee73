"""Training curves (from a Keras ``History``) and confusion matrices."""

import json
import os

import numpy as np
from matplotlib.ticker import MaxNLocator

from deepkit.viz.plotting import new_figure, save_png

__all__ = ["history_dict", "plot_history", "confusion_matrix", "plot_confusion_matrix"]


def history_dict(history):
    """Return the ``{metric: [value per epoch]}`` dict of a training history.

    Args:
        history: a ``keras.callbacks.History`` (what ``fit`` returns), a
            model that was fit (its ``.history``), a dict of lists, or the path
            of a JSON file holding such a dict (e.g. written with
            ``json.dump(history.history, f)``).

    Returns:
        A dict mapping metric names (``"loss"``, ``"val_accuracy"``, ...) to
        lists of floats.

    Raises:
        ValueError: if nothing usable is found, or the lists have different
            lengths.

    Example:
        >>> history_dict({"loss": [1.0, 0.5], "val_loss": [1.2, 0.9]})["loss"]
        [1.0, 0.5]
    """
    source = history
    if isinstance(history, (str, os.PathLike)):
        with open(history, "r", encoding="utf-8") as f:
            history = json.load(f)
        if isinstance(history, dict) and "history" in history and isinstance(history["history"], dict):
            history = history["history"]
    if not isinstance(history, dict) and hasattr(history, "history"):
        history = history.history
    if not isinstance(history, dict):
        raise ValueError(
            "history_dict: expected a keras History, a dict of per-epoch lists or a JSON path. "
            f"Received: {type(source).__name__}"
        )
    out = {}
    for key, values in history.items():
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        out[str(key)] = [float(v) for v in values]
    lengths = {len(v) for v in out.values()}
    if len(lengths) > 1:
        raise ValueError(
            "history_dict: all metrics must have one value per epoch; got lengths "
            f"{ {k: len(v) for k, v in out.items()} }"
        )
    return out


def plot_history(history, metrics=None, title=None, path=None):
    """Plot training curves, one panel per metric, training and validation together.

    Args:
        history: anything ``history_dict`` accepts.
        metrics: base metric names to plot (``["loss", "accuracy"]``);
            default every recorded metric, loss first, learning rate last.
            The learning rate (``"learning_rate"``/``"lr"``) gets a log axis.
        title: figure title.
        path: if given, also save the figure there as PNG.

    Returns:
        The matplotlib ``Figure``.

    Raises:
        ValueError: for an empty history or a metric that is not recorded.

    Example:
        >>> fig = plot_history({"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7]})
        >>> [ln.get_label() for ln in fig.axes[0].get_lines()]
        ['loss', 'val_loss']
    """
    hist = history_dict(history)
    if not hist or not any(hist.values()):
        raise ValueError("plot_history: the history is empty (no epochs recorded).")
    if metrics is None:
        metrics = [k for k in hist if not k.startswith("val_")]
        metrics += [k[4:] for k in hist if k.startswith("val_") and k[4:] not in hist]
        metrics.sort(key=lambda m: (m != "loss", m in ("learning_rate", "lr")))  # loss first
    else:
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        missing = [m for m in metrics if m not in hist and f"val_{m}" not in hist]
        if missing:
            raise ValueError(
                f"plot_history: metrics {missing} are not in the history. "
                f"Recorded: {sorted(hist)}"
            )
    n = len(metrics)
    fig, axes = new_figure(1, n, figsize=(3.6 * n, 3.0), squeeze=False)
    for ax, name in zip(axes[0], metrics):
        for key, style in ((name, "-o"), (f"val_{name}", "--s")):
            if key in hist:
                ys = hist[key]
                ax.plot(np.arange(1, len(ys) + 1), ys, style, markersize=3, label=key)
        if name in ("learning_rate", "lr"):
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    if path is not None:
        save_png(fig, path)
    return fig


def _labels(y, where):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot or probabilities
        return np.argmax(y, axis=1)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
        if np.issubdtype(y.dtype, np.floating) and np.any((y > 0) & (y < 1)):
            return (y >= 0.5).astype(np.int64)  # sigmoid outputs
    if y.ndim != 1:
        raise ValueError(
            f"{where}: labels must be a 1-D array of class indices, one-hot or "
            f"probabilities (N, K). Received: shape={y.shape}"
        )
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError(f"{where}: class indices must be whole numbers. Received: {y[:5]}...")
    return y.astype(np.int64)


def confusion_matrix(y_true, y_pred, num_classes=None, normalize=None):
    """Count how often each true class is predicted as each class.

    Args:
        y_true: class indices ``(N,)`` or one-hot ``(N, K)``.
        y_pred: class indices ``(N,)``, or scores/probabilities ``(N, K)``
            (arg-maxed), or sigmoid outputs ``(N, 1)`` (thresholded at 0.5).
        num_classes: matrix size; default ``max label + 1``.
        normalize: ``None`` (counts), ``"true"`` (rows sum to 1: recall per
            class), ``"pred"`` (columns sum to 1) or ``"all"``.

    Returns:
        ``(K, K)`` array, rows = true class, columns = predicted class.

    Raises:
        ValueError: for mismatched lengths, negative or too large labels, or
            an unknown ``normalize``.

    Example:
        >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2]).tolist()
        [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    """
    t = _labels(y_true, "confusion_matrix(y_true)")
    p = _labels(y_pred, "confusion_matrix(y_pred)")
    if t.shape[0] != p.shape[0]:
        raise ValueError(
            f"confusion_matrix: y_true has {t.shape[0]} samples but y_pred has {p.shape[0]}."
        )
    if t.size and (t.min() < 0 or p.min() < 0):
        raise ValueError(
            f"confusion_matrix: labels must be >= 0. Received: min(y_true)={t.min()}, "
            f"min(y_pred)={p.min()}"
        )
    k = int(max(t.max(initial=-1), p.max(initial=-1)) + 1)
    if num_classes is None:
        num_classes = k
    elif k > num_classes:
        raise ValueError(
            f"confusion_matrix: a label {k - 1} is out of range for num_classes={num_classes}."
        )
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    if normalize is None:
        return cm
    cmf = cm.astype(np.float64)
    if normalize == "true":
        return cmf / np.maximum(cmf.sum(axis=1, keepdims=True), 1)
    if normalize == "pred":
        return cmf / np.maximum(cmf.sum(axis=0, keepdims=True), 1)
    if normalize == "all":
        return cmf / max(cmf.sum(), 1)
    raise ValueError(
        "confusion_matrix: normalize must be None, 'true', 'pred' or 'all'. "
        f"Received: normalize={normalize!r}"
    )


def plot_confusion_matrix(y_true=None, y_pred=None, *, matrix=None, class_names=None,
                          normalize=None, cmap="Blues", title=None, path=None):
    """Draw a confusion matrix with counts (or rates) written in the cells.

    Args:
        y_true, y_pred: as ``confusion_matrix``; or pass ``matrix`` instead.
        matrix: a precomputed ``(K, K)`` matrix.
        class_names: ``K`` tick labels; default ``0..K-1``.
        normalize: as ``confusion_matrix``.
        cmap: colour map.
        title: axes title; default states the accuracy.
        path: if given, also save the figure there as PNG.

    Returns:
        The matplotlib ``Figure``.

    Example:
        >>> fig = plot_confusion_matrix([0, 1, 1], [0, 1, 0], class_names=["a", "b"])
        >>> fig.axes[0].get_title()
        'accuracy 0.667 (n=3)'
    """
    if matrix is None:
        if y_true is None or y_pred is None:
            raise ValueError("plot_confusion_matrix: pass y_true and y_pred, or matrix=.")
        counts = confusion_matrix(y_true, y_pred, num_classes=None if class_names is None
                                  else len(class_names))
        matrix = counts if normalize is None else confusion_matrix(
            y_true, y_pred, num_classes=counts.shape[0], normalize=normalize)
    else:
        matrix = np.asarray(matrix)
        counts = matrix
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(
            f"plot_confusion_matrix: matrix must be square (K, K). Received: shape={matrix.shape}"
        )
    k = matrix.shape[0]
    names = [str(i) for i in range(k)] if class_names is None else [str(c) for c in class_names]
    if len(names) != k:
        raise ValueError(
            f"plot_confusion_matrix: {len(names)} class_names for a {k}x{k} matrix."
        )
    size = min(max(3.0, 0.45 * k + 1.5), 14.0)
    fig, ax = new_figure(figsize=(size + 0.8, size))
    im = ax.imshow(matrix, cmap=cmap, interpolation="nearest")
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 2 else 0, fontsize=8)
    ax.set_yticks(range(k), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if k <= 30:
        thresh = (matrix.max() + matrix.min()) / 2.0
        for i in range(k):
            for j in range(k):
                v = matrix[i, j]
                text = f"{v:.2f}" if np.issubdtype(matrix.dtype, np.floating) else str(int(v))
                ax.text(j, i, text, ha="center", va="center", fontsize=7,
                        color="white" if v > thresh else "black")
    total = counts.sum()
    if title is None and np.issubdtype(np.asarray(counts).dtype, np.integer) and total:
        title = f"accuracy {np.trace(counts) / total:.3f} (n={int(total)})"
    if title:
        ax.set_title(title, fontsize=10)
    if path is not None:
        save_png(fig, path)
    return fig
