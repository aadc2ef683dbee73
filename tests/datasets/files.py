"""Tiny dataset files written in the exact formats keras.datasets downloads (MNIST .npz, Fashion-MNIST
IDX, CIFAR pickled batches and tarballs), and a pickle payload that must never run."""

import gzip
import io
import os
import pickle
import tarfile

import numpy as np

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


class Marker:
    """A pickle payload that would create a file if it were ever executed."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))
