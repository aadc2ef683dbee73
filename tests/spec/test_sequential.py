"""deepkit.Sequential as a drop-in for keras.Sequential, walked through the Keras documentation.

The behaviours follow keras.io (the ``keras.Sequential`` API page and the "Sequential model" guide):
construction, ``add``/``pop``, deferred build, calls, properties, serialization and errors. Tests that
only use Keras layers run on both classes (``SEQUENTIALS``) and check the same outcome; the rest check
what deepkit adds (spec entries, combinators, ``to_spec``, multiply-adds, data checks, the fast path).
"""

import pickle

import keras
import numpy as np
import pytest

import deepkit
from deepkit.errors import DataError, SpecError

SEQUENTIALS = pytest.mark.parametrize("Seq", [keras.Sequential, deepkit.Sequential], ids=["keras", "deepkit"])


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _copy_weights(src, dst):
    assert len(src.weights) == len(dst.weights)
    for a, b in zip(src.weights, dst.weights):
        b.assign(_np(a))


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return info.value


# ---- construction ----------------------------------------------------------------------------------

@SEQUENTIALS
def test_empty_named_and_list_construction(Seq):
    empty = Seq(name="empty")
    assert isinstance(empty, keras.Sequential) and empty.name == "empty"
    assert empty.layers == [] and not empty.built
    layers = [keras.layers.Dense(2, activation="relu", name="layer1"),
              keras.layers.Dense(3, activation="relu", name="layer2"), keras.layers.Dense(4, name="layer3")]
    model = Seq(layers=layers)
    assert [layer.name for layer in model.layers] == ["layer1", "layer2", "layer3"]
    # the guide: the model is equivalent to calling its layers in order
    x = keras.ops.ones((3, 3))
    y = model(x)
    l1, l2, l3 = model.layers
    np.testing.assert_allclose(_np(y), _np(l3(l2(l1(x)))), rtol=1e-6)


def test_spec_entries_and_combinators_in_the_constructor():
    model = deepkit.Sequential([
        keras.Input((6,)), {"Dense": {"units": 4, "activation": "relu"}},
        deepkit.Residual([{"Dense": 4}], activation="relu"),
        {"parallel": {"branches": [[{"Dense": 2}], [{"Dense": 3}]]}},
        deepkit.Repeat(2, [keras.layers.Dense(5)], name="stage"), "Flatten",
    ], name="mixed")
    assert [layer.name for layer in model.layers] == ["dense", "residual", "parallel", "stage", "flatten"]
    assert isinstance(model.layers[1], deepkit.spec.Block) and model.output_shape == (None, 5)
    expected = (6 * 4 + 4) + (4 * 4 + 4) + (4 * 2 + 2 + 4 * 3 + 3) + (5 * 5 + 5) * 2
    assert model.count_params() == expected
    # the same network as a functional deepkit.Model from the same spec: equal outputs
    functional = deepkit.from_spec(model.to_spec())
    _copy_weights(model, functional)
    x = np.random.RandomState(0).rand(4, 6).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), functional.predict(x, verbose=0), atol=1e-5)


def test_constructor_rejects_a_bare_layer_and_a_bad_input_shape():
    assert "expects a list of layers" in str(_error(lambda: deepkit.Sequential(keras.layers.Dense(2))))
    assert "input_shape=(0, 3)" in str(_error(lambda: deepkit.Sequential([{"Dense": 2}], input_shape=(0, 3))))
    with pytest.raises(TypeError, match=r"input_shape=\(4,\)"):
        deepkit.Sequential([{"Dense": 2}], (4,))  # Keras' second argument is `trainable`


def test_input_shape_keyword_and_a_leading_input():
    same = deepkit.Sequential([keras.Input((3,)), {"Dense": 2}], input_shape=(3,))
    assert same.input_shape == (None, 3) and [layer.name for layer in same.layers] == ["dense"]
    with pytest.raises(ValueError, match="already been configured"):
        deepkit.Sequential([{"Input": {"shape": [4]}}, {"Dense": 2}], input_shape=(3,))


