"""The lowest supported versions: deepkit's adaptive pooling for a Keras without it (checked against
numpy, and against Keras' own layer where Keras has it), the Keras version check of the one module that
names Keras internals, and one list of floors shared by pyproject.toml, ci/constraints-floors.txt and
README.md."""

import ast
import os
import re

import keras
import numpy as np
import pytest
from keras import ops

import deepkit
from deepkit.backend import keras_internals
from deepkit.layers import AdaptiveAveragePooling2D
from deepkit.layers.pooling import KERAS_HAS_ADAPTIVE_POOLING
from deepkit.spec.registry import get_layer_class
from tests import ROOT


def adaptive_reference(x, out_h, out_w):
    """Loops over output cells with PyTorch's bins: rows floor(i*H/h) .. ceil((i+1)*H/h) - 1."""
    n, height, width, c = x.shape
    out = np.empty((n, out_h, out_w, c))
    for i in range(out_h):
        r0, r1 = (i * height) // out_h, -(-((i + 1) * height) // out_h)
        for j in range(out_w):
            c0, c1 = (j * width) // out_w, -(-((j + 1) * width) // out_w)
            out[:, i, j, :] = x[:, r0:r1, c0:c1, :].astype(np.float64).mean(axis=(1, 2))
    return out


SIZES = [((13, 13), 6), ((6, 6), 6), ((5, 7), (2, 3)), ((4, 4), 6), ((9, 3), (4, 1)), ((7, 8), 1)]


@pytest.mark.parametrize("hw,output_size", SIZES)
def test_adaptive_pooling_matches_numpy_reference(hw, output_size):
    x = np.random.default_rng(0).normal(size=(2, *hw, 3)).astype("float32")
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    got = ops.convert_to_numpy(AdaptiveAveragePooling2D(output_size)(x))
    np.testing.assert_allclose(got, adaptive_reference(x, oh, ow), rtol=1e-5, atol=1e-6)


def test_adaptive_pooling_channels_first():
    x = np.random.default_rng(1).normal(size=(2, 3, 11, 5)).astype("float32")
    got = ops.convert_to_numpy(AdaptiveAveragePooling2D((4, 2), data_format="channels_first")(x))
    want = adaptive_reference(np.transpose(x, (0, 2, 3, 1)), 4, 2).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not KERAS_HAS_ADAPTIVE_POOLING, reason="this Keras has no AdaptiveAveragePooling2D")
@pytest.mark.parametrize("hw,output_size", SIZES)
def test_adaptive_pooling_matches_keras_own_layer(hw, output_size):
    x = np.random.default_rng(2).normal(size=(2, *hw, 4)).astype("float32")
    ours = AdaptiveAveragePooling2D(output_size)
    theirs = keras.layers.AdaptiveAveragePooling2D(output_size)
    np.testing.assert_allclose(ops.convert_to_numpy(ours(x)), ops.convert_to_numpy(theirs(x)), rtol=1e-5, atol=1e-6)
    assert ours.get_config()["output_size"] == tuple(theirs.get_config()["output_size"])


def test_specs_name_keras_layer_when_it_exists_else_deepkit_one():
    cls = get_layer_class("AdaptiveAveragePooling2D")
    if KERAS_HAS_ADAPTIVE_POOLING:
        assert cls is keras.layers.AdaptiveAveragePooling2D
    else:
        assert cls is AdaptiveAveragePooling2D


def test_alexnet_builds_and_its_pooling_saves_and_loads(tmp_path):
    model = deepkit.models.alexnet(input_shape=(67, 67, 3), num_classes=3)
    assert tuple(model.get_layer("avgpool").output.shape) == (None, 6, 6, 256)
    # deepkit's own layer (whatever Keras has) in a .keras file loads back without custom_objects
    inp = keras.Input((5, 7, 2))
    plain = keras.Model(inp, AdaptiveAveragePooling2D((2, 3), name="pool")(inp))
    path = tmp_path / "pool.keras"
    plain.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.get_layer("pool")) is AdaptiveAveragePooling2D
    x = np.random.default_rng(3).random((1, 5, 7, 2)).astype("float32")
    np.testing.assert_allclose(ops.convert_to_numpy(loaded(x)), adaptive_reference(x, 2, 3), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs,match", [
    ({"output_size": 0}, r"output_size must be a positive integer.*Received: output_size=0"),
    ({"output_size": (2, 2, 2)}, r"Received: output_size=\(2, 2, 2\)"),
    ({"output_size": 2, "data_format": "NHWC"}, r"Received: data_format='NHWC'"),
])
def test_adaptive_pooling_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdaptiveAveragePooling2D(**kwargs)


