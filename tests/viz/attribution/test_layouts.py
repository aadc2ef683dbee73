"""Channels-first models (issue: maps came back over the wrong axes, ``(2, 1, 28)`` for
``(2, 1, 28, 28)`` inputs) and the last chunk's padding (Integrated Gradients evaluated a whole
batch for a remainder of 2 rows)."""

import functools

import keras
import numpy as np
import pytest

from deepkit.viz import attribution as A
from deepkit.viz import engine as engine_lib


def _twins():
    """The same weights in a channels-last and a channels-first model."""
    def build(fmt):
        shape = (8, 8, 2) if fmt == "channels_last" else (2, 8, 8)
        return keras.Sequential([
            keras.Input(shape),
            keras.layers.Conv2D(3, 3, padding="same", activation="relu", data_format=fmt, name="c1"),
            keras.layers.Conv2D(4, 3, activation="tanh", data_format=fmt, name="c2"),
            keras.layers.GlobalAveragePooling2D(data_format=fmt),
            keras.layers.Dense(3, name="out"),
        ])

    keras.utils.set_random_seed(0)
    last, first = build("channels_last"), build("channels_first")
    first.set_weights(last.get_weights())  # Conv2D kernels are (kh, kw, in, out) in both layouts
    return last, first


_twins = functools.lru_cache(maxsize=None)(_twins)


@pytest.mark.parametrize("name", A.list_methods())
def test_channels_first_models_get_the_channels_last_maps(name):
    """Every registered method, on a channels-first model, gives the maps of its channels-last twin.

    Planted error caught: saliency reducing the last axis of (N, C, H, W) gradients (the
    original bug: maps of shape (N, C, H)); Grad-CAM not moving channels-first feature maps
    and gradients to channels last.
    """
    last, first = _twins()
    x = np.random.default_rng(0).random((2, 8, 8, 2)).astype("float32")
    method = A.get_method(name)
    options = dict(method.quick, batch_size=16)
    if method.needs_layer:
        options["layer"] = "c2"
    want = method.function(last, x, [0, 2], **options)
    got = method.function(first, np.moveaxis(x, -1, 1), [0, 2], **options)
    assert got.shape == want.shape == (2, 8, 8)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * max(np.abs(want).max(), 1e-6))


def test_the_last_chunk_is_padded_to_a_power_of_two_not_a_batch(monkeypatch):
    """Integrated Gradients, 2 images, steps=32: 66 rows are evaluated as 64 + 2, not 64 + 64.

    Planted error caught: the last chunk padded to batch_size (the original behaviour).
    """
    last, _ = _twins()
    eng = engine_lib.engine(last)
    fn = eng.input_gradient_fn()
    seen = []
    monkeypatch.setattr(eng, "input_gradient_fn", lambda backward=None: lambda *a: seen.append(len(a[0])) or fn(*a))
    x = np.random.default_rng(0).random((2, 8, 8, 2)).astype("float32")
    A.integrated_gradients(last, x, 0, steps=32, batch_size=64)
    assert seen == [64, 2]
    monkeypatch.setattr(eng, "_pads", lambda: True)  # as on a compiling backend (jax, tensorflow)
    assert [c[2] for c in eng.chunks(66, 64)] == [64, 2]
    assert [c[2] for c in eng.chunks(100, 64)] == [64, 64]  # 36 rows: the next power of two
    assert [c[2] for c in eng.chunks(69, 64)] == [64, 8]
