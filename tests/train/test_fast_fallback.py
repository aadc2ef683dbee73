"""deepkit.train.fit's fallbacks (plain Keras fit, host streaming): run on every backend."""

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
