"""Decision boundaries on toy 2-D problems: logistic regression vs. MLP."""

import keras
import numpy as np
import pytest

from deepkit.viz import boundary


def _circles():
    try:
        from deepkit.datasets import toy

        return toy.circles(200, noise=0.05, seed=0)
    except ImportError:  # pragma: no cover - datasets not there yet
        from sklearn.datasets import make_circles

        return make_circles(200, noise=0.05, factor=0.5, random_state=0)


@pytest.mark.slow
def test_logistic_regression_fails_and_mlp_solves_circles(tmp_path):
    x, y = _circles()
    fig, res = boundary.compare_boundaries(x, y, epochs=150, resolution=60,
                                           path=tmp_path / "cmp.png")
    lr, net = res["logistic regression"], res["mlp 8-8"]
    # a line cannot separate two concentric circles: at best it cuts off part of the outer ring
    assert lr["accuracy"] < 0.75
    assert net["accuracy"] > 0.95
    assert [ax.get_title().split(":")[0] for ax in fig.axes[:2]] == ["logistic regression", "mlp 8-8"]
    assert (tmp_path / "cmp.png").stat().st_size > 5000

    # the logistic model's boundary is exactly the line where its two logits are equal
    model = lr["model"]
    w, b = model.layers[-1].get_weights()
    xx, yy, probs = boundary.decision_grid(model, x, resolution=40)
    pts = np.stack([xx.ravel(), yy.ravel()], 1)
    margin = pts @ (w[:, 1] - w[:, 0]) + (b[1] - b[0])
    clear = np.abs(margin) > 1e-4
    np.testing.assert_array_equal(probs.reshape(-1, 2).argmax(1)[clear], (margin > 0)[clear])


def test_decision_grid_matches_predict_and_handles_logits_and_sigmoid():
    x, _ = _circles()
    keras.utils.set_random_seed(0)
    logits = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    xx, yy, probs = boundary.decision_grid(logits, x, resolution=7, margin=0.0)
    assert xx.min() == pytest.approx(x[:, 0].min(), abs=1e-2)
    pts = np.stack([xx.ravel(), yy.ravel()], 1).astype("float32")
    ref = keras.ops.convert_to_numpy(keras.ops.softmax(logits(pts)))
    np.testing.assert_allclose(probs.reshape(-1, 3), ref, rtol=1e-5, atol=1e-6)
    sig = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    p = boundary.predict_proba(sig, pts)
    np.testing.assert_allclose(p[:, 1], sig.predict(pts, verbose=0)[:, 0], rtol=1e-5)
    np.testing.assert_allclose(p.sum(1), 1.0)


def test_multiclass_boundary_plot_and_errors():
    from sklearn.datasets import make_blobs

    x, y = make_blobs(90, centers=3, random_state=1)
    model = boundary.mlp((4,), num_classes=3)
    fig = boundary.plot_decision_boundary(model, x, y, resolution=30, title="untrained")
    assert fig.axes[0].get_title() == "untrained"
    with pytest.raises(ValueError, match=r"x must be 2-D points \(N, 2\). Received: shape=\(90, 3\)"):
        boundary.plot_decision_boundary(model, np.zeros((90, 3)), y)
    with pytest.raises(ValueError, match="90 points but 5 labels"):
        boundary.plot_decision_boundary(model, x, y[:5])
