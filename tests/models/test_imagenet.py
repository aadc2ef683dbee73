"""weights="imagenet": the published checkpoint's record, the download into Keras' cache (here from a local
file:// URL: nothing is downloaded), the hash check, the offline message, class names and decode_predictions."""

import dataclasses
import hashlib
import os

import numpy as np
import pytest
from safetensors.numpy import save_file

from deepkit import models
from deepkit.models import imagenet, torch_weights

IMAGENET_MODELS = ["alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn",
                   "googlenet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]


@pytest.mark.backend_independent
def test_every_imagenet_model_declares_its_published_checkpoint():
    for name in IMAGENET_MODELS:
        record = models.model_info(name).pretrained["imagenet"]
        assert record.url.startswith("https://download.pytorch.org/models/") and record.url.endswith(".pth")
        assert len(record.sha256_prefix) >= 8 and record.url.endswith(f"-{record.sha256_prefix}.pth")
        assert 50 < record.top1 < record.top5 < 100 and record.source == "torchvision IMAGENET1K_V1"
        assert models.available_weights(name) == ["imagenet"]
        assert "imagenet" in models.builders()[name].__doc__ and record.describe() in models.builders()[name].__doc__
    assert models.model_info("resnet50").pretrained["imagenet"].top1 == 76.13
    assert models.model_info("googlenet").pretrained["imagenet"].preprocessing == {"mean": [0.5] * 3,
                                                                                   "std": [0.5] * 3}
    assert models.available_weights("cifar_resnet20") == [] and models.available_weights("lenet5") == ["mnist"]


@pytest.mark.backend_independent
def test_class_names_and_decode_predictions():
    names = models.imagenet_classes()
    assert len(names) == len(set(names)) == 1000
    assert (names[0], names[281], names[948], names[999]) == ("tench", "tabby", "Granny Smith", "toilet tissue")
    logits = np.zeros((2, 1000), "float32")
    logits[0, 281], logits[1, 948] = 10.0, 10.0
    top = models.decode_predictions(logits, top=3)
    assert [r[0][:2] for r in top] == [(281, "tabby"), (948, "Granny Smith")] and len(top[0]) == 3
    assert top[0][0][2] == pytest.approx(np.exp(10) / (np.exp(10) + 999), rel=1e-5)  # logits -> softmax
    with pytest.raises(ValueError, match=r"expected predictions of shape \(N, 1000\).*Received: shape \(2, 10\)"):
        models.decode_predictions(np.zeros((2, 10)))
    assert models.decode_predictions([[0.2, 0.8]], top=1, class_names=["cat", "dog"]) == [[(1, "dog", 0.8)]]


def _published_file(tmp_path, monkeypatch, name="resnet18"):
    """A checkpoint of the model's PyTorch layout served from a file:// URL, its record patched in."""
    model = models.create(name, input_shape=(32, 32, 3))
    state = torch_weights.to_state_dict(model, "resnet")
    state = {k: np.random.default_rng(0).normal(size=v.shape).astype("float32") * 0.05 for k, v in state.items()}
    served = tmp_path / "served"
    served.mkdir()
    plain = served / "plain.safetensors"
    save_file(state, str(plain))
    digest = hashlib.sha256(plain.read_bytes()).hexdigest()
    source = served / f"{name}-{digest[:8]}.safetensors"
    os.rename(plain, source)
    record = dataclasses.replace(models.model_info(name).pretrained["imagenet"], url=source.as_uri(),
                                 sha256_prefix=digest[:8])
    monkeypatch.setitem(models.model_info(name).pretrained, "imagenet", record)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return record, state, source


def test_download_is_cached_and_hash_checked(tmp_path, monkeypatch):
    record, state, source = _published_file(tmp_path, monkeypatch)
    model = models.create("resnet18", weights="imagenet", input_shape=(32, 32, 3))
    cached = tmp_path / "keras_home" / "models" / source.name
    assert cached.is_file() and imagenet.cache_path(record) == str(cached)
    np.testing.assert_array_equal(np.asarray(model.get_layer("fc").kernel), state["fc.weight"].T)
    assert [layer.name for layer in model.layers[1:3]] == ["rescale", "normalize"]  # raw 0-255 RGB in
    assert model.class_names[207] == "golden retriever"
    os.remove(source)  # the cached copy is used from now on
    again = models.create("resnet18", weights="imagenet", input_shape=(32, 32, 3), include_top=False,
                          pooling="avg")
    np.testing.assert_array_equal(np.asarray(again.get_layer("conv1").kernel),
                                  np.asarray(model.get_layer("conv1").kernel))


def test_wrong_hash_is_refused_and_the_file_removed(tmp_path, monkeypatch):
    record, _, source = _published_file(tmp_path, monkeypatch)
    bad = dataclasses.replace(record, sha256_prefix="00000000")
    monkeypatch.setitem(models.model_info("resnet18").pretrained, "imagenet", bad)
    cached = tmp_path / "keras_home" / "models" / source.name
    with pytest.raises(ValueError, match=r"has SHA-256 [0-9a-f]{16}\.\.\., the published file's starts with "
                                         r"00000000; the damaged file was removed"):
        models.create("resnet18", weights="imagenet", input_shape=(32, 32, 3))
    assert not cached.exists()


def test_offline_message_is_one_exact_line(tmp_path, monkeypatch):
    record, _, source = _published_file(tmp_path, monkeypatch)
    os.remove(source)  # "offline": the URL cannot be fetched
    cached = tmp_path / "keras_home" / "models" / source.name
    with pytest.raises(ValueError) as info:
        models.create("resnet18", weights="imagenet", input_shape=(32, 32, 3))
    assert str(info.value) == (f"deepkit.models 'resnet18': cannot download the imagenet weights from {record.url}; "
                               f"offline, fetch that file elsewhere and put it at {cached}")


def test_imagenet_arguments_that_conflict_are_errors():
    with pytest.raises(ValueError, match=r"the weights classify 1000 classes.*Received: num_classes=10"):
        models.create("resnet18", weights="imagenet", num_classes=10)
    with pytest.raises(ValueError, match=r"come with their own preprocessing.*Received: preprocessing='rescale'"):
        models.create("resnet18", weights="imagenet", preprocessing="rescale")


@pytest.mark.backend_independent
def test_deepkit_models_shows_the_published_accuracy(capsys):
    from deepkit import cli

    assert cli.main(["models", "--filter", "resnet18"]) == 0
    assert "imagenet 69.8/89.1" in capsys.readouterr().out
    assert models.describe_weights("googlenet") == "imagenet 69.8/89.5"
