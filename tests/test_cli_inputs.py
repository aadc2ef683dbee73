"""The CLI on data and models from elsewhere, run as a user runs it (a subprocess): channels-first files,
NaN pixels, empty splits, labels a model cannot express, odd training files, start-up noise, report --help."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from deepkit import datasets
from deepkit.cli import main
from deepkit.errors import DataError
from tests import ROOT


def run_cli(*args, timeout=300, **env):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), **env)
    return subprocess.run([sys.executable, "-m", "deepkit.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=ROOT)


def accuracy(stdout):
    return float(re.search(r"accuracy: ([0-9.]+)", stdout).group(1))


@pytest.fixture(scope="module")
def digits28(tmp_path_factory):
    """scikit-learn's digits as raw 28x28 uint8 pixels: (x, y), no download."""
    (_, _), (x, y) = datasets.digits(image_size=28)
    return (x[..., 0] * 255).round().astype("uint8"), y


def test_evaluate_reads_a_channels_first_grey_file_as_28x28_images(tmp_path, digits28, capsys):
    """Item 10: (N, 1, 28, 28) was read as 1x28 images with 28 channels (averaged to grey, "1 channels"
    in the note) and scored at chance with exit 0. Now it is transposed, said so, and scores as the
    channels-last file does."""
    x, y = digits28
    np.savez(tmp_path / "last.npz", x=x[..., None], y=y)
    np.savez(tmp_path / "first.npz", x=x[:, None].astype("float32") / 255, y=y)
    assert main(["evaluate", "lenet5", "--weights", "mnist", "--data", str(tmp_path / "last.npz")]) == 0
    reference = accuracy(capsys.readouterr().out)
    assert reference > 0.4  # LeNet-5's MNIST weights on upsampled 8x8 digits
    done = run_cli("evaluate", "lenet5", "--weights", "mnist", "--data", str(tmp_path / "first.npz"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "channels-first 1x28x28 read as 28x28 images with 1 channel" in done.stderr
    assert "averaged to grey" not in done.stderr
    assert accuracy(done.stdout) == pytest.approx(reference, abs=1e-4)


def test_train_on_a_channels_first_file_builds_a_one_channel_lenet(tmp_path, digits28, capsys):
    x, y = digits28
    np.savez(tmp_path / "first.npz", x_train=x[:200, None], y_train=y[:200])
    assert main(["train", "--data", str(tmp_path / "first.npz"), "--epochs", "1", "--quiet"]) == 0
    assert "model: lenet5 (61,706 parameters)" in capsys.readouterr().out  # 28 channels: 64,406


@pytest.mark.backend_independent
def test_fit_to_model_says_how_many_channels_it_averaged():
    """Item 10: the note was written after averaging, so it always said "1 channels"."""
    _, notes = datasets.fit_to_model(np.zeros((2, 8, 8, 3), "uint8"), (8, 8, 1))
    assert notes == ["3 channels averaged to grey"]
    x, notes = datasets.fit_to_model(np.ones((2, 3, 8, 8), "float32"), (8, 8, 1))
    assert x.shape == (2, 8, 8, 1) and notes == ["channels-first 3x8x8 read as 8x8 images with 3 channels",
                                                 "3 channels averaged to grey"]


def test_evaluate_refuses_nan_pixels_naming_file_and_position(tmp_path, digits28):
    """Item 11: NaN pixels gave 'loss: nan', exit 0 (the Python API refuses them)."""
    x, y = digits28
    x = x.astype("float32")
    x[7, 3, 4] = np.nan
    path = tmp_path / "nan.npz"
    np.savez(path, x=x, y=y)
    done = run_cli("evaluate", "lenet5", "--weights", "mnist", "--data", str(path))
    assert done.returncode == 2, done.stdout + done.stderr[-3000:]
    assert f"--data '{path}', test images: 1 pixel value is NaN or inf, in 1 of {len(x)} images; the first is " \
           "at index (7, 3, 4): nan" in done.stderr
    assert "Traceback" not in done.stderr and "loss: nan" not in done.stdout


def test_evaluate_refuses_an_empty_test_split(tmp_path, digits28, capsys):
    """Item 11: an empty test split died in a Keras traceback."""
    x, y = digits28
    np.savez(tmp_path / "empty_test.npz", x_train=x[:20], y_train=y[:20], x_test=x[:0], y_test=y[:0])
    assert main(["evaluate", "lenet5", "--weights", "mnist", "--data", str(tmp_path / "empty_test.npz")]) == 2
    assert "test images: holds no samples (images of shape (0, 28, 28, 1)); it needs at least one" \
        in capsys.readouterr().err
    np.savez(tmp_path / "five.npz", x_train=x[:5], y_train=y[:5])  # 10% of 5 images: no validation image
    assert main(["evaluate", "lenet5", "--weights", "mnist", "--data", str(tmp_path / "five.npz")]) == 2
    assert "the validation split holds no images (the file has 5 training images)" in capsys.readouterr().err


def test_evaluate_refuses_a_model_whose_classes_do_not_fit_the_labels(tmp_path, digits28, capsys):
    """Item 13: a 3-class model on 10-class labels printed accuracy 0.12, exit 0; a 1-unit sigmoid got a
    10x10 confusion matrix. The check is the one deepkit.Model.fit runs (deepkit.train.checks)."""
    import keras

    x, y = digits28
    np.savez(tmp_path / "d.npz", x=x, y=y)
    for units, activation in ((3, None), (1, "sigmoid")):
        model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(units, activation=activation)])
        model.save(tmp_path / f"m{units}.keras")
    done = run_cli("evaluate", str(tmp_path / "m3.keras"), "--data", str(tmp_path / "d.npz"))
    assert done.returncode == 2, done.stdout + done.stderr[-3000:]
    assert "does not fit these labels: test labels: labels must be integers in [0, 3)" in done.stderr
    assert "The labels need 10 classes" in done.stderr and "accuracy" not in done.stdout
    assert main(["evaluate", str(tmp_path / "m1.keras"), "--data", str(tmp_path / "d.npz")]) == 2
    assert "expects targets in [0, 1]; found" in capsys.readouterr().err


