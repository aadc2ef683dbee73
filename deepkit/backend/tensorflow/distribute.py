"""Data parallelism on TensorFlow: ``tf.distribute`` strategies (mirrored, multi-worker, TPU).

Example:
    >>> import keras
    >>> if keras.backend.backend() == "tensorflow":
    ...     with data_parallel() as (strategy, replicas, devices):
    ...         print(replicas == len(devices))
    ... else:
    ...     print(True)
    True
"""

import contextlib
import json
import os

import tensorflow as tf

from deepkit.backend.keras_internals import tensorflow_multi_worker_fixes


def _engine(strategy):
    return strategy, strategy.num_replicas_in_sync, list(strategy.extended.worker_devices)


@contextlib.contextmanager
def data_parallel(devices=None, tpu=None):
    """``tf.distribute.MirroredStrategy(devices)`` in scope, or ``TPUStrategy`` on the named Cloud TPU.

    Args:
        devices: TensorFlow device names (``"/gpu:1"``), or None for all.
        tpu: the TPU name or address for ``TPUClusterResolver`` (``"local"`` on a TPU VM), or None.

    Yields:
        ``(strategy, num_replicas, device_names)``.

    Example:
        >>> import keras
        >>> if keras.backend.backend() == "tensorflow":
        ...     with data_parallel() as (strategy, n, devices):
        ...         print(n >= 1)
        ... else:
        ...     print(True)
        True
    """
    if tpu is not None:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="" if tpu == "local" else tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        strategy = tf.distribute.TPUStrategy(resolver)
    else:
        strategy = tf.distribute.MirroredStrategy(devices=devices)
    with strategy.scope():
        yield _engine(strategy)


def _local_value(strategy, value):
    """The local replica's value of a distributed value; anything else as it is."""
    if isinstance(value, tf.distribute.DistributedValues):
        return strategy.experimental_local_results(value)[0]
    return value


@contextlib.contextmanager
def multi_worker(cluster=None):
    """``tf.distribute.MultiWorkerMirroredStrategy`` in scope, with Keras' multi-worker ``fit`` fixed.

    Args:
        cluster: ``{"workers": [...], "index": i}`` to write ``TF_CONFIG`` from, or None (read it from the
            environment).

    Yields:
        ``(strategy, num_replicas, device_names)``.

    Example:
        >>> callable(multi_worker)
        True
    """
    if cluster is not None:
        os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": list(cluster["workers"])},
                                              "task": {"type": "worker", "index": cluster["index"]}})
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with tensorflow_multi_worker_fixes(_local_value), strategy.scope():
        yield _engine(strategy)
