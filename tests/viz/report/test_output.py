"""The output folder: a user's files are never overwritten; a rerun leaves no stale page (issue 27.16)."""

import json
import os

import keras
import numpy as np
import pytest

from deepkit.viz.report import build_report
from deepkit.viz.report.output import check_out_dir


def _cnn():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c1"),
                             keras.layers.Conv2D(2, 3, name="c2"), keras.layers.GlobalAveragePooling2D(),
                             keras.layers.Dense(2, name="out")], name="cnn")


_FAST = dict(featurevis=False, embedding=False, attributions=(), unit_pages=1, max_units=2, progress=False)


def test_a_users_index_html_is_refused_before_any_work(tmp_path):
    """Before: ``report --out DIR`` wrote over ``DIR/index.html`` whatever it was."""
    (tmp_path / "index.html").write_text("<p>my own page</p>")
    x = np.random.default_rng(0).random((6, 8, 8, 1)).astype("float32")
    with pytest.raises(ValueError, match=r"holds files that no deepkit report wrote \(index\.html\)"):
        build_report(_cnn(), (x, np.arange(6) % 2), tmp_path, **_FAST)
    assert sorted(os.listdir(tmp_path)) == ["index.html"]
    assert (tmp_path / "index.html").read_text() == "<p>my own page</p>"


@pytest.mark.slow
def test_rerun_replaces_the_report_and_removes_its_stale_pages(tmp_path):
    """Before: a rerun showing fewer layers left the first run's layer and unit pages behind."""
    x = np.random.default_rng(0).random((6, 8, 8, 1)).astype("float32")
    model = _cnn()
    build_report(model, (x, np.arange(6) % 2), tmp_path, layers=["c1", "c2"], **_FAST)
    assert (tmp_path / "layer-c1.html").is_file() and (tmp_path / "unit-c1-0.html").is_file()
    (tmp_path / "screenshot.png").write_bytes(b"kept")  # a file of the user's in the report's folder
    build_report(model, (x, np.arange(6) % 2), tmp_path, layers=["c2"], **_FAST)
    on_disk = {os.path.relpath(os.path.join(d, f), tmp_path) for d, _, fs in os.walk(tmp_path) for f in fs}
    assert "layer-c1.html" not in on_disk and "unit-c1-0.html" not in on_disk
    meta = json.loads((tmp_path / "report.json").read_text())
    assert on_disk == set(meta["files"]) | {"screenshot.png"}
    assert meta["generator"] == "deepkit report"
    build_report(model, (x, np.arange(6) % 2), tmp_path, single_file=True, **_FAST)  # atlas -> page
    assert sorted(os.listdir(tmp_path)) == ["index.html", "report.json", "screenshot.png"]


@pytest.mark.backend_independent
def test_check_out_dir_accepts_new_empty_and_earlier_reports(tmp_path):
    assert check_out_dir(tmp_path / "new") == [] and check_out_dir(tmp_path) == []
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        check_out_dir(tmp_path / "f")
    old = tmp_path / "old"  # a report written before report.json listed its files
    (old / "img").mkdir(parents=True)
    (old / "img" / "a.png").write_bytes(b"png")
    (old / "layer-c.html").write_text("")
    (old / "notes.txt").write_text("mine")
    (old / "report.json").write_text(json.dumps({"model": "m", "data": "d", "errors": [], "timings_s": {}}))
    assert sorted(check_out_dir(old)) == ["assets/atlas.css", "img/a.png", "layer-c.html", "report.json"]
