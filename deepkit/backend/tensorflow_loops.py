"""The fast fit path's compiled loops on the tensorflow backend.

One ``tf.function`` (per batch size under XLA) holds a ``tf.while_loop`` over Keras' own
``model.train_step(data)`` (the step ``keras.Model.fit`` wraps on tensorflow), with the batch
gathered from device-resident tensors and augmented on the device inside the loop. The loop
bounds are tensors, so one traced program serves every chunk of steps of every epoch. With
``jit_compile=True`` the whole loop is one XLA program.
"""

import tensorflow as tf
from keras import tree

from deepkit.backend.loops import FastPathUnsupported, host_available_bytes


def _device_name():
    gpus = tf.config.list_logical_devices("GPU")
    return gpus[0].name if gpus else "/CPU:0"


class TensorFlowLoops:
    """Compiled multi-step train/test loops for one model on tensorflow (see ``loops.Loops``).

    Args:
        model: a compiled, built ``keras.Model``.
        augment: a :class:`deepkit.train.Augment` or ``None``.
        jit_compile: XLA-compile the whole loop; ``None`` follows ``model.jit_compile`` (Keras
            turns it on with a GPU and off on CPU-only machines).

    Example:
        >>> import keras
        >>> if keras.backend.backend() == "tensorflow":
        ...     import numpy as np
        ...     m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        ...     m.compile(optimizer="sgd", loss="mse")
        ...     m._symbolic_build(data_batch=(np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32")))
        ...     loops = TensorFlowLoops(m)
        ...     data = loops.put((np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), None))
        ...     print(sorted(loops.train(data, None, 0, 0, 2, 4)))
        ... else:
        ...     print(['loss'])
        ['loss']
    """

    def __init__(self, model, augment=None, jit_compile=None):
        self.model = model
        self.augment = augment
        if jit_compile is None:
            jit_compile = bool(model.jit_compile)
        self.jit_compile = bool(jit_compile)
        self.device = _device_name()
        self._train_fns = {}
        self._test_fns = {}

    def put(self, data):
        """Copy a nested structure of arrays to the default device (``None`` leaves kept)."""

        def one(a):
            if a is None:
                return None
            with tf.device(self.device):
                return tf.identity(tf.convert_to_tensor(a))

        return tree.map_structure(one, data)

    def memory_budget(self):
        """Bytes the data may use: half of free host memory on CPU, ``None`` (unknown) on GPU."""
        if self.device.upper().endswith("CPU:0"):
            host = host_available_bytes()
            return None if host is None else int(0.5 * host)
        return None

    def sync(self):
        """Nothing to do: tensorflow updates the model variables in place."""

    def _batch(self, data, perm, offset, i, batch):
        b0 = offset + i * batch
        idx = b0 + tf.range(batch)  # static batch dimension when `batch` is a Python int
        if perm is not None:
            idx = tf.gather(perm, idx)
        return tree.map_structure(lambda a: None if a is None else tf.gather(a, idx), data)

    def _loop(self, step, data, perm, offset, start, stop, batch, augment):
        model = self.model
        logs0 = tree.map_structure(tf.zeros_like, model.get_metrics_result())

        def cond(i, logs):
            return i < stop

        def body(i, logs):
            x, y, sw = self._batch(data, perm, offset, i, batch)
            if augment is not None:
                x = augment(x)
            new = step((x, y, sw))
            try:
                tree.assert_same_structure(new, logs0)
            except (ValueError, TypeError) as e:
                raise FastPathUnsupported(
                    "the model's train/test step returns logs that differ from "
                    f"model.metrics ({sorted(logs0)}); Received: {new!r}"
                ) from e
            new = tree.map_structure(lambda n, z: tf.cast(n, z.dtype), new, logs0)
            return i + 1, new

        _, logs = tf.while_loop(cond, body, [tf.cast(start, tf.int32), logs0])
        return logs

    def _make(self, train, batch):
        """One tf.function. ``batch=None``: the batch size is a tensor argument, so one trace
        serves the full batches and the last partial one (without XLA, where dynamic shapes are
        free); with XLA each batch size gets its own static-shape program."""
        model = self.model

        if train:

            def run(data, perm, offset, start, stop, batch_t):
                return self._loop(model.train_step, data, perm, offset, start, stop,
                                  batch if batch is not None else batch_t, self.augment)
        else:

            def run(data, offset, start, stop, batch_t):
                return self._loop(model.test_step, data, None, offset, start, stop,
                                  batch if batch is not None else batch_t, None)

        return tf.function(run, jit_compile=self.jit_compile, autograph=False,
                           reduce_retracing=True)

    def _key(self, batch):
        return int(batch) if self.jit_compile else None

    def train(self, data, perm, offset, start, stop, batch):
        """Run training steps ``start .. stop - 1`` (see ``loops.Loops``); returns the last logs."""
        key = (self._key(batch), perm is not None)
        if key not in self._train_fns:
            self._train_fns[key] = self._make(True, key[0])
        i32 = lambda v: tf.constant(int(v), tf.int32)  # noqa: E731
        with tf.device(self.device):
            return self._train_fns[key](data, perm, i32(offset), i32(start), i32(stop), i32(batch))

    def test(self, data, offset, start, stop, batch):
        """Run evaluation steps ``start .. stop - 1`` in stored order; returns the last logs."""
        key = self._key(batch)
        if key not in self._test_fns:
            self._test_fns[key] = self._make(False, key)
        i32 = lambda v: tf.constant(int(v), tf.int32)  # noqa: E731
        with tf.device(self.device):
            return self._test_fns[key](data, i32(offset), i32(start), i32(stop), i32(batch))
