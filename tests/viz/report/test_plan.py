"""The plan: every step listed before any runs, so the progress bar's total is exact."""

import io

import keras
import numpy as np
import pytest

from deepkit.viz.report import build_report
from deepkit.viz.report.context import Runner
from deepkit.viz.report.document import Note, Section
from deepkit.viz.report.plan import Plan
from deepkit.viz.report.progress import Progress

# End-to-end report builds (tens of seconds each): slow, run once in CI (tools/test-all.sh).
pytestmark = pytest.mark.slow


@pytest.mark.backend_independent
def test_pages_are_built_after_their_steps_and_results_are_dropped_after():
    plan, calls = Plan(), []
    a = plan.add("a", lambda: calls.append("a") or np.ones(3))
    b = plan.add("b", lambda: 1 / 0)
    shared = plan.add("shared", lambda: "kept")
    shared.keep = True
    plan.page("one.html", "One", lambda: [Section("s", "S", f"{a.value.sum():.0f}", [b.value])])
    plan.page("two.html", "Two", lambda: [Section("s", "S", shared.value, [])])
    c = plan.add("c", lambda: calls.append("c"))
    runner = Runner(Progress(len(plan.steps), enabled=False))
    pages = plan.collect(runner)
    assert [p.name for p in pages] == ["one.html", "two.html"]
    assert pages[0].sections[0].heading == "3" and isinstance(pages[0].sections[0].blocks[0], Note)
    assert pages[1].sections[0].heading == "kept"
    assert calls == ["a", "c"] and c.ok  # a step planned after the last page still runs
    assert a.value is None and shared.value == "kept"  # results dropped once their pages are built
    assert [e["step"] for e in runner.errors] == ["b"] and runner.progress.done == 4


@pytest.mark.parametrize("single_file", [False, True])
def test_progress_total_is_the_number_of_steps_run(tmp_path, monkeypatch, single_file):
    """Before, the totals were hand-written formulas beside the code (``6 + (2 + 3 * featurevis)`` per
    layer...); now the bar counts the plan: it ends exactly full, one line per step."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(3, 3, name="c"),
                              keras.layers.Flatten(), keras.layers.Dense(2, name="d")])
    x = np.random.default_rng(0).random((10, 8, 8, 1)).astype("float32")
    stream = io.StringIO()
    original = Progress.__init__

    def to_stream(self, total, enabled=True, stream_=None, width=28):
        original(self, total, enabled, stream, width)

    monkeypatch.setattr(Progress, "__init__", to_stream)
    build_report(model, (x, np.arange(10) % 2), tmp_path, featurevis=True, featurevis_steps=2,
                 attributions=("saliency", "grad_cam"), unit_pages=1, max_units=2, max_classes=2,
                 history={"loss": [1.0, 0.5]}, single_file=single_file)
    lines = stream.getvalue().splitlines()
    totals = {int(line.split("/")[1].split()[0]) for line in lines}
    assert len(totals) == 1
    total = totals.pop()
    counts = [int(line.split("]")[1].split("/")[0]) for line in lines]
    assert counts == list(range(total)) + [total]  # each planned step once, then the closing line
    assert lines[-1].startswith("[" + "#" * 28 + "]") and "wrote" in lines[-1]
