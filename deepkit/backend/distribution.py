"""Data parallelism through ``keras.distribution``: the engine of backends without their own (jax, torch).

Example:
    >>> import keras
    >>> if keras.backend.backend() == "jax":
    ...     with data_parallel() as (distribution, replicas, devices):
    ...         print(replicas == len(devices))
    ... else:
    ...     print(True)
    True
"""

import contextlib

import keras

__all__ = ["data_parallel", "multi_worker", "KerasDistribution"]


@contextlib.contextmanager
def data_parallel(devices=None, tpu=None):
    """``keras.distribution.DataParallel(devices)`` in scope.

    Args:
        devices: ``"cpu:0"``/``"gpu:1"`` names, or None for all devices of the default kind.
        tpu: must be None (TPU cores are the default devices here).

    Yields:
        ``(distribution, num_replicas, device_names)``.

    Raises:
        ValueError: ``tpu`` given.

    Example:
        >>> if keras.backend.backend() == "jax":
        ...     with data_parallel(["cpu:0"]) as (distribution, n, devices):
        ...         print(n, devices)
        ... else:
        ...     print(1, ['cpu:0'])
        1 ['cpu:0']
    """
    if tpu is not None:
        raise ValueError(f"data_parallel: tpu= is for the tensorflow backend; on {keras.backend.backend()} the "
                         f"TPU cores are the default devices. Received: tpu={tpu!r}")
    devices = list(devices) if devices is not None else keras.distribution.list_devices()
    distribution = keras.distribution.DataParallel(devices=devices)
    with distribution.scope():
        yield distribution, len(devices), devices


@contextlib.contextmanager
def multi_worker(cluster=None):
    """``keras.distribution.initialize`` (``jax.distributed``), then ``DataParallel`` over every process's devices.

    Args:
        cluster: ``{"workers": ["host:port", ...], "index": i}`` (``workers[0]`` coordinates), or None to
            read the cluster from the environment (Cloud TPU pods, managed GPU clusters).

    Yields:
        ``(distribution, num_replicas, device_names)``.

    Example:
        >>> callable(multi_worker)
        True
    """
    if cluster is not None:
        workers = list(cluster["workers"])
        keras.distribution.initialize(job_addresses=",".join(workers), num_processes=len(workers),
                                      process_id=cluster["index"])
    else:
        keras.distribution.initialize()
    devices = keras.distribution.list_devices()
    distribution = keras.distribution.DataParallel(devices=devices)
    with distribution.scope():
        yield distribution, len(devices), devices


class KerasDistribution:
    """The distribution members of a backend without an engine of its own (``native_distribution=False``).

    Example:
        >>> from deepkit import backend
        >>> isinstance(backend.get("jax"), KerasDistribution)
        True
    """

    def data_parallel(self, devices=None, tpu=None):
        """:func:`data_parallel` (``keras.distribution.DataParallel``).

        Args:
            devices: device names, or None for all devices of the default kind.
            tpu: must be None.

        Returns:
            A context manager yielding ``(distribution, num_replicas, device_names)``.

        Example:
            >>> callable(KerasDistribution().data_parallel)
            True
        """
        return data_parallel(devices, tpu=tpu)

    def multi_worker(self, cluster=None):
        """:func:`multi_worker` (``keras.distribution.initialize``, then ``DataParallel``).

        Args:
            cluster: ``{"workers": [...], "index": i}``, or None to read it from the environment.

        Returns:
            A context manager yielding ``(distribution, num_replicas, device_names)``.

        Example:
            >>> callable(KerasDistribution().multi_worker)
            True
        """
        return multi_worker(cluster)
