"""Common checks generated from the dataset registry, as scikit-learn's ``parametrize_with_checks``: every
name of ``deepkit.datasets.list_datasets()`` loads (from a tiny sample in its own download format when it
needs a file, so nothing is downloaded), has the shape, dtype and classes its ``info`` declares, and a
misspelt name suggests it. A new dataset gets these checks by being registered."""

import numpy as np
import pytest

from deepkit import datasets
from deepkit.datasets.samples import write_sample

SMALL = {"digits": {}, "toy": {"n_samples": 40}}


def _load(name, tmp_path):
    meta = datasets.info(name)
    path = write_sample(name, tmp_path)
    if path is not None:
        return datasets.load(name, path=path)
    return datasets.load(name, **SMALL.get(name, SMALL["toy"] if meta.kind == "toy" else {}))


def check_loads_as_declared(name, tmp_path):
    meta = datasets.info(name)
    (x, y), (x_test, y_test) = _load(name, tmp_path)
    for xs, ys in ((x, y), (x_test, y_test)):
        assert xs.shape[1:] == meta.input_shape, (name, xs.shape)
        assert xs.dtype == np.float32 and len(xs) == len(ys) > 0
        assert ys.reshape(len(ys), -1).shape[1] == 1 and np.issubdtype(ys.dtype, np.integer)  # (n,) or (n, 1)
        assert 0 <= ys.min() and ys.max() < meta.num_classes
        if meta.kind == "image":
            assert 0.0 <= xs.min() and xs.max() <= 1.0  # load() normalizes images


def check_misspelt_name_suggests_it(name, tmp_path):
    typo = name[0] + name[2:]  # drop the second character
    with pytest.raises(datasets.UnknownDatasetError, match=rf"Did you mean [^?]*'{name}'"):
        datasets.load(typo)


def check_loads_only_its_own_options(name, tmp_path):
    with pytest.raises(TypeError, match=rf"unknown option\(s\) 'no_such_option'\. {name} accepts:"):
        datasets.load(name, no_such_option=1)


CHECKS = [check_loads_as_declared, check_misspelt_name_suggests_it, check_loads_only_its_own_options]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", datasets.list_datasets())
def test_every_dataset(name, check, tmp_path):
    check(name, tmp_path)


def test_every_dataset_that_needs_a_file_has_a_sample_writer():
    from deepkit.datasets.samples import SAMPLE_WRITERS

    needs_file = {n for n in datasets.list_datasets() if not datasets.info(n).offline}
    assert needs_file == set(SAMPLE_WRITERS)
