"""deepkit.datasets.lecture: the tutorials' one call (local copy, download, offline digits; says which)."""

import numpy as np
import pytest

from deepkit import datasets
from deepkit.datasets import lectures
from deepkit.datasets.samples import write_sample


def test_a_local_copy_is_read_scaled_and_named(tmp_path, capsys, monkeypatch):
    """Checked against numpy (pixels / 255); fails on a planted 1 / 256 scale."""
    monkeypatch.delenv(lectures.FAST_ENV, raising=False)
    write_sample("mnist", tmp_path, n_train=12, n_test=5)
    data = datasets.lecture("mnist", data_dir=str(tmp_path))
    assert capsys.readouterr().out == f"mnist from {tmp_path}/mnist.npz: 12 train / 5 test images\n"
    assert data.x_train.shape == (12, 28, 28, 1) and data.x_train.dtype == np.float32
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0 and not data.is_fallback
    raw = np.load(tmp_path / "mnist.npz")["x_train"]
    np.testing.assert_allclose(data.x_train[..., 0], raw / 255.0, rtol=1e-6)  # numpy reference


def test_a_training_only_copy_gives_its_held_out_split(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(lectures.FAST_ENV, raising=False)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "mnist-train.npz", x_train=rng.integers(0, 256, (40, 28, 28), dtype=np.uint8),
             y_train=np.arange(40) % 10)
    data = datasets.lecture("mnist", data_dir=str(tmp_path), max_train=10)
    assert data.test_split == "validation" and len(data.x_train) == 10 and len(data.x_test) == 4
    assert "(its held-out 10 % as the test split): 10 train / 4 validation images" in capsys.readouterr().out


def test_offline_without_a_copy_falls_back_to_the_digits_in_the_datasets_shape(capsys, monkeypatch):
    monkeypatch.delenv(lectures.FAST_ENV, raising=False)
    data = datasets.lecture("cifar10", download=False, data_dir="")
    assert data.is_fallback and data.source == "digits"
    assert data.x_train.shape[1:] == (32, 32, 3) and data.x_test.shape[1:] == (32, 32, 3)
    assert "cifar10 not available offline (no local copy, no download); using scikit-learn's 8x8 digits " \
           "upsampled to 32x32x3" in capsys.readouterr().out


def test_fast_mode_downloads_nothing_and_keeps_few_images(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(lectures.FAST_ENV, "1")
    monkeypatch.setattr(lectures, "FAST_SIZES", (7, 3))
    data = datasets.lecture("mnist", data_dir=str(tmp_path))  # no copy there; download allowed but not taken
    assert data.is_fallback and (len(data.x_train), len(data.x_test)) == (7, 3)
    assert "no download in the documentation build's fast mode" in capsys.readouterr().out
    write_sample("mnist", tmp_path, n_train=12, n_test=5)
    assert len(datasets.lecture("mnist", data_dir=str(tmp_path), verbose=False).x_train) == 7


@pytest.mark.backend_independent
def test_a_name_lecture_does_not_serve_is_refused_with_the_list():
    with pytest.raises(datasets.UnknownDatasetError, match=r"'moons' is not a lecture dataset; lecture\(\) serves "
                                                            r"mnist, fashion_mnist, cifar10"):
        datasets.lecture("moons")
