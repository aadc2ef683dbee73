"""The fast fit path's compiled loops on the tensorflow backend.

One ``tf.function`` (per batch size under XLA) holds a ``tf.while_loop`` over Keras' own
``model.train_step(data)`` (the step ``keras.Model.fit`` wraps on tensorflow), with the batch
gathered from device-resident tensors and augmented on the device inside the loop. The loop
bounds are tensors, so one traced program serves every chunk of steps of every epoch. With
``jit_compile=True`` the whole loop is one XLA program.
"""

import tensorflow as tf
from keras import tree

from deepkit.backend import memory
from deepkit.backend.keras_internals import distribute_strategy
from deepkit.backend.loops import FastPathUnsupported, pack_step_data, tracing_failed


class _LogsChanged(Exception):
    """Internal: a step's logs have another structure than the loop carried; retrace."""

    def __init__(self, spec):
        super().__init__("logs structure changed")
        self.spec = spec


def _as_tensor(value):
    try:
        return tf.convert_to_tensor(value)
    except (TypeError, ValueError) as e:
        raise FastPathUnsupported(
            "the train/test step returns a log value that is not a tensor or number "
            f"(Received: {value!r}); the compiled loop can only carry tensors"
        ) from e


def _spec_of(logs):
    def one(t):
        if not t.shape.is_fully_defined():
            raise FastPathUnsupported(
                "the train/test step returns a log whose shape depends on the batch "
                f"(Received: shape {t.shape}); the compiled loop carries fixed shapes only"
            )
        return tf.TensorSpec(t.shape, t.dtype)

    return tree.map_structure(one, logs)


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
        ...     from deepkit.backend.keras_internals import symbolic_build
        ...     m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        ...     m.compile(optimizer="sgd", loss="mse")
        ...     symbolic_build(m, (np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32"), None))
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
        self._logs_spec = {}  # ("train"/"test", batch or None) -> TensorSpecs of the step's logs

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
            host, _ = memory.host_available()
            return None if host is None else int(0.5 * host)
        return None

    def sync(self):
        """Nothing to do: tensorflow updates the model variables in place."""

    def finish(self):
        """Nothing to do: tensorflow updates the model variables in place."""

    def _batch(self, data, perm, offset, i, batch):
        b0 = offset + i * batch
        idx = b0 + tf.range(batch)  # static batch dimension when `batch` is a Python int
        if perm is not None:
            idx = tf.gather(perm, idx)
        return tree.map_structure(lambda a: None if a is None else tf.gather(a, idx), data)

    def _loop(self, kind, step, data, perm, offset, start, stop, batch, augment):
        model = self.model
        spec = self._logs_spec.get(kind)
        if spec is None:  # Keras' own steps return model.metrics' results; a custom one may not
            spec = _spec_of(tree.map_structure(_as_tensor, model.get_metrics_result()))
        logs0 = tree.map_structure(lambda s: tf.zeros(s.shape, s.dtype), spec)

        def cond(i, logs):
            return i < stop

        def body(i, logs):
            x, y, sw = self._batch(data, perm, offset, i, batch)
            if augment is not None:
                x = augment(x)
            new = tree.map_structure(_as_tensor, step(pack_step_data(x, y, sw)))
            new_spec = _spec_of(new)
            try:
                tree.assert_same_structure(new_spec, spec)
                same = all(a.shape == b.shape for a, b in
                           zip(tree.flatten(new_spec), tree.flatten(spec)))
            except (ValueError, TypeError):
                same = False
            if not same:
                raise _LogsChanged(new_spec)
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
                return self._loop(("train", batch), model.train_step, data, perm, offset, start, stop,
                                  batch if batch is not None else batch_t, self.augment)
        else:

            def run(data, offset, start, stop, batch_t):
                return self._loop(("test", batch), model.test_step, data, None, offset, start, stop,
                                  batch if batch is not None else batch_t, None)

        return tf.function(run, jit_compile=self.jit_compile, autograph=False,
                           reduce_retracing=True)

    def _key(self, batch):
        return int(batch) if self.jit_compile else None

    def _traced(self, fns, key, train, args):
        """The tf.function for ``key``, traced for ``args``: a step whose logs differ from
        ``model.metrics`` is retraced once with the structure it returned."""
        if key not in fns:
            fns[key] = self._make(train, key[0] if train else key)
        kind = "train" if train else "test"
        batch = key[0] if train else key
        for _ in range(2):
            try:
                with tf.device(self.device):
                    fns[key].get_concrete_function(*args)
                return fns[key]
            except _LogsChanged as e:
                self._logs_spec[(kind, batch)] = e.spec
                fns[key] = self._make(train, batch)  # traced again with the step's structure
        raise FastPathUnsupported(f"the {kind} step's logs change structure between steps")

    @staticmethod
    def _i32(v):
        return tf.constant(int(v), tf.int32)

    def _train_args(self, data, perm, offset, start, stop, batch):
        i32 = self._i32
        return (data, perm, i32(offset), i32(start), i32(stop), i32(batch))

    def prepare(self, data, shuffle, batches, val=None, val_batches=()):
        """Trace the programs a fit will run, before any callback, so that a step the loop
        cannot carry raises :class:`FastPathUnsupported` while a fallback is still clean."""
        perm = None
        if shuffle:
            n = int(tree.flatten(data)[0].shape[0])
            with tf.device(self.device):
                perm = tf.range(n, dtype=tf.int32)
        try:
            for b in batches:
                key = (self._key(b), perm is not None)
                self._traced(self._train_fns, key, True,
                             self._train_args(data, perm, 0, 0, 1, b))
            for b in val_batches:
                self._traced(self._test_fns, self._key(b), False,
                             (val, self._i32(0), self._i32(0), self._i32(1), self._i32(b)))
        except FastPathUnsupported:
            raise
        except Exception as e:  # noqa: BLE001 - whatever tracing the user's step raised
            raise tracing_failed(e) from e

    def train(self, data, perm, offset, start, stop, batch):
        """Run training steps ``start .. stop - 1`` (see ``loops.Loops``); returns the last logs."""
        key = (self._key(batch), perm is not None)
        args = self._train_args(data, perm, offset, start, stop, batch)
        fn = self._traced(self._train_fns, key, True, args) if key not in self._train_fns \
            else self._train_fns[key]
        with tf.device(self.device):
            return fn(*args)

    def test(self, data, offset, start, stop, batch):
        """Run evaluation steps ``start .. stop - 1`` in stored order; returns the last logs."""
        key = self._key(batch)
        i32 = self._i32
        args = (data, i32(offset), i32(start), i32(stop), i32(batch))
        fn = self._traced(self._test_fns, key, False, args) if key not in self._test_fns \
            else self._test_fns[key]
        with tf.device(self.device):
            return fn(*args)


def fit_loop_unsupported(model):
    """Why the compiled tensorflow loop cannot train ``model`` ("" when it can).

    Args:
        model: a compiled ``keras.Model``.

    Returns:
        A sentence, or "".

    Example:
        >>> import keras
        >>> fit_loop_unsupported(keras.Sequential([keras.layers.Dense(1)]))
        ''
    """
    if distribute_strategy(model):
        return "the model was built under a tf.distribute strategy"
    return ""


def make_fit_loop(model, augment=None, jit_compile=None, unroll=1, in_graph_loop=None):
    """The tensorflow loop for ``model`` (see :func:`deepkit.backend.fit_loop`); jax's options are ignored.

    Args:
        model: a compiled, built ``keras.Model``.
        augment: a :class:`deepkit.train.Augment` or None.
        jit_compile: XLA for the loop (None: ``model.jit_compile``).
        unroll: unused (jax only).
        in_graph_loop: unused (jax only).

    Returns:
        A :class:`TensorFlowLoops`.

    Example:
        >>> callable(make_fit_loop)
        True
    """
    del unroll, in_graph_loop
    return TensorFlowLoops(model, augment=augment, jit_compile=jit_compile)
