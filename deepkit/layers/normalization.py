"""Local response normalization (Krizhevsky, Sutskever & Hinton 2012, section 3.3)."""

import keras
from keras import ops

from deepkit.spec.registry import register_layer

__all__ = ["LocalResponseNormalization"]


@register_layer(name="LRN")
class LocalResponseNormalization(keras.layers.Layer):
    """Cross-channel local response normalization, as in AlexNet.

    Each activation is divided by a power of the summed squares of its neighbours across channels::

        b[c] = a[c] / (k + alpha * sum(a[j] ** 2 for j in window(c))) ** beta

    where ``window(c)`` holds the ``size`` channels ``c - size // 2 ... c + (size - 1) // 2`` that exist
    (the sum is not divided by ``size``). The paper uses ``size=5, alpha=1e-4, beta=0.75, k=2``, the
    defaults here. This is the convention of the paper and of ``tf.nn.local_response_normalization``
    (``depth_radius = size // 2``, ``bias = k``); PyTorch's ``nn.LocalResponseNorm`` divides ``alpha``
    by ``size``, so its ``alpha`` is ``size`` times the one here. No trainable parameters.

    Args:
        size: number of channels in the window (``n`` in the paper), a positive integer.
        alpha: scale of the sum of squares (paper convention, see above).
        beta: exponent.
        k: additive constant (``bias`` in TensorFlow).
        axis: the channel axis of the input (default -1, channels last).
        **kwargs: base layer arguments (``name``, ``dtype``...).

    Returns:
        A Keras layer; its output has the shape of its input.

    Raises:
        ValueError: ``size`` is not a positive integer, or ``k``/``beta`` are negative.

    Example:
        >>> import keras, numpy as np
        >>> lrn = LocalResponseNormalization(size=3, alpha=1.0, beta=1.0, k=1.0)
        >>> x = np.array([[1.0, 1.0, 1.0]], "float32")
        >>> [round(float(v), 4) for v in keras.ops.convert_to_numpy(lrn(x))[0]]  # 1 / (1 + 2), 1 / (1 + 3), 1 / (1 + 2)
        [0.3333, 0.25, 0.3333]
    """

    def __init__(self, size=5, alpha=1e-4, beta=0.75, k=2.0, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"LocalResponseNormalization: size must be a positive integer. Received: size={size!r}")
        if k < 0 or beta < 0 or alpha < 0:
            raise ValueError("LocalResponseNormalization: alpha, beta and k must be >= 0. "
                             f"Received: alpha={alpha!r}, beta={beta!r}, k={k!r}")
        self.size = size
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.k = float(k)
        self.axis = int(axis)
        self.supports_masking = True

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(f"LocalResponseNormalization '{self.name}': axis={self.axis} is out of range for "
                             f"an input of rank {rank}. Received: input_shape={tuple(input_shape)}")
        if input_shape[self.axis] is None:
            raise ValueError(f"LocalResponseNormalization '{self.name}': the channel axis must have a known "
                             f"size. Received: input_shape={tuple(input_shape)}")
        self._channels = int(input_shape[self.axis])

    def call(self, inputs):
        rank = len(inputs.shape)
        axis = self.axis % rank
        x = inputs if axis == rank - 1 else ops.moveaxis(inputs, axis, -1)
        squares = ops.square(x)
        before = self.size // 2
        after = self.size - 1 - before
        padded = ops.pad(squares, [[0, 0]] * (rank - 1) + [[before, after]])
        channels = self._channels
        total = padded[..., 0:channels]
        for i in range(1, self.size):
            total = total + padded[..., i:i + channels]
        scale = self.k + self.alpha * total
        if self.beta == 0.75:  # the paper's value: x ** -0.75 = rsqrt(x * sqrt(x)), cheaper than pow
            out = x * ops.rsqrt(scale * ops.sqrt(scale))
        else:
            out = x / ops.power(scale, self.beta)
        return out if axis == rank - 1 else ops.moveaxis(out, -1, axis)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, alpha=self.alpha, beta=self.beta, k=self.k, axis=self.axis)
        return config
