"""deepkit.train.fit: same results as keras.Model.fit, callbacks, validation, paths, errors."""

import warnings

import numpy as np
import pytest

import keras

from deepkit.train import Augment, fit

pytestmark = pytest.mark.backends(
    "jax", "tensorflow",
    reason="compiled loops exist for jax and tensorflow; other backends: tests/train/test_fast_fallback.py",
)


def _data(n=70, shape=(6, 6, 1), classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n,) + shape).astype("float32")
    y = rng.integers(0, classes, n).astype("int32")
    return x, y


def _model(seed=7, optimizer=None, metrics=("accuracy",), dropout=True, conv=False):
    """A small net with BatchNorm (+ Dropout): cheap to compile (jax on CPU compiles slowly)."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input((6, 6, 1))
    if conv:
        h = keras.layers.Conv2D(4, 3, activation="relu")(inp)
    else:
        h = keras.layers.Dense(4, activation="relu")(inp)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.Flatten()(h)
    if dropout:
        h = keras.layers.Dropout(0.3)(h)
    out = keras.layers.Dense(3)(h)
    m = keras.Model(inp, out)
    m.compile(
        optimizer=optimizer or keras.optimizers.SGD(0.05, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=list(metrics),
    )
    return m


def _assert_same(m1, h1, m2, h2, rtol=1e-4, atol=1e-5):
    assert sorted(h1.history) == sorted(h2.history)
    for k in h1.history:
        np.testing.assert_allclose(h1.history[k], h2.history[k], rtol=rtol, atol=atol, err_msg=k)
    for a, b in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize(
    "kwargs, conv",
    [
        (dict(batch_size=16, epochs=3), True),  # partial last batch, conv + BatchNorm + Dropout
        (dict(batch_size=10, epochs=2, validation_split=0.2), False),
        (dict(batch_size=16, epochs=2, validation_batch_size=7, validation_freq=2), False),
    ],
)
def test_same_results_as_keras_fit(kwargs, conv):
    x, y = _data()
    xv, yv = _data(23, seed=1)
    if "validation_split" not in kwargs:
        kwargs = dict(kwargs, validation_data=(xv, yv))
    m1 = _model(conv=conv)
    h1 = m1.fit(x, y, shuffle=False, verbose=0, **kwargs)
    m2 = _model(conv=conv)
    h2 = fit(m2, x, y, shuffle=False, verbose=0, **kwargs)
    assert h2.fast["path"] == "device", h2.fast
    _assert_same(m1, h1, m2, h2)
    assert h2 is m2.history


def test_sample_weight_class_weight_and_schedule_match_keras():
    x, y = _data(64)
    sw = np.random.default_rng(3).random(64).astype("float32")
    sched = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5)
    for extra in (dict(sample_weight=sw), dict(class_weight={0: 1.0, 1: 3.0, 2: 0.5})):
        m1 = _model(optimizer=keras.optimizers.SGD(sched), dropout=False)
        h1 = m1.fit(x, y, batch_size=12, epochs=2, shuffle=False, verbose=0, **extra)
        m2 = _model(optimizer=keras.optimizers.SGD(sched), dropout=False)
        h2 = fit(m2, x, y, batch_size=12, epochs=2, shuffle=False, verbose=0, **extra)
        assert h2.fast["path"] == "device"
        _assert_same(m1, h1, m2, h2)
        assert int(m2.optimizer.iterations) == int(m1.optimizer.iterations) == 12


@pytest.mark.parametrize("in_graph_loop", [True, False])
def test_steps_per_call_and_loop_kind_do_not_change_results(in_graph_loop):
    # in_graph_loop=True is the GPU default (lax.scan on jax), False the jax-CPU default.
    x, y = _data()
    xv, yv = _data(13, seed=4)
    m0 = _model()
    h0 = m0.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, validation_data=(xv, yv))
    m1 = _model()
    h1 = fit(m1, x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, validation_data=(xv, yv),
             in_graph_loop=in_graph_loop)
    m2 = _model()
    h2 = fit(m2, x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, validation_data=(xv, yv),
             steps_per_call=3, in_graph_loop=in_graph_loop, augment=None)
    assert h2.fast["steps_per_call"] == 3 and h1.fast["steps_per_call"] == 8
    _assert_same(m0, h0, m1, h1)
    _assert_same(m1, h1, m2, h2, rtol=1e-6, atol=1e-6)


def test_dict_inputs_and_one_hot_targets():
    rng = np.random.default_rng(0)
    xa, xb = rng.random((40, 3)).astype("float32"), rng.random((40, 2)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 2, 40), 2)

    def make():
        keras.utils.set_random_seed(1)
        a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
        out = keras.layers.Dense(2, activation="softmax")(keras.layers.Concatenate()([a, b]))
        m = keras.Model({"a": a, "b": b}, out)
        m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        return m

    m1, m2 = make(), make()
    h1 = m1.fit({"a": xa, "b": xb}, y, batch_size=9, epochs=2, shuffle=False, verbose=0)
    h2 = fit(m2, {"a": xa, "b": xb}, y, batch_size=9, epochs=2, shuffle=False, verbose=0)
    assert h2.fast["path"] == "device"
    _assert_same(m1, h1, m2, h2)


class _Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin",))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, tuple(sorted(logs))))

    def on_test_begin(self, logs=None):
        self.events.append(("test_begin",))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch))

    def on_train_end(self, logs=None):
        self.events.append(("train_end", tuple(sorted(logs))))


def test_callbacks_called_at_epoch_ends_with_validation_logs():
    x, y = _data(50)
    rec = _Recorder()
    fit(_model(), x, y, batch_size=16, epochs=3, verbose=0, callbacks=[rec],
        validation_data=_data(10, seed=2), validation_freq=2)
    keys = ("accuracy", "loss")
    vkeys = tuple(sorted(keys + ("val_accuracy", "val_loss")))
    ev = rec.events
    assert ev[0] == ("train_begin",)
    assert [e for e in ev if e[0] == "epoch_begin"] == [("epoch_begin", i) for i in range(3)]
    assert [e for e in ev if e[0] == "epoch_end"] == [
        ("epoch_end", 0, keys), ("epoch_end", 1, vkeys), ("epoch_end", 2, keys)]
    assert sum(e[0] == "test_begin" for e in ev) == 1
    # the recorder overrides on_train_batch_end: it runs after each of the 4 batches, as in Keras
    assert [e[1] for e in ev if e[0] == "batch_end"] == [0, 1, 2, 3] * 3
    assert ev[-1][0] == "train_end"


class _CountBatches(keras.callbacks.Callback):
    """The callbacks guide's pattern: a hook after every batch."""

    def __init__(self):
        super().__init__()
        self.train, self.test = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.train.append(batch)

    def on_test_batch_end(self, batch, logs=None):
        self.test.append(batch)


