"""Objectives for feature visualization, composable as in Lucid (``optvis/objectives.py``).

An :class:`Objective` maps the activations of a batch of images to one value per image;
:func:`deepkit.viz.featurevis.render` maximizes their sum. Objectives add, subtract and
scale: ``channel("conv2", 3) - 1e-3 * total_variation()``.

Batched channels: ``channel("conv2", range(64))`` asks image ``i`` of a batch of 64 to
maximize channel ``i``; all 64 visualizations are optimized together in one batch, which is
what makes feature visualization of whole layers fast on a GPU.

Inside an objective, ``T(key)`` returns a tensor: a layer's activation for the transformed
images (keys are layer names, ``/`` paths, indices or layer objects), ``T("input")`` the
images before transforms (what is displayed) and ``T("logits")`` the pre-softmax outputs.
"""

import numbers

import numpy as np
from keras import ops

__all__ = [
    "Objective",
    "pre_activation",
    "as_objective",
    "channel",
    "neuron",
    "layer",
    "deepdream",
    "direction",
    "class_logit",
    "class_probability",
    "total_variation",
    "l1",
    "l2",
    "diversity",
]

INPUT = "input"
LOGITS = "logits"


class pre_activation:  # noqa: N801 - reads like the Lucid layer suffix "_pre_relu"
    """Refer to a layer's output before its activation (e.g. before the ReLU).

    Lucid optimizes ``*_pre_relu`` tensors: an inactive ReLU has zero gradient, so a channel
    that is off everywhere for the initial noise can never be switched on through it. The
    pre-activation keeps gradients flowing; its maximum is also a maximum of the ReLU output.

    Args:
        layer: Layer reference with an activation (``Conv2D(..., activation="relu")``) or an
            activation layer (``ReLU``, ``Activation``), whose input is then used.

    Returns:
        A reference usable wherever objectives take a layer.

    Example:
        >>> channel(pre_activation("conv2"), 3).name
        'channel(pre_activation(conv2), 3)'
    """

    def __init__(self, layer):
        self.layer = layer

    def __repr__(self):
        return f"pre_activation({self.layer})"


def _ref(layer, pre):
    return pre_activation(layer) if pre and not isinstance(layer, pre_activation) else layer


class Objective:
    """A differentiable function of activations giving one value per image of the batch.

    Args:
        fn: ``fn(T, batch) -> tensor of shape (batch,)``. ``T(layer)`` returns activations.
        layers: The layer references ``fn`` reads through ``T`` (besides ``"input"``).
        batch: The batch size the objective needs (e.g. one image per channel), or ``None``.
        name: A readable description, used in ``repr`` and reports.

    Returns:
        An objective; ``+``, ``-``, unary ``-``, ``*`` and ``/`` by numbers (and ``+``/``-``
        with other objectives) make new ones.

    Example:
        >>> obj = channel("conv", 3) - 0.01 * total_variation()
        >>> obj.name
        'channel(conv, 3) - 0.01 * total_variation()'
        >>> sorted(obj.layers, key=str)
        ['conv']
    """

    def __init__(self, fn, layers=(), batch=None, name="objective"):
        self.fn = fn
        self.layers = list(dict.fromkeys(layers, None))
        self.batch = batch
        self.name = name

    def __call__(self, T, batch):
        return self.fn(T, batch)

    def __repr__(self):
        return f"Objective({self.name})"

    @staticmethod
    def _merge_batch(a, b):
        if a is not None and b is not None and a != b:
            raise ValueError(
                f"Objectives need different batch sizes and cannot be combined. "
                f"Received: batch sizes {a} and {b}"
            )
        return a if a is not None else b

    def __add__(self, other):
        if isinstance(other, numbers.Number):
            value = float(other)
            return Objective(lambda T, b: self(T, b) + value, self.layers, self.batch,
                             f"{self.name} + {value:g}")
        other = as_objective(other)
        return Objective(
            lambda T, b: self(T, b) + other(T, b),
            self.layers + other.layers,
            self._merge_batch(self.batch, other.batch),
            f"{self.name} + {other.name}",
        )

    __radd__ = __add__

    def __neg__(self):
        return Objective(lambda T, b: -self(T, b), self.layers, self.batch, f"-{self.name}")

    def __sub__(self, other):
        if isinstance(other, numbers.Number):
            return self + (-float(other))
        other = as_objective(other)
        return Objective(
            lambda T, b: self(T, b) - other(T, b),
            self.layers + other.layers,
            self._merge_batch(self.batch, other.batch),
            f"{self.name} - {other.name}",
        )

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):
        if not isinstance(other, numbers.Number):
            raise TypeError(
                f"Objectives are scaled by numbers only. Received: {other!r} of type "
                f"{type(other).__name__}"
            )
        value = float(other)
        return Objective(lambda T, b: value * self(T, b), self.layers, self.batch,
                         f"{value:g} * {self.name}")

    __rmul__ = __mul__

    def __truediv__(self, other):
        if not isinstance(other, numbers.Number) or other == 0:
            raise TypeError(f"Objectives are divided by non-zero numbers only. Received: {other!r}")
        return self * (1.0 / float(other))


