"""Timing of every attribution method of deepkit.viz on CPU, and a side-by-side with Captum.

Used by ``benchmarks/viz_bench.py --methods`` (and runnable alone). Only public names of
``deepkit.viz.attribution`` are used, so the same script times any version of the code:
point ``--code`` at another checkout to time it (``--code /path/to/checkout``).

Workload: a small MNIST-sized CNN (conv32-3 / pool2 / conv64-3 / pool2 / dense10, random
He weights: timings do not depend on the weights) and ``--images`` uniform-noise 28x28x1
images. Occlusion uses a 4x4 patch with stride 2: 13 x 13 = 169 windows per image.

Each method is called once to compile (first call) and then ``--repeat`` times; the table
gives the first call and the median of the warm calls.

``--captum`` (torch backend only) times Captum 0.7+ (``pip install captum``, the ``bench``
extra) on the same Keras model (on the torch backend a Keras model is a ``torch.nn.Module``)
next to deepkit, the two calls alternated: Saliency, IntegratedGradients (Riemann
trapezoid, the same 33 points), Grad-CAM from Captum's layer hooks
(``compute_layer_gradients_and_eval``, what ``LayerGradCam`` runs, with the mean taken over
H, W of the NHWC feature map) + ``LayerAttribution.interpolate``, and Occlusion (same window
and stride, baseline 0, the target-class probability). Both sides evaluate 64 rows per
forward call (deepkit ``batch_size=64``; Captum ``internal_batch_size=64`` and
``perturbations_per_eval = 64 // images``). The maps are compared too.

It also times every other deepkit method that has a Captum counterpart, each against the
Captum class of the same definition: InputXGradient and GradientShap (5 random baselines, 8
samples; deepkit given Captum's draws) on the Keras model itself; Deconvolution,
GuidedBackprop, GuidedGradCam (on conv2's ReLU) and LRP (``EpsilonRule(1e-9)`` everywhere) on
a float32 torch twin of the model (``nn.Conv2d`` / ``nn.ReLU`` / ``nn.MaxPool2d`` /
``nn.Linear``, the same weights: Captum's hooks need ``nn.ReLU`` modules, which a Keras
activation is not); DeepLift on the twin of a second CNN without max pooling (strided
convolutions; the rescale rule covers linear layers and ReLUs only); Lime and KernelShap (64
samples, 4 x 4 patches: 49 regions, baseline 0, the logit) on the Keras model, deepkit given
the coalitions Captum drew. Captum attributes one image at a time for Lime and KernelShap
(``perturbations_per_eval=64``: one forward call per image); deepkit chunks all rows of all
images.
"""

import argparse
import json
import os
import statistics
import sys
import time


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", default=None, help="checkout whose deepkit is timed (default: this one)")
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--methods", default="saliency,integrated_gradients,smoothgrad,grad_cam,"
                        "grad_cam_plus_plus,score_cam,occlusion,occlusion_1_image")
    parser.add_argument("--captum", action="store_true", help="also time Captum (torch backend)")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    return parser.parse_args()


ARGS = _parse() if __name__ == "__main__" else None
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = (ARGS.code if ARGS and ARGS.code else os.path.dirname(HERE))
sys.path.insert(0, ROOT)

import keras  # noqa: E402
import numpy as np  # noqa: E402

CALLS = {
    "saliency": lambda A, m, x: A.saliency(m, x, batch_size=64),
    "integrated_gradients": lambda A, m, x: A.integrated_gradients(m, x, steps=32, batch_size=64),
    "smoothgrad": lambda A, m, x: A.smoothgrad(m, x, num_samples=16, batch_size=64),
    "grad_cam": lambda A, m, x: A.grad_cam(m, x, layer="conv2", batch_size=64),
    "grad_cam_plus_plus": lambda A, m, x: A.grad_cam_plus_plus(m, x, layer="conv2", batch_size=64),
    "score_cam": lambda A, m, x: A.score_cam(m, x, layer="conv2", batch_size=64),
    "occlusion": lambda A, m, x: A.occlusion(m, x, patch_size=4, stride=2, batch_size=64),
    # One image, 169 windows, batch_size 256: the case where padding to a power of two cost
    # 256 rows for 169 (now 170: the windows and the clean image, in one call).
    "occlusion_1_image": lambda A, m, x: A.occlusion(m, x[:1], patch_size=4, stride=2, batch_size=256),
}


