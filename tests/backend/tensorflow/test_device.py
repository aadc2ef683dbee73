"""deepkit/backend/tensorflow/device.py: the accelerator kind, free memory, virtual CPU devices."""

import pytest

pytest.importorskip("tensorflow")
pytestmark = pytest.mark.backends("tensorflow", reason="the tensorflow backend's own module")

from deepkit.backend.tensorflow import device  # noqa: E402
from tests.backend import contract  # noqa: E402


def test_the_kind_and_free_memory_answer():
    contract.the_kind_and_free_memory_answer(device)


def test_virtual_cpu_devices_keeps_a_started_runtime_as_it_is():
    import tensorflow as tf

    n = len(tf.config.list_logical_devices("CPU"))
    assert len(device.virtual_cpu_devices(n)) == n
    with pytest.raises(RuntimeError, match=f"already started with {n} CPU"):
        device.virtual_cpu_devices(n + 3)
