"""Keras' guide "Customizing what happens in fit()" on the fast path (tensorflow and jax variants).

Each pattern trains the same model with plain ``keras.Model.fit`` and with ``deepkit.train.fit``
(same seeds, ``shuffle=False``) and compares History and final weights; each asserts which path
ran (``history.fast["path"]``), and, for the patterns that fall back, that the reason is given
and no exception leaves ``fit``.
"""

import numpy as np
import pytest

import keras

from deepkit.train import fit

BACKEND = keras.backend.backend()
pytestmark = pytest.mark.backends(
    "jax", "tensorflow",
    reason="the guide's steps are written per backend; compiled loops exist for jax and tensorflow",
)

if BACKEND == "tensorflow":
    import tensorflow as tf
elif BACKEND == "jax":
    import jax

N = 24


def _xy(n=N, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], "float32") + 0.1).astype("float32")
    return x, y


def _graph(seed=5, reg=False):
    keras.utils.set_random_seed(seed)
    inp = keras.Input((4,))
    h = keras.layers.Dense(5, activation="relu",
                           kernel_regularizer=keras.regularizers.L2(0.01) if reg else None)(inp)
    if reg:
        h = keras.layers.ActivityRegularization(l1=0.01)(h)
    return inp, keras.layers.Dense(1)(h)


# ------------------------------------------------------------------------- the guide's models
SEEN = []  # the structure of the data each custom step was traced with


def _structure(data):
    def kind(a):
        if isinstance(a, dict):
            return {k: kind(v) for k, v in sorted(a.items())}
        if isinstance(a, (list, tuple)):
            return type(a).__name__, [kind(v) for v in a]
        return "array"

    return kind(data)


if BACKEND == "tensorflow":

    class GuideModel(keras.Model):
        """The guide's first example: GradientTape, compute_loss, metrics updated by hand."""

        def train_step(self, data):
            SEEN.append(_structure(data))
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    class ComputeMetricsModel(keras.Model):
        """compute_loss + compute_metrics, sample weights unpacked when present."""

        def train_step(self, data):
            SEEN.append(_structure(data))
            if len(data) == 3:
                x, y, sample_weight = data
            else:
                sample_weight = None
                x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    class TrackerModel(keras.Model):
        """Going lower-level: no compiled loss, own loss function and metric trackers."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = keras.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.loss_fn(y, y_pred) + keras.ops.sum(self.losses)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    class ExtraLogsModel(GuideModel):
        """Returns logs beyond model.metrics: a Python float, a tensor, an int."""

        def train_step(self, data):
            logs = super().train_step(data)
            return dict(logs, extra=1.0, lr=self.optimizer.learning_rate * 1.0,
                        step=self.optimizer.iterations)

    class XOnlyModel(keras.Model):
        """An autoencoder-style step: fit(x) hands x alone to train_step."""

        def train_step(self, data):
            SEEN.append(_structure(data))
            x = data
            with tf.GradientTape() as tape:
                loss = keras.ops.mean((self(x, training=True) - x[:, :1]) ** 2)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            return {"loss": loss}

    class DictModel(keras.Model):
        def train_step(self, data):
            SEEN.append(_structure(data))
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            return self.compute_metrics(x, y, y_pred)

    class UncarriableLogModel(GuideModel):
        """Returns the batch's predictions: a log whose shape depends on the batch."""

        def train_step(self, data):
            logs = super().train_step(data)
            return dict(logs, pred=self(data[0], training=False))

    class GAN(keras.Model):
        """The guide's GAN: no compiled loss, two optimizers built lazily by apply()."""

        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator, self.generator, self.latent_dim = discriminator, generator, latent_dim
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
            self.seed_generator = keras.random.SeedGenerator(1337)

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

        def train_step(self, real):
            batch_size = tf.shape(real)[0]
            z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            fake = self.generator(z)
            both = tf.concat([fake, real], axis=0)
            labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
            with tf.GradientTape() as tape:
                d_loss = self.loss_fn(labels, self.discriminator(both))
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply(grads, self.discriminator.trainable_weights)
            z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            with tf.GradientTape() as tape:
                g_loss = self.loss_fn(tf.zeros((batch_size, 1)),
                                      self.discriminator(self.generator(z)))
            grads = tape.gradient(g_loss, self.generator.trainable_weights)
            self.g_optimizer.apply(grads, self.generator.trainable_weights)
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}

