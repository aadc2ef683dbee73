"""A folder of JPEG/PNG photos as arrays: flat (unlabelled) or one subfolder per class.

Every image goes through torchvision's evaluation transform: RGB (a grayscale or palette image is
converted), the shorter side resized to 256/224 of the crop size (bilinear), the centre cropped to a square
(224x224 by default), kept as raw 0-255 uint8: the zoo's ImageNet models carry their own scaling and
normalisation. ``deepkit report``/``evaluate --data my_photos/`` and ``deepkit predict`` read images here.

Example:
    >>> import os, tempfile
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> for cls in ("cats", "dogs"):
    ...     os.makedirs(os.path.join(root, cls))
    ...     Image.new("RGB", (320, 240), (200, 10, 10)).save(os.path.join(root, cls, "a.png"))
    >>> x, y, names = read_image_folder(root, size=32)
    >>> x.shape, x.dtype.name, y.tolist(), names
    ((2, 32, 32, 3), 'uint8', [0, 1], ['cats', 'dogs'])
"""

import os

import numpy as np

from deepkit.errors import DataError

__all__ = ["IMAGE_SUFFIXES", "holds_images", "list_images", "read_image", "read_image_folder", "transform_text"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def transform_text(size=224):
    """The evaluation transform in words (printed by ``deepkit predict``).

    Args:
        size: the crop size.

    Returns:
        A str.

    Example:
        >>> transform_text()
        'resize the shorter side to 256 (bilinear), centre crop 224x224, RGB 0-255'
    """
    return f"resize the shorter side to {_resize_to(size)} (bilinear), centre crop {size}x{size}, RGB 0-255"


def _resize_to(size):
    return int(round(size * 256 / 224))


def _is_image(name):
    return name.lower().endswith(IMAGE_SUFFIXES) and not name.startswith(".")


def holds_images(path):
    """Whether a folder holds JPEG/PNG images, directly or one subfolder down.

    Args:
        path: a folder.

    Returns:
        A bool.

    Example:
        >>> holds_images(os.path.dirname(__file__))
        False
    """
    if not os.path.isdir(path):
        return False
    for entry in os.listdir(path):
        full = os.path.join(path, entry)
        if os.path.isfile(full) and _is_image(entry):
            return True
        if os.path.isdir(full) and any(_is_image(e) for e in os.listdir(full)):
            return True
    return False


def list_images(paths):
    """The image files named by files and folders (a folder: its images, sorted; not recursive).

    Args:
        paths: files and folders.

    Returns:
        A list of paths.

    Raises:
        DataError: a path that does not exist, or a folder without images.

    Example:
        >>> list_images(["no/such.png"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        deepkit.errors.DataError: no/such.png: no such file or folder ...
    """
    out = []
    for path in paths:
        path = os.fspath(path)
        if os.path.isdir(path):
            found = sorted(os.path.join(path, e) for e in os.listdir(path) if _is_image(e))
            if not found:
                raise DataError(f"{path}: a folder without JPEG/PNG images (expected files ending in "
                                f"{', '.join(IMAGE_SUFFIXES)})")
            out += found
        elif os.path.isfile(path):
            out.append(path)
        else:
            raise DataError(f"{path}: no such file or folder (expected JPEG/PNG images or folders of them)")
    return out


def read_image(path, size=224, channels=3):
    """One image through the evaluation transform, as raw 0-255 uint8.

    Args:
        path: a JPEG or PNG file (any mode: grayscale, palette, RGBA are converted).
        size: the square crop size; the shorter side is first resized to ``size * 256 / 224``.
        channels: 3 (RGB) or 1 (grayscale).

    Returns:
        A ``(size, size, channels)`` uint8 array.

    Raises:
        DataError: the file cannot be read as an image (one line naming it).

    Example:
        >>> read_image(__file__)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        deepkit.errors.DataError: ...folder.py: not a readable JPEG/PNG image ...
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = image.convert("RGB" if channels == 3 else "L")
            width, height = image.size
            short = _resize_to(size)
            scale = short / min(width, height)
            new = (max(size, int(round(width * scale))), max(size, int(round(height * scale))))
            image = image.resize(new, Image.BILINEAR)
            left, top = (new[0] - size) // 2, (new[1] - size) // 2
            array = np.asarray(image.crop((left, top, left + size, top + size)), dtype="uint8")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable JPEG/PNG image ({' '.join(str(exc).split())})") from None
    return array[..., None] if array.ndim == 2 else array


def read_image_folder(path, size=224, channels=3):
    """A folder of images as arrays: flat (no labels) or one subfolder per class (sorted names = labels).

    Args:
        path: the folder.
        size: crop size of the evaluation transform.
        channels: 3 or 1.

    Returns:
        ``(x, y, class_names)``: uint8 ``(N, size, size, channels)``, int64 labels or None, the subfolder
        names or None.

    Raises:
        DataError: no images, or an unreadable one.

    Example:
        >>> read_image_folder("no/such/folder")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        deepkit.errors.DataError: no/such/folder: ...
    """
    path = os.fspath(path)
    if not holds_images(path):
        raise DataError(f"{path}: not a folder of JPEG/PNG images (flat, or one subfolder per class)")
    classes = sorted(e for e in os.listdir(path) if os.path.isdir(os.path.join(path, e))
                     and any(_is_image(f) for f in os.listdir(os.path.join(path, e))))
    if classes:
        files, labels = [], []
        for label, name in enumerate(classes):
            found = list_images([os.path.join(path, name)])
            files += found
            labels += [label] * len(found)
        y = np.asarray(labels, dtype="int64")
    else:
        files, y = list_images([path]), None
    x = np.stack([read_image(f, size, channels) for f in files])
    return x, y, (classes or None)
