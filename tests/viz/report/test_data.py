"""What the report accepts: models on images or vectors; others refused before anything is written (issue 27.8)."""

import json
import os

import keras
import numpy as np
import pytest

from deepkit.viz.report import build_report


@pytest.mark.parametrize("single_file", [False, True])
@pytest.mark.parametrize("kind", ["two_inputs", "conv1d"])
def test_model_on_sequences_or_two_inputs_is_refused_before_anything_is_written(tmp_path, kind, single_file):
    """Before: Conv1D on (50, 3) failed in a numpy stack after layer and unit pages were written: a
    half-written site without ``index.html``. (Dense on (20,) gets the atlas of vectors now:
    tests/viz/report/test_vectors.py.)"""
    rng = np.random.default_rng(0)
    if kind == "two_inputs":
        a, b = keras.Input((2,)), keras.Input((3,))
        model = keras.Model([a, b], keras.layers.Dense(2)(keras.layers.Concatenate()([a, b])), name="two")
        x, match = [rng.random((30, 2)), rng.random((30, 3))], "has 2 inputs; the report shows one input"
    else:
        model = keras.Sequential([keras.Input((50, 3)), keras.layers.Conv1D(4, 3),
                                  keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(3)], name="seq")
        x = rng.random((30, 50, 3)).astype("float32")
        match = r"takes inputs of shape \(50, 3\);.*sequences \(steps, features\) are not shown yet"
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=match):
        build_report(model, (x, np.arange(30) % 3), out, featurevis=False, progress=False,
                     single_file=single_file)
    assert not out.exists()


@pytest.mark.slow
def test_two_output_model_gets_the_atlas_of_what_applies(tmp_path):
    """Before: 'predicting' failed with numpy's 'inhomogeneous shape' error (listed as a problem on the
    index); now the overview says why there are no class pages, and nothing fails."""
    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 1))
    h = keras.layers.Flatten()(keras.layers.Conv2D(4, 3, name="c")(inp))
    model = keras.Model(inp, [keras.layers.Dense(3, name="a")(h), keras.layers.Dense(2, name="b")(h)], name="two")
    x = np.random.default_rng(0).random((20, 8, 8, 1)).astype("float32")
    build_report(model, (x, np.arange(20) % 3), tmp_path, featurevis=False, unit_pages=1, max_units=2,
                 attributions=("saliency",), progress=False)
    meta = json.loads((tmp_path / "report.json").read_text())
    assert meta["errors"] == [] and meta["classes"] == []
    assert set(meta["pages"]) >= {"index.html", "layer-c.html", "layer-a.html", "layer-b.html"}
    index = (tmp_path / "index.html").read_text()
    assert "the model has 2 outputs: accuracy, confusion matrix, attribution maps and class pages need" in index
    assert not [f for f in os.listdir(tmp_path) if f.startswith("class-")]
