"""Read a spec (dict, list, YAML or JSON text or file) into nodes, keeping line numbers for errors.

YAML goes through ``yaml.safe_load`` only, so tags that construct Python objects are refused; a spec can
name registered layers and give them plain values (strings, numbers, booleans, null, lists, mappings),
nothing else.

Example:
    >>> from deepkit.spec.parse import load_document
    >>> doc = load_document("input_shape: [4]\\nlayers:\\n  - Dense: 3\\n")
    >>> doc.input_shape, len(doc.nodes)
    ([4], 1)
"""

import contextlib
import contextvars
import json
import os
import re
import sys

import keras
import yaml

from deepkit.errors import SpecError
from deepkit.spec import nodes as N
from deepkit.spec import registry

TOP_LEVEL_KEYS = ("name", "input_shape", "dtype_policy", "layers", "description")
COMBINATORS = {
    "residual": ("layers", "shortcut", "merge", "activation", "name"),
    "parallel": ("branches", "merge", "axis", "name"),
    "repeat": ("times", "layers", "name"),
    "sequential": ("layers", "name"),
    "side_output": ("layers", "name"),
}
INPUT_NAMES = ("Input", "InputLayer")
PLAIN_SCALARS = (str, int, float, bool, type(None))

# ----------------------------------------------------------------------------- limits
#: The limits every spec is checked against before it is parsed or built. Change an entry to change the
#: default for the whole process (``None`` switches a limit off), or use ``spec_limits`` for a block.
DEFAULT_LIMITS = {
    "max_bytes": 1_048_576,      # size of spec text or file (1 MiB; the largest zoo spec is a few KB)
    "max_depth": 100,            # nesting of lists and mappings (a residual block adds about 3 levels)
    "max_layers": 100_000,       # layers the model would have, repeats expanded (ResNet-1202: ~4,000)
    "max_weight_bytes": "auto",  # bytes of weights a built model may allocate; "auto": available memory
}
LIMITS = dict(DEFAULT_LIMITS)
_OVERRIDES = contextvars.ContextVar("deepkit_spec_limits", default=None)


def get_limit(name):
    """The limit in force now: a ``spec_limits`` block's value, else ``LIMITS[name]``.

    Args:
        name: one of ``max_bytes``, ``max_depth``, ``max_layers``, ``max_weight_bytes``.

    Returns:
        The value (an int, ``None`` when the limit is off, or ``"auto"`` for ``max_weight_bytes``).

    Example:
        >>> get_limit("max_depth")
        100
        >>> with spec_limits(max_depth=500):
        ...     get_limit("max_depth")
        500
    """
    if name not in DEFAULT_LIMITS:
        raise KeyError(f"unknown spec limit '{name}'. Expected one of: {', '.join(DEFAULT_LIMITS)}.")
    overrides = _OVERRIDES.get()
    if overrides and name in overrides:
        return overrides[name]
    return LIMITS[name]


@contextlib.contextmanager
def spec_limits(**limits):
    """Raise, lower or switch off the spec limits inside a ``with`` block (thread- and task-local).

    The defaults (``deepkit.spec.parse.DEFAULT_LIMITS``) refuse hostile specs fast with a ``SpecError``
    naming the limit: ``max_bytes=1_048_576`` (spec text or file size), ``max_depth=100`` (nesting of
    lists and mappings), ``max_layers=100_000`` (layers after expanding repeats) and
    ``max_weight_bytes="auto"`` (weights must fit in the memory available now). ``None`` switches a
    limit off. To change a default for the whole process, set ``deepkit.spec.LIMITS[name]``.

    Args:
        **limits: new values, each a positive int or None (``max_weight_bytes`` also ``"auto"``).

    Returns:
        A context manager; ``as`` gives the dict of limits in force inside the block.

    Raises:
        ValueError: an unknown limit name or a value that is not a positive int or None.

    Example:
        >>> import deepkit
        >>> deep = {"layers": [{"sequential": [{"sequential": [{"Dense": 2}]}]}]}
        >>> with spec_limits(max_depth=5):
        ...     deepkit.from_spec(deep, input_shape=(3,))
        Traceback (most recent call last):
        ...
        deepkit.errors.SpecError: the spec is nested more than 5 levels deep (lists and mappings); the limit is max_depth=5. If the spec is trusted, raise it: with deepkit.spec.spec_limits(max_depth=...): ...
        >>> with spec_limits(max_depth=None) as limits:
        ...     limits["max_depth"] is None
        True
    """
    for name, value in limits.items():
        if name not in DEFAULT_LIMITS:
            raise ValueError(f"unknown spec limit '{name}'. Expected one of: {', '.join(DEFAULT_LIMITS)}. "
                             f"Received: {name}={value!r}")
        ok = value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0)
        if not ok and not (name == "max_weight_bytes" and value == "auto"):
            raise ValueError(f"spec limit {name} must be a positive int or None. Received: {name}={value!r}")
    token = _OVERRIDES.set({**(_OVERRIDES.get() or {}), **limits})
    try:
        yield {name: get_limit(name) for name in DEFAULT_LIMITS}
    finally:
        _OVERRIDES.reset(token)


