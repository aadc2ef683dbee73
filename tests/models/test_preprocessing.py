"""Preprocessing inside the model: numbers as numpy computes them, specs that show it, saving."""

import numpy as np
import pytest

import deepkit
from deepkit import models
from deepkit.models.preprocessing import channel_statistics, check_preprocessing, input_scale


def test_statistics_match_numpy():
    x = np.random.default_rng(0).integers(0, 256, (50, 6, 6, 3)).astype("uint8")
    stats = channel_statistics(x)
    np.testing.assert_allclose(stats["mean"], (x / 255.0).mean(axis=(0, 1, 2)), atol=1e-6)
    np.testing.assert_allclose(stats["std"], (x / 255.0).std(axis=(0, 1, 2)), atol=1e-6)


def test_model_standardizes_raw_pixels_like_numpy():
    import keras

    x = np.random.default_rng(1).integers(0, 256, (4, 32, 32, 3)).astype("uint8")
    stats = channel_statistics(x)
    model = models.create("cifar_resnet20", preprocessing=stats)
    assert input_scale(model) == 255.0
    first = keras.Model(model.inputs, model.get_layer("normalize").output)
    expected = (x / 255.0 - np.array(stats["mean"])) / np.array(stats["std"])
    np.testing.assert_allclose(first.predict(x.astype("float32"), verbose=0), expected, atol=1e-4)


def test_spec_shows_the_layers_and_the_saved_model_keeps_them(tmp_path):
    import keras

    model = models.create("lenet5", preprocessing={"mean": 0.13, "std": 0.31})
    text = model.to_spec("yaml")
    assert "Rescaling" in text and "Normalization" in text and "mean: 0.13" in text
    rebuilt = deepkit.from_spec(text)
    x = np.random.default_rng(2).integers(0, 256, (2, 28, 28, 1)).astype("float32")
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert input_scale(loaded) == 255.0 and input_scale(models.create("lenet5")) == 1.0


@pytest.mark.backend_independent
@pytest.mark.parametrize("value, match", [
    ("standardize", "preprocessing must be None"),
    ({"mean": [0.1, 0.2], "std": [0.3]}, "one value per channel"),
    ({"mean": 0.1, "std": 0.0}, "std must be positive"),
])
def test_bad_preprocessing_is_refused(value, match):
    with pytest.raises(ValueError, match=match):
        check_preprocessing(value)


@pytest.mark.backend_independent
def test_statistics_for_the_wrong_channel_count_are_refused():
    with pytest.raises(ValueError, match="statistics for 2 channels but the model takes 3"):
        models.get_spec("cifar_resnet20", preprocessing={"mean": [0.1, 0.2], "std": [0.3, 0.3]})


# ------------------------------------------------------------------- the one input-range rule (issue 27 item 4)
def _raw_model():
    import keras

    return keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                             keras.layers.Dense(3)])


def test_input_range_follows_the_models_rescaling():
    import keras

    from deepkit.models.preprocessing import input_range

    assert input_range(_raw_model()) == (0.0, 255.0)
    assert input_range(models.create("lenet5", preprocessing="rescale")) == (0.0, 255.0)
    assert input_range(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])) == (0.0, 1.0)


def test_check_value_range_refuses_images_outside_the_range_and_bad_ranges():
    from deepkit.models.preprocessing import check_value_range

    raw = _raw_model()
    assert check_value_range(raw, None, "f", images=np.full((1, 4, 4, 1), 200, "uint8")) == (0.0, 255.0)
    unit = models.create("lenet5")
    with pytest.raises(ValueError, match=r"f: images must lie in \[0, 1\], the input range of model .*"
                                         r"Received: images with values in \[0, 200\]"):
        check_value_range(unit, None, "f", images=np.array([0, 200], "uint8"))
    with pytest.raises(ValueError, match=r"high > low.*Received: value_range=\(1, 1\)"):
        check_value_range(raw, (1, 1), "f")
    with pytest.raises(ValueError, match=r"Received: value_range='0-255'"):
        check_value_range(raw, "0-255", "f")
