"""Shipped weights: the checksum, known training digits, and the same model through every entry point."""

import json
import os

import numpy as np
import pytest

from deepkit import models
from deepkit.datasets.resolver import file_sha256
from deepkit.models import pretrained
from tests import ROOT

DIGITS = os.path.join(ROOT, "tests", "data", "known_training_digits.npz")  # 10 images of mnist-train.npz


def known_digits():
    with np.load(DIGITS) as d:
        return d["x"], d["y"], d["index"]


@pytest.mark.backend_independent
def test_shipped_file_matches_its_record_and_is_small():
    record = pretrained.pretrained("lenet5", "mnist")
    assert file_sha256(record.path) == record.sha256
    assert os.path.getsize(record.path) < 400_000  # the network only, no optimizer state
    assert record.val_accuracy >= 0.99 and record.record["data"]["file"].endswith("mnist-train.npz")
    assert record.command.startswith("python -m deepkit.recipes lenet5_mnist")


def test_lenet5_mnist_classifies_known_training_digits_from_raw_uint8():
    x, y, index = known_digits()
    assert x.dtype == np.uint8 and x.shape == (10, 28, 28) and sorted(y.tolist()) == list(range(10))
    model = models.lenet5(weights="mnist")
    assert tuple(model.inputs[0].shape[1:]) == (28, 28, 1)
    probs = model.predict(x[..., None], verbose=0)
    assert probs.argmax(axis=1).tolist() == y.tolist(), index
    assert float(probs.max(axis=1).min()) > 0.9


def test_every_entry_point_gives_the_same_model(tmp_path, capsys):
    from deepkit.cli import main

    x, y, _ = known_digits()
    expected = models.create("lenet5", weights="mnist").predict(x[..., None], verbose=0)
    for model in (models.load("lenet5", weights="mnist"), models.lenet5(weights="mnist")):
        np.testing.assert_allclose(model.predict(x[..., None], verbose=0), expected, atol=1e-6)
    np.savez(tmp_path / "digits.npz", x=x, y=y)
    assert main(["evaluate", "lenet5", "--weights", "mnist", "--data", str(tmp_path / "digits.npz"),
                 "--quiet"]) == 0
    assert "accuracy: 1.0000" in capsys.readouterr().out


def test_features_only_keeps_the_trained_convolutions():
    full = models.lenet5(weights="mnist")
    features = models.lenet5(weights="mnist", include_top=False)
    for layer in features.layers:
        if layer.weights:
            for a, b in zip(layer.get_weights(), full.get_layer(layer.name).get_weights()):
                np.testing.assert_array_equal(a, b)


@pytest.mark.backend_independent
@pytest.mark.parametrize("kwargs, match", [
    ({"input_shape": (32, 32, 1)}, r"trained at input_shape=\(28, 28, 1\); leave input_shape unset"),
    ({"num_classes": 5}, r"classify 10 classes"),
    ({"preprocessing": "rescale"}, r"come with their own preprocessing"),
])
def test_arguments_that_contradict_the_weights_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.create("lenet5", weights="mnist", **kwargs)


@pytest.mark.backend_independent
def test_no_weights_for_other_models_and_a_damaged_file_is_refused(tmp_path, monkeypatch):
    assert models.available_weights("cifar_resnet56") == []
    with pytest.raises(ValueError, match="weights file not found.*Weights for this model: none"):
        models.create("cifar_resnet20", weights="mnist")
    damaged = tmp_path / "lenet5_mnist.weights.h5"
    damaged.write_bytes(b"\x89HDF\r\n\x1a\n" + b"0" * 100)
    with open(os.path.join(pretrained.WEIGHTS_DIR, "lenet5_mnist.json")) as f:
        (tmp_path / "lenet5_mnist.json").write_text(f.read())
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="the file is damaged"):
        models.create("lenet5", weights="mnist")


@pytest.mark.backend_independent
def test_zoo_docs_list_the_shipped_weights():
    assert "weights=\"mnist\"" in open(os.path.join(ROOT, "README.md")).read()
    record = json.load(open(os.path.join(pretrained.WEIGHTS_DIR, "lenet5_mnist.json")))
    assert record["input_shape"] == [28, 28, 1] and record["num_classes"] == 10
