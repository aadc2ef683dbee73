"""deepkit.datasets.images: MNIST, Fashion-MNIST and CIFAR from local files in keras' own formats, offline errors.

Nothing here downloads: every keras.datasets call runs with a patched `urlretrieve`, and local files
are tiny ones generated in the test in the exact format keras.datasets downloads.
"""

import gzip
import io
import os
import tarfile
import urllib.error

import keras
import numpy as np
import pytest
from keras.src.backend import config as keras_config
from keras.src.utils import file_utils

from deepkit import datasets
from deepkit.datasets import DatasetUnavailableError
from deepkit.errors import DataError, DeepkitError
from tests.datasets.files import (
    Marker, cifar_batch, idx_bytes, make_tarball, pickled, write_cifar10_dir, write_cifar100_files, write_fashion_dir,
    write_mnist_npz,
)

pytestmark = pytest.mark.backend_independent


# ----------------------------------------------------------------------------- offline keras
@pytest.fixture
def keras_offline(monkeypatch, tmp_path):
    """keras.datasets with an empty cache and no network: urlretrieve raises URLError."""
    calls = []

    def no_network(url, *args, **kwargs):
        calls.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "urlretrieve", no_network)
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path / "keras_home"))
    return calls


@pytest.mark.parametrize(
    "loader, expected_file",
    [
        (datasets.mnist, "mnist.npz"),
        (datasets.fashion_mnist, "train-images-idx3-ubyte.gz"),
        (datasets.cifar10, "cifar-10-python.tar.gz"),
        (datasets.cifar100, "cifar-100-python.tar.gz"),
    ],
)
def test_offline_error_says_what_failed_and_how_to_load_locally(keras_offline, loader, expected_file):
    with pytest.raises(DatasetUnavailableError) as info:
        loader()
    message = str(info.value)
    assert keras_offline, "the real keras.datasets loader (and its download) must have been tried"
    assert f"keras.datasets.{loader.__name__}" in message
    assert "URL fetch failure" in message  # what failed, quoted from keras
    assert "No network is needed if you pass path=" in message
    assert expected_file in message  # the expected file format
    assert isinstance(info.value, OSError) and isinstance(info.value, DeepkitError)


# ----------------------------------------------------------------------------- mnist
def test_mnist_from_local_npz_matches_keras_loader(tmp_path, monkeypatch, keras_offline):
    path = tmp_path / "mnist.npz"
    arrays = write_mnist_npz(path)
    (x, y), (xt, yt) = datasets.mnist(path=path)
    np.testing.assert_array_equal(x, arrays["x_train"])
    np.testing.assert_array_equal(y, arrays["y_train"])
    np.testing.assert_array_equal(xt, arrays["x_test"])
    np.testing.assert_array_equal(yt, arrays["y_test"])
    assert x.dtype == np.uint8 and y.dtype == np.uint8

    # The same file placed in keras' cache is what keras.datasets.mnist reads: same arrays.
    cache = tmp_path / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(path.read_bytes())
    monkeypatch.setattr(file_utils, "validate_file", lambda *a, **k: True)
    (kx, ky), (kxt, kyt) = datasets.mnist()
    assert not keras_offline  # served from the cache, nothing fetched
    for ours, theirs in ((x, kx), (y, ky), (xt, kxt), (yt, kyt)):
        np.testing.assert_array_equal(ours, theirs)


def test_mnist_normalize_and_channel_axis(tmp_path):
    arrays = write_mnist_npz(tmp_path / "mnist.npz")
    (x, _), (xt, _) = datasets.mnist(path=tmp_path, normalize=True, expand_dims=True)  # a directory
    assert x.shape == (5, 28, 28, 1) and xt.shape == (3, 28, 28, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[..., 0], arrays["x_train"] / 255.0, rtol=1e-6)
    assert 0.0 <= x.min() and x.max() <= 1.0


def test_mnist_channels_first(tmp_path):
    write_mnist_npz(tmp_path / "mnist.npz")
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        (x, _), _ = datasets.mnist(path=tmp_path / "mnist.npz", expand_dims=True)
    finally:
        keras.config.set_image_data_format(previous)
    assert x.shape == (5, 1, 28, 28)


def test_mnist_missing_file(tmp_path):
    with pytest.raises(DatasetUnavailableError, match=r"does not exist\. Expected an \.npz file"):
        datasets.mnist(path=tmp_path / "nope.npz")


def test_mnist_wrong_keys(tmp_path):
    np.savez(tmp_path / "m.npz", images=np.zeros((2, 28, 28), "uint8"))
    with pytest.raises(DataError, match=r"lacks the arrays \['x_train', 'y_train', 'x_test', 'y_test'\] "
                                        r"\(it holds \['images'\]\)"):
        datasets.mnist(path=tmp_path / "m.npz")


def test_mnist_wrong_label_count(tmp_path):
    z = np.zeros((3, 28, 28), "uint8")
    np.savez(tmp_path / "m.npz", x_train=z, y_train=np.zeros(2, "uint8"), x_test=z, y_test=z[:, 0, 0])
    with pytest.raises(DataError, match=r"train split: expected one label per image \(3 labels"):
        datasets.mnist(path=tmp_path / "m.npz")


