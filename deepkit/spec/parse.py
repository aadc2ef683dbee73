"""Read a spec (dict, list, YAML or JSON text or file) into nodes, keeping line numbers for errors.

YAML goes through ``yaml.safe_load`` only, so tags that construct Python objects are refused; a spec can
name registered layers and give them plain values (strings, numbers, booleans, null, lists, mappings),
nothing else. Reading text lives in :mod:`deepkit.spec.source`, the size and nesting limits in
:mod:`deepkit.spec.limits`; both are re-exported here.

Example:
    >>> from deepkit.spec.parse import load_document
    >>> doc = load_document("input_shape: [4]\\nlayers:\\n  - Dense: 3\\n")
    >>> doc.input_shape, len(doc.nodes)
    ([4], 1)
"""

import sys

import keras

from deepkit.spec import nodes as N
from deepkit.spec import registry
from deepkit.spec.combinators import COMBINATORS
from deepkit.spec.limits import (DEFAULT_LIMITS, LIMITS, check_data_limits, count_spec_layers, get_limit,
                                 limit_error, spec_limits)
from deepkit.spec.source import Document, read_source

__all__ = [
    "COMBINATORS", "DEFAULT_LIMITS", "Document", "INPUT_NAMES", "LIMITS", "PLAIN_SCALARS", "TOP_LEVEL_KEYS",
    "check_data_limits", "count_spec_layers", "get_limit", "input_dtype", "limit_error", "load_document", "parse_document",
    "parse_entry", "read_source", "spec_limits",
]

TOP_LEVEL_KEYS = ("name", "input_shape", "dtype_policy", "layers", "description")


INPUT_NAMES = ("Input", "InputLayer")


PLAIN_SCALARS = (str, int, float, bool, type(None))


def _check_plain(value, where):
    if isinstance(value, PLAIN_SCALARS):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(item, where.child(i))
        return
    if isinstance(value, dict):
        if value.get("class_name") == "__lambda__" or "__lambda__" in value:
            raise where.error("serialized Python lambdas are refused: a spec is data and may not carry code.")
        module = value.get("module")
        if (isinstance(module, str) and module.split(".")[0] not in ("keras", "deepkit")
                and not registry.is_registered_object(value)):
            raise where.error(f"a spec may only refer to keras or deepkit objects, or objects registered with "
                              f"@keras.saving.register_keras_serializable(). Received: module={module!r}")
        for key, item in value.items():
            if not isinstance(key, str):
                raise where.error(f"mapping keys must be strings. Received: {key!r}")
            _check_plain(item, where.child(key))
        return
    raise where.error(
        f"spec values must be plain data (str, int, float, bool, None, list, dict). Received: "
        f"{type(value).__name__}. In Python, pass a configured Keras layer instance instead.")


def _combinator(kind, body, where):
    allowed = COMBINATORS[kind]
    if kind in ("sequential", "residual", "side_output") and isinstance(body, list):
        body = {"layers": body}
    if kind == "parallel" and isinstance(body, list):
        body = {"branches": body}
    if not isinstance(body, dict):
        raise where.error(f"'{kind}' expects a mapping with keys {', '.join(allowed)}. Received: {body!r}")
    for key in body:
        if key not in allowed:
            raise where.child(key).error(
                f"'{kind}' has no key '{key}'.{registry.did_you_mean(key, allowed)} Expected: {', '.join(allowed)}.")
    required = {"residual": ["layers"], "parallel": ["branches"], "repeat": ["times", "layers"],
                "sequential": ["layers"], "side_output": ["layers", "name"]}[kind]
    for key in required:
        if key not in body:
            raise where.error(f"'{kind}' needs '{key}'.")
    if kind == "residual":
        return N.Residual(body["layers"], shortcut=body.get("shortcut"), merge=body.get("merge", "add"),
                          activation=body.get("activation"), name=body.get("name"), where=where)
    if kind == "parallel":
        branches = body["branches"]
        if not isinstance(branches, list):
            raise where.child("branches").error(f"'branches' must be a list of layer lists. Received: {branches!r}")
        return N.Parallel(*branches, merge=body.get("merge", "concat"), axis=body.get("axis", -1),
                          name=body.get("name"), where=where)
    if kind == "repeat":
        return N.Repeat(body["times"], body["layers"], name=body.get("name"), where=where)
    if kind == "side_output":
        return N.SideOutput(body["layers"], name=body["name"], where=where)
    return N.Group(body["layers"], name=body.get("name"), where=where)