def test_batch_level_callbacks_run_after_every_batch_as_in_keras():
    """Issue 27 item 3 (48 calls on Keras, 2 on deepkit before): counted against Keras' fit."""
    x, y = _data(50)
    val = _data(20, seed=2)
    counts = []
    for train in (lambda m, **kw: m.fit(x, y, **kw), lambda m, **kw: fit(m, x, y, **kw)):
        cb = _CountBatches()
        h = train(_model(dropout=False), batch_size=8, epochs=2, verbose=0, callbacks=[cb],
                  validation_data=val, validation_batch_size=6)
        counts.append((cb.train, cb.test))
    assert counts[0] == counts[1]
    assert counts[1][0] == list(range(7)) * 2 and counts[1][1] == [0, 1, 2, 3] * 2
    assert h.fast["path"] == "device" and h.fast["steps_per_call"] == 1
    assert h.fast["batch_hooks"] == ["_CountBatches.on_train_batch_end", "_CountBatches.on_test_batch_end"]
    assert "after every batch" in h.fast["calls"]


def test_explicit_steps_per_call_keeps_fewer_calls_with_batch_callbacks():
    x, y = _data(50)
    cb = _CountBatches()
    h = fit(_model(dropout=False), x, y, batch_size=8, epochs=1, verbose=0, callbacks=[cb],
            steps_per_call=4)
    assert cb.train == [3, 5, 6]  # steps 0-3, 4-5 (the full batches end), the partial batch
    assert h.fast["steps_per_call"] == 4 and h.fast["calls"] == "steps_per_call=4"


