"""The lectures' datasets in one call: a local copy, else ``keras.datasets``, else the offline digits.

A tutorial's first cell should be the lesson, not a loader with its own fallback chain. :func:`lecture`
gives MNIST, Fashion-MNIST or CIFAR-10 as float32 images in [0, 1] with a channel axis, from the first
source that works, and says which it used:

1. a local copy in the folder named by ``DEEPKIT_DATA_DIR`` (:func:`deepkit.datasets.local_copy`; a
   training-only copy such as ``mnist-train.npz`` gives its held-out 10 % as the test split);
2. ``keras.datasets`` (downloaded once into ``~/.keras/datasets``), unless ``download=False``;
3. scikit-learn's 8x8 digits, offline, upsampled to the dataset's image size (and coloured for CIFAR-10),
   so the code that follows runs unchanged.

The documentation build sets ``DEEPKIT_EXAMPLES_FAST=1``; :func:`lecture` then downloads nothing and keeps
at most ``FAST_SIZES`` images, so the tutorials build in minutes. A reader's run never sees this.

Example:
    >>> data = lecture("mnist", download=False, data_dir="", verbose=False)
    >>> data.source, data.x_train.shape[1:], data.x_train.dtype.name, float(data.x_train.max()) <= 1.0
    ('digits', (28, 28, 1), 'float32', True)
"""

import dataclasses
import os

import numpy as np

from deepkit.datasets._common import DatasetUnavailableError
from deepkit.errors import DataError

__all__ = ["LectureData", "lecture", "fast_mode", "LECTURE_SETS", "FAST_ENV", "FAST_SIZES"]

#: The datasets :func:`lecture` serves, with their image shape.
LECTURE_SETS = {"mnist": (28, 28, 1), "fashion_mnist": (28, 28, 1), "cifar10": (32, 32, 3)}
#: The environment variable of the documentation build's fast mode.
FAST_ENV = "DEEPKIT_EXAMPLES_FAST"
#: Images kept (train, test) in fast mode.
FAST_SIZES = (6000, 2000)


@dataclasses.dataclass
class LectureData:
    """What :func:`lecture` returns.

    Attributes:
        name: the dataset asked for (``"mnist"``, ...).
        source: what was used: a local file or folder, ``"keras.datasets"``, or ``"digits"`` (the fallback).
        x_train, y_train, x_test, y_test: float32 images in [0, 1], (N, H, W, C); int labels.
        test_split: ``"test"``, or ``"validation"`` for a training-only local copy (its held-out 10 %).
        note: one line saying what was loaded and from where (printed unless ``verbose=False``).

    Example:
        >>> d = lecture("cifar10", download=False, data_dir="", verbose=False)
        >>> (x_train, y_train), (x_test, y_test) = d.train, d.test
        >>> x_train.shape[1:], d.is_fallback
        ((32, 32, 3), True)
    """

    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    test_split: str = "test"
    note: str = ""

    @property
    def train(self):
        """``(x_train, y_train)``."""
        return self.x_train, self.y_train

    @property
    def test(self):
        """``(x_test, y_test)``."""
        return self.x_test, self.y_test

    @property
    def is_fallback(self):
        """Whether the offline digits stand in for the dataset."""
        return self.source == "digits"


def fast_mode():
    """Whether the documentation build asked for its fast mode (``DEEPKIT_EXAMPLES_FAST`` set, not ``0``).

    The tutorials read it only inside blocks the rendered pages leave out.

    Returns:
        A bool.

    Example:
        >>> import os
        >>> fast_mode() == (os.environ.get("DEEPKIT_EXAMPLES_FAST", "0") not in ("", "0"))
        True
    """
    return os.environ.get(FAST_ENV, "0") not in ("", "0")


def _digits_like(shape):
    from deepkit.datasets.resolver import fit_to_model
    from deepkit.datasets.sklearn_digits import digits

    (x, y), (xt, yt) = digits()
    return tuple((fit_to_model(a, shape)[0].astype("float32").clip(0.0, 1.0), b) for a, b in ((x, y), (xt, yt)))


def lecture(name, *, max_train=None, max_test=None, download=True, data_dir=None, verbose=True):
    """Load a lecture's dataset from the first source that works, saying which (see the module docstring).

    Args:
        name: ``"mnist"``, ``"fashion_mnist"`` or ``"cifar10"``.
        max_train: keep at most this many training images (None: all; fast mode: at most 6,000).
        max_test: likewise for the test split (fast mode: at most 2,000).
        download: allow ``keras.datasets`` to download (never in fast mode).
        data_dir: the folder of local copies (default: ``$DEEPKIT_DATA_DIR``; ``""``: none).
        verbose: print the one-line note.

    Returns:
        A :class:`LectureData`.

    Raises:
        UnknownDatasetError: a name :func:`lecture` does not serve (it lists them).

    Example:
        >>> data = lecture("fashion_mnist", max_train=100, download=False, data_dir="")
        fashion_mnist not available offline (no local copy, no download); using scikit-learn's 8x8 digits upsampled to 28x28x1: 100 train / 450 test images
        >>> len(data.x_train)
        100
    """
    from deepkit.datasets import registry
    from deepkit.datasets.resolver import local_copy, resolve

    key = registry.info(name).name
    if key not in LECTURE_SETS:
        raise registry.UnknownDatasetError(f"deepkit.datasets.lecture: {name!r} is not a lecture dataset; "
                                           f"lecture() serves {', '.join(LECTURE_SETS)}. Received: name={name!r}")
    shape = LECTURE_SETS[key]
    fast = fast_mode()
    if fast:
        max_train = FAST_SIZES[0] if max_train is None else min(max_train, FAST_SIZES[0])
        max_test = FAST_SIZES[1] if max_test is None else min(max_test, FAST_SIZES[1])
    path = local_copy(key, data_dir)
    why = None
    if path is not None or (download and not fast):
        try:
            data = resolve(key, path, purpose="evaluate")
            source = path or "keras.datasets"
            scale = np.float32(1.0 / 255.0) if data.pixel_scale == 255.0 else np.float32(1.0)
            train = (data.x_train[:max_train].astype("float32") * scale, data.y_train[:max_train])
            test = (data.x_test[:max_test].astype("float32") * scale, data.y_test[:max_test])
            test_split = data.test_split
        except (DatasetUnavailableError, DataError, OSError) as error:
            why = f"{type(error).__name__}: {str(error)[:160]}"
    else:
        where = " in DEEPKIT_DATA_DIR" if data_dir is None else (f" in {data_dir!r}" if data_dir else "")
        why = f"no local copy{where}, no download" + (" in the documentation build's fast mode" if fast else "")
    if why is not None:
        (x, y), (xt, yt) = _digits_like(shape)
        train, test, source, test_split = (x[:max_train], y[:max_train]), (xt[:max_test], yt[:max_test]), \
            "digits", "test"
        note = (f"{key} not available offline ({why}); using scikit-learn's 8x8 digits upsampled to "
                f"{'x'.join(map(str, shape))}")
    else:
        held_out = " (its held-out 10 % as the test split)" if test_split != "test" else ""
        note = f"{key} from {source}{held_out}"
    note += f": {len(train[0])} train / {len(test[0])} {test_split} images"
    if verbose:
        print(note)
    return LectureData(key, source, *train, *test, test_split=test_split, note=note)
