"""Activation atlas on the trained digits CNN: honest bins and pictures that are the cells' own states."""

import numpy as np
import pytest

from deepkit import viz
from deepkit.viz.activation_space import activation_atlas, plot_activation_atlas, spatial_activations
from tests.viz.digits import trained_digits_cnn

# The module's fixture trains a network (about 20 s): slow, run once in CI (tools/test-all.sh).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def atlas():
    model, _, x, _ = trained_digits_cnn()
    return model, x, activation_atlas(model, x[:300], "conv2", grid=5, steps=64, min_count=5, seed=0)


def test_every_sampled_vector_is_in_one_cell_and_means_are_the_cells(atlas):
    model, x, result = atlas
    vectors, sources = spatial_activations(model, x[:300], "conv2", seed=0)
    assert int(result.counts.sum()) == len(vectors) == len(result.coords)
    assert all(result.counts[r, c] >= 5 for r, c in result.cells)
    # the largest cell's mean is the mean of the vectors that fell into it, computed again here
    low, high = result.coords.min(0), result.coords.max(0)
    scaled = np.clip(((result.coords - low) / (high - low) * 5).astype(int), 0, 4)
    rows, cols = 4 - scaled[:, 1], scaled[:, 0]
    k = int(np.argmax([result.counts[r, c] for r, c in result.cells]))
    r, c = result.cells[k]
    np.testing.assert_allclose(result.means[k], vectors[(rows == r) & (cols == c)].mean(0), rtol=1e-5, atol=1e-6)


def test_each_cell_picture_excites_its_own_direction_more_than_the_other_pictures(atlas):
    model, _, result = atlas
    maps = viz.feature_maps(model, result.images, ["conv2"])["conv2"].mean(axis=(1, 2))  # (K, channels)
    scores = maps @ result.means.T  # picture i, direction j
    own = np.diag(scores)
    others = (scores.sum(axis=0) - own) / (len(own) - 1)
    assert len(own) >= 4
    assert np.mean(own > others) >= 0.8, (own, others)


def test_plot_and_errors(atlas):
    model, x, result = atlas
    fig = plot_activation_atlas(result)
    assert "activation atlas of conv2" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="needs a spatial map"):
        activation_atlas(model, x[:10], model.layers[-1].name, steps=1)
    with pytest.raises(ValueError, match="grid must be a positive integer"):
        activation_atlas(model, x[:10], "conv2", grid=0)