@pytest.mark.parametrize("verbose", [0, 1])
def test_keras_own_and_epoch_level_callbacks_keep_one_call_per_epoch(verbose, capsys):
    x, y = _data(50)
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=5)
    h = fit(_model(dropout=False), x, y, batch_size=8, epochs=1, verbose=verbose, callbacks=[stop])
    assert h.fast["steps_per_call"] == 6 and h.fast["batch_hooks"] == []
    # a CallbackList made by the caller: the History and ProgbarLogger Keras adds do not count
    m = _model(dropout=False)
    cbs = keras.callbacks.CallbackList([stop], add_history=True, add_progbar=True, model=m,
                                       verbose=verbose, epochs=1, steps=7)
    h = fit(m, x, y, batch_size=8, epochs=1, verbose=verbose, callbacks=cbs)
    assert h.fast["steps_per_call"] == 6
    # ...unless the user passed one: ProgbarLogger overrides on_train_batch_end
    h = fit(_model(dropout=False), x, y, batch_size=8, epochs=1, verbose=0,
            callbacks=[keras.callbacks.ProgbarLogger()])
    assert h.fast["steps_per_call"] == 1 and "ProgbarLogger.on_train_batch_end" in h.fast["batch_hooks"]


def test_early_stopping_and_checkpoint_see_synced_weights(tmp_path):
    x, y = _data(40)
    m = _model()

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.weights = [w.copy() for w in self.model.get_weights()]
            if epoch == 1:
                self.model.stop_training = True

    stop = Stop()
    h = fit(m, x, y, batch_size=8, epochs=10, verbose=0, callbacks=[stop])
    assert len(h.history["loss"]) == 2
    for a, b in zip(stop.weights, m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_shuffle_with_seed_is_reproducible_and_learns():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 6, 6, 1)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0).astype("int32")
    ws = []
    for seed in (1, 1, 2):
        m = _model(dropout=False, conv=True, optimizer=keras.optimizers.Adam(0.01))
        h = fit(m, x, y, batch_size=16, epochs=4, verbose=0, seed=seed)
        ws.append(m.get_weights())
    for a, b in zip(ws[0], ws[1]):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(ws[0], ws[2]))
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_augment_runs_on_device_deterministically():
    x, y = _data(48)
    aug_weights = []
    for in_graph_loop in (True, False):  # the seed threads through lax.scan and per-step calls
        m = _model(dropout=False)
        aug = Augment(flip=True, pad_crop=1, seed=4)
        state0 = keras.ops.convert_to_numpy(aug.seed_generator.state.value).copy()
        h = fit(m, x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, augment=aug,
                in_graph_loop=in_graph_loop)
        assert h.fast["path"] == "device"
        # the seed was threaded through the compiled loop and written back
        assert not np.array_equal(keras.ops.convert_to_numpy(aug.seed_generator.state.value), state0)
        aug_weights.append(m.get_weights())
    m = _model(dropout=False)
    fit(m, x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(*aug_weights):
        np.testing.assert_array_equal(a, b)
    assert any(not np.allclose(a, b) for a, b in zip(aug_weights[0], m.get_weights()))


def test_augment_given_as_dict():
    x, y = _data(32)
    h = fit(_model(dropout=False), x, y, batch_size=8, epochs=1, verbose=0,
            augment={"flip": True, "pad_crop": 0}, seed=0)
    assert h.fast["path"] == "device" and len(h.history["loss"]) == 1


def test_streaming_path_when_data_exceeds_the_device_budget():
    x, y = _data(60)
    m = _model(dropout=False)
    h = fit(m, x, y, batch_size=16, epochs=2, verbose=0, device_memory=1,
            validation_data=_data(10, seed=3), augment=Augment(pad_crop=1, seed=0))
    assert h.fast["path"] == "stream" and "exceeds the device memory budget" in h.fast["reason"]
    assert sorted(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]


def test_fallback_to_keras_fit_with_reason():
    x, y = _data(40)
    def gen():
        while True:
            yield x[:8], y[:8]

    m = _model()
    with pytest.warns(UserWarning, match="plain Keras fit because the fast path takes numpy arrays") as w:
        h = fit(m, gen(), epochs=1, verbose=0, fast=True, steps_per_epoch=2)
    assert h.fast["path"] == "keras"
    assert [r.filename for r in w if "plain Keras fit" in str(r.message)] == [__file__]  # the caller's line
    with pytest.raises(ValueError, match="Unrecognized data type"):  # Keras' fit refuses lists
        fit(_model(), x, y, epochs=1, verbose=0, validation_data=(x[:5], y[:5].tolist()))
    m2 = _model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h2 = fit(m2, x, y, epochs=1, verbose=0, fast=False)
    assert h2.fast == dict(h2.fast, path="keras", reason="fast=False")


def test_mixed_precision_scope_is_temporary():
    x, y = _data(32)
    m = _model(dropout=False)
    h = fit(m, x, y, batch_size=8, epochs=1, verbose=0, mixed_precision="bfloat16")
    assert h.fast["mixed_precision"] == "mixed_bfloat16"
    assert np.isfinite(h.history["loss"][0])
    assert all(layer.dtype_policy.name == "float32" for layer in m.layers)
    assert all(w.dtype == np.float32 for w in m.get_weights())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(batch_size=0), "batch_size=0"),
        (dict(epochs=-1), "epochs=-1"),
        (dict(fast="yes"), "fast='yes'"),
        (dict(validation_split=1.5), "validation_split=1.5"),
        (dict(validation_split=1.0), r"in \[0, 1\). Received: validation_split=1.0"),
        (dict(validation_split=-0.1), r"in \[0, 1\). Received: validation_split=-0.1"),
        (dict(augment="flip"), "augment='flip'"),
        (dict(mixed_precision="int8"), "mixed_precision='int8'"),
        (dict(steps_per_call=0), "steps_per_call=0"),
        (dict(foo=1), "unknown arguments"),
    ],
)
def test_bad_arguments_are_quoted(kwargs, match):
    x, y = _data(10)
    with pytest.raises(ValueError, match=match):
        fit(_model(), x, y, verbose=0, **kwargs)


