"""Spec details: short forms of Keras objects, refused values, plain messages, model size from shapes."""

import time

import keras
import numpy as np
import pytest

import deepkit
from deepkit.errors import SpecError
from deepkit.spec import spec_limits
from deepkit.summary import available_memory, check_weights_fit, weight_sizes


def refused(spec, match, **kwargs):
    with pytest.raises(SpecError, match=match) as info:
        deepkit.from_spec(spec, **kwargs)
    message = str(info.value)
    assert "\x1b" not in message and "string formatting" not in message
    return message


# ----------------------------------------------------------------------------- short forms
def test_initializer_regularizer_constraint_short_forms_match_keras():
    spec = {"input_shape": [4], "layers": [{"Dense": {
        "units": 3, "kernel_initializer": {"HeNormal": {"seed": 1}}, "bias_initializer": {"Constant": 0.5},
        "kernel_regularizer": {"L2": 0.1}, "kernel_constraint": {"MaxNorm": {"max_value": 2}}}}]}
    model = deepkit.from_spec(spec)
    reference = keras.layers.Dense(3, kernel_initializer=keras.initializers.HeNormal(seed=1),
                                   bias_initializer=keras.initializers.Constant(0.5),
                                   kernel_regularizer=keras.regularizers.L2(0.1),
                                   kernel_constraint=keras.constraints.MaxNorm(max_value=2))
    reference.build((None, 4))
    dense = model.layers[-1]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(dense.kernel), keras.ops.convert_to_numpy(reference.kernel))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(dense.bias), 0.5)
    assert dense.kernel_regularizer.get_config() == reference.kernel_regularizer.get_config()
    assert dense.kernel_constraint.get_config() == reference.kernel_constraint.get_config()
    assert model.to_spec()["layers"] == spec["layers"]  # written back exactly as given


def test_to_spec_prints_keras_objects_and_dtype_policies_short():
    k = keras.Sequential([keras.Input((4,)), keras.layers.Dense(
        3, kernel_initializer=keras.initializers.HeNormal(seed=1), bias_initializer="ones",
        kernel_regularizer=keras.regularizers.L1L2(l1=0.2), kernel_constraint=keras.constraints.NonNeg(),
        dtype="mixed_bfloat16")])
    layer = deepkit.to_spec(k)["layers"][0]["Dense"]
    assert layer == {"dtype": "mixed_bfloat16", "units": 3, "kernel_initializer": {"HeNormal": {"seed": 1}},
                     "bias_initializer": "Ones", "kernel_regularizer": {"L1L2": {"l1": 0.2}},
                     "kernel_constraint": "NonNeg"}
    text = deepkit.to_spec(k, "yaml")
    assert "class_name" not in text and "module" not in text
    rebuilt = deepkit.from_spec(text)
    dense = rebuilt.layers[-1]
    assert dense.dtype_policy.name == "mixed_bfloat16"
    assert dense.kernel_regularizer.get_config() == {"l1": 0.2, "l2": 0.0}
    np.testing.assert_allclose(keras.ops.convert_to_numpy(dense.kernel).astype("float32"),
                               keras.ops.convert_to_numpy(k.layers[-1].kernel).astype("float32"))


@pytest.mark.parametrize("value, match", [
    ({"HeNorml": {"seed": 1}}, r"Dense\.kernel_initializer: unknown initializer 'HeNorml'\. Did you mean 'HeNormal'"),
    ({"HeNormal": {"sed": 1}}, r"kernel_initializer\.sed: initializer HeNormal has no argument 'sed'\. Did you mean 'seed'"),
])
def test_short_form_mistakes_are_located(value, match):
    refused({"input_shape": [4], "layers": [{"Dense": {"units": 3, "kernel_initializer": value}}]}, match)


