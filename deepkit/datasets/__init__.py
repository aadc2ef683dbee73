"""Datasets: keras.datasets with offline errors and local ``path=``, offline digits, toy 2-D problems.

Everything comes in the ``keras.datasets`` layout ``((x_train, y_train), (x_test, y_test))``,
except the toy generators, which return ``(x, y)``; ``load(name)`` gives any of them by name.
``lecture(name)`` is the tutorials' one call: MNIST, Fashion-MNIST or CIFAR-10 in [0, 1] from a local
copy, ``keras.datasets`` or, offline, the digits, saying which it used.

Example:
    >>> from deepkit import datasets
    >>> (x, y), (x_test, y_test) = datasets.load("digits", image_size=28)
    >>> x.shape[1:], datasets.info("digits").num_classes
    ((28, 28, 1), 10)
"""

from deepkit.datasets import toy
from deepkit.datasets._common import DatasetUnavailableError
from deepkit.datasets.sklearn_digits import digits
from deepkit.datasets.images import cifar10, cifar100, fashion_mnist, mnist
from deepkit.datasets.lectures import LectureData, lecture
from deepkit.datasets.resolver import ResolvedData, fit_to_model, local_copy, prepare_for_model, resolve
from deepkit.datasets.registry import (
    DatasetInfo,
    UnknownDatasetError,
    info,
    list_datasets,
    load,
)

__all__ = [
    "DatasetInfo",
    "DatasetUnavailableError",
    "LectureData",
    "ResolvedData",
    "UnknownDatasetError",
    "cifar10",
    "cifar100",
    "digits",
    "fashion_mnist",
    "fit_to_model",
    "info",
    "lecture",
    "list_datasets",
    "local_copy",
    "load",
    "mnist",
    "prepare_for_model",
    "resolve",
    "toy",
]
