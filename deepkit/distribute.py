"""Thin helpers to train on many devices and hosts with the engines Keras already has.

deepkit has no distributed engine of its own. On JAX (and torch) it uses ``keras.distribution``
(``DataParallel``: one replica per device, each batch split between them, gradients averaged); on
TensorFlow it uses ``tf.distribute`` (``MirroredStrategy`` on one host, ``MultiWorkerMirroredStrategy``
across hosts, ``TPUStrategy`` on Cloud TPU). These helpers only pick the right one for the current
backend and put the usual boilerplate in one place:

- :func:`data_parallel`: a context manager; build, compile and fit the model inside it.
- :func:`multi_worker`: the same across processes/hosts (``TF_CONFIG`` on TensorFlow,
  ``keras.distribution.initialize`` on JAX).
- :func:`virtual_cpu_devices`: split the host CPU into N devices, to try all of this on a laptop or
  in CI (must run before the backend starts).
- :func:`tf_config`: the ``TF_CONFIG`` JSON for a list of worker addresses.

The engines themselves are backend code (``deepkit/backend/tensorflow/distribute.py`` for
``tf.distribute``, ``deepkit/backend/distribution.py`` for ``keras.distribution``), picked by
:mod:`deepkit.backend`; this module imports no framework.

Example:
    >>> import keras, deepkit
    >>> from deepkit.distribute import data_parallel
    >>> with data_parallel() as replicas:
    ...     model = deepkit.from_spec([{"Dense": 2}], input_shape=(3,))
    ...     model.compile(optimizer="sgd", loss="mse")
    >>> replicas.num_replicas >= 1
    True
"""

import contextlib
import dataclasses
import json
import numbers

from deepkit import backend

__all__ = ["Replicas", "data_parallel", "multi_worker", "tf_config", "virtual_cpu_devices", "global_batch_size"]


@dataclasses.dataclass
class Replicas:
    """What :func:`data_parallel` / :func:`multi_worker` set up.

    Attributes:
        backend: the Keras backend name.
        engine: the ``tf.distribute.Strategy`` or ``keras.distribution.Distribution`` in use.
        num_replicas: how many model replicas take part in each step (all hosts together).
        devices: the device names of this process.

    Example:
        >>> with data_parallel() as replicas:
        ...     print(replicas.num_replicas >= 1, len(replicas.devices) >= 1)
        True True
    """

    backend: str
    engine: object
    num_replicas: int
    devices: list


def global_batch_size(per_replica, replicas):
    """The batch size to pass to ``fit`` so that each replica sees ``per_replica`` examples.

    Args:
        per_replica: examples per replica per step.
        replicas: a :class:`Replicas` or a number of replicas.

    Returns:
        ``per_replica * num_replicas``.

    Example:
        >>> global_batch_size(32, 4)
        128
    """
    n = replicas.num_replicas if isinstance(replicas, Replicas) else replicas
    for name, value in (("per_replica", per_replica), ("replicas", n)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"global_batch_size: {name} must be a positive integer. Received: {name}={value!r}")
    return int(per_replica) * int(n)


