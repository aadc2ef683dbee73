"""deepkit.datasets: local files in keras' own formats, offline errors, digits, toy sets, load().

Nothing here downloads: every keras.datasets call runs with a patched `urlretrieve`, and local files
are tiny ones generated in the test in the exact format keras.datasets downloads.
"""

import gzip
import io
import os
import pickle
import tarfile
import urllib.error

import keras
import numpy as np
import pytest
from keras.src.backend import config as keras_config
from keras.src.utils import file_utils

from deepkit import datasets
from deepkit.datasets import DatasetUnavailableError, UnknownDatasetError, toy
from deepkit.datasets.sklearn_digits import upsample
from deepkit.errors import DataError, DeepkitError

RNG = np.random.default_rng(0)


# ----------------------------------------------------------------------------- file writers
def write_mnist_npz(path, n_train=5, n_test=3):
    arrays = {
        "x_train": RNG.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": RNG.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": RNG.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": RNG.integers(0, 10, n_test, dtype=np.uint8),
    }
    np.savez_compressed(path, **arrays)
    return arrays


def idx_bytes(magic, dims, data):
    header = b"".join(int(v).to_bytes(4, "big") for v in (magic, *dims))
    return header + np.ascontiguousarray(data, dtype=np.uint8).tobytes()


def write_fashion_dir(directory, n_train=4, n_test=2, gz=True):
    os.makedirs(directory, exist_ok=True)
    arrays = {
        "train": (RNG.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                  RNG.integers(0, 10, n_train, dtype=np.uint8)),
        "t10k": (RNG.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
                 RNG.integers(0, 10, n_test, dtype=np.uint8)),
    }
    for split, (x, y) in arrays.items():
        for kind, blob in (("images-idx3", idx_bytes(2051, x.shape, x)),
                           ("labels-idx1", idx_bytes(2049, y.shape, y))):
            name = os.path.join(directory, f"{split}-{kind}-ubyte")
            if gz:
                with gzip.open(name + ".gz", "wb") as f:
                    f.write(blob)
            else:
                with open(name, "wb") as f:
                    f.write(blob)
    return arrays


def cifar_batch(n, label_keys=("labels",), n_classes=10):
    # As in the real files: a dict with bytes keys, data uint8 (n, 3072) in CHW order, label lists.
    batch = {
        b"batch_label": b"tiny batch",
        b"data": RNG.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [f"img_{i}.png".encode() for i in range(n)],
    }
    for key in label_keys:
        batch[key.encode()] = RNG.integers(0, n_classes, n).tolist()
    return batch


def pickled(obj, protocol=2):
    return pickle.dumps(obj, protocol=protocol)


def write_cifar10_dir(parent, sizes=(2, 1, 2, 1, 2), n_test=3):
    folder = os.path.join(parent, "cifar-10-batches-py")
    os.makedirs(folder, exist_ok=True)
    batches = {f"data_batch_{i + 1}": cifar_batch(n) for i, n in enumerate(sizes)}
    batches["test_batch"] = cifar_batch(n_test)
    for name, batch in batches.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(pickled(batch))
    return folder, batches


def write_cifar100_files(folder, n_train=4, n_test=2):
    os.makedirs(folder, exist_ok=True)
    batches = {
        "train": cifar_batch(n_train, ("fine_labels", "coarse_labels"), 20),
        "test": cifar_batch(n_test, ("fine_labels", "coarse_labels"), 20),
    }
    for name, batch in batches.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(pickled(batch, protocol=4))
    return batches


def make_tarball(path, members):
    """members: {archive name: bytes} (regular files)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


class _Marker:
    """A pickle payload that would create a file if it were ever executed."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


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
    evil[0] = _Marker(str(marker))
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
    batches["data_batch_2"][b"labels"] = _Marker(str(marker))
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


# ----------------------------------------------------------------------------- digits
def test_digits_shapes_and_values():
    from sklearn.datasets import load_digits

    (x, y), (xt, yt) = datasets.digits()
    assert x.shape == (1347, 8, 8, 1) and xt.shape == (450, 8, 8, 1)
    assert x.dtype == np.float32 and y.dtype == np.int32
    assert x.min() == 0.0 and x.max() == 1.0
    # Stratified: every class in both splits, in proportion.
    assert np.bincount(yt).min() >= 40 and np.bincount(y).min() >= 130
    # The images are exactly sklearn's, scaled by 1/16, and the labels go with them.
    ref = load_digits()
    flat = {tuple(img.astype(int).ravel()): label for img, label in zip(ref.images, ref.target)}
    for img, label in zip(x[:50], y[:50]):
        assert flat[tuple((img[..., 0] * 16).round().astype(int).ravel())] == label
    all_x = np.concatenate([x, xt])[..., 0]
    assert len({a.tobytes() for a in all_x}) == len({a.tobytes() for a in (ref.images / 16).astype("float32")})


