"""deepkit/backend/jax/loops.py: the fast path's compiled loops on jax keep the Loops protocol and train as Keras."""

import keras
import pytest

pytest.importorskip("jax")
pytestmark = pytest.mark.backends("jax", reason="the jax backend's own module")

from deepkit.backend.jax import loops  # noqa: E402
from tests.backend import contract  # noqa: E402


def test_the_loops_keep_the_protocol_and_a_memory_budget():
    contract.the_loops_keep_the_protocol_and_a_memory_budget(loops)


def test_two_steps_match_keras_train_on_batch():
    contract.two_steps_match_keras_train_on_batch(loops)


def test_a_model_compiled_without_jit_is_refused_with_the_reason():
    m = keras.Sequential([keras.layers.Dense(1)])
    m.compile(loss="mse", jit_compile=False)
    assert "jit_compile=False" in loops.fit_loop_unsupported(m)
    assert contract.a_plain_model(loops) == ""
