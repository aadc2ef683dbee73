"""Layers that Keras lacks and the classic networks need, registered for use in specs.

Every layer here is registered with :func:`deepkit.spec.register_layer`, so a spec may name it
(``{"LRN": {"size": 5}}``) and ``.keras`` files that contain it load back without
``custom_objects``.

- :class:`LocalResponseNormalization` (spec name ``LRN``): AlexNet's cross-channel normalization.
- :class:`ChannelPadShortcut`: the parameter-free "option A" shortcut of the CIFAR ResNets.
- :class:`PartialConv2D`: a convolution with a fixed input/output connection table (LeNet-5's C3).
- :class:`Subsampling2D`: LeNet-5's trainable subsampling (sum pool, per-map coefficient and bias).
- :class:`ScaledTanh`: LeCun's squashing function ``1.7159 * tanh(2/3 * x)``.
- :class:`RBFOutput`: LeNet-5's Euclidean radial-basis output units with fixed centres.
- :class:`AdaptiveAveragePooling2D`: PyTorch's adaptive average pooling (torchvision's AlexNet); specs
  use it under that name only where Keras lacks ``keras.layers.AdaptiveAveragePooling2D`` (before 3.11).

Example:
    >>> import numpy as np
    >>> from deepkit.layers import LocalResponseNormalization
    >>> tuple(LocalResponseNormalization()(np.ones((1, 2, 2, 8), "float32")).shape)
    (1, 2, 2, 8)
"""

from deepkit.layers.lenet import PartialConv2D, RBFOutput, ScaledTanh, Subsampling2D
from deepkit.layers.normalization import LocalResponseNormalization
from deepkit.layers.pooling import AdaptiveAveragePooling2D
from deepkit.layers.shortcut import ChannelPadShortcut

LRN = LocalResponseNormalization

__all__ = [
    "LocalResponseNormalization", "LRN", "ChannelPadShortcut", "PartialConv2D", "Subsampling2D",
    "ScaledTanh", "RBFOutput", "AdaptiveAveragePooling2D",
]
