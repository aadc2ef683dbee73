"""ImageNet weights for the zoo (``weights="imagenet"``): torchvision's published checkpoints, fetched once.

Each ImageNet zoo model declares its checkpoint as data beside its counts
(``@register_model(..., pretrained={"imagenet": torchvision("resnet18-f37072fd.pth", 69.758, 89.078)})``):
the file name on ``download.pytorch.org`` (it ends in the first hex digits of the file's SHA-256, as
torchvision checks), the published top-1/top-5 accuracy (ImageNet-1k validation, 224x224 centre crop of
the image resized to 256) and the source. :func:`fetch` downloads it with ``keras.utils.get_file`` into
Keras' cache (``~/.keras/models``; ``KERAS_HOME`` moves it) the first time, checks the hash prefix every
time, and offline says in one line which URL to fetch and where to put the file.

The model carries its preprocessing (``Rescaling(1/255)`` and ``Normalization`` with torchvision's mean
and std are its first layers: it takes raw 0-255 RGB) and ``model.class_names``, the 1000 ImageNet
classes in torchvision's order (``deepkit/models/data/imagenet_classes.txt``);
:func:`decode_predictions` names the top classes. Resizing and cropping is the data side
(:data:`EVAL_TRANSFORM`).

Example:
    >>> len(imagenet_classes()), imagenet_classes()[207]
    (1000, 'golden retriever')
    >>> record = torchvision("resnet18-f37072fd.pth", 69.758, 89.078)
    >>> record.url, record.sha256_prefix
    ('https://download.pytorch.org/models/resnet18-f37072fd.pth', 'f37072fd')
"""

import dataclasses
import functools
import hashlib
import os

import numpy as np

__all__ = ["ImageNetWeights", "torchvision", "imagenet_classes", "decode_predictions", "fetch", "cache_path",
           "IMAGENET_MEAN", "IMAGENET_STD", "EVAL_TRANSFORM"]

TORCHVISION_URL = "https://download.pytorch.org/models/"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: torchvision's evaluation transform, the data side of the preprocessing.
EVAL_TRANSFORM = "resize the shorter side to 256 (bilinear), centre crop 224x224, RGB 0-255"
_CLASSES_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "imagenet_classes.txt")


@dataclasses.dataclass(frozen=True)
class ImageNetWeights:
    """One published ImageNet checkpoint of a zoo model.

    Attributes:
        url: where it is published.
        sha256_prefix: the leading hex digits of its SHA-256 (from its file name).
        top1: published top-1 accuracy, percent.
        top5: published top-5 accuracy, percent.
        source: who trained and published it.
        preprocessing: the ``preprocessing=`` the model is built with (mean/std of 0-1 RGB).
        num_classes: 1000.
        input_shape: the evaluation size, (224, 224, 3).

    Example:
        >>> torchvision("alexnet-owt-7be5be79.pth", 56.522, 79.066).filename
        'alexnet-owt-7be5be79.pth'
    """

    url: str
    sha256_prefix: str
    top1: float
    top5: float
    source: str
    preprocessing: dict
    num_classes: int = 1000
    input_shape: tuple = (224, 224, 3)

    @property
    def filename(self):
        """The file name in Keras' cache (the URL's last part)."""
        return self.url.rsplit("/", 1)[-1]

    def describe(self):
        """One line: accuracy and source.

        Returns:
            A str.

        Example:
            >>> torchvision("resnet18-f37072fd.pth", 69.758, 89.078).describe()
            'top-1 69.76 %, top-5 89.08 % (torchvision IMAGENET1K_V1)'
        """
        return f"top-1 {self.top1:.2f} %, top-5 {self.top5:.2f} % ({self.source})"


