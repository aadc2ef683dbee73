"""deepkit's attribution methods against Captum on the same model and weights.

The model is built twice (:mod:`tests.viz.attribution.torch_twins`): Keras (channels last,
float32, any backend) and torch (channels first, float64, Captum's hooks on its ``nn.ReLU``
modules). Differences are float32 rounding. Each test names the planted error it caught.
"""

import numpy as np
import pytest

from deepkit.viz import attribution as A
from tests.viz.attribution.torch_twins import (keras_cnn, keras_relu_cnn, record_coalitions, to_numpy, to_torch,
                                              torch_relu_twin, torch_twin)

torch = pytest.importorskip("torch")
captum_attr = pytest.importorskip("captum.attr")

PARITY = {}  # method -> max |difference| relative to the largest value (printed with -s)


@pytest.fixture(scope="module")
def twins():
    model = keras_cnn()
    x = np.random.default_rng(0).uniform(-1, 1, (4, 8, 8, 2)).astype("float32")
    return model, torch_twin(model), x, np.array([0, 1, 2, 1])


def _check(name, got, want, tol=1e-5):
    diff = float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-12))
    PARITY[name] = diff
    print(f"\nparity {name}: max |difference| / max |reference| = {diff:.1e}")
    assert diff < tol, f"{name}: differs from Captum by {diff:.2e} (relative)"


def test_twins_compute_the_same_logits(twins):
    model, net, x, _ = twins
    np.testing.assert_allclose(model.predict(x, verbose=0), net(to_torch(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name, captum_class", [
    ("saliency", "Saliency"),
    ("input_x_gradient", "InputXGradient"),
    ("guided_backprop", "GuidedBackprop"),
    ("deconvnet", "Deconvolution"),
])
def test_gradient_methods_match_captum(twins, name, captum_class):
    """Raw (reduce=None) attributions against Captum's class of the same name.

    Planted errors caught: guided backprop's gradient not rectified (g * (x > 0), the plain
    gradient); the deconvnet's relu(g) masked by x > 0 (guided backprop instead); Gradient x
    Input without the input factor.
    """
    model, net, x, y = twins
    kwargs = {"abs": False} if captum_class == "Saliency" else {}
    want = to_numpy(getattr(captum_attr, captum_class)(net).attribute(to_torch(x), target=torch.tensor(y), **kwargs))
    got = getattr(A, name)(model, x, y, reduce=None)
    _check(name, got, want)


def test_grad_cam_and_guided_grad_cam_match_captum(twins):
    """Grad-CAM against ``LayerGradCam`` (at the layer's resolution) and Guided Grad-CAM against
    ``GuidedGradCam`` (bilinear upsampling), on the ReLU after conv2.

    Planted errors caught: Grad-CAM weights summed instead of averaged; Guided Grad-CAM with the
    normalised (max 1) Grad-CAM map.
    """
    model, net, x, y = twins
    target = torch.tensor(y)
    want = to_numpy(captum_attr.LayerGradCam(net, net[4]).attribute(to_torch(x), target=target,
                                                                    relu_attributions=True))[..., 0]
    _check("grad_cam", A.grad_cam(model, x, y, layer="relu2", upsample=False, normalize=False), want)
    want = to_numpy(captum_attr.GuidedGradCam(net, net[4]).attribute(to_torch(x), target=target,
                                                                     interpolate_mode="bilinear"))
    _check("guided_grad_cam", A.guided_grad_cam(model, x, y, layer="relu2", reduce=None), want)


def _record_numpy_draws(monkeypatch):
    """Record the numpy draws Captum makes (``np.random.uniform`` for the path points,
    ``np.random.choice`` for the baselines) so deepkit can be given the same ones."""
    drawn = {}
    for name in ("uniform", "choice"):
        original = getattr(np.random, name)

        def record(*args, _name=name, _original=original, **kwargs):
            out = _original(*args, **kwargs)
            drawn[_name] = np.asarray(out)
            return out

        monkeypatch.setattr(np.random, name, record)
    return drawn


def test_gradient_shap_matches_captum(twins, monkeypatch):
    """GradientSHAP against Captum's ``GradientShap`` with 5 random baselines and 6 samples per
    image, deepkit given Captum's draws (path points and baseline choices; rows are image-major
    in Captum's ``repeat_interleave`` order).

    Planted errors caught: the weight (x - b) replaced by x (Gradient x Input at random points);
    the path point b + a (x - b) replaced by x + a (b - x) (a and 1 - a swapped).
    """
    model, net, x, y = twins
    baselines = np.random.default_rng(1).normal(0, 0.5, (5, 8, 8, 2)).astype("float32")
    samples = 6
    drawn = _record_numpy_draws(monkeypatch)
    np.random.seed(3)
    want = to_numpy(captum_attr.GradientShap(net).attribute(
        to_torch(x), baselines=to_torch(baselines), target=torch.tensor(y), n_samples=samples, stdevs=0.0))
    monkeypatch.undo()
    n = len(x)
    got = A.gradient_shap(model, x, y, baselines=baselines, num_samples=samples, reduce=None,
                          alphas=drawn["uniform"].reshape(n, samples),
                          baseline_indices=drawn["choice"].reshape(n, samples), batch_size=7)
    _check("gradient_shap", got, want)


def test_deeplift_matches_captum():
    """DeepLIFT (rescale rule) against Captum's ``DeepLift`` on a ReLU CNN (conv, ReLU, global
    average pooling, dense), with a zero baseline and with one random baseline per image; and
    summation-to-delta: the attributions sum to f(x) - f(x0).

    Planted errors caught: the multiplier (f(z) - f(z0)) / (z - z0) replaced by the activation's
    gradient f'(z) (Gradient x (input - baseline)); the multiplier times x instead of x - x0.
    """
    model = keras_relu_cnn()
    net = torch_relu_twin(model)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, 8, 8, 2)).astype("float32")
    y = np.array([0, 1, 2, 1])
    for name, x0 in (("deeplift", np.zeros_like(x)),
                     ("deeplift (random baselines)", rng.uniform(-1, 1, x.shape).astype("float32"))):
        _check_deeplift(name, model, net, x, y, x0)


