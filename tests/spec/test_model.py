"""The declarative spec: parsing, building, combinators, round trips, saving, errors."""

import json

import keras
import numpy as np
import pytest
import yaml

import deepkit
from deepkit.errors import SpecError

SPEC = {
    "name": "small",
    "input_shape": [8, 8, 1],
    "layers": [
        {"Conv2D": {"filters": 4, "kernel_size": 3, "activation": "relu"}},
        {"residual": {"name": "block1", "activation": "relu",
                      "layers": [{"Conv2D": {"filters": 4, "kernel_size": 3, "padding": "same"}},
                                 "BatchNormalization"]}},
        {"parallel": {"branches": [[{"Conv2D": [2, 1]}], [{"Conv2D": [3, 3]}, {"ZeroPadding2D": 1}]]}},
        {"repeat": {"times": 2, "layers": [{"Conv2D": {"filters": 5, "kernel_size": 3, "padding": "same"}}]}},
        "GlobalAveragePooling2D",
        {"Dense": 3},
    ],
}


def _copy_weights(src, dst):
    for a, b in zip(src.weights, dst.weights):
        b.assign(keras.ops.convert_to_numpy(a))  # a copy: jax donates buffers during fit


def test_sequential_matches_plain_keras():
    layers = [keras.layers.Conv2D(6, 5, activation="tanh"), keras.layers.AveragePooling2D(2),
              keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    ours = deepkit.Sequential(layers, input_shape=(12, 12, 1))
    plain = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Conv2D(6, 5, activation="tanh"),
                              keras.layers.AveragePooling2D(2), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    assert isinstance(ours, keras.Model)
    assert ours.count_params() == plain.count_params() == 6 * 26 + 10 * (6 * 4 * 4 + 1)
    _copy_weights(ours, plain)
    x = np.random.rand(5, 12, 12, 1).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), plain.predict(x, verbose=0), atol=1e-6)


def test_spec_forms_build_the_same_model(tmp_path):
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(SPEC))
    (tmp_path / "m.json").write_text(json.dumps(SPEC))
    models = [deepkit.from_spec(SPEC), deepkit.from_spec(tmp_path / "m.yaml"),
              deepkit.from_spec(str(tmp_path / "m.json")), deepkit.from_spec(yaml.safe_dump(SPEC))]
    names = [[layer.name for layer in m.layers] for m in models]
    assert all(n == names[0] for n in names)
    assert len({m.count_params() for m in models}) == 1
    assert tuple(models[0].output.shape) == (None, 3)
    assert "block1_add" in names[0] and "block1_conv2d" in names[0]


def test_residual_numerics_against_numpy():
    model = deepkit.from_spec([{"residual": {"layers": [{"Dense": 4}], "activation": "relu"}}], input_shape=(4,))
    dense = model.get_layer("dense")
    w, b = (v.numpy() if hasattr(v, "numpy") else np.asarray(v) for v in dense.weights)
    x = np.random.randn(6, 4).astype("float32")
    expected = np.maximum(x @ w + b + x, 0)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("merge,expected", [("concat", 7), ("add", 3)])
def test_parallel_merges(merge, expected):
    branches = [[{"Dense": 3}], [{"Dense": 3 if merge == "add" else 4}]]
    model = deepkit.Sequential([deepkit.Parallel(*branches, merge=merge)], input_shape=(5,))
    assert tuple(model.output.shape) == (None, expected)
    x = np.random.randn(2, 5).astype("float32")
    outs = [np.asarray(keras.ops.convert_to_numpy(model.get_layer(n)(x))) for n in ("dense", "dense_1")]
    ref = np.concatenate(outs, -1) if merge == "concat" else outs[0] + outs[1]
    np.testing.assert_allclose(model.predict(x, verbose=0), ref, atol=1e-5)


def test_repeat_makes_distinct_weights_and_named_blocks():
    model = deepkit.Sequential([deepkit.Repeat(3, [keras.layers.Dense(4, activation="relu")], name="stage")],
                               input_shape=(4,))
    assert [layer.name for layer in model.layers] == ["stage"]  # one add(), one layer: a Block
    dense = [layer for layer in model.get_layer("stage").layers if isinstance(layer, keras.layers.Dense)]
    assert [d.name for d in dense] == ["stage_dense", "stage_dense_1", "stage_dense_2"]
    assert len({id(d.kernel) for d in dense}) == 3
    assert model.to_spec()["layers"] == [
        {"repeat": {"times": 3, "layers": [{"Dense": {"units": 4, "activation": "relu"}}], "name": "stage"}}]


def test_to_spec_round_trip_keeps_structure_and_parameters():
    model = deepkit.from_spec(SPEC)
    spec = model.to_spec()
    again = deepkit.from_spec(spec)
    assert again.to_spec() == spec
    assert again.count_params() == model.count_params()
    assert [layer.name for layer in again.layers] == [layer.name for layer in model.layers]
    assert yaml.safe_load(model.to_spec("yaml")) == spec
    assert json.loads(model.to_spec("json")) == spec


def test_python_layers_round_trip_through_spec():
    model = deepkit.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu", name="hidden"),
                                keras.layers.Dropout(0.25), keras.layers.Dense(2, use_bias=False)])
    spec = model.to_spec()
    assert spec["layers"] == [{"Dense": {"units": 5, "activation": "relu", "name": "hidden"}},
                              {"Dropout": 0.25}, {"Dense": {"units": 2, "use_bias": False}}]
    assert deepkit.from_spec(spec).count_params() == model.count_params()


