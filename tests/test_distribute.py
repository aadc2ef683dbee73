"""Scale-out with the existing engines, on virtual CPU devices and local worker processes.

- JAX: ``keras.distribution.DataParallel`` over 4 virtual CPU devices (``deepkit.distribute``).
- TensorFlow: ``tf.distribute.MirroredStrategy`` over 4 logical CPU devices.
- TensorFlow: ``MultiWorkerMirroredStrategy`` with two local worker processes (``TF_CONFIG`` on
  127.0.0.1 ports), bounded in time, agreeing with the single-process run.

Each run trains the zoo's LeNet-5 on 28x28 digits from the same initial weights and compares the
final weights with single-device training on the same global batches. The device count must be
fixed before the backend starts, so every run is a child process; the JAX test runs when the suite
runs on JAX, the TensorFlow ones when it runs on TensorFlow (CI runs both).
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest

from deepkit import distribute

CHILD = textwrap.dedent(
    """
    import json, os, sys
    import keras
    from deepkit import distribute

    mode, out, init = sys.argv[1], sys.argv[2], sys.argv[3]
    extra = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    devices = distribute.virtual_cpu_devices(extra["devices"]) if "devices" in extra else None

    import numpy as np
    import deepkit

    (x, y), _ = deepkit.datasets.digits(image_size=28, seed=0)
    x, y = x[:256], y[:256]
    with np.load(init) as f:
        w0 = [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]

    def train(scope_info=None):
        model = deepkit.models.create("lenet5", num_classes=10, classifier_activation=None)
        model.set_weights(w0)
        model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = model.fit(x, y, batch_size=64, epochs=2, shuffle=False, verbose=0)
        return model, history.history["loss"]

    result = {"devices": devices}
    arrays = {}
    if mode in ("single", "dp"):
        model, loss = train()
        arrays.update({f"single_{i}": np.asarray(w) for i, w in enumerate(model.get_weights())})
        result["single_loss"] = loss
    if mode == "dp":
        with distribute.data_parallel() as replicas:
            model, loss = train()
            variable = model.trainable_variables[0]
            if keras.backend.backend() == "jax":
                placed = len(variable.value.sharding.device_set)
            else:
                placed = len(getattr(variable.value, "values", [variable.value]))
        result.update(num_replicas=replicas.num_replicas, variable_copies=placed, parallel_loss=loss,
                      engine=type(replicas.engine).__name__)
        arrays.update({f"parallel_{i}": np.asarray(w) for i, w in enumerate(model.get_weights())})
    if mode == "worker":
        with distribute.multi_worker(extra["workers"], extra["index"]) as replicas:
            model, loss = train()
        result.update(num_replicas=replicas.num_replicas, parallel_loss=loss, engine=type(replicas.engine).__name__)
        arrays.update({f"parallel_{i}": np.asarray(w) for i, w in enumerate(model.get_weights())})
    np.savez(out, **arrays)
    with open(out + ".json", "w") as f:
        json.dump(result, f)
    """
)


def child_env(backend):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0",
               CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
    env.pop("TF_CONFIG", None)
    env.pop("XLA_FLAGS", None)
    return env


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """The child script and one set of initial LeNet-5 weights shared by every run."""
    import deepkit

    root = tmp_path_factory.mktemp("distributed")
    (root / "child.py").write_text(CHILD)
    keras.utils.set_random_seed(0)
    model = deepkit.models.create("lenet5", num_classes=10, classifier_activation=None)
    np.savez(root / "init.npz", **{f"w_{i}": np.asarray(w) for i, w in enumerate(model.get_weights())})
    return root


def start(root, backend, mode, name, extra=None):
    args = [sys.executable, str(root / "child.py"), mode, str(root / f"{name}.npz"), str(root / "init.npz")]
    if extra is not None:
        args.append(json.dumps(extra))
    return subprocess.Popen(args, env=child_env(backend), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(procs, timeout):
    """Wait for all processes, killing every one of them if the time runs out."""
    deadline = time.monotonic() + timeout
    outputs = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            outputs.append((proc.returncode, err))
    except subprocess.TimeoutExpired:
        for proc in procs:
            proc.kill()
            proc.communicate()
        pytest.fail(f"distributed run did not finish within {timeout} s")
    for code, err in outputs:
        assert code == 0, err[-4000:]


def results(root, name, prefix):
    with np.load(root / f"{name}.npz") as f:
        weights = [f[k] for k in sorted((k for k in f.files if k.startswith(prefix)), key=lambda k: int(k.split("_")[1]))]
    return weights, json.loads((root / f"{name}.npz.json").read_text())


def assert_same_training(a, b, rtol=2e-4, atol=2e-5):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=rtol, atol=atol)


@pytest.mark.slow
@pytest.mark.backends("jax", reason="runs with the suite's jax pass")
def test_jax_data_parallel_on_4_virtual_cpu_devices_matches_one_device(setup):
    finish([start(setup, "jax", "dp", "jax_dp", {"devices": 4})], timeout=300)
    single, info = results(setup, "jax_dp", "single_")
    parallel, _ = results(setup, "jax_dp", "parallel_")
    assert info["devices"] == ["cpu:0", "cpu:1", "cpu:2", "cpu:3"]
    assert info["engine"] == "DataParallel" and info["num_replicas"] == 4
    assert info["variable_copies"] == 4  # the weights really live on the four devices
    assert_same_training(parallel, single)
    np.testing.assert_allclose(info["parallel_loss"], info["single_loss"], rtol=1e-4)
    assert not np.allclose(parallel[0], np.load(setup / "init.npz")["w_0"])  # it did train


@pytest.mark.slow
@pytest.mark.backends("tensorflow", reason="runs with the suite's tensorflow pass")
def test_tf_mirrored_strategy_on_4_logical_cpu_devices_matches_one_device(setup):
    finish([start(setup, "tensorflow", "dp", "tf_dp", {"devices": 4})], timeout=300)
    single, info = results(setup, "tf_dp", "single_")
    parallel, _ = results(setup, "tf_dp", "parallel_")
    assert len(info["devices"]) == 4
    assert info["engine"] == "MirroredStrategy" and info["num_replicas"] == 4
    assert info["variable_copies"] == 4  # one mirrored copy per device
    assert_same_training(parallel, single)
    np.testing.assert_allclose(info["parallel_loss"], info["single_loss"], rtol=1e-4)


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
@pytest.mark.backends("tensorflow", reason="runs with the suite's tensorflow pass")
def test_tf_multi_worker_two_local_processes_agree_with_single_process(setup):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    procs = [start(setup, "tensorflow", "single", "mw_single")]
    procs += [start(setup, "tensorflow", "worker", f"mw_worker{i}", {"workers": workers, "index": i}) for i in range(2)]
    finish(procs, timeout=300)
    single, info = results(setup, "mw_single", "single_")
    w0, info0 = results(setup, "mw_worker0", "parallel_")
    w1, info1 = results(setup, "mw_worker1", "parallel_")
    assert info0["engine"] in ("MultiWorkerMirroredStrategy", "CollectiveAllReduceStrategy") and info0["num_replicas"] == 2 == info1["num_replicas"]
    # Synchronous all-reduce: both workers hold the same weights ...
    assert_same_training(w0, w1, rtol=1e-6, atol=1e-7)
    # ... equal to one process training on the same global batches.
    assert_same_training(w0, single)
    np.testing.assert_allclose(info0["parallel_loss"], info["single_loss"], rtol=1e-4)


# ----------------------------------------------------------------------------- in-process helpers
def test_helpers_validate_their_arguments():
    with pytest.raises(ValueError, match=r"n must be a positive integer\. Received: n=0"):
        distribute.virtual_cpu_devices(0)
    with pytest.raises(ValueError, match=r"index must be in \[0, 2\)\. Received: index=2"):
        distribute.tf_config(["a:1", "b:2"], 2)
    with pytest.raises(ValueError, match=r"workers must be a non-empty list of 'host:port' strings"):
        distribute.tf_config(["localhost"], 0)
    with pytest.raises(ValueError, match=r"give both workers and index, or neither"):
        with distribute.multi_worker(["a:1"]):
            pass
    assert distribute.global_batch_size(32, 4) == 128
    config = json.loads(distribute.tf_config(["h0:1", "h1:2"], 1))
    assert config == {"cluster": {"worker": ["h0:1", "h1:2"]}, "task": {"type": "worker", "index": 1}}


def test_virtual_devices_after_start_is_a_clear_error():
    keras.ops.ones(1)  # the backend has started in this process
    with pytest.raises(RuntimeError, match=r"already started with \d+ CPU device\(s\); call virtual_cpu_devices\(7\)"):
        distribute.virtual_cpu_devices(7)


def test_data_parallel_on_one_device_trains_like_plain_fit():
    import deepkit

    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    y = (x.sum(1, keepdims=True) > 0).astype("float32")
    keras.utils.set_random_seed(0)
    plain = deepkit.from_spec([{"Dense": 1}], input_shape=(3,))
    start_weights = [np.array(w) for w in plain.get_weights()]
    plain.compile(optimizer="sgd", loss="mse", jit_compile=False)
    plain.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    with distribute.data_parallel() as replicas:
        model = deepkit.from_spec([{"Dense": 1}], input_shape=(3,))
        model.set_weights(start_weights)
        model.compile(optimizer="sgd", loss="mse", jit_compile=False)
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert replicas.num_replicas == len(replicas.devices) >= 1
    assert_same_training([np.array(w) for w in model.get_weights()], [np.array(w) for w in plain.get_weights()],
                         rtol=1e-5, atol=1e-6)
