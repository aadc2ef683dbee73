"""deepkit.viz.attribution: numerics against analytic / numpy references, batching, errors."""

import keras
import numpy as np
import pytest

from deepkit.viz import attribution as A
from deepkit.viz.attribution.metrics import gaussian_blur


def _np(t):
    return keras.ops.convert_to_numpy(t)


@pytest.fixture
def cam_model():
    """conv -> GAP -> dense(softmax): Grad-CAM equals CAM (Zhou et al. 2016) exactly."""
    keras.utils.set_random_seed(0)
    x = keras.Input((8, 8, 2))
    h = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv")(x)
    out = keras.layers.Dense(3, activation="softmax", name="fc")(
        keras.layers.GlobalAveragePooling2D()(h))
    return keras.Model(x, out, name="cam_net")


@pytest.fixture
def images():
    return np.random.default_rng(1).random((10, 8, 8, 2)).astype("float32")


def test_grad_cam_equals_cam_for_gap_models(cam_model, images):
    cam = A.grad_cam(cam_model, images, class_index=1, upsample=False, normalize=False, batch_size=4)
    acts = _np(keras.Model(cam_model.inputs[0], cam_model.get_layer("conv").output)(images))
    w = _np(cam_model.get_layer("fc").kernel)[:, 1]
    # d logit / d A_k(i,j) = w_k / 64 everywhere, so Grad-CAM = relu(sum_k w_k / 64 A_k).
    want = np.maximum((acts * w / 64.0).sum(-1), 0.0)
    np.testing.assert_allclose(cam, want, rtol=1e-4, atol=1e-7)


def test_grad_cam_upsample_and_normalize(cam_model, images):
    cam = A.grad_cam(cam_model, images, layer="conv")
    assert cam.shape == (10, 8, 8) and cam.min() >= 0
    np.testing.assert_allclose(cam.reshape(10, -1).max(1)[cam.reshape(10, -1).max(1) > 0], 1.0, rtol=1e-6)


def test_score_cam_matches_its_definition(cam_model, images):
    # Wang et al. 2020, in numpy: each channel map, min-max scaled to [0, 1], masks the input; the class
    # probability of each masked input weights its map. The conv output is the input's size (no resizing).
    cam = A.score_cam(cam_model, images, class_index=2, normalize=False, batch_size=5)
    maps = np.moveaxis(_np(keras.Model(cam_model.inputs[0], cam_model.get_layer("conv").output)(images)), -1, 1)
    lo, hi = maps.min((2, 3), keepdims=True), maps.max((2, 3), keepdims=True)
    masks = np.where(hi > lo, (maps - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0)
    masked = (images[:, None] * masks[..., None]).reshape(-1, 8, 8, 2).astype("float32")
    probs = _np(cam_model(masked))[:, 2].reshape(len(images), maps.shape[1])
    want = np.maximum((probs[:, :, None, None] * maps).sum(1), 0.0)
    assert want.max() > 0
    np.testing.assert_allclose(cam, want, rtol=1e-4, atol=1e-6)


def test_saliency_matches_finite_differences():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(5, activation="tanh"),
                              keras.layers.Dense(3, activation="softmax", name="out")])
    x = np.random.default_rng(0).random((2, 4, 4, 1)).astype("float64")
    grad = A.saliency(model, x, class_index=[2, 0], reduce=None)
    logits = A.logit_model(model)
    eps = 1e-3
    for i, c in ((0, 2), (1, 0)):
        for pos in [(1, 2, 0), (3, 0, 0)]:
            plus, minus = x.copy(), x.copy()
            plus[(i,) + pos] += eps
            minus[(i,) + pos] -= eps
            fd = (_np(logits(plus.astype("float32")))[i, c] - _np(logits(minus.astype("float32")))[i, c]) / (2 * eps)
            assert abs(grad[(i,) + pos] - fd) < 2e-3 * max(1.0, abs(fd))
    np.testing.assert_allclose(A.saliency(model, x, class_index=[2, 0]), np.abs(grad).max(-1), rtol=1e-6)


def test_logit_model_skips_final_softmax_in_all_forms():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((3, 4)).astype("float32")
    dense = keras.layers.Dense(3, name="d")
    plain = keras.Sequential([keras.Input((4,)), dense])
    as_activation = keras.Sequential([keras.Input((4,)), dense, keras.layers.Activation("softmax")])
    as_softmax_layer = keras.Sequential([keras.Input((4,)), dense, keras.layers.Softmax()])
    inner = keras.Sequential([keras.Input((4,)), dense, keras.layers.Softmax()], name="inner")
    i = keras.Input((4,))
    nested = keras.Model(i, inner(i))
    want = _np(plain(x))
    assert A.logit_model(plain) is plain
    for model in (as_activation, as_softmax_layer, nested):
        np.testing.assert_allclose(_np(A.logit_model(model)(x)), want, rtol=1e-6)
    fused = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    logits = _np(A.logit_model(fused)(x))
    np.testing.assert_allclose(_np(keras.ops.softmax(logits)), _np(fused(x)), rtol=1e-5)
    assert fused.layers[-1].activation.__name__ == "softmax"  # the original is untouched


def test_integrated_gradients_completeness(cam_model, images):
    ig = A.integrated_gradients(cam_model, images, class_index=0, steps=64, reduce=None)
    logits = A.logit_model(cam_model)
    gap = _np(logits(images))[:, 0] - _np(logits(np.zeros_like(images)))[:, 0]
    np.testing.assert_allclose(ig.sum(axis=(1, 2, 3)), gap, rtol=0.02, atol=1e-3)