def test_to_spec_of_plain_keras_sequential():
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)], name="plain")
    assert deepkit.to_spec(plain) == {"name": "plain", "input_shape": [4], "layers": [{"Dense": 3}]}


def test_save_and_load_keras_file(tmp_path):
    model = deepkit.from_spec(SPEC)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.rand(16, 8, 8, 1).astype("float32")
    model.fit(x, np.random.randint(0, 3, 16), epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, deepkit.Model)
    assert loaded.to_spec() == model.to_spec()
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_compile_fit_evaluate_match_plain_keras():
    x = np.random.rand(64, 10).astype("float32")
    y = (x.sum(1) > 5).astype("int64")
    ours = deepkit.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)], input_shape=(10,))
    plain = keras.Sequential([keras.Input((10,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    _copy_weights(ours, plain)
    for m in (ours, plain):
        m.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    h1 = ours.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    h2 = plain.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    assert set(h1.history) == set(h2.history) == {"loss", "accuracy"}
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), plain.evaluate(x, y, verbose=0), rtol=1e-5)


def test_input_shape_from_leading_input_entry():
    model = deepkit.from_spec([{"Input": {"shape": [3]}}, {"Dense": 2}])
    assert tuple(model.input.shape) == (None, 3)


def test_custom_registered_layer_in_spec_and_saving(tmp_path):
    @deepkit.register_layer(name="TestTimesTwo")
    class TimesTwo(keras.layers.Layer):
        def call(self, x):
            return 2.0 * x

    model = deepkit.from_spec([{"Dense": 2}, "TestTimesTwo"], input_shape=(3,))
    model.save(tmp_path / "t.keras")
    loaded = keras.saving.load_model(tmp_path / "t.keras")
    x = np.ones((1, 3), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


# ---- errors that name the place -------------------------------------------------------------------

def _error(spec, **kw):
    with pytest.raises(SpecError) as info:
        deepkit.from_spec(spec, **kw)
    return str(info.value)


@pytest.mark.backend_independent
def test_unknown_layer_suggests_close_names():
    msg = _error("input_shape: [4]\nlayers:\n  - Dense: 3\n  - Conv2DD: {filters: 3}\n")
    assert "<string>:4:5" in msg and "layers[1]" in msg and "unknown layer 'Conv2DD'" in msg
    assert "Did you mean 'Conv2D'" in msg


def test_bad_argument_names_line_column_and_suggestion(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text("input_shape: [4]\nlayers:\n  - Dense: {units: 3, activaton: relu}\n")
    msg = _error(path)
    assert msg.startswith(f"{path}:3:23: layers[0].Dense.activaton:")
    assert "Did you mean 'activation'" in msg


def test_bad_argument_value_is_quoted():
    # Keras refuses units=-3 in the constructor (newer releases) or when building (older ones); either
    # way deepkit's message names the spec path and quotes the value.
    msg = _error({"input_shape": [4], "layers": [{"Dense": {"units": -3}}]})
    assert msg.startswith("layers[0].Dense") and "units=-3" in msg


def test_shape_mismatch_names_layer_and_shape():
    msg = _error([{"Dense": 3}, {"Conv2D": [4, 3]}], input_shape=(4,))
    assert "Conv2D 'conv2d' cannot take an input of shape (None, 3)" in msg and "[1]" in msg


def test_residual_shape_mismatch_explains_shortcut():
    msg = _error([{"residual": {"layers": [{"Dense": 5}]}}], input_shape=(4,))
    assert "[0].residual" in msg and "(None, 5)" in msg and "(None, 4)" in msg and "shortcut" in msg


@pytest.mark.backend_independent
def test_malformed_yaml_and_json_give_line_numbers(tmp_path):
    msg = _error("input_shape: [4]\nlayers:\n  - Dense: [3\n")
    assert "malformed YAML" in msg and "line 3, column 12" in msg
    path = tmp_path / "bad.json"
    path.write_text('{"input_shape": [4],\n "layers": [\n   {"Dense": 3},\n ]\n}')
    msg = _error(path)
    assert f"{path}:4:" in msg and "malformed JSON" in msg


@pytest.mark.backend_independent
def test_python_object_tags_and_lambda_are_refused():
    msg = _error('!!python/object/apply:os.system ["echo pwned"]')
    assert "refused" in msg
    msg = _error([{"Lambda": {"function": "lambda x: x"}}], input_shape=(2,))
    assert "'Lambda' cannot be used in a spec" in msg


def test_missing_input_shape_and_bad_top_level_key():
    assert "no input shape" in _error([{"Dense": 2}])
    assert "Did you mean 'layers'" in _error({"layer": [{"Dense": 2}], "input_shape": [2]})
    assert "input_shape must be" in _error({"layers": [], "input_shape": [0, 3]})


def test_duplicate_keys_and_names_are_errors():
    assert "duplicate key 'layers'" in _error("input_shape: [2]\nlayers: []\nlayers: []\n")
    msg = _error([{"Dense": {"units": 2, "name": "a"}}, {"Dense": {"units": 2, "name": "a"}}], input_shape=(2,))
    assert "duplicate layer name 'a'" in msg and "[1]" in msg


def test_non_plain_values_are_refused():
    msg = _error([{"Dense": {"units": 2, "kernel_initializer": object()}}], input_shape=(2,))
    assert "plain data" in msg and "[0].Dense.kernel_initializer" in msg
