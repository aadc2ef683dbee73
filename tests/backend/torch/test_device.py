"""deepkit/backend/torch/device.py: the accelerator kind, free memory, virtual CPU devices."""

import pytest

pytest.importorskip("torch")
pytestmark = pytest.mark.backends("torch", reason="the torch backend's own module")

from deepkit.backend.torch import device  # noqa: E402
from tests.backend import contract  # noqa: E402


def test_the_kind_and_free_memory_answer():
    contract.the_kind_and_free_memory_answer(device)
