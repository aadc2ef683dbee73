"""TensorFlow's devices: the accelerator kind, free memory, virtual CPU devices.

Example:
    >>> import keras
    >>> keras.backend.backend() != "tensorflow" or accelerator_kind() in ("cpu", "gpu", "tpu")
    True
"""

import tensorflow as tf


def accelerator_kind():
    """The kind of TensorFlow's default device.

    Returns:
        ``"tpu"``, ``"gpu"`` or ``"cpu"``.

    Example:
        >>> accelerator_kind() in ("cpu", "gpu", "tpu")
        True
    """
    if tf.config.list_physical_devices("TPU"):
        return "tpu"
    return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"


def free_memory():
    """None: TensorFlow does not report the size of a device's memory.

    Returns:
        None.

    Example:
        >>> free_memory() is None
        True
    """
    return None


def virtual_cpu_devices(n):
    """Split the host CPU into ``n`` logical devices (before TensorFlow's runtime starts).

    Args:
        n: a positive int.

    Returns:
        The logical CPU device names.

    Raises:
        RuntimeError: the runtime started with another number of CPU devices.

    Example:
        >>> len(virtual_cpu_devices(len(tf.config.list_logical_devices("CPU")))) >= 1
        True
    """
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * int(n))
    except RuntimeError:
        current = tf.config.list_logical_devices("CPU")
        if len(current) == n:
            return [d.name for d in current]
        raise RuntimeError(
            f"virtual_cpu_devices: TensorFlow's runtime has already started with {len(current)} CPU "
            f"device(s); call virtual_cpu_devices({n}) right after importing keras, before any "
            "tensor is created."
        ) from None
    return [d.name for d in tf.config.list_logical_devices("CPU")]