# ---- add, pop, layers -------------------------------------------------------------------------------

@SEQUENTIALS
def test_add_builds_continuously_once_the_input_is_known(Seq):
    model = Seq()
    model.add(keras.Input(shape=(16,)))
    model.add(keras.layers.Dense(8))
    assert len(model.weights) == 2 and model.built
    assert model.output_shape == (None, 8)


@SEQUENTIALS
def test_add_input_layer_and_nested_models(Seq):
    inner = keras.Sequential([keras.layers.Dense(3, name="inner_dense")], name="inner")
    x = keras.Input((3,))
    functional = keras.Model(x, keras.layers.Dense(2, name="f_dense")(x), name="functional")
    model = Seq()
    model.add(keras.layers.InputLayer(shape=(5,)))
    model.add(inner)
    model.add(functional)
    assert [layer.name for layer in model.layers] == ["inner", "functional"]
    assert model.output_shape == (None, 2) and model.count_params() == 5 * 3 + 3 + 3 * 2 + 2


def test_add_spec_entries_and_combinators():
    model = deepkit.Sequential()
    model.add({"Input": {"shape": [4]}})
    model.add({"Dense": {"units": 4, "name": "hidden"}})
    model.add({"residual": {"layers": [{"Dense": 4}], "name": "block"}})
    model.add(deepkit.Parallel([{"Dense": 1}], [{"Dense": 1}]))
    model.add(deepkit.Group(["Flatten"], name="head"))
    assert [layer.name for layer in model.layers] == ["hidden", "block", "parallel", "head"]
    assert model.get_layer("block_dense").units == 4  # layers inside blocks are found by name
    assert model.to_spec() == {"input_shape": [4], "layers": [
        {"Dense": {"units": 4, "name": "hidden"}}, {"residual": {"layers": [{"Dense": 4}], "name": "block"}},
        {"parallel": {"branches": [[{"Dense": 1}], [{"Dense": 1}]]}},
        {"sequential": {"layers": ["Flatten"], "name": "head"}}]}


@SEQUENTIALS
def test_legacy_input_shape_and_input_dim_on_the_first_layer(Seq):
    with pytest.warns(UserWarning):
        first = keras.layers.Dense(8, input_shape=(16,))
    model = Seq()
    model.add(first)
    model.add(keras.layers.Dense(4))
    assert model.built and len(model.weights) == 4 and model.input_shape == (None, 16)
    with pytest.warns(UserWarning):
        model = Seq([keras.layers.Dense(2, input_dim=3), keras.layers.Dense(1, input_shape=(99,))])
    assert model.input_shape == (None, 3) and model.output_shape == (None, 1)  # later ones ignored


def test_legacy_input_shape_in_a_spec_entry():
    with pytest.warns(UserWarning):
        model = deepkit.Sequential([{"Dense": {"units": 2, "input_shape": [3]}}])
    assert model.input_shape == (None, 3) and model.count_params() == 8


@SEQUENTIALS
def test_pop_and_transfer_learning_idiom(Seq):
    model = Seq([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2), keras.layers.Dense(1)])
    last = model.pop()
    assert isinstance(last, keras.layers.Dense) and last.units == 1
    assert len(model.layers) == 2 and model.output_shape == (None, 2)
    for layer in model.layers[:-1]:
        layer.trainable = False
    assert len(model.trainable_weights) == 2


def test_pop_removes_a_whole_block():
    model = deepkit.Sequential([deepkit.Residual([{"Dense": 3}]), {"Dense": 1}], input_shape=(3,))
    model.pop()
    assert isinstance(model.pop(), deepkit.spec.Block) and model.layers == []


@SEQUENTIALS
def test_layers_setter_is_refused_as_in_keras(Seq):
    model = Seq([keras.layers.Dense(1)])
    with pytest.raises(AttributeError, match="reserved"):
        model.layers = []


# ---- deferred build ---------------------------------------------------------------------------------

