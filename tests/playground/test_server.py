"""The playground server alone, driven by a fake page over its real HTTP protocol.

play/pause/step/reset, the limits, two pages at once, bad query strings, CSV upload, exports, and a
clean stop on Ctrl-C of the ``deepkit playground`` command.
"""

import io
import os
import signal
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

import tests
from deepkit.playground import config as pconfig
from tests.playground.client import Client, running_server

SMALL = "grid=8&numSamples=100"


@pytest.fixture(scope="module")
def server():
    with running_server() as s:
        yield s


def test_page_script_and_styles_are_served_from_the_package(server):
    page = Client(server.url).request("GET", "/")
    assert b"/static/playground.js" in page and b"http" not in page.replace(b"http-equiv", b"")
    for name in ("playground.js", "playground.css"):
        assert len(Client(server.url).request("GET", f"/static/{name}")) > 1000
    Client(server.url).request("GET", "/static/../server.py", expect=404)
    assert server.server_address[0] == "127.0.0.1"


def test_play_pause_step_reset_over_the_protocol(server):
    c = Client(server.url)
    state = c.open(SMALL + "&networkShape=3")
    assert state["frame"]["epoch"] == 0 and state["playing"] is False
    assert c.control("play")["playing"] is True
    frame = c.wait_epoch(3)
    assert frame["epoch"] >= 3 and frame["loss"]["train"] is not None
    answer = c.control("pause")
    assert answer["playing"] is False
    time.sleep(0.3)  # an update under way when pause came in may still finish
    held = c.frame(wait=0)["frame"]
    time.sleep(1.0)
    assert c.frame(wait=0)["frame"]["epoch"] == held["epoch"], "training went on after pause"
    stepped = c.control("step")
    assert stepped["frame"]["epoch"] == held["epoch"] + 1 and stepped["playing"] is False
    reset = c.control("reset")
    assert reset["frame"]["epoch"] == 0
    # the frame: one map per neuron of the hidden layer, the output map, every weight
    frame = reset["frame"]
    assert len(frame["maps"]) == 1 and len(frame["maps"][0]) == 3
    assert [np.shape(w) for w in frame["weights"]] == [(2, 3), (3, 1)]


def test_limits_refuse_oversized_requests_with_clear_messages(server):
    c = Client(server.url)
    c.open(SMALL)
    limits = pconfig.LIMITS
    cases = [({"networkShape": [4] * (limits["layers"] + 1)}, "at most 10 hidden layers"),
             ({"networkShape": [limits["neurons"] + 1]}, "1 to 32 neurons"),
             ({"numSamples": limits["points"] + 1}, "numSamples: expected an integer >= 20 and <= 5000"),
             ({"grid": limits["grid"] + 1}, "grid: expected an integer >= 8 and <= 100"),
             ({"activation": "swishy"}, "expected one of tanh"),
             ({"nonsense": 1}, "unknown setting 'nonsense'")]
    for settings, expected in cases:
        answer = c.control("settings", settings, expect=400)
        assert expected in answer["error"], (settings, answer)
        assert "Traceback" not in answer["error"]
    too_many = [[0.0, 0.0]] * (limits["points"] + 1)
    answer = c.request("POST", "/api/predict", {"session": c.session, "points": too_many}, expect=400)
    assert "1 to 5000" in answer["error"]
    answer = c.request("POST", f"/api/upload?session={c.session}", "a,b,c\n1,2\n", raw=True, expect=400)
    assert "CSV line 2" in answer["error"]
    assert "must be JSON" in c.request("POST", "/api/control", "{oops", raw=True, expect=400)["error"]
    c.request("GET", "/api/frame?session=nope", expect=404)


def test_bad_query_strings_fall_back_to_defaults_with_notes(server):
    state = Client(server.url).open(SMALL + "&networkShape=4,99&learningRate=-1&activation=%00&bogus=1")
    assert state["config"]["networkShape"] == [4, 2] and state["config"]["learningRate"] == 0.03
    notes = " ".join(state["notes"])
    assert "networkShape" in notes and "learningRate" in notes and "activation" in notes and "bogus" in notes


def test_two_pages_each_get_their_own_model(server):
    a, b = Client(server.url), Client(server.url)
    state_a = a.open(SMALL + "&networkShape=2")
    state_b = b.open(SMALL + "&networkShape=5,5&dataset=xor")
    assert state_a["session"] != state_b["session"]
    a.control("play")
    a.wait_epoch(4)
    a.control("pause")
    frame_b = b.frame(wait=0)["frame"]
    assert frame_b["epoch"] == 0, "the other page's model trained"
    assert [np.shape(w) for w in frame_b["weights"]] == [(2, 5), (5, 5), (5, 1)]
    b.control("step")
    assert b.frame(wait=0)["frame"]["epoch"] == 1
    a.request("POST", "/api/close", {"session": a.session})
    a.request("GET", f"/api/frame?session={a.session}", expect=404)


def test_sessions_beyond_the_limit_are_refused(server, monkeypatch):
    monkeypatch.setitem(pconfig.LIMITS, "sessions", len(server.playground.worker.sessions))
    answer = Client(server.url).open(SMALL, expect=503)
    assert "playground pages at once" in answer["error"]


def test_csv_upload_and_exports(server):
    c = Client(server.url)
    c.open(SMALL + "&networkShape=3")
    rng = np.random.default_rng(0)
    pts = rng.uniform(-1, 1, (60, 2))
    text = "x1,x2,label\n" + "\n".join(f"{x:.4f},{y:.4f},{int(x * y > 0)}" for x, y in pts)
    state = c.request("POST", f"/api/upload?session={c.session}", text, raw=True)
    assert state["config"]["dataset"] == "csv" and "multiplied by" in state["dataNote"]
    assert len(state["points"]["train"]) + len(state["points"]["test"]) == 60
    spec = c.request("GET", f"/api/export/playground.yaml?session={c.session}").decode()
    assert "Dense" in spec and "inputs, in this order: X1, X2" in spec
    data = np.load(io.BytesIO(c.request("GET", f"/api/export/playground-data.npz?session={c.session}")))
    assert data["x_train"].shape[1] == 2 and data["y_train"].dtype == np.int32
    command = c.request("GET", f"/api/export/report.txt?session={c.session}").decode()
    assert command.startswith("deepkit report playground.keras --data playground-data.npz")


@pytest.mark.backend_independent
def test_non_loopback_host_warns():
    from deepkit.playground.server import make_server

    with pytest.warns(UserWarning, match="no authentication"):
        s = make_server("0.0.0.0", 0)
    s.close()


def test_the_command_stops_cleanly_on_ctrl_c(tmp_path):
    env = dict(os.environ, PYTHONPATH=tests.ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "deepkit.cli", "playground", "--port", "0", "--no-browser"],
                            cwd=tests.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("deepkit playground: http://127.0.0.1:"), line
        url = line.split()[2]
        with urllib.request.urlopen(url, timeout=30) as r:
            assert r.status == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "deepkit playground: stopped" in out
    assert "Traceback" not in err


@pytest.mark.backend_independent
def test_playground_help_does_not_start_keras():
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "deepkit.cli", "playground", "--help"],
                          cwd=tests.ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "--no-browser" in done.stdout, done.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time")}
    assert not imported & {"keras", "tensorflow", "jax", "torch", "matplotlib"}