def _check_deeplift(name, model, net, x, y, x0):
    """deepkit's DeepLIFT against Captum's on ``net``, and its sums against f(x) - f(x0)."""
    want = to_numpy(captum_attr.DeepLift(net).attribute(to_torch(x), baselines=to_torch(x0), target=torch.tensor(y)))
    got = A.deeplift(model, x, y, baseline=x0, reduce=None, batch_size=3)
    _check(name, got, want)
    logits = model.predict(x, verbose=0) - model.predict(x0, verbose=0)
    np.testing.assert_allclose(got.sum(axis=(1, 2, 3)), logits[np.arange(len(x)), y], rtol=1e-4, atol=1e-5)


def test_deeplift_through_max_pooling_matches_captum():
    """DeepLIFT through 2x2 max pooling against Captum's ``DeepLift`` (its maxpool rule) where
    Captum's own result is exact: the twin CNN with a zero baseline, and pooling on the input
    with random baselines. Captum 0.9 breaks summation-to-delta when a ReLU precedes the pooling
    and the baselines are not zero (its sums were measured 0.40 for a delta of 0.025 on the twin;
    the numpy reference of test_formulas.py checks that case); deepkit's sums equal f(x) - f(x0)
    in every case here.

    Planted errors caught: the second term routed through the inputs' maxima instead of the
    baselines' (``U_x`` for ``U_x0``); ``max(y, y0) - y0`` replaced by ``y - y0``.
    """
    import keras
    from torch import nn

    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (4, 8, 8, 2)).astype("float32")
    y = np.array([0, 1, 2, 1])
    keras.utils.set_random_seed(5)
    pool_first = keras.Sequential([keras.Input((8, 8, 2)), keras.layers.MaxPooling2D(2, name="pool"),
                                   keras.layers.Flatten(), keras.layers.Dense(3, name="out")])
    kernel, bias = (np.asarray(v, "float64") for v in pool_first.get_layer("out").weights)
    pool_net = nn.Sequential(nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32, 3)).double()
    with torch.no_grad():  # torch flattens NCHW: reorder the kernel's rows from HWC to CHW
        pool_net[2].weight.copy_(torch.from_numpy(kernel.reshape(4, 4, 2, 3).transpose(3, 2, 0, 1).reshape(3, 32)))
        pool_net[2].bias.copy_(torch.from_numpy(bias))
    cases = (("deeplift max pool (twin, zero baseline)", keras_cnn(), None, np.zeros_like(x)),
             ("deeplift max pool (pool first, random baselines)", pool_first, pool_net,
              rng.uniform(-1, 1, x.shape).astype("float32")))
    for name, model, net, x0 in cases:
        _check_deeplift(name, model, torch_twin(model) if net is None else net.eval(), x, y, x0)


