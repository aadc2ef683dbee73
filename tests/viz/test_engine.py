"""The viz engine and the attribution registry: common checks generated for every method.

Every method registered in ``deepkit.viz.attribution`` (``list_methods()``) gets the same
checks, as scikit-learn's ``parametrize_with_checks``: output shape, batch-size invariance,
determinism, and a clear error for a bad layer name (CAM family). Cross-backend agreement of
every registered method is in ``test_viz_backends.py`` (slow: it starts other interpreters).
"""

import ast
import functools
import inspect
import os

import keras
import numpy as np
import pytest

from deepkit import backend
from deepkit.backend import gradients
from deepkit.backend.interface import Capabilities
from deepkit.viz import attribution as A
from deepkit.viz import engine as engine_lib
from deepkit.viz import graph
from deepkit.viz.attribution import registry

METHODS = A.list_methods()
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@functools.lru_cache(maxsize=None)
def _model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((8, 8, 2)),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1"),
        keras.layers.Conv2D(6, 3, activation="relu", name="conv2"),
        keras.layers.GlobalAveragePooling2D(name="gap"),
        keras.layers.Dense(3, activation="softmax", name="out"),
    ], name="tiny")


def _images(n=5, seed=1):
    return np.random.default_rng(seed).random((n, 8, 8, 2)).astype("float32")


def _call(name, x, **kwargs):
    method = A.get_method(name)
    return method.function(_model(), x, **{**method.quick, **kwargs})


def test_registry_lists_every_attribution_method_once_by_family():
    assert METHODS == sorted(set(METHODS))
    assert {"saliency", "integrated_gradients", "smoothgrad", "grad_cam", "grad_cam_plus_plus",
            "score_cam", "occlusion", "input_x_gradient", "guided_backprop", "deconvnet"} <= set(METHODS)
    for name in METHODS:
        method = A.get_method(name)
        assert method.family in registry.FAMILIES
        assert getattr(A, name) is method.function  # deepkit.viz.attribution.<name>
    with pytest.raises(KeyError, match="Known: "):
        A.get_method("salincy")


@pytest.mark.parametrize("name", METHODS)
def test_output_shape_and_dtype(name):
    maps = _call(name, _images(), class_index=[0, 1, 2, 0, 1])
    assert maps.shape == (5, 8, 8) and maps.dtype == np.float32
    assert np.isfinite(maps).all()


