"""The building blocks of a spec: a layer, a residual block, parallel branches, a repeat, a group.

Each node builds itself onto a Keras tensor (functional API) and writes itself back as plain data
(``to_data``), so a model made from a spec can always print the spec it came from.

Example:
    >>> import keras
    >>> from deepkit.spec.nodes import Residual, BuildContext
    >>> block = Residual([{"Dense": 4}, {"Dense": 4}], activation="relu")
    >>> y = block.build(keras.Input((4,)), BuildContext())
    >>> tuple(y.shape)
    (None, 4)
    >>> block.to_data()
    {'residual': {'layers': [{'Dense': 4}, {'Dense': 4}], 'activation': 'relu'}}
"""

import inspect
import re

import keras

from deepkit.errors import SpecError
from deepkit.spec import registry

# Keyword arguments every Keras layer accepts through the base Layer class.
BASE_LAYER_KWARGS = {
    "name", "dtype", "trainable", "autocast", "activity_regularizer", "input_shape", "input_dim",
    "batch_size", "batch_input_shape",
}
# Constructor arguments through which a layer takes other layers (Bidirectional, TimeDistributed, RNN,
# StackedRNNCells, Pipeline, SpectralNormalization, and custom wrappers that use the same names). In a spec
# they hold nested layer entries: {Bidirectional: {layer: {LSTM: 8}}}, or {TimeDistributed: {Dense: 3}}.
LAYER_ARGUMENTS = ("layer", "backward_layer", "cell", "cells", "layers")
MERGES = {
    "add": keras.layers.Add, "concat": keras.layers.Concatenate, "multiply": keras.layers.Multiply,
    "average": keras.layers.Average, "maximum": keras.layers.Maximum, "minimum": keras.layers.Minimum,
    "subtract": keras.layers.Subtract,
}