def limit_error(what, name, value, **where):
    """A SpecError for a spec beyond one of the limits, naming the limit and how to raise it.

    Args:
        what: what was found, e.g. ``"the spec text is 52,428,800 bytes"``.
        name: the limit's name.
        value: the limit's value.
        **where: ``path``, ``line``, ``column``, ``source`` for the SpecError.

    Returns:
        A ``SpecError`` (to raise).

    Example:
        >>> print(limit_error("the spec has 7 layers", "max_layers", 5))
        the spec has 7 layers; the limit is max_layers=5. If the spec is trusted, raise it: with deepkit.spec.spec_limits(max_layers=...): ...
    """
    return SpecError(f"{what}; the limit is {name}={value:,}. If the spec is trusted, raise it: "
                     f"with deepkit.spec.spec_limits({name}=...): ...", **where)


# A quoted string, a comment, or a flow bracket: bracket nesting counted without parsing the text.
_FLOW_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\n]|\'\')*\'|(?:^|(?<=\s))#[^\n]*|[\[\]{}]', re.M)


def _line_column(text, offset):
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _check_text_limits(text, source, size=None):
    """Size, then flow-bracket nesting, with a regular expression: linear, no parser, no recursion."""
    max_bytes = get_limit("max_bytes")
    if max_bytes is not None:
        if size is None and len(text) > max_bytes:  # at least as many bytes as characters: no need to encode
            raise limit_error(f"the spec text is {len(text):,} characters (at least as many bytes)", "max_bytes",
                              max_bytes, source=source)
        if size is None and len(text) * 4 > max_bytes:  # a str: count its UTF-8 bytes only when it could matter
            size = len(text.encode("utf-8", "surrogatepass"))
        if size is not None and size > max_bytes:
            raise limit_error(f"the spec text is {size:,} bytes", "max_bytes", max_bytes, source=source)
    max_depth = get_limit("max_depth")
    if max_depth is None:
        return
    depth = 0
    for match in _FLOW_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > max_depth:
                line, column = _line_column(text, match.start())
                raise limit_error(f"the spec is nested more than {max_depth} levels deep (brackets)",
                                  "max_depth", max_depth, line=line, column=column, source=source)
        elif token in "]}":
            depth -= 1


def _depth_error(max_depth, mark, source):
    return limit_error(f"the spec is nested more than {max_depth} levels deep (lists and mappings)", "max_depth",
                       max_depth, line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None,
                       source=source)


def check_data_limits(data, source=None):
    """Check the nesting depth and layer count of plain spec data against the limits, before parsing it.

    Iterative (no recursion) and stopping early, so hostile data is refused fast.

    Args:
        data: a spec document (mapping) or a list of spec entries.
        source: the file name, for the message.

    Returns:
        None.

    Raises:
        SpecError: a limit (``max_depth``, ``max_layers``) is exceeded; the message names it.

    Example:
        >>> with spec_limits(max_layers=2):
        ...     check_data_limits([{"Dense": 2}] * 3)
        Traceback (most recent call last):
        ...
        deepkit.errors.SpecError: the spec has more than 2 layers (repeats expanded); the limit is max_layers=2. If the spec is trusted, raise it: with deepkit.spec.spec_limits(max_layers=...): ...
    """
    max_depth, max_layers = get_limit("max_depth"), get_limit("max_layers")
    if max_layers is not None:
        items = data.get("layers") if isinstance(data, dict) else data
        count = count_spec_layers(items, stop_after=max_layers)
        if count > max_layers:
            raise limit_error(f"the spec has more than {max_layers:,} layers (repeats expanded)", "max_layers",
                              max_layers, source=source)
    if max_depth is None:
        return
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, (list, tuple)):
            children = value
        else:
            continue
        if depth > max_depth:
            raise _depth_error(max_depth, None, source)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list, tuple)))