def as_objective(obj):
    """Accept an :class:`Objective`, or ``"layer:channel"`` shorthand strings.

    Args:
        obj: An ``Objective``; a string ``"conv2:7"`` (channel 7 of ``conv2``); or a string
            naming a layer (``layer`` objective, DeepDream-style).

    Returns:
        An :class:`Objective`.

    Example:
        >>> as_objective("conv2:7").name
        'channel(conv2, 7)'
    """
    if isinstance(obj, Objective):
        return obj
    if isinstance(obj, str):
        if ":" in obj:
            name, index = obj.rsplit(":", 1)
            if index.strip().lstrip("-").isdigit():
                return channel(name, int(index))
        return layer(obj)
    raise TypeError(
        f"Expected an Objective or a 'layer:channel' string. Received: {obj!r} of type "
        f"{type(obj).__name__}"
    )


def _indices(index, what):
    """(array of indices or None, batch size implied or None, is_batched)."""
    if isinstance(index, numbers.Integral):
        return int(index), None, False
    try:
        values = [int(i) for i in index]
    except TypeError:
        raise TypeError(f"{what} index must be an int or a sequence of ints. Received: {index!r}") from None
    if not values:
        raise ValueError(f"{what} index sequence is empty. Received: {index!r}")
    return np.asarray(values), len(values), True


def _check_channels(act, idx, layer_ref, what):
    channels = act.shape[-1]
    top = int(np.max(idx))
    low = int(np.min(idx))
    if channels is not None and (top >= channels or low < -channels):
        bad = top if top >= channels else low
        raise ValueError(
            f"{what}: layer {layer_ref!r} has {channels} channels (0..{channels - 1}). "
            f"Received: index={bad}"
        )


def _spatial_mean(a):
    if len(a.shape) <= 2:
        return a
    return ops.mean(a, axis=tuple(range(1, len(a.shape) - 1)))


def _select(values, idx, batched, batch_sel):
    """values (B, C) -> (B,) picking channel idx (per element when batched)."""
    if batched:
        onehot = ops.one_hot(ops.convert_to_tensor(idx % values.shape[-1]), values.shape[-1],
                             dtype=values.dtype)
        picked = ops.sum(values * onehot, axis=-1)
    else:
        picked = values[:, idx]
    if batch_sel is not None:
        mask = np.zeros((values.shape[0],), "float32")
        mask[batch_sel] = 1.0
        picked = picked * ops.convert_to_tensor(mask, dtype=picked.dtype)
    return picked


def channel(layer, index, batch=None, pre_activation=False):
    """Mean activation of a channel (over all positions): the classic feature visualization.

    Args:
        layer: Layer reference (name, ``/`` path, index or object).
        index: Channel index; or a sequence of channel indices, one per image of the batch
            (image ``i`` maximizes channel ``index[i]``), which fixes the batch size.
        batch: Only this image of the batch gets the objective (Lucid's ``batch=``), others 0.
        pre_activation: Use the layer's output before its activation (see
            :class:`pre_activation`).

    Returns:
        An :class:`Objective`.

    Example:
        >>> channel("conv", range(8)).batch
        8
    """
    idx, implied, batched = _indices(index, "channel")
    layer = _ref(layer, pre_activation)

    def fn(T, b):
        act = T(layer)
        _check_channels(act, idx, layer, "channel")
        return _select(_spatial_mean(act), idx, batched, batch)

    label = f"{index}" if not batched else f"[{idx[0]}..{idx[-1]}]" if len(idx) > 1 else f"[{idx[0]}]"
    return Objective(fn, [layer], implied, f"channel({layer}, {label})")


