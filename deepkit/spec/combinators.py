"""The combinators of a spec: residual blocks, parallel branches, repeats, named groups, side outputs.

Each wraps a list of layer entries, builds them onto a Keras tensor under its own name prefix and
writes itself back as one entry (``{residual: {layers: [...]}}``).

Example:
    >>> import keras
    >>> from deepkit.spec.context import BuildContext
    >>> block = Residual([{"Dense": 4}, {"Dense": 4}], activation="relu")
    >>> tuple(block.build(keras.Input((4,)), BuildContext()).shape)
    (None, 4)
"""

import keras

from deepkit.spec import registry
from deepkit.spec.context import Where, plain_message
from deepkit.spec.layer_entry import LayerNode, Node, as_nodes, build_sequence
from deepkit.spec.objects import plain_data

__all__ = ["Residual", "Parallel", "Repeat", "Group", "SideOutput"]

# The keys each combinator entry takes (``{residual: {layers: [...], shortcut: [...]}}``).
COMBINATORS = {
    "residual": ("layers", "shortcut", "merge", "activation", "name"),
    "parallel": ("branches", "merge", "axis", "name"),
    "repeat": ("times", "layers", "name"),
    "sequential": ("layers", "name"),
    "side_output": ("layers", "name"),
}

MERGES = {
    "add": keras.layers.Add, "concat": keras.layers.Concatenate, "multiply": keras.layers.Multiply,
    "average": keras.layers.Average, "maximum": keras.layers.Maximum, "minimum": keras.layers.Minimum,
    "subtract": keras.layers.Subtract,
}


def _check_block_name(name, where):
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise where.child("name").error(f"a block name must be a non-empty string (or left out). Received: "
                                        f"name={name!r}")


class _Block(Node):
    """Shared naming for combinators: a named block prefixes the auto-names of its layers."""

    kind = ""

    def _enter(self, ctx):
        if self.name:
            ctx.prefix.append(self.name)

    def _leave(self, ctx):
        if self.name:
            ctx.prefix.pop()

    def _merge(self, tensors, merge, ctx, axis=-1, role=None):
        if merge not in MERGES:
            raise self.where.child("merge").error(
                f"unknown merge '{merge}'.{registry.did_you_mean(merge, MERGES)} Expected one of: {', '.join(MERGES)}.")
        name = ctx.auto_name(role or merge)
        ctx.claim(name, self.where)
        layer = MERGES[merge](axis=axis, name=name) if merge == "concat" else MERGES[merge](name=name)
        try:
            return layer(tensors)
        except Exception as exc:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise self.where.error(f"{self.kind} cannot {merge} its paths of shapes {shapes}: "
                                   f"{plain_message(exc)}") from exc


class Residual(_Block):
    """A residual block: ``merge(layers(x), shortcut(x))``, then an optional activation.

    Args:
        layers: the main path (list of layers, spec entries or nodes).
        shortcut: the shortcut path; ``None`` is the identity.
        merge: how the two paths join (``"add"`` by default; ``"concat"``, ``"multiply"``...).
        activation: activation applied after the merge (e.g. ``"relu"``), or None.
        name: block name; the block's layers are named ``<name>_<layer>``.

    Returns:
        A node for ``deepkit.Sequential`` or a spec.

    Example:
        >>> import deepkit, keras
        >>> m = deepkit.Sequential([deepkit.Residual([keras.layers.Dense(8, activation="relu"),
        ...                                           keras.layers.Dense(8)], activation="relu")],
        ...                        input_shape=(8,))
        >>> m.count_params()
        144
    """

    kind = "residual"

    def __init__(self, layers, shortcut=None, merge="add", activation=None, name=None, where=None):
        self.where = where or Where()
        self.layers = as_nodes(layers, self.where.child("layers"))
        self.shortcut = None if shortcut is None else as_nodes(shortcut, self.where.child("shortcut"))
        self.merge, self.activation, self.name = merge, activation, name
        _check_block_name(name, self.where)

    def build(self, x, ctx):
        self._enter(ctx)
        main = build_sequence(self.layers, x, ctx)
        short = x if self.shortcut is None else build_sequence(self.shortcut, x, ctx)
        if self.merge == "add" and tuple(main.shape) != tuple(short.shape):
            raise self.where.error(
                f"residual block: the main path gives shape {tuple(main.shape)} but the shortcut gives "
                f"{tuple(short.shape)}; they must match for 'add'. Add a shortcut that changes the shape "
                "(e.g. a 1x1 Conv2D with the same strides and filters as the main path).")
        y = self._merge([main, short], self.merge, ctx)
        if self.activation:
            name = ctx.auto_name("out")
            ctx.claim(name, self.where)
            y = keras.layers.Activation(self.activation, name=name)(y)
        self._leave(ctx)
        return y

    def to_data(self):
        body = {"layers": [n.to_data() for n in self.layers]}
        if self.shortcut is not None:
            body["shortcut"] = [n.to_data() for n in self.shortcut]
        if self.merge != "add":
            body["merge"] = self.merge
        if self.activation:
            body["activation"] = self.activation
        if self.name:
            body["name"] = self.name
        return {"residual": body}


