"""Preprocessing a model carries: raw pixels in, the scaling its weights were trained with inside.

Following the Keras guidance to put preprocessing in the model, a zoo model built with ``preprocessing=``
starts with ``keras.layers.Rescaling(1/255)`` (and, given the training split's per-channel statistics,
``keras.layers.Normalization``), so a saved model takes raw uint8 images (0-255) and needs nothing else to
reproduce its accuracy. ``to_spec()`` shows these layers like any other.

==========================  ==================================================================
``preprocessing=``          first layers of the model (input: what it expects)
==========================  ==================================================================
``None`` (default)          none: the model takes whatever scale it is fed (e.g. floats in [0, 1])
``"rescale"``               ``Rescaling(1/255)``: raw 0-255 pixels
``{"mean": m, "std": s}``   ``Rescaling(1/255)`` then ``Normalization(mean=m, variance=s**2)``,
                            ``m`` and ``s`` per channel of ``pixels / 255`` (one value for grey
                            images): raw 0-255 pixels, standardized inside
==========================  ==================================================================

Example:
    >>> import numpy as np
    >>> from deepkit.models import create
    >>> stats = channel_statistics(np.array([[[[0]], [[255]]]], "uint8"))
    >>> stats
    {'mean': [0.5], 'std': [0.5]}
    >>> model = create("lenet5", preprocessing=stats)
    >>> [layer.name for layer in model.layers[1:3]], input_scale(model)
    (['rescale', 'normalize'], 255.0)
"""

import math

import numpy as np

__all__ = ["preprocessing_layers", "channel_statistics", "check_preprocessing", "describe", "input_scale",
           "input_range", "check_value_range"]

RAW_SCALE = 1.0 / 255.0


def check_preprocessing(preprocessing, where="deepkit.models"):
    """Check a ``preprocessing=`` value and return it as plain data (lists of floats).

    Args:
        preprocessing: ``None``, ``"rescale"`` or ``{"mean": ..., "std": ...}`` (numbers or one per channel).
        where: named in the error.

    Returns:
        ``None``, ``"rescale"`` or ``{"mean": [floats], "std": [floats]}``.

    Raises:
        ValueError: anything else, a mean/std length mismatch or a std that is not positive.

    Example:
        >>> check_preprocessing({"mean": 0.1307, "std": 0.3081})
        {'mean': [0.1307], 'std': [0.3081]}
    """
    if preprocessing is None or preprocessing == "rescale":
        return preprocessing
    expected = ('None, "rescale" (raw 0-255 pixels scaled to [0, 1]) or {"mean": [...], "std": [...]} '
                "(per-channel statistics of pixels / 255)")
    if not isinstance(preprocessing, dict) or set(preprocessing) != {"mean", "std"}:
        raise ValueError(f"{where}: preprocessing must be {expected}. Received: preprocessing={preprocessing!r}")
    mean, std = (np.atleast_1d(np.asarray(preprocessing[k], dtype="float64")).ravel().tolist()
                 for k in ("mean", "std"))
    if len(mean) != len(std) or not mean:
        raise ValueError(f"{where}: preprocessing mean and std need one value per channel, as many of each. "
                         f"Received: {len(mean)} means and {len(std)} stds")
    if any(not math.isfinite(v) for v in mean + std) or min(std) <= 0:
        raise ValueError(f"{where}: preprocessing std must be positive and every value finite. "
                         f"Received: preprocessing={preprocessing!r}")
    return {"mean": mean, "std": std}


def preprocessing_layers(preprocessing, channels=None):
    """The spec entries that do ``preprocessing`` (see the module table), to put first in a model.

    Args:
        preprocessing: a value accepted by :func:`check_preprocessing`.
        channels: the model's input channels, checked against per-channel statistics (None: not checked).

    Returns:
        A list of spec entries (empty for ``None``).

    Raises:
        ValueError: a bad value, or statistics for a different number of channels.

    Example:
        >>> preprocessing_layers({"mean": [0.5], "std": [0.25]})  # doctest: +NORMALIZE_WHITESPACE
        [{'Rescaling': {'scale': 0.00392156862745098, 'name': 'rescale'}},
         {'Normalization': {'axis': None, 'mean': 0.5, 'variance': 0.0625, 'name': 'normalize'}}]
    """
    preprocessing = check_preprocessing(preprocessing)
    if preprocessing is None:
        return []
    entries = [{"Rescaling": {"scale": RAW_SCALE, "name": "rescale"}}]
    if preprocessing == "rescale":
        return entries
    mean, std = preprocessing["mean"], preprocessing["std"]
    if len(mean) == 1:  # one value: any input rank (LeNet also takes (28, 28) images)
        norm = {"axis": None, "mean": mean[0], "variance": std[0] ** 2}
    else:
        if channels is not None and len(mean) != channels:
            raise ValueError(f"deepkit.models: preprocessing has statistics for {len(mean)} channels but the model "
                             f"takes {channels}. Received: mean={mean}")
        norm = {"axis": -1, "mean": mean, "variance": [s ** 2 for s in std]}
    return entries + [{"Normalization": {**norm, "name": "normalize"}}]


