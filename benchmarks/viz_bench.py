"""Benchmark of deepkit.viz: batched, compiled Grad-CAM and feature visualization.

Workloads (issue 4; targets on one H100 with ``KERAS_BACKEND=jax``):

- Grad-CAM of 1,000 CIFAR-10 images on CIFAR ResNet-20 (last stage output): <= 2 s.
- Feature visualization of 64 channels x 512 steps (Lucid FFT + decorrelated param, standard
  transforms) of a ResNet-20 layer: <= 15 s.

Each is timed next to the way tf-keras-vis does it: one image (one channel) at a time,
eagerly, with a gradient tape per call. Those loops are measured on a subset and
extrapolated linearly (said so in the table).

Run (GPU)::

    KERAS_BACKEND=jax python benchmarks/viz_bench.py
    KERAS_BACKEND=jax python benchmarks/viz_bench.py --data .bench-data/cifar10-train-jpeg.npz

CPU smoke run with small sizes::

    python benchmarks/viz_bench.py --quick

Every attribution method, this checkout against another one (``--before``, e.g. the main
branch), each run in a fresh process and the two alternated ``--rounds`` times, so both see
the same machine load; ``--captum`` adds deepkit vs Captum on the torch backend
(``pip install captum``, the ``bench`` extra). See :mod:`benchmarks.viz_methods_bench`::

    python benchmarks/viz_bench.py --methods --before ../main --backends tensorflow,jax,torch
    python benchmarks/viz_bench.py --methods --captum
    python benchmarks/viz_bench.py --methods --captum --backends "" --images 8 --rounds 1  # Captum table only

Weights are random (He init): timings do not depend on them. Images are real CIFAR-10 when
``--data`` points at the shared ``cifar10-train-jpeg.npz`` (decoded with Pillow), else
uniform noise of the same shape. Results go to ``benchmarks/results/viz_bench_<backend>.json``.
"""

import argparse
import io
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import keras  # noqa: E402
import numpy as np  # noqa: E402


def _images(n, path):
    if path:
        from PIL import Image

        d = np.load(path)
        buf, off = d["jpeg"].tobytes(), d["offsets"]
        x = np.stack([np.asarray(Image.open(io.BytesIO(buf[off[i]:off[i + 1]])).convert("RGB"))
                      for i in range(n)])
        return x.astype("float32") / 255.0, "CIFAR-10 (JPEG)"
    return np.random.default_rng(0).random((n, 32, 32, 3)).astype("float32"), "uniform noise"


def _sync(x):
    return keras.ops.convert_to_numpy(x)


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench_grad_cam(model, x, layer, batch_size, baseline_images):
    from deepkit.backend import gradients
    from deepkit.viz import attribution
    from deepkit.viz.layers import intervention_model

    cold, _ = _timed(lambda: attribution.grad_cam(model, x, layer=layer, batch_size=batch_size))
    warm, maps = _timed(lambda: attribution.grad_cam(model, x, layer=layer, batch_size=batch_size))

    # tf-keras-vis style: one image per call, eager tape, no compilation.
    im = intervention_model(attribution.logit_model(model), layer)
    act_shape = tuple(im.inputs[1].shape[1:])

    def score(img, delta):
        act, logits = im([img, delta], training=False)
        return keras.ops.max(logits, axis=-1)[0], act

    vg = gradients.value_and_grad(score, argnums=1, has_aux=True)

    def one(img):
        (_, act), g = vg(keras.ops.convert_to_tensor(img), keras.ops.zeros((1,) + act_shape))
        w = keras.ops.mean(g, axis=(1, 2))
        cam = keras.ops.relu(keras.ops.sum(act * w[:, None, None, :], axis=-1))
        return _sync(keras.ops.image.resize(cam[..., None], x.shape[1:3]))

    one(x[:1])  # warm-up
    k = min(baseline_images, len(x))
    loop, _ = _timed(lambda: [one(x[i:i + 1]) for i in range(k)])
    return {
        "images": len(x),
        "batched_cold_s": cold,
        "batched_warm_s": warm,
        "per_image_loop_measured_images": k,
        "per_image_loop_s_extrapolated": loop / k * len(x),
        "maps_finite": bool(np.isfinite(maps).all()),
    }


