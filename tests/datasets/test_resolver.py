"""deepkit.datasets.resolve: every kind of --data, held-out splits, label checks, fitting to a model."""

import io
import os

import numpy as np
import pytest

from deepkit import datasets
from deepkit.datasets import fit_to_model, resolve
from deepkit.datasets.resolver import read_npz, to_model_scale
from deepkit.datasets.samples import write_sample
from deepkit.errors import DataError


def test_named_sets_come_raw_with_their_test_split(tmp_path):
    path = write_sample("mnist", tmp_path, n_train=6, n_test=3)
    data = resolve("mnist", path, purpose="evaluate")
    assert data.x_train.dtype == np.uint8 and data.x_train.shape == (6, 28, 28, 1)
    assert data.pixel_scale == 255.0 and data.test_split == "test" and len(data.y_test) == 3
    assert data.num_classes == 10 and len(data.fingerprint) == 64  # the file read, by its SHA-256


def test_folder_in_keras_layout_is_recognised(tmp_path):
    folder = write_sample("cifar10", tmp_path, n_train=10, n_test=2)
    data = resolve(os.path.dirname(folder), purpose="evaluate")  # the folder holding cifar-10-batches-py
    assert data.x_test.shape == (2, 32, 32, 3) and data.y_test.ndim == 1 and data.num_classes == 10


def test_training_only_file_gets_the_recipes_validation_split(tmp_path):
    from deepkit.recipes import split

    x = np.arange(40 * 4 * 4, dtype=np.uint8).reshape(40, 4, 4)
    y = np.arange(40) % 4
    np.savez(tmp_path / "train.npz", x_train=x, y_train=y)
    data = resolve(str(tmp_path / "train.npz"), seed=3)
    (_, _), (x_val, y_val) = split(x[..., None], y, 0.1, 3)
    np.testing.assert_array_equal(data.x_test, x_val)
    assert data.test_split == "validation" and "10% held out" in data.describe()
    assert len(data.fingerprint) == 64


def test_named_dataset_with_a_training_only_npz_path(tmp_path):
    np.savez(tmp_path / "mnist-train.npz", x_train=np.zeros((20, 28, 28), "uint8"), y_train=np.arange(20) % 10)
    data = resolve("mnist", str(tmp_path / "mnist-train.npz"))
    assert (len(data.x_train), len(data.x_test), data.test_split) == (18, 2, "validation")


def test_jpeg_layout_decodes(tmp_path):
    from PIL import Image

    chunks, offsets = [], [0]
    for value in (10, 200):
        buf = io.BytesIO()
        Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(buf, format="JPEG", quality=95)
        chunks.append(buf.getvalue())
        offsets.append(offsets[-1] + len(chunks[-1]))
    np.savez(tmp_path / "c.npz", jpeg=np.frombuffer(b"".join(chunks), np.uint8), offsets=np.array(offsets),
             y_train=np.array([0, 1]))
    (x, y), test = read_npz(str(tmp_path / "c.npz"))
    assert test is None and x.shape == (2, 8, 8, 3) and abs(int(x[1].mean()) - 200) <= 2


def test_evaluation_files_are_evaluated_whole_but_split_for_training(tmp_path):
    np.savez(tmp_path / "e.npz", x=np.zeros((10, 4), "float32"), y=np.arange(10) % 2)
    assert len(resolve(str(tmp_path / "e.npz"), purpose="evaluate").x_test) == 10
    data = resolve(str(tmp_path / "e.npz"), purpose="train")
    assert (len(data.x_train), len(data.x_test), data.pixel_scale) == (9, 1, None)


@pytest.mark.backend_independent
def test_errors_say_what_and_where(tmp_path):
    with pytest.raises(DataError, match=r"--data '.*nope\.npz': file does not exist"):
        resolve(str(tmp_path / "nope.npz"))
    with pytest.raises(datasets.UnknownDatasetError, match="Did you mean 'cifar10'"):
        resolve("cifar11")
    np.savez(tmp_path / "w.npz", a=np.zeros(3))
    with pytest.raises(DataError, match=r"holds arrays \['a'\]; expected x_train and y_train"):
        resolve(str(tmp_path / "w.npz"))
    np.savez(tmp_path / "l.npz", x_train=np.zeros((4, 2)), y_train=[0, 0, 1, 1], x_test=np.zeros((2, 2)),
             y_test=[0, 3])
    with pytest.raises(DataError, match=r"labels \[3\] that the training split never shows"):
        resolve(str(tmp_path / "l.npz"))
    np.savez(tmp_path / "n.npz", x_train=np.zeros((4, 2)), y_train=[0, 1, 1])
    with pytest.raises(DataError, match="4 train images but 3 labels"):
        resolve(str(tmp_path / "n.npz"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="not in a layout deepkit reads"):
        resolve(str(tmp_path / "empty"))


def test_fit_to_model_pads_small_margins_and_resizes_otherwise():
    import keras

    x = np.random.default_rng(0).integers(0, 256, (3, 8, 8, 1)).astype("uint8")
    up, notes = fit_to_model(x, (28, 28, 1))
    reference = keras.ops.convert_to_numpy(keras.ops.image.resize(x.astype("float32"), (28, 28)))
    np.testing.assert_allclose(up, reference, atol=1e-4)
    assert notes == ["resized 8x8 -> 28x28 (bilinear)"]
    padded, notes = fit_to_model(np.ones((1, 28, 28), "uint8"), (32, 32, 1))
    assert padded.shape == (1, 32, 32, 1) and padded[0, :2].sum() == 0 and padded[0, 2:30, 2:30].min() == 1
    colour, notes = fit_to_model(np.ones((1, 4, 4, 1)), (4, 4, 3))
    assert colour.shape == (1, 4, 4, 3) and notes == ["grey repeated to 3 channels"]
    flat, notes = fit_to_model(np.ones((2, 4, 4, 1)), (16,))
    assert flat.shape == (2, 16)
    with pytest.raises(DataError, match="points of 2 values but the model takes images"):
        fit_to_model(np.ones((2, 2)), (8, 8, 1))


@pytest.mark.backend_independent
def test_to_model_scale_converts_between_raw_and_unit_pixels():
    raw = np.array([0, 51, 255], np.uint8)
    np.testing.assert_allclose(to_model_scale(raw, 255.0, 1.0), [0.0, 0.2, 1.0], atol=1e-7)
    np.testing.assert_allclose(to_model_scale(np.array([0.2]), 1.0, 255.0), [51.0], atol=1e-5)
    assert to_model_scale(np.array([3.0]), None, 255.0).tolist() == [3.0]


def test_data_dir_environment_variable_supplies_local_copies(tmp_path, monkeypatch):
    np.savez(tmp_path / "mnist-train.npz", x_train=np.zeros((10, 28, 28), "uint8"), y_train=np.arange(10))
    monkeypatch.setenv("DEEPKIT_DATA_DIR", str(tmp_path))
    data = resolve("mnist", purpose="evaluate")
    assert data.source.endswith("mnist-train.npz") and data.test_split == "validation" and len(data.x_test) == 1
    monkeypatch.setenv("DEEPKIT_DATA_DIR", str(tmp_path / "nowhere"))
    from deepkit.datasets.resolver import local_copy

    assert local_copy("mnist") is None
