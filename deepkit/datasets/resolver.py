"""The one data resolver: a dataset name, an ``.npz``/``.npy`` file or a folder -> arrays ready for a model.

The CLI (train, evaluate, report) and the recipes all go through :func:`resolve`, so the same ``--data``
(and ``--data-path``) means the same arrays everywhere, and :func:`fit_to_model` makes them fit a model's
input, saying what it did.

What ``--data`` may be:

=============================  ===================================================================
value                          read as
=============================  ===================================================================
a name (``mnist``, ``digits``  ``deepkit.datasets.load(name, path=...)``: keras.datasets (raw uint8)
``cifar10``, ``moons``, ...)   or offline sets; ``path=`` an ``.npz`` file reads that file instead
``file.npz``                   ``x_train, y_train[, x_test, y_test]`` (a training set), ``x, y`` (an
                               evaluation set; for training it is split), or the JPEG layout
                               (``jpeg``, ``offsets``, ``y_train``) of the benchmark CIFAR-10 file
``file.npy``                   images only (no labels): an evaluation set
a folder                       the layout keras.datasets downloads: ``mnist.npz``, the Fashion-MNIST
                               IDX files, ``cifar-10-batches-py`` or ``cifar-100-python``; or JPEG/PNG
                               photos, flat or one subfolder per class (``deepkit.datasets.folder``:
                               resized to 256, centre 224x224, an evaluation set)
=============================  ===================================================================

A dataset name without ``path`` is read from a local copy when the environment variable
``DEEPKIT_DATA_DIR`` names a folder holding one (``mnist.npz`` or ``mnist-train.npz``,
``cifar-10-batches-py``, ``cifar-10-python.tar.gz`` or ``cifar10-train-jpeg.npz``, ...: see
:func:`local_copy`); otherwise keras.datasets downloads it (once, into ``~/.keras/datasets``). The
documentation build points it at the project's data folder, so the tutorials run on real MNIST and
CIFAR-10 offline.

Everything read is checked before a model sees it (numeric, finite, non-empty images; class labels a
classifier can learn), the error naming the file, the split and the first bad value. The module is over
600 lines as one cohesive thing: reading every kind of ``--data`` and making it fit a model, with the
checks they share.

A training set without a test split gets a validation split (``validation`` of it, fixed ``seed``),
as the recipes do; the result says so (``test_split == "validation"``), so ``deepkit evaluate`` of the
same file measures the same held-out images that ``deepkit train`` held out.

Example:
    >>> data = resolve("digits")
    >>> data.x_train.shape[1:], data.num_classes, data.pixel_scale, data.test_split
    ((8, 8, 1), 10, 1.0, 'test')
    >>> x, notes = fit_to_model(data.x_test[:2], (28, 28, 1))
    >>> x.shape, notes
    ((2, 28, 28, 1), ['resized 8x8 -> 28x28 (bilinear)'])
"""

import dataclasses
import hashlib
import io
import os

import numpy as np

from deepkit.errors import DataError

__all__ = ["ResolvedData", "resolve", "read_npz", "fit_to_model", "to_model_scale", "prepare_for_model",
           "file_sha256", "local_copy", "is_channels_first", "DATA_DIR_ENV", "MAX_CLASSES", "MAX_JPEG_PIXELS"]

#: The environment variable naming a folder of local dataset copies.
DATA_DIR_ENV = "DEEPKIT_DATA_DIR"

# What a local copy of each dataset may be called inside that folder, in order of preference.
_LOCAL_NAMES = {
    "mnist": ("mnist.npz", "mnist-train.npz"),
    "fashion_mnist": ("fashion_mnist", "fashion-mnist"),
    "cifar10": ("cifar-10-batches-py", "cifar-10-python.tar.gz", "cifar10-train-jpeg.npz"),
    "cifar100": ("cifar-100-python", "cifar-100-python.tar.gz"),
}

_FILE_SUFFIXES = (".npz", ".npy", ".gz", ".tar", ".h5")


