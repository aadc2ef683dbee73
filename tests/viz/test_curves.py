"""Training curves and confusion matrices, checked against scikit-learn."""

import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from deepkit.viz import curves
from tests.viz.digits import trained_digits_cnn


@pytest.mark.backend_independent
def test_confusion_matrix_matches_sklearn_for_all_input_forms():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 200)
    probs = rng.random((200, 5))
    pred = probs.argmax(1)
    ref = sk_confusion_matrix(y, pred, labels=range(5))
    np.testing.assert_array_equal(curves.confusion_matrix(y, pred), ref)
    np.testing.assert_array_equal(curves.confusion_matrix(y, probs), ref)
    np.testing.assert_array_equal(curves.confusion_matrix(np.eye(5)[y], probs), ref)
    for norm in ("true", "pred", "all"):
        np.testing.assert_allclose(
            curves.confusion_matrix(y, pred, normalize=norm),
            sk_confusion_matrix(y, pred, labels=range(5), normalize=norm))
    # a class never seen still gets its row when num_classes says so
    assert curves.confusion_matrix([0, 1], [1, 1], num_classes=4).shape == (4, 4)
    # sigmoid outputs (N, 1) are thresholded at 0.5
    np.testing.assert_array_equal(
        curves.confusion_matrix([0, 1, 1], np.array([[0.2], [0.7], [0.4]])), [[1, 0], [1, 1]])


@pytest.mark.backend_independent
def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match="y_true has 3 samples but y_pred has 2"):
        curves.confusion_matrix([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="label 3 is out of range for num_classes=3"):
        curves.confusion_matrix([0, 3], [0, 1], num_classes=3)
    with pytest.raises(ValueError, match="must be >= 0"):
        curves.confusion_matrix([0, -1], [0, 1])
    with pytest.raises(ValueError, match="normalize='rows'"):
        curves.confusion_matrix([0, 1], [0, 1], normalize="rows")


def test_plot_confusion_matrix_of_trained_model(tmp_path):
    model, _, x, y = trained_digits_cnn()
    pred = model.predict(x[1500:], verbose=0)
    fig = curves.plot_confusion_matrix(y[1500:], pred, path=tmp_path / "cm.png")
    ax = fig.axes[0]
    acc = np.mean(pred.argmax(1) == y[1500:])
    assert ax.get_title() == f"accuracy {acc:.3f} (n=297)"
    cm = curves.confusion_matrix(y[1500:], pred)
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 100 and texts[0] == str(cm[0, 0])
    assert (tmp_path / "cm.png").stat().st_size > 5000
    fig = curves.plot_confusion_matrix(matrix=curves.confusion_matrix(y[1500:], pred, normalize="true"))
    assert fig.axes[0].texts[0].get_text() == f"{cm[0, 0] / cm[0].sum():.2f}"


def test_history_from_fit_dict_and_json(tmp_path):
    _, hist, _, _ = trained_digits_cnn()
    assert set(hist) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    path = tmp_path / "h.json"
    path.write_text(json.dumps(hist))
    assert curves.history_dict(str(path)) == curves.history_dict(hist)
    fig = curves.plot_history(path, path=tmp_path / "h.png")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "accuracy"]
    ys = fig.axes[0].get_lines()[1].get_ydata()
    np.testing.assert_allclose(ys, hist["val_loss"])
    assert hist["loss"][-1] < hist["loss"][0]  # it did learn


@pytest.mark.backend_independent
def test_history_errors():
    with pytest.raises(ValueError, match="one value per epoch"):
        curves.history_dict({"loss": [1, 2], "val_loss": [1]})
    with pytest.raises(ValueError, match=r"metrics \['auc'\] are not in the history"):
        curves.plot_history({"loss": [1.0]}, metrics=["auc"])
    with pytest.raises(ValueError, match="Received: int"):
        curves.history_dict(3)
    with pytest.raises(ValueError, match="empty"):
        curves.plot_history({"loss": []})


def test_plot_history_epoch_ticks_are_whole_numbers():
    fig = curves.plot_history({"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6]})
    ax = fig.axes[0]
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
