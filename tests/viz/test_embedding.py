"""PCA / t-SNE of layer outputs and the k-NN separation score."""

import keras
import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.model_selection import LeaveOneOut, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from deepkit.viz import embedding
from tests.viz.digits import digits_cnn, trained_digits_cnn


def test_layer_features_and_pca_match_keras_and_sklearn():
    model, _, x, _ = trained_digits_cnn()
    feats = embedding.layer_features(model, x[:200], "conv2", pool="avg")
    ref = keras.Model(model.inputs, model.get_layer("conv2").output).predict(x[:200], verbose=0)
    np.testing.assert_allclose(feats, ref.mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)
    flat = embedding.layer_features(model, x[:10], "conv2")  # 4*4*16 = 256 values: flattened
    np.testing.assert_allclose(flat, ref[:10].reshape(10, -1), rtol=1e-5, atol=1e-6)
    raw = embedding.layer_features(model, x[:10], "input")
    np.testing.assert_array_equal(raw, x[:10].reshape(10, -1))

    coords = embedding.embed(feats, "pca")
    sk = PCA(2).fit_transform(feats.astype(np.float64))
    for c in range(2):  # components are defined up to sign
        sign = np.sign(np.dot(coords[:, c], sk[:, c]))
        np.testing.assert_allclose(coords[:, c], sign * sk[:, c], rtol=1e-4, atol=1e-4)


@pytest.mark.backend_independent
def test_knn_accuracy_matches_sklearn_leave_one_out():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(60, 3))
    labels = (f[:, 0] + 0.5 * rng.normal(size=60) > 0).astype(int)
    ref = cross_val_score(KNeighborsClassifier(3), f, labels, cv=LeaveOneOut()).mean()
    assert embedding.knn_accuracy(f, labels, k=3) == pytest.approx(ref)


def test_trained_layers_group_classes_better_than_untrained():
    model, _, x, y = trained_digits_cnn()
    untrained = digits_cnn(seed=1)
    sub, ys = x[1500:], y[1500:]  # held-out digits
    trained_acc = embedding.knn_accuracy(embedding.layer_features(model, sub, "gap"), ys)
    random_acc = embedding.knn_accuracy(embedding.layer_features(untrained, sub, "gap"), ys)
    # 16-d pooled features: random conv features keep some class information (about 0.75
    # 5-NN accuracy on tensorflow), training adds much more (about 0.92)
    assert trained_acc > random_acc + 0.08, (trained_acc, random_acc)
    assert trained_acc > 0.85


def test_tsne_and_layer_panels(tmp_path):
    model, _, x, y = trained_digits_cnn()
    coords = embedding.layer_embedding(model, x[:150], "gap", method="tsne")
    assert coords.shape == (150, 2) and np.isfinite(coords).all()
    # t-SNE keeps neighbourhoods: classes stay grouped in the 2-D map
    assert embedding.knn_accuracy(coords, y[:150]) > 0.7
    fig = embedding.plot_layer_embeddings(model, x[:150], y[:150], path=tmp_path / "emb.png")
    assert list(fig.deepkit_scores) == ["input", "pool1", "conv2", "gap"]
    assert len(fig.axes) == 4 and (tmp_path / "emb.png").exists()
    with pytest.raises(ValueError, match="method='umap'"):
        embedding.embed(coords, "umap")
    with pytest.raises(ValueError, match="pool='sum'"):
        embedding.layer_features(model, x[:3], "conv2", pool="sum")
