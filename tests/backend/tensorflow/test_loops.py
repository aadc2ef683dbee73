"""deepkit/backend/tensorflow/loops.py: the fast path's compiled loops on tensorflow keep the Loops protocol and train as Keras."""

import keras
import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytestmark = pytest.mark.backends("tensorflow", reason="the tensorflow backend's own module")

from deepkit.backend import keras_internals  # noqa: E402
from deepkit.backend import loops as shared  # noqa: E402
from deepkit.backend.tensorflow import loops  # noqa: E402


def _model():
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return m


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")


def test_the_loops_keep_the_protocol_and_a_memory_budget():
    m = _model()
    x, y = _data()
    keras_internals.symbolic_build(m, (x[:4], y[:4], None))
    lp = loops.make_fit_loop(m)
    assert isinstance(lp, shared.Loops)
    budget = lp.memory_budget()
    assert budget is None or budget > 0
    lp.finish()


def test_two_steps_match_keras_train_on_batch():
    x, y = _data()
    reference = _model()
    for i in range(2):
        reference.train_on_batch(x[4 * i:4 * i + 4], y[4 * i:4 * i + 4])
    m = _model()
    keras_internals.symbolic_build(m, (x[:4], y[:4], None))
    lp = loops.make_fit_loop(m)
    lp.train(lp.put((x, y, None)), None, 0, 0, 2, 4)
    lp.finish()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(m.layers[0].kernel),
                               keras.ops.convert_to_numpy(reference.layers[0].kernel), rtol=1e-5, atol=1e-6)


def test_a_plain_model_is_accepted():
    assert loops.fit_loop_unsupported(_model()) == ""