def test_mnist_not_an_npz(tmp_path):
    (tmp_path / "m.npz").write_text("hello")
    with pytest.raises(DataError, match="is not a readable .npz file"):
        datasets.mnist(path=tmp_path / "m.npz")


def test_mnist_npz_with_pickled_object_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    z = np.zeros((1, 28, 28), "uint8")
    evil = np.empty(1, dtype=object)
    evil[0] = Marker(str(marker))
    np.savez(tmp_path / "m.npz", x_train=evil, y_train=z[:, 0, 0], x_test=z, y_test=z[:, 0, 0])
    with pytest.raises(DataError, match="refused"):
        datasets.mnist(path=tmp_path / "m.npz")
    assert not marker.exists()


def test_bad_flag_values(tmp_path):
    write_mnist_npz(tmp_path / "mnist.npz")
    with pytest.raises(ValueError, match=r"`normalize` must be True or False\. Received: normalize='yes'"):
        datasets.mnist(path=tmp_path, normalize="yes")


# ----------------------------------------------------------------------------- fashion
@pytest.mark.parametrize("gz", [True, False])
def test_fashion_from_local_idx_files(tmp_path, gz):
    arrays = write_fashion_dir(tmp_path / "fashion", gz=gz)
    (x, y), (xt, yt) = datasets.fashion_mnist(path=tmp_path / "fashion")
    np.testing.assert_array_equal(x, arrays["train"][0])
    np.testing.assert_array_equal(y, arrays["train"][1])
    np.testing.assert_array_equal(xt, arrays["t10k"][0])
    np.testing.assert_array_equal(yt, arrays["t10k"][1])


def test_fashion_matches_keras_loader_on_same_files(tmp_path, keras_offline):
    arrays = write_fashion_dir(tmp_path / "keras_home" / "datasets" / "fashion-mnist")
    ours = datasets.fashion_mnist(path=tmp_path / "keras_home" / "datasets" / "fashion-mnist")
    theirs = datasets.fashion_mnist()  # keras.datasets reads its cache: same directory
    assert not keras_offline
    for (a, b), (c, d) in zip(ours, theirs):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    np.testing.assert_array_equal(ours[0][0], arrays["train"][0])