def test_report_refuses_a_model_whose_classes_do_not_fit_before_writing(tmp_path, digits28, capsys):
    import keras

    x, y = digits28
    np.savez(tmp_path / "d.npz", x=x, y=y)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.save(tmp_path / "m.keras")
    out = tmp_path / "r"
    assert main(["report", str(tmp_path / "m.keras"), "--data", str(tmp_path / "d.npz"), "--out", str(out),
                 "--quiet"]) == 2
    assert "does not fit these labels" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize("name, arrays, message", [
    ("nan", lambda x, y: dict(x_train=np.where(np.arange(x.size).reshape(x.shape) == 100, np.nan, x / 255),
                              y_train=y),
     r"train images: 1 pixel value is NaN or inf, in 1 of 100 images; the first is at index \(0, 3, 16\): nan"),
    ("empty", lambda x, y: dict(x_train=x[:0], y_train=y[:0]), r"train images: holds no samples"),
    ("single", lambda x, y: dict(x_train=x, y_train=np.full(len(y), 7)),
     r"train labels: every one of its 100 labels is 7; a classifier needs at least two classes"),
    ("strings", lambda x, y: dict(x_train=np.array([["a", "b"]] * len(y)), y_train=y),
     r"train images: images must be numbers \(uint8 pixels or floats\); received dtype <U1"),
    ("huge_label", lambda x, y: dict(x_train=x, y_train=np.where(np.arange(len(y)) == 5, np.int64(2 ** 40),
                                                                 y.astype("int64"))),
     r"train labels: label 1099511627776 \(at index 5\) is not a class index"),
], ids=["nan", "empty", "single_class", "strings", "huge_label"])
def test_train_on_odd_files_names_the_file_and_the_value(tmp_path, digits28, capsys, name, arrays, message):
    """Item 16: a NaN pixel ('preprocessing std must be positive'), an empty file (a traceback), a
    single-class file ('validation accuracy: 0.0000'), string images and labels of 2**40."""
    x, y = digits28
    path = tmp_path / f"{name}.npz"
    np.savez(path, **arrays(x[:100], y[:100]))
    assert main(["train", "--data", str(path), "--epochs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"deepkit train: error: --data '{path}', ") and re.search(message, err), err


def test_train_on_odd_jpeg_files_names_the_file_and_the_image(tmp_path):
    """Item 16: JPEG files with bad offsets, an oversized JPEG (decoded without a bound) gave tracebacks."""
    import io

    from PIL import Image

    def jpeg(array):
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, "JPEG")
        return np.frombuffer(buffer.getvalue(), np.uint8)

    small = [jpeg(np.full((8, 8, 3), v, np.uint8)) for v in (0, 255)]
    buffer = np.concatenate(small)
    offsets = np.array([0, len(small[0]), len(buffer)])
    np.savez(tmp_path / "badoff.npz", jpeg=buffer, offsets=offsets[::-1].copy(), y_train=[0, 1])
    np.savez(tmp_path / "garbage.npz", jpeg=buffer, offsets=offsets + 5, y_train=[0, 1])
    big = jpeg(np.zeros((4200, 4200, 3), np.uint8))
    np.savez(tmp_path / "big.npz", jpeg=big, offsets=[0, len(big)], y_train=[0])
    for name, message in (("badoff", r"'offsets' must increase from 0 to the [0-9,]+ bytes of 'jpeg'; "
                                      r"offsets\[0:2\] = "),
                          ("garbage", r"'offsets' must increase from 0 to the [0-9,]+ bytes"),
                          ("big", r"image 0 is 4200x4200 pixels, more than the 16,777,216 deepkit decodes")):
        path = tmp_path / f"{name}.npz"
        with pytest.raises(DataError,
                           match=f"data file '{re.escape(str(path))}': " + message):
            datasets.resolve(str(path))
    np.savez(tmp_path / "shifted.npz", jpeg=np.concatenate([buffer, buffer[:5]]), offsets=offsets + 5,
             y_train=[0, 1])
    done = run_cli("train", "--data", str(tmp_path / "shifted.npz"), "--epochs", "1")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert re.search(r"image 0 \(bytes 5\.\.[0-9]+ of 'jpeg'\) is not a readable JPEG", done.stderr), done.stderr


def test_a_nan_training_file_is_refused_by_the_cli(tmp_path, digits28):
    """Item 16 as the user sees it: one line naming the file and the pixel, exit 2."""
    x, y = digits28
    x = x[:100].astype("float32")
    x[2, 5, 6] = np.nan
    np.savez(tmp_path / "nan.npz", x_train=x, y_train=y[:100])
    done = run_cli("train", "--data", str(tmp_path / "nan.npz"), "--epochs", "1")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "train images: 1 pixel value is NaN or inf, in 1 of 100 images; the first is at index (2, 5, 6)" \
        in done.stderr and "std must be positive" not in done.stderr


@pytest.mark.backends("jax", "torch", reason="TensorFlow's start-up lines under another backend")
def test_commands_under_jax_or_torch_print_no_tensorflow_start_up_lines():
    """Item 16: Keras imports TensorFlow lazily on any backend (serializing a layer asks whether it is
    available), so its start-up lines came in the middle of every command's output."""
    done = run_cli("evaluate", "lenet5", "--weights", "mnist", "--data", "digits", "--quiet")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr == "", done.stderr  # was absl's "All log messages before..." and "cudart_stub" lines


@pytest.mark.backend_independent
def test_report_help_lists_every_registered_attribution_method():
    """Item 16: the help listed 4 of the 7 methods; it reads the attribution registry's names."""
    from deepkit.viz.attribution import list_methods
    from deepkit.viz.attribution.registry import report_methods

    done = run_cli("report", "--help")
    assert done.returncode == 0, done.stderr[-3000:]
    text = " ".join(done.stdout.split())
    listed = re.search(r"--attributions ATTRIBUTIONS comma-separated attribution methods, of: ([a-z_, ]+)", text)
    assert listed and [m.strip() for m in listed.group(1).split(",")] == list(report_methods(False)), text
    assert sorted(report_methods(False)) == list_methods()
    assert len(list_methods()) >= 7 and done.stderr == ""
