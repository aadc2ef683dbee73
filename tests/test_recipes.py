"""deepkit.recipes: data loading, hold-out split, schedules, weight decay, and real (tiny) runs."""

import io
import json
import os

import keras
import numpy as np
import pytest

from deepkit import recipes


def write_mnist(directory, n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n).astype("uint8")
    x = np.zeros((n, 28, 28), "uint8")
    for i, label in enumerate(y):  # a learnable pattern: a bright bar whose row encodes the label
        x[i, 4 + 2 * label: 6 + 2 * label, 4:24] = 255
    x = np.clip(x + rng.integers(0, 40, x.shape), 0, 255).astype("uint8")
    np.savez(os.path.join(directory, "mnist-train.npz"), x_train=x, y_train=y)
    return x, y


def write_cifar_jpeg(directory, n=40, seed=0):
    """The shared file's layout: JPEG bytes in one buffer with offsets, plus labels."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    images = rng.integers(0, 255, (n, 32, 32, 3)).astype("uint8")
    images[:, 8:24, 8:24] = rng.integers(0, 255, (n, 1, 1, 3))  # smooth blocks survive JPEG well
    chunks, offsets = [], [0]
    for img in images:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", quality=95)
        chunks.append(buf.getvalue())
        offsets.append(offsets[-1] + len(chunks[-1]))
    np.savez(os.path.join(directory, "cifar10-train-jpeg.npz"),
             jpeg=np.frombuffer(b"".join(chunks), np.uint8), offsets=np.array(offsets, "int64"),
             y_train=rng.integers(0, 10, n).astype("uint8"))
    return images


@pytest.mark.backend_independent
def test_load_mnist_and_cifar_jpeg(tmp_path):
    x, y = write_mnist(tmp_path, n=20)
    xl, yl = recipes.load_data("mnist", tmp_path)
    assert xl.shape == (20, 28, 28, 1) and xl.dtype == np.uint8
    np.testing.assert_array_equal(xl[..., 0], x)
    np.testing.assert_array_equal(yl, y)
    images = write_cifar_jpeg(tmp_path, n=6)
    xc, yc = recipes.load_data("cifar10", tmp_path)
    assert xc.shape == (6, 32, 32, 3) and yc.shape == (6,)
    centre = np.abs(xc[:, 10:22, 10:22].astype(int) - images[:, 10:22, 10:22].astype(int)).mean()
    assert centre < 4  # decoded JPEG close to the original pixels


@pytest.mark.backend_independent
def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="mnist-train.npz not found"):
        recipes.load_data("mnist", tmp_path)
    with pytest.raises(ValueError, match="unknown data 'svhn'"):
        recipes.load_data("svhn", tmp_path)


@pytest.mark.backend_independent
def test_split_holds_out_ten_percent_deterministically():
    x, y = np.arange(1000), np.arange(1000) % 10
    (xa, ya), (xv, yv) = recipes.split(x, y, 0.1, seed=3)
    assert len(xv) == 100 and len(xa) == 900
    assert not set(xa) & set(xv)
    (xb, _), (xw, _) = recipes.split(x, y, 0.1, seed=3)
    np.testing.assert_array_equal(xv, xw)


@pytest.mark.backend_independent
def test_standardize_uses_training_statistics():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 255, (50, 4, 4, 3)).astype("uint8"), rng.integers(0, 255, (10, 4, 4, 3)).astype("uint8")
    sa, sb = recipes.standardize(a, b)
    np.testing.assert_allclose(sa.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(sa.std(axis=(0, 1, 2)), 1, atol=1e-4)
    af = a / 255.0
    np.testing.assert_allclose(sb, (b / 255.0 - af.mean((0, 1, 2))) / af.std((0, 1, 2)), rtol=1e-4, atol=1e-4)


def test_paper_schedule_for_resnet():
    recipe = recipes.RECIPES["resnet20_cifar10"]
    assert (recipe.batch_size, recipe.learning_rate, recipe.weight_decay) == (128, 0.1, 1e-4)
    assert recipe.flip and recipe.pad_crop == 4 and recipe.optimizer == "sgd"
    assert recipe.epochs_for(45_000) == 182  # 64k iterations of 352 steps
    lr = recipes.learning_rate_schedule(recipe, 64_000)
    values = [float(lr(s)) for s in (0, 31_999, 32_000, 32_001, 47_999, 48_001, 63_999)]
    np.testing.assert_allclose(values, [0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rtol=1e-6)
    short = recipes.learning_rate_schedule(recipe, 1000)  # a shortened schedule keeps the 1/2, 3/4 places
    np.testing.assert_allclose([float(short(s)) for s in (499, 501, 751)], [0.1, 0.01, 0.001], rtol=1e-6)


def test_weight_decay_is_l2_through_the_gradient():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.BatchNormalization()])
    recipes.add_weight_decay(model, 1e-4)
    weights = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    expected = sum(1e-4 / 2 * np.sum(w.astype(np.float64) ** 2) for w in weights)
    assert len(model.losses) == len(weights) == 4  # kernel, bias, gamma, beta (as torch's weight_decay)
    np.testing.assert_allclose(float(sum(keras.ops.convert_to_numpy(l) for l in model.losses)), expected, rtol=1e-5)


@pytest.mark.backend_independent
def test_limit_takes_a_random_subset_of_a_sorted_file(tmp_path, monkeypatch):
    labels = np.repeat(np.arange(10), 30)  # sorted by class, like the shared CIFAR-10 file
    np.savez(os.path.join(tmp_path, "mnist-train.npz"), x_train=np.zeros((300, 28, 28), "uint8"), y_train=labels)
    seen = []
    original = recipes.split
    monkeypatch.setattr(recipes, "split", lambda xs, ys, *a, **k: seen.append(ys) or original(xs, ys, *a, **k))
    recipes.run("lenet5_mnist", tmp_path, epochs=1, limit=50, verbose=0, print_fn=lambda s: None)
    assert len(seen[0]) == 50 and len(np.unique(seen[0])) >= 8  # the first 50 would hold classes 0 and 1 only


def test_lenet5_recipe_runs_one_epoch_through_the_cli(tmp_path, capsys):
    write_mnist(tmp_path, n=200)
    out = os.path.join(tmp_path, "result.json")
    assert recipes.main(["lenet5_mnist", "--data-dir", str(tmp_path), "--epochs", "1", "--verbose", "0",
                         "--json", out]) == 0
    printed = capsys.readouterr().out
    assert "180 train / 20 validation" in printed and "validation accuracy" in printed
    with open(out) as f:
        result = json.load(f)
    assert result["epochs"] == 1 and result["num_val"] == 20 and result["model"] == "lenet5"
    assert 0.0 <= result["val_accuracy"] <= 1.0 and result["seconds"] > 0


@pytest.mark.slow
def test_resnet20_recipe_one_epoch_with_augmentation(tmp_path):
    write_cifar_jpeg(tmp_path, n=40)
    result = recipes.run("resnet20_cifar10", tmp_path, epochs=1, verbose=0, print_fn=lambda s: None)
    assert (result["num_train"], result["num_val"], result["epochs"]) == (36, 4, 1)
    assert np.isfinite(result["val_loss"])


@pytest.mark.backend_independent
def test_list_recipes(capsys):
    assert recipes.main(["--list"]) == 0
    text = capsys.readouterr().out
    assert "resnet56_cifar10: cifar_resnet56 on cifar10, sgd lr 0.1, 64000 iterations, batch 128" in text


def test_vgg_and_googlenet_recipes():
    vgg = recipes.RECIPES["vgg16_cifar10"]
    assert (vgg.model, vgg.weight_decay, vgg.optimizer, vgg.aux_weight) == ("cifar_vgg16", 5e-4, "sgd", None)
    googlenet = recipes.RECIPES["googlenet_cifar10"]
    assert googlenet.model == "cifar_googlenet" and googlenet.aux_weight == 0.3  # Szegedy et al. sec. 5


def test_googlenet_recipe_weights_the_auxiliary_losses():
    model = recipes.build(recipes.RECIPES["googlenet_cifar10"], (32, 32, 3), 10)(100)
    assert sorted(model.output) == ["aux1", "aux2", "fc"]
    assert model.get_compile_config()["loss_weights"] == {"fc": 1.0, "aux1": 0.3, "aux2": 0.3}
    # the total loss is the main loss plus 0.3 times each auxiliary loss (weight decay aside)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 32, 32, 3)).astype("float32"), rng.integers(0, 10, 8)
    out = {k: keras.ops.convert_to_numpy(v) for k, v in model(x, training=False).items()}
    ce = {k: float(keras.ops.convert_to_numpy(keras.losses.sparse_categorical_crossentropy(y, v, from_logits=True))
                   .mean()) for k, v in out.items()}
    scores = model.evaluate(x, {k: y for k in out}, batch_size=8, verbose=0, return_dict=True)
    decay = float(sum(keras.ops.convert_to_numpy(l) for l in model.losses))
    np.testing.assert_allclose(scores["loss"] - decay, ce["fc"] + 0.3 * ce["aux1"] + 0.3 * ce["aux2"], rtol=1e-4)


@pytest.mark.slow
def test_googlenet_recipe_one_epoch_with_auxiliary_outputs(tmp_path):
    write_cifar_jpeg(tmp_path, n=40)
    result = recipes.run("googlenet_cifar10", tmp_path, epochs=1, verbose=0, print_fn=lambda s: None)
    assert (result["num_train"], result["num_val"]) == (36, 4)
    assert np.isfinite(result["val_loss"]) and 0.0 <= result["val_accuracy"] <= 1.0


def test_saved_recipe_model_takes_raw_uint8_and_reproduces_its_validation_accuracy(tmp_path):
    x, y = write_mnist(tmp_path, n=200)
    out = str(tmp_path / "lenet.keras")
    result = recipes.run("lenet5_mnist", tmp_path, epochs=2, verbose=0, out=out, print_fn=lambda s: None)
    assert result["preprocessing"]["mean"][0] == pytest.approx((x / 255.0).mean(), abs=0.02)
    assert result["data"]["sha256"] and result["data"]["split_seed"] == 0
    (_, _), (x_val, y_val) = recipes.split(x[..., None], y.astype("int32"), 0.1, 0)
    model = keras.saving.load_model(out)  # nothing but the file: the scaling is inside
    probs = model.predict(x_val, verbose=0)  # raw uint8, as a user has them
    assert float(np.mean(probs.argmax(axis=1) == y_val)) == pytest.approx(result["val_accuracy"], abs=1e-6)


def test_recipe_reports_test_accuracy_and_saves_weights_with_a_record(tmp_path):
    write_mnist(tmp_path, n=200, seed=0)
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 30)
    images = np.zeros((30, 28, 28), "uint8")
    for i, label in enumerate(labels):
        images[i, 4 + 2 * label: 6 + 2 * label, 4:24] = 255
    np.savez(tmp_path / "test.npz", x_test=images, y_test=labels)
    weights = str(tmp_path / "lenet5_toy.weights.h5")
    assert recipes.main(["lenet5_mnist", "--data-dir", str(tmp_path), "--epochs", "1", "--verbose", "0",
                         "--test", str(tmp_path / "test.npz"), "--save-weights", weights,
                         "--json", str(tmp_path / "r.json")]) == 0
    with open(tmp_path / "r.json") as f:
        result = json.load(f)
    assert 0.0 <= result["test_accuracy"] <= 1.0 and result["test"]["num_test"] == 30
    with open(tmp_path / "lenet5_toy.json") as f:
        record = json.load(f)
    from deepkit.datasets.resolver import file_sha256

    assert record["sha256"] == file_sha256(weights) and record["input_shape"] == [28, 28, 1]
    assert record["command"].startswith("python -m deepkit.recipes lenet5_mnist")
    from deepkit import models

    model = models.create("lenet5", preprocessing=record["preprocessing"], weights=weights,
                          classifier_activation=None)
    assert model.count_params() == 61706