@pytest.mark.parametrize("name", METHODS)
def test_batch_size_invariance(name):
    x = _images()
    big = _call(name, x, batch_size=64)
    small = _call(name, x, batch_size=3)
    np.testing.assert_allclose(small, big, rtol=1e-4, atol=1e-6)
    if "seed" in inspect.signature(A.get_method(name).function).parameters:
        return  # noise is drawn per (seed, index in the batch): another batch, other noise
    # One image alone gets the same map as in the batch (targets are per image).
    np.testing.assert_allclose(_call(name, x[2:3], batch_size=64)[0], big[2], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", METHODS)
def test_determinism(name):
    x = _images()
    np.testing.assert_array_equal(_call(name, x), _call(name, x))


@pytest.mark.parametrize("name", A.list_methods("cam"))
def test_bad_layer_name_is_a_clear_error(name):
    with pytest.raises(ValueError, match=r"No layer named 'conv3'.*Did you mean 'conv"):
        _call(name, _images(), layer="conv3")


@pytest.mark.parametrize("name", METHODS)
def test_bad_class_index_is_a_clear_error(name):
    with pytest.raises(ValueError, match=f"{name}: class_index must be in 0..2"):
        _call(name, _images(), class_index=3)


def test_engine_is_cached_per_model_and_fgsm_binds_once(monkeypatch):
    from deepkit import viz

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    calls = []
    original = graph.logit_model
    monkeypatch.setattr(graph, "logit_model", lambda m: calls.append(m) or original(m))
    x = np.full((2, 4), 0.5, "float32")
    viz.fgsm(model, x, epsilon=0.1)
    viz.iterative_fgsm(model, x, epsilon=0.1, steps=2)
    viz.saliency(model, x)
    assert len(calls) == 1
    assert engine_lib.engine(model) is engine_lib.engine(model)


def test_chunks_are_not_padded_beyond_need(monkeypatch):
    eng = engine_lib.engine(_model())
    monkeypatch.setattr(backend, "capabilities", lambda: Capabilities(compiled_calls=True))  # a compiling backend
    # A run shorter than batch_size is one chunk of its exact size (169 occluded rows: 169).
    assert eng.chunks(169, 256) == [(0, 169, 169)]
    # Longer runs: full chunks of batch_size; only the last is padded to that shape.
    assert eng.chunks(169, 64) == [(0, 64, 64), (64, 128, 64), (128, 169, 64)]
    monkeypatch.setattr(backend, "capabilities", lambda: Capabilities(compiled_calls=False))  # eager: never padded
    assert eng.chunks(169, 64)[-1] == (128, 169, 41)


def test_occlusion_evaluates_each_row_once(monkeypatch):
    eng = engine_lib.engine(_model())
    seen = []
    fn = eng.score_fn(False)
    monkeypatch.setitem(eng._compiled, "prob", lambda x, onehot: seen.append(len(x)) or fn(x, onehot))
    A.occlusion(_model(), _images(2), class_index=0, patch_size=2, stride=1, batch_size=1000)
    # 7 x 7 positions + the clean image, for 2 images, in one call of exactly that size.
    assert seen == [2 * (49 + 1)]


def test_smoothgrad_is_the_noise_tunnel_over_saliency():
    x = _images()
    np.testing.assert_array_equal(
        A.smoothgrad(_model(), x, num_samples=4, seed=3),
        A.noise_tunnel(A.saliency, _model(), x, num_samples=4, seed=3),
    )
    np.testing.assert_array_equal(
        A.smoothgrad(_model(), x, num_samples=4, squared=True),
        A.noise_tunnel("saliency", _model(), x, num_samples=4, kind="smoothgrad_sq"),
    )


def test_noise_tunnel_over_integrated_gradients_matches_numpy():
    # Logits W . x: IG of a noisy copy x_s is (x_s - baseline) * W exactly, so the tunnel's
    # mean is (mean_s x_s - baseline) * W with the tunnel's own noise (seed, image index).
    rng = np.random.default_rng(0)
    w = rng.normal(size=(12, 2)).astype("float32")
    model = keras.Sequential([keras.Input((2, 3, 2)), keras.layers.Flatten(),
                              keras.layers.Dense(2, use_bias=False)])
    model.layers[-1].kernel.assign(w)
    x = rng.random((3, 2, 3, 2)).astype("float32")
    got = A.noise_tunnel(A.integrated_gradients, model, x, class_index=1, num_samples=5,
                         noise_level=0.2, steps=3, reduce=None, seed=7)
    want = np.empty_like(x)
    for i in range(3):
        sigma = 0.2 * (x[i].max() - x[i].min())
        noise = np.random.default_rng([7, i]).standard_normal((5,) + x.shape[1:]).astype("float32")
        want[i] = (x[i] + sigma * noise).mean(0) * w[:, 1].reshape(x.shape[1:])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    var = A.noise_tunnel(A.integrated_gradients, model, x, class_index=1, num_samples=5,
                         steps=3, kind="vargrad", reduce=None)
    assert var.shape == x.shape and (var >= 0).all()
    with pytest.raises(ValueError, match="noise_tunnel: method must be one of"):
        A.noise_tunnel(A.grad_cam, model, x)


def test_no_grad_is_a_context_on_every_backend():
    with gradients.no_grad():
        y = keras.ops.convert_to_numpy(keras.ops.ones((2,)) * 2)
    assert y.tolist() == [2.0, 2.0]


_KERAS_PRIVATE = ("_keras_history", "_inbound_nodes", "_nodes_by_depth", "_run_through_graph",
                  "_functional")


def _viz_sources():
    base = os.path.join(ROOT, "deepkit", "viz")
    for folder, _, files in os.walk(base):
        for f in files:
            if f.endswith(".py"):
                yield os.path.join(folder, f)


def test_viz_modules_use_only_public_names_of_each_other():
    bad = []
    for path in _viz_sources():
        tree = ast.parse(open(path, encoding="utf-8").read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("deepkit"):
                bad += [f"{path}: from {node.module} import {a.name}" for a in node.names
                        if a.name.startswith("_")]
            if isinstance(node, ast.Attribute) and node.attr in _KERAS_PRIVATE:
                bad.append(f"{path}: .{node.attr} (Keras internal: use deepkit.backend.keras_internals)")
    # The report is being split separately; its known private import is tracked there.
    bad = [b for b in bad if "report.py" not in b]
    assert not bad, "\n".join(bad)