def parse_entry(item, where):
    """Turn one spec entry (or Python object) into a node.

    Args:
        item: ``"Flatten"``, ``{"Dense": 10}``, ``{"Conv2D": {...}}``, ``{"residual": {...}}``,
            a list (a sequence), a Keras layer instance or a node.
        where: its location, for error messages.

    Returns:
        A ``deepkit.spec.nodes.Node``.

    Raises:
        SpecError: the entry is malformed; the message says where and what is expected.

    Example:
        >>> parse_entry({"Dense": 10}, N.Where(("layers", 0))).to_data()
        {'Dense': 10}
    """
    if isinstance(item, N.Node):
        return item
    if isinstance(item, keras.layers.Layer):
        return N.LayerNode(instance=item, where=where)
    if isinstance(item, (list, tuple)):
        return N.Group(list(item), where=where)
    if isinstance(item, str):
        if item in COMBINATORS:
            raise where.error(f"'{item}' needs arguments, e.g. {{{item}: {{...}}}}.")
        return N.LayerNode(item, where=where)
    if isinstance(item, dict):
        if "class_name" in item:  # Keras' own serialization style
            _check_plain(item.get("config", {}), where.child("config"))
            return N.LayerNode(item["class_name"], kwargs=item.get("config") or {}, where=where)
        if len(item) != 1:
            raise where.error(
                "a layer entry must have exactly one key, the layer name, e.g. {Conv2D: {filters: 32, "
                f"kernel_size: 3}}. Received keys: {list(item)}")
        key, value = next(iter(item.items()))
        if key in COMBINATORS:
            return _combinator(key, value, where.child(key))
        inner = where.child(key)
        _check_plain(value, inner)
        if key in INPUT_NAMES:
            raise where.error(f"'{key}' may only be the first entry of a model's layers.")
        if value is None:
            return N.LayerNode(key, where=inner)
        if isinstance(value, dict):
            return N.LayerNode(key, kwargs=value, where=inner)
        if isinstance(value, list):
            return N.LayerNode(key, args=value, where=inner)
        return N.LayerNode(key, args=[value], where=inner)
    raise where.error(
        "a layer entry must be a layer name, a mapping {LayerName: arguments}, a list, or a Keras layer. "
        f"Received: {type(item).__name__} {item!r}")


def _input_shape(value, where):
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if (not isinstance(value, (list, tuple)) or not value
            or any(v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1) for v in value)):
        raise where.error(f"input_shape must be a list of positive integers (None for any size), without the "
                          f"batch dimension, e.g. [28, 28, 1]. Received: {value!r}")
    return list(value)


def input_dtype(value, where):
    """An Input entry's ``dtype``: a Keras dtype name, None for the float default (float32 is written as None).

    Args:
        value: the dtype given (a string such as ``"int32"``), or None.
        where: its location, for error messages.

    Returns:
        The standard dtype name, or None.

    Raises:
        SpecError: not a dtype name.

    Example:
        >>> input_dtype("int32", N.Where()), input_dtype("float32", N.Where())
        ('int32', None)
    """
    if value is None:
        return None
    try:
        name = keras.backend.standardize_dtype(value) if isinstance(value, str) else None
    except (ValueError, TypeError, AttributeError):
        name = None
    if name is None:
        raise where.error(f"an Input's dtype must be a dtype name such as 'int32', 'float32' or 'bool'. "
                          f"Received: dtype={value!r}")
    return None if name == "float32" else name


_INPUT_KEYS = ("shape", "dtype")


