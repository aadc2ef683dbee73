"""Determinism on CPU: the same seed gives the same training, on tensorflow and on jax.

CI runs this file once per backend. Each test trains twice from scratch with the same seed (model
initialisation, data shuffling, Dropout, the fast fit path's shuffling) and requires identical
weights and losses, and a run with another seed to differ (so the test can fail). The cross-process
case (a run killed and resumed in other processes equals this process's run) is in train/test_checkpoint.py.
"""

import keras
import numpy as np
import pytest

import deepkit

SPEC = {
    "input_shape": [8, 8, 1],
    "layers": [
        {"Conv2D": {"filters": 6, "kernel_size": 3, "activation": "relu"}},
        {"Dropout": 0.25},
        "Flatten",
        {"Dense": 10},
    ],
}


@pytest.fixture(scope="module")
def digits():
    (x, y), _ = deepkit.datasets.digits(seed=0)
    return x[:128], y[:128]


def train_keras_fit(seed, x, y):
    keras.utils.set_random_seed(seed)
    model = deepkit.from_spec(SPEC)
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=False)
    history = model.fit(x, y, batch_size=32, epochs=2, shuffle=True, verbose=0)
    return [np.array(w) for w in model.get_weights()], history.history["loss"]


def test_same_seed_same_training_with_keras_fit(digits):
    x, y = digits
    weights_a, loss_a = train_keras_fit(3, x, y)
    weights_b, loss_b = train_keras_fit(3, x, y)
    assert loss_a == loss_b
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)
    weights_c, loss_c = train_keras_fit(4, x, y)
    assert loss_c != loss_a
    assert not np.array_equal(weights_c[0], weights_a[0])


def test_same_seed_same_zoo_model_initialisation():
    keras.utils.set_random_seed(11)
    a = [np.array(w) for w in deepkit.models.create("lenet5").get_weights()]
    keras.utils.set_random_seed(11)
    b = [np.array(w) for w in deepkit.models.create("lenet5").get_weights()]
    keras.utils.set_random_seed(12)
    c = [np.array(w) for w in deepkit.models.create("lenet5").get_weights()]
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


def test_same_seed_same_training_with_the_fast_path(digits):
    x, y = digits

    def train(seed):
        keras.utils.set_random_seed(seed)
        model = deepkit.from_spec(SPEC)
        model.compile(optimizer=keras.optimizers.Adam(1e-2),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = deepkit.train.fit(model, x, y, batch_size=32, epochs=2, seed=seed, verbose=0)
        return [np.array(w) for w in model.get_weights()], history.history["loss"]

    weights_a, loss_a = train(5)
    weights_b, loss_b = train(5)
    np.testing.assert_array_equal(loss_a, loss_b)
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)
    weights_c, _ = train(6)
    assert not np.array_equal(weights_c[0], weights_a[0])


def test_toy_data_and_splits_are_seeded():
    a = deepkit.datasets.load("spiral", n_samples=200, seed=9)
    b = deepkit.datasets.load("spiral", n_samples=200, seed=9)
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