@SEQUENTIALS
def test_deferred_build_on_call_and_on_build(Seq):
    model = Seq([keras.layers.Dense(8), keras.layers.Dense(4)])
    assert model.weights == [] and not model.built
    y = model(keras.ops.ones((1, 16)))
    assert model.built and len(model.weights) == 4 and tuple(y.shape) == (1, 4)
    model = Seq([keras.layers.Dense(8), keras.layers.Dense(4)])
    model.build((None, 16))
    assert len(model.weights) == 4 and model.input_shape == (None, 16)


@SEQUENTIALS
def test_deferred_build_on_fit_and_predict(Seq):
    x = np.random.RandomState(1).rand(16, 5).astype("float32")
    model = Seq([keras.layers.Dense(8), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, x[:, :1], batch_size=8, epochs=1, verbose=0)
    assert model.built and model.count_params() == 5 * 8 + 8 + 9
    other = Seq([keras.layers.Dense(2)])
    assert other.predict(x, verbose=0).shape == (16, 2) and other.built


def test_summary_before_and_after_build():
    plain, ours = keras.Sequential([keras.layers.Dense(3)]), deepkit.Sequential([keras.layers.Dense(3)])
    keras_lines, our_lines = [], []
    plain.summary(print_fn=keras_lines.append)
    ours.summary(print_fn=our_lines.append)
    assert "unbuilt" in "\n".join(keras_lines) and "unbuilt" in "\n".join(our_lines)
    ours.build((None, 4))
    lines = []
    ours.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(3,)" in text and "Total params: 15" in text and "Multiply-adds per example: 12" in text


def test_deferred_model_with_blocks_builds_and_round_trips_to_spec():
    model = deepkit.Sequential([{"Conv2D": {"filters": 4, "kernel_size": 3, "padding": "same"}},
                                deepkit.Residual([{"Conv2D": {"filters": 4, "kernel_size": 3, "padding": "same"}}],
                                                 activation="relu", name="res"),
                                "GlobalAveragePooling2D", {"Dense": 2}])
    assert "input_shape" not in model.to_spec()
    x = np.random.RandomState(2).rand(3, 6, 6, 1).astype("float32")
    y = model(x)
    spec = model.to_spec()
    assert spec["input_shape"] == [6, 6, 1]
    again = deepkit.from_spec(spec)
    assert again.count_params() == model.count_params()
    _copy_weights(model, again)
    np.testing.assert_allclose(_np(y), _np(again(x)), atol=1e-5)
    assert deepkit.count_macs(model) == deepkit.count_macs(again) == 6 * 6 * 4 * 9 * (1 + 4) + 4 * 2


# ---- calls and properties ---------------------------------------------------------------------------

@SEQUENTIALS
def test_symbolic_call_and_feature_extraction(Seq):
    model = Seq([keras.Input((5,)), keras.layers.Dense(4, name="a"), keras.layers.Dense(2, name="b")])
    out = model(keras.Input((5,)))
    assert tuple(out.shape) == (None, 2)
    extractor = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    feats = extractor([np.ones((2, 5), "float32")])
    assert [tuple(f.shape) for f in feats] == [(2, 4), (2, 2)]


@SEQUENTIALS
def test_properties_before_and_after_build(Seq):
    model = Seq([keras.layers.Dense(4)])
    for attr in ("inputs", "outputs", "input_shape", "output_shape"):
        with pytest.raises(AttributeError):
            getattr(model, attr)
    assert model.compute_output_shape((None, 3)) == (None, 4)
    model.build((None, 3))
    assert [tuple(t.shape) for t in model.inputs] == [(None, 3)]
    assert [tuple(t.shape) for t in model.outputs] == [(None, 4)]
    assert model.input_shape == (None, 3) and model.output_shape == (None, 4)


def test_compute_output_shape_leaves_blocks_unbuilt():
    blocks = deepkit.Sequential([deepkit.Residual([{"Dense": 3}]), {"Dense": 2}])
    assert blocks.compute_output_shape((None, 3)) == (None, 2) and not blocks.layers[0].built


def test_input_and_output_of_a_built_deepkit_sequential():
    model = deepkit.Sequential([{"Dense": 2}], input_shape=(3,))
    assert tuple(model.input.shape) == (None, 3) and tuple(model.output.shape) == (None, 2)


class _SumDict(keras.layers.Layer):
    """Takes a dict of tensors and adds them."""

    def call(self, inputs):
        return inputs["a"] + inputs["b"]


class _SumList(keras.layers.Layer):
    """Takes a list of tensors and adds them."""

    def call(self, inputs):
        return inputs[0] + inputs[1]


@SEQUENTIALS
def test_dict_and_list_inputs_are_passed_through(Seq):
    a, b = np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")
    model = Seq([_SumDict(), keras.layers.Dense(1, kernel_initializer="ones", use_bias=False)])
    np.testing.assert_allclose(_np(model({"a": a, "b": b})), np.full((2, 1), 9.0))
    model = Seq([_SumList(), keras.layers.Dense(1, kernel_initializer="ones", use_bias=False)])
    np.testing.assert_allclose(_np(model([a, b])), np.full((2, 1), 9.0))


class _NoShapeInference(keras.layers.Layer):
    """Doubles its input eagerly but cannot say its output shape symbolically."""

    def call(self, x):
        return 2.0 * x

    def compute_output_spec(self, x):
        raise NotImplementedError("no symbolic shape")


@SEQUENTIALS
def test_layer_without_shape_inference_still_runs_eagerly(Seq):
    model = Seq([keras.Input((3,)), _NoShapeInference(), keras.layers.Dense(1, kernel_initializer="ones")])
    np.testing.assert_allclose(_np(model(np.ones((2, 3), "float32"))), np.full((2, 1), 6.0))


# ---- serialization ----------------------------------------------------------------------------------

def _models():
    unbuilt = deepkit.Sequential([{"Dense": 3}, deepkit.Residual([{"Dense": 3}], name="res")], name="unbuilt")
    deferred = deepkit.Sequential([keras.layers.Dense(3), deepkit.Repeat(2, [{"Dense": 3}])], name="deferred")
    deferred(np.ones((1, 4), "float32"))
    regular = deepkit.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
                                  deepkit.Parallel([{"Dense": 1}], [{"Dense": 2}])], name="regular")
    return [unbuilt, deferred, regular]


