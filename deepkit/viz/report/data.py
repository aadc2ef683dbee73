"""What the report reads besides the model: the data, the training history and the class names.

Everything here is checked before any section is computed, so a wrong argument ends in one clear
``ValueError`` (one line from ``deepkit report``) and never in a traceback inside the page.
"""

import os

import numpy as np

__all__ = ["load_data", "pick_samples", "check_history", "check_class_names", "num_classes"]


def _read_file(path):
    if path.endswith(".npy"):
        return np.load(path, allow_pickle=False), None
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise ValueError(f"report: cannot read data file {path!r}: {exc}") from None
    with archive as d:
        for xk, yk in (("x_test", "y_test"), ("x", "y"), ("x_train", "y_train")):
            if xk in d:
                return d[xk], (d[yk] if yk in d else None)
    raise ValueError(
        f"report: {path!r} holds arrays {sorted(d.keys())}; expected x_test "
        "(and y_test), x (and y) or x_train (and y_train)."
    )


def load_data(data, max_images=None):
    """Resolve the report's data argument to ``(x, y, name)`` arrays.

    Args:
        data: ``(x, y)`` arrays; ``x`` alone; a dataset name known to
            ``deepkit.datasets.load`` (its test split is used, e.g.
            ``"digits"``, ``"cifar10"``); or a path to an ``.npz`` file with
            ``x_test``/``y_test``, ``x``/``y`` or ``x_train``/``y_train`` (or
            an ``.npy`` file with images only).
        max_images: keep at most this many samples (the first ones).

    Returns:
        ``(x, y, name)``: ``y`` is ``None`` without labels; labels are class
        indices.

    Raises:
        ValueError: for an unusable file or a name that is neither a file nor
            a dataset.

    Example:
        >>> x, y, name = load_data((np.zeros((5, 4, 4, 1)), np.arange(5)), max_images=3)
        >>> x.shape, y.tolist(), name
        ((3, 4, 4, 1), [0, 1, 2], 'arrays')
    """
    name = "arrays"
    if isinstance(data, (str, os.PathLike)):
        path = os.fspath(data)
        if os.path.isfile(path):
            name = os.path.basename(path)
            x, y = _read_file(path)
        else:
            from deepkit import datasets

            try:
                (_, _), (x, y) = datasets.load(path)
            except ValueError as exc:
                raise ValueError(
                    f"report: --data {path!r} is neither a file nor a dataset name. {exc}"
                ) from None
            name = path
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
    else:
        x, y = data, None
    x = np.asarray(x)
    if x.dtype == np.uint8:
        x = x.astype("float32") / 255.0
    x = x.astype("float32")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            y = y.argmax(axis=1)
        y = y.reshape(-1).astype(np.int64)
        if len(y) != len(x):
            raise ValueError(f"report: {len(x)} inputs but {len(y)} labels.")
    if len(x) == 0:
        raise ValueError("report: the data set is empty.")
    if max_images is not None:
        x = x[:max_images]
        y = None if y is None else y[:max_images]
    return x, y, name


def pick_samples(y, n, total):
    """Indices of ``n`` samples: the first of each class in turn, then the first others.

    Args:
        y: class labels, or ``None`` (then the first ``n`` samples).
        n: how many (clipped to ``[1, total]``).
        total: the number of samples.

    Returns:
        Sorted indices.

    Example:
        >>> pick_samples(np.array([0, 0, 1, 1, 2]), 3, 5).tolist()
        [0, 2, 4]
    """
    n = max(1, min(int(n), total))
    if y is None:
        return np.arange(n)
    classes, firsts = np.unique(y, return_index=True)  # first sample of every class
    picked = list(firsts[np.argsort(classes)][:n])
    chosen = set(picked)
    for i in range(total):
        if len(picked) >= n:
            break
        if i not in chosen:
            picked.append(i)
    return np.array(sorted(int(i) for i in picked))


def check_history(history):
    """Read a training history now, so a missing or broken file is an error, not a note in the page.

    Args:
        history: ``None``, a ``keras.callbacks.History``, a dict of per-epoch
            lists, or the path of a JSON file holding one.

    Returns:
        ``None`` or the ``{metric: [value per epoch]}`` dict.

    Raises:
        ValueError: the file does not exist, is not JSON, or holds no
            per-epoch lists.

    Example:
        >>> check_history({"loss": [0.9, 0.5]})
        {'loss': [0.9, 0.5]}
        >>> check_history("no/such/history.json")
        Traceback (most recent call last):
        ...
        ValueError: report: history file 'no/such/history.json' not found; expected a JSON file of History.history (e.g. {"loss": [...], "val_loss": [...]}).
    """
    from deepkit.viz.curves import history_dict

    if history is None:
        return None
    if isinstance(history, (str, os.PathLike)):
        path = os.fspath(history)
        if not os.path.isfile(path):
            raise ValueError(f"report: history file {path!r} not found; expected a JSON file of "
                             'History.history (e.g. {"loss": [...], "val_loss": [...]}).')
        try:
            return history_dict(path)
        except ValueError as exc:  # json.JSONDecodeError included
            raise ValueError(f"report: history file {path!r} is unusable: "
                             f"{' '.join(str(exc).split())}") from None
    return history_dict(history)


def num_classes(model, y=None):
    """How many classes the model predicts (``None`` when its output is no class vector).

    Args:
        model: a ``keras.Model``.
        y: labels, used when the model's output does not say.

    Returns:
        The class count: the output units, 2 for one sigmoid unit, else
        ``max(y) + 1`` or ``None``.

    Example:
        >>> import keras
        >>> num_classes(keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)]))
        4
    """
    outputs = getattr(model, "outputs", None) or []
    if len(outputs) == 1 and len(outputs[0].shape) == 2 and outputs[0].shape[-1] is not None:
        units = int(outputs[0].shape[-1])
        return 2 if units == 1 else units
    return None if y is None else int(np.max(y)) + 1


def check_class_names(class_names, classes, model_name="the model"):
    """Check that there is one class name per class.

    Args:
        class_names: ``None`` or a list of names.
        classes: the class count (see :func:`num_classes`), or ``None``
            (nothing to check against).
        model_name: named in the message.

    Returns:
        The names as a list of strings, or ``None``.

    Raises:
        ValueError: the count differs.

    Example:
        >>> check_class_names(["cat", "dog"], 2)
        ['cat', 'dog']
        >>> check_class_names(["cat", "dog"], 3, "pets")
        Traceback (most recent call last):
        ...
        ValueError: report: 2 class names (cat, dog) but model 'pets' predicts 3 classes; give one name per class, in class order.
    """
    if class_names is None:
        return None
    names = [str(name) for name in class_names]
    if classes is not None and len(names) != classes:
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        raise ValueError(f"report: {len(names)} class names ({shown}) but model {model_name!r} predicts "
                         f"{classes} classes; give one name per class, in class order.")
    return names
