"""deepkit/backend/torch/gradients.py: value_and_grad and jit on torch, checked against gradients written in numpy."""

import pytest

pytest.importorskip("torch")
pytestmark = pytest.mark.backends("torch", reason="the torch backend's own module")

from deepkit.backend.torch import gradients  # noqa: E402
from tests.backend import contract  # noqa: E402


def test_value_and_grad_of_a_quadratic_and_a_product():
    contract.value_and_grad_of_a_quadratic_and_a_product(gradients)


def test_has_aux_and_an_unused_argument_gets_zeros():
    contract.has_aux_and_an_unused_argument_gets_zeros(gradients)


def test_jit_reads_the_current_weights():
    contract.jit_reads_the_current_weights(gradients)


def test_no_grad_records_nothing():
    import torch

    with gradients.no_grad():
        assert not torch.is_grad_enabled()
