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

The tensorflow/jax imports below are lazy and local to the functions that need them (the backend
switch point of this module), like ``deepkit/backend``.

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
import importlib
import json
import numbers
import os

import keras

__all__ = ["Replicas", "data_parallel", "multi_worker", "tf_config", "virtual_cpu_devices", "global_batch_size"]


def _backend():
    return keras.backend.backend()


def _tf():
    return importlib.import_module("tensorflow")


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
    backend = _backend()
    if backend == "jax":
        jax = importlib.import_module("jax")
        try:
            jax.config.update("jax_num_cpu_devices", int(n))
        except RuntimeError:  # JAX has started: fine if it already has n CPU devices
            current = keras.distribution.list_devices("cpu")
            if len(current) == n:
                return current
            raise RuntimeError(
                f"virtual_cpu_devices: JAX has already started with {len(current)} CPU device(s); call "
                f"virtual_cpu_devices({n}) before the first JAX operation, or start Python with "
                f"XLA_FLAGS=--xla_force_host_platform_device_count={n}."
            ) from None
        return keras.distribution.list_devices("cpu")
    if backend == "tensorflow":
        tf = _tf()
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
    raise RuntimeError(f"virtual_cpu_devices: not supported on the {backend!r} backend (use jax or tensorflow).")


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
    backend = _backend()
    if backend == "tensorflow":
        tf = _tf()
        if tpu is not None:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="" if tpu == "local" else tpu)
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
            strategy = tf.distribute.TPUStrategy(resolver)
        else:
            strategy = tf.distribute.MirroredStrategy(devices=devices)
        with strategy.scope():
            yield Replicas(backend, strategy, strategy.num_replicas_in_sync, list(strategy.extended.worker_devices))
        return
    if tpu is not None:
        raise ValueError(f"data_parallel: tpu= is for the tensorflow backend; on {backend} the TPU cores are "
                         f"the default devices. Received: tpu={tpu!r}")
    devices = list(devices) if devices is not None else keras.distribution.list_devices()
    distribution = keras.distribution.DataParallel(devices=devices)
    with distribution.scope():
        yield Replicas(backend, distribution, len(devices), devices)


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
def _keras_multi_worker_fixes(tf):
    """Work around two Keras 3 bugs that stop ``fit`` under ``MultiWorkerMirroredStrategy``.

    keras-team/keras#20585 (tensorflow/tensorflow#72388): (1) ``_maybe_symbolic_build`` averages a
    peeked input batch across workers with an eager collective, which fails on ``PerReplica``
    values; it only needs the shapes, so the local replica's batch is used instead. (2) the
    per-step logs (scalars) are averaged with ``strategy.reduce("MEAN", v, axis=0)``, invalid for
    rank-0 values; ``axis=None`` averages across replicas as intended. Both patches are active only
    inside :func:`multi_worker` and are skipped if Keras' internals have changed.
    """
    try:
        from keras import tree

        from deepkit.backend.keras_internals import tensorflow_trainer

        tf_trainer = tensorflow_trainer()
        trainer_cls = tf_trainer.TensorFlowTrainer
        original_build = trainer_cls._maybe_symbolic_build
        original_reduce = tf_trainer.reduce_per_replica
        is_multi_worker = tf_trainer._collective_all_reduce_multi_worker
    except (ImportError, AttributeError):  # pragma: no cover - a Keras that changed these internals
        yield
        return

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        if self._distribute_strategy is None:
            return
        if iterator is not None:
            for _, _, it in iterator:
                batch = next(it)
                data_batch = tree.map_structure(
                    lambda v: self.distribute_strategy.experimental_local_results(v)[0]
                    if isinstance(v, tf.distribute.DistributedValues) else v,
                    batch,
                )
                break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and is_multi_worker(strategy):
            return tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return original_reduce(values, strategy, reduction)

    trainer_cls._maybe_symbolic_build = maybe_symbolic_build
    tf_trainer.reduce_per_replica = reduce_per_replica
    try:
        yield
    finally:
        trainer_cls._maybe_symbolic_build = original_build
        tf_trainer.reduce_per_replica = original_reduce


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
    backend = _backend()
    if (workers is None) != (index is None):
        raise ValueError("multi_worker: give both workers and index, or neither (to read them from the "
                         f"environment). Received: workers={workers!r}, index={index!r}")
    if backend == "tensorflow":
        if workers is not None:
            os.environ["TF_CONFIG"] = tf_config(workers, index)
        tf = _tf()
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        with _keras_multi_worker_fixes(tf), strategy.scope():
            yield Replicas(backend, strategy, strategy.num_replicas_in_sync, list(strategy.extended.worker_devices))
        return
    if workers is not None:
        keras.distribution.initialize(job_addresses=",".join(workers), num_processes=len(workers), process_id=index)
    else:
        keras.distribution.initialize()
    devices = keras.distribution.list_devices()
    distribution = keras.distribution.DataParallel(devices=devices)
    with distribution.scope():
        yield Replicas(backend, distribution, len(devices), devices)