@dataclasses.dataclass
class ResolvedData:
    """Arrays of one data source, with what was done to them.

    Attributes:
        name: what was asked for (dataset name or file path).
        x_train, y_train: training images/points and int labels (empty arrays for an evaluation-only file).
        x_test, y_test: the test split, or the held-out validation split (``y_test`` None: no labels).
        num_classes: number of classes (from the dataset, else the largest label + 1).
        pixel_scale: 255.0 for raw 0-255 pixels, 1.0 for images in [0, 1], None for non-image data.
        test_split: ``"test"`` (the source's own) or ``"validation"`` (held out here).
        source: where the arrays came from.
        fingerprint: SHA-256 of the file read, or the dataset's name.
        notes: what was done (held-out split, ...), one phrase each.

    Example:
        >>> resolve("moons").pixel_scale is None
        True
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: object
    num_classes: int
    pixel_scale: object
    test_split: str = "test"
    source: str = ""
    fingerprint: str = ""
    notes: list = dataclasses.field(default_factory=list)

    def describe(self):
        """One line: name, sizes, split, notes.

        Returns:
            A string.

        Example:
            >>> resolve("digits").describe()
            'digits: 1347 train / 450 test, 8x8x1, 10 classes'
        """
        shape = "x".join(str(d) for d in self.x_test.shape[1:])
        line = (f"{self.name}: {len(self.x_train)} train / {len(self.x_test)} {self.test_split}, {shape}, "
                f"{self.num_classes} classes")
        return line + (f" ({'; '.join(self.notes)})" if self.notes else "")


def _labels(y, where):
    if y is None:
        return None
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot
        y = y.argmax(axis=1)
    if not np.issubdtype(y.dtype, np.number):
        raise DataError(f"{where}: labels must be integers. Received dtype {y.dtype}")
    y = y.reshape(-1)
    if len(y) and (y.min() < 0 or np.any(y != np.round(y))):
        raise DataError(f"{where}: labels must be class indices 0, 1, 2, ... Received values from {y.min()} "
                        f"to {y.max()}")
    return y.astype("int64")


def _images(x):
    x = np.asarray(x)
    if x.dtype == np.uint8 and x.ndim == 3:  # (N, H, W) grey images: add the channel axis
        x = x[..., None]
    return x


_CHANNELS = (1, 3, 4)  # grey, RGB, RGBA


def is_channels_first(shape):
    """Whether a batch of images of this shape is channels-first, ``(N, C, H, W)``.

    Grey, RGB or RGBA channels (1, 3 or 4) on axis 1 while the last axis cannot be a channel axis
    (more than 4 values): ``(N, 1, 28, 28)`` and ``(N, 3, 32, 32)`` are channels-first,
    ``(N, 28, 28, 1)`` and ``(N, 32, 32, 3)`` are not.

    Args:
        shape: the array's shape, batch axis first.

    Returns:
        A bool.

    Example:
        >>> is_channels_first((5, 1, 28, 28)), is_channels_first((5, 28, 28, 1)), is_channels_first((5, 3, 4, 4))
        (True, False, False)
    """
    return len(shape) == 4 and shape[1] in _CHANNELS and shape[3] not in _CHANNELS


def _channels_last(x, notes):
    if is_channels_first(x.shape):
        notes.append(f"channels-first {'x'.join(map(str, x.shape[1:]))} read as "
                     f"{x.shape[2]}x{x.shape[3]} images with {x.shape[1]} channel{'s' if x.shape[1] > 1 else ''}")
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    return x


#: More classes than this in a label file is a mistake (ImageNet-21k has 21,841).
MAX_CLASSES = 100_000


def _first_bad(mask):
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _check_images(x, where):
    """Images (or points) a model can take: numbers, at least one sample, no NaN or inf."""
    if x.dtype.kind not in "biuf":
        first = x.reshape(-1)[0] if x.size else None
        raise DataError(f"{where}: images must be numbers (uint8 pixels or floats); received dtype {x.dtype} "
                        f"(the first value is {first!r:.40}). Convert the file's images to numbers first.")
    if x.ndim < 2:
        raise DataError(f"{where}: expected one image (or feature vector) per sample, an array of rank >= 2; "
                        f"received shape {x.shape}")
    if len(x) == 0:
        raise DataError(f"{where}: holds no samples (images of shape {x.shape}); it needs at least one")
    if x.dtype.kind == "f":
        with np.errstate(all="ignore"):
            finite = np.isfinite(np.add.reduce(x, axis=None))
        if not finite:
            bad = ~np.isfinite(x)
            count = int(np.count_nonzero(bad))
            if count:
                first = _first_bad(bad)
                samples = int(np.count_nonzero(bad.reshape(len(x), -1).any(axis=1)))
                raise DataError(f"{where}: {count} pixel value{'s are' if count > 1 else ' is'} NaN or inf, in "
                                f"{samples} of {len(x)} images; the first is at index {first}: {x[first]}. Drop "
                                "or repair those images (np.isfinite finds them)")


def _check_classes(y, where, purpose):
    if y is None or not len(y):
        return
    top = int(y.max())
    if top >= MAX_CLASSES:
        first = _first_bad(y >= MAX_CLASSES)
        raise DataError(f"{where}: label {top} (at index {first[0]}) is not a class index: labels must be "
                        f"0, 1, ..., number of classes - 1, at most {MAX_CLASSES - 1:,}")
    if purpose == "train":
        classes = np.unique(y)
        if len(classes) < 2:
            raise DataError(f"{where}: every one of its {len(y)} labels is {int(classes[0])}; a classifier needs "
                            "at least two classes to learn from (check the file's labels)")


def file_sha256(path):
    """SHA-256 of a file in hex (the data fingerprint recipes and evaluations record).

    Args:
        path: the file.

    Returns:
        64 hex digits.

    Example:
        >>> import os, tempfile
        >>> f = os.path.join(tempfile.mkdtemp(), "a")
        >>> _ = open(f, "wb").write(b"abc")
        >>> file_sha256(f)[:12]
        'ba7816bf8f01'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: The largest JPEG the benchmark layout may hold, in pixels (width x height); larger ones are refused
