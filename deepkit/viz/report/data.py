"""What the report reads besides the model: the data, the training history and the class names.

Everything here is checked before any section is computed, so a wrong argument ends in one clear
``ValueError`` (one line from ``deepkit report``) and never in a traceback inside the page.
"""

import os

import numpy as np

__all__ = ["check_model", "load_data", "pick_samples", "check_history", "check_class_names", "num_classes", "is_regression",
           "classifier_output"]


def check_model(model):
    """Check that the report can show ``model``: a graph (functional or Sequential) on one input of
    images ``(height, width, channels)`` or of vectors ``(features,)``.

    A model on vectors gets the atlas of what applies (see :mod:`deepkit.viz.report.vector_pages`);
    models on sequences or on several inputs are refused here, before anything is computed or written.

    Args:
        model: the ``keras.Model``.

    Returns:
        The input's shape: ``(height, width, channels)`` or ``(features,)``.

    Raises:
        ValueError: a model without a graph, with several inputs, or whose input is neither.

    Example:
        >>> import keras
        >>> check_model(keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3)]))
        (8, 8, 1)
        >>> check_model(keras.Sequential([keras.Input((20,)), keras.layers.Dense(3)]))
        (20,)
        >>> check_model(keras.Sequential([keras.Input((50, 3)), keras.layers.Conv1D(2, 3)], name="seq"))
        Traceback (most recent call last):
        ...
        ValueError: report: model 'seq' takes inputs of shape (50, 3); the report shows one input of images (height, width, channels), e.g. (28, 28, 1), or of vectors (features,); sequences (steps, features) are not shown yet.
    """
    try:
        inputs = list(model.inputs or [])
    except (AttributeError, ValueError):
        inputs = []
    if not inputs:
        raise ValueError(f"report: model {model.name!r} has no graph of layers (a subclassed model, or a "
                         "Sequential model not built); the report needs a functional or Sequential model "
                         "with a known input shape.")
    if len(inputs) != 1:
        raise ValueError(f"report: model {model.name!r} has {len(inputs)} inputs; the report shows one input "
                         "(images or vectors) at a time and needs a model with one input.")
    shape = tuple(inputs[0].shape[1:])
    if len(shape) not in (1, 3) or (len(shape) == 1 and shape[0] is None):
        raise ValueError(f"report: model {model.name!r} takes inputs of shape {shape}; the report shows one "
                         "input of images (height, width, channels), e.g. (28, 28, 1), or of vectors "
                         "(features,); sequences (steps, features) are not shown yet.")
    return shape


def is_regression(model):
    """Whether the model's one output is a single linear unit (a regression, not a classifier).

    Args:
        model: the ``keras.Model``.

    Returns:
        ``True`` for one ``(batch, 1)`` output whose last layer has no (or a linear) activation.

    Example:
        >>> import keras
        >>> is_regression(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
        True
        >>> is_regression(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, "sigmoid")]))
        False
    """
    import keras

    outputs = list(getattr(model, "outputs", None) or [])
    if len(outputs) != 1 or tuple(outputs[0].shape[1:]) != (1,):
        return False
    activation = getattr(model.layers[-1], "activation", None) if model.layers else None
    return activation is None or activation is keras.activations.linear


def classifier_output(model):
    """Why the model gives no class probabilities, or ``None`` when its one output is ``(batch, classes)``.

    Args:
        model: the ``keras.Model``.

    Returns:
        ``None``, or a sentence for the overview saying what is not shown and why.

    Example:
        >>> import keras
        >>> inp = keras.Input((4, 4, 1))
        >>> flat = keras.layers.Flatten()(inp)
        >>> two = keras.Model(inp, [keras.layers.Dense(3)(flat), keras.layers.Dense(2)(flat)])
        >>> classifier_output(two)[:50]
        'the model has 2 outputs: accuracy, confusion matri'
        >>> classifier_output(keras.Model(inp, keras.layers.Dense(3)(flat))) is None
        True
    """
    outputs = list(getattr(model, "outputs", None) or [])
    if is_regression(model):
        return "the model's output is one linear unit (a regression): no accuracy or confusion matrix"
    what = "accuracy, confusion matrix, attribution maps and class pages need one (batch, classes) output"
    if len(outputs) != 1:
        return f"the model has {len(outputs)} outputs: {what}"
    if len(outputs[0].shape) != 2:
        return f"the model's output has shape {tuple(outputs[0].shape)}: {what}"
    return None


