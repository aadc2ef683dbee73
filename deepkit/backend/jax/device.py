"""JAX's devices: the accelerator kind, free memory, virtual CPU devices.

Example:
    >>> import keras
    >>> keras.backend.backend() != "jax" or accelerator_kind() in ("cpu", "gpu", "tpu")
    True
"""

import jax
import keras


def accelerator_kind():
    """The kind of JAX's default device.

    Returns:
        ``"gpu"``, ``"tpu"`` or ``"cpu"``.

    Example:
        >>> accelerator_kind() in ("cpu", "gpu", "tpu")
        True
    """
    platform = jax.devices()[0].platform
    return {"cuda": "gpu", "rocm": "gpu"}.get(platform, platform)


def free_memory():
    """Free memory of JAX's default accelerator, or None on CPU or where it does not report.

    Returns:
        ``(bytes_free, device_name)`` or None.

    Example:
        >>> info = free_memory()
        >>> info is None or info[0] >= 0
        True
    """
    device = jax.devices()[0]
    if device.platform == "cpu":
        return None
    stats = device.memory_stats() or {}
    if "bytes_limit" in stats:
        return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0)), str(device)
    return None


def virtual_cpu_devices(n):
    """Split the host CPU into ``n`` devices (``jax_num_cpu_devices``, read when JAX starts).

    Args:
        n: a positive int.

    Returns:
        The CPU device names, as ``keras.distribution.list_devices("cpu")`` gives them.

    Raises:
        RuntimeError: JAX started with another number of CPU devices.

    Example:
        >>> len(virtual_cpu_devices(len(jax.devices("cpu")))) >= 1
        True
    """
    try:
        jax.config.update("jax_num_cpu_devices", int(n))
    except (RuntimeError, AttributeError) as err:
        # RuntimeError: JAX has started; AttributeError: a JAX before 0.4.31 has no such option (only the
        # XLA flag). Either way it is fine if JAX already has n CPU devices.
        current = keras.distribution.list_devices("cpu")
        if len(current) == n:
            return current
        why = ("has already started with" if isinstance(err, RuntimeError)
               else f"{jax.__version__} cannot change its CPU device count at run time; it has")
        raise RuntimeError(
            f"virtual_cpu_devices: JAX {why} {len(current)} CPU device(s); call "
            f"virtual_cpu_devices({n}) before the first JAX operation, or start Python with "
            f"XLA_FLAGS=--xla_force_host_platform_device_count={n}."
        ) from None
    return keras.distribution.list_devices("cpu")
