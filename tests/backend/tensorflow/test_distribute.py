"""deepkit/backend/tensorflow/distribute.py: data parallelism through tf.distribute."""

import pytest

pytest.importorskip("tensorflow")
pytestmark = pytest.mark.backends("tensorflow", reason="the tensorflow backend's own module")

from deepkit.backend.tensorflow import distribute  # noqa: E402


def test_data_parallel_on_one_cpu_has_one_replica():
    with distribute.data_parallel(["/cpu:0"]) as (engine, replicas, devices):
        assert replicas == 1 and len(devices) == 1
        assert engine.num_replicas_in_sync == 1