def load_data(data, max_images=None, model=None, data_path=None):
    """Resolve the report's data argument to ``(x, y, name)`` arrays, fitted to ``model``.

    Args:
        data: ``(x, y)`` arrays; ``x`` alone; a dataset name or a data file / folder, as
            ``deepkit.datasets.resolve`` reads them (the test split, or the held-out validation split of a
            training-only file, e.g. ``"digits"``, ``"cifar10"``, ``"mnist-train.npz"``).
        max_images: keep at most this many samples (the first ones).
        model: the model the data are for: images are padded/resized to its input and scaled to the
            range it expects (raw 0-255 pixels for a model that starts with ``Rescaling(1/255)``);
            what was done is said in ``name``. uint8 arrays count as raw pixels, float arrays are taken
            to be in the model's range already.
        data_path: with a dataset name: a local file or folder (``--data-path``).

    Returns:
        ``(x, y, name)``: ``y`` is ``None`` without labels; labels are class indices; x is float32.

    Raises:
        ValueError: for an unusable file or a name that is neither a file nor a dataset.

    Example:
        >>> x, y, name = load_data((np.zeros((5, 4, 4, 1)), np.arange(5)), max_images=3)
        >>> x.shape, y.tolist(), name
        ((3, 4, 4, 1), [0, 1, 2], 'arrays')
    """
    from deepkit.datasets import prepare_for_model, resolve
    from deepkit.models.preprocessing import input_scale

    name, notes = "arrays", []
    regression = model is not None and is_regression(model)
    if regression and isinstance(data, (str, os.PathLike)) and os.fspath(data).endswith(".npz"):
        data, name, split = _regression_npz(os.fspath(data))  # targets are numbers, not class indices
        if split != "test":
            notes.append(f"its {split} split")
    if isinstance(data, (str, os.PathLike)):
        from deepkit.datasets import UnknownDatasetError

        try:
            resolved = resolve(data, data_path, purpose="evaluate")
        except UnknownDatasetError as exc:
            raise ValueError(f"report: --data {os.fspath(data)!r} is neither a file nor a dataset name. "
                             f"{str(exc).split(': ', 1)[-1]}") from None
        x, y, scale = resolved.x_test, resolved.y_test, resolved.pixel_scale
        name = os.path.basename(os.fspath(data)) if os.path.exists(os.fspath(data)) else os.fspath(data)
        if resolved.test_split != "test":
            notes.append(f"its {resolved.test_split} split")
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
        x = np.asarray(x)
        scale = 255.0 if x.dtype == np.uint8 else None
    else:
        x, y = np.asarray(data), None
        scale = 255.0 if x.dtype == np.uint8 else None
    x = np.asarray(x)
    if len(x) == 0:
        raise ValueError("report: the data set is empty.")
    if max_images is not None:
        x = x[:max_images]
        y = None if y is None else y[:max_images]
    if model is not None:
        if scale is None:
            scale = input_scale(model) if x.ndim >= 3 else None
        try:
            x, fitted = prepare_for_model(model, x, scale)
        except ValueError as exc:
            raise ValueError(f"report: the data do not fit model {model.name!r}: {exc}") from None
        notes += fitted
    elif scale == 255.0:
        x = x.astype("float32") / 255.0
    x = np.asarray(x).astype("float32")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            y = y.argmax(axis=1)
        y = y.reshape(-1).astype(np.float32 if regression else np.int64)
        if len(y) != len(x):
            raise ValueError(f"report: {len(x)} inputs but {len(y)} labels.")
    if notes:
        name = f"{name} ({'; '.join(notes)})"
    return x, y, name


def _regression_npz(path):
    """``((x, y), file name, split)`` of an ``.npz`` file for a regression (float targets, no pickles)."""
    try:
        with np.load(path, allow_pickle=False) as d:
            for x_key, y_key, split in (("x_test", "y_test", "test"), ("x", "y", "test"),
                                        ("x_train", "y_train", "train")):
                if x_key in d.files:
                    y = d[y_key] if y_key in d.files else None
                    return (d[x_key], y) if y is not None else d[x_key], os.path.basename(path), split
            raise ValueError(f"holds arrays {sorted(d.files)}; expected x_test and y_test, x and y, or x_train "
                             "and y_train")
    except (OSError, ValueError) as exc:
        raise ValueError(f"report: --data {path!r} is unusable: {exc}") from None


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
