"""Training-speed benchmark: deepkit's fast fit vs plain Keras fit vs a plain PyTorch loop.

Every (workload, mode) pair runs in a fresh process on the same device with the same model and
data; the table gives total wall time of the training call (compilation included), the first
epoch, the steady epoch time (median of the later epochs), images/s, and deepkit's speed-up over
each baseline, followed by the issue's targets as PASS/FAIL lines.

Modes:
  deepkit        deepkit.train.fit (data on the device, one compiled call per epoch, bf16 scope)
  keras          model.fit with Keras' defaults (jit_compile="auto": XLA on jax / TF-GPU)
  keras_spe      model.fit with steps_per_execution=--spe (default 32), jit_compile="auto"
                 (XLA on jax and TF-GPU; off on TF-CPU, where XLA convolutions are ~10x slower)
  torch          a plain PyTorch loop (host data, per-batch copies to the device), eager
  torch_compile  the same loop with torch.compile (default on a GPU only)

Usage (H100, jax; the command behind the README table):
  KERAS_BACKEND=jax python -m benchmarks.bench_fit
CPU, small and quick (what runs on the 2-core development machine):
  python -m benchmarks.bench_fit --quick --backend tensorflow
  python -m benchmarks.bench_fit --quick --backend jax
Real data instead of synthetic arrays of the same shapes:
  python -m benchmarks.bench_fit --data-dir ../shared/data
"""

import argparse
import json
import os
import sys
import time

from benchmarks import common
from benchmarks.workloads import WORKLOADS

MODES = ("deepkit", "keras", "keras_spe", "torch", "torch_compile")
QUICK = {"mnist_convnet": 6000, "lenet5": 6000, "resnet20": 2048}


# --------------------------------------------------------------------------------- workers
def _data(args):
    from benchmarks import workloads

    if args.data_dir:
        return workloads.real(args.workload, args.data_dir, n=args.samples)
    return workloads.synthetic(args.workload, n=args.samples)


def worker_keras(args):
    import keras

    from benchmarks import workloads

    x, y = _data(args)
    keras.utils.set_random_seed(0)
    w = WORKLOADS[args.workload]
    bf16 = args.precision == "bf16"
    deepkit_mode = args.worker == "deepkit"
    model = workloads.keras_model(args.workload, bf16=bf16 and not deepkit_mode)
    kwargs = {}
    if args.worker == "keras_spe":
        # jit_compile="auto": XLA on jax and on TF with a GPU; TF on CPU is ~10x slower with XLA.
        kwargs = {"steps_per_execution": args.spe}
    model.compile(optimizer=workloads.keras_optimizer(args.workload),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], **kwargs)
    timer = common.epoch_timer()
    fit_kwargs = dict(batch_size=args.batch or w["batch"], epochs=args.epochs, verbose=0,
                      callbacks=[timer], shuffle=True)
    extra = {}
    t0 = time.perf_counter()
    if deepkit_mode:
        from deepkit.train import fit

        h = fit(model, x, y, mixed_precision="bfloat16" if bf16 else False, seed=0,
                unroll=args.unroll, **fit_kwargs)
        extra["fast"] = {k: v for k, v in h.fast.items() if k != "epoch_seconds"}
    else:
        h = model.fit(x, y, **fit_kwargs)
    out = common.summarize(t0, timer.ends, len(x), extra)
    out["final_loss"] = float(h.history["loss"][-1])
    out["final_accuracy"] = float(h.history["accuracy"][-1])
    out["jit_compile"] = bool(model.jit_compile)
    return out


def worker_torch(args):
    import torch
    import torch.nn.functional as F

    from benchmarks import workloads

    x, y = _data(args)
    torch.manual_seed(0)
    w = WORKLOADS[args.workload]
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = workloads.torch_model(args.workload).to(dev)
    opt = workloads.torch_optimizer(args.workload, model.parameters())
    if args.worker == "torch_compile":
        model = torch.compile(model)
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    yt = torch.from_numpy(y).long()
    if dev.type == "cuda":
        xt, yt = xt.pin_memory(), yt.pin_memory()
    bs = args.batch or w["batch"]
    n = len(xt)
    bf16 = args.precision == "bf16"

    def step(xb, yb):
        xb = xb.to(dev, non_blocking=True).float().div_(255)
        yb = yb.to(dev, non_blocking=True)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    model.train()
    ends = []
    t0 = time.perf_counter()
    loss = None
    for _ in range(args.epochs):
        perm = torch.randperm(n)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            loss = step(xt[idx], yt[idx])
        if dev.type == "cuda":
            torch.cuda.synchronize()
        ends.append(time.perf_counter())
    out = common.summarize(t0, ends, n)
    out["final_loss"] = float(loss)
    return out