def _same(a, b):
    assert type(b) is deepkit.Sequential and b.name == a.name and b.built == a.built
    assert [layer.name for layer in b.layers] == [layer.name for layer in a.layers]
    if a.built:
        x = np.random.RandomState(3).rand(2, 4).astype("float32")
        np.testing.assert_allclose(_np(b(x)), _np(a(x)), atol=1e-6)


def test_get_config_from_config():
    for model in _models():
        config = model.get_config()
        assert [c["class_name"] for c in config["layers"]][-1] in ("Block", "Parallel")
        again = deepkit.Sequential.from_config(config)
        assert [layer.name for layer in again.layers] == [layer.name for layer in model.layers]
        assert again.built == model.built


def test_keras_file_save_and_load(tmp_path):
    for model in _models():
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        _same(model, keras.saving.load_model(path, safe_mode=True))


def test_pickle():
    for model in _models():
        _same(model, pickle.loads(pickle.dumps(model)))


def test_clone_model_gives_the_same_network():
    for model in _models()[1:]:
        clone = keras.models.clone_model(model)
        assert isinstance(clone, keras.Sequential) and clone.count_params() == model.count_params()
        assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
        _copy_weights(model, clone)
        x = np.random.RandomState(4).rand(2, 4).astype("float32")
        np.testing.assert_allclose(_np(clone(x)), _np(model(x)), atol=1e-6)


