"""Tiny sample files in each dataset's own download format, for tests and offline examples.

:func:`write_sample` writes a few random images in exactly the layout ``keras.datasets`` downloads
(``mnist.npz``; Fashion-MNIST's gzipped IDX files; the CIFAR python pickles) and returns the
``path=`` that loads them, so every dataset of the registry can be checked without a download (the
common dataset tests do this for every name in ``list_datasets()``).

Example:
    >>> import tempfile
    >>> from deepkit import datasets
    >>> path = write_sample("mnist", tempfile.mkdtemp())
    >>> (x, y), (x_test, y_test) = datasets.load("mnist", path=path)
    >>> x.shape, x.dtype, y_test.shape
    ((4, 28, 28, 1), dtype('float32'), (2,))
"""

import gzip
import os
import pickle

import numpy as np

__all__ = ["write_sample", "SAMPLE_WRITERS"]


def _mnist(directory, rng, n_train, n_test):
    path = os.path.join(directory, "mnist.npz")
    np.savez_compressed(path, x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                        y_train=rng.integers(0, 10, n_train, dtype=np.uint8),
                        x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
                        y_test=rng.integers(0, 10, n_test, dtype=np.uint8))
    return path


def _idx(magic, array):
    header = b"".join(int(v).to_bytes(4, "big") for v in (magic, *array.shape))
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def _fashion_mnist(directory, rng, n_train, n_test):
    folder = os.path.join(directory, "fashion_mnist")
    os.makedirs(folder, exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        for kind, blob in (("images-idx3", _idx(2051, rng.integers(0, 256, (n, 28, 28)))),
                           ("labels-idx1", _idx(2049, rng.integers(0, 10, n)))):
            with gzip.open(os.path.join(folder, f"{split}-{kind}-ubyte.gz"), "wb") as f:
                f.write(blob)
    return folder


def _cifar_batch(rng, n, label_keys, classes):
    # As in the real files: bytes keys, uint8 data (n, 3072) in CHW order, labels as lists.
    batch = {b"batch_label": b"sample", b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             b"filenames": [f"img_{i}.png".encode() for i in range(n)]}
    for key, count in zip(label_keys, classes):
        batch[key.encode()] = rng.integers(0, count, n).tolist()
    return batch


def _cifar10(directory, rng, n_train, n_test):
    folder = os.path.join(directory, "cifar-10-batches-py")
    os.makedirs(folder, exist_ok=True)
    sizes = [max(1, n_train // 5 + (i < n_train % 5)) for i in range(5)]  # five non-empty batches
    batches = {f"data_batch_{i + 1}": _cifar_batch(rng, n, ("labels",), (10,)) for i, n in enumerate(sizes)}
    batches["test_batch"] = _cifar_batch(rng, n_test, ("labels",), (10,))
    for name, batch in batches.items():
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump(batch, f, protocol=2)
    return folder


def _cifar100(directory, rng, n_train, n_test):
    folder = os.path.join(directory, "cifar-100-python")
    os.makedirs(folder, exist_ok=True)
    for name, n in (("train", n_train), ("test", n_test)):
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump(_cifar_batch(rng, n, ("fine_labels", "coarse_labels"), (100, 20)), f, protocol=4)
    return folder


#: Dataset name -> ``writer(directory, rng, n_train, n_test)`` returning the ``path=`` to load.
SAMPLE_WRITERS = {"mnist": _mnist, "fashion_mnist": _fashion_mnist, "cifar10": _cifar10, "cifar100": _cifar100}


def write_sample(name, directory, n_train=4, n_test=2, seed=0):
    """Write a tiny sample of a dataset in its download format and return the ``path=`` that loads it.

    Args:
        name: a dataset of ``deepkit.datasets.list_datasets()``.
        directory: an existing folder to write into.
        n_train: training images.
        n_test: test images.
        seed: seed of the random pixels and labels.

    Returns:
        The path to pass as ``load(name, path=...)``, or None for a dataset that loads offline
        without a file (``digits`` and the toy sets).

    Raises:
        ValueError: the dataset needs a file but has no sample writer here (add one to
            ``SAMPLE_WRITERS`` with the dataset).

    Example:
        >>> write_sample("moons", ".") is None
        True
    """
    from deepkit.datasets.registry import info

    meta = info(name)
    if meta.offline:
        return None
    writer = SAMPLE_WRITERS.get(meta.name)
    if writer is None:
        raise ValueError(f"deepkit.datasets.samples: no sample writer for dataset {meta.name!r}; a dataset that "
                         f"loads from a file needs one in SAMPLE_WRITERS. Received: name={name!r}")
    return writer(os.fspath(directory), np.random.default_rng(seed), n_train, n_test)
