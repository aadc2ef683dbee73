"""Crash safety: SIGKILL mid-epoch and mid-checkpoint-write, then resume to the same weights.

The training runs in child processes (so they can really be killed with SIGKILL); the test checks
the return code, what is on disk after each kill, and that the final weights equal those of an
uninterrupted run. Fast in-process tests cover the checkpoint format, the Checkpoint callback with
plain ``fit``, atomic ``.keras`` saving and the NaN stop.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import warnings

import keras
import numpy as np
import pytest

import deepkit
from deepkit.train.checkpoint import (
    Checkpoint,
    CheckpointError,
    StopOnNaN,
    TrainingDivergedError,
    fit_resumable,
    latest_checkpoint,
    list_checkpoints,
    restore_checkpoint,
    save_checkpoint,
    save_model,
)

SPEC = {
    "input_shape": [8, 8, 1],
    "layers": [
        {"Conv2D": {"filters": 8, "kernel_size": 3, "activation": "relu"}},
        "Flatten",
        {"Dropout": 0.3},
        {"Dense": {"units": 16, "activation": "relu"}},
        {"Dense": 10},
    ],
}

CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    import numpy as np
    import keras
    import deepkit
    from deepkit.train import checkpoint as ckpt

    directory, out, plan = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    keras.utils.set_random_seed(0)
    (x, y), _ = deepkit.datasets.digits(seed=0)
    x, y = x[:384], y[:384]
    model = deepkit.from_spec(json.loads(os.environ["DEEPKIT_TEST_SPEC"]))
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    class KillMidEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_end(self, batch, logs=None):
            # ">=": the fast path reports batch ends once per compiled call, not after every batch
            at = plan.get("mid_epoch")
            if at is not None and self.epoch == at[0] and batch >= at[1]:
                die()

    if "mid_write" in plan:  # die halfway through writing state.npz of that epoch's checkpoint
        original = ckpt._write_file
        def torn_write(path, data):
            if path.endswith("state.npz") and getattr(ckpt, "_current", None) == plan["mid_write"]:
                with open(path, "wb") as f:
                    f.write(data[: len(data) // 2])
                    f.flush(); os.fsync(f.fileno())
                die()
            return original(path, data)
        ckpt._write_file = torn_write
    original_save = ckpt.save_checkpoint
    def save(model, directory, epoch, **kw):
        ckpt._current = epoch
        return original_save(model, directory, epoch, **kw)
    ckpt.save_checkpoint = save

    history = ckpt.fit_resumable(model, x, y, directory=directory, epochs=5, batch_size=32, seed=7,
                                 callbacks=[KillMidEpoch()])
    np.savez(out, *[np.asarray(w) for w in model.get_weights()])
    with open(out + ".json", "w") as f:
        json.dump(history.history, f)
    """
)


def run_child(tmp_path, directory, plan, name):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    out = tmp_path / f"{name}.npz"
    env = dict(os.environ, DEEPKIT_TEST_SPEC=json.dumps(SPEC), PYTHONHASHSEED="0", TF_CPP_MIN_LOG_LEVEL="3",
               CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, str(script), str(directory), str(out), json.dumps(plan)],
                          env=env, capture_output=True, text=True, timeout=240)
    return proc, out


def load_weights(out):
    with np.load(out) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


