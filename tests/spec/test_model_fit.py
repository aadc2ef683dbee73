"""deepkit.Model.fit: the fast path by default for arrays, Keras' loop otherwise, the same checks."""

import warnings

import numpy as np
import pytest

import keras

import deepkit
from deepkit.errors import DataError
from deepkit.train.checkpoint import Checkpoint

FAST_BACKEND = keras.backend.backend() in ("jax", "tensorflow")


def _model():
    keras.utils.set_random_seed(1)
    m = deepkit.from_spec([{"Dense": {"units": 4, "activation": "relu"}}, {"Dense": 2}],
                          input_shape=(3,))
    m.compile(optimizer="sgd",
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return m


def _data(n=20):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype("float32"), (np.arange(n) % 2).astype("int32")


def test_arrays_take_the_fast_path_by_default_and_fast_false_keeps_keras():
    x, y = _data()
    h = _model().fit(x, y, batch_size=8, epochs=2, verbose=0)
    if FAST_BACKEND:
        assert h.fast["path"] == "device" and "in-memory arrays" in h.fast["reason"]
    else:
        assert h.fast["path"] == "keras" and "backend" in h.fast["reason"]
    m1, m2 = _model(), _model()
    h1 = m1.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False, fast=False)
    h2 = m2.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    assert h1.fast["path"] == "keras" and h1.fast["reason"] == "fast=False"
    np.testing.assert_allclose(h2.history["loss"], h1.history["loss"], rtol=1e-5)
    for a, b in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fast_true_warns_when_keras_loop_runs_and_auto_does_not():
    x, y = _data(16)

    class Seq(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return x[i * 8:(i + 1) * 8], y[i * 8:(i + 1) * 8]

    with pytest.warns(UserWarning, match="using plain Keras fit because the fast path takes"):
        h = _model().fit(Seq(), epochs=1, verbose=0, fast=True)
    assert h.fast["path"] == "keras" and "x of type Seq" in h.fast["reason"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        h = _model().fit(Seq(), epochs=1, verbose=0)
    assert h.fast["path"] == "keras"
    if FAST_BACKEND:  # steps_per_epoch runs on the fast path now (no fallback, no warning)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            h = _model().fit(x, y, batch_size=4, steps_per_epoch=2, epochs=2, verbose=0,
                             fast=True)
        assert h.fast["path"] == "device"


@pytest.mark.parametrize("fast", [False, "auto"])
@pytest.mark.parametrize("kwargs, match", [
    (dict(batch_size=0), "batch_size=0"),
    (dict(epochs=-1), "epochs=-1"),
    (dict(validation_split=1.5), "validation_split=1.5"),
    (dict(steps_per_epoch=0), "steps_per_epoch=0"),
])
def test_same_argument_checks_on_every_path(fast, kwargs, match):
    x, y = _data()
    with pytest.raises(ValueError, match=match):
        _model().fit(x, y, verbose=0, fast=fast, **kwargs)


def test_positional_calls_are_checked_like_keyword_calls():
    x, y = _data()
    h = _model().fit(x, y, 8, 2, 0)  # batch_size, epochs, verbose
    assert len(h.history["loss"]) == 2
    with pytest.raises(DataError, match="y"):
        _model().fit(x, np.full((20,), 7, "int32"), 8, 1, 0)  # label 7 for 2 classes
    with pytest.raises(TypeError, match="multiple values for argument 'epochs'"):
        _model().fit(x, y, 8, 2, epochs=3)


def test_checkpoint_resume_on_the_default_path(tmp_path):
    x, y = _data()

    class Stop(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _model().fit(x, y, epochs=4, verbose=0, callbacks=[Checkpoint(tmp_path), Stop()])
    ckpt = Checkpoint(tmp_path)
    h = _model().fit(x, y, epochs=4, verbose=0, callbacks=[ckpt])
    assert ckpt.restored_epoch == 2 and h.epoch == [2, 3]
