"""The atlas of models on vectors (issue 27.8): what applies of the image atlas, and the input plane."""

import json

import keras
import numpy as np
import pytest

from deepkit.viz.report import build_report
from deepkit.viz.report.plane import unit_response_grid

# End-to-end report builds (tens of seconds each): slow, run once in CI (tools/test-all.sh).
pytestmark = pytest.mark.slow


def _points(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 2)).astype("float32")
    return x, (x[:, 0] * x[:, 1] > 0).astype("int64")


def _tanh_net(outputs=1, activation="sigmoid"):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, "tanh", name="hidden_1"),
                             keras.layers.Dense(2, "tanh", name="hidden_2"),
                             keras.layers.Dense(outputs, activation, name="output")], name="playground")


def test_dense_classifier_on_20_features_gets_the_atlas_of_what_applies(tmp_path):
    """Before: refused ("the report shows images"); before that, failed in ``overlay_heatmap`` after
    pages were written."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(8, "relu", name="h"),
                              keras.layers.Dense(3, "softmax", name="out")], name="mlp")
    rng = np.random.default_rng(0)
    build_report(model, (rng.random((60, 20)).astype("float32"), np.arange(60) % 3), tmp_path, unit_pages=2,
                 progress=False)
    meta = json.loads((tmp_path / "report.json").read_text())
    assert meta["errors"] == [] and meta["classes"] == []
    assert sorted(meta["pages"]) == ["index.html", "layer-h.html", "layer-out.html", "unit-h-0.html", "unit-h-1.html",
                                     "unit-out-0.html", "unit-out-1.html"]
    index = (tmp_path / "index.html").read_text()
    assert "Confusion matrix" in index and "multiply-adds" in index and "accuracy on the data" in index
    assert "inputs are vectors of 20 values" in index and "input plane" not in index  # 20 features: no plane
    layer = (tmp_path / "layer-h.html").read_text()
    assert "activations over the data" in layer and "Embedding" in layer
    unit = (tmp_path / "unit-h-1.html").read_text()
    assert "Strongest 9 samples" in unit and "x7" in unit and "x8" not in unit and "Incoming weights" in unit


def test_two_feature_tanh_net_shows_units_and_decisions_over_the_plane(tmp_path):
    x, y = _points()
    build_report(_tanh_net(), (x, y), tmp_path, progress=False, history={"loss": [0.7, 0.5]})
    meta = json.loads((tmp_path / "report.json").read_text())
    assert meta["errors"] == []
    assert meta["units"] == {"hidden_1": [0, 1, 2, 3], "hidden_2": [0, 1], "output": [0]}
    index = (tmp_path / "index.html").read_text()
    assert "The model over the input plane" in index and "Training curves" in index and "Confusion matrix" in index
    assert "Units over the input plane" in (tmp_path / "layer-hidden-1.html").read_text()
    assert "Over the input plane" in (tmp_path / "unit-hidden-2-1.html").read_text()


def test_regression_net_from_an_npz_of_float_targets(tmp_path):
    """A linear output is no classifier: no confusion matrix and the overview says why; the targets of
    the file are numbers, not class indices (the data resolver refuses them as labels)."""
    x, _ = _points()
    data = tmp_path / "points.npz"
    np.savez(data, x_train=x[:80], y_train=x[:80, 0] * 3, x_test=x[80:], y_test=x[80:, 0] * 3)
    out = tmp_path / "atlas"
    build_report(_tanh_net(activation=None), str(data), out, progress=False)
    meta = json.loads((out / "report.json").read_text())
    assert meta["errors"] == [] and meta["num_samples"] == 40
    index = (out / "index.html").read_text()
    assert "Confusion matrix" not in index and "one linear unit (a regression)" in index
    assert "The model over the input plane" in index
    unit = (out / "unit-hidden-1-0.html").read_text()
    assert "Strongest 9 samples" in unit and "label" in unit


def test_vector_model_refuses_the_single_page_before_anything_is_written(tmp_path):
    x, y = _points(20)
    with pytest.raises(ValueError, match="takes vectors; the single page shows images"):
        build_report(_tanh_net(), (x, y), tmp_path / "out", single_file=True, progress=False)
    assert not (tmp_path / "out").exists()


def test_unit_response_grid_matches_the_layers_own_outputs_on_the_plane():
    """Checked against a Keras sub-model evaluated point by point on a grid built here (row ``i`` is
    ``y = gy[i]``, column ``j`` is ``x = gx[j]``). Planted error seen to fail: the grid transposed
    (``values.transpose(1, 0, 2)`` in ``unit_response_grid``)."""
    x, _ = _points(50, seed=3)
    x[:, 1] *= 3.0  # different extents on the two axes, so a transposed grid cannot pass
    model = _tanh_net()
    gx, gy, values = unit_response_grid(model, "hidden_1", x, resolution=7)
    pad = (x.max(0) - x.min(0)) * 0.25 + 1e-3
    np.testing.assert_allclose(gx, np.linspace(x[:, 0].min() - pad[0], x[:, 0].max() + pad[0], 7), rtol=1e-6)
    np.testing.assert_allclose(gy, np.linspace(x[:, 1].min() - pad[1], x[:, 1].max() + pad[1], 7), rtol=1e-6)
    sub = keras.Model(model.inputs[0], model.get_layer("hidden_1").output)
    expected = np.zeros((7, 7, 4), np.float32)
    for i in range(7):
        for j in range(7):
            point = np.array([[gx[j], gy[i]]], np.float32)
            expected[i, j] = keras.ops.convert_to_numpy(sub(point))[0]
    assert values.shape == (7, 7, 4)
    np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-6)