# ----------------------------------------------------------------------------- refused values
@pytest.mark.parametrize("entry, match", [
    ({"Dense": True}, r"layers\[0\]\.Dense\.units: Dense argument 'units' must be a number, not a boolean\. "
                      r"Received: units=true"),
    ({"Conv1D": {"filters": 2, "kernel_size": 1, "groups": False}}, r"'groups' must be a number.*groups=false"),
    ({"Dense": {"units": 3, "name": ""}}, r"Dense\.name: Dense name must be a non-empty string .*Received: name=''"),
    ({"Dense": {"units": 3, "name": "  "}}, r"must be a non-empty string"),
    ({"sequential": {"layers": [{"Dense": 2}], "name": ""}}, r"sequential\.name: a block name must be a non-empty"),
    # every block checks its name (mutation survivor: Repeat's check removed)
    ({"repeat": {"times": 2, "layers": [{"Dense": 2}], "name": " "}}, r"repeat\.name: a block name must be a non-empty"),
    ({"residual": {"layers": [{"Dense": 4}], "name": ""}}, r"residual\.name: a block name must be a non-empty"),
    ({"parallel": {"branches": [[{"Dense": 2}], ["ReLU"]], "name": 3}}, r"parallel\.name: a block name must be a non-empty"
                                                              r".*Received: name=3"),
    # counted before parsing: a parallel whose branches are not a list gets the parser's error, not a TypeError
    ({"parallel": {"branches": 3}}, r"parallel\.branches: 'branches' must be a list of layer lists\. Received: 3"),
])
def test_booleans_as_numbers_and_empty_names_are_refused(entry, match):
    refused({"input_shape": [4], "layers": [entry]}, match)


def test_booleans_stay_fine_where_keras_takes_booleans():
    assert deepkit.from_spec([{"Dense": {"units": 2, "use_bias": False}}], input_shape=(4,)).count_params() == 8


@pytest.mark.parametrize("axis, match", [
    (5, r"parallel\.axis: parallel 'axis' 5 does not exist: the branches give rank-2 outputs of shapes "
        r"\(None, 2\), \(None, 3\) \(batch axis included\), so the axis must be in \[-2, 1\]\. Received: axis=5"),
    ("x", r"parallel\.axis: parallel 'axis' must be an integer, .* Received: axis='x'"),
    (True, r"must be an integer"),
])
def test_parallel_axis_errors_are_plain(axis, match):
    refused({"input_shape": [4], "layers": [{"parallel": {"branches": [[{"Dense": 2}], [{"Dense": 3}]],
                                                            "axis": axis}}]}, match)


def test_input_shape_conflicting_with_the_document_is_refused():
    text = "input_shape: [4]\nlayers: [{Dense: 2}]\n"
    refused(text, r"input_shape=\(5,\) conflicts with the spec's own input shape \[4\]", input_shape=(5,))
    refused([{"Input": {"shape": [4]}}, {"Dense": 2}], r"conflicts with the spec's own input shape \[4\]",
            input_shape=(3,))
    assert deepkit.from_spec(text, input_shape=(4,)).count_params() == 10  # the same shape twice is fine
    assert deepkit.from_spec("layers: [{Dense: 2}]\n", input_shape=(4,)).count_params() == 10


# ----------------------------------------------------------------------------- size from shapes
HUGE = {"input_shape": [1_000_000], "layers": [{"Dense": 1_000_000, }, {"Dense": 10}]}


def test_a_model_that_cannot_fit_is_refused_before_allocation():
    start = time.perf_counter()
    message = refused(HUGE, r"model 'model' cannot fit in memory: its weights need 3\.64 TiB "
                            r"\(4,000,044,000,040 bytes, 1,000,011,000,010 parameters\) but .* is available")
    assert time.perf_counter() - start < 5
    assert "The largest layer is 'dense' (Dense): 1,000,001,000,000 parameters, 3.64 TiB" in message
    assert "max_weight_bytes" in message


def test_summary_of_a_spec_counts_parameters_without_allocating():
    lines = []
    start = time.perf_counter()
    rows = deepkit.summary(HUGE, print_fn=lines.append)
    assert time.perf_counter() - start < 5
    assert [r["params"] for r in rows] == [1_000_001_000_000, 10_000_010]
    assert rows[0]["macs"] == 10**12
    assert "Total params: 1,000,011,000,010  (trainable 1,000,011,000,010, non-trainable 0)" in lines


def test_memory_limit_is_overridable_and_names_the_layer():
    spec = [{"Dense": 10}, {"Dense": 100}]  # 50 + 1,100 parameters
    with spec_limits(max_weight_bytes=1000):
        message = refused(spec, r"but 1000 B \(1,000 bytes\) is available \(the limit set; "
                                r"max_weight_bytes=1,000\)", input_shape=(4,))
        assert "The largest layer is 'dense_1' (Dense): 1,100 parameters, 4.30 KiB (4,400 bytes)" in message
    with spec_limits(max_weight_bytes=None):
        assert deepkit.from_spec(spec, input_shape=(4,)).count_params() == 1150