#: before they are decoded.
MAX_JPEG_PIXELS = 4096 * 4096


def _decode_jpeg(buffer, offsets, where):
    from PIL import Image, UnidentifiedImageError

    offsets = np.asarray(offsets)
    data = np.asarray(buffer).reshape(-1).tobytes()
    if offsets.ndim != 1 or offsets.dtype.kind not in "iu" or len(offsets) < 2:
        raise DataError(f"{where}: 'offsets' must be a 1-D integer array of at least 2 byte positions (image i is "
                        f"jpeg[offsets[i]:offsets[i+1]]); received {offsets.dtype} of shape {offsets.shape}")
    steps = np.diff(offsets)
    if offsets[0] < 0 or offsets[-1] > len(data) or np.any(steps <= 0):
        i = 0 if offsets[0] < 0 else (len(offsets) - 1 if offsets[-1] > len(data) else int(np.argmax(steps <= 0)))
        raise DataError(f"{where}: 'offsets' must increase from 0 to the {len(data):,} bytes of 'jpeg'; "
                        f"offsets[{i}:{i + 2}] = {offsets[i:i + 2].tolist()}")
    images, size = [], None
    for i in range(len(offsets) - 1):
        try:
            image = Image.open(io.BytesIO(data[offsets[i]:offsets[i + 1]]))
            if image.width * image.height > MAX_JPEG_PIXELS:
                raise DataError(f"{where}: image {i} is {image.width}x{image.height} pixels, more than the "
                                f"{MAX_JPEG_PIXELS:,} deepkit decodes; refused")
            if size is not None and image.size != size:
                raise DataError(f"{where}: image {i} is {image.width}x{image.height} but image 0 is "
                                f"{size[0]}x{size[1]}; all images of a file must have one size")
            size = image.size
            images.append(np.asarray(image.convert("RGB"), np.uint8))
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            if isinstance(exc, DataError):
                raise
            raise DataError(f"{where}: image {i} (bytes {int(offsets[i])}..{int(offsets[i + 1])} of 'jpeg') is not a "
                            f"readable JPEG ({type(exc).__name__}: {exc})") from None
    return np.stack(images)