def test_block_refuses_code_in_a_saved_spec():
    with pytest.raises(SpecError):
        deepkit.spec.Block.from_config({"name": "b", "spec": "residual"})
    with pytest.raises(SpecError, match="lambda"):
        deepkit.spec.Block.from_config({"name": "b", "spec": {"residual": {"layers": [
            {"Activation": {"activation": {"class_name": "__lambda__", "config": {"code": "x"}}}}]}}})


# ---- errors, with Keras' wording ---------------------------------------------------------------------

def _same_error(build, phrase):
    """The same misuse raises the same kind of error, with the same phrase, in Keras and in deepkit."""
    errors = [_error(lambda: build(Seq)) for Seq in (keras.Sequential, deepkit.Sequential)]
    assert type(errors[0]) is type(errors[1]) or isinstance(errors[1], type(errors[0])), errors
    for err in errors:
        assert phrase in str(err), err


def test_second_input_is_refused():
    def build(Seq):
        model = Seq([keras.Input((3,)), keras.layers.Dense(2)])
        model.add(keras.Input((4,)))
    _same_error(build, "already been configured")


def test_duplicate_names_are_refused():
    _same_error(lambda Seq: Seq([keras.layers.Dense(2, name="d"), keras.layers.Dense(2, name="d")]),
                "should have unique names")


def test_calling_a_model_without_layers():
    _same_error(lambda Seq: Seq()(np.ones((1, 2), "float32")), "no layers")


def test_build_with_a_conflicting_shape():
    _same_error(lambda Seq: Seq([keras.Input((3,)), keras.layers.Dense(2)]).build((None, 4)),
                "already been configured")


def test_add_something_that_is_not_a_layer():
    _same_error(lambda Seq: Seq().add({}), "Only instances of")
    with pytest.raises(ValueError, match="Only instances of"):
        deepkit.Sequential().add(3)


class _TwoInputs(keras.layers.Layer):
    def call(self, a, b):
        return a + b


def test_layer_with_two_positional_inputs():
    _same_error(lambda Seq: Seq([keras.Input((3,)), _TwoInputs()]), "positional argument")


def test_malformed_spec_entry_names_its_place():
    with pytest.raises(SpecError, match=r"layers\[1\].*Conv2DD"):
        deepkit.Sequential([{"Dense": 2}, {"Conv2DD": 3}])


# ---- what deepkit adds -------------------------------------------------------------------------------

def test_fit_checks_data_and_offers_the_fast_path():
    model = deepkit.Sequential([keras.Input((4,)), deepkit.Residual([{"Dense": 4}]), {"Dense": 2}])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(DataError, match="x"):
        model.fit(np.zeros((8, 5), "float32"), np.zeros(8, "int64"), verbose=0)
    x = np.random.RandomState(5).rand(32, 4).astype("float32")
    y = (x[:, 0] > 0.5).astype("int64")
    history = model.fit(x, y, batch_size=8, epochs=2, fast=True, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


def test_same_training_as_keras_sequential():
    x = np.random.RandomState(6).rand(32, 6).astype("float32")
    y = (x.sum(1) > 3).astype("int64")
    ours = deepkit.Sequential()
    plain = keras.Sequential()
    for m in (ours, plain):
        m.add(keras.Input((6,)))
        m.add(keras.layers.Dense(5, activation="relu"))
        m.add(keras.layers.Dense(2))
    _copy_weights(ours, plain)
    for m in (ours, plain):
        m.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    h1 = ours.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h2 = plain.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-5)


def test_to_spec_of_nested_deepkit_sequential_and_module_function():
    inner = deepkit.Sequential([{"Dense": 3}], name="inner")
    model = deepkit.Sequential([keras.Input((2,)), inner, keras.layers.Dense(1, name="out")], name="net")
    spec = deepkit.to_spec(model)
    assert spec == {"name": "net", "input_shape": [2], "layers": [
        {"sequential": {"layers": [{"Dense": 3}], "name": "inner"}}, {"Dense": {"units": 1, "name": "out"}}]}
    assert deepkit.from_spec(spec).count_params() == model.count_params()