def test_fashion_missing_file_is_named(tmp_path):
    write_fashion_dir(tmp_path / "f")
    os.remove(tmp_path / "f" / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(DatasetUnavailableError, match=r"'t10k-labels-idx1-ubyte\.gz' is missing"):
        datasets.fashion_mnist(path=tmp_path / "f")


def test_fashion_bad_magic_and_truncated(tmp_path):
    write_fashion_dir(tmp_path / "f")
    with gzip.open(tmp_path / "f" / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(idx_bytes(2051, (4,), np.zeros(4)))
    with pytest.raises(DataError, match="magic number 2049; found 2051"):
        datasets.fashion_mnist(path=tmp_path / "f")
    write_fashion_dir(tmp_path / "g")
    with gzip.open(tmp_path / "g" / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(idx_bytes(2051, (4, 28, 28), np.zeros(100)))
    with pytest.raises(DataError, match=r"announces shape \(4, 28, 28\) \(3136 bytes\) but holds 100"):
        datasets.fashion_mnist(path=tmp_path / "g")


def test_fashion_path_is_a_file(tmp_path):
    (tmp_path / "x.gz").write_bytes(b"")
    with pytest.raises(DataError, match="is a file; expected a directory"):
        datasets.fashion_mnist(path=tmp_path / "x.gz")


# ----------------------------------------------------------------------------- cifar
def test_cifar10_layout_matches_keras_conventions(tmp_path):
    folder, batches = write_cifar10_dir(tmp_path)
    (x, y), (xt, yt) = datasets.cifar10(path=folder)
    assert x.shape == (8, 32, 32, 3) and y.shape == (8, 1) and xt.shape == (3, 32, 32, 3)
    assert x.dtype == np.uint8 and y.dtype == np.uint8
    expected_train = np.concatenate([batches[f"data_batch_{i}"][b"data"] for i in range(1, 6)])
    # The file stores each image as 3 planes (R, G, B) of 32x32, row-major.
    np.testing.assert_array_equal(x, expected_train.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    labels = sum((batches[f"data_batch_{i}"][b"labels"] for i in range(1, 6)), [])
    np.testing.assert_array_equal(y[:, 0], labels)
    np.testing.assert_array_equal(yt[:, 0], batches["test_batch"][b"labels"])


def test_cifar10_parent_dir_and_tarball_agree(tmp_path):
    folder, batches = write_cifar10_dir(tmp_path / "extracted")
    from_folder = datasets.cifar10(path=folder)
    from_parent = datasets.cifar10(path=tmp_path / "extracted")
    members = {f"cifar-10-batches-py/{name}": pickled(b) for name, b in batches.items()}
    members["cifar-10-batches-py/readme.html"] = b"<html></html>"
    make_tarball(tmp_path / "cifar-10-python.tar.gz", members)
    from_tar = datasets.cifar10(path=tmp_path / "cifar-10-python.tar.gz", normalize=True)
    for a, b, c in zip(from_folder, from_parent, from_tar):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_allclose(c[0], a[0] / 255.0, rtol=1e-6)
        np.testing.assert_array_equal(a[1], c[1])


def test_cifar10_channels_first(tmp_path):
    folder, batches = write_cifar10_dir(tmp_path)
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        (x, _), _ = datasets.cifar10(path=folder)
    finally:
        keras.config.set_image_data_format(previous)
    assert x.shape == (8, 3, 32, 32)
    np.testing.assert_array_equal(x[0].reshape(-1), batches["data_batch_1"][b"data"][0])


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_matches_keras_loader_on_same_tarball(tmp_path, monkeypatch, keras_offline, label_mode):
    batches = write_cifar100_files(tmp_path / "src" / "cifar-100-python")
    members = {f"cifar-100-python/{n}": pickled(b, 4) for n, b in batches.items()}
    make_tarball(tmp_path / "cifar-100-python.tar.gz", members)
    ours = datasets.cifar100(path=tmp_path / "cifar-100-python.tar.gz", label_mode=label_mode)
    # keras.datasets.cifar100 reading the same archive from its cache (hash check bypassed).
    cache = tmp_path / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    (cache / "cifar-100-python-target_archive").write_bytes(
        (tmp_path / "cifar-100-python.tar.gz").read_bytes())
    monkeypatch.setattr(file_utils, "validate_file", lambda *a, **k: True)
    theirs = keras.datasets.cifar100.load_data(label_mode=label_mode)
    assert not keras_offline
    for (a, b), (c, d) in zip(ours, theirs):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
        assert a.dtype == c.dtype
    np.testing.assert_array_equal(ours[0][1][:, 0], batches["train"][f"{label_mode}_labels".encode()])
    ours_dir = datasets.cifar100(path=tmp_path / "src", label_mode=label_mode)
    np.testing.assert_array_equal(ours_dir[1][0], ours[1][0])


def test_cifar100_bad_label_mode():
    with pytest.raises(ValueError, match=r"\"fine\" or \"coarse\"\. Received: label_mode='medium'"):
        datasets.cifar100(path="unused", label_mode="medium")


def test_cifar_missing_batch_named(tmp_path):
    folder, _ = write_cifar10_dir(tmp_path)
    os.remove(os.path.join(folder, "data_batch_4"))
    with pytest.raises(DatasetUnavailableError, match=r"'data_batch_4' is missing"):
        datasets.cifar10(path=folder)
    with pytest.raises(DatasetUnavailableError, match=r"holds neither 'train' nor a 'cifar-100-python'"):
        datasets.cifar100(path=tmp_path)


def test_cifar_batch_with_wrong_shape(tmp_path):
    folder, batches = write_cifar10_dir(tmp_path)
    batches["test_batch"][b"data"] = np.zeros((3, 100), "uint8")
    with open(os.path.join(folder, "test_batch"), "wb") as f:
        f.write(pickled(batches["test_batch"]))
    with pytest.raises(DataError, match=r"test_batch: 'data' must be a uint8 array of shape \(n, 3072\); "
                                        r"got uint8 \(3, 100\)"):
        datasets.cifar10(path=folder)


def test_cifar_hostile_pickle_is_refused_and_nothing_runs(tmp_path):
    folder, batches = write_cifar10_dir(tmp_path)
    marker = tmp_path / "pwned"
    batches["data_batch_2"][b"labels"] = Marker(str(marker))
    with open(os.path.join(folder, "data_batch_2"), "wb") as f:
        f.write(pickled(batches["data_batch_2"]))
    with pytest.raises(DataError, match=r"data_batch_2: refusing to load the Python object `posix\.mkdir`"):
        datasets.cifar10(path=folder)
    assert not marker.exists()


def test_cifar_tarball_links_and_path_tricks_are_not_followed(tmp_path):
    (tmp_path / "secret").write_bytes(b"not a cifar batch")
    with tarfile.open(tmp_path / "evil.tar.gz", "w:gz") as tar:
        for name in ("train", "test"):
            link = tarfile.TarInfo(f"cifar-100-python/{name}")
            link.type = tarfile.SYMTYPE
            link.linkname = str(tmp_path / "secret")
            tar.addfile(link)
        data = pickled(cifar_batch(1, ("fine_labels",)))
        escape = tarfile.TarInfo("../../escaped_train")
        escape.size = len(data)
        tar.addfile(escape, io.BytesIO(data))
    before = set(os.listdir(tmp_path))
    with pytest.raises(DataError, match=r"has no regular file 'cifar-100-python/train'"):
        datasets.cifar100(path=tmp_path / "evil.tar.gz")
    assert set(os.listdir(tmp_path)) == before  # nothing extracted anywhere
    assert not (tmp_path.parent / "escaped_train").exists()


def test_cifar_path_not_an_archive(tmp_path):
    (tmp_path / "cifar.tar.gz").write_bytes(b"garbage")
    with pytest.raises(DataError, match="neither a directory nor a readable tar archive"):
        datasets.cifar10(path=tmp_path / "cifar.tar.gz")