def to_snake_case(name):
    """Keras' own naming rule: ``MaxPooling2D`` -> ``max_pooling2d``.

    Args:
        name: a class name.

    Returns:
        The snake-case name.

    Example:
        >>> to_snake_case("BatchNormalization")
        'batch_normalization'
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


class Where:
    """Where a node stands in its spec: path, line, column and source, for error messages.

    Args:
        path: tuple of keys and indices from the spec's root.
        marks: dict from path tuples to ``(line, column)``, both 1-based (from the YAML/JSON text).
        source: file name or ``"<string>"``.

    Example:
        >>> where = Where(("layers",), {("layers", 2): (7, 5)}, "net.yaml").child(2)
        >>> where.text(), str(where.error("bad"))
        ('layers[2]', 'net.yaml:7:5: layers[2]: bad')
    """

    def __init__(self, path=(), marks=None, source=None):
        self.path = tuple(path)
        self.marks = marks or {}
        self.source = source

    def child(self, *keys):
        """The location of a child of this node."""
        return Where(self.path + keys, self.marks, self.source)

    def text(self):
        """The path written as ``layers[3].residual.layers[0]``."""
        out = ""
        for key in self.path:
            out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
        return out or "spec"

    def error(self, message):
        """A SpecError located here (nearest known line of this path or its parents)."""
        line = column = None
        path = self.path
        while True:
            if path in self.marks:
                line, column = self.marks[path]
                break
            if not path:
                break
            path = path[:-1]
        return SpecError(message, path=self.text() if self.path else None, line=line, column=column,
                         source=self.source)


class BuildContext:
    """Naming state shared by all nodes while one model is built: unique, readable layer names.

    Example:
        >>> ctx = BuildContext()
        >>> ctx.claim(ctx.auto_name("dense"), Where())
        >>> ctx.prefix.append("block1")
        >>> ctx.auto_name("dense"), ctx.auto_name("conv2d")
        ('block1_dense', 'block1_conv2d')
    """

    def __init__(self, dtype_policy=None):
        self.used = set()
        self.prefix = []
        self.dtype_policy = dtype_policy

    def auto_name(self, base):
        """The next free name for a layer of the given base name, under the current block prefix."""
        stem = "_".join(self.prefix + [base])
        name, i = stem, 0
        while name in self.used:
            i += 1
            name = f"{stem}_{i}"
        return name

    def claim(self, name, where):
        """Reserve a name; a second layer with the same name is an error at ``where``."""
        if name in self.used:
            raise where.error(f"duplicate layer name '{name}': every layer of a model needs its own name.")
        self.used.add(name)


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# Arguments that take a Keras object by name: {HeNormal: {seed: 1}} as well as "he_normal".
_OBJECT_KINDS = {
    "_initializer": ("initializer", keras.initializers, keras.initializers.Initializer),
    "_regularizer": ("regularizer", keras.regularizers, keras.regularizers.Regularizer),
    "_constraint": ("constraint", keras.constraints, keras.constraints.Constraint),
}


def plain_message(exc):
    """An exception's message as plain text: no terminal colour codes, one line per line.

    Args:
        exc: an exception (or any object).

    Returns:
        The message without ANSI escape sequences.

    Example:
        >>> plain_message(ValueError("\x1b[1mbad\x1b[0m axis"))
        'bad axis'
    """
    return _ANSI.sub("", str(exc))


def _object_kind(key):
    for suffix, kind in _OBJECT_KINDS.items():
        if key.endswith(suffix):
            return kind
    return None


def _object_class(module, base, name):
    table = {n: getattr(module, n) for n in dir(module)
             if inspect.isclass(getattr(module, n)) and issubclass(getattr(module, n), base)}
    if name in table:
        return name, table[name]
    folded = [n for n in table if n.lower() == str(name).lower()]
    return (folded[0], table[folded[0]]) if len(folded) == 1 else (None, sorted(table))


def expand_object(key, value, where):
    """Turn the short form ``{HeNormal: {seed: 1}}`` of an initializer, regularizer or constraint argument
    into Keras' ``{"class_name": ..., "config": ...}``; other values are returned unchanged.

    Args:
        key: the argument name (``kernel_initializer``, ``bias_regularizer``, ``kernel_constraint``...).
        value: its value in the spec.
        where: the argument's location, for errors.

    Returns:
        The value Keras accepts.

    Raises:
        SpecError: an unknown class name or arguments it does not take.

    Example:
        >>> expand_object("kernel_initializer", {"HeNormal": {"seed": 1}}, Where())
        {'class_name': 'HeNormal', 'config': {'seed': 1}}
        >>> expand_object("kernel_regularizer", {"L2": 0.01}, Where())
        {'class_name': 'L2', 'config': {'l2': 0.01}}
    """
    kind = _object_kind(key)
    if kind is None or not isinstance(value, dict) or len(value) != 1 or "class_name" in value:
        return value
    what, module, base = kind
    name, body = next(iter(value.items()))
    found, cls = _object_class(module, base, name)
    if found is None:
        raise where.error(f"unknown {what} '{name}'.{registry.did_you_mean(name, cls)} Expected a "
                          f"keras.{module.__name__.split('.')[-1]} class, e.g. {{{cls[0]}: {{...}}}}.")
    params = [p for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
              if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if body is None:
        body = {}
    elif not isinstance(body, dict):
        if not params:
            raise where.error(f"{what} {found} takes no arguments. Received: {body!r}")
        body = {params[0].name: body}
    names = {p.name for p in params}
    for arg in body:
        if arg not in names:
            raise where.child(arg).error(f"{what} {found} has no argument '{arg}'.{registry.did_you_mean(arg, names)} "
                                         f"Valid arguments: {', '.join(sorted(names)) or 'none'}.")
    return {"class_name": found, "config": dict(body)}


def _short_object(value):
    """Keras' serialized initializer/regularizer/constraint/dtype policy, written short for a spec."""
    if not (isinstance(value, dict) and "class_name" in value and isinstance(value.get("config"), dict)):
        return value
    module = str(value.get("module") or "")
    name, config = value["class_name"], value["config"]
    if value.get("registered_name") not in (None, name):
        return value
    if module == "keras" and name in ("DTypePolicy", "FloatDTypePolicy") and set(config) == {"name"}:
        return config["name"]
    for _, (_, kind_module, base) in _OBJECT_KINDS.items():
        if module == kind_module.__name__ or module == f"keras.{kind_module.__name__.split('.')[-1]}":
            found, cls = _object_class(kind_module, base, name)
            if found is None:
                return value
            try:
                defaults = cls().get_config()
            except Exception:  # noqa: BLE001 - a class with required arguments: keep them all
                defaults = {}
            body = {k: _plain(v) for k, v in config.items() if k not in defaults or defaults[k] != v}
            return {found: body} if body else found
    return value


