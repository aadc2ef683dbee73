"""MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100 through ``keras.datasets``, or from local files.

Without ``path=`` each loader calls the real ``keras.datasets.<name>.load_data()`` (which downloads
once into ``~/.keras/datasets``). When that fails (no network, proxy, corrupted cache) the error
says what failed and how to load the same data offline with ``path=``: a local copy in exactly the
format ``keras.datasets`` downloads.

Local files are read without executing anything: ``.npz`` files with ``allow_pickle=False``, CIFAR
batches with an unpickler that only accepts numpy arrays and plain values, and CIFAR tarballs are
read member by member in memory (never extracted to disk, so no path tricks).
"""

import gzip
import os
import tarfile
import zipfile

import keras
import numpy as np

from deepkit.datasets._common import (
    DatasetUnavailableError,
    check_bool,
    finish_images,
    safe_unpickle,
)
from deepkit.errors import DataError

__all__ = ["mnist", "fashion_mnist", "cifar10", "cifar100"]

_KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

MNIST_FORMAT = (
    "an .npz file (the `mnist.npz` that keras.datasets.mnist downloads from "
    f"{_KERAS_ORIGIN}mnist.npz) holding uint8 arrays x_train (n, 28, 28), y_train (n,), "
    "x_test (m, 28, 28) and y_test (m,)"
)
FASHION_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
FASHION_FORMAT = (
    "a directory holding the four gzipped IDX files keras.datasets.fashion_mnist downloads from "
    f"{_KERAS_ORIGIN}: " + ", ".join(FASHION_FILES) + " (un-gzipped copies without `.gz` also work)"
)
CIFAR10_FORMAT = (
    "the CIFAR-10 python tarball `cifar-10-python.tar.gz` "
    "(https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz), or its extracted directory "
    "`cifar-10-batches-py` (or a directory containing it) with the pickled batches "
    "data_batch_1 ... data_batch_5 and test_batch"
)
CIFAR100_FORMAT = (
    "the CIFAR-100 python tarball `cifar-100-python.tar.gz` "
    "(https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz), or its extracted directory "
    "`cifar-100-python` (or a directory containing it) with the pickled files train and test"
)


def _download_failed(name, error, fmt, example_path):
    return DatasetUnavailableError(
        f"deepkit.datasets.{name}: could not load the dataset through keras.datasets.{name} "
        f"(download or cache read failed: {type(error).__name__}: {error}). "
        f"No network is needed if you pass path= to a local copy: "
        f"deepkit.datasets.{name}(path={example_path!r}), where the file is {fmt}. "
        "deepkit.datasets.digits() and deepkit.datasets.toy need no files at all."
    )


def _missing(name, path, fmt):
    return DatasetUnavailableError(
        f"deepkit.datasets.{name}: path={str(path)!r} does not exist. Expected {fmt}."
    )


def _check_split(name, where, x, y, image_ndim):
    if x.ndim != image_ndim:
        raise DataError(
            f"deepkit.datasets.{name}: {where}: images must have rank {image_ndim}, "
            f"got shape {x.shape}."
        )
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(
            f"deepkit.datasets.{name}: {where}: expected one label per image "
            f"({len(x)} labels of shape ({len(x)},)), got labels of shape {y.shape}."
        )


def _load_mnist_npz(path):
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, "mnist.npz")
    if not os.path.isfile(path):
        raise _missing("mnist", path, MNIST_FORMAT)
    if not zipfile.is_zipfile(path):
        raise DataError(
            f"deepkit.datasets.mnist: {path!r} is not a readable .npz file (not a zip archive). "
            f"Expected {MNIST_FORMAT}."
        )
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in f.files]
            if missing:
                raise DataError(
                    f"deepkit.datasets.mnist: {path!r} lacks the arrays {missing} "
                    f"(it holds {sorted(f.files)}). Expected {MNIST_FORMAT}."
                )
            arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except DataError:
        raise
    except ValueError as e:  # pickled object arrays are refused by allow_pickle=False
        raise DataError(
            f"deepkit.datasets.mnist: {path!r} could not be read without unpickling Python "
            f"objects ({e}); refused. Expected {MNIST_FORMAT}."
        ) from None
    except Exception as e:  # not a zip / truncated
        raise DataError(
            f"deepkit.datasets.mnist: {path!r} is not a readable .npz file "
            f"({type(e).__name__}: {e}). Expected {MNIST_FORMAT}."
        ) from None
    for split in ("train", "test"):
        _check_split("mnist", f"{path!r} {split} split", arrays[f"x_{split}"],
                     arrays[f"y_{split}"], 3)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _read_idx(path, expected_magic, where):
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise DataError(f"{where}: could not read {path!r} ({e}).") from None
    header = 8 if expected_magic == 2049 else 16
    if len(data) < header:
        raise DataError(f"{where}: {path!r} is too short ({len(data)} bytes) to be an IDX file.")
    magic, count = int.from_bytes(data[0:4], "big"), int.from_bytes(data[4:8], "big")
    if magic != expected_magic:
        kind = "labels" if expected_magic == 2049 else "images"
        raise DataError(
            f"{where}: {path!r} does not start with the IDX {kind} magic number "
            f"{expected_magic}; found {magic}."
        )
    if expected_magic == 2049:
        shape = (count,)
    else:
        shape = (count, int.from_bytes(data[8:12], "big"), int.from_bytes(data[12:16], "big"))
    body = np.frombuffer(data, np.uint8, offset=header)
    if body.size != int(np.prod(shape)):
        raise DataError(
            f"{where}: {path!r} header announces shape {shape} ({int(np.prod(shape))} bytes) "
            f"but holds {body.size} bytes of data."
        )
    return body.reshape(shape)


