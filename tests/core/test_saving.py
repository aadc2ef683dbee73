"""deepkit's .keras files load in plain Keras, and come back as deepkit models with deepkit (issue 27.2).

Before: a deepkit model's file named the class ``deepkit>Model``, found only through Keras' custom-object
registry: without ``import deepkit`` (or after ``keras.saving.get_custom_objects().clear()``, as Keras'
serialization guide does) every such file failed with ``Could not locate class 'Model'``. Now the file names
``keras.Model`` / ``keras.Sequential`` with Keras' own config (see deepkit/core/saving.py); files written before
(tests/data/*_v0.keras) keep loading.
"""

import json
import os
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest

import deepkit
from deepkit.core import saving
from deepkit.models.loading import ModelFileError, load_model_file, load_problem

from tests import ROOT

DATA = os.path.join(ROOT, "tests", "data")

#: Runs with deepkit unimportable (a sys.meta_path finder refusing it), as if it were not installed.
PLAIN_KERAS = r"""
import json, sys
class NoDeepkit:
    def find_spec(self, name, path=None, target=None):
        if name == "deepkit" or name.startswith("deepkit."):
            raise ImportError("deepkit is not installed here")
sys.meta_path.insert(0, NoDeepkit())
import keras, numpy as np
x = np.load(sys.argv[1])["x"]
found = {}
for path in sys.argv[2:]:
    try:
        model = keras.saving.load_model(path)
        found[path] = {"class": type(model).__name__, "out": np.asarray(model(x)).tolist()}
    except Exception as exc:
        found[path] = {"error": str(exc)[:3000]}
found["deepkit imported"] = "deepkit" in sys.modules
print(json.dumps(found))
"""


def plain_keras(tmp_path, x, paths):
    np.savez(tmp_path / "x.npz", x=x)
    result = subprocess.run([sys.executable, "-c", PLAIN_KERAS, str(tmp_path / "x.npz"), *map(str, paths)],
                            capture_output=True, text=True, timeout=600, cwd=str(tmp_path),
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=""))
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def outputs(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


@pytest.fixture
def registry():
    """Keras' custom-object registry, restored after a test that clears it."""
    saved = dict(keras.saving.get_custom_objects())
    yield keras.saving.get_custom_objects()
    keras.saving.get_custom_objects().clear()
    keras.saving.get_custom_objects().update(saved)


def test_files_of_keras_layers_load_in_plain_keras_and_files_with_deepkit_layers_name_deepkit(tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 6)).astype("float32")
    models = {
        "spec.keras": deepkit.from_spec({"input_shape": [6], "layers": [
            {"Dense": {"units": 5, "activation": "relu"}},
            {"residual": {"layers": [{"Dense": 5}], "activation": "relu"}}, {"Dense": 3}]}),
        "sequential.keras": deepkit.Sequential([{"Dense": 4}, keras.layers.Dense(2, name="out")], input_shape=(6,)),
        "block.keras": deepkit.Sequential([{"Dense": 6}, deepkit.Residual([{"Dense": 6}])], input_shape=(6,)),
    }
    inp = keras.Input((6,))
    models["functional.keras"] = deepkit.Model(inp, keras.layers.Dense(2)(keras.layers.Dense(3)(inp)))
    for name, model in models.items():
        model.save(tmp_path / name)
    found = plain_keras(tmp_path, x, [tmp_path / name for name in models])
    assert found.pop("deepkit imported") is False
    for name in ("spec.keras", "sequential.keras", "functional.keras"):
        got = found[str(tmp_path / name)]
        assert got.get("class") in ("Functional", "Sequential"), got
        np.testing.assert_allclose(np.array(got["out"]), outputs(models[name], x), rtol=1e-5, atol=1e-6)
    error = found[str(tmp_path / "block.keras")]["error"]
    assert "Could not locate class 'Block'" in error and "import deepkit before keras.saving.load_model" in error


