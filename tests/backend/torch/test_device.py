"""deepkit/backend/torch/device.py: the accelerator kind, free memory, virtual CPU devices."""

import pytest

pytest.importorskip("torch")
pytestmark = pytest.mark.backends("torch", reason="the torch backend's own module")

from deepkit import backend  # noqa: E402
from deepkit.backend.torch import device  # noqa: E402


def test_the_kind_and_free_memory_answer():
    assert device.accelerator_kind() in ("cpu", "gpu", "tpu")
    assert device.accelerator_kind() == backend.accelerator_kind()
    info = device.free_memory()
    assert info is None or (info[0] >= 0 and isinstance(info[1], str))
    if device.accelerator_kind() == "cpu":
        assert info is None  # the host's memory is memory.host_available()'s business
