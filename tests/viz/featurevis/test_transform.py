"""deepkit.viz.featurevis.transform: resampling against Keras, jitter, scale, rotate, composition."""

import keras
import numpy as np
import pytest

from deepkit.viz.featurevis import transform as T


def _np(t):
    return keras.ops.convert_to_numpy(t)


def test_resample_matches_keras_affine_transform():
    img = np.random.default_rng(0).random((4, 12, 10, 3)).astype("float32")
    t = T.standard_transforms(12, 10)
    sample = t.sample(np.random.default_rng(1), 4, 12, 10)
    for mode in ("reflect", "constant"):
        ours = _np(T.resample(img, sample, mode, 0.3))
        ref = _np(keras.ops.image.affine_transform(img, sample, fill_mode=mode, fill_value=0.3))
        np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_transforms_identity_jitter_and_composition():
    img = np.random.default_rng(0).random((3, 8, 8, 1)).astype("float32")
    identity = T.compose([T.jitter(0), T.random_scale([1.0]), T.random_rotate([0])])
    out = identity.apply(img, identity.sample(np.random.default_rng(0), 3, 8, 8))
    np.testing.assert_allclose(_np(out), img, atol=1e-6)
    shift = T.compose([T.jitter(2)])
    rng = np.random.default_rng(5)
    sample = shift.sample(rng, 3, 8, 8)
    dx, dy = -sample[:, 2], -sample[:, 5]  # output(x) = input(x - d): sample stores -d
    out = _np(shift.apply(img, sample))
    for i in range(3):
        ddx, ddy = int(round(dx[i])), int(round(dy[i]))
        ys = slice(max(ddy, 0), 8 + min(ddy, 0))
        xs = slice(max(ddx, 0), 8 + min(ddx, 0))
        ys_in = slice(max(-ddy, 0), 8 + min(-ddy, 0))
        xs_in = slice(max(-ddx, 0), 8 + min(-ddx, 0))
        np.testing.assert_allclose(out[i, ys, xs], img[i, ys_in, xs_in], atol=1e-6)
    assert repr(T.standard_transforms(224)).startswith("compose([pad(12), jitter(8)")
    with pytest.raises(TypeError, match="compose takes Transform"):
        T.compose(["jitter"])
