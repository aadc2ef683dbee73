"""The deepkit command line: train, summary, models."""

import re

import keras
import numpy as np
from deepkit.cli import main


def test_train_default_job_prints_accuracy_and_saves(tmp_path, capsys):
    out = tmp_path / "lenet.keras"
    assert main(["train", "--epochs", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "model: lenet5 (61,706 parameters)" in text
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", text).group(1))
    assert 0.0 <= accuracy <= 1.0
    loaded = keras.saving.load_model(out)
    assert loaded.count_params() == 61706


def test_train_on_npz_file_and_spec(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.random((40, 6), dtype=np.float32)
    y = (x[:, 0] > 0.5).astype("int64")
    np.savez(tmp_path / "d.npz", x_train=x[:30], y_train=y[:30], x_test=x[30:], y_test=y[30:])
    (tmp_path / "m.yaml").write_text("layers:\n  - Dense: {units: 8, activation: relu}\n  - Dense: 2\n")
    code = main(["train", "--model", str(tmp_path / "m.yaml"), "--data", str(tmp_path / "d.npz"), "--epochs", "1"])
    assert code == 0
    assert "(30 train / 10 test)" in capsys.readouterr().out


def test_summary_of_zoo_model_shows_macs(capsys):
    assert main(["summary", "cifar_resnet20"]) == 0
    text = capsys.readouterr().out
    assert "Total params: " in text and "Multiply-adds per example: " in text
    macs = int(re.search(r"Multiply-adds per example: ([0-9,]+)", text).group(1).replace(",", ""))
    assert 40e6 <= macs <= 42e6


def test_models_lists_and_filters(capsys):
    assert main(["models", "--filter", "resnet1*"]) == 0
    names = capsys.readouterr().out.split()
    assert "resnet18" in names and "resnet50" not in names
    assert main(["models", "--filter", "vgg16*"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "trainable", "multiply-adds", "input", "paper"]
    assert lines[1].split()[:5] == ["vgg16", "138,357,544", "15.47", "G", "224x224x3"] and "Simonyan" in lines[1]
    assert main(["models", "--filter", "googlenet", "--names"]) == 0
    assert capsys.readouterr().out.split() == ["cifar_googlenet", "googlenet", "googlenet_paper"]


def test_errors_are_reported_not_raised(tmp_path, capsys):
    assert main(["summary", "resnet5O"]) == 2
    assert "resnet50" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("layers:\n  - Dnse: 3\n")
    assert main(["summary", str(tmp_path / "bad.yaml"), "--input-shape", "4"]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:2:5" in err and "Did you mean 'Dense'" in err
    assert main(["summary", "x", "--input-shape", "a,b"]) == 2
    assert "expected a shape like 32,32,3" in capsys.readouterr().err