def test_integrated_gradients_of_linear_model_is_exact():
    model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(2, use_bias=False)])
    w = np.arange(8, dtype="float32").reshape(4, 2)
    model.layers[-1].kernel.assign(w)
    x = np.random.default_rng(0).random((3, 2, 2, 1)).astype("float32")
    base = 0.25
    ig = A.integrated_gradients(model, x, class_index=1, baseline=base, steps=3)
    np.testing.assert_allclose(ig, ((x - base)[..., 0] * w[:, 1].reshape(2, 2)), rtol=1e-5)


@pytest.mark.parametrize(
    "method, kwargs",
    [
        (A.saliency, {}),
        (A.smoothgrad, {"num_samples": 6}),
        (A.smoothgrad, {"num_samples": 6, "squared": True}),
        (A.integrated_gradients, {"steps": 8}),
        (A.grad_cam, {}),
        (A.grad_cam_plus_plus, {}),
        (A.score_cam, {"max_channels": 4}),
        (A.occlusion, {"patch_size": 3, "stride": 2}),
    ],
)
def test_results_do_not_depend_on_batch_size(cam_model, images, method, kwargs):
    small = method(cam_model, images, batch_size=3, **kwargs)
    large = method(cam_model, images, batch_size=256, **kwargs)
    assert small.shape == (10, 8, 8)
    np.testing.assert_allclose(small, large, rtol=1e-4, atol=1e-6)
    if method is not A.smoothgrad:  # SmoothGrad's noise is seeded by position in the batch
        single = method(cam_model, images[3], batch_size=5, **kwargs)
        np.testing.assert_allclose(single[0], large[3], rtol=1e-4, atol=1e-6)


def test_occlusion_of_linear_model_matches_numpy():
    # Linear logits and fill 0: the drop of one patch is computable in numpy.
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    x = np.random.default_rng(0).random((2, 4, 4, 1)).astype("float32")
    heat = A.occlusion(model, x, class_index=0, patch_size=2, stride=2)
    w, b = (_np(v) for v in model.layers[-1].weights)

    def p0(img):
        z = img.reshape(-1) @ w + b
        e = np.exp(z - z.max())
        return e[0] / e.sum()

    for i in range(2):
        for y0 in (0, 2):
            for x0 in (0, 2):
                occluded = x[i].copy()
                occluded[y0 : y0 + 2, x0 : x0 + 2] = 0
                assert abs(heat[i, y0, x0] - (p0(x[i]) - p0(occluded))) < 1e-5


def test_class_index_none_uses_prediction(cam_model, images):
    predicted = np.argmax(_np(cam_model(images)), 1)
    for method in (A.saliency, A.grad_cam, A.occlusion):
        np.testing.assert_allclose(method(cam_model, images), method(cam_model, images, class_index=predicted),
                                   rtol=1e-5, atol=1e-7)


def test_clear_errors(cam_model, images):
    with pytest.raises(ValueError, match=r"class_index must be in 0\.\.2 .*Received: class_index=3"):
        A.saliency(cam_model, images, class_index=3)
    with pytest.raises(ValueError, match="one int per image"):
        A.grad_cam(cam_model, images, class_index=[0, 1])
    with pytest.raises(ValueError, match=r"images must have shape \(batch,\) \+ \(8, 8, 2\).*Received: images.shape=\(4, 8, 8, 3\)"):
        A.saliency(cam_model, np.zeros((4, 8, 8, 3)))
    with pytest.raises(ValueError, match="batch_size must be a positive integer. Received: batch_size=0"):
        A.saliency(cam_model, images, batch_size=0)
    with pytest.raises(ValueError, match="must have a 4-D"):
        A.grad_cam(cam_model, images, layer=-1)
    with pytest.raises(ValueError, match="NaN"):
        A.saliency(cam_model, np.full((1, 8, 8, 2), np.nan))
    with pytest.raises(ValueError, match="reduce must be"):
        A.saliency(cam_model, images, reduce="median")


def test_pointing_game_and_randomized_model():
    heat = np.zeros((3, 6, 6))
    heat[0, 1, 1] = heat[1, 5, 5] = heat[2, 3, 3] = 1
    boxes = [[0, 0, 3, 3], [0, 0, 3, 3], [0, 0, 3, 3]]
    assert A.pointing_game(heat, boxes).tolist() == [True, False, False]
    assert A.pointing_game(heat, boxes, tolerance=1).tolist() == [True, False, True]
    masks = np.zeros((3, 6, 6), bool)
    masks[:, :3, :3] = True
    assert A.pointing_game(heat, masks).tolist() == [True, False, False]


def test_blur_baseline_and_occlusion_logit_score():
    x = np.zeros((1, 9, 9, 1), "float32")
    x[0, 4, 4] = 1.0
    blurred = gaussian_blur(x, sigma=1.0)
    assert abs(blurred.sum() - 1.0) < 1e-5 and blurred[0, 4, 4, 0] < 0.2
    np.testing.assert_allclose(blurred[0, :, :, 0], blurred[0, :, :, 0].T, atol=1e-7)
    model = keras.Sequential([keras.Input((9, 9, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(2, kernel_initializer="ones")])
    heat = A.occlusion(model, x, class_index=0, patch_size=3, stride=3, score="logit")
    # Logit = sum of pixels + 0: occluding the bright pixel's patch drops it by exactly 1.
    assert heat[0, 4, 4] == pytest.approx(1.0) and heat[0, 0, 0] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="score must be"):
        A.occlusion(model, x, score="loss")
    with pytest.raises(ValueError, match="baseline must be"):
        A.deletion_insertion(model, x, np.ones((1, 9, 9)), baseline="noise")
