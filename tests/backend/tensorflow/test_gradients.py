"""deepkit/backend/tensorflow/gradients.py: value_and_grad and jit on tensorflow, checked against gradients written in numpy."""

import pytest

pytest.importorskip("tensorflow")
pytestmark = pytest.mark.backends("tensorflow", reason="the tensorflow backend's own module")

from deepkit.backend.tensorflow import gradients  # noqa: E402
from tests.backend import contract  # noqa: E402


def test_value_and_grad_of_a_quadratic_and_a_product():
    contract.value_and_grad_of_a_quadratic_and_a_product(gradients)


def test_has_aux_and_an_unused_argument_gets_zeros():
    contract.has_aux_and_an_unused_argument_gets_zeros(gradients)


def test_jit_reads_the_current_weights():
    contract.jit_reads_the_current_weights(gradients)
