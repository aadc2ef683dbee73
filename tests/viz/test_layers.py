"""deepkit.viz.layers: layer lookup, feature models into nested models, intervention models."""

import keras
import numpy as np
import pytest

from deepkit.viz.layers import (
    feature_model,
    intervention_model,
    last_conv_layer,
    layer_path,
    list_layers,
    resolve_layer,
    spatial_layers,
)


def _np(t):
    return keras.ops.convert_to_numpy(t)


def _stage(name, channels=4):
    """A ResNet-style residual stage as its own functional model."""
    i = keras.Input((8, 8, channels))
    h = keras.layers.Conv2D(channels, 3, padding="same", name="conv1")(i)
    h = keras.layers.Add(name="add")([i, h])
    return keras.Model(i, keras.layers.ReLU(name="relu")(h), name=name)


@pytest.fixture
def nested():
    x = keras.Input((8, 8, 3), name="image")
    h = keras.layers.Conv2D(4, 1, name="stem")(x)
    s1, s2 = _stage("stage1"), _stage("stage2")
    h = s2(s1(h))
    head = keras.Sequential(
        [keras.Input((8, 8, 4)), keras.layers.GlobalAveragePooling2D(name="gap"),
         keras.layers.Dense(3, name="fc")], name="head")
    model = keras.Model(x, head(h), name="net")
    return model, s1, s2, head


def test_resolve_by_index_name_path_and_object(nested):
    model, s1, s2, head = nested
    assert resolve_layer(model, 1).name == "stem"
    assert resolve_layer(model, -1) is head
    assert resolve_layer(model, "stem").name == "stem"
    assert resolve_layer(model, "stage2/conv1") is s2.get_layer("conv1")
    assert resolve_layer(model, "gap") is head.get_layer("gap")  # unique nested name
    assert resolve_layer(model, s1.get_layer("relu")) is s1.get_layer("relu")
    assert layer_path(model, s1.get_layer("relu")) == "stage1/relu"
    assert layer_path(model, "fc") == "head/fc"


def test_resolve_errors_are_specific(nested):
    model, *_ = nested
    with pytest.raises(IndexError, match=r"valid indices are 0\.\.4 \(or -5\.\.-1\)\. Received: layer=7"):
        resolve_layer(model, 7)
    with pytest.raises(ValueError, match=r"Did you mean 'stage1/relu'"):
        resolve_layer(model, "stage1/rleu")
    with pytest.raises(ValueError, match=r"Did you mean 'stem'"):
        resolve_layer(model, "stme")
    with pytest.raises(ValueError, match=r"ambiguous.*'stage1/conv1', 'stage2/conv1'"):
        resolve_layer(model, "conv1")
    with pytest.raises(ValueError, match="not part of model 'net'"):
        resolve_layer(model, keras.layers.Dense(2, name="stranger"))
    with pytest.raises(TypeError, match="Received: layer=2.5"):
        resolve_layer(model, 2.5)


def test_list_layers_walks_nested_models(nested):
    model, *_ = nested
    paths = [p for p, _ in list_layers(model)]
    assert paths[:3] == ["image", "stem", "stage1"]
    assert "stage2/add" in paths and "head/fc" in paths
    assert [p for p, _ in list_layers(model, nested=False)] == ["image", "stem", "stage1", "stage2", "head"]


def test_feature_model_reaches_into_nested_models(nested):
    model, s1, s2, head = nested
    x = np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32")
    names_before, out_before = [l.name for l in model.layers], _np(model(x))
    fm = feature_model(model, ["stage1/relu", "stage2/conv1", "stem", "head/gap", "image"])
    outs = [_np(o) for o in fm(x)]
    stem = _np(model.get_layer("stem")(x))
    r1 = _np(s1(stem))
    c2 = _np(s2.get_layer("conv1")(r1))
    gap = _np(head.get_layer("gap")(s2(r1)))
    for got, want in zip(outs, [r1, c2, stem, gap, x]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # The original model is left as it was: same layers, same outputs.
    assert len(model.layers) == 5 and [l.name for l in model.layers] == names_before
    np.testing.assert_allclose(_np(model(x)), out_before, rtol=1e-6)


def test_feature_model_single_layer_returns_single_output(nested):
    model, *_ = nested
    out = feature_model(model, "stem")(np.zeros((3, 8, 8, 3), "float32"))
    assert not isinstance(out, (list, tuple)) and tuple(out.shape) == (3, 8, 8, 4)


def test_feature_model_on_sequential():
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, name="a"),
                              keras.layers.Dense(2, name="b")])
    x = np.ones((3, 5), "float32")
    a, b = feature_model(model, [0, "b"])(x)
    np.testing.assert_allclose(_np(b), _np(model(x)), rtol=1e-6)
    np.testing.assert_allclose(_np(a), _np(model.layers[0](x)), rtol=1e-6)


def test_unbuilt_and_subclassed_models_give_clear_errors():
    unbuilt = keras.Sequential([keras.layers.Dense(2, name="d")], name="lazy")
    with pytest.raises(ValueError, match="Sequential model 'lazy' is not built"):
        feature_model(unbuilt, "d")

    class Sub(keras.Model):
        def __init__(self):
            super().__init__(name="sub")
            self.d = keras.layers.Dense(2)

        def call(self, x):
            return self.d(x)

    sub = Sub()
    sub(np.zeros((1, 3), "float32"))
    with pytest.raises(TypeError, match="subclassed model"):
        feature_model(sub, 0)


def test_intervention_model_gradient_equals_activation_gradient(nested):
    # With delta = 0 the outputs equal the model's; adding delta to the tapped activation
    # changes the output exactly as feeding the perturbed activation downstream would.
    model, s1, s2, head = nested
    x = np.random.default_rng(1).random((2, 8, 8, 3)).astype("float32")
    im = intervention_model(model, "stage1/relu")
    zero = np.zeros((2, 8, 8, 4), "float32")
    act, out = im([x, zero])
    np.testing.assert_allclose(_np(out), _np(model(x)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(act), _np(feature_model(model, "stage1/relu")(x)), rtol=1e-5, atol=1e-6)
    delta = np.random.default_rng(2).normal(size=zero.shape).astype("float32")
    _, perturbed = im([x, delta])
    want = _np(head(s2(_np(act) + delta)))
    np.testing.assert_allclose(_np(perturbed), want, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="input layer"):
        intervention_model(model, "image")


def test_spatial_and_last_conv_layers(nested):
    model, *_ = nested
    spatial = spatial_layers(model)
    assert spatial[0] == "stem" and spatial[-1] == "stage2/relu"
    assert "head/gap" not in spatial
    assert last_conv_layer(model) == "stage2/relu"
    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="mlp")
    with pytest.raises(ValueError, match="no layer with a 4-D"):
        last_conv_layer(dense)