def _load_fashion_dir(path):
    path = os.fspath(path)
    if not os.path.isdir(path):
        if os.path.exists(path):
            raise DataError(
                f"deepkit.datasets.fashion_mnist: path={path!r} is a file; expected {FASHION_FORMAT}."
            )
        raise _missing("fashion_mnist", path, FASHION_FORMAT)
    found = []
    for fname in FASHION_FILES:
        candidates = [os.path.join(path, fname), os.path.join(path, fname[: -len(".gz")])]
        existing = [c for c in candidates if os.path.isfile(c)]
        if not existing:
            raise DatasetUnavailableError(
                f"deepkit.datasets.fashion_mnist: {fname!r} is missing from path={path!r}. "
                f"Expected {FASHION_FORMAT}."
            )
        found.append(existing[0])
    where = "deepkit.datasets.fashion_mnist"
    x_train = _read_idx(found[0], 2051, where)
    y_train = _read_idx(found[1], 2049, where)
    x_test = _read_idx(found[2], 2051, where)
    y_test = _read_idx(found[3], 2049, where)
    _check_split("fashion_mnist", f"{path!r} train split", x_train, y_train, 3)
    _check_split("fashion_mnist", f"{path!r} test split", x_test, y_test, 3)
    return (x_train, y_train), (x_test, y_test)


def _cifar_reader(name, path, folder, files, fmt):
    """Return a function reading one member file of the CIFAR folder, wherever it lives."""
    path = os.fspath(path)
    if os.path.isdir(path):
        if os.path.isfile(os.path.join(path, files[0])):
            base = path
        elif os.path.isdir(os.path.join(path, folder)):
            base = os.path.join(path, folder)
        else:
            raise DatasetUnavailableError(
                f"deepkit.datasets.{name}: path={path!r} holds neither {files[0]!r} nor a "
                f"{folder!r} directory. Expected {fmt}."
            )

        def read(fname):
            fpath = os.path.join(base, fname)
            if not os.path.isfile(fpath):
                raise DatasetUnavailableError(
                    f"deepkit.datasets.{name}: {fname!r} is missing from {base!r}. Expected {fmt}."
                )
            with open(fpath, "rb") as f:
                return f.read(), fpath

        return read
    if not os.path.exists(path):
        raise _missing(name, path, fmt)
    try:
        tar = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError) as e:
        raise DataError(
            f"deepkit.datasets.{name}: path={path!r} is neither a directory nor a readable tar "
            f"archive ({e}). Expected {fmt}."
        ) from None
    with tar:
        members = {}
        for member in tar.getmembers():
            parts = member.name.replace("\\", "/").split("/")
            # Only regular files named <...>/<folder>/<file> or <file>; links and devices are ignored.
            if member.isfile() and parts[-1] in files and (len(parts) == 1 or parts[-2] == folder):
                members.setdefault(parts[-1], member)
        contents = {}
        for fname in files:
            if fname not in members:
                raise DataError(
                    f"deepkit.datasets.{name}: the archive {path!r} has no regular file "
                    f"'{folder}/{fname}'. Expected {fmt}."
                )
            contents[fname] = tar.extractfile(members[fname]).read()

    def read_member(fname):
        return contents[fname], f"{path}:{folder}/{fname}"

    return read_member


def _parse_cifar_batch(name, data, where, label_key):
    d = safe_unpickle(data, f"deepkit.datasets.{name}: {where}")
    if not isinstance(d, dict):
        raise DataError(
            f"deepkit.datasets.{name}: {where} should hold a dict with 'data' and "
            f"'{label_key}'; got {type(d).__name__}."
        )
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in d.items()}
    if "data" not in d or label_key not in d:
        raise DataError(
            f"deepkit.datasets.{name}: {where} lacks the keys 'data' and/or '{label_key}' "
            f"(found {sorted(map(str, d))})."
        )
    x = np.asarray(d["data"])
    y = np.asarray(d[label_key])
    if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 3 * 32 * 32:
        raise DataError(
            f"deepkit.datasets.{name}: {where}: 'data' must be a uint8 array of shape (n, 3072); "
            f"got {x.dtype} {x.shape}."
        )
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(
            f"deepkit.datasets.{name}: {where}: expected {len(x)} labels in '{label_key}', "
            f"got shape {y.shape}."
        )
    return x.reshape(len(x), 3, 32, 32), y.astype("uint8")