def neuron(layer, index, x=None, y=None, batch=None, pre_activation=False):
    """Activation of one unit of a channel at one position (default: the centre).

    Args:
        layer: Layer reference. Dense layers (2-D outputs) have no position.
        index: Channel index, or one per image (as in :func:`channel`).
        x: Column of the unit; default ``width // 2``.
        y: Row of the unit; default ``height // 2``.
        batch: Only this image of the batch gets the objective.
        pre_activation: Use the layer's output before its activation.

    Returns:
        An :class:`Objective`.

    Example:
        >>> neuron("conv", 2, x=1, y=1).name
        'neuron(conv, 2, x=1, y=1)'
    """
    idx, implied, batched = _indices(index, "neuron")
    layer = _ref(layer, pre_activation)

    def fn(T, b):
        act = T(layer)
        _check_channels(act, idx, layer, "neuron")
        if len(act.shape) == 4:
            h, w = act.shape[1], act.shape[2]
            yy = h // 2 if y is None else y
            xx = w // 2 if x is None else x
            if not (0 <= yy < h and 0 <= xx < w):
                raise ValueError(
                    f"neuron: position (y={yy}, x={xx}) is outside layer {layer!r} of size "
                    f"{h}x{w}. Received: x={x}, y={y}"
                )
            act = act[:, yy, xx, :]
        elif len(act.shape) != 2:
            act = _spatial_mean(act)
        return _select(act, idx, batched, batch)

    return Objective(fn, [layer], implied, f"neuron({layer}, {index}, x={x}, y={y})")


def layer(layer, batch=None):
    """Mean squared activation of a whole layer (Lucid's ``deepdream`` objective).

    Args:
        layer: Layer reference.
        batch: Only this image of the batch gets the objective.

    Returns:
        An :class:`Objective`.

    Example:
        >>> layer("mixed4").name
        'layer(mixed4)'
    """

    def fn(T, b):
        act = T(layer)
        value = ops.mean(ops.square(act), axis=tuple(range(1, len(act.shape))))
        if batch is not None:
            mask = np.zeros((act.shape[0],), "float32")
            mask[batch] = 1.0
            value = value * ops.convert_to_tensor(mask, dtype=value.dtype)
        return value

    return Objective(fn, [layer], None, f"layer({layer})")


deepdream = layer


def direction(layer, vector, batch=None):
    """Mean dot product of the activations with a direction in channel space.

    Args:
        layer: Layer reference.
        vector: Array of length ``channels``.
        batch: Only this image of the batch gets the objective.

    Returns:
        An :class:`Objective`.

    Example:
        >>> direction("conv", [1.0, 0.0, -1.0]).name
        'direction(conv)'
    """
    vec = np.asarray(vector, "float32").reshape(-1)

    def fn(T, b):
        act = T(layer)
        if act.shape[-1] != vec.shape[0]:
            raise ValueError(
                f"direction: layer {layer!r} has {act.shape[-1]} channels. "
                f"Received: vector of length {vec.shape[0]}"
            )
        value = _spatial_mean(ops.sum(act * ops.convert_to_tensor(vec, dtype=act.dtype), axis=-1)[..., None])[:, 0]
        if batch is not None:
            mask = np.zeros((act.shape[0],), "float32")
            mask[batch] = 1.0
            value = value * ops.convert_to_tensor(mask, dtype=value.dtype)
        return value

    return Objective(fn, [layer], None, f"direction({layer})")


def class_logit(index, batch=None):
    """Pre-softmax score of a class (softmax/sigmoid at the model's end is skipped).

    Args:
        index: Class index, or one per image.
        batch: Only this image of the batch gets the objective.

    Returns:
        An :class:`Objective`.

    Example:
        >>> class_logit([0, 1, 2]).batch
        3
    """
    obj = neuron(LOGITS, index, batch=batch)
    obj.name = f"class_logit({index})"
    return obj


