"""Shared helpers for deepkit.datasets: errors, a restricted unpickler, array finishing touches."""

import io
import pickle

import keras
import numpy as np

from deepkit.errors import DataError, DeepkitError


class DatasetUnavailableError(DeepkitError, OSError):
    """A dataset could not be downloaded or its local file could not be found.

    The message says what failed, that no network is needed when ``path=`` points at a local copy,
    and which file format that copy must have.

    Example:
        >>> from deepkit import datasets
        >>> try:
        ...     datasets.mnist(path="/nonexistent/mnist.npz")
        ... except datasets.DatasetUnavailableError as err:
        ...     print(type(err).__name__)
        DatasetUnavailableError
    """


# The only globals a CIFAR "python version" batch (a pickled dict of numpy arrays, lists, bytes)
# needs: numpy array reconstruction (as keras.src.datasets.npz_utils allows), numpy's protocol-5
# `_frombuffer`, and `_codecs.encode`, which Python 3 uses to store bytes under pickle protocol 2.
# None of them can run code. Anything else (os.system, builtins.eval, subprocess.Popen...) is
# refused, so a tampered file cannot run code while being read.
_ALLOWED_PICKLE_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),
    }
)


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED_PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing to load the Python object `{module}.{name}`: a dataset file may only "
            "contain numpy arrays, lists, numbers and strings"
        )


def safe_unpickle(data, where):
    """Unpickle bytes that may only hold numpy arrays and plain values.

    Args:
        data: the pickled bytes.
        where: a description of the source, used in error messages.

    Returns:
        The unpickled object.

    Raises:
        DataError: when the bytes are not a pickle or name anything but numpy array globals.
    """
    try:
        return _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except pickle.UnpicklingError as e:
        raise DataError(f"{where}: {e}.") from None
    except Exception as e:  # truncated or garbage bytes
        raise DataError(
            f"{where}: not a readable pickle file ({type(e).__name__}: {e})."
        ) from None


def finish_images(x, *, normalize, expand_dims, where):
    """Optionally scale uint8 images to float32 in [0, 1] and add a channel axis.

    Args:
        x: uint8 array of shape (n, h, w) or (n, h, w, c).
        normalize: scale to float32 in [0, 1].
        expand_dims: add a channel axis to (n, h, w) images, placed according to
            ``keras.config.image_data_format()``.
        where: name of the calling loader, used in error messages.

    Returns:
        The transformed array.
    """
    if normalize:
        x = x.astype("float32") / np.float32(255.0)
    if expand_dims:
        if x.ndim != 3:
            raise ValueError(
                f"{where}: expand_dims=True adds a channel axis to (n, height, width) images, "
                f"but these images already have shape {x.shape}."
            )
        axis = 1 if keras.config.image_data_format() == "channels_first" else -1
        x = np.expand_dims(x, axis)
    return x


def check_bool(value, name, where):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{where}: `{name}` must be True or False. Received: {name}={value!r}")
    return bool(value)