def _finish_cifar(x_train, y_train, x_test, y_test):
    y_train = y_train.reshape(len(y_train), 1)
    y_test = y_test.reshape(len(y_test), 1)
    if keras.config.image_data_format() == "channels_last":
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)


def _load_cifar10_local(path):
    files = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    read = _cifar_reader("cifar10", path, "cifar-10-batches-py", files, CIFAR10_FORMAT)
    parts = []
    for fname in files:
        data, where = read(fname)
        parts.append(_parse_cifar_batch("cifar10", data, where, "labels"))
    x_train = np.concatenate([p[0] for p in parts[:5]])
    y_train = np.concatenate([p[1] for p in parts[:5]])
    return _finish_cifar(x_train, y_train, *parts[5])


def _load_cifar100_local(path, label_mode):
    files = ["train", "test"]
    read = _cifar_reader("cifar100", path, "cifar-100-python", files, CIFAR100_FORMAT)
    key = f"{label_mode}_labels"
    x_train, y_train = _parse_cifar_batch("cifar100", *read("train"), key)
    x_test, y_test = _parse_cifar_batch("cifar100", *read("test"), key)
    return _finish_cifar(x_train, y_train, x_test, y_test)


def _finish(name, splits, normalize, expand_dims):
    normalize = check_bool(normalize, "normalize", f"deepkit.datasets.{name}")
    expand_dims = check_bool(expand_dims, "expand_dims", f"deepkit.datasets.{name}")
    where = f"deepkit.datasets.{name}"
    return tuple(
        (finish_images(x, normalize=normalize, expand_dims=expand_dims, where=where), y)
        for x, y in splits
    )


def mnist(path=None, *, normalize=False, expand_dims=False):
    """The MNIST handwritten digits, as ``keras.datasets.mnist.load_data()`` returns them.

    Args:
        path: optional local copy: the ``mnist.npz`` file keras downloads (or a directory holding
            it). With ``path`` nothing is downloaded. Without it, ``keras.datasets.mnist`` is used.
        normalize: return float32 images in [0, 1] instead of uint8 in [0, 255].
        expand_dims: add a channel axis, giving (n, 28, 28, 1) (or (n, 1, 28, 28) when
            ``keras.config.image_data_format()`` is ``"channels_first"``).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``; x of shape (n, 28, 28), y uint8 of shape (n,).

    Raises:
        DatasetUnavailableError: the download failed, or ``path`` does not exist.
        DataError: ``path`` exists but is not in the expected format.

    Example:
        >>> import numpy as np, os, tempfile
        >>> f = os.path.join(tempfile.mkdtemp(), "mnist.npz")
        >>> z = np.zeros((2, 28, 28), "uint8")
        >>> np.savez(f, x_train=z, y_train=np.array([3, 1], "uint8"), x_test=z, y_test=z[:, 0, 0])
        >>> (x, y), _ = mnist(path=f, normalize=True, expand_dims=True)
        >>> x.shape, x.dtype.name, y.tolist()
        ((2, 28, 28, 1), 'float32', [3, 1])
    """
    if path is None:
        try:
            splits = keras.datasets.mnist.load_data()
        except Exception as e:
            raise _download_failed("mnist", e, MNIST_FORMAT, "mnist.npz") from e
    else:
        splits = _load_mnist_npz(path)
    return _finish("mnist", splits, normalize, expand_dims)