def build_model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu", kernel_initializer="he_normal", name="conv1"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 3, activation="relu", kernel_initializer="he_normal", name="conv2"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax", kernel_initializer="he_normal", name="out"),
    ], name="mnist_cnn")


def _time(fn, repeat):
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    warm = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        warm.append(time.perf_counter() - t0)
    return first, statistics.median(warm) if warm else None, out


def time_methods(model, x, methods, repeat):
    from deepkit.viz import attribution as A

    rows = {}
    for name in methods:
        first, warm, out = _time(lambda: CALLS[name](A, model, x), repeat)
        rows[name] = {"first_s": first, "warm_s": warm, "finite": bool(np.isfinite(out).all())}
        print(f"  {name:22s} first {first:7.3f} s   warm {warm:7.3f} s", flush=True)
    return rows


def time_captum(model, x, repeat):
    """deepkit vs Captum on the torch backend, same model and weights, same targets."""
    import torch
    from captum.attr import IntegratedGradients, Occlusion, Saliency

    from deepkit.viz import attribution as A

    logits_model = A.logit_model(model)
    xt = torch.tensor(x)
    with torch.no_grad():
        target = logits_model(xt).argmax(-1)
    y = target.numpy()

    def forward(inp):
        return logits_model(inp)

    def probs(inp):
        return torch.softmax(logits_model(inp), -1)

    conv2 = model.get_layer("conv2")
    pairs = {
        "saliency": (
            lambda: A.saliency(model, x, class_index=y, batch_size=64),
            lambda: Saliency(forward).attribute(xt, target=target, abs=True).amax(-1).numpy(),
        ),
        "integrated_gradients": (
            lambda: A.integrated_gradients(model, x, class_index=y, steps=32, batch_size=64),
            # Captum's trapezoid weights are 1/n (ends 1/2n) for n points, summing to
            # (n - 1)/n; the trapezoidal rule's are 1/(n - 1): rescale by 33/32 to compare.
            lambda: IntegratedGradients(forward).attribute(
                xt, target=target, n_steps=33, method="riemann_trapezoid",
                internal_batch_size=64).sum(-1).detach().numpy() * (33 / 32),
        ),
        "grad_cam": (
            lambda: A.grad_cam(model, x, class_index=y, layer="conv2", normalize=False, batch_size=64),
            lambda: _captum_grad_cam(forward, conv2, xt, target),
        ),
        "occlusion": (
            lambda: A.occlusion(model, x, class_index=y, patch_size=4, stride=2, batch_size=64),
            lambda: Occlusion(probs).attribute(
                xt, sliding_window_shapes=(4, 4, 1), strides=(2, 2, 1), baselines=0.0,
                target=target, perturbations_per_eval=max(1, 64 // len(x)))[..., 0].numpy(),
        ),
    }
    pairs.update(_more_pairs(model, x, xt, target, y, forward))
    rows = {}
    for name, (ours, theirs) in pairs.items():
        # Alternate the two so that both see the same machine load (Captum first: deepkit may
        # be given the draws Captum made).
        first_c, _, out_c = _time(theirs, 0)
        first_d, _, out_d = _time(ours, 0)
        warm_d, warm_c = [], []
        for _ in range(repeat):
            warm_d.append(_time(ours, 0)[0])
            warm_c.append(_time(theirs, 0)[0])
        warm_d, warm_c = statistics.median(warm_d), statistics.median(warm_c)
        scale = max(float(np.abs(out_c).max()), 1e-12)
        diff = float(np.abs(np.asarray(out_d) - np.asarray(out_c)).max()) / scale
        rows[name] = {"deepkit_first_s": first_d, "deepkit_warm_s": warm_d,
                      "captum_first_s": first_c, "captum_warm_s": warm_c,
                      "max_rel_difference": diff}
        print(f"  {name:22s} deepkit {warm_d:7.3f} s   captum {warm_c:7.3f} s   "
              f"ratio {warm_c / warm_d:5.2f}   max diff {diff:.1e}", flush=True)
    return rows


def build_relu_model():
    """A CNN DeepLIFT's rescale rule covers (no max pooling): conv32-3/2 relu, conv64-3/2 relu, dense10."""
    keras.utils.set_random_seed(1)
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, strides=2, activation="relu", kernel_initializer="he_normal", name="conv1"),
        keras.layers.Conv2D(64, 3, strides=2, activation="relu", kernel_initializer="he_normal", name="conv2"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax", kernel_initializer="he_normal", name="out"),
    ], name="mnist_relu_cnn")


