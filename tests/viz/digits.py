"""Shared data and small trained models for the deepkit.viz tests (engineer B's tests).

Everything is built from ``sklearn.datasets.load_digits`` (bundled with scikit-learn, no
download) or generated data, with fixed seeds, and cached per process so several test
files can share one trained model.
"""

import functools

import keras
import numpy as np


@functools.lru_cache(maxsize=None)
def digits():
    """``(x, y)``: the 1,797 8x8 sklearn digits as ``(N, 8, 8, 1)`` float32 in [0, 1], int labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype("float32")[..., None]
    return x, d.target.astype("int64")


def digits_cnn(seed=0):
    """A small untrained CNN for 8x8 digits (conv-pool-conv-GAP-dense)."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(2, name="pool1"),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),
            keras.layers.GlobalAveragePooling2D(name="gap"),
            keras.layers.Dense(10, name="logits"),
        ],
        name="digits_cnn",
    )


@functools.lru_cache(maxsize=None)
def trained_digits_cnn(epochs=12):
    """``(model, history_dict, x, y)``: ``digits_cnn`` trained on the first 1,500 digits.

    Reaches about 90 % accuracy on the remaining 297 in a few seconds on CPU.
    """
    x, y = digits()
    model = digits_cnn(0)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    hist = model.fit(x[:1500], y[:1500], validation_data=(x[1500:], y[1500:]), epochs=epochs,
                     batch_size=64, verbose=0)
    return model, hist.history, x, y


def accuracy(model, x, y):
    """Top-1 accuracy of ``model`` on ``(x, y)``."""
    return float(np.mean(np.argmax(model.predict(x, verbose=0), axis=1) == y))