FAST_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    import keras
    from deepkit.train import fit
    from deepkit.train.checkpoint import Checkpoint

    directory, out, kill_after = sys.argv[1], sys.argv[2], int(sys.argv[3])
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 8)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")
    inp = keras.Input((8,))
    h = keras.layers.Dropout(0.2)(keras.layers.Dense(16, activation="relu")(inp))
    model = keras.Model(inp, keras.layers.Dense(2)(h))
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    class Kill(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == kill_after:  # after Checkpoint saved this epoch
                os.kill(os.getpid(), signal.SIGKILL)

    history = fit(model, x, y, batch_size=16, epochs=4, verbose=0,
                  callbacks=[Checkpoint(directory), Kill()])
    assert history.fast["path"] == "device" and history.fast["steps_per_call"] == 6, history.fast
    np.savez(out, *[np.asarray(w) for w in model.get_weights()])
    """
)


@pytest.mark.slow
@pytest.mark.backends("jax", "tensorflow", reason="the fast path's compiled loops")
def test_sigkill_after_epoch_two_then_rerun_equals_uninterrupted_on_the_fast_path(tmp_path):
    """Issue 27 item 7: the default fast path with shuffling, killed after epoch 2 of 4 and rerun.

    Before, the shuffle stream started afresh in the rerun (4e-3 away); now each epoch's order is
    a function of the seed (drawn when fit starts) and the epoch. Plant: the old per-fit seed
    stream (``epoch - initial_epoch`` as the pass index) fails it."""
    script = tmp_path / "fast_child.py"
    script.write_text(FAST_CHILD)
    env = dict(os.environ, PYTHONHASHSEED="0", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
               JAX_PLATFORMS="cpu")

    def run(directory, out, kill_after):
        return subprocess.run([sys.executable, str(script), str(tmp_path / directory),
                               str(tmp_path / out), str(kill_after)],
                              env=env, capture_output=True, text=True, timeout=240)

    proc = run("whole", "whole.npz", 0)
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = run("killed", "never.npz", 2)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr[-3000:])
    assert [os.path.basename(p) for p in list_checkpoints(tmp_path / "killed")] == [
        "epoch-000001", "epoch-000002"]
    proc = run("killed", "resumed.npz", 0)
    assert proc.returncode == 0, proc.stderr[-3000:]
    whole, resumed = np.load(tmp_path / "whole.npz"), np.load(tmp_path / "resumed.npz")
    for k in whole.files:
        np.testing.assert_array_equal(resumed[k], whole[k], err_msg=k)


@pytest.mark.slow
def test_sigkill_mid_epoch_and_mid_checkpoint_write_then_resume_matches_uninterrupted(tmp_path):
    # The reference: the same run as the child's, never interrupted (here, in this process).
    keras.utils.set_random_seed(0)
    (x, y), _ = deepkit.datasets.digits(seed=0)
    model = deepkit.from_spec(SPEC)
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    reference_history = fit_resumable(model, x[:384], y[:384], directory=tmp_path / "ref", epochs=5,
                                      batch_size=32, seed=7).history
    reference = weights(model)

    directory = tmp_path / "run"
    kills = [
        # 1. SIGKILL in the middle of the third epoch: epochs 1 and 2 are checkpointed.
        ({"mid_epoch": [2, 5]}, 2),
        # 2. SIGKILL halfway through writing the epoch-4 state file: epoch 3 must stay the latest.
        ({"mid_write": 4}, 3),
    ]
    for i, (plan, expected_epoch) in enumerate(kills):
        proc, _ = run_child(tmp_path, directory, plan, f"killed{i}")
        assert proc.returncode == -signal.SIGKILL, (plan, proc.returncode, proc.stderr[-3000:])
        latest = latest_checkpoint(directory)
        assert latest is not None and latest.endswith(f"epoch-{expected_epoch:06d}"), (plan, latest)
        meta = json.loads(open(os.path.join(latest, "meta.json")).read())
        assert meta["epoch"] == expected_epoch and len(meta["history"]["loss"]) == expected_epoch
        # The last good checkpoint reads back completely (a torn file would fail to load).
        with np.load(os.path.join(latest, "state.npz"), allow_pickle=False) as f:
            assert len(f.files) >= len(meta["model_variables"])
        if "mid_write" in plan:
            assert any(n.startswith(".tmp-") for n in os.listdir(directory))  # the torn write is set aside

    proc, out = run_child(tmp_path, directory, {}, "resumed")
    assert proc.returncode == 0, proc.stderr[-3000:]
    resumed = load_weights(out)
    history = json.loads((tmp_path / "resumed.npz.json").read_text())
    assert len(resumed) == len(reference)
    for a, b in zip(resumed, reference):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(history["loss"], reference_history["loss"], rtol=1e-6)
    assert not any(n.startswith(".tmp-") for n in os.listdir(directory))  # leftovers cleaned


def test_crash_before_rename_keeps_previous_checkpoint(tmp_path, monkeypatch):
    model = small_model()
    save_checkpoint(model, tmp_path, 1)
    good = weights(model)
    model.set_weights([w + 1 for w in good])
    real_rename = os.rename

    def crash(src, dst):
        if os.path.basename(dst) == "epoch-000002":
            raise KeyboardInterrupt("killed between writing and renaming")
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(model, tmp_path, 2)
    monkeypatch.undo()
    assert [os.path.basename(p) for p in list_checkpoints(tmp_path)] == ["epoch-000001"]
    assert restore_checkpoint(model, tmp_path)["epoch"] == 1
    for a, b in zip(weights(model), good):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- in-process
def small_model(seed=0):
    keras.utils.set_random_seed(seed)
    model = deepkit.from_spec(SPEC)
    # No jit/XLA compilation: the steps are tiny and compile time would dominate.
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=False)
    return model


@pytest.fixture(scope="module")
def digits_small():
    (x, y), _ = deepkit.datasets.digits(seed=0)
    return x[:96], y[:96]


def weights(model):
    return [np.array(w) for w in model.get_weights()]


def test_checkpoint_callback_resume_equals_uninterrupted(tmp_path, digits_small):
    x, y = digits_small
    reference_model = small_model()
    initial = weights(reference_model)
    keras.utils.set_random_seed(5)
    reference_model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0)
    reference = weights(reference_model)

    first = small_model()
    first.set_weights(initial)
    keras.utils.set_random_seed(5)
    ckpt = Checkpoint(tmp_path / "ck")
    first.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0, callbacks=[ckpt])
    assert [os.path.basename(p) for p in list_checkpoints(tmp_path / "ck")] == ["epoch-000001", "epoch-000002"]

    # A new process would build a fresh model with other initial weights and other RNG states.
    second = small_model(seed=99)
    history = second.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0,
                         callbacks=[Checkpoint(tmp_path / "ck")])
    assert len(history.history["loss"]) == 1  # only the third epoch ran
    for a, b in zip(weights(second), reference):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert second._initial_epoch is None  # a later fit starts at epoch 0 again


def test_checkpoint_saves_dropout_rng_and_optimizer_state(tmp_path, digits_small):
    x, y = digits_small
    model = small_model()
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    save_checkpoint(model, tmp_path, 1)
    seed_states = [np.array(v.value) for v in model.variables if "seed_generator" in v.path]
    assert seed_states, "the Dropout layer's seed generator state is a model variable"
    optimizer_state = [np.array(v.value) for v in model.optimizer.variables]

    other = small_model(seed=3)
    meta = restore_checkpoint(other, tmp_path)
    assert meta["epoch"] == 1
    for a, b in zip([np.array(v.value) for v in other.variables if "seed_generator" in v.path], seed_states):
        np.testing.assert_array_equal(a, b)
    for a, b in zip([np.array(v.value) for v in other.optimizer.variables], optimizer_state):
        np.testing.assert_array_equal(a, b)
    # Same state -> same next step, dropout included.
    model.fit(x, y, epochs=1, batch_size=64, verbose=0, shuffle=False)
    other.fit(x, y, epochs=1, batch_size=64, verbose=0, shuffle=False)
    for a, b in zip(weights(model), weights(other)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_restore_refuses_a_different_model(tmp_path):
    model = small_model()
    save_checkpoint(model, tmp_path, 1)
    other = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    other.compile(optimizer="adam", loss="mse")
    with pytest.raises(CheckpointError, match=r"holds \d+ model variables but the model has \d+"):
        restore_checkpoint(other, tmp_path)
    with pytest.raises(CheckpointError, match=r"no complete checkpoint in"):
        restore_checkpoint(model, tmp_path / "empty")


def test_damaged_newest_checkpoint_falls_back_to_previous(tmp_path):
    model = small_model()
    save_checkpoint(model, tmp_path, 1)
    good = weights(model)
    model.set_weights([w + 1 for w in good])
    newest = save_checkpoint(model, tmp_path, 2)
    with open(os.path.join(newest, "state.npz"), "r+b") as f:  # disk corruption after the fact
        f.truncate(100)
    with pytest.warns(RuntimeWarning, match="cannot be read"):
        meta = restore_checkpoint(model, tmp_path)
    assert meta["epoch"] == 1
    for a, b in zip(weights(model), good):
        np.testing.assert_array_equal(a, b)


def test_keep_prunes_old_checkpoints_and_stale_temporaries(tmp_path):
    model = small_model()
    (tmp_path / ".tmp-deadbeef").mkdir()  # left by a killed writer
    for epoch in range(1, 5):
        save_checkpoint(model, tmp_path, epoch, keep=2)
    assert sorted(os.listdir(tmp_path)) == ["epoch-000003", "epoch-000004"]
    with pytest.raises(ValueError, match=r"keep must be an integer >= 1\. Received: keep=0"):
        save_checkpoint(model, tmp_path, 5, keep=0)


def test_fit_resumable_continues_and_matches(tmp_path, digits_small):
    x, y = digits_small
    reference_model = small_model()
    initial = weights(reference_model)
    reference_history = fit_resumable(reference_model, x, y, directory=tmp_path / "a", epochs=3, seed=1)
    reference = weights(reference_model)

    model = small_model()
    model.set_weights(initial)
    fit_resumable(model, x, y, directory=tmp_path / "b", epochs=2, seed=1)
    # "Restart": fresh model, same directory, more epochs.
    restarted = small_model(seed=42)
    history = fit_resumable(restarted, x, y, directory=tmp_path / "b", epochs=3, seed=1)
    assert len(history.history["loss"]) == 3
    np.testing.assert_allclose(history.history["loss"], reference_history.history["loss"], rtol=1e-6)
    for a, b in zip(weights(restarted), reference):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_fit_resumable_callbacks_see_one_run_and_early_stopping_ends_it(tmp_path, digits_small):
    x, y = digits_small
    events = []

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append("begin")

        def on_epoch_end(self, epoch, logs=None):
            events.append(epoch)
            if epoch == 1:
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            events.append("end")

    model = small_model()
    history = fit_resumable(model, x, y, directory=tmp_path, epochs=5, callbacks=[Recorder()])
    assert events == ["begin", 0, 1, "end"]
    assert len(history.history["loss"]) == 2


def test_save_model_is_atomic(tmp_path, monkeypatch):
    model = small_model()
    path = tmp_path / "model.keras"
    save_model(model, path)
    before = path.read_bytes()
    reloaded = keras.saving.load_model(path)
    assert reloaded.count_params() == model.count_params()

    def crash(self, filepath, **kwargs):
        with open(filepath, "wb") as f:
            f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt("killed while saving")

    monkeypatch.setattr(type(model), "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_model(model, path)
    assert path.read_bytes() == before  # the previous file is untouched
    assert sorted(os.listdir(tmp_path)) == ["model.keras"]  # and no temporary is left
    with pytest.raises(ValueError, match=r"must end in '\.keras'\. Received: filepath='m\.h5'"):
        save_model(model, "m.h5")


# ----------------------------------------------------------------------------- NaN
class WeightRecorder(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.before = {}

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self.before[(self.epoch, batch)] = [np.array(v.value) for v in self.model.variables]


def diverging_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse", jit_compile=False)
    return model


def test_nan_loss_stops_with_message_and_keeps_last_good_weights():
    x = np.random.default_rng(0).normal(size=(256, 3)).astype("float32") * 30
    y = np.ones((256, 1), "float32")
    model = diverging_model()
    recorder, stop = WeightRecorder(), StopOnNaN()
    with pytest.warns(RuntimeWarning, match=r"StopOnNaN: the loss became (nan|inf) at epoch 1, batch \d+; "
                                            r"training stopped and the weights were restored to those used at "
                                            r"epoch 1, batch \d+ \(the last batch with a finite loss\)"):
        history = model.fit(x, y, batch_size=16, epochs=5, verbose=0, shuffle=False,
                            callbacks=[recorder, stop])
    epoch, batch = stop.stopped_at
    assert (epoch, batch) == (0, int(stop.message.split("batch ")[1].split(";")[0]) - 1)
    assert len(history.history["loss"]) == 1  # stopped in the first epoch
    restored = [np.array(v.value) for v in model.variables]
    assert all(np.all(np.isfinite(w)) for w in restored)
    good_batch = int(stop.message.split("used at epoch 1, batch ")[1].split(" ")[0]) - 1
    assert good_batch == batch - 1
    for a, b in zip(restored, recorder.before[(0, good_batch)]):
        np.testing.assert_array_equal(a, b)
    # Those weights give a finite loss on the batch they were last used on.
    xb, yb = x[good_batch * 16:(good_batch + 1) * 16], y[good_batch * 16:(good_batch + 1) * 16]
    assert np.isfinite(model.evaluate(xb, yb, verbose=0))


def test_nan_loss_can_raise():
    x = np.random.default_rng(0).normal(size=(256, 3)).astype("float32") * 30
    model = diverging_model()
    with pytest.raises(TrainingDivergedError, match=r"became (nan|inf) at epoch 1"):
        model.fit(x, np.ones((256, 1)), batch_size=16, epochs=5, verbose=0,
                  callbacks=[StopOnNaN(raise_error=True)])
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


def test_finite_training_is_untouched():
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    a, b = diverging_model(), diverging_model()
    a.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", jit_compile=False)
    b.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", jit_compile=False)
    stop = StopOnNaN()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        a.fit(x, np.ones((64, 1)), batch_size=16, epochs=2, verbose=0, shuffle=False, callbacks=[stop])
    b.fit(x, np.ones((64, 1)), batch_size=16, epochs=2, verbose=0, shuffle=False)
    assert stop.stopped_at is None and stop.message is None
    for u, v in zip(weights(a), weights(b)):
        np.testing.assert_array_equal(u, v)
