"""Adaptive average pooling for the Keras releases without an AdaptiveAveragePooling2D layer (3.10).

Keras added ``AdaptiveAveragePooling2D`` after 3.10, deepkit's lowest supported Keras. Specs (torchvision's
AlexNet among them) name ``AdaptiveAveragePooling2D``; where Keras has the layer that name is Keras' own,
and where it does not, it is :class:`AdaptiveAveragePooling2D` from this module, which computes the same
numbers (the bins of PyTorch's ``nn.AdaptiveAvgPool2d``). Either way the class is serializable, so a
``.keras`` file saved with an older Keras loads on a newer one.

Example:
    >>> import numpy as np
    >>> from deepkit.layers.pooling import AdaptiveAveragePooling2D
    >>> tuple(AdaptiveAveragePooling2D(2)(np.ones((1, 5, 7, 3), "float32")).shape)
    (1, 2, 2, 3)
"""

import keras
import numpy as np
from keras import ops

from deepkit.spec.registry import register_layer

__all__ = ["adaptive_bins", "AdaptiveAveragePooling2D"]

#: True where Keras itself has ``keras.layers.AdaptiveAveragePooling2D`` (Keras 3.11 and later); specs then
#: build Keras' layer and this module's class is used only when named directly.
KERAS_HAS_ADAPTIVE_POOLING = hasattr(keras.layers, "AdaptiveAveragePooling2D")


def adaptive_bins(size, output_size):
    """Averaging matrix of one axis, one row per output position.

    Row ``i`` averages the input positions from ``floor(i*n/m)`` to ``ceil((i+1)*n/m) - 1``.
    The bins are PyTorch's ``nn.AdaptiveAvgPool2d`` (and Keras') bins: they cover the whole axis, overlap
    when ``size`` is not a multiple of ``output_size``, and repeat positions when ``output_size > size``.

    Args:
        size: input length ``n`` along the axis, a positive integer.
        output_size: output length ``m``, a positive integer.

    Returns:
        A float64 numpy array of shape ``(output_size, size)`` whose rows sum to 1.

    Example:
        >>> (3 * adaptive_bins(5, 2)).round(6).tolist()  # bins [0, 3) and [2, 5), each a mean of 3
        [[1.0, 1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0, 1.0]]
    """
    matrix = np.zeros((output_size, size))
    for i in range(output_size):
        start = (i * size) // output_size
        end = -(-((i + 1) * size) // output_size)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


class AdaptiveAveragePooling2D(keras.layers.Layer):
    """Average pooling to a fixed output size, whatever the input size (PyTorch's ``AdaptiveAvgPool2d``).

    Output cell ``(i, j)`` is the mean of input rows ``floor(i*H/h) ... ceil((i+1)*H/h)-1`` and columns
    ``floor(j*W/w) ... ceil((j+1)*W/w)-1``, computed as two small averaging matrix products. Same arguments,
    configuration and results as ``keras.layers.AdaptiveAveragePooling2D`` of newer Keras releases. The
    input height and width must be known when the layer is built. No parameters.

    Args:
        output_size: an integer or a ``(height, width)`` pair of positive integers.
        data_format: ``"channels_last"`` or ``"channels_first"``; defaults to
            ``keras.config.image_data_format()``.
        **kwargs: base layer arguments (``name``, ``dtype``...).

    Returns:
        A Keras layer mapping ``(N, H, W, C)`` to ``(N, h, w, C)`` (channels last).

    Raises:
        ValueError: ``output_size`` is not a positive integer or a pair of them, ``data_format`` is not one
            of the two formats, or the input is not 4-D with known height and width.

    Example:
        >>> import keras, numpy as np
        >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> y = AdaptiveAveragePooling2D(output_size=2)(x)
        >>> keras.ops.convert_to_numpy(y)[0, :, :, 0].tolist()  # means of the four 2x2 blocks
        [[2.5, 4.5], [10.5, 12.5]]
    """

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        pair = (output_size, output_size) if isinstance(output_size, int) else output_size
        if (not isinstance(pair, (tuple, list)) or len(pair) != 2
                or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in pair)):
            raise ValueError("AdaptiveAveragePooling2D: output_size must be a positive integer or a (height, width) "
                             f"pair of them. Received: output_size={output_size!r}")
        data_format = data_format or keras.config.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError("AdaptiveAveragePooling2D: data_format must be 'channels_last' or 'channels_first'. "
                             f"Received: data_format={data_format!r}")
        self.output_size = tuple(pair)
        self.data_format = data_format

    def _spatial(self, input_shape):
        return (input_shape[1], input_shape[2]) if self.data_format == "channels_last" else \
            (input_shape[2], input_shape[3])

    def build(self, input_shape):
        if len(input_shape) != 4 or any(n is None for n in self._spatial(input_shape)):
            raise ValueError(f"AdaptiveAveragePooling2D '{self.name}' needs a 4-D input with known height and width "
                             f"({self.data_format}). Received: input_shape={tuple(input_shape)}")
        height, width = (int(n) for n in self._spatial(input_shape))
        self._rows = adaptive_bins(height, self.output_size[0])
        self._cols = adaptive_bins(width, self.output_size[1])

    def call(self, inputs):
        rows = ops.convert_to_tensor(self._rows, dtype=inputs.dtype)
        cols = ops.convert_to_tensor(self._cols, dtype=inputs.dtype)
        if self.data_format == "channels_last":
            x = ops.einsum("ih,bhwc->biwc", rows, inputs)
            return ops.einsum("jw,biwc->bijc", cols, x)
        x = ops.einsum("ih,bchw->bciw", rows, inputs)
        return ops.einsum("jw,bciw->bcij", cols, x)

    def compute_output_shape(self, input_shape):
        if self.data_format == "channels_last":
            return (input_shape[0], *self.output_size, input_shape[3])
        return (input_shape[0], input_shape[1], *self.output_size)

    def get_config(self):
        config = super().get_config()
        config.update(output_size=self.output_size, data_format=self.data_format)
        return config

    def compute_macs(self, input_shape, output_shape):
        """Multiply-adds for :func:`deepkit.count_macs`: none, as for every pooling layer.

        Args:
            input_shape: the input shape without the batch dimension.
            output_shape: the output shape without the batch dimension.

        Returns:
            0.

        Example:
            >>> AdaptiveAveragePooling2D(6).compute_macs((13, 13, 256), (6, 6, 256))
            0
        """
        return 0


if KERAS_HAS_ADAPTIVE_POOLING:
    # Specs name Keras' own layer; this class stays loadable from .keras files saved with an older Keras.
    keras.saving.register_keras_serializable(package="deepkit", name="AdaptiveAveragePooling2D")(
        AdaptiveAveragePooling2D)
else:
    register_layer(AdaptiveAveragePooling2D)