elif BACKEND == "jax":

    def _update_metrics(model, metrics_variables, loss, y, y_pred, sample_weight=None):
        new, logs = [], {}
        for metric in model.metrics:
            this = metrics_variables[len(new): len(new) + len(metric.variables)]
            if metric.name == "loss":
                this = metric.stateless_update_state(this, loss)
            else:
                this = metric.stateless_update_state(this, y, y_pred, sample_weight=sample_weight)
            logs[metric.name] = metric.stateless_result(this)
            new += this
        return logs, new

    class GuideModel(keras.Model):
        """The jax guide's first example: stateless_call, value_and_grad, stateless_apply."""

        # the guide calls it compute_loss_and_updates, which Keras' own jax test_step also
        # calls (with other arguments): renamed so that the default test_step keeps working
        def loss_and_updates(self, trainable_variables, non_trainable_variables, x, y,
                             sample_weight=None, training=False):
            y_pred, non_trainable_variables = self.stateless_call(
                trainable_variables, non_trainable_variables, x, training=training)
            loss = self.compute_loss(x, y, y_pred, sample_weight=sample_weight)
            return loss, (y_pred, non_trainable_variables)

        def _unpack(self, data):
            SEEN.append(_structure(data))
            x, y = data
            return x, y, None

        def train_step(self, state, data):
            trainable, non_trainable, optimizer_variables, metrics_variables = state
            x, y, sw = self._unpack(data)
            grad_fn = jax.value_and_grad(self.loss_and_updates, has_aux=True)
            (loss, (y_pred, non_trainable)), grads = grad_fn(
                trainable, non_trainable, x, y, sample_weight=sw, training=True)
            trainable, optimizer_variables = self.optimizer.stateless_apply(
                optimizer_variables, grads, trainable)
            logs, metrics_variables = _update_metrics(self, metrics_variables, loss, y, y_pred, sw)
            return logs, (trainable, non_trainable, optimizer_variables, metrics_variables)

    class ComputeMetricsModel(GuideModel):
        """Sample weights unpacked when present; a custom stateless test_step."""

        def _unpack(self, data):
            SEEN.append(_structure(data))
            if len(data) == 3:
                return data
            x, y = data
            return x, y, None

        def test_step(self, state, data):
            trainable, non_trainable, metrics_variables = state
            x, y = data
            y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x,
                                                        training=False)
            loss = self.compute_loss(x, y, y_pred)
            logs, metrics_variables = _update_metrics(self, metrics_variables, loss, y, y_pred)
            return logs, (trainable, non_trainable, metrics_variables)

    class TrackerModel(keras.Model):
        """Going lower-level: no compiled loss, own loss function and metric trackers."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = keras.losses.MeanSquaredError()

        def compute_loss_and_updates(self, trainable, non_trainable, x, y, training=False):
            y_pred, non_trainable, losses = self.stateless_call(
                trainable, non_trainable, x, training=training, return_losses=True)
            return self.loss_fn(y, y_pred) + sum(losses), (y_pred, non_trainable)

        def train_step(self, state, data):
            trainable, non_trainable, optimizer_variables, metrics_variables = state
            x, y = data
            grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
            (loss, (y_pred, non_trainable)), grads = grad_fn(trainable, non_trainable, x, y,
                                                             training=True)
            trainable, optimizer_variables = self.optimizer.stateless_apply(
                optimizer_variables, grads, trainable)
            k = len(self.loss_tracker.variables)
            lt = self.loss_tracker.stateless_update_state(metrics_variables[:k], loss)
            mae = self.mae_metric.stateless_update_state(metrics_variables[k:], y, y_pred)
            logs = {"loss": self.loss_tracker.stateless_result(lt),
                    "mae": self.mae_metric.stateless_result(mae)}
            return logs, (trainable, non_trainable, optimizer_variables, lt + mae)

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    class ExtraLogsModel(GuideModel):
        def train_step(self, state, data):
            logs, state = super().train_step(state, data)
            return dict(logs, extra=1.0, double=logs["loss"] * 2.0, step=state[2][0]), state

    class XOnlyModel(keras.Model):
        def loss_and_updates(self, trainable, non_trainable, x):
            y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x,
                                                        training=True)
            return keras.ops.mean((y_pred - x[:, :1]) ** 2), non_trainable

        def train_step(self, state, data):
            SEEN.append(_structure(data))
            trainable, non_trainable, optimizer_variables, metrics_variables = state
            x = data
            (loss, non_trainable), grads = jax.value_and_grad(
                self.loss_and_updates, has_aux=True)(trainable, non_trainable, x)
            trainable, optimizer_variables = self.optimizer.stateless_apply(
                optimizer_variables, grads, trainable)
            return {"loss": loss}, (trainable, non_trainable, optimizer_variables,
                                    metrics_variables)

    class DictModel(keras.Model):
        """Dict inputs and outputs, a loss computed in the step."""

        def loss_and_updates(self, trainable, non_trainable, x, y):
            y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x,
                                                        training=True)
            loss = sum(keras.ops.mean((y_pred[k] - y[k]) ** 2) for k in sorted(y))
            return loss, non_trainable

        def train_step(self, state, data):
            SEEN.append(_structure(data))
            trainable, non_trainable, optimizer_variables, metrics_variables = state
            x, y = data
            (loss, non_trainable), grads = jax.value_and_grad(
                self.loss_and_updates, has_aux=True)(trainable, non_trainable, x, y)
            trainable, optimizer_variables = self.optimizer.stateless_apply(
                optimizer_variables, grads, trainable)
            return {"loss": loss}, (trainable, non_trainable, optimizer_variables,
                                    metrics_variables)

    class UncarriableLogModel(GuideModel):
        """Returns the batch's predictions: a log whose shape depends on the batch."""

        def train_step(self, state, data):
            logs, state = super().train_step(state, data)
            pred, _ = self.stateless_call(state[0], state[1], data[0], training=False)
            return dict(logs, pred=pred), state


