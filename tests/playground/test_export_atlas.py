"""The playground's export opens as an atlas with the very command the page gives (issue 25, issue 27.8).

A session is trained a few epochs over the real protocol, its ``playground.keras`` and
``playground-data.npz`` are written to a folder, and ``report.txt``'s command is run there in a
subprocess; before, that command needed ``--attributions "" --max-classes 0`` and then hit the report's
refusal of every model not on images.
"""

import json
import os
import shlex
import subprocess
import sys

import pytest

import tests
from deepkit.viz.report_browser import check_page, find_chromium
from tests.playground.client import Client, running_server


@pytest.fixture(scope="module")
def server():
    with running_server() as s:
        yield s


@pytest.mark.parametrize("query", ["dataset=xor&networkShape=4,2", "dataset=reg-plane&problem=regression&networkShape=3"])
def test_exported_network_opens_as_an_atlas_with_the_given_command(server, tmp_path, query):
    c = Client(server.url)
    c.open(f"grid=8&numSamples=100&{query}")
    c.control("play")
    c.wait_epoch(2)
    c.control("pause")
    for name in ("playground.keras", "playground-data.npz"):
        (tmp_path / name).write_bytes(c.request("GET", f"/api/export/{name}?session={c.session}"))
    command = c.request("GET", f"/api/export/report.txt?session={c.session}").decode().strip()
    assert command == "deepkit report playground.keras --data playground-data.npz --out playground-atlas"
    env = dict(os.environ, PYTHONPATH=tests.ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    args = shlex.split(command)
    done = subprocess.run([sys.executable, "-m", "deepkit.cli", *args[1:], "--quiet"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    out = tmp_path / "playground-atlas"
    meta = json.loads((out / "report.json").read_text())
    assert meta["errors"] == []
    index = (out / "index.html").read_text()
    assert "The model over the input plane" in index and "vectors of 2 values" in index
    unit = out / "unit-hidden-1-0.html"
    assert unit.exists() and "Over the input plane" in unit.read_text()
    if "regression" in query:
        assert "Confusion matrix" not in index and "a regression" in index
    else:
        assert "Confusion matrix" in index
    if find_chromium() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is required in CI (Debian package 'chromium') but was not found.")
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    for name in ("index.html", "layer-hidden-1.html", "unit-hidden-1-0.html"):
        result = check_page(out / name)
        assert result.console_errors == [], name
        assert result.images and all(im["decoded"] and im["natural_width"] > 0 for im in result.images), name
