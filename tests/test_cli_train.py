"""``deepkit train``'s outputs: --out checked before training, weights files, checkpoints, Ctrl-C/SIGTERM and
--resume, a saved model's optimizer state, learning rates that are not numbers."""

import os
import re
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from deepkit.cli import main
from tests import ROOT


def cli_env():
    return dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "deepkit.cli", *args], capture_output=True, text=True,
                          env=cli_env(), timeout=timeout, cwd=ROOT)


@pytest.mark.parametrize("out, message", [
    ("missing-folder/m.keras", r"the folder '.*missing-folder' does not exist; create it first"),
    ("/proc/m.keras", r"cannot write in '/proc'"),
    (".", r"is an existing folder; give a file name \(e.g. '\./model\.keras'\)"),
    ("m.txt", r"a trained model is saved as a \.keras file .* received a name ending in '\.txt'"),
])
def test_out_is_checked_before_any_training(tmp_path, monkeypatch, capsys, out, message):
    """Item 12: --out was first looked at after training, and a bad one lost the trained model."""
    monkeypatch.chdir(tmp_path)
    started = time.perf_counter()
    assert main(["train", "--data", "digits", "--epochs", "50", "--out", out]) == 2
    err = capsys.readouterr().err
    assert re.search(f"deepkit train: error: --out '{re.escape(out)}': " + message, err), err
    assert "epochs in" not in capsys.readouterr().out and time.perf_counter() - started < 60  # 50 epochs: minutes


def test_out_txt_is_refused_by_the_cli_before_training(tmp_path):
    done = run_cli("train", "--data", "digits", "--epochs", "50", "--out", str(tmp_path / "m.txt"))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "received a name ending in '.txt'" in done.stderr and "epoch" not in done.stderr.lower()
    assert os.listdir(tmp_path) == []


def test_out_weights_h5_writes_weights_that_evaluate_reads(tmp_path, capsys):
    """Item 12: `--out m.weights.h5` wrote a full model, which evaluate then refused. Now the weights,
    with the architecture beside them (the data's preprocessing is part of it)."""
    out = tmp_path / "m.weights.h5"
    assert main(["train", "--data", "digits", "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    trained = float(re.search(r"test accuracy: ([0-9.]+)", text).group(1))
    spec = tmp_path / "m.yaml"
    assert f"weights saved to {out}, the architecture to {spec}" in text
    with pytest.raises(ValueError):  # not a whole model
        keras.saving.load_model(out)
    assert main(["evaluate", str(spec), "--weights", str(out), "--data", "digits", "--quiet"]) == 0
    assert float(re.search(r"accuracy: ([0-9.]+)", capsys.readouterr().out).group(1)) == pytest.approx(trained)


def test_a_saved_model_keeps_its_optimizer_state(tmp_path, capsys):
    """Item 12: `--model saved.keras` was recompiled with a fresh Adam (step 0, no moments)."""
    first, second = tmp_path / "a.keras", tmp_path / "b.keras"
    assert main(["train", "--data", "digits", "--epochs", "1", "--quiet", "--out", str(first)]) == 0
    steps = int(keras.saving.load_model(first).optimizer.iterations)
    assert steps == 22  # 1347 images in batches of 64
    assert main(["train", "--model", str(first), "--data", "digits", "--epochs", "1", "--out", str(second)]) == 0
    assert f"optimizer: the saved Adam with its state (step {steps})" in capsys.readouterr().err
    assert int(keras.saving.load_model(second).optimizer.iterations) == 2 * steps
    assert main(["train", "--model", str(first), "--data", "digits", "--epochs", "1", "--optimizer", "sgd",
                 "--out", str(second)]) == 0
    assert "a new SGD (--optimizer); the saved optimizer state is not used" in capsys.readouterr().err
    assert int(keras.saving.load_model(second).optimizer.iterations) == steps


@pytest.mark.backend_independent
@pytest.mark.parametrize("lr", ["nan", "inf", "-1", "0"])
def test_a_learning_rate_that_is_not_a_positive_number_is_a_usage_error(lr):
    """Item 12: `--lr nan` trained to NaN and exited 0."""
    done = run_cli("train", "--lr", lr, "--epochs", "1")
    assert done.returncode == 2
    assert f"argument --lr: the learning rate must be a positive, finite number. Received: {lr}" in done.stderr


def test_sigterm_keeps_the_finished_epochs_and_resume_continues(tmp_path, capsys):
    """Item 12: Ctrl-C or SIGTERM left a traceback and nothing on disk. Now every finished epoch is a
    checkpoint (deepkit.train.Checkpoint), the interruption is one line saying how to go on, exit 130,
    and --resume continues from it."""
    checkpoints = tmp_path / "ckpt"
    out = tmp_path / "m.keras"
    command = [sys.executable, "-m", "deepkit.cli", "train", "--data", "digits", "--epochs", "200",
               "--checkpoint", str(checkpoints), "--out", str(out), "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=cli_env(), cwd=ROOT)
    try:
        deadline = time.time() + 400
        while not (checkpoints.is_dir() and any(p.startswith("epoch-") for p in os.listdir(checkpoints))):
            assert process.poll() is None and time.time() < deadline, process.communicate()[1][-3000:]
            time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err[-3000:]
    assert "Traceback" not in err and not out.exists()
    done = re.search(r"deepkit train: interrupted; epochs 1-(\d+) of 200 are saved in (\S+): run the same "
                     r"command with --resume (\S+) to continue", err)
    assert done and done.group(2) == done.group(3) == str(checkpoints), err[-3000:]
    epochs = int(done.group(1))
    assert main(["train", "--data", "digits", "--epochs", str(epochs + 1), "--resume", str(checkpoints),
                 "--out", str(out), "--quiet", "--history", str(tmp_path / "h.json")]) == 0
    assert f"trained 1 epochs in" in capsys.readouterr().out and out.exists()
    import json

    assert len(json.loads((tmp_path / "h.json").read_text())["loss"]) == epochs + 1


def test_checkpoints_of_an_earlier_run_are_not_overwritten_or_resumed_silently(tmp_path, capsys):
    out = tmp_path / "m.keras"
    (tmp_path / "m.keras-checkpoint" / "epoch-000003").mkdir(parents=True)
    (tmp_path / "m.keras-checkpoint" / "epoch-000003" / "meta.json").write_text("{}")
    assert main(["train", "--data", "digits", "--epochs", "1", "--out", str(out)]) == 2
    assert "holds checkpoints of an earlier run (up to epoch 3): add --resume" in capsys.readouterr().err
    assert main(["train", "--data", "digits", "--epochs", "1", "--resume", str(tmp_path / "none")]) == 2
    assert "holds no checkpoint to continue from" in capsys.readouterr().err


def test_the_checkpoint_next_to_out_goes_once_the_model_is_saved(tmp_path):
    out = tmp_path / "m.keras"
    assert main(["train", "--data", "digits", "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]


def test_a_run_whose_loss_diverges_exits_2_and_writes_no_model(tmp_path, capsys):
    """Item 12: a run that trained to NaN/inf exited 0 and saved the broken model."""
    spec = tmp_path / "linear.yaml"
    spec.write_text("input_shape: [2]\nlayers:\n  - Dense: 2\n")
    out = tmp_path / "m.keras"
    assert main(["train", "--model", str(spec), "--data", "moons", "--epochs", "5", "--optimizer", "sgd",
                 "--lr", "1e38", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"training diverged: the loss became (nan|inf) in epoch \d; --out was not written", err), err
    assert not out.exists()