def read_npz(path):
    """Read an ``.npz`` data file without unpickling anything.

    Args:
        path: the file. Accepted layouts: ``x_train, y_train[, x_test, y_test]``; ``x_test[, y_test]`` or
            ``x[, y]`` (an evaluation set); the benchmark JPEG layout ``jpeg, offsets, y_train``.

    Returns:
        ``(train, test)``: each ``(x, y)`` or None when the file has no such part (``y`` may be None).

    Raises:
        DataError: unreadable file, other keys, or images and labels of different lengths.

    Example:
        >>> import os, tempfile
        >>> f = os.path.join(tempfile.mkdtemp(), "d.npz")
        >>> np.savez(f, x=np.zeros((3, 4, 4), "uint8"), y=[0, 1, 1])
        >>> train, test = read_npz(f)
        >>> train, test[0].shape, test[1].tolist()
        (None, (3, 4, 4, 1), [0, 1, 1])
    """
    where = f"data file {path!r}"
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise DataError(f"{where}: not a readable .npz file ({type(exc).__name__}: {exc})") from None
    with archive as d:
        keys = set(d.files)
        try:
            if "x_train" in keys:
                train = (d["x_train"], d.get("y_train"))
                test = (d["x_test"], d.get("y_test")) if "x_test" in keys else None
            elif "jpeg" in keys and "offsets" in keys:
                train, test = (_decode_jpeg(d["jpeg"], d["offsets"], where), d.get("y_train")), None
            elif "x_test" in keys:
                train, test = None, (d["x_test"], d.get("y_test"))
            elif "x" in keys:
                train, test = None, (d["x"], d.get("y"))
            else:
                raise DataError(f"{where}: holds arrays {sorted(keys)}; expected x_train and y_train (with optional "
                                "x_test and y_test), x and y, or jpeg, offsets and y_train.")
        except DataError:
            raise
        except ValueError as exc:  # an object array refused by allow_pickle=False
            raise DataError(f"{where}: could not be read without unpickling Python objects ({exc}); refused.") \
                from None
    parts = []
    for part, label in ((train, "train"), (test, "test")):
        if part is None:
            parts.append(None)
            continue
        x, y = _images(part[0]), _labels(part[1], f"{where} ({label})")
        if y is not None and len(y) != len(x):
            raise DataError(f"{where}: {len(x)} {label} images but {len(y)} labels.")
        parts.append((x, y))
    return tuple(parts)


def local_copy(name, data_dir=None):
    """The local copy of a dataset in ``data_dir`` (default: ``$DEEPKIT_DATA_DIR``), or None.

    Args:
        name: a dataset name of ``deepkit.datasets.list_datasets()``.
        data_dir: the folder to look in; None reads the environment variable (unset: no copy).

    Returns:
        The path to pass as ``path=`` (a file or folder), or None.

    Example:
        >>> import os, tempfile
        >>> d = tempfile.mkdtemp()
        >>> _ = open(os.path.join(d, "mnist-train.npz"), "wb")
        >>> os.path.basename(local_copy("mnist", d)), local_copy("cifar10", d)
        ('mnist-train.npz', None)
    """
    from deepkit.datasets import registry

    data_dir = os.environ.get(DATA_DIR_ENV) if data_dir is None else data_dir
    if not data_dir or not os.path.isdir(data_dir):
        return None
    for candidate in _LOCAL_NAMES.get(registry.info(name).name, ()):
        path = os.path.join(data_dir, candidate)
        if os.path.exists(path):
            return path
    return None


def _split(x, y, validation, seed):
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = int(round(len(x) * validation))
    return (x[order[n_val:]], y[order[n_val:]]), (x[order[:n_val]], y[order[:n_val]])


