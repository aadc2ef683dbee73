"""The report's work listed before any of it runs, then run: collect first, render after.

A :class:`Plan` holds the steps (each a label and a call, e.g. ``conv2: top-9 patches``) and the
pages, each page a function that turns its steps' results into
:class:`~deepkit.viz.report.document.Section` objects. Planning runs nothing, so the progress bar's
total is the number of planned steps; :meth:`Plan.collect` then runs every step through the
:class:`~deepkit.viz.report.context.Runner` (a failing step becomes a note, not an exception) and
assembles the :class:`~deepkit.viz.report.document.Report`. Steps return plain data (arrays,
numbers, PNG bytes: :meth:`Plan.figure` encodes a matplotlib figure as soon as it is drawn), so a
long report holds no figure in memory.
"""

import dataclasses

from deepkit.viz.report.document import Figure, Note, Page, png_bytes

__all__ = ["Step", "Plan"]


@dataclasses.dataclass
class Step:
    """One planned call; after :meth:`Plan.collect`, its outcome.

    Attributes:
        label: what it computes (progress line, ``report.json`` timings and errors).
        fn: the function; ``args`` and ``kwargs`` are passed to it.
        ok: ``True`` when it ran without error (``None`` before it ran).
        value: its result, or the :class:`~deepkit.viz.report.document.Note` saying why it failed.
        keep: keep the value once the pages planned after it were built (see :meth:`Plan.pages`);
            for a result several builds read.

    Example:
        >>> s = Step("double", lambda v: 2 * v, (21,))
        >>> s.label, s.ok
        ('double', None)
    """

    label: str
    fn: object
    args: tuple = ()
    kwargs: dict = dataclasses.field(default_factory=dict)
    ok: bool = None
    value: object = None
    keep: bool = False

    def figure(self, caption, pixelated=False):
        """The step's image as a :class:`~deepkit.viz.report.document.Figure`, or its failure note.

        Args:
            caption: the caption.
            pixelated: draw without smoothing.

        Returns:
            A ``Figure`` or a ``Note``.
        """
        return Figure(self.value, caption, None, pixelated) if self.ok else self.value


def _encoded(fn):
    def run(*args, **kwargs):
        return png_bytes(fn(*args, **kwargs))

    return run


class Plan:
    """Steps and pages of a report, in the order they run.

    Example:
        >>> from deepkit.viz.report.context import Runner
        >>> from deepkit.viz.report.document import Section
        >>> plan = Plan()
        >>> a = plan.add("answer", lambda: 42)
        >>> b = plan.add("broken", lambda: 1 / 0)
        >>> plan.page("index.html", "Index", lambda: [Section("s", "S", str(a.value), [b.value])])
        >>> len(plan.steps)
        2
        >>> pages = plan.collect(Runner())
        >>> pages[0].sections[0].heading, type(pages[0].sections[0].blocks[0]).__name__
        ('42', 'Note')
    """

    def __init__(self):
        self.steps = []
        self._builds = []  # (build, number of steps planned before it)

    def add(self, label, fn, *args, **kwargs):
        """Plan one call.

        Args:
            label: what it computes.
            fn: the function; ``*args`` and ``**kwargs`` are passed to it.

        Returns:
            The :class:`Step` (its ``ok`` and ``value`` are set once it ran).
        """
        step = Step(label, fn, args, kwargs)
        self.steps.append(step)
        return step

    def figure(self, label, fn, *args, **kwargs):
        """Plan a call that draws a figure (or an image array); the step's value is its PNG bytes.

        Args:
            label: what it draws.
            fn: the function returning a matplotlib ``Figure`` or an image.

        Returns:
            The :class:`Step`; use :meth:`Step.figure` for the block.
        """
        return self.add(label, _encoded(fn), *args, **kwargs)

    def pages(self, build):
        """Plan pages, built once the steps planned so far have run.

        Args:
            build: a function of no argument returning a list of
                :class:`~deepkit.viz.report.document.Page` (it reads the values of steps planned
                before this call; once it returned, those values are dropped, so a long report
                holds one layer's results at a time).
        """
        self._builds.append((build, len(self.steps)))

    def page(self, name, heading, build, crumbs=()):
        """Plan one page whose sections ``build()`` returns (``None`` entries are left out).

        Args:
            name: its file name.
            heading: its title.
            build: a function of no argument returning the page's sections.
            crumbs: ``(href, text)`` of the way back.
        """
        self.pages(lambda: [Page(name, heading, [s for s in build() if s is not None], list(crumbs))])

    def collect(self, runner):
        """Run every step, building the pages as soon as their steps have run.

        Args:
            runner: the :class:`~deepkit.viz.report.context.Runner` (progress, timings, errors).

        Returns:
            The pages (:class:`~deepkit.viz.report.document.Page`), in planned order.
        """
        done = 0
        pages = []
        for build, after in self._builds + [(list, len(self.steps))]:
            for step in self.steps[done:after]:
                step.ok, step.value = runner.run(step.label, step.fn, *step.args, **step.kwargs)
            pages += build()
            for step in self.steps[done:after]:
                step.value = None if step.ok and not step.keep else step.value
            done = max(done, after)
        return pages

    @staticmethod
    def note_or(step, make):
        """``make(step.value)`` when the step ran, else its failure :class:`Note`.

        Example:
            >>> Plan.note_or(Step("x", None, ok=True, value=2), lambda v: v + 1)
            3
            >>> Plan.note_or(Step("x", None, ok=False, value=Note("no")), lambda v: v + 1).text
            'no'
        """
        return make(step.value) if step.ok else step.value