def test_adaptive_pooling_needs_known_spatial_size():
    with pytest.raises(ValueError, match=r"'gap' needs a 4-D input with known height and width.*None, None"):
        AdaptiveAveragePooling2D(2, name="gap")(keras.Input((None, None, 3)))


# ----------------------------------------------------------------------------- Keras version check

@pytest.mark.backend_independent
def test_keras_version_in_the_tested_range_passes():
    assert keras_internals.check_keras_version(keras.version()) is None or \
        keras_internals.parse_version(keras.version())[:2] > keras_internals.KERAS_NEWEST_TESTED
    assert keras_internals.check_keras_version("3.10.0") is None


@pytest.mark.backend_independent
@pytest.mark.parametrize("version", ["3.9.2", "2.15.0", "4.0.0"])
def test_unsupported_keras_is_refused_naming_the_range(version):
    with pytest.raises(ImportError, match=rf"supports Keras 3\.10 to 3\.\d+ \(tested\)\. Received: Keras {version}"):
        keras_internals.check_keras_version(version)


@pytest.mark.backend_independent
def test_newer_keras_warns_naming_the_range():
    with pytest.warns(keras_internals.KerasVersionWarning, match=r"tested on Keras 3\.10 to 3\.\d+\. Received: Keras 3\.99\.0rc1"):
        keras_internals.check_keras_version("3.99.0rc1")


@pytest.mark.backend_independent
def test_missing_internal_names_it_and_the_range():
    with pytest.raises(ImportError, match=r"Keras internal 'keras\.src\.no_such_module'.*Keras 3\.10 to 3\."):
        keras_internals._internal("keras.src.no_such_module")


def _imports_keras_src(path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("keras.src"):
            return True
        if isinstance(node, ast.Import) and any(a.name.startswith("keras.src") for a in node.names):
            return True
    return False


@pytest.mark.backend_independent
def test_only_keras_internals_module_imports_keras_src():
    offenders = []
    for folder, _, files in os.walk(os.path.join(ROOT, "deepkit")):
        for f in files:
            path = os.path.join(folder, f)
            rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
            if f.endswith(".py") and rel != "deepkit/backend/keras_internals.py" and _imports_keras_src(path):
                offenders.append(rel)
    assert not offenders, ("these modules import keras.src directly; take the internal from "
                           f"deepkit.backend.keras_internals, which checks the Keras version: {offenders}")


# ----------------------------------------------------------------------------- one list of floors

def _floors_from_constraints():
    out = {}
    with open(os.path.join(ROOT, "ci", "constraints-floors.txt")) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                name, version = line.split("==")
                out[name.strip().lower()] = version.strip()
    return out


def _floors_from_pyproject():
    text = open(os.path.join(ROOT, "pyproject.toml")).read()
    return {m.group(1).lower(): m.group(2) for m in re.finditer(r'"([A-Za-z0-9_-]+)>=([0-9.]+)', text)}


@pytest.mark.backend_independent
def test_constraints_pin_every_floor_of_pyproject():
    floors, declared = _floors_from_constraints(), _floors_from_pyproject()
    for name in ["keras", "tensorflow", "jax", "numpy", "scikit-learn", "matplotlib", "pyyaml", "pillow"]:
        assert declared.get(name) == floors.get(name), \
            f"{name}: pyproject.toml says >={declared.get(name)}, ci/constraints-floors.txt tests {floors.get(name)}"
    assert keras_internals.parse_version(floors["keras"])[:2] == keras_internals.KERAS_LOWEST


@pytest.mark.backend_independent
def test_readme_states_the_floors():
    readme = open(os.path.join(ROOT, "README.md")).read()
    for name, version in _floors_from_constraints().items():
        if name == "jaxlib":
            continue
        assert f"{name} {version}" in readme.lower(), f"README.md does not state the floor {name} {version}"


@pytest.mark.backend_independent
def test_ci_runs_the_floor_check_that_readme_gives():
    ci = open(os.path.join(ROOT, ".ci", "run")).read()
    readme = open(os.path.join(ROOT, "README.md")).read()
    assert "bash tools/test-all.sh" in ci and "tools/test-floors.sh test" in ci and "tools/test-floors.sh install" in ci
    assert "bash tools/test-floors.sh" in readme and "tools/test-all.sh" in readme