def bench_featurevis(model, layer, channels, steps, baseline_channels, baseline_steps):
    from deepkit.viz import featurevis
    from deepkit.viz.featurevis import objectives

    obj = objectives.channel(layer, range(channels))
    cold, (imgs, values) = _timed(lambda: featurevis.render(model, obj, steps=steps, return_values=True))
    warm, _ = _timed(lambda: featurevis.render(model, obj, steps=steps))
    # tf-keras-vis style: one channel at a time, eager steps.
    featurevis.render(model, objectives.channel(layer, 0), steps=2, jit=False)  # warm-up
    eager, _ = _timed(lambda: [featurevis.render(model, objectives.channel(layer, c),
                                                 steps=baseline_steps, jit=False)
                               for c in range(baseline_channels)])
    return {
        "channels": channels,
        "steps": steps,
        "batched_cold_s": cold,
        "batched_warm_s": warm,
        "mean_final_activation": float(np.mean(values)),
        "per_channel_eager_measured": f"{baseline_channels} channels x {baseline_steps} steps",
        "per_channel_eager_s_extrapolated": eager / (baseline_channels * baseline_steps) * channels * steps,
    }


def _methods_run(code, backend, images, repeat, captum):
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    cmd = [sys.executable, os.path.join(HERE, "viz_methods_bench.py"), "--images", str(images),
           "--repeat", str(repeat), "--out", out]
    if code:
        cmd += ["--code", code]
    if captum:
        cmd += ["--captum", "--methods", ""]  # the deepkit-only table is the other runs'
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{backend} run of {code or ROOT} failed:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}")
    with open(out) as f:
        result = json.load(f)
    os.unlink(out)
    return result