def test_digits_is_deterministic_and_seeded():
    a = datasets.digits(seed=3)
    b = datasets.digits(seed=3)
    c = datasets.digits(seed=4)
    np.testing.assert_array_equal(a[0][0], b[0][0])
    np.testing.assert_array_equal(a[1][1], b[1][1])
    assert not np.array_equal(a[0][1], c[0][1])


@pytest.mark.parametrize("size", [28, 32])
def test_digits_upsampling_matches_keras_bilinear_resize(size):
    (x8, y8), _ = datasets.digits(seed=1)
    (x, y), (xt, _) = datasets.digits(image_size=size, seed=1)
    assert x.shape == (1347, size, size, 1) and xt.shape == (450, size, size, 1)
    np.testing.assert_array_equal(y, y8)
    reference = keras.ops.convert_to_numpy(
        keras.ops.image.resize(x8[:20], (size, size), interpolation="bilinear", antialias=False,
                               data_format="channels_last"))
    np.testing.assert_allclose(x[:20], reference, atol=1e-5)
    assert x.min() >= 0.0 and x.max() <= 1.0


def test_upsample_reference_values():
    out = upsample(np.array([[[0.0, 1.0], [1.0, 0.0]]]), 4)
    np.testing.assert_allclose(out[0, 0], [0.0, 0.25, 0.75, 1.0])
    np.testing.assert_allclose(out[0, :, 0], [0.0, 0.25, 0.75, 1.0])
    np.testing.assert_allclose(out[0, 1, 1], 0.375)  # 0.75*0.75*0 + 0.25*0.75*1 * 2 + 0.25*0.25*0


def test_digits_flatten_and_test_size():
    (x, _), (xt, _) = datasets.digits(flatten=True, test_size=0.5)
    assert x.shape == (898, 64) and xt.shape == (899, 64)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"image_size": 4}, r"`image_size` must be None \(keep 8x8\) or an integer >= 8 .* Received: image_size=4"),
        ({"image_size": 28.0}, r"Received: image_size=28\.0"),
        ({"test_size": 1.5}, r"`test_size` must be a fraction strictly between 0 and 1\. Received: test_size=1\.5"),
        ({"seed": "a"}, r"`seed` must be an integer or None\. Received: seed='a'"),
    ],
)
def test_digits_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        datasets.digits(**kwargs)


# ----------------------------------------------------------------------------- toy
@pytest.mark.parametrize("name", toy.NAMES)
def test_toy_shapes_dtypes_balance_determinism(name):
    fn = getattr(toy, name)
    x, y = fn(n_samples=101, seed=7)
    assert x.shape == (101, 2) and x.dtype == np.float32 and y.shape == (101,) and y.dtype == np.int32
    assert sorted(np.bincount(y).tolist()) == [50, 51]
    assert np.all(np.isfinite(x)) and np.abs(x).max() < 3
    x2, y2 = fn(n_samples=101, seed=7)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, _ = fn(n_samples=101, seed=8)
    assert not np.array_equal(x, x3)
    # Shuffled: the classes are not in blocks.
    assert np.abs(np.diff(y)).sum() > 10


