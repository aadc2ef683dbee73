"""The scikit-learn 8x8 handwritten digits: a tiny MNIST that needs no download.

1797 images of the digits 0-9 (UCI optdigits, bundled with scikit-learn), returned with the same
``((x_train, y_train), (x_test, y_test))`` layout as ``keras.datasets``, as float images in [0, 1]
with a channel axis, optionally upsampled so that LeNet-style networks (28x28 or 32x32) accept them.
"""

import numbers

import keras
import numpy as np

__all__ = ["upsample", "digits"]

_MAX_PIXEL = 16.0  # load_digits pixel values are counts 0..16


def _linear_resize_matrix(in_size, out_size):
    """(out_size, in_size) matrix of a 1-D linear resize with half-pixel centres.

    Matches ``keras.ops.image.resize(..., interpolation="bilinear", antialias=False)`` and
    ``tf.image.resize`` when upsampling.
    """
    scale = in_size / out_size
    src = (np.arange(out_size) + 0.5) * scale - 0.5
    src = np.clip(src, 0.0, in_size - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, in_size - 1)
    frac = src - lo
    m = np.zeros((out_size, in_size))
    m[np.arange(out_size), lo] += 1.0 - frac
    m[np.arange(out_size), hi] += frac
    return m


def upsample(images, size):
    """Bilinear resize of square grey images (n, h, w) to (n, size, size), in numpy.

    Args:
        images: float array of shape (n, h, w).
        size: the output height and width (>= h).

    Returns:
        float32 array of shape (n, size, size); values stay within the input's range.

    Example:
        >>> import numpy as np
        >>> upsample(np.array([[[0.0, 1.0], [1.0, 0.0]]]), 4).round(2)[0, 0].tolist()
        [0.0, 0.25, 0.75, 1.0]
    """
    images = np.asarray(images, dtype="float64")
    rows = _linear_resize_matrix(images.shape[1], size)
    cols = _linear_resize_matrix(images.shape[2], size)
    return np.einsum("ij,njk,lk->nil", rows, images, cols).astype("float32")


def digits(*, image_size=None, test_size=0.25, seed=0, flatten=False):
    """Load the scikit-learn handwritten digits offline, split like ``keras.datasets``.

    Args:
        image_size: ``None`` keeps the 8x8 images; an integer >= 8 (e.g. 28 or 32 for LeNet)
            upsamples them bilinearly to ``image_size`` x ``image_size``.
        test_size: fraction of the 1797 images held out for the test split, in (0, 1).
            The split is stratified, so every class appears in both parts.
        seed: seed of the shuffled split; the same seed always gives the same split.
        flatten: return x as (n, pixels) vectors instead of images with a channel axis.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: x float32 in [0, 1] of shape
        (n, image_size, image_size, 1) (channel axis first when
        ``keras.config.image_data_format()`` is ``"channels_first"``), y int32 labels 0-9 of
        shape (n,).

    Raises:
        ValueError: an argument is out of range.

    Example:
        >>> (x, y), (xt, yt) = digits()
        >>> x.shape, xt.shape, x.dtype.name, float(x.max()), sorted(set(y.tolist())) == list(range(10))
        ((1347, 8, 8, 1), (450, 8, 8, 1), 'float32', 1.0, True)
        >>> (x, y), _ = digits(image_size=28)
        >>> x.shape
        (1347, 28, 28, 1)
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    where = "deepkit.datasets.digits"
    if image_size is not None and (
        isinstance(image_size, bool) or not isinstance(image_size, numbers.Integral) or image_size < 8
    ):
        raise ValueError(
            f"{where}: `image_size` must be None (keep 8x8) or an integer >= 8 such as 28 or 32. "
            f"Received: image_size={image_size!r}"
        )
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real) or not 0 < test_size < 1:
        raise ValueError(
            f"{where}: `test_size` must be a fraction strictly between 0 and 1. "
            f"Received: test_size={test_size!r}"
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise ValueError(f"{where}: `seed` must be an integer or None. Received: seed={seed!r}")

    data = load_digits()
    x = (data.images / _MAX_PIXEL).astype("float32")
    y = data.target.astype("int32")
    if image_size is not None and image_size != x.shape[1]:
        x = np.clip(upsample(x, int(image_size)), 0.0, 1.0)
    if flatten:
        x = x.reshape(len(x), -1)
    elif keras.config.image_data_format() == "channels_first":
        x = x[:, None]
    else:
        x = x[..., None]
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=float(test_size), random_state=seed, stratify=y
    )
    return (x_train, y_train), (x_test, y_test)