def virtual_cpu_devices(n):
    """Split the host CPU into ``n`` devices, to run data-parallel code without accelerators.

    Must be called before the backend runs its first operation (right after ``import keras``):
    JAX reads ``jax_num_cpu_devices`` when it starts, TensorFlow fixes its logical devices when its
    runtime starts. The same can be done from the shell with
    ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` (JAX).

    Args:
        n: number of CPU devices (>= 1).

    Returns:
        The list of device names now visible to the backend.

    Raises:
        RuntimeError: the backend has already started; the message says how to set it earlier.

    Example:
        >>> # In a fresh process: virtual_cpu_devices(4) -> ['cpu:0', 'cpu:1', 'cpu:2', 'cpu:3']
        >>> virtual_cpu_devices(0)
        Traceback (most recent call last):
        ...
        ValueError: virtual_cpu_devices: n must be a positive integer. Received: n=0
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"virtual_cpu_devices: n must be a positive integer. Received: n={n!r}")
    return backend.virtual_cpu_devices(int(n))


@contextlib.contextmanager
def data_parallel(devices=None, *, tpu=None):
    """Replicate the model on several devices of this host; build, compile and fit inside.

    - JAX / torch: ``keras.distribution.DataParallel(devices)`` in scope.
    - TensorFlow: ``tf.distribute.MirroredStrategy(devices)`` in scope, or, with ``tpu=``,
      ``tf.distribute.TPUStrategy`` on the named Cloud TPU (``tpu="local"`` on a TPU VM).

    ``fit``'s ``batch_size`` is the global batch, split between the replicas; with the same global
    batch the updates equal single-device training up to float rounding.

    Args:
        devices: device names (``"cpu:0"``/``"gpu:1"`` for keras.distribution, ``"/gpu:1"`` for
            TensorFlow); None for all devices of the default kind.
        tpu: TensorFlow only: the TPU name or address for ``TPUClusterResolver`` (None: no TPU).
            On JAX a TPU needs nothing special: its cores are the default devices.

    Yields:
        A :class:`Replicas`.

    Example:
        >>> import deepkit
        >>> with data_parallel() as replicas:
        ...     model = deepkit.from_spec([{"Dense": 2}], input_shape=(3,))
        >>> replicas.num_replicas == len(replicas.devices)
        True
    """
    with backend.data_parallel(devices, tpu=tpu) as (engine, num_replicas, names):
        yield Replicas(backend.name(), engine, num_replicas, list(names))


def tf_config(workers, index, *, task_type="worker"):
    """The ``TF_CONFIG`` JSON string for one process of a multi-worker TensorFlow job.

    Args:
        workers: ``"host:port"`` of every worker, the same list in every process.
        index: this process's position in ``workers``.
        task_type: ``"worker"`` (the chief is worker 0).

    Returns:
        A JSON string to put in ``os.environ["TF_CONFIG"]`` before TensorFlow starts.

    Example:
        >>> tf_config(["127.0.0.1:2222", "127.0.0.1:2223"], 1)
        '{"cluster": {"worker": ["127.0.0.1:2222", "127.0.0.1:2223"]}, "task": {"type": "worker", "index": 1}}'
    """
    workers = list(workers)
    if not workers or not all(isinstance(w, str) and ":" in w for w in workers):
        raise ValueError(f"tf_config: workers must be a non-empty list of 'host:port' strings. Received: {workers!r}")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(workers):
        raise ValueError(f"tf_config: index must be in [0, {len(workers)}). Received: index={index!r}")
    return json.dumps({"cluster": {task_type: workers}, "task": {"type": task_type, "index": index}})


@contextlib.contextmanager
def multi_worker(workers=None, index=None):
    """Synchronous data parallelism across processes or hosts; build, compile and fit inside.

    - TensorFlow: ``tf.distribute.MultiWorkerMirroredStrategy``. The cluster comes from
      ``TF_CONFIG``; pass ``workers`` and ``index`` to have it written for you.
    - JAX: ``keras.distribution.initialize`` (``jax.distributed``) with ``workers[0]`` as the
      coordinator, then ``DataParallel`` over the devices of all processes. On Cloud TPU pods and
      managed GPU clusters the arguments can be left out: they come from the environment.

    Every process runs the same script with the same data; each step's gradients are all-reduced, so
    all processes hold identical weights. Save checkpoints from worker 0 only. On TensorFlow, two
    Keras 3 bugs that otherwise stop ``fit`` under this strategy (keras-team/keras#20585) are
    worked around inside the ``with`` block.

    Args:
        workers: ``"host:port"`` of every process (None: from the environment).
        index: this process's position in ``workers``.

    Yields:
        A :class:`Replicas`.

    Example:
        >>> # on each of two hosts (index 0 and 1):
        >>> # with multi_worker(["10.0.0.1:2222", "10.0.0.2:2222"], index=i) as replicas:
        >>> #     model = deepkit.models.create("resnet50"); model.compile(...); model.fit(...)
        >>> tf_config(["10.0.0.1:2222", "10.0.0.2:2222"], 0).startswith('{"cluster"')
        True
    """
    if (workers is None) != (index is None):
        raise ValueError("multi_worker: give both workers and index, or neither (to read them from the "
                         f"environment). Received: workers={workers!r}, index={index!r}")
    cluster = None
    if workers is not None:
        tf_config(workers, index)  # checks the addresses and the index
        cluster = {"workers": list(workers), "index": index}
    with backend.multi_worker(cluster) as (engine, num_replicas, names):
        yield Replicas(backend.name(), engine, num_replicas, list(names))
