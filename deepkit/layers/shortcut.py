"""The parameter-free "option A" shortcut of the CIFAR ResNets (He et al. 2015, section 4.2)."""

import keras
from keras import ops

from deepkit.spec.registry import register_layer

__all__ = ["ChannelPadShortcut"]


@register_layer
class ChannelPadShortcut(keras.layers.Layer):
    """Identity shortcut that subsamples space and zero-pads channels ("option A").

    He et al. (2015), section 4.2: "the shortcut connections are identity shortcuts in all cases
    (option A)"; where the feature map halves and the width doubles, the identity is taken at stride 2
    and the extra channels are zeros. The input ``x`` becomes ``x[:, ::s, ::s, :]`` with
    ``(filters - C) // 2`` zero channels before and the rest after, as in the common PyTorch CIFAR
    ResNet (``F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4))``). Sample positions
    ``0, s, 2s...`` match a 3x3 convolution with stride ``s`` and one pixel of symmetric padding.
    No parameters; channels last.

    Args:
        filters: number of output channels, at least the number of input channels.
        strides: spatial subsampling step (1 or 2 in the ResNets), a positive integer.
        **kwargs: base layer arguments (``name``, ``dtype``...).

    Returns:
        A Keras layer mapping ``(N, H, W, C)`` to ``(N, ceil(H/s), ceil(W/s), filters)``.

    Raises:
        ValueError: ``filters`` or ``strides`` is not a positive integer, or the input has more
            channels than ``filters``.

    Example:
        >>> import keras, numpy as np
        >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> y = ChannelPadShortcut(filters=3, strides=2)(x)
        >>> tuple(y.shape)
        (1, 2, 2, 3)
        >>> keras.ops.convert_to_numpy(y)[0, :, :, 1].tolist()  # the input sits in the middle channel
        [[0.0, 2.0], [8.0, 10.0]]
    """

    def __init__(self, filters, strides=2, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("filters", filters), ("strides", strides)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ChannelPadShortcut: {arg} must be a positive integer. Received: {arg}={value!r}")
        self.filters = filters
        self.strides = strides

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"ChannelPadShortcut '{self.name}' expects a 4-D (N, H, W, C) input. "
                             f"Received: input_shape={tuple(input_shape)}")
        channels = input_shape[-1]
        if channels is None or channels > self.filters:
            raise ValueError(f"ChannelPadShortcut '{self.name}': the input has {channels} channels, more than "
                             f"filters={self.filters} (or unknown). Received: input_shape={tuple(input_shape)}")
        self._pad_before = (self.filters - channels) // 2
        self._pad_after = self.filters - channels - self._pad_before

    def call(self, inputs):
        s = self.strides
        x = inputs[:, ::s, ::s, :] if s > 1 else inputs
        if self._pad_before or self._pad_after:
            x = ops.pad(x, [[0, 0], [0, 0], [0, 0], [self._pad_before, self._pad_after]])
        return x

    def compute_output_shape(self, input_shape):
        def sub(n):
            return None if n is None else -(-n // self.strides)

        return (input_shape[0], sub(input_shape[1]), sub(input_shape[2]), self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, strides=self.strides)
        return config
