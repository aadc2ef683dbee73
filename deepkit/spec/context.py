"""Where a spec node stands (path, line, column, for errors) and the naming state of one build.

Example:
    >>> from deepkit.spec.context import BuildContext, Where
    >>> ctx = BuildContext()
    >>> ctx.auto_name("dense"), Where(("layers", 0)).text()
    ('dense', 'layers[0]')
"""

import re

from deepkit.errors import SpecError

__all__ = ["Where", "BuildContext", "plain_message"]

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
        self._tried = {}  # stem -> the last number found taken: each name is tried once (a build stays linear)

    def auto_name(self, base):
        """The next free name for a layer of the given base name, under the current block prefix."""
        stem = "_".join(self.prefix + [base])
        if stem not in self.used:
            return stem
        i = self._tried.get(stem, 0)
        name = f"{stem}_{i}" if i else stem
        while name in self.used:
            i += 1
            name = f"{stem}_{i}"
        self._tried[stem] = i
        return name

    def claim(self, name, where):
        """Reserve a name; a second layer with the same name is an error at ``where``."""
        if name in self.used:
            raise where.error(f"duplicate layer name '{name}': every layer of a model needs its own name.")
        self.used.add(name)


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


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
