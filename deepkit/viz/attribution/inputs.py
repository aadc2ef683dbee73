"""The input checks every attribution method shares, in one place.

:func:`prepare` binds the model's :class:`~deepkit.viz.engine.Engine`, checks the images
against the model's input, the batch size, whether the method needs images and where their
channel axis is (``channels_last`` or ``channels_first``, read from the model's first layer
that has a ``data_format``), and checks integer options with :func:`positive_int`.

Example:
    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((1, 6, 6)),
    ...                           keras.layers.Conv2D(2, 3, data_format="channels_first"),
    ...                           keras.layers.Flatten(), keras.layers.Dense(2)])
    >>> prepare(model, np.zeros((3, 1, 6, 6)), 8, "example", image=True).channel_axis
    1
"""

import dataclasses

import numpy as np

from deepkit.viz import graph
from deepkit.viz.engine import Engine, check_batch_size, engine

__all__ = ["Inputs", "prepare", "positive_int", "channel_axis", "to_channels_last", "from_channels_last"]


def channel_axis(model):
    """The channel axis of a model's image input: ``-1`` (channels last) or ``1``.

    Read from the first layer (depth first, nested models included) that has a
    ``data_format`` attribute (convolutions, pooling, upsampling...); ``-1`` when none has.

    Args:
        model: A Keras model.

    Returns:
        ``-1`` or ``1``.

    Example:
        >>> import keras
        >>> channel_axis(keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3)]))
        -1
    """
    for _, layer, _ in graph.walk(model):
        fmt = getattr(layer, "data_format", None)
        if fmt in ("channels_first", "channels_last"):
            return 1 if fmt == "channels_first" else -1
    return -1


def to_channels_last(a, axis):
    """Move the channel axis ``axis`` of a ``(N, ...)`` array to the end (a no-op for ``-1``).

    Args:
        a: Array of rank 4.
        axis: ``-1`` or ``1``.

    Returns:
        The array, channels last.

    Example:
        >>> to_channels_last(np.zeros((2, 3, 5, 7)), 1).shape
        (2, 5, 7, 3)
    """
    return a if axis == -1 or a.ndim < 4 else np.moveaxis(a, axis, -1)


def from_channels_last(a, axis):
    """The inverse of :func:`to_channels_last`.

    Args:
        a: Array of rank 4, channels last.
        axis: ``-1`` or ``1``.

    Returns:
        The array with its channels at ``axis``.

    Example:
        >>> from_channels_last(np.zeros((2, 5, 7, 3)), 1).shape
        (2, 3, 5, 7)
    """
    return a if axis == -1 or a.ndim < 4 else np.moveaxis(a, -1, axis)


def positive_int(value, name, where):
    """``value`` as an int when it is a positive integer, else a ValueError naming ``where``.

    Args:
        value: The value to check.
        name: The option's name, for the message.
        where: The calling function, for the message.

    Returns:
        int.

    Example:
        >>> positive_int(3, "steps", "integrated_gradients")
        3
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


@dataclasses.dataclass
class Inputs:
    """Checked inputs of an attribution call.

    Attributes:
        engine: The model's :class:`~deepkit.viz.engine.Engine`.
        x: float32 inputs with a batch axis, in the model's layout.
        batch_size: Checked batch size.
        channel_axis: ``-1`` (channels last) or ``1`` (channels first) for images.
        where: The calling function's name.

    Example:
        >>> import numpy as np, keras
        >>> m = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
        >>> prepare(m, np.zeros((4, 4, 1)), 2, "example").x.shape
        (1, 4, 4, 1)
    """

    engine: Engine
    x: np.ndarray
    batch_size: int
    channel_axis: int
    where: str

    @property
    def hw(self):
        """``(H, W)`` of image inputs."""
        return self.x.shape[2:4] if self.channel_axis == 1 else self.x.shape[1:3]

    def channels_last(self):
        """The inputs with channels last (``(N, H, W, C)``), whatever the model's layout."""
        return to_channels_last(self.x, self.channel_axis)


def prepare(model, images, batch_size, where, *, image=False):
    """Check an attribution call's inputs once, for every method.

    Args:
        model: A classifier (functional or Sequential ``keras.Model``, or an engine).
        images: ``(N,) + input_shape`` array (or one input without the batch axis).
        batch_size: Model evaluations per compiled call (a positive integer).
        where: The calling function's name, for messages.
        image: The method needs image inputs ``(N, H, W, C)`` (or ``(N, C, H, W)`` for a
            channels-first model).

    Returns:
        An :class:`Inputs`.

    Raises:
        ValueError: For inputs that do not fit the model, a bad batch size, or non-image
            inputs to an image method.

    Example:
        >>> import numpy as np, keras
        >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        >>> prepare(m, np.zeros((2, 4)), 8, "occlusion", image=True)
        Traceback (most recent call last):
        ...
        ValueError: occlusion: needs image inputs (batch, height, width, channels). Received: images.shape=(2, 4)
    """
    eng = engine(model)
    x = eng.images(images, where)
    batch_size = check_batch_size(batch_size, where)
    axis = channel_axis(eng.model) if x.ndim == 4 else -1
    if image and x.ndim != 4:
        raise ValueError(f"{where}: needs image inputs (batch, height, width, channels). "
                         f"Received: images.shape={x.shape}")
    return Inputs(eng, x, batch_size, axis, where)