def _leading_input(items, where):
    """Pop a leading Input entry (spec or Python) and return its shape and dtype (None for the float default)."""
    if not items:
        return items, None, None
    first = items[0]
    if isinstance(first, dict) and len(first) == 1 and next(iter(first)) in INPUT_NAMES:
        key, body = next(iter(first.items()))
        loc = where.child(0, key)
        if isinstance(body, list):
            body = {"shape": body}
        if not isinstance(body, dict) or "shape" not in body:
            raise loc.error(f"{key} needs a shape, e.g. {{Input: {{shape: [28, 28, 1]}}}}. Received: {body!r}")
        for name in body:
            if name not in _INPUT_KEYS:
                raise loc.child(name).error(f"{key} has no key '{name}'.{registry.did_you_mean(name, _INPUT_KEYS)} "
                                            f"Expected: {', '.join(_INPUT_KEYS)}.")
        return items[1:], _input_shape(body["shape"], loc.child("shape")), input_dtype(body.get("dtype"),
                                                                                       loc.child("dtype"))
    if isinstance(first, keras.layers.InputLayer):
        return items[1:], list(first.batch_shape[1:]), input_dtype(first.dtype, where.child(0))
    if hasattr(first, "shape") and type(first).__name__ == "KerasTensor":
        return items[1:], list(first.shape[1:]), input_dtype(first.dtype, where.child(0))
    return items, None, None


def parse_document(data, *, marks=None, source=None):
    """Turn spec data into a ``Document``.

    Args:
        data: a dict ``{name, input_shape, layers}`` or a bare list of layer entries.
        marks: ``(line, column)`` of each spec path, from ``read_source``.
        source: the file name, for error messages.

    Returns:
        A ``Document``.

    Example:
        >>> parse_document([{"Input": {"shape": [3]}}, {"Dense": 2}]).input_shape
        [3]
    """
    check_data_limits(data, source)
    root = N.Where((), marks, source)
    name = description = input_shape = dtype_policy = None
    if isinstance(data, dict):
        for key in data:
            if key not in TOP_LEVEL_KEYS:
                hint = registry.did_you_mean(key, TOP_LEVEL_KEYS)
                raise root.child(key).error(
                    f"unknown top-level key '{key}'.{hint} A spec has: {', '.join(TOP_LEVEL_KEYS)}.")
        if "layers" not in data:
            raise root.error("a spec needs a 'layers' list, e.g. {input_shape: [28, 28, 1], layers: [...]}.")
        name, description = data.get("name"), data.get("description")
        if name is not None and not isinstance(name, str):
            raise root.child("name").error(f"name must be a string. Received: {name!r}")
        dtype_policy = data.get("dtype_policy")
        if dtype_policy is not None and not isinstance(dtype_policy, str):
            raise root.child("dtype_policy").error(
                f"dtype_policy must be a Keras dtype policy name such as 'mixed_bfloat16'. Received: {dtype_policy!r}")
        if data.get("input_shape") is not None:
            input_shape = _input_shape(data["input_shape"], root.child("input_shape"))
        items = data["layers"]
        where = root.child("layers")
    elif isinstance(data, (list, tuple)):
        items, where = list(data), root
    else:
        raise root.error(f"a spec must be a mapping with 'layers' or a list of layers. Received: {data!r}")
    if not isinstance(items, (list, tuple)):
        raise where.error(f"'layers' must be a list. Received: {type(items).__name__}")
    items, leading, dtype = _leading_input(list(items), where)
    offset = 1 if leading is not None else 0
    try:
        nodes = [parse_entry(item, where.child(i + offset)) for i, item in enumerate(items)]
    except RecursionError:  # only with max_depth raised or off: still a SpecError, never a raw RecursionError
        raise limit_error("the spec is nested too deeply for Python's recursion limit "
                          f"({sys.getrecursionlimit():,} frames)", "max_depth", get_limit("max_depth") or 0,
                          source=source) from None
    return Document(nodes, input_shape=input_shape or leading, name=name, description=description,
                    dtype_policy=dtype_policy, input_dtype=dtype)


def load_document(spec):
    """``read_source`` then ``parse_document``.

    Args:
        spec: anything ``read_source`` accepts.

    Returns:
        A ``Document``.

    Example:
        >>> load_document([{"Dense": 2}]).nodes[0].to_data()
        {'Dense': 2}
    """
    data, marks, source = read_source(spec)
    return parse_document(data, marks=marks, source=source)
