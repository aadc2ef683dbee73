"""One layer entry of a spec (``{Conv2D: {filters: 8}}``): parse it, build it, write it back.

:class:`LayerNode` holds a Keras layer given by name and arguments (or as an instance);
:func:`non_default_config` writes an instance back as the arguments that differ from its class's
defaults; :func:`build_sequence` applies a list of nodes to a tensor.

Example:
    >>> import keras
    >>> from deepkit.spec.context import BuildContext
    >>> node = LayerNode("Dense", kwargs={"units": 3})
    >>> tuple(node.build(keras.Input((2,)), BuildContext()).shape), node.to_data()
    ((None, 3), {'Dense': 3})
"""

import inspect
import re

import keras

from deepkit.errors import SpecError
from deepkit.naming import to_snake_case
from deepkit.spec import registry
from deepkit.spec.context import Where, plain_message
from deepkit.spec.objects import expand_object, plain_data, short_object

__all__ = ["policy_name", "non_default_config", "is_auto_name", "Node", "LayerNode", "as_nodes", "build_sequence"]

# Keyword arguments every Keras layer accepts through the base Layer class.
BASE_LAYER_KWARGS = {
    "name", "dtype", "trainable", "autocast", "activity_regularizer", "input_shape", "input_dim",
    "batch_size", "batch_input_shape",
}


# Constructor arguments through which a layer takes other layers (Bidirectional, TimeDistributed, RNN,
# StackedRNNCells, Pipeline, SpectralNormalization, and custom wrappers that use the same names). In a spec
# they hold nested layer entries: {Bidirectional: {layer: {LSTM: 8}}}, or {TimeDistributed: {Dense: 3}}.
LAYER_ARGUMENTS = ("layer", "backward_layer", "cell", "cells", "layers")


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
        out[key] = short_object(plain_data(value))
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


def is_auto_name(layer, auto):
    """True when a layer's name is the one deepkit or Keras would have made up (``dense``, ``dense_7``).

    Args:
        layer: a Keras layer.
        auto: the name deepkit's :class:`~deepkit.spec.context.BuildContext` would give it.

    Returns:
        A bool.

    Example:
        >>> import keras
        >>> is_auto_name(keras.layers.MaxPooling2D(name="max_pooling2d_3"), "pool")
        True
    """
    if layer.name == auto:
        return True
    return re.fullmatch(re.escape(to_snake_case(type(layer).__name__)) + r"(_\d+)?", layer.name) is not None


class Node:
    """Base class of spec nodes: ``build`` applies it to a Keras tensor, ``to_data`` writes it back.

    Example:
        >>> from deepkit.spec.combinators import Residual
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
        >>> from deepkit.spec.context import BuildContext
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
            >>> from deepkit.spec.context import BuildContext
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
            if self.layer.name != auto and not self.layer.built and is_auto_name(self.layer, auto):
                # A name Keras made up (dense_7) is not the user's: the layer is named as a spec entry at its
                # place would be (block1_dense), so that to_spec/from_spec keeps it.
                self.layer.name = auto
            self.explicit_name = None if is_auto_name(self.layer, auto) else self.layer.name
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
            kwargs = {k: plain_data(v) for k, v in self.kwargs.items()}
        else:
            if registry.spec_name_of(self.instance) is None and isinstance(self.instance, keras.Model):
                raise self.where.error(
                    f"layer '{self.instance.name}' is a whole Keras model (class {type(self.instance).__name__}, "
                    "e.g. from keras.applications): a spec lists layers and cannot hold a nested model's graph, so "
                    "this model has no spec. model.save('model.keras') keeps it whole; or write the nested model's "
                    "own layers as a spec.")
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


def as_nodes(items, where):
    """Spec entries (one or a list; dicts, names, nodes or Keras layers) as nodes.

    Args:
        items: an entry or a list of entries.
        where: the :class:`~deepkit.spec.context.Where` of ``items``.

    Returns:
        A list of nodes.

    Example:
        >>> from deepkit.spec.context import Where
        >>> [type(n).__name__ for n in as_nodes([{"Dense": 2}, "Flatten"], Where())]
        ['LayerNode', 'LayerNode']
    """
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
        >>> from deepkit.spec.context import BuildContext
        >>> import keras
        >>> y = build_sequence([LayerNode("Dense", [3]), LayerNode("Dense", [2])], keras.Input((4,)), BuildContext())
        >>> tuple(y.shape)
        (None, 2)
    """
    for node in nodes:
        x = node.build(x, ctx)
    return x
