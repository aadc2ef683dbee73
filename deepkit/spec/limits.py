"""The limits every spec is checked against before it is parsed or built (size, nesting, layers, weights).

A spec is data that may come from anywhere; these checks refuse a hostile one fast, with a
``SpecError`` naming the limit and how to raise it (:func:`spec_limits`).

Example:
    >>> get_limit("max_depth")
    100
"""

import contextlib
import contextvars
import re

from deepkit.errors import SpecError
from deepkit.spec.combinators import COMBINATORS

__all__ = ["get_limit", "spec_limits", "limit_error", "check_text_limits", "depth_error", "check_data_limits",
           "count_spec_layers"]

#: The limits every spec is checked against before it is parsed or built. Change an entry to change the
#: default for the whole process (``None`` switches a limit off), or use ``spec_limits`` for a block.
DEFAULT_LIMITS = {
    "max_bytes": 1_048_576,      # size of spec text or file (1 MiB; the largest zoo spec is a few KB)
    "max_depth": 100,            # nesting of lists and mappings (a residual block adds about 3 levels)
    "max_layers": 5_000,         # layers the model would have, repeats expanded (ResNet-1202: 3,609); Keras
                                 # checks a graph's names in quadratic time: 5,000 build in seconds, 50,000 in minutes
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
    lists and mappings), ``max_layers=5_000`` (layers after expanding repeats) and
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


def check_text_limits(text, source, size=None):
    """Check spec text against ``max_bytes`` and its flow-bracket nesting against ``max_depth``.

    Size first, then nesting with a regular expression: linear, no parser, no recursion.

    Args:
        text: the spec text.
        source: file name or ``"<string>"``, for the error.
        size: the size in bytes when known (a file's), else counted from ``text``.

    Returns:
        None.

    Raises:
        SpecError: a limit is exceeded (naming it and how to raise it).

    Example:
        >>> with spec_limits(max_depth=2):
        ...     check_text_limits("layers: [[[Dense]]]", "<string>")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        deepkit.errors.SpecError: <string>:1:11: the spec is nested more than 2 levels deep (brackets)...
    """
    max_bytes = get_limit("max_bytes")
    if max_bytes is not None:
        if size is None and len(text) > max_bytes:  # at least as many bytes as characters: no need to encode
            raise limit_error(f"the spec text is {len(text):,} characters (at least as many bytes)", "max_bytes",
                              max_bytes, source=source)
        # A str: count its UTF-8 bytes only when they could exceed the limit (4 bytes a character at most);
        # counting them in more cases (>= or a factor 5) gives the same result: equivalent mutants.
        if size is None and len(text) * 4 > max_bytes:  # pragma: no mutate (>=, 5: same result)
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


def depth_error(max_depth, mark, source):
    """The ``SpecError`` for data nested deeper than ``max_depth`` (found by the YAML reader).

    Args:
        max_depth: the limit in force.
        mark: the YAML mark of the too-deep node, or None.
        source: file name or ``"<string>"``.

    Returns:
        A ``SpecError`` (to raise).

    Example:
        >>> str(depth_error(5, None, "<string>")).split(";")[0]
        '<string>: the spec is nested more than 5 levels deep (lists and mappings)'
    """
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
            raise depth_error(max_depth, None, source)
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
                        # times <= 0 is refused by the repeat's own check: counting the body once or
                        # not at all there only changes which of the two errors comes first.
                        inner = times * n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else times  # pragma: no mutate
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
