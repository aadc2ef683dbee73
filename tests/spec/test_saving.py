"""What saves loads back: wrapper layers, registered objects, dtype policies, every keras.layers class.

Files are loaded in a fresh Python process where it matters (nothing left over from the process that
saved them), on the backend the suite runs with.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import deepkit
from deepkit.errors import SpecError

from tests import ROOT
from tests.spec import layer_roundtrip


def fresh_python(code, *args):
    """Run ``code`` in a new interpreter (same backend, this checkout first on the path)."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=600)


def outputs(model, x):
    return keras.ops.convert_to_numpy(keras.ops.cast(model(x, training=False), "float32"))


@pytest.fixture
def global_policy():
    previous = keras.config.dtype_policy()
    yield
    keras.config.set_dtype_policy(previous)


# ----------------------------------------------------------------------------- wrapper layers
def test_bidirectional_model_from_the_issue_saves_loads_and_rebuilds(tmp_path):
    model = deepkit.Sequential([keras.Input((5, 8)), keras.layers.Bidirectional(keras.layers.LSTM(4)),
                                {"Dense": 2}])
    assert model.to_spec() == {"input_shape": [5, 8], "layers": [{"Bidirectional": {"LSTM": 4}}, {"Dense": 2}]}
    rebuilt = deepkit.from_spec(model.to_spec("yaml"))
    assert rebuilt.count_params() == model.count_params()
    assert rebuilt.to_spec() == model.to_spec()
    x = np.random.default_rng(0).normal(size=(3, 5, 8)).astype("float32")
    model.save(tmp_path / "bi.keras")
    loaded = keras.saving.load_model(tmp_path / "bi.keras")
    np.testing.assert_allclose(outputs(loaded, x), outputs(model, x), rtol=1e-5, atol=1e-6)
    assert isinstance(loaded.layers[0], keras.layers.Bidirectional)  # a Sequential lists no InputLayer
    assert loaded.layers[0].forward_layer.units == 4 and loaded.layers[0].backward_layer.go_backwards


def test_wrapper_entries_in_yaml_build_the_keras_layers():
    model = deepkit.from_spec("""
input_shape: [6, 4]
layers:
  - Bidirectional: {layer: {GRU: {units: 3, return_sequences: true}}, merge_mode: sum}
  - TimeDistributed: {Dense: 5}
  - RNN: {cell: [{LSTMCell: 2}, {SimpleRNNCell: 3}]}
""")
    bi, td, rnn = model.layers[1:]
    assert isinstance(bi.forward_layer, keras.layers.GRU) and bi.merge_mode == "sum"
    assert isinstance(td.layer, keras.layers.Dense) and td.layer.units == 5
    assert [type(c).__name__ for c in rnn.cell.cells] == ["LSTMCell", "SimpleRNNCell"]
    assert tuple(model.output.shape) == (None, 3)
    spec = model.to_spec()
    assert spec["layers"] == [
        {"Bidirectional": {"layer": {"GRU": {"units": 3, "return_sequences": True}}, "merge_mode": "sum"}},
        {"TimeDistributed": {"Dense": 5}},
        {"RNN": {"cell": [{"LSTMCell": 2}, {"SimpleRNNCell": 3}]}},
    ]
    assert deepkit.from_spec(spec).count_params() == model.count_params()


def test_python_wrapper_with_options_writes_them_in_the_spec():
    backward = keras.layers.GRU(3, go_backwards=True, return_sequences=True)
    layer = keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True), backward_layer=backward,
                                       merge_mode="ave")
    model = deepkit.Sequential([layer, keras.layers.TimeDistributed(keras.layers.Dense(2, use_bias=False))],
                               input_shape=(4, 2))
    entry = model.to_spec()["layers"][0]["Bidirectional"]
    # Bidirectional itself sets zero_output_for_mask on layers that return sequences.
    assert entry["layer"] == {"LSTM": {"units": 3, "return_sequences": True, "zero_output_for_mask": True}}
    assert entry["backward_layer"] == {"GRU": {"units": 3, "return_sequences": True, "go_backwards": True,
                                               "zero_output_for_mask": True}}
    assert entry["merge_mode"] == "ave"
    rebuilt = deepkit.from_spec(model.to_spec())
    assert isinstance(rebuilt.layers[1].backward_layer, keras.layers.GRU)
    assert rebuilt.count_params() == model.count_params()