class Parallel(_Block):
    """Parallel branches on the same input, joined by ``merge`` (Inception-style).

    Args:
        *branches: each a list of layers (an empty list is the identity).
        merge: ``"concat"`` (default), ``"add"``, ``"multiply"``, ``"average"``, ``"maximum"``...
        axis: the concatenation axis.
        name: block name, used as prefix of its layers' names.

    Returns:
        A node for ``deepkit.Sequential`` or a spec.

    Example:
        >>> import deepkit
        >>> m = deepkit.Sequential([deepkit.Parallel([{"Dense": 3}], [{"Dense": 5}])], input_shape=(4,))
        >>> tuple(m.output.shape)
        (None, 8)
    """

    kind = "parallel"

    def __init__(self, *branches, merge="concat", axis=-1, name=None, where=None):
        self.where = where or Where()
        if len(branches) < 2:
            raise self.where.error(f"parallel needs at least 2 branches. Received {len(branches)}.")
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise self.where.child("axis").error(
                f"parallel 'axis' must be an integer, the axis to concatenate along (-1: the channels). "
                f"Received: axis={axis!r}")
        _check_block_name(name, self.where)
        self.branches = [as_nodes(b, self.where.child("branches", i)) for i, b in enumerate(branches)]
        self.merge, self.axis, self.name = merge, axis, name

    def build(self, x, ctx):
        self._enter(ctx)
        outs = [build_sequence(b, x, ctx) for b in self.branches]
        rank = len(outs[0].shape)
        if self.merge == "concat" and not -rank <= self.axis < rank:
            shapes = ", ".join(str(tuple(t.shape)) for t in outs)
            raise self.where.child("axis").error(
                f"parallel 'axis' {self.axis} does not exist: the branches give rank-{rank} outputs of shapes "
                f"{shapes} (batch axis included), so the axis must be in [{-rank}, {rank - 1}]. "
                f"Received: axis={self.axis}")
        y = self._merge(outs, self.merge, ctx, axis=self.axis)
        self._leave(ctx)
        return y

    def to_data(self):
        body = {"branches": [[n.to_data() for n in b] for b in self.branches]}
        if self.merge != "concat":
            body["merge"] = self.merge
        if self.axis != -1:
            body["axis"] = self.axis
        if self.name:
            body["name"] = self.name
        return {"parallel": body}


class Repeat(_Block):
    """The same layers ``times`` times in a row, each repetition with its own weights.

    Args:
        times: how many repetitions (>= 1).
        layers: the layers to repeat, as spec entries or layer instances (instances are copied from
            their config, so each repetition gets fresh weights).
        name: block name, used as prefix of its layers' names.

    Returns:
        A node for ``deepkit.Sequential`` or a spec.

    Example:
        >>> import deepkit
        >>> m = deepkit.from_spec([deepkit.Repeat(3, [{"Dense": 4}])], input_shape=(4,))
        >>> len(m.layers)
        4
    """

    kind = "repeat"

    def __init__(self, times, layers, name=None, where=None):
        self.where = where or Where()
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise self.where.child("times").error(f"repeat 'times' must be a positive integer. Received: {times!r}")
        items = layers if isinstance(layers, (list, tuple)) else [layers]
        self.template = [self._as_data(item, i) for i, item in enumerate(items)]
        as_nodes(self.template, self.where.child("layers"))  # validate once, early
        self.times, self.name = times, name
        _check_block_name(name, self.where)
        self.copies = []

    def _as_data(self, item, i):
        if isinstance(item, keras.layers.Layer):
            node = LayerNode(instance=item, where=self.where.child("layers", i))
            data = node.to_data()
            if isinstance(data, dict):
                value = next(iter(data.values()))
                if isinstance(value, dict):
                    value.pop("name", None)
            return data
        if isinstance(item, Node):
            return item.to_data()
        return item

    def build(self, x, ctx):
        self._enter(ctx)
        self.copies = []
        for _ in range(self.times):
            nodes = as_nodes(self.template, self.where.child("layers"))
            self.copies.append(nodes)
            x = build_sequence(nodes, x, ctx)
        self._leave(ctx)
        return x

    def to_data(self):
        body = {"times": self.times, "layers": plain_data(self.template)}
        if self.name:
            body["name"] = self.name
        return {"repeat": body}


