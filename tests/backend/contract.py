"""What every backend package's modules must do, written once; ``tests/backend/<name>/`` call these with
their own module, so each backend's tests mirror its package without repeating the checks.

Not a test module (no ``test_`` prefix): helpers the per-backend tests call.
"""

import keras
import numpy as np

from deepkit import backend
from deepkit.backend import keras_internals
from deepkit.backend import loops as shared


def _np(t):
    return keras.ops.convert_to_numpy(t)


# ------------------------------------------------------------------------------------------- gradients
def value_and_grad_of_a_quadratic_and_a_product(gradients):
    """Gradients against numpy: d/dx sum(x^2 w) = 2 x w, d/dw = x^2."""
    x = np.array([1.0, -2.0, 3.0], "float32")
    w = np.array([0.5, 2.0, -1.0], "float32")
    value, grad = gradients.value_and_grad(lambda a, b: keras.ops.sum(a ** 2 * b), (0, 1), False)(x, w)
    np.testing.assert_allclose(float(_np(value)), float(np.sum(x ** 2 * w)), rtol=1e-6)
    np.testing.assert_allclose(_np(grad[0]), 2 * x * w, rtol=1e-6)
    np.testing.assert_allclose(_np(grad[1]), x ** 2, rtol=1e-6)


def has_aux_and_an_unused_argument_gets_zeros(gradients):
    x = np.array([1.0, 2.0], "float32")
    fn = gradients.value_and_grad(lambda a, b: (keras.ops.sum(a * 3.0), "aux"), (0, 1), True)
    (value, aux), (ga, gb) = fn(x, np.ones(2, "float32"))
    assert aux == "aux" and float(_np(value)) == 9.0
    np.testing.assert_allclose(_np(ga), [3.0, 3.0])
    np.testing.assert_allclose(_np(gb), [0.0, 0.0])


def jit_reads_the_current_weights(gradients):
    layer = keras.layers.Dense(1, kernel_initializer="ones", use_bias=False)
    layer(np.zeros((1, 2), "float32"))
    f = gradients.jit(lambda t: layer(t), list(layer.variables))
    x = np.ones((1, 2), "float32")
    assert float(_np(f(x))[0, 0]) == 2.0
    layer.kernel.assign(np.full((2, 1), 3.0, "float32"))
    assert float(_np(f(x))[0, 0]) == 6.0  # not baked in as a constant


# ---------------------------------------------------------------------------------------------- device
def the_kind_and_free_memory_answer(device):
    assert device.accelerator_kind() in ("cpu", "gpu", "tpu")
    assert device.accelerator_kind() == backend.accelerator_kind()
    info = device.free_memory()
    assert info is None or (info[0] >= 0 and isinstance(info[1], str))
    if device.accelerator_kind() == "cpu":
        assert info is None  # the host's memory is memory.host_available()'s business


# ----------------------------------------------------------------------------------------------- loops
def _model():
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return m


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")


def the_loops_keep_the_protocol_and_a_memory_budget(loops):
    m = _model()
    x, y = _data()
    keras_internals.symbolic_build(m, (x[:4], y[:4], None))
    lp = loops.make_fit_loop(m)
    assert isinstance(lp, shared.Loops)
    budget = lp.memory_budget()
    assert budget is None or budget > 0
    lp.finish()


def two_steps_match_keras_train_on_batch(loops):
    x, y = _data()
    reference = _model()
    for i in range(2):
        reference.train_on_batch(x[4 * i:4 * i + 4], y[4 * i:4 * i + 4])
    m = _model()
    keras_internals.symbolic_build(m, (x[:4], y[:4], None))
    lp = loops.make_fit_loop(m)
    lp.train(lp.put((x, y, None)), None, 0, 0, 2, 4)
    lp.finish()
    np.testing.assert_allclose(_np(m.layers[0].kernel), _np(reference.layers[0].kernel), rtol=1e-5, atol=1e-6)


def a_plain_model(loops):
    """``fit_loop_unsupported`` of a plain compiled Dense model (``""``: accepted)."""
    return loops.fit_loop_unsupported(_model())