# ------------------------------------------------------------------------------- helpers
def _compare(make, x, y=None, expect="device", rtol=1e-5, **kwargs):
    """Plain Keras fit vs the fast path on two fresh models; returns the fast history."""
    kwargs = dict(dict(batch_size=10, epochs=2, verbose=0, shuffle=False), **kwargs)
    SEEN.clear()
    m1 = make()
    h1 = m1.fit(x, y, **{k: v for k, v in kwargs.items() if k != "in_graph_loop"})
    seen_keras = list(SEEN)
    SEEN.clear()
    m2 = make()
    h2 = fit(m2, x, y, **kwargs)
    assert h2.fast["path"] == expect, h2.fast
    assert h2.epoch == h1.epoch
    assert sorted(h2.history) == sorted(h1.history)
    for k in h1.history:
        np.testing.assert_allclose(h2.history[k], h1.history[k], rtol=rtol, atol=1e-6, err_msg=k)
    for a, b in zip(m2.get_weights(), m1.get_weights()):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-6)
    if seen_keras:  # the data structure handed to the step is the one Keras hands
        assert SEEN and SEEN[0] == seen_keras[0], (SEEN, seen_keras)
    return m1, m2, h2


def _functional(cls, reg=False, metrics=("mae",), loss="mse"):
    def make():
        inp, out = _graph(reg=reg)
        m = cls(inp, out)
        m.compile(optimizer=keras.optimizers.SGD(0.05), loss=loss, metrics=list(metrics))
        return m

    return make


# --------------------------------------------------------------------------------- patterns
def test_guide_train_step_with_compute_loss_runs_on_the_fast_path():
    x, y = _xy()
    _compare(_functional(GuideModel), x, y, validation_data=_xy(8, seed=1))
    assert SEEN[0] == ("tuple", ["array", "array"])  # (x, y): the guide's `x, y = data`


def test_compute_metrics_and_sample_weight_inside_the_step():
    x, y = _xy()
    sw = np.random.default_rng(3).random(N).astype("float32")
    _compare(_functional(ComputeMetricsModel), x, y, sample_weight=sw)
    assert SEEN[0] == ("tuple", ["array", "array", "array"])  # (x, y, sample_weight)
    _compare(_functional(ComputeMetricsModel), x, y)
    assert SEEN[0] == ("tuple", ["array", "array"])


def test_custom_test_step_in_validation_and_evaluate():
    if tuple(int(p) for p in keras.version().split(".")[:2]) < (3, 11):
        pytest.skip("Keras 3.10's own fit leaves the metrics of a custom test_step out of the validation logs "
                    "(no val_mae), so there is no plain-Keras reference to compare with")
    x, y = _xy()
    xv, yv = _xy(9, seed=2)
    m1, m2, h = _compare(_functional(ComputeMetricsModel), x, y, validation_data=(xv, yv),
                         validation_batch_size=4)
    assert "val_mae" in h.history
    np.testing.assert_allclose(m2.evaluate(xv, yv, verbose=0), m1.evaluate(xv, yv, verbose=0),
                               rtol=1e-5)