def test_length_mismatch_and_uncompiled_model():
    x, y = _data(10)
    with pytest.raises(ValueError, match=r"same number of samples.*x: \[10\].*y: \[9\]"):
        fit(_model(), x, y[:9], verbose=0)
    m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="compile"):
        fit(m, np.zeros((4, 2)), np.zeros((4, 1)), verbose=0)


def test_positional_arguments_in_keras_order():
    x, y = _data(20)
    h = fit(_model(), x, y, 8, 2, 0)
    assert len(h.history["loss"]) == 2 and h.fast["path"] == "device"
    with pytest.raises(TypeError, match="multiple values for argument 'batch_size'"):
        fit(_model(), x, y, 8, batch_size=4)


def test_deepkit_model_fit_uses_the_fast_path():
    import deepkit

    x, y = _data(24)
    m = deepkit.from_spec([{"Conv2D": [2, 3]}, "Flatten", {"Dense": 3}], input_shape=(6, 6, 1))
    m.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    h = m.fit(x, y, batch_size=8, epochs=1, verbose=0, fast=True)
    assert h.fast["path"] == "device" and sorted(h.history) == ["loss"]


def test_compiled_loops_are_reused_across_fit_calls_until_recompile():
    x, y = _data(24)
    m = _model(dropout=False)
    fit(m, x, y, batch_size=8, epochs=1, verbose=0)
    (loops,) = m._deepkit_fast_loops.values()
    fit(m, x, y, batch_size=8, epochs=1, verbose=0)
    assert list(m._deepkit_fast_loops.values()) == [loops]
    m.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    h = fit(m, x, y, batch_size=8, epochs=1, verbose=0)
    (new,) = m._deepkit_fast_loops.values()  # the old programs are dropped
    assert new is not loops and "loss" in h.history


