"""Weights that ship inside the package, keras.applications' ``weights=`` convention without a download.

Each file in ``deepkit/models/weights/`` was trained here by the project's own recipe, on the training
split only, and has a JSON record beside it: the recipe command, the validation accuracy and wall time, the
input shape and classes, the preprocessing the model carries (so it takes raw 0-255 pixels) and the file's
SHA-256, checked before every load.

=============  ===========  ==============  ========================================================
model          ``weights``  input           trained by
=============  ===========  ==============  ========================================================
``lenet5``     ``"mnist"``  28x28x1, uint8  ``python -m deepkit.recipes lenet5_mnist --data-dir
                                            ../shared/data --save-weights ...`` (see the record)
=============  ===========  ==============  ========================================================

Example:
    >>> available_weights("lenet5")
    ['mnist']
    >>> record = pretrained("lenet5", "mnist")
    >>> record.input_shape, record.num_classes, record.val_accuracy > 0.99
    ((28, 28, 1), 10, True)
"""

import dataclasses
import json
import os

__all__ = ["PretrainedWeights", "available_weights", "pretrained", "verify_checksum", "WEIGHTS_DIR"]

WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")

# (registry name, tag) -> file stem in WEIGHTS_DIR (<stem>.weights.h5 and <stem>.json).
_SHIPPED = {("lenet5", "mnist"): "lenet5_mnist"}


@dataclasses.dataclass(frozen=True)
class PretrainedWeights:
    """One shipped weights file and its record.

    Attributes:
        model: registry name of the architecture.
        tag: the ``weights=`` value (the dataset), e.g. ``"mnist"``.
        path: the ``.weights.h5`` file.
        sha256: its expected checksum.
        input_shape: the input shape it was trained at.
        num_classes: its classes.
        preprocessing: the ``preprocessing=`` the model is built with (see ``deepkit.models.preprocessing``).
        val_accuracy: accuracy on the recipe's held-out validation split.
        command: the command that trained it.
        record: the whole JSON record.

    Example:
        >>> pretrained("lenet5", "mnist").tag
        'mnist'
    """

    model: str
    tag: str
    path: str
    sha256: str
    input_shape: tuple
    num_classes: int
    preprocessing: object
    val_accuracy: float
    command: str
    record: dict


def available_weights(name):
    """The ``weights=`` tags shipped for a model (empty when none).

    Args:
        name: a registry name (``deepkit.models.resolve`` gives it for any spelling).

    Returns:
        A sorted list of tags.

    Example:
        >>> available_weights("resnet50")
        []
    """
    return sorted(tag for model, tag in _SHIPPED if model == name)


def pretrained(name, tag):
    """The record of a shipped weights file.

    Args:
        name: registry name of the model.
        tag: one of :func:`available_weights` ``(name)``.

    Returns:
        A :class:`PretrainedWeights`.

    Raises:
        ValueError: no such weights (the message lists what exists).

    Example:
        >>> pretrained("lenet5", "imagenet")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: deepkit.models 'lenet5': no shipped weights 'imagenet'; available: 'mnist'...
    """
    stem = _SHIPPED.get((name, tag))
    if stem is None:
        shipped = ", ".join(repr(t) for t in available_weights(name)) or "none"
        raise ValueError(f"deepkit.models '{name}': no shipped weights {tag!r}; available: {shipped}. "
                         "weights= also takes the path of a local .weights.h5 or .keras file.")
    with open(os.path.join(WEIGHTS_DIR, stem + ".json")) as f:
        record = json.load(f)
    return PretrainedWeights(
        model=name, tag=tag, path=os.path.join(WEIGHTS_DIR, stem + ".weights.h5"), sha256=record["sha256"],
        input_shape=tuple(record["input_shape"]), num_classes=int(record["num_classes"]),
        preprocessing=record["preprocessing"], val_accuracy=float(record["val_accuracy"]),
        command=record["command"], record=record)


def verify_checksum(weights):
    """Check a shipped file against its record (a damaged install is an error, not wrong predictions).

    Args:
        weights: a :class:`PretrainedWeights`.

    Returns:
        The path.

    Raises:
        ValueError: the file is missing or its checksum differs.

    Example:
        >>> verify_checksum(pretrained("lenet5", "mnist")).endswith("lenet5_mnist.weights.h5")
        True
    """
    if not os.path.isfile(weights.path):
        raise ValueError(f"deepkit.models '{weights.model}': shipped weights file missing: {weights.path} "
                         "(reinstall deepkit)")
    from deepkit.datasets.resolver import file_sha256

    got = file_sha256(weights.path)
    if got != weights.sha256:
        raise ValueError(f"deepkit.models '{weights.model}': {weights.path} has SHA-256 {got}, its record says "
                         f"{weights.sha256}; the file is damaged (reinstall deepkit)")
    return weights.path