def test_a_wrapper_argument_takes_a_layer_entry_not_a_block():
    with pytest.raises(SpecError, match=r"\[0\]\.TimeDistributed\.layer: TimeDistributed argument 'layer' "
                                        r"takes a layer entry such as \{LSTM: 8\}.*not a 'residual' block"):
        deepkit.from_spec([{"TimeDistributed": {"layer": {"residual": [{"Dense": 2}]}}}], input_shape=(3, 2))
    with pytest.raises(SpecError, match=r"Bidirectional has no argument 'LSTMM'\. Valid arguments: backward_layer"):
        deepkit.from_spec([{"Bidirectional": {"LSTMM": 4}}], input_shape=(3, 2))


# ----------------------------------------------------------------------------- registered objects
@keras.saving.register_keras_serializable(package="deepkit_tests")
def triple(x):
    return 3.0 * x


@keras.saving.register_keras_serializable(package="deepkit_tests")
class Shift(keras.initializers.Initializer):
    def __init__(self, value=0.5):
        self.value = value

    def __call__(self, shape, dtype=None):
        return keras.ops.full(shape, self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}


def test_registered_activation_and_initializer_save_and_load(tmp_path):
    model = deepkit.Sequential([keras.layers.Dense(2, activation=triple, bias_initializer=Shift(0.25))],
                               input_shape=(3,))
    x = np.random.default_rng(1).normal(size=(4, 3)).astype("float32")
    model.save(tmp_path / "custom.keras")
    loaded = keras.saving.load_model(tmp_path / "custom.keras")
    assert loaded.layers[0].activation is triple
    np.testing.assert_allclose(outputs(loaded, x), outputs(model, x), rtol=1e-6)
    np.testing.assert_allclose(outputs(deepkit.from_spec(model.to_spec()), np.zeros((1, 3), "float32")),
                               [[0.75, 0.75]])


def test_unregistered_function_is_refused_at_save_time_with_the_reason(tmp_path):
    def halve(x):
        return x / 2

    model = deepkit.Sequential([keras.layers.Dense(2, activation=halve)], input_shape=(3,))
    with pytest.raises(SpecError, match=r"cannot be saved: loading its spec would fail with: a spec may only refer "
                                        r"to keras or deepkit objects, or objects registered with"):
        model.save(tmp_path / "unregistered.keras")
    assert not (tmp_path / "unregistered.keras").exists()


def test_python_lambda_is_refused_at_save_time(tmp_path):
    model = deepkit.Sequential([keras.layers.Dense(2, activation=lambda x: x * 2)], input_shape=(3,))
    with pytest.raises(SpecError, match=r"cannot be saved: loading its spec would fail with: cannot create Dense"):
        model.save(tmp_path / "lambda.keras")


def test_registered_name_does_not_open_other_modules():
    # A registered name in the file is looked up among registered objects, never imported.
    spec = {"input_shape": [3], "layers": [{"Dense": {"units": 2, "activation": {
        "module": "os", "class_name": "function", "config": "system", "registered_name": "deepkit_tests>triple"}}}]}
    with pytest.raises(SpecError, match=r"a spec may only refer to keras or deepkit objects.*module='os'"):
        deepkit.from_spec(spec)


# ----------------------------------------------------------------------------- dtype policies
def test_global_mixed_policy_survives_to_spec_and_save(tmp_path, global_policy):
    keras.config.set_dtype_policy("mixed_bfloat16")
    model = deepkit.Sequential([keras.Input((6,)), {"Dense": 4}, keras.layers.Dense(2, dtype="float32")])
    assert [layer.dtype_policy.name for layer in model.layers] == ["mixed_bfloat16", "float32"]
    spec = model.to_spec()
    assert spec["dtype_policy"] == "mixed_bfloat16"
    assert spec["layers"] == [{"Dense": 4}, {"Dense": {"units": 2, "dtype": "float32"}}]
    model.save(tmp_path / "mixed.keras")
    keras.config.set_dtype_policy("float32")
    for again in (keras.saving.load_model(tmp_path / "mixed.keras"), deepkit.from_spec(spec)):
        layers = [layer for layer in again.layers if not isinstance(layer, keras.layers.InputLayer)]
        assert [layer.dtype_policy.name for layer in layers] == ["mixed_bfloat16", "float32"]
        assert layers[0].compute_dtype == "bfloat16" and layers[0].variable_dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"  # building from a spec leaves the global policy alone