def test_own_loss_and_metric_trackers_without_compiled_loss_and_add_loss():
    def make():
        inp, out = _graph(reg=True)  # kernel_regularizer + ActivityRegularization: add_loss
        m = TrackerModel(inp, out)
        m.compile(optimizer=keras.optimizers.Adam(0.01))
        return m

    x, y = _xy()
    _compare(make, x, y, epochs=3)


def test_add_loss_with_keras_own_train_step():
    x, y = _xy()
    _compare(_functional(keras.Model, reg=True), x, y, validation_split=0.25)


def test_custom_logs_reach_history_and_callbacks():
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(dict(logs))

    x, y = _xy()
    _, _, h = _compare(_functional(ExtraLogsModel), x, y)
    assert h.history["extra"] == [1.0, 1.0]
    fit(_functional(ExtraLogsModel)(), x, y, batch_size=10, epochs=1, verbose=0,
        callbacks=[Spy()])
    assert seen and seen[0]["extra"] == 1.0 and "loss" in seen[0]


def test_x_alone_is_handed_to_the_step():
    def make():
        inp, out = _graph()
        m = XOnlyModel(inp, out)
        m.compile(optimizer=keras.optimizers.SGD(0.05))
        return m

    x, _ = _xy()
    _compare(make, x)
    assert SEEN[0] == "array"


def test_dict_inputs_and_outputs_are_kept():
    def make():
        keras.utils.set_random_seed(2)
        a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
        h = keras.layers.Dense(4, activation="relu")(keras.layers.Concatenate()([a, b]))
        outs = {"p": keras.layers.Dense(1, name="p")(h), "q": keras.layers.Dense(2, name="q")(h)}
        m = DictModel({"a": a, "b": b}, outs)
        m.compile(optimizer=keras.optimizers.SGD(0.05), loss={"p": "mse", "q": "mse"})
        return m

    rng = np.random.default_rng(4)
    x = {"a": rng.normal(size=(N, 3)).astype("float32"),
         "b": rng.normal(size=(N, 2)).astype("float32")}
    y = {"p": rng.normal(size=(N, 1)).astype("float32"),
         "q": rng.normal(size=(N, 2)).astype("float32")}
    _compare(make, x, y)
    assert SEEN[0] == ("tuple", [{"a": "array", "b": "array"}, {"p": "array", "q": "array"}])


def test_steps_per_epoch_with_a_custom_step_on_the_fast_path():
    x, y = _xy()
    _compare(_functional(GuideModel), x, y, epochs=3, steps_per_epoch=2)


def test_logs_the_loop_cannot_carry_fall_back_with_the_reason():
    x, y = _xy()
    if BACKEND == "jax":  # one compiled step per call on CPU: any log Keras' own jit returns
        _compare(_functional(UncarriableLogModel), x, y, epochs=1, in_graph_loop=False)
        return
    m = _functional(UncarriableLogModel)()
    with pytest.warns(UserWarning, match="plain Keras fit because the compiled loop cannot run"):
        h = fit(m, x, y, batch_size=10, epochs=1, verbose=0, fast=True)  # never raises
    assert h.fast["path"] == "keras"
    assert "compiled loop cannot run this model" in h.fast["reason"]
    # the same run as plain Keras fit
    _compare(_functional(UncarriableLogModel), x, y, epochs=1, expect="keras")


@pytest.mark.backends("tensorflow", reason="the guide's GAN is the tensorflow variant")
def test_gan_with_two_optimizers_and_no_compiled_loss():
    def make():
        keras.utils.set_random_seed(6)
        disc = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
                                 keras.layers.Dense(1)])
        gen = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4)])
        gan = GAN(disc, gen, latent_dim=2)
        gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3),
                    keras.losses.BinaryCrossentropy(from_logits=True))
        return gan

    x, _ = _xy()
    with pytest.warns(UserWarning, match="plain Keras fit because the model cannot be built"):
        h = fit(make(), x, batch_size=8, epochs=1, verbose=0, fast=True)
    assert h.fast["path"] == "keras" and "cannot be built" in h.fast["reason"]
    _compare(make, x, batch_size=8, expect="keras")
