"""Every dataset by name: ``load(name, **kw)``, ``info(name)``, ``list_datasets()`` (used by the CLI)."""

import dataclasses
import inspect

from deepkit.datasets import sklearn_digits as _digits
from deepkit.datasets import images as _images
from deepkit.datasets import toy as _toy
from deepkit.errors import DeepkitError
from deepkit.naming import did_you_mean

__all__ = ["UnknownDatasetError", "DatasetInfo", "list_datasets", "info", "load"]


class UnknownDatasetError(DeepkitError, ValueError):
    """A dataset name that deepkit does not know; the message lists close matches.

    Example:
        >>> try:
        ...     load("cifar11")
        ... except UnknownDatasetError as err:
        ...     print("Did you mean 'cifar10'" in str(err))
        True
    """


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is, as returned by ``load`` with its default options.

    Attributes:
        name: the canonical name, as accepted by ``load``.
        kind: ``"image"`` or ``"toy"`` (2-D points).
        input_shape: shape of one sample (channels last), e.g. ``(28, 28, 1)``.
        num_classes: number of classes.
        offline: whether it loads without any download or file.
        description: one line.

    Example:
        >>> info("digits").num_classes, info("moons").kind
        (10, 'toy')
    """

    name: str
    kind: str
    input_shape: tuple
    num_classes: int
    offline: bool
    description: str


_INFOS = {
    "mnist": DatasetInfo("mnist", "image", (28, 28, 1), 10, False,
                         "MNIST handwritten digits, 60000 + 10000 grey 28x28 images (keras.datasets)"),
    "fashion_mnist": DatasetInfo("fashion_mnist", "image", (28, 28, 1), 10, False,
                                 "Fashion-MNIST clothing, 60000 + 10000 grey 28x28 images (keras.datasets)"),
    "cifar10": DatasetInfo("cifar10", "image", (32, 32, 3), 10, False,
                           "CIFAR-10, 50000 + 10000 colour 32x32 images, 10 classes (keras.datasets)"),
    "cifar100": DatasetInfo("cifar100", "image", (32, 32, 3), 100, False,
                            "CIFAR-100, 50000 + 10000 colour 32x32 images, 100 classes (keras.datasets)"),
    "digits": DatasetInfo("digits", "image", (8, 8, 1), 10, True,
                          "scikit-learn 8x8 handwritten digits, 1797 images, offline"),
    "circles": DatasetInfo("circles", "toy", (2,), 2, True, "a circle inside a circle (2-D)"),
    "moons": DatasetInfo("moons", "toy", (2,), 2, True, "two interleaving half moons (2-D)"),
    "xor": DatasetInfo("xor", "toy", (2,), 2, True, "the four XOR quadrants (2-D)"),
    "spiral": DatasetInfo("spiral", "toy", (2,), 2, True, "interleaved spiral arms (2-D)"),
    "gaussians": DatasetInfo("gaussians", "toy", (2,), 2, True, "one Gaussian blob per class (2-D)"),
}

_LOADERS = {
    "mnist": _images.mnist,
    "fashion_mnist": _images.fashion_mnist,
    "cifar10": _images.cifar10,
    "cifar100": _images.cifar100,
    "digits": _digits.digits,
    "circles": _toy.circles,
    "moons": _toy.moons,
    "xor": _toy.xor,
    "spiral": _toy.spiral,
    "gaussians": _toy.gaussians,
}

# Image loaders: what `load` passes unless told otherwise, so the arrays are ready for a model.
_IMAGE_DEFAULTS = {
    "mnist": {"normalize": True, "expand_dims": True},
    "fashion_mnist": {"normalize": True, "expand_dims": True},
    "cifar10": {"normalize": True},
    "cifar100": {"normalize": True},
}


def list_datasets():
    """Names accepted by ``load``, sorted.

    Returns:
        A list of strings.

    Example:
        >>> "digits" in list_datasets() and "moons" in list_datasets()
        True
    """
    return sorted(_INFOS)


def _canonical(name, where):
    if not isinstance(name, str):
        raise UnknownDatasetError(
            f"deepkit.datasets.{where}: the dataset name must be a string such as 'digits'. "
            f"Received: name={name!r}"
        )
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key in _INFOS:
        return key
    if key.replace("_", "") in {k.replace("_", ""): k for k in _INFOS}:
        return {k.replace("_", ""): k for k in _INFOS}[key.replace("_", "")]
    hint = did_you_mean(key, list(_INFOS))
    raise UnknownDatasetError(
        f"deepkit.datasets.{where}: unknown dataset {name!r}.{hint} "
        f"Available: {', '.join(list_datasets())}."
    )


def info(name):
    """Describe a dataset without loading it.

    Args:
        name: a dataset name (see ``list_datasets``); case, ``-`` and ``_`` do not matter.

    Returns:
        A ``DatasetInfo``.

    Raises:
        UnknownDatasetError: the name is unknown (the message suggests close matches).

    Example:
        >>> info("Fashion-MNIST").input_shape
        (28, 28, 1)
    """
    return _INFOS[_canonical(name, "info")]


def load(name, **kwargs):
    """Load a dataset by name as ``((x_train, y_train), (x_test, y_test))``, ready for a model.

    Image sets come as float32 in [0, 1] with a channel axis (pass ``normalize=False`` or
    ``expand_dims=False`` for keras' raw uint8 arrays). Toy 2-D sets are generated and split with
    ``test_size`` (default 0.25, stratified, seeded by ``seed``).

    Args:
        name: a dataset name (see ``list_datasets``); case, ``-`` and ``_`` do not matter.
        **kwargs: options of the dataset's own function (``path=`` for the keras sets,
            ``image_size=`` for digits, ``n_samples=``/``noise=``/``seed=`` for toy sets) and, for toy
            sets, ``test_size``.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``.

    Raises:
        UnknownDatasetError: the name is unknown (with suggestions).
        TypeError: an option the dataset does not take.

    Example:
        >>> (x, y), (xt, yt) = load("moons", n_samples=100)
        >>> x.shape, xt.shape
        ((75, 2), (25, 2))
        >>> load("minst")
        Traceback (most recent call last):
        ...
        deepkit.datasets.registry.UnknownDatasetError: deepkit.datasets.load: unknown dataset 'minst'. Did you mean 'mnist'? Available: cifar10, cifar100, circles, digits, fashion_mnist, gaussians, mnist, moons, spiral, xor.
    """
    key = _canonical(name, "load")
    loader = _LOADERS[key]
    test_size = kwargs.pop("test_size", 0.25) if _INFOS[key].kind == "toy" else None
    accepted = [p for p in inspect.signature(loader).parameters]
    unknown = [k for k in kwargs if k not in accepted]
    if unknown:
        extra = ["test_size"] if test_size is not None else []
        raise TypeError(
            f"deepkit.datasets.load({key!r}): unknown option(s) {', '.join(map(repr, unknown))}. "
            f"{key} accepts: {', '.join(accepted + extra)}."
        )
    options = {**_IMAGE_DEFAULTS.get(key, {}), **kwargs}
    result = loader(**options)
    if test_size is None:
        return result
    return _split_toy(key, result, test_size, options.get("seed", 0))


def _split_toy(key, data, test_size, seed):
    from sklearn.model_selection import train_test_split

    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) or not 0 < test_size < 1:
        raise ValueError(
            f"deepkit.datasets.load({key!r}): `test_size` must be a fraction strictly between 0 and 1. "
            f"Received: test_size={test_size!r}"
        )
    x, y = data
    counts = [int((y == c).sum()) for c in set(y.tolist())]
    stratify = y if min(counts) >= 2 and len(y) * test_size >= len(counts) else None
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=stratify
    )
    return (x_train, y_train), (x_test, y_test)