def count_spec_layers(items, stop_after=None):
    """How many layers spec entries make, repeats expanded, without parsing them (iterative).

    Args:
        items: a list of spec entries (or one entry).
        stop_after: stop counting once the count exceeds this (None: count all).

    Returns:
        The number of layers (block merges counted as layers); more than ``stop_after`` when stopped early.

    Example:
        >>> count_spec_layers([{"Dense": 2}, {"repeat": {"times": 3, "layers": ["ReLU", {"Dense": 2}]}}])
        7
    """
    total = 0
    stack = [(items, 1)]
    while stack:
        entries, times = stack.pop()
        if not isinstance(entries, (list, tuple)):
            entries = [entries]
        for item in entries:
            if isinstance(item, (list, tuple)):
                stack.append((item, times))
                continue
            if isinstance(item, dict) and len(item) == 1 and next(iter(item)) in COMBINATORS:
                kind, body = next(iter(item.items()))
                if isinstance(body, list):
                    body = {"branches" if kind == "parallel" else "layers": body}
                if isinstance(body, dict):
                    inner = times
                    if kind == "repeat":
                        n = body.get("times")
                        inner = times * n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else times
                    for key in ("layers", "shortcut"):
                        if key in body:
                            stack.append((body[key], inner))
                    if kind == "parallel" and isinstance(body.get("branches"), list):
                        stack.extend((branch, inner) for branch in body["branches"])
                    total += times if kind in ("residual", "parallel") else 0  # the merge layer
                    continue
            total += times
            if stop_after is not None and total > stop_after:
                return total
    return total


class Document:
    """A parsed spec: model name, input shape and the top-level nodes.

    Args:
        nodes: list of nodes.
        input_shape: the input shape without batch dimension, or None.
        name: the model name, or None.
        description: free text kept with the spec, or None.
        dtype_policy: the Keras dtype policy name the layers are built with (``"mixed_bfloat16"``...),
            or None for the global policy at build time.

    Example:
        >>> Document([parse_entry("Flatten", N.Where())], input_shape=[2, 2], name="f").to_data()
        {'name': 'f', 'input_shape': [2, 2], 'layers': ['Flatten']}
    """

    def __init__(self, nodes, input_shape=None, name=None, description=None, dtype_policy=None):
        self.nodes, self.input_shape, self.name, self.description = nodes, input_shape, name, description
        self.dtype_policy = dtype_policy

    def to_data(self):
        """The document as plain data: ``{name, description, input_shape, dtype_policy, layers}``."""
        data = {}
        if self.name:
            data["name"] = self.name
        if self.description:
            data["description"] = self.description
        if self.input_shape is not None:
            data["input_shape"] = list(self.input_shape)
        if self.dtype_policy is not None:
            data["dtype_policy"] = self.dtype_policy
        data["layers"] = [node.to_data() for node in self.nodes]
        return data


