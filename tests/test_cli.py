"""The deepkit command line: train, evaluate, summary, models (report: tests/viz/test_report.py)."""

import re

import keras
import numpy as np
import pytest
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


def test_models_filter_without_match_says_so_and_exits_1(capsys):
    assert main(["models", "--filter", "transformer*"]) == 1
    assert "no model matches 'transformer*'" in capsys.readouterr().err


def test_unknown_optimizer_and_loss_get_suggestions(capsys):
    assert main(["train", "--data", "moons", "--epochs", "1", "--optimizer", "adamm"]) == 2
    assert "unknown optimizer 'adamm'. Did you mean 'adam'" in capsys.readouterr().err
    assert main(["train", "--data", "moons", "--epochs", "1", "--loss", "sparse_categorical_crosentropy"]) == 2
    assert "Did you mean 'sparse_categorical_crossentropy'" in capsys.readouterr().err


def test_missing_data_file_says_it_does_not_exist(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "nonexist.npz"), "--epochs", "1"]) == 2
    assert "nonexist.npz': file does not exist" in capsys.readouterr().err


def test_spec_ending_in_softmax_is_compiled_without_logits(tmp_path, capsys):
    (tmp_path / "m.yaml").write_text("input_shape: [2]\nlayers:\n  - Dense: 8\n  - Dense: 2\n  - Softmax\n")
    out = tmp_path / "m.keras"
    assert main(["train", "--model", str(tmp_path / "m.yaml"), "--data", "moons", "--epochs", "1", "--quiet",
                 "--out", str(out)]) == 0
    loss = keras.saving.load_model(out).loss
    assert type(loss).__name__ == "SparseCategoricalCrossentropy" and loss.get_config()["from_logits"] is False


def test_train_on_a_training_only_file_holds_out_validation_and_refuses_unseen_test_labels(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (60, 12, 12), dtype=np.uint8)
    y = np.arange(60) % 3
    np.savez(tmp_path / "train.npz", x_train=x, y_train=y)
    assert main(["train", "--model", "lenet5", "--data", str(tmp_path / "train.npz"), "--epochs", "1",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "(54 train / 6 validation)" in out and "validation accuracy:" in out
    np.savez(tmp_path / "bad.npz", x_train=x, y_train=y % 2, x_test=x[:4], y_test=np.array([0, 1, 2, 2]))
    assert main(["train", "--data", str(tmp_path / "bad.npz"), "--epochs", "1"]) == 2
    assert "labels [2] that the training split never shows" in capsys.readouterr().err


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
    assert lines[0].split() == ["name", "trainable", "multiply-adds", "input", "weights", "paper"]
    assert lines[1].split()[:7] == ["vgg16", "138,357,544", "15.47", "G", "224x224x3", "imagenet", "71.6/90.4"]
    assert "Simonyan" in lines[1]
    assert main(["models", "--filter", "lenet5"]) == 0
    assert re.search(r"28x28x1\s+mnist\s+LeCun", capsys.readouterr().out.splitlines()[1])
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


@pytest.mark.backend_independent
def test_help_and_models_do_not_start_keras():
    """What keeps `deepkit --help` under a second (timed in benchmarks/bench_cli.py, not here)."""
    import subprocess
    import sys

    for args in (["--help"], ["models"], ["train", "--help"]):
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "deepkit.cli", *args], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time")}
        heavy = sorted(imported & {"keras", "tensorflow", "jax", "torch", "matplotlib"})
        assert not heavy, (args, heavy)


@pytest.mark.backend_independent
def test_import_deepkit_registers_the_model_classes_for_keras_loading(tmp_path):
    import subprocess
    import sys

    model = __import__("deepkit").Sequential([{"Dense": 2}], input_shape=(3,))
    model.save(tmp_path / "m.keras")
    code = f"import deepkit, keras; print(type(keras.saving.load_model({str(tmp_path / 'm.keras')!r})).__name__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip().endswith("Sequential"), done.stderr[-2000:]
