"""The fast fit path's compiled loops on the jax backend.

One ``jax.jit``-ed program per (batch size, steps per call) runs ``lax.scan`` over Keras' own stateless
``model.train_step(state, data)`` (the very function ``keras.Model.fit`` jits on jax), with the
batch gathered from device-resident arrays and augmented on the device inside the loop. The trip
count is static (XLA sees a known-length loop) and the first step index is traced, so one program
serves every chunk of that length in every epoch: a fit compiles at most two training programs
(the full batches and the last partial batch) and two for validation. On CPU each step is
its own compiled call instead (see ``JaxLoops(in_graph_loop=...)``).
The model state travels as Keras' ``(trainable, non_trainable, optimizer, metrics)`` tuple and is
written back to the model with ``model.jax_state_sync()``, exactly as ``fit`` does.
"""

import jax
import jax.numpy as jnp
from keras import tree

import keras

from deepkit.backend import memory
from deepkit.backend.keras_internals import jax_state, jax_state_synced, set_jax_state, take_jax_state
from deepkit.backend.loops import FastPathUnsupported, pack_step_data, tracing_failed


def _take(data, idx):
    return tree.map_structure(lambda a: None if a is None else jnp.take(a, idx, axis=0), data)


def _slice(data, start, size):
    return tree.map_structure(
        lambda a: None if a is None else jax.lax.dynamic_slice_in_dim(a, start, size, axis=0),
        data,
    )


def _zeros_like_struct(struct):
    return tree.map_structure(lambda s: jnp.zeros(s.shape, s.dtype), struct)


def _cast_like(logs, like):
    """``logs`` with the dtypes of ``like`` (Python floats in custom logs are weakly typed)."""
    return tree.map_structure(lambda v, s: jnp.asarray(v, s.dtype), logs, like)


