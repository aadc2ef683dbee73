"""Receptive fields: which input pixels can influence one unit of a layer.

:func:`receptive_field` walks the layer graph (through :mod:`deepkit.viz.graph`, the one
graph walker of deepkit.viz) from the layer back to the input, composing each operation's
``(start, jump, size)`` per spatial axis; :mod:`deepkit.viz.activations` re-exports it and
uses it for top-k patches.
"""

import dataclasses
from fractions import Fraction

import keras
import numpy as np

from deepkit.backend import keras_internals
from deepkit.viz import graph

__all__ = ["ReceptiveField", "receptive_field"]




@dataclasses.dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of the units of one layer, per spatial axis (rows, cols).

    Unit ``(i, j)`` of the layer sees input pixels rows
    ``start[0] + i*stride[0]`` to ``start[0] + i*stride[0] + size[0] - 1``
    (and likewise for columns). ``start`` is negative where the field reaches
    into zero padding. ``size is None`` means the layer has no spatial axes
    left (after ``Flatten``, global pooling or ``Dense``): every unit sees the
    whole input.

    Attributes:
        size: tuple of ints (receptive field extent), or ``None``.
        stride: tuple of ints (input pixels between neighbouring units).
        start: tuple of ints (first input pixel seen by unit 0).

    Example:
        >>> rf = ReceptiveField(size=(3, 3), stride=(1, 1), start=(-1, -1))
        >>> rf.box((0, 0)), rf.is_global
        ((-1, -1, 2, 2), False)
    """

    size: tuple = None
    stride: tuple = None
    start: tuple = None

    @property
    def is_global(self):
        """True when every unit sees the whole input."""
        return self.size is None

    def box(self, position, image_shape=None):
        """Input box ``(y0, x0, y1, x1)`` (end exclusive) seen by the unit at ``position``.

        Args:
            position: unit coordinates, e.g. ``(i, j)``.
            image_shape: ``(H, W)``; when given, the box is clipped to it.

        Returns:
            A tuple of ints: the starts of every axis, then the ends.

        Example:
            >>> rf = ReceptiveField(size=(5, 5), stride=(2, 2), start=(-2, -2))
            >>> rf.box((0, 3)), rf.box((0, 3), image_shape=(8, 8))
            ((-2, 4, 3, 9), (0, 4, 3, 8))
        """
        if self.is_global:
            if image_shape is None:
                raise ValueError("ReceptiveField.box: a global field needs image_shape.")
            return tuple([0] * len(image_shape)) + tuple(int(s) for s in image_shape)
        starts = [int(s + p * j) for s, p, j in zip(self.start, position, self.stride)]
        ends = [s + int(r) for s, r in zip(starts, self.size)]
        if image_shape is not None:
            starts = [min(max(s, 0), n) for s, n in zip(starts, image_shape)]
            ends = [min(max(e, 0), n) for e, n in zip(ends, image_shape)]
        return tuple(starts) + tuple(ends)


_IDENTITY = "identity"


def _compose(outer, inner):
    """RF of ``inner`` (relative to a tensor) placed on ``outer`` (relative to the input)."""
    if outer is None or inner is None:
        return None
    return tuple(
        (s_a + s_b * j_a, j_a * j_b, r_a + (r_b - 1) * j_a)
        for (s_a, j_a, r_a), (s_b, j_b, r_b) in zip(outer, inner)
    )


def _union(rfs, where):
    rfs = [r for r in rfs if r is not _IDENTITY]
    if any(r is None for r in rfs):
        return None
    if not rfs:
        return _IDENTITY
    first = rfs[0]
    out = []
    for axis in range(len(first)):
        jumps = {r[axis][1] for r in rfs}
        if len(jumps) > 1:
            raise ValueError(
                f"receptive_field: branches merged at {where} have different strides {sorted(jumps)}."
            )
        start = min(r[axis][0] for r in rfs)
        end = max(r[axis][0] + r[axis][2] for r in rfs)
        out.append((start, first[axis][1], end - start))
    return tuple(out)


def _class_names(op):
    return {c.__name__ for c in type(op).__mro__}


def _spatial(shape, channels_first):
    shape = tuple(shape)
    return shape[2:] if channels_first else shape[1:-1]


def _same_pad(n, k, s):
    if n is None:  # unknown size: exact for stride 1, usual for others
        return (k - 1) // 2
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2


def _as_tuple(v, nd):
    if isinstance(v, int):
        return (v,) * nd
    return tuple(v)


def _probe_rf(op, in_shape, channels_first, seed=0):
    """Measure one op's per-axis ``(start, jump, size)`` by perturbing whole input rows/columns.

    Returns ``None`` when the op's influence pattern is not a regular sliding window.
    """
    from keras import ops

    shape = tuple(in_shape[1:])
    if any(d is None for d in shape):
        return None
    sp_axes = list(range(1, len(shape))) if channels_first else list(range(len(shape) - 1))
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=(1,) + shape).astype("float32")
    try:
        ref = np.asarray(ops.convert_to_numpy(op(x0)), np.float64)
    except Exception:
        return None
    result = []
    for k, axis in enumerate(sp_axes):
        n = shape[axis]
        changed = None
        for sign in (1.0, -1.0):
            batch = np.repeat(x0, n, axis=0)
            for r in range(n):
                index = [r] + [slice(None)] * len(shape)
                index[1 + axis] = r
                batch[tuple(index)] += sign * 1e3
            out = np.asarray(ops.convert_to_numpy(op(batch)), np.float64)
            if out.ndim != ref.ndim:
                return None
            out_axis = 1 + (sp_axes[k] if out.ndim == len(shape) + 1 else axis)
            diff = np.abs(out - ref) > 1e-5 * (np.abs(ref).max() + 1.0)
            other = tuple(a for a in range(1, out.ndim) if a != out_axis)
            hit = diff.any(axis=other)  # (n_in, n_out)
            changed = hit if changed is None else changed | hit
        los, his = [], []
        for i in range(changed.shape[1]):
            rows = np.nonzero(changed[:, i])[0]
            if rows.size == 0:
                return None
            los.append(int(rows.min()))
            his.append(int(rows.max()))
        interior = [i for i in range(len(los)) if los[i] > 0 and his[i] < n - 1]
        if len(interior) < 2:
            return None
        jumps = {los[b] - los[a] for a, b in zip(interior, interior[1:]) if b == a + 1}
        sizes = {his[i] - los[i] + 1 for i in interior}
        if len(jumps) != 1 or len(sizes) != 1:
            return None
        jump, size = jumps.pop(), sizes.pop()
        starts = {los[i] - i * jump for i in interior}
        if len(starts) != 1 or jump < 1:
            return None
        result.append((Fraction(starts.pop()), Fraction(jump), Fraction(size)))
    return tuple(result)


def _op_rf(op, in_shape, out_shape, nd, single_input=True):
    """Per-axis ``(start, jump, size)`` of one operation, ``None`` for global, or raise."""
    names = _class_names(op)
    fmt = getattr(op, "data_format", None)
    channels_first = fmt == "channels_first"
    if hasattr(op, "receptive_field_params"):
        return tuple(tuple(Fraction(v) for v in axis) for axis in op.receptive_field_params(in_shape))
    in_sp = _spatial(in_shape, channels_first)
    if names & {"BaseGlobalPooling", "Flatten"} or len(out_shape) < len(in_shape):
        return None
    if names & {"BaseConvTranspose", "UpSampling1D", "UpSampling2D", "UpSampling3D"}:
        raise ValueError(
            f"receptive_field: layer {op.name!r} ({type(op).__name__}) upsamples; receptive "
            "fields through upsampling are not supported."
        )
    if names & {"BaseConv", "BaseDepthwiseConv", "BaseSeparableConv", "BasePooling"}:
        if "BasePooling" in names:
            k, s, d = _as_tuple(op.pool_size, nd), _as_tuple(op.strides, nd), (1,) * nd
        else:
            k = _as_tuple(op.kernel_size, nd)
            s = _as_tuple(op.strides, nd)
            d = _as_tuple(op.dilation_rate, nd)
        pad = str(op.padding).lower()
        out = []
        for axis in range(nd):
            keff = d[axis] * (k[axis] - 1) + 1
            if pad == "valid":
                before = 0
            elif pad == "same":
                before = _same_pad(in_sp[axis], keff, s[axis])
            elif pad == "causal":
                before = keff - 1
            else:
                raise ValueError(
                    f"receptive_field: unknown padding {op.padding!r} in layer {op.name!r}."
                )
            out.append((Fraction(-before), Fraction(s[axis]), Fraction(keff)))
        return tuple(out)
    if names & {"ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"}:
        pads = op.padding
        if nd == 1 and isinstance(pads[0], int):
            pads = (tuple(pads),)
        return tuple((Fraction(-p[0]), Fraction(1), Fraction(1)) for p in pads)
    if names & {"Cropping1D", "Cropping2D", "Cropping3D"}:
        crops = op.cropping
        if nd == 1 and isinstance(crops[0], int):
            crops = (tuple(crops),)
        return tuple((Fraction(c[0]), Fraction(1), Fraction(1)) for c in crops)
    # Anything else: pointwise if it keeps the spatial size (activations, normalization,
    # dropout, merges, 1x1 style ops, Rescaling...), global if it drops spatial axes.
    if len(out_shape) < len(in_shape):
        return None
    if len(out_shape) == len(in_shape):
        out_sp = _spatial(out_shape, channels_first)
        if all(a == b or a is None or b is None for a, b in zip(in_sp, out_sp)):
            return _IDENTITY
        # A layer we do not know that changes the size (a custom strided shortcut, a pooling
        # written by hand...): measure its field by perturbing whole rows / columns.
        probed = _probe_rf(op, in_shape, channels_first) if single_input else None
        if probed is not None:
            return probed
    raise ValueError(
        f"receptive_field: cannot tell how layer {getattr(op, 'name', op)!r} "
        f"({type(op).__name__}) maps {tuple(in_shape)} to {tuple(out_shape)}. Give the layer a "
        "method receptive_field_params(input_shape) -> [(start, stride, size), ...] per axis."
    )


def _tensor_rf(tensor, nd, memo):
    key = id(tensor)
    if key in memo:
        return memo[key]
    produced = graph.producer(tensor)
    if produced is None:
        raise ValueError(f"receptive_field: tensor {tensor!r} is not part of a Keras graph.")
    op, node, tensor_index = produced
    if isinstance(op, keras.layers.InputLayer):
        memo[key] = _IDENTITY
        return _IDENTITY
    inputs = list(node.input_tensors)
    in_rfs = [_tensor_rf(t, nd, memo) for t in inputs]
    merged = _union(in_rfs, getattr(op, "name", type(op).__name__))
    if not inputs:
        merged = _IDENTITY
    if graph.is_container(op) and _graph_or_none(op) is not None:
        own = _tensor_rf(graph.inner_output(op, tensor_index), nd, {})
    else:
        in_shape = inputs[0].shape if inputs else tensor.shape
        own = _op_rf(op, in_shape, tensor.shape, nd, single_input=len(inputs) == 1)
    if own is _IDENTITY:
        result = merged
    elif merged is _IDENTITY:
        result = own
    else:
        result = _compose(merged, own)
    memo[key] = result
    return result


def _graph_or_none(model):
    try:
        return graph.graph_of(model)
    except (TypeError, ValueError):
        return None


def _call_node(parent, op):
    """The node of ``op`` in ``parent``'s graph (its first call anywhere if not found there)."""
    nodes = graph.nodes_of(graph.graph_of(parent), op)
    if nodes:
        return nodes[0]
    return keras_internals.operation_nodes(op)[0]


