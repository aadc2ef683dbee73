"""Training: the fast on-device fit path, device-side augmentation, streaming of large data.

``deepkit.train.fit(model, x, y, ...)`` trains any compiled ``keras.Model`` with the data kept
on the device and many steps per compiled call; ``deepkit.train.Augment`` is the random
crop-with-padding and flip augmentation it runs on the device.

Example:
    >>> from deepkit.train import Augment, fit
    >>> Augment(flip=True, pad_crop=4)
    Augment(flip=True, pad_crop=4, pad_mode='constant', seed=None, data_format='channels_last')
"""

from deepkit.train.augment import Augment
from deepkit.train.fast import fit, fit_arguments
from deepkit.train.precision import mixed_precision_scope, resolve_mixed_precision
from deepkit.train.stream import ArrayStream

__all__ = ["Augment", "ArrayStream", "fit", "fit_arguments", "mixed_precision_scope", "resolve_mixed_precision"]
