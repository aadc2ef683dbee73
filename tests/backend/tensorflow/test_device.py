"""deepkit/backend/tensorflow/device.py: the accelerator kind, free memory, virtual CPU devices."""

import pytest

pytest.importorskip("tensorflow")
pytestmark = pytest.mark.backends("tensorflow", reason="the tensorflow backend's own module")

from deepkit import backend  # noqa: E402
from deepkit.backend.tensorflow import device  # noqa: E402


def test_the_kind_and_free_memory_answer():
    assert device.accelerator_kind() in ("cpu", "gpu", "tpu")
    assert device.accelerator_kind() == backend.accelerator_kind()
    info = device.free_memory()
    assert info is None or (info[0] >= 0 and isinstance(info[1], str))
    if device.accelerator_kind() == "cpu":
        assert info is None  # the host's memory is memory.host_available()'s business


def test_virtual_cpu_devices_keeps_a_started_runtime_as_it_is():
    import tensorflow as tf

    n = len(tf.config.list_logical_devices("CPU"))
    assert len(device.virtual_cpu_devices(n)) == n
    with pytest.raises(RuntimeError, match=f"already started with {n} CPU"):
        device.virtual_cpu_devices(n + 3)