def test_with_deepkit_the_file_comes_back_as_a_deepkit_model_with_its_spec_and_fast_fit(tmp_path):
    model = deepkit.from_spec([{"Dense": 4}, {"Dense": 1}], input_shape=(3,))
    model.save(tmp_path / "m.keras")
    config = json.loads(zipfile.ZipFile(tmp_path / "m.keras").read("config.json"))
    assert (config["module"], config["class_name"], config["registered_name"]) == ("keras", "Model", "Model")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(loaded, deepkit.Model) and loaded.to_spec() == model.to_spec()
    x = np.random.default_rng(1).normal(size=(16, 3)).astype("float32")
    np.testing.assert_allclose(outputs(loaded, x), outputs(model, x), rtol=1e-6)
    loaded.compile(optimizer="sgd", loss="mse")
    history = loaded.fit(x, x[:, :1], epochs=1, verbose=0)
    assert "path" in history.fast
    sequential = deepkit.Sequential([{"Dense": 2}], input_shape=(3,))
    sequential.save(tmp_path / "s.keras")
    assert type(keras.saving.load_model(tmp_path / "s.keras")) is deepkit.Sequential


@pytest.mark.parametrize("kind", ["model", "sequential"])
def test_files_saved_before_keep_loading(kind):
    config = json.loads(zipfile.ZipFile(os.path.join(DATA, f"{kind}_v0.keras")).read("config.json"))
    assert config["registered_name"].startswith("deepkit>")  # the former format
    loaded = keras.saving.load_model(os.path.join(DATA, f"{kind}_v0.keras"))
    assert isinstance(loaded, deepkit.Model if kind == "model" else deepkit.Sequential)


def test_after_the_registry_is_cleared_saved_models_load_as_deepkit_models(tmp_path, registry):
    model = deepkit.from_spec([{"Dense": 2}], input_shape=(3,))
    blocks = deepkit.Sequential([deepkit.Residual([{"Dense": 3}])], input_shape=(3,))
    registry.clear()  # as the "serialization and saving" guide does
    model.save(tmp_path / "m.keras")
    blocks.save(tmp_path / "b.keras")
    assert isinstance(keras.saving.load_model(tmp_path / "m.keras"), deepkit.Model)
    assert keras.saving.load_model(tmp_path / "b.keras").to_spec() == blocks.to_spec()
    registry.clear()
    assert isinstance(load_model_file(str(tmp_path / "m.keras")), deepkit.Model)  # deepkit's loader registers too


def test_a_subclassed_model_called_model_is_refused_with_the_way_out(tmp_path):
    """Keras' registry puts the name "Model" (deepkit's files) before the loader's custom_objects: say so."""
    class Model(keras.Model):  # a user's own class that happens to be called Model, not registered
        def __init__(self, units=2, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = keras.layers.Dense(units)

        def call(self, x):
            return self.dense(x)

        def get_config(self):
            return {"units": self.units, "name": self.name}

    Model.__module__ = "mine"
    model = Model(3)
    model(np.zeros((1, 2), "float32"))
    model.save(tmp_path / "mine.keras")
    with pytest.raises(TypeError, match=r"register that class under a package name.*Received config keys: "
                                        r"\['name', 'units'\]"):
        keras.saving.load_model(tmp_path / "mine.keras", custom_objects={"Model": Model})


def test_the_keras_names_are_given_only_to_deepkits_model_classes():
    assert saving.keras_compatible({"module": "deepkit.spec.block", "class_name": "Block",
                                    "registered_name": "deepkit>Block"})["class_name"] == "Block"
    keras_own = {"module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional"}
    assert saving.keras_compatible(keras_own) == keras_own


# ------------------------------------------------------------------- the loader's messages (issue 27 item 16)
def test_an_unimported_custom_layer_is_named_with_its_package_not_blamed_on_safe_mode(tmp_path):
    model = deepkit.from_spec([{"Dense": 2}], input_shape=(3,))
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    layer = config["config"]["layers"][-1]
    layer.update(module="acme.layers", class_name="Fancy", registered_name="acme>Fancy")
    del config["config"]["spec"]  # Keras' own graph, naming the custom layer
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "custom.keras", "w") as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    with pytest.raises(ModelFileError) as caught:
        load_model_file(str(tmp_path / "custom.keras"))
    message = str(caught.value)
    assert "safe mode" not in message
    assert ("the file names the class 'Fancy' (module 'acme.layers', registered as 'acme>Fancy'), which is not "
            "registered in this process: import the package that defines it (import acme) before loading.") in message


def test_a_long_keras_message_is_kept_whole_and_code_is_blamed_on_safe_mode():
    long = "x" * 1500
    assert load_problem(ValueError(f"Something broke: {long} end.")) == f"Keras cannot load it: Something broke: {long} end."
    lam = ValueError("Requested the deserialization of a Python lambda. ... pass `safe_mode=False`")
    assert load_problem(lam).startswith("cannot be loaded in safe mode (nothing in a model file may run code): Requested")
