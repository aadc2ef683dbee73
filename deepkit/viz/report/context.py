"""What every section of the report reads (:class:`Context`) and the step runner (:class:`Runner`).

The runner is what keeps one failing figure from sinking the whole page: each planned step runs
through :meth:`Runner.run`, which times it, advances the progress bar and turns an exception into a
:class:`~deepkit.viz.report.document.Note` for the page and an entry in ``report.json``.
"""

import dataclasses
import time
import traceback

from deepkit.viz.report.document import Note
from deepkit.viz.report.names import PageNames
from deepkit.viz.report.progress import Progress

__all__ = ["Runner", "Context"]


class Runner:
    """Runs the report's steps: progress, timings, and failures kept instead of raised.

    Args:
        progress: a :class:`~deepkit.viz.report.progress.Progress` (default:
            a silent one).

    Attributes:
        errors: ``{"step", "error", "traceback"}`` per failed step.
        timings: seconds per step label.

    Example:
        >>> runner = Runner()
        >>> runner.run("double", lambda v: 2 * v, 21)
        (True, 42)
        >>> ok, note = runner.run("divide", lambda: 1 / 0)
        >>> ok, note.text, runner.errors[0]["step"]
        (False, 'divide could not be drawn: ZeroDivisionError: division by zero', 'divide')
    """

    def __init__(self, progress=None):
        self.progress = progress or Progress(1, enabled=False)
        self.errors = []
        self.timings = {}

    def run(self, label, fn, *args, **kwargs):
        """Run one step.

        Args:
            label: what the step computes (progress line, timings, errors).
            fn: the function; ``*args`` and ``**kwargs`` are passed to it.

        Returns:
            ``(True, result)``, or ``(False, Note)`` when ``fn`` raised.
        """
        self.progress.step(label)
        start = time.time()
        try:
            return True, fn(*args, **kwargs)
        except Exception as exc:  # a failing section must not sink the report
            message = f"{type(exc).__name__}: {exc}"
            self.errors.append({"step": label, "error": message,
                                "traceback": traceback.format_exc(limit=6)})
            return False, Note(f"{label} could not be drawn: {message}")
        finally:
            self.timings[label] = round(time.time() - start, 3)
            self.progress.advance()


@dataclasses.dataclass
class Context:
    """The model, the data and the settings shared by the report's sections.

    Attributes:
        model: the ``keras.Model``.
        x: the inputs ``(N, h, w, c)``.
        y: class labels or ``None``.
        data_name: how the data is called on the page.
        idx: indices of the sample inputs shown with predictions.
        probs: class probabilities ``(N, K)``, or ``None`` when the model is no
            classifier.
        class_names: names of the classes, or ``None``.
        runner: the :class:`Runner`.
        attributions: attribution methods of the predictions section.
        batch_size: images per forward pass.
        seed: random seed.
        top_k: patches per channel.
        max_channels: channels shown per layer.
        featurevis: draw feature visualizations.
        featurevis_steps: their optimization steps.
        value_range: ``(low, high)`` of the model's inputs (feature visualization).
        names: the :class:`~deepkit.viz.report.names.PageNames` of the shown layers.
        no_classes: why there are no class probabilities (said in the overview), or ``None``.

    Example:
        >>> import numpy as np
        >>> ctx = Context(model=None, x=np.zeros((2, 4, 4, 1)), y=None, data_name="zeros",
        ...               idx=np.arange(2), probs=None, class_names=None, runner=Runner())
        >>> ctx.batch_size, ctx.top_k
        (64, 9)
    """

    model: object
    x: object
    y: object
    data_name: str
    idx: object
    probs: object
    class_names: list
    runner: Runner
    attributions: tuple = ()
    batch_size: int = 64
    seed: int = 0
    top_k: int = 9
    max_channels: int = 16
    featurevis: bool = True
    featurevis_steps: int = 128
    value_range: tuple = (0.0, 1.0)
    names: PageNames = dataclasses.field(default_factory=PageNames)
    no_classes: str = None