def channel_statistics(images):
    """Per-channel mean and standard deviation of ``images / 255`` (uint8 images, channels last).

    Args:
        images: array (N, H, W, C) or (N, H, W) of raw 0-255 pixels.

    Returns:
        ``{"mean": [...], "std": [...]}``, one value per channel, rounded to 6 digits.

    Example:
        >>> import numpy as np
        >>> channel_statistics(np.zeros((2, 4, 4, 3), "uint8"))["mean"]
        [0.0, 0.0, 0.0]
    """
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    axes = tuple(range(x.ndim - 1))
    # float64 sums in chunks: a float32 mean over 47M MNIST pixels would lose digits.
    total = np.zeros(x.shape[-1])
    squares = np.zeros(x.shape[-1])
    for start in range(0, len(x), 4096):
        part = x[start:start + 4096].astype("float64") * RAW_SCALE
        total += part.sum(axis=axes)
        squares += (part ** 2).sum(axis=axes)
    count = x.size / x.shape[-1]
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean ** 2, 1e-12))
    return {"mean": [round(float(v), 6) for v in mean], "std": [round(float(v), 6) for v in std]}


def describe(preprocessing):
    """One line saying what a model with this preprocessing takes.

    Args:
        preprocessing: a value accepted by :func:`check_preprocessing`.

    Returns:
        A string.

    Example:
        >>> describe("rescale")
        'raw 0-255 pixels (Rescaling 1/255 inside the model)'
    """
    preprocessing = check_preprocessing(preprocessing)
    if preprocessing is None:
        return "inputs as given (no preprocessing inside the model)"
    if preprocessing == "rescale":
        return "raw 0-255 pixels (Rescaling 1/255 inside the model)"
    fmt = ", ".join
    return (f"raw 0-255 pixels (Rescaling 1/255, then Normalization with mean "
            f"[{fmt(f'{v:.4f}' for v in preprocessing['mean'])}] and std "
            f"[{fmt(f'{v:.4f}' for v in preprocessing['std'])}] inside the model)")


def input_scale(model):
    """255.0 when the model takes raw 0-255 pixels (it starts with ``Rescaling(1/255)``), else 1.0.

    Data loaders and visualizations use it to feed the model the range it expects and to show images
    in raw pixel space.

    Args:
        model: a Keras model.

    Returns:
        ``255.0`` or ``1.0``.

    Example:
        >>> import keras
        >>> input_scale(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
        1.0
    """
    for layer in getattr(model, "layers", [])[:3]:
        if type(layer).__name__ == "Rescaling":
            scale = layer.get_config().get("scale")
            if isinstance(scale, (int, float)) and abs(float(scale) - RAW_SCALE) < 1e-9:
                return 255.0
            return 1.0
        if type(layer).__name__ not in ("InputLayer", "Reshape"):
            break
    return 1.0


def input_range(model):
    """The range of input values ``model`` takes: the one rule every method that writes images follows.

    ``(0.0, 255.0)`` for a model that takes raw pixels (it starts with ``Rescaling(1/255)``, as the zoo's
    models built with ``preprocessing=`` and the shipped LeNet-5 do), else ``(0.0, 1.0)``. Adversarial
    examples, DeepDream, fooling images and feature visualization write images in this range and measure
    their steps (``epsilon``, ``step_size``) as fractions of it.

    Args:
        model: a Keras model.

    Returns:
        ``(low, high)`` floats.

    Example:
        >>> import keras
        >>> raw = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Rescaling(1 / 255)])
        >>> input_range(raw), input_range(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
        ((0.0, 255.0), (0.0, 1.0))
    """
    return 0.0, input_scale(model)


def check_value_range(model, value_range, where, images=None):
    """``value_range`` as ``(low, high)`` floats (:func:`input_range` of ``model`` when None), checked against ``images``.

    Args:
        model: the model the images are for.
        value_range: ``(low, high)`` with ``high > low``, or None.
        where: the calling function, named in the error.
        images: optional array the method starts from; its values must lie in the range.

    Returns:
        ``(low, high)`` floats.

    Raises:
        ValueError: not a pair of finite numbers with ``high > low``, or images outside the range (raw
            0-255 pixels given to a model that takes [0, 1], say).

    Example:
        >>> import keras
        >>> check_value_range(keras.Sequential([keras.Input((2,))]), None, "example")
        (0.0, 1.0)
        >>> check_value_range(None, (0, 255), "example")
        (0.0, 255.0)
    """
    if value_range is None:
        lo, hi = input_range(model)
    else:
        try:
            lo, hi = (float(v) for v in value_range)
        except (TypeError, ValueError):
            lo = hi = float("nan")
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        raise ValueError(f"{where}: value_range must be (low, high) with high > low, or None for the model's "
                         f"input range. Received: value_range={value_range!r}")
    if images is not None and np.size(images):
        low, high = float(np.min(images)), float(np.max(images))
        slack = 1e-5 * (hi - lo)
        if low < lo - slack or high > hi + slack:
            what = "value_range" if value_range is not None else (
                f"the input range of model '{getattr(model, 'name', model)}' (deepkit.models.preprocessing."
                "input_range; pass value_range= for another)")
            raise ValueError(f"{where}: images must lie in [{lo:g}, {hi:g}], {what}. "
                             f"Received: images with values in [{low:g}, {high:g}]")
    return lo, hi