def _pixel_scale(x):
    if x.ndim < 3:
        return None
    if x.dtype == np.uint8:
        return 255.0
    return 255.0 if x.size and float(np.max(x)) > 1.5 else 1.0


def _from_folder(path):
    from deepkit.datasets import registry

    entries = set(os.listdir(path))
    if "mnist.npz" in entries:
        name = "mnist"
    elif any(e.startswith("train-images-idx3-ubyte") for e in entries):
        name = "fashion_mnist"
    elif "cifar-10-batches-py" in entries or "data_batch_1" in entries:
        name = "cifar10"
    elif "cifar-100-python" in entries or {"train", "test"} <= entries:
        name = "cifar100"
    else:
        raise DataError(f"--data {path!r}: a folder, but not in a layout deepkit reads: expected mnist.npz, the "
                        "Fashion-MNIST IDX files, cifar-10-batches-py or cifar-100-python (as keras.datasets "
                        f"downloads them). It holds: {', '.join(sorted(entries)[:8]) or 'nothing'}")
    return name, registry.load(name, path=path, **_RAW.get(name, {}))


_RAW = {"mnist": {"normalize": False}, "fashion_mnist": {"normalize": False},
        "cifar10": {"normalize": False}, "cifar100": {"normalize": False}}


def _looks_like_path(text):
    return text.lower().endswith(_FILE_SUFFIXES) or any(sep in text for sep in (os.sep, os.altsep) if sep)