def test_toy_geometry_without_noise():
    x, y = toy.circles(n_samples=200, noise=0.0, factor=0.3)
    r = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-6)

    x, y = toy.moons(n_samples=200, noise=0.0)
    centre_a = np.array([-0.5, -0.25])  # upper moon: unit half circle around (0, 0), shifted
    centre_b = np.array([0.5, 0.25])  # lower moon: around (1, 0.5), shifted
    np.testing.assert_allclose(np.linalg.norm(x[y == 0] - centre_a, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(x[y == 1] - centre_b, axis=1), 1.0, atol=1e-6)

    x, y = toy.xor(n_samples=200, padding=0.1)
    assert np.all((x[:, 0] * x[:, 1] < 0) == (y == 1))
    assert np.abs(x).min() >= 0.1 and np.abs(x).max() <= 1.0

    x, y = toy.spiral(n_samples=300, n_classes=3)
    assert np.bincount(y).tolist() == [100, 100, 100]
    r = np.hypot(x[:, 0], x[:, 1])
    assert r.max() <= 1.0 + 1e-6

    x, y = toy.gaussians(n_samples=3000, noise=0.2, n_classes=3)
    for k in range(3):
        angle = np.pi / 4 + 2 * np.pi * k / 3
        np.testing.assert_allclose(x[y == k].mean(0), [np.cos(angle), np.sin(angle)], atol=0.03)
        np.testing.assert_allclose(x[y == k].std(0), 0.2, atol=0.02)


def test_toy_noise_is_gaussian_with_given_std():
    x, y = toy.circles(n_samples=4000, noise=0.04, factor=0.5, seed=5)
    r = np.hypot(x[:, 0], x[:, 1])
    # Isotropic noise of std s moves a point radially by ~N(0, s^2) (for s << radius).
    np.testing.assert_allclose((r[y == 0] - 1.0).std(), 0.04, rtol=0.1)
    np.testing.assert_allclose((r[y == 1] - 0.5).std(), 0.04, rtol=0.1)
    np.testing.assert_allclose((r[y == 0] - 1.0).mean(), 0.0, atol=0.01)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: toy.moons(n_samples=0), r"toy\.moons: `n_samples` must be an integer >= 1\. Received: n_samples=0"),
        (lambda: toy.circles(noise=-1), r"toy\.circles: `noise` must be a finite number >= 0.0\. Received: noise=-1"),
        (lambda: toy.circles(factor=1.0), r"`factor` must be < 1 .* Received: factor=1\.0"),
        (lambda: toy.xor(noise=float("nan")), r"toy\.xor: `noise` must be a finite number"),
        (lambda: toy.spiral(n_classes=1), r"toy\.spiral: `n_classes` must be an integer >= 2\. Received: n_classes=1"),
        (lambda: toy.gaussians(n_samples=2, n_classes=3), r"`n_samples` must be an integer >= 3\. Received: n_samples=2"),
        (lambda: toy.spiral(seed=1.5), r"`seed` must be an integer or None\. Received: seed=1\.5"),
        (lambda: toy.moons(n_samples="100"), r"Received: n_samples='100'"),
    ],
)
def test_toy_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ----------------------------------------------------------------------------- load / info
def test_load_digits_and_toy_by_name():
    (x, y), (xt, yt) = datasets.load("digits", image_size=32)
    assert x.shape == (1347, 32, 32, 1)
    (x, y), (xt, yt) = datasets.load("Spiral", n_samples=200, n_classes=4, test_size=0.2, seed=2)
    assert x.shape == (160, 2) and xt.shape == (40, 2)
    assert np.bincount(yt).tolist() == [10, 10, 10, 10]  # stratified
    again = datasets.load("spiral", n_samples=200, n_classes=4, test_size=0.2, seed=2)
    np.testing.assert_array_equal(again[1][0], xt)


def test_load_keras_sets_are_ready_for_a_model(tmp_path):
    write_mnist_npz(tmp_path / "mnist.npz")
    (x, y), _ = datasets.load("MNIST", path=tmp_path / "mnist.npz")
    assert x.shape == (5, 28, 28, 1) and x.dtype == np.float32 and x.max() <= 1.0
    (x, y), _ = datasets.load("mnist", path=tmp_path / "mnist.npz", normalize=False, expand_dims=False)
    assert x.shape == (5, 28, 28) and x.dtype == np.uint8
    write_fashion_dir(tmp_path / "fashion")
    (x, _), _ = datasets.load("fashion-mnist", path=tmp_path / "fashion")
    assert x.shape == (4, 28, 28, 1)
    folder, _ = write_cifar10_dir(tmp_path)
    (x, _), _ = datasets.load("cifar10", path=folder)
    assert x.shape == (8, 32, 32, 3) and x.dtype == np.float32


@pytest.mark.parametrize(
    "name, suggestion",
    [("minst", "'mnist'"), ("cifar", "'cifar10' or 'cifar100'"), ("moon", "'moons'"), ("digit", "'digits'")],
)
def test_load_unknown_name_suggests_close_matches(name, suggestion):
    with pytest.raises(UnknownDatasetError, match=f"unknown dataset '{name}'\\. Did you mean {suggestion}\\?") as e:
        datasets.load(name)
    assert "Available: cifar10, cifar100, circles, digits" in str(e.value)
    assert isinstance(e.value, ValueError)


def test_load_unknown_name_without_close_match():
    with pytest.raises(UnknownDatasetError, match=r"unknown dataset 'imagenet'\. Available:"):
        datasets.load("imagenet")
    with pytest.raises(UnknownDatasetError, match=r"must be a string .* Received: name=3"):
        datasets.load(3)


def test_load_unknown_option_lists_accepted_ones():
    with pytest.raises(TypeError, match=r"load\('mnist'\): unknown option\(s\) 'n_samples'\. "
                                        r"mnist accepts: path, normalize, expand_dims\."):
        datasets.load("mnist", n_samples=3)
    with pytest.raises(TypeError, match=r"moons accepts: n_samples, noise, seed, test_size"):
        datasets.load("moons", image_size=3)
    with pytest.raises(ValueError, match=r"`test_size` must be a fraction .* Received: test_size=0"):
        datasets.load("moons", test_size=0)


def test_info_and_list():
    names = datasets.list_datasets()
    assert names == sorted(names) and {"mnist", "fashion_mnist", "cifar10", "cifar100", "digits",
                                        "circles", "moons", "xor", "spiral", "gaussians"} == set(names)
    for name in names:
        meta = datasets.info(name)
        assert meta.name == name and meta.num_classes >= 2
        if meta.offline:  # cheap to check: what load returns matches the info
            (x, y), _ = datasets.load(name)
            assert x.shape[1:] == meta.input_shape
            assert y.max() < meta.num_classes
    assert datasets.info("cifar100").num_classes == 100
