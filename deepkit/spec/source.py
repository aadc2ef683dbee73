"""Spec text (YAML or JSON, a string or a file) read into data, with the line and column of every entry.

YAML goes through ``yaml.safe_load`` only (aliases refused), so tags that construct Python objects
are refused; the size and nesting limits are checked before anything is parsed.

Example:
    >>> data, marks, source = read_source("layers:\\n  - Dense: 3\\n")
    >>> data, marks[("layers", 0)]
    ({'layers': [{'Dense': 3}]}, (2, 5))
"""

import json
import os

import yaml

from deepkit.errors import SpecError
from deepkit.spec.limits import check_text_limits, depth_error, get_limit, limit_error

__all__ = ["Document", "read_source"]

class Document:
    """A parsed spec: model name, input shape and the top-level nodes.

    Args:
        nodes: list of nodes.
        input_shape: the input shape without batch dimension, or None.
        name: the model name, or None.
        description: free text kept with the spec, or None.
        dtype_policy: the Keras dtype policy name the layers are built with (``"mixed_bfloat16"``...),
            or None for the global policy at build time.
        input_dtype: the input's dtype (``"int32"`` for token ids), or None for the float default; written
            back as a leading ``{Input: {shape: [...], dtype: ...}}``.

    Example:
        >>> from deepkit.spec.context import Where
        >>> from deepkit.spec.parse import parse_entry
        >>> Document([parse_entry("Flatten", Where())], input_shape=[2, 2], name="f").to_data()
        {'name': 'f', 'input_shape': [2, 2], 'layers': ['Flatten']}
    """

    def __init__(self, nodes, input_shape=None, name=None, description=None, dtype_policy=None, input_dtype=None):
        self.nodes, self.input_shape, self.name, self.description = nodes, input_shape, name, description
        self.dtype_policy, self.input_dtype = dtype_policy, input_dtype

    def to_data(self):
        """The document as plain data: ``{name, description, input_shape, dtype_policy, layers}``."""
        data = {}
        if self.name:
            data["name"] = self.name
        if self.description:
            data["description"] = self.description
        typed = self.input_shape is not None and self.input_dtype is not None
        if self.input_shape is not None and not typed:
            data["input_shape"] = list(self.input_shape)
        if self.dtype_policy is not None:
            data["dtype_policy"] = self.dtype_policy
        data["layers"] = [node.to_data() for node in self.nodes]
        if typed:  # a dtype has no top-level key: the Input entry carries shape and dtype together
            data["layers"].insert(0, {"Input": {"shape": list(self.input_shape), "dtype": self.input_dtype}})
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
                raise depth_error(max_depth, event.start_mark, source)
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
        check_text_limits(text, source, size=size)
    elif isinstance(spec, str):
        text, source = spec, "<string>"
        is_json = text.lstrip().startswith(("{", "["))
        check_text_limits(text, source)
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