def _plain(value):
    """Tuples become lists (and nested layer nodes their data) so a spec dumps to YAML/JSON unchanged."""
    if isinstance(value, Node):
        return value.to_data()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _signature(cls):
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    named = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    takes_var_kwargs = any(p.kind == p.VAR_KEYWORD for p in params)
    required = [p.name for p in params
                if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return positional, named, takes_var_kwargs, required


def _is_layer_config(value):
    """True for a serialized layer (``{"class_name": "LSTM", "config": {...}, ...}``) of a spec-able class."""
    return (isinstance(value, dict) and "config" in value and registry.is_layer_name(value.get("class_name"))
            and str(value.get("module") or "keras").split(".")[0] in ("keras", "deepkit"))


def _layers_from_config(value):
    """Serialized layers (one or a list) as layer instances; other values unchanged."""
    if isinstance(value, (list, tuple)):
        return [_layers_from_config(v) for v in value]
    if _is_layer_config(value):
        return keras.saving.deserialize_keras_object(value)
    return value


def _comparable(value):
    """A config value with the names of nested layers removed (a wrapper renames what it wraps)."""
    if isinstance(value, (list, tuple)):
        return [_comparable(v) for v in value]
    if isinstance(value, dict):
        out = {k: _comparable(v) for k, v in value.items() if k not in ("build_config", "shared_object_id")}
        if _is_layer_config(value) and isinstance(out.get("config"), dict):
            out["config"].pop("name", None)
        return out
    return value


def policy_name(layer):
    """The name of a layer's dtype policy (``"float32"``, ``"mixed_bfloat16"``...).

    Args:
        layer: a Keras layer instance.

    Returns:
        The policy name as a string.

    Example:
        >>> import keras
        >>> policy_name(keras.layers.Dense(2, dtype="mixed_float16"))
        'mixed_float16'
    """
    return layer.dtype_policy.name


def _inherited_arguments(cls):
    """Named arguments of the base classes a layer passes ``**kwargs`` on to (``LSTM`` -> ``RNN``)."""
    names = set()
    for base in cls.__mro__[1:]:
        if isinstance(base, type) and issubclass(base, keras.layers.Layer) and base is not keras.layers.Layer:
            names |= _signature(base)[1]
    return names


def non_default_config(layer, base_dtype=None):
    """The arguments of a layer instance that differ from its class defaults, as plain data.

    Layers held by a wrapper (``Bidirectional``, ``TimeDistributed``, an ``RNN`` cell) become nested
    spec entries; the dtype policy is written by name, and only when it differs from ``base_dtype``.

    Args:
        layer: a Keras layer instance.
        base_dtype: the dtype policy name the model's layers get by default (``"float32"`` when None).

    Returns:
        A dict of constructor arguments (``name`` excluded).

    Example:
        >>> import keras
        >>> non_default_config(keras.layers.Conv2D(8, 3, padding="same"))
        {'filters': 8, 'kernel_size': [3, 3], 'padding': 'same'}
        >>> non_default_config(keras.layers.Bidirectional(keras.layers.LSTM(4), dtype="mixed_float16"))
        {'layer': {'LSTM': 4}, 'dtype': 'mixed_float16'}
    """
    config = layer.get_config()
    config.pop("dtype", None)
    _, _, _, required = _signature(type(layer))
    try:
        reference = type(layer)(**{k: _layers_from_config(config[k]) for k in required if k in config})
        reference = reference.get_config()
    except Exception:  # a layer whose defaults cannot be built alone: keep its full config
        reference = {}
    out = {}
    for key, value in config.items():
        if key == "name" or (key not in required and key in reference
                             and _comparable(reference[key]) == _comparable(value)):
            continue
        if key in LAYER_ARGUMENTS and value is not None:
            value = _nested_data(_layers_from_config(value), base_dtype)
        out[key] = _short_object(_plain(value))
    policy = policy_name(layer)
    if policy != (base_dtype or "float32"):
        out["dtype"] = policy
    return out


def _nested_data(value, base_dtype):
    """Layer instances held by a wrapper as spec entries."""
    if isinstance(value, (list, tuple)):
        return [_nested_data(v, base_dtype) for v in value]
    if isinstance(value, keras.layers.Layer):
        node = LayerNode(instance=value)
        node.base_dtype = base_dtype
        return node.to_data()
    return value


def _is_auto_name(layer, auto):
    """True when a layer's name is the one deepkit or Keras would have made up (``dense``, ``dense_7``)."""
    if layer.name == auto:
        return True
    return re.fullmatch(re.escape(to_snake_case(type(layer).__name__)) + r"(_\d+)?", layer.name) is not None


class Node:
    """Base class of spec nodes: ``build`` applies it to a Keras tensor, ``to_data`` writes it back.

    Example:
        >>> issubclass(Residual, Node) and issubclass(LayerNode, Node)
        True
    """

    def build(self, x, ctx):
        """Apply the node to Keras tensor ``x`` and return the output tensor."""
        raise NotImplementedError

    def to_data(self):
        """The node as plain spec data."""
        raise NotImplementedError


class LayerNode(Node):
    """One Keras layer, given by name and arguments or as a ready instance.

    Args:
        class_name: registry name of the layer (e.g. ``"Conv2D"``), when built from data.
        args: positional arguments.
        kwargs: keyword arguments.
        instance: a Keras layer instance (Python API), used as is.
        where: location in the spec for error messages.

    Example:
        >>> import keras
        >>> node = LayerNode("Conv2D", args=[8, 3], kwargs={"padding": "same"})
        >>> tuple(node.build(keras.Input((6, 6, 1)), BuildContext()).shape), node.to_data()
        ((None, 6, 6, 8), {'Conv2D': {'filters': 8, 'kernel_size': 3, 'padding': 'same'}})
    """

    base_dtype = None  # the model's dtype policy name, set when built; per-layer dtypes are written against it

    def __init__(self, class_name=None, args=(), kwargs=None, instance=None, where=None):
        self.where = where or Where()
        self.instance = instance
        self.layer = instance
        if instance is not None:
            self.class_name = registry.spec_name_of(instance) or type(instance).__name__
            self.kwargs = None
            self.explicit_name = None
            return
        self.class_name = class_name
        self.cls = registry.get_layer_class(class_name, **self._where_kwargs(self.where))
        args, kwargs = list(args), dict(kwargs or {})
        positional, named, _, _ = _signature(self.cls)
        if not args and len(kwargs) == 1 and positional and positional[0] in LAYER_ARGUMENTS:
            key = next(iter(kwargs))
            if key not in named and registry.is_layer_name(key):  # {TimeDistributed: {Dense: 3}}
                args, kwargs = [kwargs], {}
        self.kwargs = self._bind(args, kwargs)
        for key in LAYER_ARGUMENTS:
            if self.kwargs.get(key) is not None:
                self.kwargs[key] = self._nested(key, self.kwargs[key], self.where.child(key))
        self.explicit_name = self.kwargs.get("name")

    def _nested(self, key, value, where):
        """A nested layer entry (or a list of them) as LayerNodes."""
        if isinstance(value, (list, tuple)):
            return [self._nested(key, item, where.child(i)) for i, item in enumerate(value)]
        if isinstance(value, LayerNode):
            return value
        if isinstance(value, keras.layers.Layer):
            return LayerNode(instance=value, where=where)
        from deepkit.spec.parse import parse_entry

        node = parse_entry(value, where)
        if not isinstance(node, LayerNode):
            raise where.error(
                f"{self.class_name} argument '{key}' takes a layer entry such as {{LSTM: 8}} or a list of "
                f"them, not a '{node.kind}' block. Received: {value!r}")
        return node

    @staticmethod
    def _where_kwargs(where):
        err = where.error("")
        return dict(path=err.path, line=err.line, column=err.column, source=err.source)

    def _bind(self, args, kwargs):
        positional, named, var_kwargs, required = _signature(self.cls)
        if len(args) > len(positional):
            raise self.where.error(
                f"{self.class_name} takes at most {len(positional)} positional arguments "
                f"({', '.join(positional)}). Received {len(args)}: {args!r}")
        bound = dict(zip(positional, args))
        for key, value in kwargs.items():
            if not isinstance(key, str):
                raise self.where.error(f"argument names must be strings. Received: {key!r}")
            if key in bound:
                raise self.where.error(f"{self.class_name} got argument '{key}' twice (positionally and by name).")
            allowed = named | (BASE_LAYER_KWARGS | _inherited_arguments(self.cls) if var_kwargs else set())
            if key not in allowed:
                raise self.where.child(key).error(
                    f"{self.class_name} has no argument '{key}'.{registry.did_you_mean(key, allowed)} "
                    f"Valid arguments: {', '.join(sorted(named))}.")
            bound[key] = value
        params = {p.name: p for p in list(inspect.signature(self.cls.__init__).parameters.values())[1:]}
        for key, value in bound.items():
            param = params.get(key)
            if key == "name":
                if not isinstance(value, str) or not value.strip():
                    raise self.where.child(key).error(
                        f"{self.class_name} name must be a non-empty string (or left out for an automatic "
                        f"name). Received: name={value!r}")
            elif isinstance(value, bool) and param is not None and (
                    param.default is param.empty or (isinstance(param.default, (int, float))
                                                     and not isinstance(param.default, bool))):
                raise self.where.child(key).error(
                    f"{self.class_name} argument '{key}' must be a number, not a boolean. "
                    f"Received: {key}={str(value).lower()}")
            expand_object(key, value, self.where.child(key))  # checked now, expanded when built
        missing = [r for r in required if r not in bound]
        if missing:
            raise self.where.error(
                f"{self.class_name} needs argument(s) {', '.join(missing)}, e.g. "
                f"{{{self.class_name}: {{{missing[0]}: ...}}}}.")
        return bound

    def make_layer(self, ctx=None, name=None):
        """Create the Keras layer this node describes (nested layer entries become instances too).

        Args:
            ctx: the ``BuildContext`` that gives unused names (None: Keras chooses one).
            name: the layer name; None keeps the spec's name, else asks ``ctx``.

        Returns:
            The new layer (also kept as ``self.layer``), or the instance given to the node.

        Raises:
            SpecError: the layer's constructor refused the arguments.

        Example:
            >>> LayerNode("Dense", args=[3]).make_layer(BuildContext()).name
            'dense'
            >>> LayerNode("TimeDistributed", kwargs={"Dense": 3}).make_layer(name="td").layer.units
            3
        """
        if self.instance is not None:
            return self.instance
        kwargs = {k: _instantiate(expand_object(k, v, self.where.child(k))) for k, v in self.kwargs.items()}
        spec_name = kwargs.pop("name", None)
        name = name or spec_name or (ctx.auto_name(to_snake_case(self.class_name)) if ctx is not None else None)
        if name is not None:
            kwargs["name"] = name
        try:
            self.layer = self.cls(**kwargs)
        except SpecError:
            raise
        except Exception as exc:  # Keras validates arguments in constructors
            raise self.where.error(
                f"cannot create {self.class_name}: {plain_message(exc)}{self._quoted_arguments()}") from exc
        return self.layer

    def build(self, x, ctx):
        self.base_dtype = ctx.dtype_policy
        if self.instance is None:
            self.make_layer(ctx)
        else:
            auto = ctx.auto_name(to_snake_case(self.class_name))
            self.explicit_name = None if _is_auto_name(self.layer, auto) else self.layer.name
        ctx.claim(self.layer.name, self.where)
        try:
            y = self.layer(x)
        except Exception as exc:
            shape = tuple(x.shape) if hasattr(x, "shape") else [tuple(t.shape) for t in x]
            raise self.where.error(
                f"{self.class_name} '{self.layer.name}' cannot take an input of shape {shape}: "
                f"{plain_message(exc)}{self._quoted_arguments()}") from exc
        if y is x:
            raise self.where.error(
                f"{self.class_name} '{self.layer.name}' returns its input tensor itself, so a Keras functional "
                "model cannot hold it (the graph would have a cycle); it can only be used on data directly.")
        return y

    def _quoted_arguments(self):
        """`` (spec arguments: units=-3)``: Keras refuses some bad values only when the layer is built."""
        if self.instance is not None or not self.kwargs:
            return ""
        return " (spec arguments: " + ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items()) + ")"

    def to_data(self):
        if self.instance is None:
            kwargs = {k: _plain(v) for k, v in self.kwargs.items()}
        else:
            if registry.spec_name_of(self.instance) is None:
                raise self.where.error(
                    f"layer '{self.instance.name}' of class {type(self.instance).__name__} is not registered, "
                    "so it cannot be written as a spec; decorate the class with deepkit.spec.register_layer.")
            kwargs = non_default_config(self.instance, base_dtype=self.base_dtype)
            if self.explicit_name:
                kwargs["name"] = self.explicit_name
        if not kwargs:
            return self.class_name
        positional = _signature(self.cls if self.instance is None else type(self.instance))[0]
        if len(kwargs) == 1 and positional and positional[0] in kwargs:
            value = kwargs[positional[0]]
            # A list would read back as several positional arguments, a mapping as keyword arguments
            # (except a nested layer entry: {TimeDistributed: {Dense: 3}}).
            if not isinstance(value, (list, dict)) or (isinstance(value, dict) and positional[0] in LAYER_ARGUMENTS):
                return {self.class_name: value}
        return {self.class_name: kwargs}