def methods_table(args):
    """Before/after table of every attribution method, and deepkit vs Captum on torch."""
    import statistics

    backends = [b for b in args.backends.split(",") if b]  # --backends "": the Captum table only
    runs = {}
    for _ in range(args.rounds):
        for backend in backends:
            for label, code in (("before", args.before), ("after", None)):
                if label == "before" and not args.before:
                    continue
                print(f"{backend}: {label}", flush=True)
                runs.setdefault((backend, label), []).append(
                    _methods_run(code, backend, args.images, args.repeat, False))
    lines = [f"{args.images} images, 28x28x1 CNN (random weights), warm time = median over "
             f"{args.rounds} alternated runs of the median of {args.repeat} calls; first = first call "
             "(compilation included)", "",
             "| backend | method | before first (s) | before warm (s) | after first (s) | after warm (s) | speed-up (warm) |",
             "|---|---|---|---|---|---|---|"] if backends else []
    for backend in backends:
        after = runs[(backend, "after")]
        before = runs.get((backend, "before"))
        for name in after[0]["methods"]:
            a_first = statistics.median(r["methods"][name]["first_s"] for r in after)
            a_warm = statistics.median(r["methods"][name]["warm_s"] for r in after)
            if before:
                b_first = statistics.median(r["methods"][name]["first_s"] for r in before)
                b_warm = statistics.median(r["methods"][name]["warm_s"] for r in before)
                lines.append(f"| {backend} | {name} | {b_first:.3f} | {b_warm:.3f} | {a_first:.3f} | "
                             f"{a_warm:.3f} | {b_warm / a_warm:.2f}x |")
            else:
                lines.append(f"| {backend} | {name} | | | {a_first:.3f} | {a_warm:.3f} | |")
    if args.captum:
        rounds = [_methods_run(None, "torch", args.images, args.repeat, True) for _ in range(args.rounds)]
        lines += ["", "| method (torch backend) | deepkit warm (s) | Captum warm (s) | Captum / deepkit | "
                  "max difference (relative to the largest value) |", "|---|---|---|---|---|"]
        for name in rounds[0]["captum"]:
            d = statistics.median(r["captum"][name]["deepkit_warm_s"] for r in rounds)
            c = statistics.median(r["captum"][name]["captum_warm_s"] for r in rounds)
            diff = max(r["captum"][name]["max_rel_difference"] for r in rounds)
            lines.append(f"| {name} | {d:.3f} | {c:.3f} | {c / d:.2f} | {diff:.1e} |")
    text = "\n".join(lines)
    print(text)
    out = args.out or os.path.join(HERE, "results", "viz_methods_cpu.md")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(text + "\n")
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", action="store_true",
                        help="time every attribution method (see viz_methods_bench.py)")
    parser.add_argument("--before", default=None, help="with --methods: a checkout to compare against")
    parser.add_argument("--backends", default="tensorflow,jax", help="with --methods")
    parser.add_argument("--rounds", type=int, default=2, help="with --methods: alternated runs")
    parser.add_argument("--repeat", type=int, default=3, help="with --methods: warm calls per run")
    parser.add_argument("--captum", action="store_true", help="with --methods: deepkit vs Captum (torch)")
    parser.add_argument("--quick", action="store_true", help="small CPU smoke sizes")
    parser.add_argument("--images", type=int, default=None)
    parser.add_argument("--channels", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--data", default=None, help="cifar10-train-jpeg.npz for real images")
    parser.add_argument("--layer", default=None, help="feature visualization layer (default: stage 2 output)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.methods:
        args.images = args.images or 32
        return methods_table(args)

    quick = args.quick
    n = args.images or (128 if quick else 1000)
    channels = args.channels or (16 if quick else 64)
    steps = args.steps or (32 if quick else 512)
    batch_size = args.batch_size or (64 if quick else 500)
    base_images = 8 if quick else 50
    base_channels, base_steps = (1, 8) if quick else (2, 32)

    import deepkit.models

    keras.utils.set_random_seed(0)
    model = deepkit.models.create("cifar_resnet20")
    x, source = _images(n, args.data)
    from deepkit.viz.layers import last_conv_layer

    cam_layer = last_conv_layer(model)
    fv_layer = args.layer or "layer2_block2_out"

    gc = bench_grad_cam(model, x, cam_layer, batch_size, base_images)
    fv = bench_featurevis(model, fv_layer, channels, steps, base_channels, base_steps)
    devices = []
    if keras.backend.backend() == "jax":
        import jax

        devices = [str(d) for d in jax.devices()]
    result = {
        "backend": keras.backend.backend(),
        "devices": devices,
        "machine": platform.platform(),
        "quick": quick,
        "model": "cifar_resnet20 (random weights)",
        "images_source": source,
        "grad_cam_layer": cam_layer,
        "featurevis_layer": fv_layer,
        "grad_cam": gc,
        "featurevis": fv,
    }
    rows = [
        ("Grad-CAM", f"{gc['images']} images, batch {batch_size}", gc["batched_cold_s"],
         gc["batched_warm_s"], gc["per_image_loop_s_extrapolated"], "2 s (1,000 images)"),
        ("Feature vis.", f"{channels} ch x {steps} steps", fv["batched_cold_s"], fv["batched_warm_s"],
         fv["per_channel_eager_s_extrapolated"], "15 s (64 x 512)"),
    ]
    print(f"\nbackend {result['backend']} {devices or ''} | {source} | quick={quick}")
    print("| workload | size | deepkit batched, first call (s) | deepkit batched, warm (s) "
          "| per-item eager loop, tf-keras-vis style (s, extrapolated) | H100 target |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.2f} | {r[3]:.2f} | {r[4]:.1f} | {r[5]} |")
    out = args.out or os.path.join(HERE, "results", f"viz_bench_{result['backend']}{'_quick' if quick else ''}.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
