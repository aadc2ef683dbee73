"""deepkit.datasets.registry: load() by name, close-match suggestions, options, info() and list_datasets()."""

import numpy as np
import pytest

from deepkit import datasets
from deepkit.datasets import UnknownDatasetError
from tests.datasets.files import write_cifar10_dir, write_fashion_dir, write_mnist_npz

pytestmark = pytest.mark.backend_independent


def test_load_digits_and_toy_by_name():
    (x, y), (xt, yt) = datasets.load("digits", image_size=32)
    assert x.shape == (1347, 32, 32, 1)
    (x, y), (xt, yt) = datasets.load("Spiral", n_samples=200, n_classes=4, test_size=0.2, seed=2)
    assert x.shape == (160, 2) and xt.shape == (40, 2)
    assert np.bincount(yt).tolist() == [10, 10, 10, 10]  # stratified
    again = datasets.load("spiral", n_samples=200, n_classes=4, test_size=0.2, seed=2)
    np.testing.assert_array_equal(again[1][0], xt)


def test_load_keras_sets_are_ready_for_a_model(tmp_path):
    write_mnist_npz(tmp_path / "mnist.npz")
    (x, y), _ = datasets.load("MNIST", path=tmp_path / "mnist.npz")
    assert x.shape == (5, 28, 28, 1) and x.dtype == np.float32 and x.max() <= 1.0
    (x, y), _ = datasets.load("mnist", path=tmp_path / "mnist.npz", normalize=False, expand_dims=False)
    assert x.shape == (5, 28, 28) and x.dtype == np.uint8
    write_fashion_dir(tmp_path / "fashion")
    (x, _), _ = datasets.load("fashion-mnist", path=tmp_path / "fashion")
    assert x.shape == (4, 28, 28, 1)
    folder, _ = write_cifar10_dir(tmp_path)
    (x, _), _ = datasets.load("cifar10", path=folder)
    assert x.shape == (8, 32, 32, 3) and x.dtype == np.float32


@pytest.mark.parametrize(
    "name, suggestion",
    [("minst", "'mnist'"), ("cifar", "'cifar10' or 'cifar100'"), ("moon", "'moons'"), ("digit", "'digits'")],
)
def test_load_unknown_name_suggests_close_matches(name, suggestion):
    with pytest.raises(UnknownDatasetError, match=f"unknown dataset '{name}'\\. Did you mean {suggestion}\\?") as e:
        datasets.load(name)
    assert "Available: cifar10, cifar100, circles, digits" in str(e.value)
    assert isinstance(e.value, ValueError)


def test_load_unknown_name_without_close_match():
    with pytest.raises(UnknownDatasetError, match=r"unknown dataset 'imagenet'\. Available:"):
        datasets.load("imagenet")
    with pytest.raises(UnknownDatasetError, match=r"must be a string .* Received: name=3"):
        datasets.load(3)


def test_load_unknown_option_lists_accepted_ones():
    with pytest.raises(TypeError, match=r"load\('mnist'\): unknown option\(s\) 'n_samples'\. "
                                        r"mnist accepts: path, normalize, expand_dims\."):
        datasets.load("mnist", n_samples=3)
    with pytest.raises(TypeError, match=r"moons accepts: n_samples, noise, seed, test_size"):
        datasets.load("moons", image_size=3)
    with pytest.raises(ValueError, match=r"`test_size` must be a fraction .* Received: test_size=0"):
        datasets.load("moons", test_size=0)


def test_info_and_list():
    names = datasets.list_datasets()
    assert names == sorted(names) and {"mnist", "fashion_mnist", "cifar10", "cifar100", "digits",
                                        "circles", "moons", "xor", "spiral", "gaussians"} == set(names)
    for name in names:
        meta = datasets.info(name)
        assert meta.name == name and meta.num_classes >= 2
        if meta.offline:  # cheap to check: what load returns matches the info
            (x, y), _ = datasets.load(name)
            assert x.shape[1:] == meta.input_shape
            assert y.max() < meta.num_classes
    assert datasets.info("cifar100").num_classes == 100