def resolve(data, path=None, *, purpose="train", validation=0.1, seed=0):
    """Resolve ``--data`` (and ``--data-path``) to arrays (see the module table).

    Args:
        data: a dataset name, or the path of an ``.npz``/``.npy`` file or a folder.
        path: with a dataset name: a local file or folder to read instead of downloading.
        purpose: ``"train"`` or ``"evaluate"``: an ``x, y`` file is split for training but evaluated whole.
        validation: fraction held out when a training set has no test split.
        seed: seed of that split.

    Returns:
        A :class:`ResolvedData`.

    Raises:
        DataError: a file that does not exist or cannot be read; a test split with labels the training
            split lacks (``purpose="train"``).
        UnknownDatasetError: an unknown name (with close matches).

    Example:
        >>> resolve("no/such/file.npz")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        deepkit.errors.DataError: --data 'no/such/file.npz': file does not exist ...
    """
    from deepkit.datasets import folder, registry

    if purpose not in ("train", "evaluate"):
        raise ValueError(f"resolve: purpose must be 'train' or 'evaluate'. Received: purpose={purpose!r}")
    data = os.fspath(data)
    notes, fingerprint, num_classes = [], None, None
    file_path = path if path is not None and os.path.isfile(path) and str(path).endswith((".npz", ".npy")) else None
    if file_path is None and (os.path.exists(data) or _looks_like_path(data)):
        if not os.path.exists(data):
            raise DataError(f"--data {data!r}: file does not exist (a dataset name is one of "
                            f"{', '.join(registry.list_datasets())}; a file is an .npz or .npy)")
        file_path = data if os.path.isfile(data) else None
        if file_path is None and folder.holds_images(data):  # JPEG/PNG photos: evaluation images
            x, y, classes = folder.read_image_folder(data)
            train, test, num_classes, source = None, (x, y), (len(classes) if classes else None), data
        elif file_path is None:
            name, (train, test) = _from_folder(data)
            num_classes, source = registry.info(name).num_classes, data
    else:
        info = registry.info(data)  # unknown names: UnknownDatasetError with suggestions
        num_classes = info.num_classes
        if path is None:
            path = local_copy(info.name)
            if path is not None and str(path).endswith(".npz"):
                file_path = path
        if file_path is None:
            if path is not None and not os.path.exists(path):
                raise DataError(f"--data-path {path!r}: does not exist (expected the local copy of {info.name})")
            options = dict(_RAW.get(info.name, {}), **({"path": path} if path is not None else {}))
            train, test = registry.load(info.name, **options)
            source, fingerprint = (path or f"deepkit.datasets.{info.name}"), info.name
    if file_path is not None:
        source = file_path
        fingerprint = file_sha256(file_path)
        if file_path.endswith(".npy"):
            train, test = None, (_images(np.load(file_path, allow_pickle=False)), None)
        else:
            train, test = read_npz(file_path)
    if fingerprint is None:
        fingerprint = os.path.basename(os.path.normpath(source))
    where = f"--data {data!r}" + (f" ({source})" if source not in (data, f"deepkit.datasets.{data}") else "")
    splits = []
    for part, label in ((train, "train"), (test, "test")):
        if part is not None:
            x = _images(part[0])
            _check_images(x, f"{where}, {label} images")  # before any transposing: indices as in the file
            x = _channels_last(x, notes)
            part = (x, _labels(part[1], where))
            _check_classes(part[1], f"{where}, {label} labels", purpose if label == "train" else "evaluate")
        splits.append(part)
    train, test = splits
    if train is None and purpose == "train":
        if test[1] is None:
            raise DataError(f"{where}: has images but no labels; training needs y (or y_train).")
        train, test = test, None
    if test is None:
        if train[1] is None:
            raise DataError(f"{where}: training images without labels (no y_train).")
        train, test = _split(*train, validation, seed)
        notes.append(f"no test split: {validation:.0%} held out for validation (seed {seed})")
        test_split = "validation"
    else:
        test_split = "test"
    if train is None:
        train = (test[0][:0], np.zeros(0, "int64"))
    elif purpose == "train":
        _check_classes(train[1], f"{where}, training split", purpose)
    if not len(test[0]):
        raise DataError(f"{where}: the {test_split} split holds no images (the file has {len(train[0])} training "
                        f"images); {'evaluation' if purpose == 'evaluate' else 'measuring the model'} needs some")
    labels = [y for y in (train[1], test[1]) if y is not None and len(y)]
    if num_classes is None:
        num_classes = int(max(int(y.max()) for y in labels)) + 1 if labels else None
    if purpose == "train" and test[1] is not None and len(train[1]):
        unseen = sorted(set(np.unique(test[1]).tolist()) - set(np.unique(train[1]).tolist()))
        if unseen:
            raise DataError(f"{where}: the {test_split} split has labels {unseen[:10]} that the training split "
                            "never shows; a model cannot learn them (check the file's labels)")
    return ResolvedData(name=data, x_train=train[0], y_train=train[1], x_test=test[0], y_test=test[1],
                        num_classes=num_classes, pixel_scale=_pixel_scale(test[0]), test_split=test_split,
                        source=source, fingerprint=fingerprint, notes=notes)


def _resize(x, height, width):
    import keras

    out = []
    for start in range(0, len(x), 1024):
        part = keras.ops.image.resize(x[start:start + 1024].astype("float32"), (height, width),
                                      interpolation="bilinear", antialias=height < x.shape[1])
        out.append(keras.ops.convert_to_numpy(part))
    return np.concatenate(out) if out else x.astype("float32")