def class_probability(index, log=True, batch=None):
    """Softmax probability of a class (its log by default), from the model's logits.

    Unlike :func:`class_logit`, raising it also pushes the other classes down: the objective
    of "fooling images" (Nguyen et al. 2015) that the model classifies with near certainty.
    A model with a single sigmoid output uses the sigmoid.

    Args:
        index: Class index, or one per image.
        log: Use the log-probability (better conditioned gradients near certainty).
        batch: Only this image of the batch gets the objective.

    Returns:
        An :class:`Objective`.

    Example:
        >>> class_probability(3).name
        'class_probability(3, log=True)'
    """
    idx, implied, batched = _indices(index, "class_probability")

    def fn(T, b):
        logits = T(LOGITS)
        _check_channels(logits, idx, LOGITS, "class_probability")
        if logits.shape[-1] == 1:
            values = ops.log_sigmoid(logits) if log else ops.sigmoid(logits)
        else:
            values = ops.log_softmax(logits, axis=-1) if log else ops.softmax(logits, axis=-1)
        return _select(values, idx, batched, batch)

    return Objective(fn, [LOGITS], implied, f"class_probability({index}, log={log})")


def total_variation(batch=None):
    """Total variation of the displayed images (sum of absolute neighbour differences).

    Subtract it (``obj - w * total_variation()``) to discourage high-frequency noise.
    Normalised per pixel so weights do not depend on the image size.

    Args:
        batch: Only this image of the batch is penalised.

    Returns:
        An :class:`Objective` (non-negative values).

    Example:
        >>> total_variation().name
        'total_variation()'
    """

    def fn(T, b):
        img = T(INPUT)
        dy = ops.mean(ops.abs(img[:, 1:] - img[:, :-1]), axis=(1, 2, 3))
        dx = ops.mean(ops.abs(img[:, :, 1:] - img[:, :, :-1]), axis=(1, 2, 3))
        value = dx + dy
        if batch is not None:
            mask = np.zeros((img.shape[0],), "float32")
            mask[batch] = 1.0
            value = value * ops.convert_to_tensor(mask, dtype=value.dtype)
        return value

    return Objective(fn, [], None, "total_variation()")


def _norm(p, constant, batch, name):
    def fn(T, b):
        img = T(INPUT) - constant
        if p == 1:
            value = ops.mean(ops.abs(img), axis=(1, 2, 3))
        else:
            value = ops.sqrt(ops.mean(ops.square(img), axis=(1, 2, 3)) + 1e-12)
        if batch is not None:
            mask = np.zeros((img.shape[0],), "float32")
            mask[batch] = 1.0
            value = value * ops.convert_to_tensor(mask, dtype=value.dtype)
        return value

    return Objective(fn, [], None, name)


def l1(constant=0.5, batch=None):
    """Mean absolute deviation of the displayed images from ``constant`` (subtract it).

    Args:
        constant: Reference value (0.5 = mid grey for images in [0, 1]).
        batch: Only this image of the batch is penalised.

    Returns:
        An :class:`Objective`.

    Example:
        >>> l1().name
        'l1(0.5)'
    """
    return _norm(1, constant, batch, f"l1({constant:g})")


def l2(constant=0.5, batch=None):
    """Root-mean-square deviation of the displayed images from ``constant`` (subtract it).

    Args:
        constant: Reference value.
        batch: Only this image of the batch is penalised.

    Returns:
        An :class:`Objective`.

    Example:
        >>> l2(0.0).name
        'l2(0)'
    """
    return _norm(2, constant, batch, f"l2({constant:g})")


def diversity(layer):
    """Lucid's diversity term: minus the mean cosine similarity of the images' Gram matrices.

    Add it (``channel(...) + w * diversity(layer)``) to a batch that optimizes one objective
    so that the images show different facets of it.

    Args:
        layer: Layer whose feature correlations are compared.

    Returns:
        An :class:`Objective` (the same value is given to every image).

    Example:
        >>> diversity("conv").name
        'diversity(conv)'
    """

    def fn(T, b):
        act = T(layer)
        n = act.shape[0]
        flat = ops.reshape(act, (n, -1, act.shape[-1]))
        gram = ops.matmul(ops.transpose(flat, (0, 2, 1)), flat)
        gram = ops.reshape(gram, (n, -1))
        gram = gram / (ops.sqrt(ops.sum(gram * gram, axis=-1, keepdims=True)) + 1e-8)
        sim = ops.matmul(gram, ops.transpose(gram))
        off = (ops.sum(sim) - ops.sum(ops.diagonal(sim))) / max(n * (n - 1), 1)
        return -off * ops.ones((n,), dtype=act.dtype)

    return Objective(fn, [layer], None, f"diversity({layer})")