def torchvision(filename, top1, top5, preprocessing=None):
    """The record of a torchvision checkpoint on ``download.pytorch.org/models``.

    Args:
        filename: e.g. ``"resnet18-f37072fd.pth"``; the part after the last ``-`` is the SHA-256 prefix.
        top1: published top-1 accuracy (percent).
        top5: published top-5 accuracy (percent).
        preprocessing: the model's input normalisation; torchvision's ImageNet mean/std by default.

    Returns:
        An :class:`ImageNetWeights`.

    Example:
        >>> torchvision("googlenet-1378be20.pth", 69.778, 89.53).sha256_prefix
        '1378be20'
    """
    stem = filename.rsplit(".", 1)[0]
    return ImageNetWeights(
        url=TORCHVISION_URL + filename, sha256_prefix=stem.rsplit("-", 1)[-1], top1=top1, top5=top5,
        source="torchvision IMAGENET1K_V1",
        preprocessing=preprocessing or {"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)})


@functools.lru_cache(maxsize=1)
def _classes():
    with open(_CLASSES_FILE, encoding="utf-8") as f:
        names = tuple(line.rstrip("\n") for line in f if line.strip())
    if len(names) != 1000:
        raise ValueError(f"{_CLASSES_FILE}: expected 1000 ImageNet class names, found {len(names)} (reinstall deepkit)")
    return names


def imagenet_classes():
    """The 1000 ImageNet-1k class names in torchvision's (and the checkpoints') order.

    Returns:
        A list of 1000 str.

    Example:
        >>> imagenet_classes()[:3]
        ['tench', 'goldfish', 'great white shark']
    """
    return list(_classes())


def decode_predictions(predictions, top=5, class_names=None):
    """The top classes of each prediction, by name, keras.applications' ``decode_predictions`` for the zoo.

    Args:
        predictions: ``(N, C)`` probabilities or logits (logits are turned into probabilities with a
            softmax: a row that is not non-negative summing to 1).
        top: how many classes per row.
        class_names: names of the C classes; default the 1000 ImageNet classes (C must then be 1000).

    Returns:
        A list (one per row) of lists of ``(class index, name, probability)``, most probable first.

    Raises:
        ValueError: not a 2-D array, or C does not match the names.

    Example:
        >>> p = np.full((1, 1000), 0.5 / 999)
        >>> p[0, 207] = 0.5
        >>> decode_predictions(p, top=2)[0][0]
        (207, 'golden retriever', 0.5)
    """
    values = np.asarray(predictions, dtype="float64")
    names = list(class_names) if class_names is not None else imagenet_classes()
    if values.ndim != 2 or values.shape[1] != len(names):
        raise ValueError(f"decode_predictions: expected predictions of shape (N, {len(names)}) (one column per "
                         f"class name). Received: shape {values.shape}")
    if not (np.all(values >= 0) and np.allclose(values.sum(axis=1), 1.0, atol=1e-3)):
        values = np.exp(values - values.max(axis=1, keepdims=True))
        values /= values.sum(axis=1, keepdims=True)
    top = max(1, min(int(top), len(names)))
    out = []
    for row in values:
        order = np.argsort(-row, kind="stable")[:top]
        out.append([(int(i), names[i], round(float(row[i]), 6)) for i in order])
    return out


def cache_path(weights):
    """Where Keras' ``get_file`` keeps a checkpoint (``$KERAS_HOME/models`` or ``~/.keras/models``).

    Args:
        weights: an :class:`ImageNetWeights`.

    Returns:
        The path.

    Example:
        >>> cache_path(torchvision("resnet18-f37072fd.pth", 1, 1)).endswith(os.path.join("models", "resnet18-f37072fd.pth"))
        True
    """
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "models", weights.filename)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(weights, model_name="model"):
    """The local path of a published checkpoint: downloaded into Keras' cache once, its hash checked.

    Args:
        weights: an :class:`ImageNetWeights`.
        model_name: for messages.

    Returns:
        The path of the checked file.

    Raises:
        ValueError: the download failed (offline: one line naming the URL and where to put the file), or
            the file's SHA-256 does not start with the published prefix (the file is removed).

    Example:
        >>> record = dataclasses.replace(torchvision("x-00000000.pth", 1, 1), url="file:///nonexistent/x-00000000.pth")
        >>> fetch(record, "demo")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: deepkit.models 'demo': cannot download the imagenet weights from file:///nonexistent/x-00000000.pth; ...
    """
    import keras

    target = cache_path(weights)
    if not os.path.isfile(target):
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)  # get_file falls back to /tmp unless it exists
        except OSError:
            pass
        try:
            target = keras.utils.get_file(weights.filename, weights.url, cache_subdir="models",
                                          cache_dir=os.path.dirname(os.path.dirname(target)))
        except Exception:
            raise ValueError(f"deepkit.models '{model_name}': cannot download the imagenet weights from "
                             f"{weights.url}; offline, fetch that file elsewhere and put it at {target}") from None
    got = _sha256(target)
    if not got.startswith(weights.sha256_prefix):
        os.remove(target)
        raise ValueError(f"deepkit.models '{model_name}': {target} has SHA-256 {got[:16]}..., the published "
                         f"file's starts with {weights.sha256_prefix}; the damaged file was removed, download "
                         f"it again from {weights.url}")
    return target
