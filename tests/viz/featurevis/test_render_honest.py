"""deepkit.viz.featurevis.render: objective checks that the pictures are honest.

On the trained digits CNN: a first-layer unit's visualization is its own filter (the maximiser
of a linear function under a norm bound is the function's weight vector), visualizations stay
active under the random transforms they were optimised for (Lucid's robustness point), and
grayscale models get a one-channel parameterization without colour decorrelation. The check
that every unit's visualization beats its best real digit is in test_render.py.
"""

import re
import warnings

import keras
import numpy as np
import pytest

from deepkit.viz import featurevis
from deepkit.viz.featurevis import objectives as O
from deepkit.viz.featurevis import param as P
from deepkit.viz.featurevis import transform as T
from tests.viz.attribution_models import trained_digits_cnn

# conv1 is a 3x3 "same" convolution of the 8x8 digits: the unit at (y=4, x=4) sees rows and
# columns 3..5.
CENTRE = 4
FIELD = (slice(CENTRE - 1, CENTRE + 2), slice(CENTRE - 1, CENTRE + 2))


def _np(t):
    return keras.ops.convert_to_numpy(t)


def _pearson(a, b):
    a = np.ravel(a) - np.mean(a)
    b = np.ravel(b) - np.mean(b)
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


@pytest.mark.parametrize("fft", [False, True], ids=["pixels", "fft"])
def test_first_layer_unit_visualization_is_its_filter(fft):
    # The pre-activation of a conv1 unit is linear in its 3x3 receptive field, w . x + b. Under
    # the norm bound |x - 0.5| <= r its maximiser is x = 0.5 + r w / |w|: the filter itself,
    # in the receptive field, and mid-grey (no gradient, pulled to the centre) elsewhere.
    model, _, _, _ = trained_digits_cnn()
    kernels = _np(model.get_layer("conv1").kernel)[:, :, 0, :]  # (3, 3, 16)
    units = kernels.shape[-1]
    objective = O.neuron("conv1", range(units), x=CENTRE, y=CENTRE, pre_activation=True)
    param = P.image(8, 8, 1, units, fft=fft, max_norm=0.5)
    images = featurevis.render(model, objective, param=param, transforms=None, steps=64)

    corr = np.array([_pearson(images[i][FIELD], kernels[:, :, i]) for i in range(units)])
    print(f"\n{'fft' if fft else 'pixel'} param, norm bound 0.5: correlation of the receptive field "
          f"with the unit's kernel, min {corr.min():.3f}, median {np.median(corr):.3f}")
    assert np.all(corr > 0.8), corr
    deviation = images[..., 0] - 0.5
    assert np.allclose(np.linalg.norm(deviation.reshape(units, -1), axis=1), 0.5, atol=1e-3)
    outside = deviation.copy()
    outside[(slice(None),) + FIELD] = 0.0
    assert np.abs(outside).max() < 0.05  # the bound is spent on the receptive field only


def test_first_layer_unit_visualization_in_a_box_takes_the_filter_signs():
    # Without a norm bound, Lucid's sigmoid keeps the image in the box [0, 1]; the maximiser
    # of a linear function over a box is the corner given by the signs of its weights.
    model, _, _, _ = trained_digits_cnn()
    kernels = np.moveaxis(_np(model.get_layer("conv1").kernel)[:, :, 0, :], -1, 0)  # (16, 3, 3)
    units = len(kernels)
    objective = O.neuron("conv1", range(units), x=CENTRE, y=CENTRE, pre_activation=True)
    images = featurevis.render(model, objective, param=P.image(8, 8, 1, units, fft=False),
                               transforms=None, steps=128)
    field = images[(slice(None),) + FIELD + (0,)]  # (16, 3, 3)
    clear = np.abs(kernels) > 0.1 * np.abs(kernels).max(axis=(1, 2), keepdims=True)
    assert np.all(np.where(kernels > 0, field > 0.9, field < 0.1)[clear])


def _transformed_values(model, objective, images, transforms, draws, seed):
    fill = transforms.fill if transforms.fill is not None else 0.5
    rng = np.random.default_rng(seed)
    n, h, w, _ = images.shape
    values = [featurevis.evaluate(model, objective,
                                  _np(transforms.apply(images, transforms.sample(rng, n, h, w), fill)))
              for _ in range(draws)]
    return np.mean(values, axis=0)


def test_visualizations_stay_active_under_their_transforms():
    # Lucid's robustness point: optimised under random jitter, scale and rotation, a
    # visualization keeps exciting its unit when those transforms are drawn again.
    model, _, _, _ = trained_digits_cnn()
    objective = O.channel("conv2", range(32))
    transforms = T.standard_transforms(8, 8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", featurevis.DeadObjectiveWarning)
        images = featurevis.render(model, objective, transforms=transforms, steps=64)
    plain = featurevis.evaluate(model, objective, images)
    moved = _transformed_values(model, objective, images, transforms, draws=16, seed=1)
    alive = plain > 1e-6  # channels the optimisation never switched on have nothing to keep
    # render's dead-unit warning names only channels that are off in the result.
    named = [int(i) for w in caught for i in re.search(r"image\(s\) \[([\d, ]*)\]", str(w.message)).group(1).split(",")]
    assert not alive[named].any(), (named, plain[named])
    ratio = moved[alive] / plain[alive]
    print(f"\n{transforms}: activation under 16 fresh draws / untransformed, {alive.sum()} live "
          f"channels: mean {ratio.mean():.2f}, min {ratio.min():.2f}")
    assert alive.sum() >= 16
    assert np.all(ratio > 0.5), ratio


@pytest.mark.slow
def test_grayscale_model_gets_one_channel_without_colour_decorrelation():
    keras.utils.set_random_seed(0)
    gray = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="c")])
    rgb = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="c")])
    objective = O.channel("c", range(4))

    used = featurevis.default_param(gray, 4)
    assert used.shape == (4, 8, 8, 1) and used.channels == 1
    assert used.fft and not used.decorrelated
    images = featurevis.render(gray, objective, steps=3)
    np.testing.assert_allclose(
        images, featurevis.render(gray, objective, steps=3,
                                  param=P.image(8, 8, 1, 4, fft=True, decorrelate=False)), atol=1e-6)
    with pytest.raises(ValueError, match=r"decorrelation maps 3 RGB channels .*; the image has 1 channel"):
        featurevis.render(gray, objective, steps=1, decorrelate=True)

    used = featurevis.default_param(rgb, 4)
    assert used.shape == (4, 8, 8, 3) and used.fft and used.decorrelated
    images = featurevis.render(rgb, objective, steps=3)
    np.testing.assert_allclose(
        images, featurevis.render(rgb, objective, steps=3,
                                  param=P.image(8, 8, 3, 4, decorrelate=True)), atol=1e-6)
    assert not np.allclose(
        images, featurevis.render(rgb, objective, steps=3, decorrelate=False), atol=1e-3)