def torch_twin(model, pooling=True):
    """float32 NCHW torch ``nn.Sequential`` computing the logits of :func:`build_model` (or of
    :func:`build_relu_model` with ``pooling=False``) with its weights."""
    import torch
    from torch import nn

    if pooling:
        net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(5 * 5 * 64, 10))
        convs, dense, side = (net[0], net[3]), net[7], 5
    else:
        net = nn.Sequential(nn.Conv2d(1, 32, 3, stride=2), nn.ReLU(), nn.Conv2d(32, 64, 3, stride=2), nn.ReLU(),
                            nn.Flatten(), nn.Linear(6 * 6 * 64, 10))
        convs, dense, side = (net[0], net[2]), net[5], 6
    with torch.no_grad():
        for module, name in zip(convs + (dense,), ("conv1", "conv2", "out")):
            kernel, bias = (np.asarray(v, "float32") for v in model.get_layer(name).weights)
            if kernel.ndim == 4:
                kernel = kernel.transpose(3, 2, 0, 1)
            else:  # Keras flattens (H, W, C), torch (C, H, W)
                kernel = kernel.reshape(side, side, 64, 10).transpose(2, 0, 1, 3).reshape(-1, 10).T
            module.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel)))
            module.bias.copy_(torch.from_numpy(bias))
    return net.eval()


def _nchw(xt):
    return xt.permute(0, 3, 1, 2).contiguous()


def _nhwc(t):
    return t.permute(0, 2, 3, 1).detach().numpy()


def _recording_numpy(names):
    """Record the numpy draws Captum's GradientShap makes, to give deepkit the same."""
    drawn, originals = {}, {name: getattr(np.random, name) for name in names}

    def patch(name):
        def record(*args, **kwargs):
            out = originals[name](*args, **kwargs)
            drawn[name] = np.asarray(out)
            return out
        return record

    for name in names:
        setattr(np.random, name, patch(name))
    return drawn, lambda: [setattr(np.random, n, f) for n, f in originals.items()]