def _collect_marks(node, path, marks, source):
    marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        seen = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise SpecError(f"duplicate key '{key}' (first at line {seen[key]}); each key may appear once.",
                                line=key_node.start_mark.line + 1, column=key_node.start_mark.column + 1,
                                source=source)
            seen[key] = key_node.start_mark.line + 1
            marks[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _collect_marks(value_node, path + (key,), marks, source)
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            _collect_marks(child, path + (i,), marks, source)


def _yaml_error(exc, source, what="YAML"):
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if "constructor" in str(problem) or "tag" in str(problem):
        problem = (f"{problem}. Tags that build Python objects are refused: a spec is plain data "
                   "(strings, numbers, booleans, null, lists, mappings)")
    context_mark = getattr(exc, "context_mark", None)
    if getattr(exc, "context", None) and context_mark is not None and context_mark is not mark:
        problem = f"{problem} ({exc.context} at line {context_mark.line + 1}, column {context_mark.column + 1})"
    return SpecError(f"malformed {what}: {problem}", line=mark.line + 1 if mark else None,
                     column=mark.column + 1 if mark else None, source=source)


def _refuse_aliases(text, source, loader=yaml.SafeLoader):
    """One pass over the YAML events, stopping at the first problem: aliases and too deep nesting.

    YAML aliases can blow a tiny file up exponentially ("billion laughs"); specs need none. Deep
    nesting would overflow the recursive composer. libyaml's event parser (when PyYAML has it) is fast
    in C; it only checks here, and its own syntax errors make the pure-Python parser check again.
    """
    if loader is yaml.SafeLoader and getattr(yaml, "CSafeLoader", None) is not None:
        try:
            return _refuse_aliases(text, source, yaml.CSafeLoader)
        except yaml.YAMLError:
            pass  # the pure-Python parser below reports it with the messages users know
    max_depth = get_limit("max_depth")
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            raise SpecError(f"YAML aliases ('*{event.anchor}') are not allowed in a spec; write the "
                            "layers out or use 'repeat'.", line=mark.line + 1, column=mark.column + 1, source=source)
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if max_depth is not None and depth > max_depth:
                raise _depth_error(max_depth, event.start_mark, source)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


def read_source(spec):
    """Turn what the user gave into ``(data, marks, source)``.

    Args:
        spec: a dict or list; a path (str or ``os.PathLike``) to a ``.yaml``/``.yml``/``.json`` file;
            or YAML/JSON text.

    Returns:
        The plain data, a dict from spec paths to ``(line, column)``, and the source name.

    Raises:
        SpecError: the file is missing or the text is malformed (with line and column).

    Example:
        >>> data, marks, source = read_source('{"layers": ["Flatten"]}')
        >>> data, marks[("layers", 0)], source
        ({'layers': ['Flatten']}, (1, 13), '<string>')
    """
    if isinstance(spec, (dict, list, tuple)):
        return spec, {}, None
    if isinstance(spec, os.PathLike) or (
            isinstance(spec, str) and "\n" not in spec and spec.strip().lower().endswith((".yaml", ".yml", ".json"))):
        path = os.fspath(spec)
        if not os.path.isfile(path):
            raise SpecError(f"spec file not found: '{path}'. Expected a .yaml, .yml or .json file.")
        size, max_bytes = os.path.getsize(path), get_limit("max_bytes")
        if max_bytes is not None and size > max_bytes:  # refused before reading it
            raise limit_error(f"the spec file is {size:,} bytes", "max_bytes", max_bytes, source=path)
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        source, is_json = path, path.lower().endswith(".json")
        _check_text_limits(text, source, size=size)
    elif isinstance(spec, str):
        text, source = spec, "<string>"
        is_json = text.lstrip().startswith(("{", "["))
        _check_text_limits(text, source)
    else:
        raise SpecError("a spec must be a dict, a list, YAML/JSON text or a path to a .yaml/.json file. "
                        f"Received: {type(spec).__name__}")
    if is_json:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"malformed JSON: {exc.msg}", line=exc.lineno, column=exc.colno, source=source) from exc
    else:
        try:
            _refuse_aliases(text, source)
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise _yaml_error(exc, source) from exc
    marks = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        root = None  # valid JSON that YAML 1.1 cannot compose: no line marks, still a valid spec
    if root is not None:
        _collect_marks(root, (), marks, source)
    return data, marks, source


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


def _leading_input(items, where):
    """Pop a leading Input entry (spec or Python) and return its shape."""
    if not items:
        return items, None
    first = items[0]
    if isinstance(first, dict) and len(first) == 1 and next(iter(first)) in INPUT_NAMES:
        key, body = next(iter(first.items()))
        loc = where.child(0, key)
        if isinstance(body, list):
            body = {"shape": body}
        if not isinstance(body, dict) or "shape" not in body:
            raise loc.error(f"{key} needs a shape, e.g. {{Input: {{shape: [28, 28, 1]}}}}. Received: {body!r}")
        return items[1:], _input_shape(body["shape"], loc.child("shape"))
    if isinstance(first, keras.layers.InputLayer):
        return items[1:], list(first.batch_shape[1:])
    if hasattr(first, "shape") and type(first).__name__ == "KerasTensor":
        return items[1:], list(first.shape[1:])
    return items, None


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
    items, leading = _leading_input(list(items), where)
    offset = 1 if leading is not None else 0
    try:
        nodes = [parse_entry(item, where.child(i + offset)) for i, item in enumerate(items)]
    except RecursionError:  # only with max_depth raised or off: still a SpecError, never a raw RecursionError
        raise limit_error("the spec is nested too deeply for Python's recursion limit "
                          f"({sys.getrecursionlimit():,} frames)", "max_depth", get_limit("max_depth") or 0,
                          source=source) from None
    return Document(nodes, input_shape=input_shape or leading, name=name, description=description,
                    dtype_policy=dtype_policy)


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