def test_deeplift_refuses_layers_the_rule_does_not_cover():
    import keras

    model = keras.Sequential([keras.Input((8, 8, 2)), keras.layers.MaxPooling2D(3, strides=2, name="pool"),
                              keras.layers.Flatten(), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="'pool' \\(MaxPooling2D with pool_size \\(3, 3\\) and strides \\(2, 2\\)\\)"):
        A.deeplift(model, np.zeros((1, 8, 8, 2), "float32"))


@pytest.mark.filterwarnings("ignore:You are providing multiple inputs")
@pytest.mark.parametrize("name, captum_class", [("lime", "Lime"), ("kernel_shap", "KernelShap")])
def test_surrogates_match_captum(twins, name, captum_class):
    """LIME and KernelSHAP against Captum's ``Lime`` (its defaults: Bernoulli(1/2) coalitions, the
    exponential kernel on the cosine distance, ``SkLearnLasso(alpha=0.01)``) and ``KernelShap`` (the
    full and empty coalitions weighted 1e6, linear regression), on 2 x 2 patches (16 regions) with
    a zero and a random baseline, deepkit given the coalitions Captum drew (image by image, 40
    each). Tolerance 2e-5 relative (1.9e-6 seen): the scores differ by float32 rounding (~1e-7,
    Keras float32 vs torch float64), Captum fits on float32 and deepkit on float64, and the
    regression with weights 1e6 and 1 amplifies the rounding; the planted errors give 1e-2 and more.

    Planted errors caught: the LIME kernel on the distance not squared (exp(-d / 2w^2)); a
    coalition's bit painted on the next region (labels + 1 mod M); the baseline not applied
    (removed regions zero whatever the baseline); the empty and full coalitions weighted 1.
    """
    model, net, x, y = twins
    mask = np.arange(16).reshape(4, 4).repeat(2, 0).repeat(2, 1)
    rng = np.random.default_rng(5)
    for baseline in (0.0, rng.uniform(-1, 1, (4, 8, 8, 2)).astype("float32")):
        explainer = getattr(captum_attr, captum_class)(net)
        drawn = record_coalitions(explainer)
        torch.manual_seed(2)
        want = to_numpy(explainer.attribute(
            to_torch(x), baselines=baseline if np.ndim(baseline) == 0 else to_torch(baseline),
            target=torch.tensor(y), feature_mask=torch.from_numpy(mask)[None, None], n_samples=40,
            perturbations_per_eval=40))[..., 0]
        coalitions = np.stack(drawn).reshape(4, 40, 16)
        got = getattr(A, name)(model, x, y, feature_mask=mask, baseline=baseline, coalitions=coalitions,
                               batch_size=24)
        label = name if np.ndim(baseline) == 0 else f"{name} (random baseline)"
        _check(label, got, want, tol=2e-5)