def fit_to_model(x, input_shape):
    """Make images fit a model's input: channel axis, grey <-> colour, zero padding or bilinear resizing.

    A margin of at most a quarter of the image (MNIST's 28 -> 32, as LeCun padded it) is zero-padded
    around the image; anything else is resized bilinearly (anti-aliased when shrinking). Flat models
    take the images flattened when the sizes agree.

    Args:
        x: images (N, H, W[, C]) or points (N, D).
        input_shape: the model's input shape without the batch axis (None for a free dimension).

    Returns:
        ``(x, notes)``: the array (float32 when changed; the value range is kept) and what was done.

    Raises:
        DataError: the data cannot be made to fit (e.g. 2-D points for an image model).

    Example:
        >>> x, notes = fit_to_model(np.zeros((2, 28, 28), "uint8"), (32, 32, 1))
        >>> x.shape, notes
        ((2, 32, 32, 1), ['padded 28x28 -> 32x32 with zeros'])
    """
    x = np.asarray(x)
    shape = tuple(input_shape)
    notes = []
    if x.shape[1:] == shape or (len(x.shape) - 1 == len(shape) and
                                all(s is None or s == d for s, d in zip(shape, x.shape[1:]))):
        return x, notes
    if len(shape) == 1:
        if shape[0] is None or int(np.prod(x.shape[1:])) == shape[0]:
            notes.append(f"flattened {'x'.join(map(str, x.shape[1:]))} -> {shape[0]}")
            return x.reshape(len(x), -1), notes
        raise DataError(f"the data's samples have shape {x.shape[1:]} ({int(np.prod(x.shape[1:]))} values) but the "
                        f"model takes vectors of {shape[0]}")
    if x.ndim == 2:
        raise DataError(f"the data are points of {x.shape[1]} values but the model takes images of shape {shape}")
    if not is_channels_first((None, *shape)):  # a channels-last model given channels-first images
        x = _channels_last(x, notes)
    if len(shape) == 2:  # a model taking (H, W) grey images
        if x.ndim == 4:
            x = x.mean(axis=-1) if x.shape[-1] > 1 else x[..., 0]
        target = (*shape, None)
    else:
        target = shape
        if x.ndim == 3:
            x = x[..., None]
        if target[2] is not None and target[2] != x.shape[-1]:
            if x.shape[-1] == 1:
                x = np.repeat(x, target[2], axis=-1)
                notes.append(f"grey repeated to {target[2]} channels")
            elif target[2] == 1:
                notes.append(f"{x.shape[-1]} channels averaged to grey")
                x = x.astype("float32").mean(axis=-1, keepdims=True)
            else:
                raise DataError(f"the data have {x.shape[-1]} channels but the model takes {target[2]}")
    height, width = x.shape[1], x.shape[2]
    th, tw = target[0] or height, target[1] or width
    if (th, tw) != (height, width):
        size = f"{height}x{width} -> {th}x{tw}"
        if th >= height and tw >= width and (th - height) * 4 <= height and (tw - width) * 4 <= width:
            pad = [(0, 0), ((th - height) // 2, th - height - (th - height) // 2),
                   ((tw - width) // 2, tw - width - (tw - width) // 2)] + [(0, 0)] * (x.ndim - 3)
            x = np.pad(x, pad)
            notes.append(f"padded {size} with zeros")
        else:
            squeeze = x.ndim == 3
            x = _resize(x[..., None] if squeeze else x, th, tw)
            x = x[..., 0] if squeeze else x
            notes.append(f"resized {size} (bilinear)")
    return x, notes


def to_model_scale(x, pixel_scale, model_scale):
    """Images in the value range a model expects, as float32.

    Args:
        x: the images.
        pixel_scale: their range: 255.0 (raw pixels), 1.0 ([0, 1]) or None (not images: left alone).
        model_scale: what the model takes (``deepkit.models.preprocessing.input_scale``).

    Returns:
        A float32 array.

    Example:
        >>> to_model_scale(np.array([255], "uint8"), 255.0, 1.0).tolist()
        [1.0]
    """
    x = np.asarray(x, dtype="float32")
    if pixel_scale is None or pixel_scale == model_scale:
        return x
    return x * np.float32(model_scale / pixel_scale)


def prepare_for_model(model, x, pixel_scale):
    """:func:`fit_to_model` then :func:`to_model_scale` for a Keras model.

    Args:
        model: a built Keras model with one input.
        x: the images or points.
        pixel_scale: see :func:`to_model_scale`.

    Returns:
        ``(x, notes)``.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
        >>> x, notes = prepare_for_model(m, np.full((1, 4, 4), 255, "uint8"), 255.0)
        >>> float(x.max()), notes
        (1.0, [])
    """
    from deepkit.models.preprocessing import input_scale

    x, notes = fit_to_model(x, tuple(model.inputs[0].shape[1:]))
    return to_model_scale(x, pixel_scale, input_scale(model)), notes
