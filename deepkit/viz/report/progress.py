"""The report's progress bar: one line on a stream saying which step runs and how far along it is."""

import sys
import time

__all__ = ["Progress"]


class Progress:
    """A one-line progress bar, ``[######......]  7/19   3.2s  conv2: top patches``.

    On a terminal the line is redrawn in place; on a file or pipe each step gets
    its own line, so logs stay readable.

    Args:
        total: the number of steps expected.
        enabled: ``False`` writes nothing.
        stream: where to write (default ``sys.stderr``).
        width: characters of the bar.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> bar = Progress(2, stream=out, width=4)
        >>> bar.step("predicting"); bar.advance(); bar.close("done")
        >>> [line[:13] for line in out.getvalue().splitlines()]
        ['[....]   0/2 ', '[####]   2/2 ']
    """

    def __init__(self, total, enabled=True, stream=None, width=28):
        self.total = max(int(total), 1)
        self.done = 0
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.time()

    def _write(self, done, label, end=""):
        filled = int(self.width * done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        line = f"[{bar}] {done:>3d}/{self.total} {time.time() - self.start:6.1f}s  {label}"
        self.stream.write(("\r" + line[:120].ljust(120) + end) if self.tty else line + "\n")
        self.stream.flush()

    def step(self, label):
        """Announce the step about to run.

        Args:
            label: what the step computes.
        """
        if self.enabled:
            self._write(self.done, label)

    def advance(self):
        """Count one step as done."""
        self.done = min(self.done + 1, self.total)

    def close(self, message):
        """Draw the full bar with a closing message.

        Args:
            message: the last word (e.g. the file written).
        """
        if self.enabled:
            self._write(self.total, message, end="\n")
