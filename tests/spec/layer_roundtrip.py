"""Round trip of every public ``keras.layers`` class through a spec, a ``.keras`` file and a fresh process.

``build_all(directory)`` walks ``keras.layers`` (the public classes, not a hand list), builds a small
``deepkit.from_spec`` model around each class with simple arguments, saves it, and records the outputs and
dtype policies; a class that cannot stand in a one-input spec is recorded with deepkit's refusal message.
``python tests/spec/layer_roundtrip.py DIRECTORY`` (run in a fresh process) loads every saved file with
``keras.saving.load_model`` and prints, as JSON, what did not come back the same.
"""

import inspect
import json
import os
import sys

import keras
import numpy as np

import deepkit
from deepkit.errors import SpecError

# Simple values for required constructor arguments, by argument name.
ARGUMENTS = {
    "units": 3, "filters": 2, "kernel_size": 2, "rate": 0.25, "pool_size": 2, "output_size": 2,
    "activation": "tanh", "stddev": 0.1, "height": 4, "width": 4, "factor": 0.2, "height_factor": 0.2,
    "width_factor": 0.2, "n": 2, "target_shape": [-1], "scale": 0.5, "axes": 1, "equation": "ab,bc->ac",
    "output_shape": 3, "input_dim": 10, "output_dim": 3, "num_heads": 2, "key_dim": 2, "num_bins": 4,
    "max_number": 2, "head_dim": 2, "num_query_heads": 2, "num_key_value_heads": 1, "dims": [1],
}
# Optional arguments some classes need to work on small inputs, by class name.
OPTIONS = {
    "GroupNormalization": {"groups": 1}, "CategoryEncoding": {"num_tokens": 4},
    "Discretization": {"bin_boundaries": [0.25, 0.5, 0.75]},
    "RandomPosterization": {"factor": 4},
    "MelSpectrogram": {"fft_length": 16, "sequence_length": 16, "sequence_stride": 4, "num_mel_bins": 4},
    "STFTSpectrogram": {"frame_length": 8, "frame_step": 4, "fft_length": 8},
}
# Nested layer entries for wrappers, by class name then argument name.
NESTED = {
    "Bidirectional": {"layer": {"LSTM": 3}},
    "TimeDistributed": {"layer": {"Dense": 2}},
    "RNN": {"cell": {"GRUCell": 3}},
    "StackedRNNCells": {"cells": [{"LSTMCell": 3}, {"SimpleRNNCell": 2}]},
    "Pipeline": {"layers": [{"Rescaling": 0.5}, {"RandomFlip": "horizontal"}]},
    "SpectralNormalization": {"layer": {"Dense": 2}},
}
# Input shapes tried in turn (without batch dimension) until the layer accepts one.
INPUT_SHAPES = {
    "1D": [(6, 4)], "2D": [(8, 8, 3)], "3D": [(4, 4, 4, 2)],
    "default": [(6,), (5, 4), (8, 8, 3), (4, 4, 4, 2)],
    "ConvLSTM1D": [(3, 6, 4)], "ConvLSTM2D": [(3, 6, 6, 2)], "ConvLSTM3D": [(2, 4, 4, 4, 2)],
    "MelSpectrogram": [(64,)], "STFTSpectrogram": [(16, 1)], "Pipeline": [(8, 8, 3)],
}
# Mixed precision cases: (file stem, spec).
MIXED = [
    ("mixed_bfloat16_model", {"input_shape": [5, 4], "dtype_policy": "mixed_bfloat16", "layers": [
        {"Bidirectional": {"LSTM": 3}}, {"Dense": 2}]}),
    ("mixed_float16_layer", {"input_shape": [8, 8, 3], "layers": [
        {"Conv2D": {"filters": 2, "kernel_size": 3, "dtype": "mixed_float16"}}, "Flatten",
        {"Dense": {"units": 2, "dtype": "float32"}}]}),
]


def public_layer_classes():
    """``{name: class}`` for every public class of ``keras.layers`` (aliases once, under their first name)."""
    seen, found = set(), {}
    for name in sorted(dir(keras.layers)):
        obj = getattr(keras.layers, name)
        if inspect.isclass(obj) and issubclass(obj, keras.layers.Layer) and not name.startswith("_"):
            if obj not in seen:
                seen.add(obj)
                found[name] = obj
    return found