def test_callbacks_guide_prints_up_to_batch_lines_like_keras(capsys):
    """keras.io "Writing your own callbacks", run with deepkit's Sequential (MNIST swapped for
    generated data of the guide's shapes): as many "Up to batch N" lines, in the same order."""
    import deepkit

    class LossAndErrorPrintingCallback(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            print("Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"]))

        def on_test_batch_end(self, batch, logs=None):
            print("Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"]))

        def on_epoch_end(self, epoch, logs=None):
            print("The average loss for epoch {} is {:7.2f} and mean absolute error is {:7.2f}.".format(
                epoch, logs["loss"], logs["mean_absolute_error"]))

    rng = np.random.default_rng(0)
    x_train = rng.random((1000, 784)).astype("float32")
    y_train = rng.integers(0, 10, 1000).astype("float32")
    lines = []
    for sequential in (keras.Sequential, deepkit.Sequential):
        keras.utils.set_random_seed(0)
        model = sequential()
        model.add(keras.layers.Dense(1))
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.1), loss="mean_squared_error",
                      metrics=["mean_absolute_error"])
        model.fit(x_train, y_train, batch_size=128, epochs=2, verbose=0,
                  callbacks=[LossAndErrorPrintingCallback()])
        out = capsys.readouterr().out.splitlines()
        lines.append([line.split(",")[0] for line in out if line.startswith("Up to batch")])
    assert len(lines[0]) == 16 and lines[1] == lines[0]


def test_fit_arguments_maps_keras_positional_order_and_refuses_extras():
    from deepkit.train import fit_arguments

    names = ["batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data",
             "shuffle", "class_weight", "sample_weight", "initial_epoch", "steps_per_epoch",
             "validation_steps", "validation_batch_size", "validation_freq"]  # keras.Model.fit's
    assert list(fit_arguments(tuple(range(14)), {})) == names
    with pytest.raises(TypeError, match=r"Received: 17 after the model \(at most 16: x, y, batch_size, "):
        fit_arguments(tuple(range(15)), {})
    with pytest.raises(TypeError, match="multiple values for argument 'epochs'"):
        fit_arguments((8, 2), {"epochs": 3})


@pytest.mark.parametrize("name", ["batch_size", "validation_batch_size", "steps_per_epoch",
                                  "validation_steps", "validation_freq", "steps_per_call", "unroll",
                                  "epochs", "initial_epoch"])
def test_integer_arguments_refuse_below_their_minimum(name):
    minimum = 0 if name in ("epochs", "initial_epoch") else 1
    x, y = _data(10)
    with pytest.raises(ValueError, match=f"`{name}` must be an integer >= {minimum}. Received: {name}={minimum - 1}"):
        fit(_model(), x, y, verbose=0, **{name: minimum - 1})


def test_integer_arguments_accept_their_minimum():
    x, y = _data(6)
    m = _model(dropout=False)
    h = fit(m, x[:2], y[:2], batch_size=1, epochs=1, initial_epoch=0, steps_per_epoch=1, verbose=0,
            validation_data=(x[2:4], y[2:4]), validation_batch_size=1, validation_freq=1,
            steps_per_call=1, unroll=1)
    assert h.fast["path"] == "device" and len(h.history["val_loss"]) == 1
    h = fit(_model(dropout=False), x, y, epochs=0, verbose=0)
    assert h.history == {} and h.fast["path"] == "device"
    h = fit(_model(dropout=False), x, y, verbose=0, in_graph_loop=True)  # Keras' defaults: 1 epoch of 32
    assert len(h.history["loss"]) == 1 and h.fast["steps_per_call"] == 1
    assert h.fast["in_graph_loop"] is True and h.fast["jit_compile"] in (True, False)
    assert h.fast["backend"] == keras.backend.backend() and h.fast["initial_epoch"] == 0
    h = fit(_model(dropout=False), x, y, epochs=1, verbose=0, validation_data=(x, y), validation_steps=1)
    assert h.fast["path"] == "keras" and "validation_steps=1" in h.fast["reason"]