def _more_pairs(model, x, xt, target, y, forward):
    """The methods beyond the first four: deepkit's call and Captum's, same definitions."""
    import warnings

    import torch
    from captum.attr import (LRP, Deconvolution, DeepLift, GradientShap, GuidedBackprop, GuidedGradCam,
                             InputXGradient, KernelShap, Lime)
    from captum.attr._utils import lrp_rules

    from deepkit.viz import attribution as A
    from tests.viz.attribution.torch_twins import record_coalitions

    warnings.filterwarnings("ignore", message="You are providing multiple inputs")
    warnings.filterwarnings("ignore", message=".*backward hook.*")
    warnings.filterwarnings("ignore", message=".*[Ss]etting forward, backward hooks.*")
    n = len(x)
    net = torch_twin(model)
    xc = _nchw(xt)
    relu_model = build_relu_model()
    relu_net = torch_twin(relu_model, pooling=False)
    relu_y = torch.tensor(relu_model.predict(x, verbose=0).argmax(-1))
    lrp_net = torch_twin(model)

    def captum_lrp():
        for module in lrp_net:  # Captum removes the rules after each call
            if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear, torch.nn.Flatten)):
                module.rule = lrp_rules.EpsilonRule(1e-9)
        return _nhwc(LRP(lrp_net).attribute(xc, target=target))

    baselines = np.random.default_rng(1).normal(0, 0.5, (5,) + x.shape[1:]).astype("float32")
    shap_draws = {}

    def captum_gradient_shap():
        drawn, restore = _recording_numpy(("uniform", "choice"))
        try:
            out = GradientShap(forward).attribute(xt, baselines=torch.tensor(baselines), target=target,
                                                  n_samples=8, stdevs=0.0).detach().numpy()
        finally:
            restore()
        shap_draws.update(alphas=drawn["uniform"].reshape(n, 8), baseline_indices=drawn["choice"].reshape(n, 8))
        return out

    mask = np.arange(49).reshape(7, 7).repeat(4, 0).repeat(4, 1)
    drawn_coalitions = {}

    def captum_surrogate(name, cls):
        def run():
            explainer = cls(forward)
            drawn = record_coalitions(explainer)
            out = explainer.attribute(xt, target=target, feature_mask=torch.from_numpy(mask)[None, :, :, None],
                                      n_samples=64, perturbations_per_eval=64)
            drawn_coalitions[name] = np.stack(drawn).reshape(n, 64, 49)
            return out[..., 0].detach().numpy()
        return run

    def ours_surrogate(name):
        return lambda: getattr(A, name)(model, x, class_index=y, feature_mask=mask,
                                        coalitions=drawn_coalitions[name], batch_size=64)

    return {
        "input_x_gradient": (
            lambda: A.input_x_gradient(model, x, class_index=y, reduce=None, batch_size=64),
            lambda: InputXGradient(forward).attribute(xt, target=target).detach().numpy(),
        ),
        "deconvnet": (
            lambda: A.deconvnet(model, x, class_index=y, reduce=None, batch_size=64),
            lambda: _nhwc(Deconvolution(net).attribute(xc, target=target)),
        ),
        "guided_backprop": (
            lambda: A.guided_backprop(model, x, class_index=y, reduce=None, batch_size=64),
            lambda: _nhwc(GuidedBackprop(net).attribute(xc, target=target)),
        ),
        "guided_grad_cam": (
            lambda: A.guided_grad_cam(model, x, class_index=y, layer="conv2", reduce=None, batch_size=64),
            lambda: _nhwc(GuidedGradCam(net, net[4]).attribute(xc, target=target, interpolate_mode="bilinear")),
        ),
        "lrp (epsilon)": (
            lambda: A.lrp(model, x, class_index=y, rules="epsilon", reduce=None, batch_size=64),
            captum_lrp,
        ),
        "deeplift": (
            lambda: A.deeplift(relu_model, x, class_index=relu_y.numpy(), reduce=None, batch_size=64),
            lambda: _nhwc(DeepLift(relu_net).attribute(xc, baselines=torch.zeros_like(xc), target=relu_y)),
        ),
        "gradient_shap": (
            lambda: A.gradient_shap(model, x, class_index=y, baselines=baselines, num_samples=8, reduce=None,
                                    batch_size=64, **shap_draws),
            captum_gradient_shap,
        ),
        "lime": (ours_surrogate("lime"), captum_surrogate("lime", Lime)),
        "kernel_shap": (ours_surrogate("kernel_shap"), captum_surrogate("kernel_shap", KernelShap)),
    }


def _captum_grad_cam(forward, layer, xt, target):
    """Grad-CAM with Captum's layer hooks (what ``LayerGradCam`` runs), for NHWC feature maps.

    ``LayerGradCam`` averages the gradient over dims >= 2 (channels first); the Keras layer's
    output is NHWC, so the same two Captum calls are made and the mean is taken over H, W.
    """
    import torch
    from captum._utils.gradient import compute_layer_gradients_and_eval
    from captum.attr import LayerAttribution

    grads, acts = compute_layer_gradients_and_eval(forward, layer, xt, target_ind=target)
    g, a = grads[0], acts[0]
    weights = g.mean(dim=(1, 2), keepdim=True)
    cam = torch.relu((weights * a).sum(-1, keepdim=True)).permute(0, 3, 1, 2)
    up = LayerAttribution.interpolate(cam, tuple(xt.shape[1:3]), interpolate_mode="bilinear")
    return up[:, 0].detach().numpy()


def main(args):
    model = build_model()
    x = np.random.default_rng(0).random((args.images, 28, 28, 1)).astype("float32")
    methods = [m for m in args.methods.split(",") if m]
    backend = keras.backend.backend()
    print(f"deepkit from {ROOT} | backend {backend} | {args.images} images | repeat {args.repeat}")
    result = {"code": ROOT, "backend": backend, "images": args.images,
              "methods": time_methods(model, x, methods, args.repeat)}
    if args.captum:
        if backend != "torch":
            raise SystemExit("--captum needs KERAS_BACKEND=torch")
        result["captum"] = time_captum(model, x, args.repeat)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main(ARGS)