def sample(classes):
    """A cheap cross-section for the default suite: one class per keras.layers source module (the first
    by name), plus every class whose constructor takes a layer (the wrappers)."""
    picked, modules = {}, set()
    for name, cls in classes.items():
        params = list(inspect.signature(cls.__init__).parameters)
        family = cls.__module__.rsplit(".", 1)[0]
        if family not in modules or {"layer", "cell", "cells", "layers"} & set(params):
            modules.add(family)
            picked[name] = cls
    return picked


def _family(name, cls):
    if name in INPUT_SHAPES:
        return name
    if "image_preprocessing" in cls.__module__:
        return "2D"
    for suffix in ("1D", "2D", "3D"):
        if suffix in name:
            return suffix
    return "default"


def layer_entry(name, cls):
    """The spec entry of one layer class with simple arguments."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    kwargs = {**NESTED.get(name, {}), **OPTIONS.get(name, {})}
    for p in params:
        if p.name not in kwargs and p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            if p.name in ARGUMENTS:
                kwargs[p.name] = ARGUMENTS[p.name]
    return {name: kwargs} if kwargs else name


def inputs_for(shape, seed=0):
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=(2, *shape)).astype("float32")


def _outputs(model, x):
    out = model(x, training=False)
    return [keras.ops.convert_to_numpy(keras.ops.cast(t, "float32")) for t in keras.tree.flatten(out)]


def _policies(model):
    return {layer.name: layer.dtype_policy.name for layer in model.layers}


def _save(model, directory, stem, shape, manifest):
    x = inputs_for(shape)
    outputs = _outputs(model, x)
    model.save(os.path.join(directory, stem + ".keras"))
    np.savez(os.path.join(directory, stem + ".npz"), x=x, *outputs)
    manifest[stem] = {"policies": _policies(model), "spec": model.to_spec()}


def build_all(directory, classes=None):
    """Build, save and record every public layer class (or ``classes``); return ``(saved, refused)``.

    Returns:
        ``saved``: a list of class names whose model was saved; ``refused``: ``{name: message}`` for the
        classes deepkit refuses when the model is built (or saved).
    """
    manifest, refused = {}, {}
    for name, cls in (classes or public_layer_classes()).items():
        entry = layer_entry(name, cls)
        errors = []
        for shape in INPUT_SHAPES[_family(name, cls)]:
            try:
                model = deepkit.from_spec({"input_shape": list(shape), "layers": [entry]})
            except SpecError as exc:
                errors.append(str(exc))
                continue
            try:
                _outputs(model, inputs_for(shape))
            except Exception as exc:  # built on symbolic shapes, but cannot run on these inputs
                errors.append(f"runs on no simple float input ({type(exc).__name__}: {exc})")
                continue
            _save(model, directory, name, shape, manifest)
            break
        else:
            refused[name] = errors[-1]
    for stem, spec in MIXED:
        _save(deepkit.from_spec(spec), directory, stem, spec["input_shape"], manifest)
    with open(os.path.join(directory, "manifest.json"), "w") as fh:
        json.dump(manifest, fh)
    return sorted(n for n in manifest if n not in dict(MIXED)), refused


def load_all(directory):
    """Load every saved file (in this process) and compare with what was recorded.

    Returns:
        ``{stem: problem}`` for each file that did not come back the same (empty when all did).
    """
    with open(os.path.join(directory, "manifest.json")) as fh:
        manifest = json.load(fh)
    problems = {}
    for stem, record in manifest.items():
        try:
            model = keras.saving.load_model(os.path.join(directory, stem + ".keras"))
            saved = np.load(os.path.join(directory, stem + ".npz"))
            expected = [saved[f"arr_{i}"] for i in range(len(saved.files) - 1)]
            got = _outputs(model, saved["x"])
            if len(got) != len(expected):
                problems[stem] = f"{len(got)} outputs instead of {len(expected)}"
            elif not all(np.allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True) for a, b in zip(got, expected)):
                problems[stem] = "outputs differ"
            elif _policies(model) != record["policies"]:
                problems[stem] = f"dtype policies {_policies(model)} instead of {record['policies']}"
            elif not isinstance(model, deepkit.Model) or model.to_spec() != record["spec"]:
                problems[stem] = f"spec {model.to_spec()} instead of {record['spec']}"
        except Exception as exc:  # report every failure, not only the first
            problems[stem] = f"{type(exc).__name__}: {exc}"[:400]
    return problems


if __name__ == "__main__":
    print(json.dumps(load_all(sys.argv[1])))