def test_built_models_compute_like_keras_after_deferred_allocation():
    keras.utils.set_random_seed(3)
    model = deepkit.from_spec([{"Conv2D": [4, 3]}, "BatchNormalization", "Flatten", {"Dense": 3}],
                              input_shape=(6, 6, 1))
    reference = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(4, 3),
                                  keras.layers.BatchNormalization(), keras.layers.Flatten(), keras.layers.Dense(3)])
    reference.set_weights(model.get_weights())
    x = np.random.default_rng(0).random((2, 6, 6, 1), dtype="float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), reference.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert not any(np.isnan(w).any() for w in model.get_weights())


def test_weight_sizes_and_available_memory():
    model = deepkit.from_spec([{"Dense": 3}, {"Dense": 2}], input_shape=(4,))
    assert weight_sizes(model) == [("dense", "Dense", 15, 60), ("dense_1", "Dense", 8, 32)]
    assert check_weights_fit(model, limit=92) == 92
    free, source = available_memory()
    assert (free is None) or (free > 0 and isinstance(source, str))


def test_deferred_allocation_draws_the_same_weights_as_keras_for_the_same_seed():
    keras.utils.set_random_seed(7)
    model = deepkit.from_spec([{"parallel": [[{"Dense": 3}, {"Dense": 2}], [{"Dense": 4}]]}, {"Dropout": 0.5},
                               {"Dense": 2}], input_shape=(4,))
    keras.utils.set_random_seed(7)
    inputs = keras.Input((4,))
    a = keras.layers.Dense(3)(inputs)  # layers created in the spec's order
    a = keras.layers.Dense(2)(a)
    b = keras.layers.Dense(4)(inputs)
    y = keras.layers.Dropout(0.5)(keras.layers.Concatenate()([a, b]))
    reference = keras.Model(inputs, keras.layers.Dense(2)(y))
    for ours, theirs in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.ones((8, 4)), np.ones((8, 2)), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_building_inside_a_callers_stateless_scope_keeps_keras_rules():
    with keras.StatelessScope():
        model = deepkit.from_spec([{"Dense": 2}], input_shape=(3,))
    assert model.predict(np.ones((1, 3)), verbose=0).shape == (1, 2)


@pytest.mark.parametrize("entry", [{"RNN": {"SimpleRNNCell": 4}}, {"TimeDistributed": {"Dense": 2}},
                                   {"Bidirectional": {"LSTM": 3}}])
def test_a_wrapper_whose_only_argument_is_its_layer_is_written_short(entry):
    """``to_spec`` writes a wrapper whose one non-default argument is its first, a nested layer, as
    ``{Wrapper: {Layer: ...}}`` (what the user wrote), and that reads back to the same layers.

    Planted error caught: the nested-layer check made on the last positional argument instead of
    the first (``RNN``'s last, ``zero_output_for_mask``, is no layer argument: the long form
    ``{RNN: {cell: ...}}`` came out)."""
    model = deepkit.from_spec({"input_shape": [5, 3], "layers": [entry]})
    assert model.to_spec()["layers"] == [entry]
    again = deepkit.from_spec(model.to_spec())
    assert [type(layer) for layer in again.layers] == [type(layer) for layer in model.layers]


def test_errors_name_the_entry_by_line_and_column():
    """Errors name the 1-based line and column of their entry in the text: a key (``Dense`` of line 4,
    column 5) and a list item (the bare ``NoSuchLayer`` at line 4, column 5). Planted error caught: the
    list items' lines counted ``line - 1`` (only the second case sees it: keys have their own marks)."""
    text = "input_shape: [3]\nlayers:\n  - Dense: 4\n  - Dense: {units: -2}\n"
    refused(text, r"^<string>:4:5: layers\[1\]\.Dense: .*units=-2")  # Keras 3.10 refuses at build, later ones at creation
    text = "input_shape: [3]\nlayers:\n  - Dense: 4\n  - NoSuchLayer\n"
    refused(text, r"^<string>:4:5: layers\[1\]: unknown layer 'NoSuchLayer'")


def test_a_keras_style_entry_keeps_its_config():
    """An entry written as Keras serializes layers, ``{class_name: ..., config: {...}}``, builds the
    layer with that config. Planted error caught: the config dropped (``config and {}``)."""
    model = deepkit.from_spec({"input_shape": [3], "layers": [
        {"class_name": "Dense", "config": {"units": 3, "activation": "relu"}}]})
    assert model.layers[-1].units == 3 and model.layers[-1].activation is keras.activations.relu