def _instantiate(value):
    """Nested layer nodes of a wrapper's arguments as layer instances."""
    if isinstance(value, LayerNode):
        return value.make_layer()
    if isinstance(value, list):
        return [_instantiate(v) for v in value]
    return value


def _as_nodes(items, where):
    from deepkit.spec.parse import parse_entry  # parse builds nodes; nodes accept raw entries too

    if isinstance(items, (Node, keras.layers.Layer, dict, str)):
        items = [items]
    if not isinstance(items, (list, tuple)):
        raise where.error(f"expected a list of layers. Received: {items!r}")
    return [parse_entry(item, where.child(i)) for i, item in enumerate(items)]


def build_sequence(nodes, x, ctx):
    """Apply nodes one after another.

    Args:
        nodes: list of nodes.
        x: the input Keras tensor.
        ctx: the ``BuildContext``.

    Returns:
        The output Keras tensor.

    Example:
        >>> import keras
        >>> y = build_sequence([LayerNode("Dense", [3]), LayerNode("Dense", [2])], keras.Input((4,)), BuildContext())
        >>> tuple(y.shape)
        (None, 2)
    """
    for node in nodes:
        x = node.build(x, ctx)
    return x


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
        self.layers = _as_nodes(layers, self.where.child("layers"))
        self.shortcut = None if shortcut is None else _as_nodes(shortcut, self.where.child("shortcut"))
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
        self.branches = [_as_nodes(b, self.where.child("branches", i)) for i, b in enumerate(branches)]
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
        _as_nodes(self.template, self.where.child("layers"))  # validate once, early
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
            nodes = _as_nodes(self.template, self.where.child("layers"))
            self.copies.append(nodes)
            x = build_sequence(nodes, x, ctx)
        self._leave(ctx)
        return x

    def to_data(self):
        body = {"times": self.times, "layers": _plain(self.template)}
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
        self.layers = _as_nodes(layers, self.where.child("layers") if name else self.where)
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
        self.layers = _as_nodes(layers, self.where.child("layers"))
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