def run_worker_main(args):
    if args.worker.startswith("torch"):
        out = worker_torch(args)
        backend = "torch"
    else:
        out = worker_keras(args)
        import keras

        backend = keras.backend.backend()
    out.update(mode=args.worker, workload=args.workload, samples=args.samples, epochs=args.epochs,
               precision=args.precision, device=common.device_info(backend))
    print(json.dumps(out, default=str))


# ---------------------------------------------------------------------------------- parent
def _targets(rows, full_size, on_gpu):
    """The issue's targets as (name, passed or None, detail) triples."""
    by = {(r["workload"], r["mode"]): r for r in rows if "error" not in r}
    lines = []

    def get(wl, mode, key):
        r = by.get((wl, mode))
        return None if r is None else r.get(key)

    def check(name, value, ok, detail):
        lines.append((name, None if value is None else bool(ok), detail))

    note = "" if (full_size and on_gpu) else " [target is for H100, full size; this run is not]"
    d_tot = get("mnist_convnet", "deepkit", "total_s")
    k_tot = get("mnist_convnet", "keras", "total_s")
    if d_tot is not None:
        check("mnist_convnet: deepkit total <= 2.0 s" + note, d_tot, d_tot <= 2.0, f"{d_tot:.2f} s")
        if k_tot is not None:
            check("mnist_convnet: deepkit >= 4x plain Keras (total)" + note, d_tot,
                  k_tot / d_tot >= 4, f"{k_tot / d_tot:.2f}x")
    d_img = get("resnet20", "deepkit", "img_per_s")
    if d_img is not None:
        check("resnet20: deepkit >= 150k img/s" + note, d_img, d_img >= 150e3, f"{d_img / 1e3:.1f}k img/s")
        k_img = max([v for v in (get("resnet20", "keras", "img_per_s"),
                                 get("resnet20", "keras_spe", "img_per_s")) if v] or [0]) or None
        if k_img:
            check("resnet20: deepkit >= 1.5x best Keras (img/s)" + note, d_img, d_img / k_img >= 1.5,
                  f"{d_img / k_img:.2f}x")
        t_img = get("resnet20", "torch_compile", "img_per_s") or get("resnet20", "torch", "img_per_s")
        if t_img:
            check("resnet20: deepkit >= 3x PyTorch (img/s)" + note, d_img, d_img / t_img >= 3,
                  f"{d_img / t_img:.2f}x")
    # CPU rule (and a sanity check everywhere): deepkit never slower than plain Keras fit.
    for wl in WORKLOADS:
        d = by.get((wl, "deepkit"))
        if d is None:
            continue
        for mode in ("keras", "keras_spe"):
            k = by.get((wl, mode))
            if k is None:
                continue
            ok = d["total_s"] <= k["total_s"] and d["steady_epoch_s"] <= k["steady_epoch_s"]
            check(f"{wl}: deepkit not slower than {mode} (total and steady epoch)", 1, ok,
                  f"total {k['total_s'] / d['total_s']:.2f}x, steady {k['steady_epoch_s'] / d['steady_epoch_s']:.2f}x")
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "jax"),
                   choices=["jax", "tensorflow", "torch"])
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--modes", default=None, help=f"comma list of {MODES} (default: all but "
                   "torch_compile on CPU)")
    p.add_argument("--quick", action="store_true", help="small CPU-sized run: "
                   f"{QUICK} samples, 3 epochs")
    p.add_argument("--samples", type=int, help="training samples per epoch (default: full size)")
    p.add_argument("--epochs", type=int, help="epochs (default 10; 3 with --quick)")
    p.add_argument("--batch", type=int, help="batch size override")
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"],
                   help="auto: each workload's precision on an accelerator, fp32 on CPU")
    p.add_argument("--spe", type=int, default=32, help="steps_per_execution of keras_spe")
    p.add_argument("--unroll", type=int, default=1, help="deepkit: steps per compiled-loop iteration (jax)")
    p.add_argument("--data-dir", help="real data (../shared/data) instead of synthetic arrays")
    p.add_argument("--repeat", type=int, default=1, help="runs per mode (interleaved); the table "
                   "shows medians (total time and steady epoch separately)")
    p.add_argument("--timeout", type=int, default=1800)
    p.add_argument("--name", default="fit", help="results/<name>-<time>.json")
    # worker mode (internal)
    p.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    p.add_argument("--workload", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        return run_worker_main(args)

    probe = common.run_worker("benchmarks.probe", [], args.backend, timeout=300)
    on_gpu = probe.get("platform") in ("gpu", "cuda", "tpu")
    modes = args.modes.split(",") if args.modes else [
        m for m in MODES if on_gpu or m != "torch_compile"]
    bad = [m for m in modes if m not in MODES]
    if bad:
        p.error(f"unknown modes {bad}; choose from {MODES}")
    epochs = args.epochs or (3 if args.quick else 10)
    rows = []
    full_size = not args.quick and not args.samples and epochs == 10
    print(f"# device: {probe.get('device')} ({probe.get('platform')}), keras backend "
          f"{args.backend}, epochs {epochs}, {'real' if args.data_dir else 'synthetic'} data",
          flush=True)
    for wl in args.workloads.split(","):
        if wl not in WORKLOADS:
            p.error(f"unknown workload {wl!r}; choose from {sorted(WORKLOADS)}")
        samples = args.samples or (QUICK[wl] if args.quick else WORKLOADS[wl]["n"])
        prec = args.precision
        if prec == "auto":
            prec = "bf16" if (WORKLOADS[wl]["bf16"] and on_gpu) else "fp32"
        runs = {m: [] for m in modes}
        for rep in range(args.repeat):  # interleaved, so load drifts hit every mode alike
            for mode in modes:
                wargs = ["--worker", mode, "--workload", wl, "--samples", samples, "--epochs", epochs,
                         "--precision", prec, "--spe", args.spe, "--unroll", args.unroll]
                if args.batch:
                    wargs += ["--batch", args.batch]
                if args.data_dir:
                    wargs += ["--data-dir", os.path.abspath(args.data_dir)]
                r = common.run_worker("benchmarks.bench_fit", wargs, args.backend, timeout=args.timeout)
                r.setdefault("workload", wl)
                r.setdefault("mode", mode)
                r.setdefault("precision", prec)
                runs[mode].append(r)
                if "error" in r:
                    print(f"{wl:14s} {mode:14s} ERROR {r['error'][-800:]}", flush=True)
                else:
                    print(f"{wl:14s} {mode:14s} total {r['total_s']:8.2f} s  steady epoch "
                          f"{r['steady_epoch_s']:8.3f} s  {r['img_per_s']:10.0f} img/s", flush=True)
        for mode in modes:
            ok = [r for r in runs[mode] if "error" not in r]
            if not ok:
                rows.append(runs[mode][-1])
                continue
            best = dict(sorted(ok, key=lambda r: r["total_s"])[len(ok) // 2])  # median run by total
            best["steady_epoch_s"] = sorted(r["steady_epoch_s"] for r in ok)[len(ok) // 2]
            best["img_per_s"] = best["samples"] / best["steady_epoch_s"]
            best["repeats"] = [{k: r.get(k) for k in ("total_s", "steady_epoch_s")} for r in ok]
            rows.append(best)
    # speed-ups of deepkit over each baseline
    for r in rows:
        d = next((q for q in rows if q.get("workload") == r.get("workload") and q.get("mode") == "deepkit"
                  and "error" not in q), None)
        if d and "error" not in r:
            r["deepkit_total_speedup"] = r["total_s"] / d["total_s"]
            r["deepkit_throughput_speedup"] = d["img_per_s"] / r["img_per_s"]
            r["samples_run"] = r.get("samples")
    cols = [("workload", "workload", None), ("mode", "mode", None), ("precision", "precision", None),
            ("samples/epoch", "samples", "d"), ("total s (incl. compile)", "total_s", ".2f"),
            ("first epoch s", "first_epoch_s", ".2f"), ("steady epoch s", "steady_epoch_s", ".3f"),
            ("img/s", "img_per_s", ",.0f"), ("deepkit speed-up (total)", "deepkit_total_speedup", ".2f"),
            ("deepkit speed-up (img/s)", "deepkit_throughput_speedup", ".2f")]
    print()
    print(common.table([r for r in rows if "error" not in r], cols))
    print()
    targets = _targets(rows, full_size, on_gpu)
    for name, ok, detail in targets:
        print(f"{'PASS' if ok else ('FAIL' if ok is not None else 'N/A ')}  {name}: {detail}")
    cmd = "python -m benchmarks.bench_fit " + " ".join(sys.argv[1:] if argv is None else argv)
    path = common.save_json(f"{args.name}-{args.backend}", {
        "command": cmd, "device": probe, "epochs": epochs, "rows": rows,
        "targets": [{"name": n, "passed": ok, "detail": d} for n, ok, d in targets],
    })
    print(f"\n# command: KERAS_BACKEND={args.backend} {cmd}\n# results: {os.path.relpath(path, common.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