def test_per_layer_dtype_and_unknown_policy():
    model = deepkit.from_spec("input_shape: [3]\nlayers:\n  - Dense: {units: 2, dtype: mixed_float16}\n")
    assert model.layers[1].dtype_policy.name == "mixed_float16"
    assert model.to_spec()["layers"] == [{"Dense": {"units": 2, "dtype": "mixed_float16"}}]
    with pytest.raises(SpecError, match=r"dtype_policy: unknown Keras dtype policy 'float13'"):
        deepkit.from_spec({"input_shape": [3], "dtype_policy": "float13", "layers": [{"Dense": 2}]})


# ----------------------------------------------------------------------------- every keras.layers class
def round_trip(directory, classes):
    saved, refused = layer_roundtrip.build_all(directory, classes)
    assert not set(saved) & set(refused) and set(saved) | set(refused) == set(classes)
    for name, message in refused.items():  # each refusal says why
        assert name in message or "cannot" in message or "runs on no" in message, (name, message)
    problems = load_in_fresh_process(directory)
    assert problems == {}, problems
    return saved, refused


@pytest.mark.slow
def test_every_keras_layer_class_round_trips_in_a_fresh_process_or_is_refused_when_built(tmp_path):
    saved, refused = round_trip(tmp_path, layer_roundtrip.public_layer_classes())
    assert {"Bidirectional", "TimeDistributed", "RNN", "SpectralNormalization", "Conv2D", "LSTM", "ConvLSTM2D",
            "BatchNormalization", "Embedding", "RandomFlip", "Pipeline"} - set(saved) == set()
    assert "specs are data and may not carry code" in refused["Lambda"]
    assert "returns its input tensor itself" in refused["Equalization"]
    assert "missing a required argument: 'states'" in refused["StackedRNNCells"]  # a cell: use it in RNN


def test_one_layer_class_per_keras_module_and_every_wrapper_round_trip_in_a_fresh_process(tmp_path):
    classes = layer_roundtrip.sample(layer_roundtrip.public_layer_classes())
    assert {"Bidirectional", "TimeDistributed", "RNN", "Dense", "Conv1D"} <= set(classes) and len(classes) < 40
    saved, _ = round_trip(tmp_path, classes)
    assert {"Bidirectional", "TimeDistributed", "RNN", "Dense", "Conv1D"} <= set(saved)


def load_in_fresh_process(directory):
    script = os.path.join(ROOT, "tests", "spec", "layer_roundtrip.py")
    result = subprocess.run([sys.executable, script, str(directory)],
                            capture_output=True, text=True, timeout=900,
                            env=dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- plain Keras, no import deepkit
def test_loading_without_import_deepkit_gives_a_keras_model_and_with_it_the_deepkit_model(tmp_path):
    deepkit.from_spec([{"Dense": 2}], input_shape=(3,)).save(tmp_path / "m.keras")
    # One fresh interpreter (each start imports the backend): first without deepkit, then after importing it.
    code = ("import sys, keras\n"
            "print(type(keras.saving.load_model(sys.argv[1])).__name__, 'deepkit' in sys.modules)\n"
            "import deepkit\nm = keras.saving.load_model(sys.argv[1])\n"
            "print(type(m).__module__, m.to_spec())\n")
    result = fresh_python(code, tmp_path / "m.keras")
    assert result.returncode == 0, result.stderr[-2000:]
    without, loaded = result.stdout.strip().rsplit("\n", 1)
    assert without.strip() == "Functional False"
    assert "deepkit.core.model {'input_shape': [3], 'layers': [{'Dense': 2}]}" in loaded, result.stderr[-2000:]