def receptive_field(model, layer):
    """Receptive field of a layer's units in the model's input image.

    Walks the layer graph from the layer back to the input, combining every
    convolution and pooling (kernel size, stride, dilation, ``"valid"`` /
    ``"same"`` / ``"causal"`` padding), zero-padding and cropping; layers
    that keep the spatial size count as pointwise; where branches merge
    (residual, inception) the union of their fields is taken. Layers inside
    nested models are placed through their model's call. A custom layer can
    define ``receptive_field_params(input_shape)`` returning
    ``[(start, stride, size), ...]`` per spatial axis; other unknown layers
    that change the spatial size (a strided shortcut, a hand-written pooling)
    are measured once by perturbing whole input rows and columns.

    Args:
        model: a functional or Sequential ``keras.Model``.
        layer: layer name, ``/`` path, index or object.

    Returns:
        A :class:`ReceptiveField`.

    Raises:
        ValueError: for layers whose spatial mapping is unknown
            (upsampling, transposed convolution, reshapes).

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((32, 32, 3)),
        ...     keras.layers.Conv2D(8, 3, padding="same", name="c1"),
        ...     keras.layers.MaxPooling2D(2, name="p1"),
        ...     keras.layers.Conv2D(8, 3, padding="same", name="c2")])
        >>> receptive_field(m, "c2")
        ReceptiveField(size=(8, 8), stride=(2, 2), start=(-3, -3))
    """
    lyr, chain = graph.resolve_with_chain(model, layer)
    in_shape = model.inputs[0].shape if getattr(model, "inputs", None) else model.input_shape
    nd = len(in_shape) - 2
    containers = [model] + list(chain)
    node = _call_node(containers[-1], lyr)
    out = node.outputs[0]
    rf = _tensor_rf(out, nd, {})
    for parent, child in zip(containers[-2::-1], containers[:0:-1]):
        pnode = _call_node(parent, child)
        outer = _union([_tensor_rf(t, nd, {}) for t in pnode.input_tensors], child.name)
        if outer is _IDENTITY:
            continue
        rf = outer if rf is _IDENTITY else _compose(outer, rf)
    if rf is None:
        return ReceptiveField(None, None, None)
    if rf is _IDENTITY:
        return ReceptiveField((1,) * nd, (1,) * nd, (0,) * nd)
    for s, j, r in rf:
        if j.denominator != 1 or s.denominator != 1 or r.denominator != 1:  # pragma: no cover
            raise ValueError("receptive_field: fractional receptive field (upsampling?).")
    return ReceptiveField(
        size=tuple(int(r) for _, _, r in rf),
        stride=tuple(int(j) for _, j, _ in rf),
        start=tuple(int(s) for s, _, _ in rf),
    )
