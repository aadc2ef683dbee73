"""Conformance: the fast path (``deepkit.train.fit``) is ``keras.Model.fit``, on the same run.

Every case trains the same tiny model on the same data (``shuffle=False``) twice, once with plain
``keras.Model.fit`` and once through the fast path, and compares the History (values and
epochs), the final weights and the order of the callback events (train/epoch/test level; the
cases with ``batches`` compare the batch-level events too: a callback overriding a batch-level
hook makes the default fast path run one step per call, so they come after every batch as in
Keras). A new callback or argument is one line in ``CASES``.
"""

import warnings

import numpy as np
import pytest

import keras

from deepkit.train import fit
from deepkit.train.checkpoint import Checkpoint

pytestmark = pytest.mark.backends(
    "jax", "tensorflow",
    reason="compiled loops exist for jax and tensorflow; other backends fall back to Keras fit",
)

N, BATCH = 40, 16  # two full batches and a partial one per epoch


def _data(n=N, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (np.abs(x[:, 0] * 2 + x[:, 1]).astype("int32") % 3).astype("int32")
    return x, y


VAL = _data(12, seed=1)
SW = np.random.default_rng(2).random(N).astype("float32") + 0.5


def _sgd():
    return keras.optimizers.SGD(0.1, momentum=0.5)


def _model(optimizer=_sgd, metrics=("accuracy",)):
    keras.utils.set_random_seed(3)
    inp = keras.Input((4,))
    h = keras.layers.Dense(8, activation="relu")(inp)
    h = keras.layers.BatchNormalization()(h)
    out = keras.layers.Dense(3)(h)
    m = keras.Model(inp, out)
    m.compile(optimizer=optimizer(),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=list(metrics))
    return m


class Events(keras.callbacks.Callback):
    """Records the callback events fit sends, in order (epoch level: no batch-level hook)."""

    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin",))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_test_begin(self, logs=None):
        self.events.append(("test_begin",))

    def on_test_end(self, logs=None):
        self.events.append(("test_end", tuple(sorted(logs or {}))))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, tuple(sorted(logs or {}))))

    def on_train_end(self, logs=None):
        self.events.append(("train_end", tuple(sorted(logs or {}))))


