"""Streaming path for array data that does not fit on the device.

A :class:`ArrayStream` is a ``keras.utils.PyDataset`` over in-memory (or memory-mapped) numpy
arrays: it shuffles once per epoch, slices batches, applies :class:`deepkit.train.Augment` on the
host with numpy, and Keras' ``fit`` prefetches batches with worker threads
(``workers``/``max_queue_size``), so host work overlaps the device steps. It works on every
backend (the device machines have no TensorFlow, so ``tf.data`` is not an option there).
"""

import math

import numpy as np

import keras
from keras import tree

__all__ = ["ArrayStream"]


class ArrayStream(keras.utils.PyDataset):
    """Batches of ``(x, y[, sample_weight])`` from numpy arrays, shuffled every epoch.

    Args:
        x: numpy array or nested structure of arrays (first axis: samples).
        y: same, or ``None``.
        sample_weight: 1-D numpy array or ``None``.
        batch_size: int, samples per batch (the last batch may be smaller).
        shuffle: bool, new random order every epoch.
        augment: a :class:`deepkit.train.Augment` (applied with ``Augment.numpy``) or ``None``.
        seed: int or ``None``, seed of the shuffling and augmentation.
        workers: threads preparing batches ahead of the training loop.
        max_queue_size: batches prepared ahead.

    Returns:
        A ``PyDataset`` to pass to ``keras.Model.fit``.

    Example:
        >>> import numpy as np
        >>> ds = ArrayStream(np.zeros((10, 2)), np.arange(10), batch_size=4, shuffle=False)
        >>> len(ds), [b[0].shape[0] for b in (ds[0], ds[2])]
        (3, [4, 2])
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=True, augment=None,
                 seed=None, workers=2, max_queue_size=8):
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=max_queue_size)
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.n = len(tree.flatten(x)[0])
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.augment = augment
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(self.n) if shuffle else None
        self._epoch = 0

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def __getitem__(self, index):
        lo = index * self.batch_size
        hi = min(lo + self.batch_size, self.n)
        idx = slice(lo, hi) if self._order is None else np.sort(self._order[lo:hi])
        take = lambda a: None if a is None else np.asarray(a[idx])  # noqa: E731
        x = tree.map_structure(take, self.x)
        if self.augment is not None and self.augment.active and not isinstance(x, (dict, list, tuple)):
            rng = np.random.default_rng([self._epoch, index, int(self._rng.bit_generator.seed_seq.entropy % (2**32))])
            x = self.augment.numpy(x, rng)
        y = tree.map_structure(take, self.y) if self.y is not None else None
        if self.sample_weight is not None:
            return x, y, take(self.sample_weight)
        return (x,) if y is None else (x, y)

    def on_epoch_end(self):
        self._epoch += 1
        if self.shuffle:
            self._order = self._rng.permutation(self.n)
