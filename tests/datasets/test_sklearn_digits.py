"""deepkit.datasets.sklearn_digits: the offline digits set, its upsampling against Keras' resize, its arguments."""

import keras
import numpy as np
import pytest

from deepkit import datasets
from deepkit.datasets.sklearn_digits import upsample


@pytest.mark.backend_independent
def test_digits_shapes_and_values():
    from sklearn.datasets import load_digits

    (x, y), (xt, yt) = datasets.digits()
    assert x.shape == (1347, 8, 8, 1) and xt.shape == (450, 8, 8, 1)
    assert x.dtype == np.float32 and y.dtype == np.int32
    assert x.min() == 0.0 and x.max() == 1.0
    # Stratified: every class in both splits, in proportion.
    assert np.bincount(yt).min() >= 40 and np.bincount(y).min() >= 130
    # The images are exactly sklearn's, scaled by 1/16, and the labels go with them.
    ref = load_digits()
    flat = {tuple(img.astype(int).ravel()): label for img, label in zip(ref.images, ref.target)}
    for img, label in zip(x[:50], y[:50]):
        assert flat[tuple((img[..., 0] * 16).round().astype(int).ravel())] == label
    all_x = np.concatenate([x, xt])[..., 0]
    assert len({a.tobytes() for a in all_x}) == len({a.tobytes() for a in (ref.images / 16).astype("float32")})


@pytest.mark.backend_independent
def test_digits_is_deterministic_and_seeded():
    a = datasets.digits(seed=3)
    b = datasets.digits(seed=3)
    c = datasets.digits(seed=4)
    np.testing.assert_array_equal(a[0][0], b[0][0])
    np.testing.assert_array_equal(a[1][1], b[1][1])
    assert not np.array_equal(a[0][1], c[0][1])


@pytest.mark.parametrize("size", [28, 32])
def test_digits_upsampling_matches_keras_bilinear_resize(size):
    (x8, y8), _ = datasets.digits(seed=1)
    (x, y), (xt, _) = datasets.digits(image_size=size, seed=1)
    assert x.shape == (1347, size, size, 1) and xt.shape == (450, size, size, 1)
    np.testing.assert_array_equal(y, y8)
    reference = keras.ops.convert_to_numpy(
        keras.ops.image.resize(x8[:20], (size, size), interpolation="bilinear", antialias=False,
                               data_format="channels_last"))
    np.testing.assert_allclose(x[:20], reference, atol=1e-5)
    assert x.min() >= 0.0 and x.max() <= 1.0


@pytest.mark.backend_independent
def test_upsample_reference_values():
    out = upsample(np.array([[[0.0, 1.0], [1.0, 0.0]]]), 4)
    np.testing.assert_allclose(out[0, 0], [0.0, 0.25, 0.75, 1.0])
    np.testing.assert_allclose(out[0, :, 0], [0.0, 0.25, 0.75, 1.0])
    np.testing.assert_allclose(out[0, 1, 1], 0.375)  # 0.75*0.75*0 + 0.25*0.75*1 * 2 + 0.25*0.25*0


@pytest.mark.backend_independent
def test_digits_flatten_and_test_size():
    (x, _), (xt, _) = datasets.digits(flatten=True, test_size=0.5)
    assert x.shape == (898, 64) and xt.shape == (899, 64)


@pytest.mark.backend_independent
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"image_size": 4}, r"`image_size` must be None \(keep 8x8\) or an integer >= 8 .* Received: image_size=4"),
        ({"image_size": 28.0}, r"Received: image_size=28\.0"),
        ({"test_size": 1.5}, r"`test_size` must be a fraction strictly between 0 and 1\. Received: test_size=1\.5"),
        ({"seed": "a"}, r"`seed` must be an integer or None\. Received: seed='a'"),
    ],
)
def test_digits_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        datasets.digits(**kwargs)
