"""deepkit/backend/jax/device.py: the accelerator kind, free memory, virtual CPU devices."""

import pytest

pytest.importorskip("jax")
pytestmark = pytest.mark.backends("jax", reason="the jax backend's own module")

from deepkit.backend.jax import device  # noqa: E402
from tests.backend import contract  # noqa: E402


def test_the_kind_and_free_memory_answer():
    contract.the_kind_and_free_memory_answer(device)


def test_virtual_cpu_devices_keeps_a_started_jax_as_it_is():
    import jax

    n = len(jax.devices("cpu"))
    assert len(device.virtual_cpu_devices(n)) == n
    with pytest.raises(RuntimeError, match=f"{n} CPU device"):
        device.virtual_cpu_devices(n + 3)