class BatchEvents(Events):
    """Events with the batch-level hooks too: overriding them makes the fast path run a step per call."""

    def on_train_batch_begin(self, batch, logs=None):
        self.events.append(("batch_begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch, tuple(sorted(logs or {}))))

    def on_test_batch_begin(self, batch, logs=None):
        self.events.append(("test_batch_begin", batch))

    def on_test_batch_end(self, batch, logs=None):
        self.events.append(("test_batch_end", batch, tuple(sorted(logs or {}))))


class Interrupt(keras.callbacks.Callback):
    """Raises at the start of an epoch, as a killed job would stop."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt(f"interrupted at epoch {epoch}")


def _lr_schedule():
    return keras.optimizers.SGD(
        keras.optimizers.schedules.ExponentialDecay(0.2, decay_steps=2, decay_rate=0.5))


def _nan_model():
    return _model(optimizer=lambda: keras.optimizers.SGD(1e30))


# name: dict(fit=extra fit arguments, callbacks=callable(tmp_path) -> list, model=callable,
#            resume=epoch at which a first run is interrupted (then fit again, compared),
#            data=(x, y), batches=compare batch events too (train and test batches))
CASES = {
    "shuffle_false": dict(fit=dict(validation_data=VAL)),
    "initial_epoch": dict(fit=dict(epochs=4, initial_epoch=2, validation_data=VAL)),
    "validation_freq": dict(fit=dict(epochs=4, validation_data=VAL, validation_freq=2)),
    "validation_split": dict(fit=dict(validation_split=0.25)),
    "validation_batch_size": dict(fit=dict(validation_data=VAL, validation_batch_size=5)),
    "class_weight": dict(fit=dict(class_weight={0: 1.0, 1: 3.0, 2: 0.5})),
    "sample_weight": dict(fit=dict(sample_weight=SW, validation_data=VAL + (SW[:12],))),
    "steps_per_epoch": dict(fit=dict(epochs=4, steps_per_epoch=2)),  # runs out mid-epoch 1
    "steps_per_epoch_no_batch_size": dict(fit=dict(epochs=2, steps_per_epoch=3, batch_size=None)),
    "steps_per_epoch_whole_passes": dict(fit=dict(epochs=2, steps_per_epoch=3)),
    # the training batch is ceil(40 / 3) = 14; validation keeps Keras' 32 (two test batches)
    "steps_per_epoch_no_batch_size_validation": dict(batches=True, data=_data(), fit=dict(
        epochs=2, steps_per_epoch=3, batch_size=None, validation_data=_data(40, seed=4))),
    "lr_schedule": dict(model=lambda: _model(optimizer=_lr_schedule)),
    "learning_rate_scheduler": dict(callbacks=lambda d: [keras.callbacks.LearningRateScheduler(
        lambda epoch, lr: lr * 0.5)]),
    "early_stopping_restore_best": dict(
        fit=dict(epochs=5, validation_data=VAL),
        callbacks=lambda d: [keras.callbacks.EarlyStopping(
            monitor="val_loss", min_delta=10.0, patience=1, restore_best_weights=True)]),
    "reduce_lr_on_plateau": dict(
        fit=dict(epochs=3), callbacks=lambda d: [keras.callbacks.ReduceLROnPlateau(
            monitor="loss", min_delta=10.0, patience=0, factor=0.5)]),
    "model_checkpoint_best_only": dict(
        fit=dict(epochs=3, validation_data=VAL), callbacks=lambda d: [
            keras.callbacks.ModelCheckpoint(str(d / "best.weights.h5"), monitor="val_loss",
                                            save_best_only=True, save_weights_only=True)]),
    "terminate_on_nan": dict(fit=dict(epochs=3), model=_nan_model,
                             callbacks=lambda d: [keras.callbacks.TerminateOnNaN()]),
    "backup_and_restore": dict(fit=dict(epochs=4), resume=2, callbacks=lambda d: [
        keras.callbacks.BackupAndRestore(str(d / "backup"))]),
    "deepkit_checkpoint": dict(fit=dict(epochs=4), resume=2, callbacks=lambda d: [
        Checkpoint(str(d / "ckpt"))]),
    "batch_events_one_step_per_call": dict(batches=True, fast=dict(steps_per_call=1)),
    # a callback overriding batch-level hooks: the default path runs them after every batch
    "batch_events_default": dict(batches=True, fit=dict(epochs=2, validation_data=VAL)),
    "epochs_zero": dict(fit=dict(epochs=0)),
    "default_batch_size": dict(fit=dict(batch_size=None)),  # Keras' 32: one full batch and 8
    # the optimizer's moving average is written into the weights when training ends
    "optimizer_ema": dict(model=lambda: _model(optimizer=lambda: keras.optimizers.SGD(
        0.1, momentum=0.5, use_ema=True, ema_momentum=0.5))),
}


def _run(case, tmp_path, fast):
    """One training run of a case; returns (model, history, events, files)."""
    where = tmp_path / ("fast" if fast else "keras")
    where.mkdir()
    make = case.get("model", _model)
    kwargs = dict(dict(batch_size=BATCH, epochs=2, verbose=0, shuffle=False), **case.get("fit", {}))
    x, y = case.get("data", _data())
    extra = case.get("fast", {})

    def once(callbacks):
        if fast:
            return fit(model, x, y, callbacks=callbacks, **kwargs, **extra)
        return model.fit(x, y, callbacks=callbacks, **kwargs)

    model = make()
    cb = case.get("callbacks", lambda d: [])
    if "resume" in case:
        with pytest.raises(KeyboardInterrupt):
            once(cb(where) + [Interrupt(case["resume"])])
        model = make()  # a new process would build the model again
    events = BatchEvents() if case.get("batches") else Events()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras' "ran out of data" warning, on both paths
        history = once(cb(where) + [events])
    files = sorted(p.relative_to(where).as_posix() for p in where.rglob("*") if p.is_file())
    return model, history, events.events, files


@pytest.mark.parametrize("name", sorted(CASES))
def test_fast_path_conforms_to_keras_fit(name, tmp_path):
    case = CASES[name]
    m1, h1, e1, f1 = _run(case, tmp_path, fast=False)
    m2, h2, e2, f2 = _run(case, tmp_path, fast=True)
    assert h2.fast["path"] == "device", h2.fast
    assert h2.epoch == h1.epoch
    assert sorted(h2.history) == sorted(h1.history)
    for k in h1.history:
        np.testing.assert_allclose(h2.history[k], h1.history[k], rtol=2e-5, atol=1e-6, err_msg=k)
    for a, b in zip(m2.get_weights(), m1.get_weights()):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)
    assert e2 == e1
    assert f2 == f1
    if name == "model_checkpoint_best_only":
        saved = []
        for sub in ("keras", "fast"):
            m = _model()
            m.load_weights(str(tmp_path / sub / "best.weights.h5"))
            saved.append(m.get_weights())
        for a, b in zip(*saved):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


@pytest.mark.backend_independent
def test_cases_cover_the_listed_arguments_and_callbacks():
    # the acceptance list of the conformance suite; a missing entry fails here
    wanted = {"initial_epoch", "backup_and_restore", "deepkit_checkpoint",
              "early_stopping_restore_best", "reduce_lr_on_plateau", "model_checkpoint_best_only",
              "terminate_on_nan", "validation_freq", "validation_split", "class_weight",
              "sample_weight", "shuffle_false", "steps_per_epoch", "lr_schedule"}
    assert wanted <= set(CASES)
