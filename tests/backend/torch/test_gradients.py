"""deepkit/backend/torch/gradients.py: value_and_grad and jit on torch, checked against gradients written in numpy."""

import keras
import numpy as np
import pytest

pytest.importorskip("torch")
pytestmark = pytest.mark.backends("torch", reason="the torch backend's own module")

from deepkit.backend.torch import gradients  # noqa: E402


def _np(t):
    return keras.ops.convert_to_numpy(t)


def test_value_and_grad_of_a_quadratic_and_a_product():
    x = np.array([1.0, -2.0, 3.0], "float32")
    w = np.array([0.5, 2.0, -1.0], "float32")
    value, grad = gradients.value_and_grad(lambda a, b: keras.ops.sum(a ** 2 * b), (0, 1), False)(x, w)
    np.testing.assert_allclose(float(_np(value)), float(np.sum(x ** 2 * w)), rtol=1e-6)
    np.testing.assert_allclose(_np(grad[0]), 2 * x * w, rtol=1e-6)  # d/dx sum(x^2 w) = 2 x w
    np.testing.assert_allclose(_np(grad[1]), x ** 2, rtol=1e-6)


def test_has_aux_and_an_unused_argument_gets_zeros():
    x = np.array([1.0, 2.0], "float32")
    fn = gradients.value_and_grad(lambda a, b: (keras.ops.sum(a * 3.0), "aux"), (0, 1), True)
    (value, aux), (ga, gb) = fn(x, np.ones(2, "float32"))
    assert aux == "aux" and float(_np(value)) == 9.0
    np.testing.assert_allclose(_np(ga), [3.0, 3.0])
    np.testing.assert_allclose(_np(gb), [0.0, 0.0])


def test_jit_reads_the_current_weights():
    layer = keras.layers.Dense(1, kernel_initializer="ones", use_bias=False)
    layer(np.zeros((1, 2), "float32"))
    f = gradients.jit(lambda t: layer(t), list(layer.variables))
    x = np.ones((1, 2), "float32")
    assert float(_np(f(x))[0, 0]) == 2.0
    layer.kernel.assign(np.full((2, 1), 3.0, "float32"))
    assert float(_np(f(x))[0, 0]) == 6.0  # not baked in as a constant


def test_no_grad_records_nothing():
    import torch

    with gradients.no_grad():
        assert not torch.is_grad_enabled()
