"""Classify image files with a zoo model (``deepkit predict``): top classes by name and probability.

A zoo name with ``weights="imagenet"`` or a PyTorch state dict of an ImageNet model is built with
torchvision's preprocessing inside (it takes raw 0-255 RGB) and names its classes with the 1000 ImageNet
class names; the images go through torchvision's evaluation transform (``deepkit.datasets.folder``: the
shorter side resized to 256, the centre 224x224 cropped), which the output states.

Example:
    >>> import io, os, tempfile
    >>> from PIL import Image
    >>> path = os.path.join(tempfile.mkdtemp(), "grey.png")
    >>> Image.new("L", (40, 30), 128).save(path)
    >>> out = io.StringIO()
    >>> predict_files("lenet5", "mnist", [path], top=2, out=out)
    0
    >>> print(out.getvalue().splitlines()[0])
    transform: resize the shorter side to 32 (bilinear), centre crop 28x28, grayscale 0-255
"""

import os
import sys

import numpy as np

__all__ = ["load_for_prediction", "predict_files"]


def load_for_prediction(ref, weights=None):
    """The model ``deepkit predict`` runs: a zoo name (with its ImageNet preprocessing when its weights are
    a PyTorch state dict of an ImageNet model) or any reference ``deepkit.models.load`` reads.

    Args:
        ref: zoo name, spec file or saved model.
        weights: ``"imagenet"``, a shipped tag, a ``.weights.h5`` file or a PyTorch state dict.

    Returns:
        A Keras model.

    Example:
        >>> load_for_prediction("lenet5", "mnist").name
        'lenet5'
    """
    from deepkit import models
    from deepkit.models.torch_weights import STATE_DICT_SUFFIXES

    if isinstance(ref, str) and not os.path.exists(ref):
        info = models.model_info(ref)
        record = info.pretrained.get("imagenet")
        if record is not None and weights is not None and os.fspath(weights).lower().endswith(STATE_DICT_SUFFIXES):
            model = models.create(info.name, weights=weights, preprocessing=record.preprocessing)
            model.class_names = models.imagenet_classes()
            return model
    return models.load(ref, weights=weights)


def _class_names(model, classes):
    names = getattr(model, "class_names", None)
    if names is not None and len(names) == classes:
        return list(names)
    if classes == 1000:
        from deepkit.models.imagenet import imagenet_classes

        return imagenet_classes()
    return [f"class {i}" for i in range(classes)]


def predict_files(ref, weights, paths, top=5, out=None):
    """Print the top classes of each image (files and folders of JPEG/PNG).

    Args:
        ref: zoo name, spec file or saved model.
        weights: see :func:`load_for_prediction`.
        paths: image files and folders.
        top: classes per image.
        out: a text stream (stdout by default).

    Returns:
        0.

    Raises:
        deepkit.errors.DataError: a missing or unreadable image (one line naming it).

    Example:
        >>> predict_files("lenet5", "mnist", ["no/such.png"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        deepkit.errors.DataError: no/such.png: no such file or folder ...
    """
    from deepkit.datasets import folder
    from deepkit.models.imagenet import decode_predictions

    out = out or sys.stdout
    files = folder.list_images(paths)
    model = load_for_prediction(ref, weights)
    shape = tuple(model.inputs[0].shape[1:])
    size = shape[0] if shape[0] is not None else 224
    channels = shape[2] if len(shape) == 3 else 1
    images = np.stack([folder.read_image(f, size, 3 if channels == 3 else 1) for f in files])
    if len(shape) == 2:
        images = images[..., 0]
    text = folder.transform_text(size)
    print(f"transform: {text if channels == 3 else text.replace('RGB', 'grayscale')}", file=out)
    outputs = model.predict(images.astype("float32"), verbose=0)
    outputs = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
    names = _class_names(model, int(outputs.shape[-1]))
    for path, row in zip(files, decode_predictions(outputs, top=top, class_names=names)):
        print(path, file=out)
        for rank, (index, name, p) in enumerate(row, start=1):
            print(f"  {rank}. {p:7.4f}  {name} ({index})", file=out)
    return 0
