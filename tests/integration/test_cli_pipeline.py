"""The user's path through the command line, each step a fresh process: train -> evaluate -> report.

Run on every backend (tools/test-all.sh runs the suite on tensorflow and jax): the saved model is read
by a process that never saw the training one, on the default data and on raw uint8 images of another size.
"""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tests import ROOT


def deepkit(*args, cwd):
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": ROOT}
    done = subprocess.run([sys.executable, "-m", "deepkit.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-3000:])
    return done


def report_is_clean(folder):
    page = open(os.path.join(folder, "index.html")).read()
    assert "Traceback" not in page and "http://" not in page.replace("http://www.w3.org", "")
    meta = json.load(open(os.path.join(folder, "report.json")))
    assert meta["errors"] == [], meta["errors"]
    return page


@pytest.mark.slow
def test_train_evaluate_report_on_the_default_data(tmp_path):
    trained = deepkit("train", "--epochs", "3", "--out", "m.keras", "--history", "h.json", cwd=tmp_path)
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", trained.stdout).group(1))
    assert accuracy > 0.5, trained.stdout
    assert "cuInit" not in trained.stderr and "oneDNN" not in trained.stderr  # start-up noise hidden
    evaluated = deepkit("evaluate", "m.keras", "--out", "cm.png", "--json", "e.json", cwd=tmp_path)
    result = json.load(open(tmp_path / "e.json"))
    assert result["accuracy"] == pytest.approx(accuracy, abs=1e-4)  # same data, same model, same number
    assert "per-class accuracy:" in evaluated.stdout and "confusion matrix" in evaluated.stdout
    assert os.path.getsize(tmp_path / "cm.png") > 1000
    deepkit("report", "m.keras", "--history", "h.json", "--out", "r", "--featurevis-steps", "4",
            "--max-images", "120", "--num-samples", "4", "--max-units", "4", "--unit-pages", "1",
            "--max-classes", "3", "--quiet", cwd=tmp_path)
    assert "resized 8x8 -&gt; 28x28" in report_is_clean(tmp_path / "r")


@pytest.mark.slow
def test_raw_uint8_npz_of_another_size(tmp_path):
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.kron((digits.images * 255 / 16).astype("uint8"), np.ones((2, 2), "uint8"))  # 16x16 raw uint8
    np.savez(tmp_path / "raw.npz", x_train=images[:1500], y_train=digits.target[:1500],
             x_test=images[1500:], y_test=digits.target[1500:])
    deepkit("train", "--data", "raw.npz", "--epochs", "3", "--out", "m.keras", cwd=tmp_path)
    evaluated = deepkit("evaluate", "m.keras", "--data", "raw.npz", cwd=tmp_path)
    assert "resized 16x16 -> 28x28" in evaluated.stderr
    assert float(re.search(r"accuracy: ([0-9.]+)", evaluated.stdout).group(1)) > 0.5
    deepkit("report", "m.keras", "--data", "raw.npz", "--out", "r", "--no-featurevis", "--max-images", "100",
            "--num-samples", "4", "--unit-pages", "1", "--max-classes", "3", "--quiet", cwd=tmp_path)
    report_is_clean(tmp_path / "r")