def test_device_memory_is_a_bound_in_bytes():
    x = np.zeros((768, 1024), "float32")  # 3 MiB, with the labels 3 MiB + 3 KiB
    y = np.zeros(768, "int32")
    need = x.nbytes + y.nbytes

    def model():
        m = keras.Sequential([keras.Input((1024,)), keras.layers.Dense(2)])
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        return m

    h = fit(model(), x, y, batch_size=256, epochs=1, verbose=0, device_memory=need)
    assert h.fast["path"] == "device"
    h = fit(model(), x, y, batch_size=256, epochs=1, verbose=0, device_memory=need - 1)
    assert h.fast["path"] == "stream"
    val = (x[:4], y[:4])  # the validation data counts too
    h = fit(model(), x, y, batch_size=256, epochs=1, verbose=0, validation_data=val,
            device_memory=need + x[:4].nbytes + y[:4].nbytes)
    assert h.fast["path"] == "device"
    h = fit(model(), x, y, batch_size=256, epochs=1, verbose=0, validation_data=val, device_memory=need)
    assert h.fast["path"] == "stream"
    h = fit(model(), x, y, batch_size=256, epochs=1, verbose=0, device_memory=2**21)
    assert h.fast["reason"] == ("the data (3 MiB) exceeds the device memory budget (2 MiB); "
                                "streaming it from the host")


@pytest.mark.parametrize("error, streams", [
    ("RESOURCE_EXHAUSTED: out of device memory", True),
    ("CUDA Out Of Memory while allocating", True),
    ("some other failure", False),
])
def test_data_the_device_cannot_hold_streams_from_the_host(monkeypatch, error, streams):
    from deepkit import backend

    real = backend.fit_loop

    class Full:
        def __init__(self, loops):
            self.loops = loops

        def __getattr__(self, name):
            return getattr(self.loops, name)

        def put(self, tree):
            raise RuntimeError(error)

    monkeypatch.setattr(backend, "fit_loop", lambda *a, **k: Full(real(*a, **k)))
    x, y = _data(30)
    if not streams:
        with pytest.raises(RuntimeError, match=error):
            fit(_model(dropout=False), x, y, batch_size=8, epochs=1, verbose=0)
        return
    h = fit(_model(dropout=False), x, y, batch_size=8, epochs=1, verbose=0)
    assert h.fast["path"] == "stream"
    assert h.fast["reason"] == "the data did not fit on the device (RuntimeError); streaming it"


