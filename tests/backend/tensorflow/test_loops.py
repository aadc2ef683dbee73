"""deepkit/backend/tensorflow/loops.py: the fast path's compiled loops on tensorflow keep the Loops protocol and train as Keras."""

import pytest

pytest.importorskip("tensorflow")
pytestmark = pytest.mark.backends("tensorflow", reason="the tensorflow backend's own module")

from deepkit.backend.tensorflow import loops  # noqa: E402
from tests.backend import contract  # noqa: E402


def test_the_loops_keep_the_protocol_and_a_memory_budget():
    contract.the_loops_keep_the_protocol_and_a_memory_budget(loops)


def test_two_steps_match_keras_train_on_batch():
    contract.two_steps_match_keras_train_on_batch(loops)


def test_a_plain_model_is_accepted():
    assert contract.a_plain_model(loops) == ""
