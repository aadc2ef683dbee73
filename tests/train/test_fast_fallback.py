"""deepkit.train.fit's fallbacks (plain Keras fit, host streaming): run on every backend.

CI runs tensorflow and jax, which have compiled loops: the tests below simulate a backend without
them through the backend interface (monkeypatched `deepkit.backend.fit_loop_unsupported`).
"""

import numpy as np
import pytest

import keras

from deepkit.train import Augment, fit


def _model():
    keras.utils.set_random_seed(3)
    m = keras.Sequential([keras.Input((5, 5, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])
    m.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
    return m


def _data(n=30):
    rng = np.random.default_rng(0)
    return rng.random((n, 5, 5, 1)).astype("float32"), rng.integers(0, 3, n)


def test_fast_false_is_plain_keras_fit():
    x, y = _data()
    m1, m2 = _model(), _model()
    h1 = m1.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h2 = fit(m2, x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, fast=False)
    assert h2.fast["path"] == "keras" and h2.fast["reason"] == "fast=False"
    for k in h1.history:
        np.testing.assert_allclose(h1.history[k], h2.history[k], rtol=1e-6)


def test_augment_without_fast_path_streams_on_the_host():
    x, y = _data()
    h = fit(_model(), x, y, batch_size=8, epochs=2, verbose=0, fast=False, validation_split=0.2,
            augment=Augment(flip=True, pad_crop=1, seed=0))
    assert h.fast["path"] == "stream" and "augmenting on the host" in h.fast["reason"]
    assert sorted(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]


@pytest.mark.skipif(keras.backend.backend() in ("jax", "tensorflow"), reason="backend has the fast path")
def test_backend_without_compiled_loops_falls_back_with_reason():
    x, y = _data()
    with pytest.warns(UserWarning, match=f"backend='{keras.backend.backend()}'"):
        h = fit(_model(), x, y, epochs=1, verbose=0, fast=True)
    assert h.fast["path"] == "keras"


# ---- the same fallbacks on the backends CI runs: an unsupported backend simulated through the
# ---- backend interface (deepkit.backend.fit_loop_unsupported / fit_loop), as torch would answer
def _unsupported(monkeypatch, name="numpy"):
    from deepkit import backend

    reason = backend.get(name).fit_loop_unsupported(None)  # that backend's own answer
    assert reason
    monkeypatch.setattr(backend, "fit_loop_unsupported", lambda model=None: reason)

    def no_loops(*args, **kwargs):
        raise AssertionError("fit asked an unsupported backend for compiled loops")

    monkeypatch.setattr(backend, "fit_loop", no_loops)
    return reason


def _same_as_keras(h1, m1, h2, m2):
    assert sorted(h1.history) == sorted(h2.history)
    for k in h1.history:
        np.testing.assert_array_equal(h1.history[k], h2.history[k], err_msg=k)
    for a, b in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_simulated_unsupported_backend_falls_back_to_keras_fit(monkeypatch):
    reason = _unsupported(monkeypatch)
    x, y = _data()
    m1, m2 = _model(), _model()
    h1 = m1.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, validation_split=0.2)
    with pytest.warns(UserWarning, match="backend='numpy'"):
        h2 = fit(m2, x, y, 8, 2, 0, validation_split=0.2, shuffle=False, fast=True)
    assert h2.fast["path"] == "keras" and h2.fast["reason"] == reason
    assert h2.fast["steps_per_call"] is None and h2.fast["jit_compile"] is None
    _same_as_keras(h1, m1, h2, m2)


def test_simulated_unsupported_backend_auto_is_quiet(monkeypatch, recwarn):
    _unsupported(monkeypatch)
    x, y = _data()
    h = fit(_model(), x, y, batch_size=8, epochs=1, verbose=0)
    assert h.fast["path"] == "keras" and "backend='numpy'" in h.fast["reason"]
    assert not [w for w in recwarn if "plain Keras fit" in str(w.message)]


def test_simulated_unsupported_backend_augments_on_the_host(monkeypatch):
    _unsupported(monkeypatch)
    x, y = _data()
    cw = {0: 1.0, 1: 2.0, 2: 0.5}

    class Count(keras.callbacks.Callback):
        batches = []

        def on_train_batch_end(self, batch, logs=None):
            Count.batches.append(batch)

    h = fit(_model(), x, y, batch_size=8, epochs=2, verbose=0, class_weight=cw, callbacks=[Count()],
            validation_split=0.2, augment={"flip": True, "seed": 0})
    assert h.fast["path"] == "stream" and h.fast["reason"].endswith("; augmenting on the host")
    assert Count.batches == [0, 1, 2] * 2  # 24 training samples in batches of 8
    assert sorted(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    with pytest.raises(ValueError, match="`augment` needs array data"):
        fit(_model(), iter([(x, y)]), epochs=1, verbose=0, augment={"flip": True})


def test_model_the_compiled_loop_cannot_trace_falls_back_before_any_callback(monkeypatch):
    """A late fallback (the loop refuses the model while tracing): Keras fit runs, events once."""
    from deepkit import backend

    if backend.fit_loop_unsupported():
        pytest.skip("needs a backend with compiled loops")
    real = backend.fit_loop

    class Refusing:
        def __init__(self, loops):
            self.loops = loops

        def __getattr__(self, name):
            return getattr(self.loops, name)

        def prepare(self, *args):
            raise backend.FastPathUnsupported("a step it cannot carry")

    monkeypatch.setattr(backend, "fit_loop", lambda *a, **k: Refusing(real(*a, **k)))

    class Count(keras.callbacks.Callback):
        begins = 0

        def on_train_begin(self, logs=None):
            Count.begins += 1

    x, y = _data()
    m1, m2 = _model(), _model()
    h1 = m1.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h2 = fit(m2, x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[Count()])
    assert h2.fast["path"] == "keras" and Count.begins == 1
    assert h2.fast["reason"] == "the compiled loop cannot run this model: a step it cannot carry"
    _same_as_keras(h1, m1, h2, m2)


def test_model_the_backend_refuses_falls_back_with_its_reason(monkeypatch):
    """The interface asked about the model (fit_loop_unsupported(model)) after the data checks."""
    from deepkit import backend

    if backend.fit_loop_unsupported():
        pytest.skip("needs a backend with compiled loops")
    monkeypatch.setattr(backend, "fit_loop_unsupported",
                        lambda model=None: "" if model is None else "this model's layers")
    x, y = _data()
    with pytest.warns(UserWarning, match="plain Keras fit because this model's layers"):
        h = fit(_model(), x, y, batch_size=8, epochs=1, verbose=0, fast=True)
    assert h.fast["path"] == "keras" and h.fast["reason"] == "this model's layers"


def test_an_error_writing_back_the_device_state_is_raised_unless_another_is(monkeypatch):
    from deepkit import backend

    if backend.fit_loop_unsupported():
        pytest.skip("needs a backend with compiled loops")
    real = backend.fit_loop

    class BadFinish:
        def __init__(self, loops):
            self.loops = loops

        def __getattr__(self, name):
            return getattr(self.loops, name)

        def finish(self):
            self.loops.finish()
            raise RuntimeError("finish failed")

    monkeypatch.setattr(backend, "fit_loop", lambda *a, **k: BadFinish(real(*a, **k)))

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt("stop")

    x, y = _data()
    with pytest.raises(RuntimeError, match="finish failed"):
        fit(_model(), x, y, batch_size=8, epochs=1, verbose=0)
    with pytest.raises(KeyboardInterrupt, match="stop"):  # the first error wins
        fit(_model(), x, y, batch_size=8, epochs=1, verbose=0, callbacks=[Interrupt()])