def test_backend_tensors_are_arrays_for_the_fast_path():
    x, y = _data(24)
    m1, m2 = _model(dropout=False), _model(dropout=False)
    h1 = fit(m1, x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    h2 = fit(m2, keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(y), batch_size=8, epochs=1,
             shuffle=False, verbose=0)
    assert h2.fast["path"] == "device"
    np.testing.assert_allclose(h2.history["loss"], h1.history["loss"], rtol=1e-6)


@pytest.mark.parametrize("n, batches", [(64, [0, 1]), (66, [0, 1, 2])])
def test_streaming_without_batch_size_uses_keras_default_of_32(n, batches):
    x, y = _data(n)
    cb = _CountBatches()
    h = fit(_model(dropout=False), x, y, epochs=1, verbose=0, device_memory=1, callbacks=[cb])
    assert h.fast["path"] == "stream" and cb.train == batches


def test_steps_per_call_inside_a_shorter_epoch_stops_at_steps_per_epoch():
    """An epoch of 3 steps run 2 per call: calls of 2 and 1 steps, as Keras' 3 steps."""
    x, y = _data(40)
    m1, m2 = _model(dropout=False), _model(dropout=False)
    h1 = m1.fit(x, y, batch_size=4, epochs=2, steps_per_epoch=3, shuffle=False, verbose=0)
    h2 = fit(m2, x, y, batch_size=4, epochs=2, steps_per_epoch=3, shuffle=False, verbose=0, steps_per_call=2)
    _assert_same(m1, h1, m2, h2)


class _TestBatches(keras.callbacks.Callback):
    """Records the validation batch hooks, begin and end."""

    def __init__(self):
        super().__init__()
        self.events = []

    def on_test_batch_begin(self, batch, logs=None):
        self.events.append(("begin", batch))

    def on_test_batch_end(self, batch, logs=None):
        self.events.append(("end", batch))


def test_validation_with_a_partial_last_batch_matches_keras():
    """11 validation samples in batches of 4 (2 full + 3): Keras' val_loss, and its test-batch hooks in order.

    Mutation survivors caught (fast.py): the remainder's call running 2 steps instead of 1, the
    ``on_test_batch_begin`` call of the full batches removed.
    """
    x, y = _data(40)
    val = _data(11, seed=2)
    for with_hooks in (False, True):
        runs = []
        for train in (lambda m, **kw: m.fit(x, y, **kw), lambda m, **kw: fit(m, x, y, **kw)):
            rec = _TestBatches()
            m = _model(dropout=False)
            h = train(m, batch_size=8, epochs=1, shuffle=False, verbose=0, validation_data=val,
                      validation_batch_size=4, callbacks=[rec] if with_hooks else None)
            runs.append((m, h, rec.events))
        (m1, h1, events1), (m2, h2, events2) = runs
        assert h2.fast["path"] == "device"
        _assert_same(m1, h1, m2, h2)
        if with_hooks:
            assert events2 == events1 == [("begin", 0), ("end", 0), ("begin", 1), ("end", 1), ("begin", 2), ("end", 2)]


def test_full_batches_only_and_epochs_ending_with_the_pass_match_keras():
    """48 samples in batches of 8 (no partial batch); epochs of 3 steps that end exactly where a pass ends.

    Mutation survivors caught (fast.py): the batches of a pass counted ``n_full - 1`` without a remainder, the
    pass not restarted when an epoch ends exactly at its end (``pos >= steps`` -> ``pos > steps``: Keras
    starts a new pass, the mutant runs out of data).
    """
    x, y = _data(48)
    for kwargs in (dict(epochs=2), dict(epochs=4, steps_per_epoch=3)):
        m1, m2 = _model(dropout=False), _model(dropout=False)
        h1 = m1.fit(x, y, batch_size=8, shuffle=False, verbose=0, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "Your input ran out of data" would be a failure
            h2 = fit(m2, x, y, batch_size=8, shuffle=False, verbose=0, **kwargs)
        assert h2.fast["path"] == "device"
        _assert_same(m1, h1, m2, h2)


def test_the_loops_are_traced_for_the_batch_sizes_a_pass_runs(monkeypatch):
    """Before any callback, ``prepare`` gets the batch sizes of one pass: the full batches' size, then the remainder
    (50 = 6 x 8 + 2; validation 11 = 2 x 4 + 3; 48 = 6 x 8 has no remainder).

    Mutation survivor caught (fast.py: the batch sizes returned as None, so nothing was traced before the callbacks).
    """
    from deepkit import backend

    real, seen = backend.fit_loop, []

    class Spy:
        def __init__(self, loops):
            self.loops = loops

        def __getattr__(self, name):
            return getattr(self.loops, name)

        def prepare(self, data, shuffle, batches, val=None, val_batches=()):
            seen.append((list(batches), list(val_batches)))
            return self.loops.prepare(data, shuffle, batches, val, val_batches)

    monkeypatch.setattr(backend, "fit_loop", lambda *a, **k: Spy(real(*a, **k)))
    x, y = _data(50)
    fit(_model(dropout=False), x, y, batch_size=8, epochs=1, verbose=0, validation_data=_data(11, seed=2),
        validation_batch_size=4)
    fit(_model(dropout=False), x[:48], y[:48], batch_size=8, epochs=1, verbose=0)
    assert seen == [([8, 2], [4, 3]), ([8], [])]


def test_an_active_augment_draws_on_the_device_and_an_inactive_one_is_dropped():
    """An augment that changes images (``flip``) advances its seed in the compiled loop; one that changes nothing
    (no flip, no crop) is not run at all (its seed stays).

    Mutation survivor caught (fast.py: ``not augment.active`` -> ``augment.active``: the active one dropped).
    """
    x, y = _data(32)
    for aug, runs in ((Augment(flip=True, seed=4), True), (Augment(flip=False, pad_crop=0, seed=4), False)):
        before = keras.ops.convert_to_numpy(aug.seed_generator.state.value).copy()
        h = fit(_model(dropout=False), x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, augment=aug)
        after = keras.ops.convert_to_numpy(aug.seed_generator.state.value)
        assert h.fast["path"] == "device" and (not np.array_equal(after, before)) == runs
