"""Data and small trained models shared by engineer A's viz tests (helpers only, no tests).

Built from ``sklearn.datasets.load_digits`` (bundled, no download) or generated data with
fixed seeds, cached per process so several test files share one trained model.
"""

import functools

import keras
import numpy as np


@functools.lru_cache(maxsize=None)
def digits():
    """``(x, y)``: the 1,797 sklearn digits as ``(N, 8, 8, 1)`` float32 in [0, 1] and labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0).astype("float32")[..., None], d.target.astype("int64")


def digits_cnn(seed=0):
    """conv16-conv32-GAP-dense(softmax): 8x8 feature maps and a CAM-style head."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
            keras.layers.GlobalAveragePooling2D(name="gap"),
            keras.layers.Dense(10, activation="softmax", name="out"),
        ],
        name="digits_cnn",
    )


@functools.lru_cache(maxsize=None)
def trained_digits_cnn():
    """``(model, x, y, accuracy on the 297 held-out digits)``; ~85 %, trains in ~6 s."""
    x, y = digits()
    model = digits_cnn(0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    model.fit(x[:1500], y[:1500], epochs=12, batch_size=64, verbose=0)
    acc = float(np.mean(np.argmax(model.predict(x[1500:], verbose=0), 1) == y[1500:]))
    return model, x, y, acc


SIZE = 16
_PATTERNS = np.zeros((4, 5, 5), "float32")
_PATTERNS[0, 2, :] = 1.0  # horizontal bar
_PATTERNS[1, :, 2] = 1.0  # vertical bar
_PATTERNS[2] = np.eye(5)  # diagonal
_PATTERNS[3, 2, :] = _PATTERNS[3, :, 2] = 1.0  # plus


def pattern_data(n, seed=0):
    """Synthetic task with a known answer.

    16x16 grey images of uniform noise in [0, 0.4] with two bright objects at random,
    non-overlapping places: a 5x5 line pattern whose shape is the class (horizontal bar,
    vertical bar, diagonal, plus) and a 3x3 bright square distractor that every class has.
    Only the pattern decides the class, so an attribution must point at it, not at the
    (brighter, larger) distractor.

    Returns:
        ``(x (n, 16, 16, 1), y (n,), boxes (n, 4) of the pattern as (y0, x0, y1, x1))``.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 0.4, (n, SIZE, SIZE, 1)).astype("float32")
    y = rng.integers(0, 4, n)
    boxes = np.zeros((n, 4), int)
    for i, c in enumerate(y):
        while True:
            py, px = rng.integers(0, SIZE - 5 + 1, 2)
            dy, dx = rng.integers(0, SIZE - 3 + 1, 2)
            if dy + 3 <= py or dy >= py + 5 or dx + 3 <= px or dx >= px + 5:
                break
        x[i, dy : dy + 3, dx : dx + 3, 0] = 1.0
        region = x[i, py : py + 5, px : px + 5, 0]
        x[i, py : py + 5, px : px + 5, 0] = np.where(_PATTERNS[c] > 0, 1.0, region)
        boxes[i] = (py, px, py + 5, px + 5)
    return x, y.astype("int64"), boxes


@functools.lru_cache(maxsize=None)
def trained_pattern_cnn():
    """``(model, accuracy on fresh data)`` for :func:`pattern_data` (GAP head, CAM-ready)."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 1)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(2, name="pool"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
            keras.layers.GlobalMaxPooling2D(name="gmp"),
            keras.layers.Dense(4, activation="softmax", name="out"),
        ],
        name="pattern_cnn",
    )
    x, y, _ = pattern_data(2000, seed=1)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=8, batch_size=64, verbose=0)
    xt, yt, _ = pattern_data(300, seed=2)
    acc = float(np.mean(np.argmax(model.predict(xt, verbose=0), 1) == yt))
    return model, acc