def fashion_mnist(path=None, *, normalize=False, expand_dims=False):
    """Fashion-MNIST (28x28 grey clothing images, 10 classes), as ``keras.datasets`` returns it.

    Args:
        path: optional local directory holding the four gzipped IDX files keras downloads
            (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
            ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``). With ``path`` nothing
            is downloaded.
        normalize: return float32 images in [0, 1] instead of uint8.
        expand_dims: add a channel axis, giving (n, 28, 28, 1).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``; x of shape (n, 28, 28), y uint8 of shape (n,).

    Raises:
        DatasetUnavailableError: the download failed, or ``path`` or one of its files is missing.
        DataError: a file is not in the IDX format.

    Example:
        >>> import gzip, os, tempfile, numpy as np
        >>> d = tempfile.mkdtemp()
        >>> def idx(name, magic, dims, data):
        ...     header = b"".join(int(v).to_bytes(4, "big") for v in (magic, *dims))
        ...     with gzip.open(os.path.join(d, name), "wb") as f:
        ...         f.write(header + data.tobytes())
        >>> for split in ("train", "t10k"):
        ...     idx(f"{split}-images-idx3-ubyte.gz", 2051, (2, 28, 28), np.zeros((2, 28, 28), "uint8"))
        ...     idx(f"{split}-labels-idx1-ubyte.gz", 2049, (2,), np.array([9, 0], "uint8"))
        >>> (x, y), (xt, yt) = fashion_mnist(path=d)
        >>> x.shape, y.tolist()
        ((2, 28, 28), [9, 0])
    """
    if path is None:
        try:
            splits = keras.datasets.fashion_mnist.load_data()
        except Exception as e:
            raise _download_failed("fashion_mnist", e, FASHION_FORMAT, "fashion-mnist/") from e
    else:
        splits = _load_fashion_dir(path)
    return _finish("fashion_mnist", splits, normalize, expand_dims)


def cifar10(path=None, *, normalize=False):
    """CIFAR-10 (32x32 colour images, 10 classes), as ``keras.datasets.cifar10`` returns it.

    Args:
        path: optional local copy: the ``cifar-10-python.tar.gz`` tarball, the extracted
            ``cifar-10-batches-py`` directory, or a directory containing it. With ``path`` nothing
            is downloaded; the tarball is read in memory, never extracted.
        normalize: return float32 images in [0, 1] instead of uint8.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``; x of shape (n, 32, 32, 3) (channels first when
        ``keras.config.image_data_format()`` says so), y uint8 of shape (n, 1).

    Raises:
        DatasetUnavailableError: the download failed, or ``path`` or a batch file is missing.
        DataError: a batch is malformed or holds anything but numpy arrays and plain values.

    Example:
        >>> import os, pickle, tempfile, numpy as np
        >>> d = os.path.join(tempfile.mkdtemp(), "cifar-10-batches-py")
        >>> os.makedirs(d)
        >>> for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        ...     batch = {b"data": np.zeros((2, 3072), "uint8"), b"labels": [1, 7]}
        ...     with open(os.path.join(d, name), "wb") as f:
        ...         pickle.dump(batch, f, protocol=2)
        >>> (x, y), (xt, yt) = cifar10(path=d)
        >>> x.shape, y.shape, xt.shape
        ((10, 32, 32, 3), (10, 1), (2, 32, 32, 3))
    """
    if path is None:
        try:
            splits = keras.datasets.cifar10.load_data()
        except Exception as e:
            raise _download_failed("cifar10", e, CIFAR10_FORMAT, "cifar-10-python.tar.gz") from e
    else:
        splits = _load_cifar10_local(path)
    return _finish("cifar10", splits, normalize, False)


def cifar100(path=None, *, label_mode="fine", normalize=False):
    """CIFAR-100 (32x32 colour images, 100 fine or 20 coarse classes), as ``keras.datasets`` returns it.

    Args:
        path: optional local copy: the ``cifar-100-python.tar.gz`` tarball, the extracted
            ``cifar-100-python`` directory, or a directory containing it.
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).
        normalize: return float32 images in [0, 1] instead of uint8.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``; x of shape (n, 32, 32, 3), y uint8 (n, 1).

    Raises:
        ValueError: ``label_mode`` is not "fine" or "coarse".
        DatasetUnavailableError: the download failed, or ``path`` or a file is missing.
        DataError: a file is malformed or holds anything but numpy arrays and plain values.

    Example:
        >>> import os, pickle, tempfile, numpy as np
        >>> d = os.path.join(tempfile.mkdtemp(), "cifar-100-python")
        >>> os.makedirs(d)
        >>> for name in ("train", "test"):
        ...     batch = {b"data": np.zeros((3, 3072), "uint8"), b"fine_labels": [5, 99, 0],
        ...              b"coarse_labels": [1, 19, 0]}
        ...     with open(os.path.join(d, name), "wb") as f:
        ...         pickle.dump(batch, f, protocol=2)
        >>> (x, y), _ = cifar100(path=d, label_mode="coarse")
        >>> x.shape, y.ravel().tolist()
        ((3, 32, 32, 3), [1, 19, 0])
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            'deepkit.datasets.cifar100: `label_mode` must be "fine" or "coarse". '
            f"Received: label_mode={label_mode!r}"
        )
    if path is None:
        try:
            splits = keras.datasets.cifar100.load_data(label_mode=label_mode)
        except Exception as e:
            raise _download_failed("cifar100", e, CIFAR100_FORMAT, "cifar-100-python.tar.gz") from e
    else:
        splits = _load_cifar100_local(path, label_mode)
    return _finish("cifar100", splits, normalize, False)
