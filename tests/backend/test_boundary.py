"""The backend boundary and the models' move to deepkit/core/: dispatch, lazy framework imports, former
import paths, and ``.keras`` files saved before the move (tests/data/*_v0.keras, written by the code before
it: a deepkit.Model with a residual block and a deepkit.Sequential holding a Block)."""

import importlib.util
import os
import pathlib
import pickle
import subprocess
import sys

import keras
import numpy as np
import pytest

import deepkit
from deepkit import backend
from deepkit.backend import keras_internals

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
OTHERS = {"tensorflow": ("jax", "torch"), "jax": ("tensorflow", "torch"), "torch": ("tensorflow", "jax")}


def fresh_python(code, backend_name):
    env = dict(os.environ, PYTHONPATH=str(ROOT), KERAS_BACKEND=backend_name, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env)


# ------------------------------------------------------------------------------------------------ dispatch
def test_implementation_finds_a_backend_packages_modules():
    for name, package in backend.PACKAGES.items():
        for part in ("gradients", "loops", "device", "distribute"):
            exists = (ROOT / "deepkit" / "backend" / name / f"{part}.py").exists()
            assert (importlib.util.find_spec(f"{package}.{part}") is not None) == exists, (name, part)
    assert backend.implementation("loops", "torch") is None
    assert backend.implementation("gradients", "numpy") is None
    assert backend.implementation("loops", "no-such-backend") is None


def test_fit_loop_says_why_not_on_a_backend_without_loops(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    reason = backend.fit_loop_unsupported()
    assert "compiled loops for jax, tensorflow only" in reason and "'torch'" in reason
    with pytest.raises(backend.FastPathUnsupported, match="Received: backend='torch'"):
        backend.fit_loop(keras.Sequential([keras.layers.Dense(1)]))


@pytest.mark.skipif(not backend.capabilities().fit_loops, reason="a backend with compiled loops")
def test_fit_loop_is_the_backends_own_and_releases_the_state():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer="sgd", loss="mse")
    keras_internals.symbolic_build(model, (np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32"), None))
    loops = backend.fit_loop(model)
    assert type(loops).__module__ == f"deepkit.backend.{keras.backend.backend()}.loops"
    data = loops.put((np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), None))
    loops.train(data, None, 0, 0, 2, 4)
    loops.finish()
    assert keras_internals.jax_state(model) is None
    assert np.abs(keras.ops.convert_to_numpy(model.layers[0].kernel)).sum() > 0  # trained, written back


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="jax trainer state")
def test_jax_fit_without_jit_compile_goes_to_keras():
    model = deepkit.from_spec([{"Dense": 1}], input_shape=(2,))
    model.compile(optimizer="sgd", loss="mse", jit_compile=False)
    history = model.fit(np.zeros((8, 2)), np.zeros((8, 1)), verbose=0)
    assert history.fast["path"] == "keras" and "jit_compile=False" in history.fast["reason"]


def test_device_queries_answer_on_every_backend():
    assert backend.accelerator_kind() in ("cpu", "gpu", "tpu")
    info = backend.device_memory()
    assert info is None or info[0] >= 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tensorflow", "jax"])
def test_importing_and_training_on_one_backend_imports_no_other_framework(name):
    code = ("import sys, numpy as np, deepkit, deepkit.train, deepkit.distribute, deepkit.backend.gradients\n"
            "m = deepkit.from_spec([{'Dense': 1}], input_shape=(2,)); m.compile(optimizer='sgd', loss='mse')\n"
            "m.fit(np.zeros((8, 2)), np.zeros((8, 1)), verbose=0)\n"
            "with deepkit.distribute.data_parallel():\n    pass\n"
            "print(sorted({k.split('.')[0] for k in sys.modules} & {'tensorflow', 'jax', 'torch'}))\n")
    result = fresh_python(code, name)
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = result.stdout.strip().splitlines()[-1]
    # Keras itself imports jax on the tensorflow backend; deepkit adds no framework.
    allowed = {"tensorflow": {"tensorflow", "jax"}, "jax": {"jax"}}[name]
    assert set(eval(loaded)) <= allowed, loaded
    assert "torch" not in loaded


# ------------------------------------------------------------------------------------ Keras internals
def test_every_internal_function_says_why_and_which_keras():
    import inspect

    missing = []
    for name, fn in vars(keras_internals).items():
        if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != keras_internals.__name__:
            continue
        doc = inspect.getdoc(fn) or ""
        if name in ("parse_version", "check_keras_version", "attached", "jax_state_synced"):
            continue  # version checks; helpers documented with their pair (attach, jax_state)
        if "Keras 3.10" not in doc and "keras.src" not in doc and "Keras 3.10-3.15" not in doc:
            missing.append(name)
    assert not missing, f"keras_internals functions without the Keras versions checked: {missing}"


def test_the_resume_epoch_round_trips():
    model = keras.Sequential([keras.layers.Dense(1)])
    assert keras_internals.initial_epoch(model) is None
    keras_internals.set_initial_epoch(model, 4)
    assert keras_internals.initial_epoch(model) == 4


def test_attach_refuses_a_key_that_could_be_keras_own():
    with pytest.raises(ValueError, match="must start with '_deepkit_'. Received: key='_layers'"):
        keras_internals.attach(keras.Sequential(), "_layers", [])


# --------------------------------------------------------------------------------- the models' new home
def test_the_former_homes_are_retired():
    """``deepkit.spec.model`` / ``.sequential`` and the models offered in ``deepkit.spec`` were retired
    (CHANGELOG 0.2.0): the language offers the language only."""
    import importlib

    for name in ("Model", "Sequential", "from_spec", "to_spec", "build_document"):
        assert not hasattr(deepkit.spec, name), name
    for former in ("deepkit.spec.model", "deepkit.spec.sequential"):
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(former)


def test_the_registered_names_are_unchanged():
    names = {keras.saving.get_registered_name(c) for c in (deepkit.Model, deepkit.Sequential, deepkit.spec.Block)}
    assert names == {"deepkit>Model", "deepkit>Sequential", "deepkit>Block"}


@pytest.mark.parametrize("kind", ["model", "sequential"])
def test_files_saved_before_the_move_load(kind):
    expected = np.load(DATA / "expected_v0.npz")
    loaded = keras.saving.load_model(DATA / f"{kind}_v0.keras")
    assert isinstance(loaded, deepkit.Model if kind == "model" else deepkit.Sequential)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(expected["x"])), expected[kind], rtol=1e-5,
                               atol=1e-6)
    assert loaded.to_spec()["layers"]


def test_a_model_pickles():
    model = deepkit.Sequential([{"Dense": 2}], input_shape=(3,))
    assert pickle.loads(pickle.dumps(model)).count_params() == 8


def test_spec_builds_into_any_model_class():
    from deepkit.spec.build import build_model
    from deepkit.spec.parse import load_document

    model = build_model(load_document([{"Dense": 2}]), keras.Model, input_shape=(3,))
    assert isinstance(model, keras.Model) and not isinstance(model, deepkit.Model)
    assert model.count_params() == 8