class JaxLoops:
    """Compiled multi-step train/test loops for one model on jax (see ``deepkit.backend.loops``).

    Args:
        model: a compiled, built ``keras.Model``.
        augment: a :class:`deepkit.train.Augment` or ``None``.
        unroll: steps per iteration of the compiled loop (``lax.scan(unroll=...)``): larger values
            give XLA longer straight-line programs (fewer loop iterations, more fusion across
            steps) at the price of compile time.
        in_graph_loop: run the steps of a call inside one compiled ``lax.scan`` (default on GPU
            and TPU) or as one compiled step per call from Python, with the data still on the
            device (default on CPU: XLA:CPU runs convolutions inside loop bodies several times
            slower than at top level, https://github.com/jax-ml/jax/issues/12868 ; measured 7x
            here for the MNIST convnet).

    Example:
        >>> import keras
        >>> if keras.backend.backend() == "jax":
        ...     import numpy as np
        ...     from deepkit.backend.keras_internals import symbolic_build
        ...     m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        ...     m.compile(optimizer="sgd", loss="mse")
        ...     symbolic_build(m, (np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32"), None))
        ...     loops = JaxLoops(m)
        ...     data = loops.put((np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), None))
        ...     logs = loops.train(data, None, 0, 0, 2, 4)
        ...     loops.sync()
        ...     print(sorted(logs))
        ... else:
        ...     print(['loss'])
        ['loss']
    """

    def __init__(self, model, augment=None, unroll=1, in_graph_loop=None):
        self.model = model
        self.augment = augment
        self.unroll = int(unroll)
        if in_graph_loop is None:
            in_graph_loop = jax.devices()[0].platform != "cpu"
        self.in_graph_loop = bool(in_graph_loop)
        self._train_fns = {}
        self._test_fns = {}
        self._logs_struct = {}

    def _initial_logs(self, kind, fn, *args):
        """Zeros shaped like a step's logs. The structure is traced once per fit and cached:
        ``jax.eval_shape`` traces the whole step, which costs as much as tracing it for the loop."""
        if kind not in self._logs_struct:
            self._logs_struct[kind] = jax.eval_shape(fn, *args)
        return _zeros_like_struct(self._logs_struct[kind])

    # ----------------------------------------------------------------- data
    def put(self, data):
        """Copy a nested structure of arrays to the default device (``None`` leaves kept)."""
        return tree.map_structure(lambda a: None if a is None else jax.device_put(a), data)

    def memory_budget(self):
        """Bytes of device memory the data may use: half of what the accelerator (else the host) has free."""
        free, _ = memory.available()
        return None if free is None else int(0.5 * free)

    # ---------------------------------------------------------------- state
    def _state(self, train):
        m = self.model
        held = jax_state(m)
        if held and not jax_state_synced(m) and (held.get("optimizer_variables") is not None) != train:
            m.jax_state_sync()  # switching between training and evaluation state
        if jax_state_synced(m):  # nothing held, or the variables are up to date: take the state from them
            return take_jax_state(m, optimizer_variables=train, purge=True)
        s = jax_state(m)
        keys = ("trainable_variables", "non_trainable_variables")
        keys += ("optimizer_variables", "metrics_variables") if train else ("metrics_variables",)
        return tuple(list(s[k]) for k in keys)  # plain lists: Keras wraps them in TrackedList

    def _store(self, state, train):
        keys = ("trainable_variables", "non_trainable_variables")
        keys += ("optimizer_variables", "metrics_variables") if train else ("metrics_variables",)
        # Held as Keras' jax trainer holds it, so callbacks can force a sync (model.jax_state_sync()), as in fit.
        set_jax_state(self.model, dict(zip(keys, state)))

    def sync(self):
        """Write the device state back into the model variables (``model.jax_state_sync()``)."""
        self.model.jax_state_sync()

    def finish(self):
        """Write the device state back and release it: the model's variables own their values again."""
        try:
            self.sync()
        finally:
            set_jax_state(self.model, None)

    # ---------------------------------------------------------------- loops
    def _batch(self, data, perm, offset, i, batch):
        b0 = offset + i * batch
        if perm is None:
            return _slice(data, b0, batch)
        idx = jax.lax.dynamic_slice_in_dim(perm, b0, batch)
        return _take(data, idx)

    def _augment(self, x, seed):
        if self.augment is None:
            return x, seed
        state_var = self.augment.seed_generator.state
        with keras.StatelessScope(state_mapping=[(state_var, seed)]) as scope:
            x = self.augment(x)
        new_seed = scope.get_current_value(state_var)
        return x, (seed if new_seed is None else new_seed)

    def _make_train(self, batch, length):
        model = self.model

        def step(state, seed, data, perm, offset, i):
            x, y, sw = self._batch(data, perm, offset, i, batch)
            x, seed = self._augment(x, seed)
            logs, state = model.train_step(state, pack_step_data(x, y, sw))
            return logs, state, seed

        if length is None:  # one compiled step per call (XLA:CPU; see `in_graph_loop`)

            def one(state, seed, data, perm, offset, i):
                logs, state, seed = step(state, seed, data, perm, offset, i)
                return state, seed, logs

            return jax.jit(one, donate_argnums=(0,))

        def run(state, seed, data, perm, offset, start):
            logs0 = self._initial_logs(
                ("train", batch), lambda s, sd, d, p: step(s, sd, d, p, offset, start)[0],
                state, seed, data, perm)

            def body(carry, j):
                st, sd, _ = carry
                logs, st, sd = step(st, sd, data, perm, offset, start + j)
                return (st, sd, _cast_like(logs, logs0)), None

            # A static trip count (lax.scan) lets XLA see the whole loop; the first step index
            # is a traced value, so one program serves every chunk of this length.
            carry, _ = jax.lax.scan(body, (state, seed, logs0), jnp.arange(length, dtype="int32"),
                                    unroll=max(1, min(self.unroll, length)))
            return carry

        return jax.jit(run, donate_argnums=(0,))

    def _make_test(self, batch, length):
        model = self.model

        def step(state, data, offset, i):
            x, y, sw = self._batch(data, None, offset, i, batch)
            return model.test_step(state, pack_step_data(x, y, sw))

        if length is None:

            def one(state, data, offset, i):
                logs, state = step(state, data, offset, i)
                return state, logs

            return jax.jit(one, donate_argnums=(0,))

        def run(state, data, offset, start):
            logs0 = self._initial_logs(
                ("test", batch), lambda s, d: step(s, d, offset, start)[0], state, data)

            def body(carry, j):
                st, _ = carry
                logs, st = step(st, data, offset, start + j)
                return (st, _cast_like(logs, logs0)), None

            carry, _ = jax.lax.scan(body, (state, logs0), jnp.arange(length, dtype="int32"))
            return carry

        return jax.jit(run, donate_argnums=(0,))

    def _probe_state(self, train):
        """The model state as the loops take it, without purging the model's variables."""
        return take_jax_state(self.model, optimizer_variables=train, purge=False)

    def prepare(self, data, shuffle, batches, val=None, val_batches=()):
        """Trace the first programs a fit will run (``jax.eval_shape``, whose trace the later
        calls reuse) before any callback, so that a step the loop cannot run raises
        :class:`FastPathUnsupported` while a fallback is still clean."""
        try:
            if batches:
                n = int(tree.flatten(data)[0].shape[0])
                perm = jnp.arange(n, dtype="int32") if shuffle else None
                # the one-step program: on CPU the one that runs (its trace is reused), on
                # GPU/TPU one extra trace (the scan traces the step again)
                key = (int(batches[0]), None, perm is not None)
                if key not in self._train_fns:
                    self._train_fns[key] = self._make_train(key[0], None)
                seed = None if self.augment is None else self.augment.seed_generator.state.value
                out = jax.eval_shape(self._train_fns[key], self._probe_state(True), seed, data,
                                     perm, 0, 0)
                self._check_logs(out[2], "train")
            if val_batches:
                key = (int(val_batches[0]), None)
                if key not in self._test_fns:
                    self._test_fns[key] = self._make_test(*key)
                out = jax.eval_shape(self._test_fns[key], self._probe_state(False), val, 0, 0)
                self._check_logs(out[1], "test")
        except FastPathUnsupported:
            raise
        except Exception as e:  # noqa: BLE001 - whatever tracing the user's step raised
            raise tracing_failed(e) from e

    @staticmethod
    def _check_logs(logs, kind):
        if not isinstance(logs, dict):
            raise FastPathUnsupported(
                f"the {kind} step returns logs of type {type(logs).__name__}, not a dict")

    def train(self, data, perm, offset, start, stop, batch):
        """Run training steps ``start .. stop - 1`` (see ``Loops``); returns the last logs."""
        length = int(stop) - int(start) if self.in_graph_loop else None
        key = (int(batch), length, perm is not None)
        if key not in self._train_fns:
            self._train_fns[key] = self._make_train(key[0], length)
        fn = self._train_fns[key]
        state = self._state(train=True)
        seed = None
        if self.augment is not None:
            seed = self.augment.seed_generator.state.value
        try:
            if length is not None:
                state, seed, logs = fn(state, seed, data, perm, offset, start)
            else:
                for i in range(int(start), int(stop)):
                    state, seed, logs = fn(state, seed, data, perm, offset, i)
        except Exception:
            self._store(state, train=True)  # give the (undonated) state back to the model
            raise
        if self.augment is not None:
            self.augment.seed_generator.state.assign(seed)
        self._store(state, train=True)
        return logs

    def test(self, data, offset, start, stop, batch):
        """Run evaluation steps ``start .. stop - 1`` in stored order; returns the last logs."""
        length = int(stop) - int(start) if self.in_graph_loop else None
        key = (int(batch), length)
        if key not in self._test_fns:
            self._test_fns[key] = self._make_test(*key)
        fn = self._test_fns[key]
        state = self._state(train=False)
        try:
            if length is not None:
                state, logs = fn(state, data, offset, start)
            else:
                for i in range(int(start), int(stop)):
                    state, logs = fn(state, data, offset, i)
        except Exception:
            self._store(state, train=False)
            raise
        self._store(state, train=False)
        return logs


def fit_loop_unsupported(model):
    """Why the compiled jax loops cannot train ``model`` ("" when they can).

    Args:
        model: a compiled ``keras.Model``.

    Returns:
        A sentence, or "".

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.layers.Dense(1)]); m.compile(loss="mse", jit_compile=False)
        >>> fit_loop_unsupported(m)
        'the model was compiled with jit_compile=False (it may not be jittable)'
    """
    if not model.jit_compile:
        return "the model was compiled with jit_compile=False (it may not be jittable)"
    return ""


def make_fit_loop(model, augment=None, jit_compile=None, unroll=1, in_graph_loop=None):
    """The jax loops for ``model`` (see :func:`deepkit.backend.fit_loop`); ``jit_compile`` is ignored.

    Args:
        model: a compiled, built ``keras.Model``.
        augment: a :class:`deepkit.train.Augment` or None.
        jit_compile: unused (always ``jax.jit``-ed).
        unroll: steps per iteration of the compiled loop.
        in_graph_loop: see :class:`JaxLoops`.

    Returns:
        A :class:`JaxLoops`.

    Example:
        >>> callable(make_fit_loop)
        True
    """
    del jit_compile
    return JaxLoops(model, augment=augment, unroll=unroll, in_graph_loop=in_graph_loop)