class Group(_Block):
    """A named sequence of layers (``{"sequential": [...]}``), e.g. one stage of a network.

    Args:
        layers: the layers in order.
        name: group name, used as prefix of its layers' names.

    Returns:
        A node for ``deepkit.Sequential`` or a spec.

    Example:
        >>> import deepkit
        >>> m = deepkit.from_spec([deepkit.Group([{"Dense": 2}], name="head")], input_shape=(3,))
        >>> m.layers[-1].name
        'head_dense'
    """

    kind = "sequential"

    def __init__(self, layers, name=None, where=None):
        self.where = where or Where()
        self.layers = as_nodes(layers, self.where.child("layers") if name else self.where)
        self.name = name
        _check_block_name(name, self.where)

    def build(self, x, ctx):
        self._enter(ctx)
        y = build_sequence(self.layers, x, ctx)
        self._leave(ctx)
        return y

    def to_data(self):
        layers = [n.to_data() for n in self.layers]
        if self.name:
            return {"sequential": {"layers": layers, "name": self.name}}
        return {"sequential": layers}


class SideOutput(_Block):
    """A side head: layers applied to the current tensor whose result becomes an extra, named model output;
    the main path continues from the block's input unchanged (GoogLeNet's auxiliary classifiers).

    A model with side outputs returns a dict ``{main_output_layer_name: main, <name>: side, ...}``, so
    ``compile`` takes per-output ``loss`` and ``loss_weights`` dicts with these keys.

    Args:
        layers: the head's layers.
        name: the output's name (required); it also prefixes the auto-names of the head's layers.

    Returns:
        A node for ``deepkit.from_spec`` (a ``deepkit.Sequential`` has one output).

    Example:
        >>> import deepkit
        >>> from deepkit.spec import SideOutput
        >>> m = deepkit.from_spec([{"Dense": {"units": 4, "name": "hidden"}},
        ...                        SideOutput([{"Dense": {"units": 2, "name": "aux_fc"}}], name="aux"),
        ...                        {"Dense": {"units": 3, "name": "fc"}}], input_shape=(5,))
        >>> import numpy as np
        >>> out = m(np.zeros((1, 5), "float32"))
        >>> {k: tuple(v.shape) for k, v in out.items()}, tuple(m.get_layer("fc").input.shape)
        ({'fc': (1, 3), 'aux': (1, 2)}, (None, 4))
    """

    kind = "side_output"

    def __init__(self, layers, name=None, where=None):
        self.where = where or Where()
        if not isinstance(name, str) or not name:
            raise self.where.error(f"side_output needs a 'name' (the name of the extra model output). "
                                   f"Received: name={name!r}")
        self.layers = as_nodes(layers, self.where.child("layers"))
        self.name = name

    def build(self, x, ctx):
        side = getattr(ctx, "side_outputs", None)
        if side is None:
            side = ctx.side_outputs = {}
        if self.name in side:
            raise self.where.error(f"duplicate side_output name '{self.name}': every output needs its own name.")
        self._enter(ctx)
        side[self.name] = build_sequence(self.layers, x, ctx)
        self._leave(ctx)
        return x

    def to_data(self):
        """The block as spec data: ``{"side_output": {"layers": [...], "name": ...}}``."""
        return {"side_output": {"layers": [n.to_data() for n in self.layers], "name": self.name}}
