"""The VisualizationRecorder callback: what it records, when, and that it matches direct calls."""

import keras
import numpy as np
import pytest

from deepkit.viz import attribution, embedding
from deepkit.viz.callback import VisualizationRecorder
from tests.viz.digits import digits, digits_cnn


def _compiled():
    model = digits_cnn(seed=3)
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


@pytest.mark.slow
def test_recorder_records_on_schedule_and_matches_direct_calls(tmp_path):
    x, y = digits()
    model = _compiled()
    initial = model.get_layer("conv1").get_weights()[0].copy()
    seen, probe = x[:200], y[:200]
    rec = VisualizationRecorder(
        seen, probe, every=3, out_dir=tmp_path,
        record=["filters", "grad_cam", "embedding", "confusion_matrix", "activations"])
    model.fit(x[:800], y[:800], epochs=3, batch_size=64, verbose=0, callbacks=[rec])
    assert rec.epochs == [0, 3]  # before training and after the 3rd epoch
    filters = rec.records["filters"]
    np.testing.assert_array_equal(filters[0], np.transpose(initial, (3, 0, 1, 2)))
    np.testing.assert_array_equal(
        filters[-1], np.transpose(model.get_layer("conv1").get_weights()[0], (3, 0, 1, 2)))
    assert not np.allclose(filters[0], filters[-1])
    np.testing.assert_allclose(rec.records["grad_cam"][-1],
                               attribution.grad_cam(model, seen, class_index=probe), atol=1e-5)
    # learning shows: the embedding groups classes better and the confusion matrix fills its diagonal
    first, last = rec.records["embedding"][0], rec.records["embedding"][-1]
    assert embedding.knn_accuracy(last, probe) > embedding.knn_accuracy(first, probe)
    cms = rec.records["confusion_matrix"]
    assert cms[-1].sum() == 200 and np.trace(cms[-1]) > np.trace(cms[0])
    assert set(rec.records["activations"][0]) == {"conv1", "conv2"}
    # PNGs: 5 recordings x 2 epochs
    assert len(rec.saved) == 10
    assert (tmp_path / "grad_cam" / "epoch_0003.png").stat().st_size > 1000
    fig = rec.plot_evolution("filters", path=tmp_path / "evo.png")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0", "3"]
    assert rec.plot_evolution("grad_cam", index=1).deepkit_image.shape[-1] == 3
    assert len(rec.plot_evolution("embedding").axes) == 2
    rec.plot_evolution("confusion_matrix")
    rec.plot_evolution("activations")


def test_custom_recording_and_fast_fit_path():
    import deepkit

    x, y = digits()
    model = deepkit.Sequential(
        [keras.layers.Conv2D(4, 3, activation="relu", name="c"), keras.layers.Flatten(),
         keras.layers.Dense(10)], input_shape=(8, 8, 1))
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rec = VisualizationRecorder(x[:4], record={"mean_logit": lambda m, xs, ys: np.asarray(
        m.predict(xs, verbose=0)).mean()}, include_initial=False, every=2)
    model.fit(x[:256], y[:256], epochs=5, batch_size=64, verbose=0, callbacks=[rec], fast=True)
    assert rec.epochs == [2, 4]
    rec.on_epoch_end(4)  # the 5th epoch is not a multiple of every=2: nothing new
    assert rec.epochs == [2, 4]
    values = rec.records["mean_logit"]
    assert len(values) == 2 and values[0] != values[1]


def test_recorder_argument_errors():
    x, y = digits()
    with pytest.raises(ValueError, match="unknown recording 'gradcam'"):
        VisualizationRecorder(x[:2], record=["gradcam"])
    with pytest.raises(ValueError, match="every=0"):
        VisualizationRecorder(x[:2], every=0)
    with pytest.raises(ValueError, match="needs y="):
        VisualizationRecorder(x[:2], record=["confusion_matrix"])
    with pytest.raises(ValueError, match="2 inputs but 3 labels"):
        VisualizationRecorder(x[:2], y[:3])
    rec = VisualizationRecorder(x[:2], record=["filters"])
    with pytest.raises(ValueError, match="nothing recorded yet"):
        rec.plot_evolution("filters")
