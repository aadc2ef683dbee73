"""The fast path's shuffling: a new order every epoch, the same orders after a resume.

The orders are read from the model itself: :class:`Trace` writes the sample ids of every training
batch it sees into a variable, so a test sees exactly which samples each step trained on.
"""

import numpy as np
import pytest

import keras

from deepkit.train import fit
from deepkit.train.checkpoint import Checkpoint

pytestmark = pytest.mark.backends(
    "jax", "tensorflow",
    reason="compiled loops exist for jax and tensorflow; other backends fall back to Keras fit",
)

N, BATCH, EPOCHS = 24, 4, 3


class Trace(keras.layers.Layer):
    """Identity on ``x``; in training, writes ``x[:, 0]`` (the sample ids) into row ``step`` of ``rows``."""

    def __init__(self, steps, **kwargs):
        super().__init__(**kwargs)
        self.steps = steps

    def build(self, input_shape):
        self.rows = self.add_weight(shape=(self.steps, BATCH), initializer="zeros", trainable=False,
                                    name="rows")
        self.step = self.add_weight(shape=(), initializer="zeros", trainable=False, name="step")

    def call(self, x, training=False):
        if training:
            at = keras.ops.cast(self.step.value, "int32")
            self.rows.assign(keras.ops.slice_update(self.rows.value, (at, 0), x[None, :, 0]))
            self.step.assign(self.step.value + 1.0)
        return x


def _model(steps=N // BATCH * EPOCHS):
    keras.utils.set_random_seed(1)
    inp = keras.Input((2,))
    trace = Trace(steps)
    out = keras.layers.Dense(2)(trace(inp))
    m = keras.Model(inp, out)
    m.compile(optimizer=keras.optimizers.SGD(0.1),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return m, trace


def _data():
    ids = np.arange(N, dtype="float32")
    x = np.stack([ids, np.cos(ids)], axis=1).astype("float32")
    return x, (np.arange(N) % 2).astype("int32")


def _orders(trace, epochs=EPOCHS):
    rows = keras.ops.convert_to_numpy(trace.rows).astype(int)
    return rows.reshape(epochs, N)


@pytest.mark.parametrize("seed", [None, 5])
def test_a_new_order_every_epoch(seed):
    """Plant: the permutation drawn once before the epoch loop (issue 27) fails the 'differ' line."""
    x, y = _data()
    m, trace = _model()
    h = fit(m, x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, seed=seed)
    assert h.fast["path"] == "device"
    orders = _orders(trace)
    for order in orders:  # every epoch sees every sample once
        assert sorted(order) == list(range(N))
    assert len({tuple(o) for o in orders}) == EPOCHS, orders  # ... in a new order each time
    assert not any(np.array_equal(o, np.arange(N)) for o in orders)


def test_shuffle_false_keeps_the_stored_order():
    x, y = _data()
    m, trace = _model()
    fit(m, x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, shuffle=False)
    assert (_orders(trace) == np.arange(N)).all()


def test_the_order_depends_on_the_seed():
    x, y = _data()
    orders = []
    for seed in (5, 5, 6):
        m, trace = _model()
        fit(m, x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, seed=seed)
        orders.append(_orders(trace))
    np.testing.assert_array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[0], orders[2])


@pytest.mark.parametrize("seed", [None, 5])
def test_resumed_run_trains_on_the_orders_of_an_uninterrupted_one(tmp_path, seed):
    """Issue 27 item 7 in one process (the SIGKILL version: tests/train/test_checkpoint.py).

    Plant: the shuffle stream started afresh on resume (the SeedGenerator of before) fails it."""
    x, y = _data()
    keras.utils.set_random_seed(0)
    m, trace = _model(steps=4 * N // BATCH)
    fit(m, x, y, batch_size=BATCH, epochs=4, verbose=0, seed=seed)
    whole = keras.ops.convert_to_numpy(trace.rows).astype(int).reshape(4, N)

    class Stop(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt("killed")

    keras.utils.set_random_seed(0)
    m, trace = _model(steps=4 * N // BATCH)
    with pytest.raises(KeyboardInterrupt):
        fit(m, x, y, batch_size=BATCH, epochs=4, verbose=0, seed=seed,
            callbacks=[Checkpoint(tmp_path), Stop()])
    keras.utils.set_random_seed(0)  # a new process runs the same script again
    m, trace = _model(steps=4 * N // BATCH)
    fit(m, x, y, batch_size=BATCH, epochs=4, verbose=0, seed=seed, callbacks=[Checkpoint(tmp_path)])
    resumed = keras.ops.convert_to_numpy(trace.rows).astype(int).reshape(4, N)
    np.testing.assert_array_equal(resumed, whole)
