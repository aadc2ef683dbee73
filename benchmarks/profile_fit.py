"""Where the time of a fast fit goes: transfer, compilation, steps, per-call overhead, augmentation.

Drives the backend loops of ``deepkit.backend.fit_loop`` directly (the same objects
``deepkit.train.fit`` uses) and times, for one workload:

* ``put``: copying the arrays to the device (once per fit);
* ``compile``: the first call of the epoch program minus a warm call of the same program;
* ``epoch (1 call)``: all full batches of an epoch in one compiled call (the default);
* ``epoch (1 step / call)``: the same steps dispatched one call per step from Python (what a
  Keras-style loop pays on top: per-call dispatch, no host copies);
* ``epoch + augment``: with ``Augment(flip=True, pad_crop=4)`` on the device;
* ``keras fit epoch``: plain ``model.fit`` on the same arrays, for reference.

Usage:
  python -m benchmarks.profile_fit --workload mnist_convnet --samples 6000
  KERAS_BACKEND=jax python -m benchmarks.profile_fit --workload resnet20 --precision bf16
  (with --trace DIR on jax: a jax.profiler trace of one warm epoch, for TensorBoard/Perfetto)
"""

import argparse
import json
import os
import time


def _block(x):
    import keras

    for leaf in keras.tree.flatten(x):
        keras.ops.convert_to_numpy(leaf)
        break
    return x


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workload", default="mnist_convnet")
    p.add_argument("--samples", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    p.add_argument("--in-graph-loop", default="auto", choices=["auto", "on", "off"])
    p.add_argument("--unroll", type=int, default=1)
    p.add_argument("--trace", help="jax only: write a jax.profiler trace of one warm epoch here")
    args = p.parse_args(argv)

    import keras

    from benchmarks import workloads
    from deepkit.backend import fit_loop as make_loops
    from deepkit.train import Augment
    from deepkit.train.precision import mixed_precision_scope

    w = workloads.WORKLOADS[args.workload]
    x, y = workloads.synthetic(args.workload, n=args.samples)
    bs = args.batch or w["batch"]
    n_full = len(x) // bs
    igl = {"auto": None, "on": True, "off": False}[args.in_graph_loop]

    def build(bf16=False):
        keras.utils.set_random_seed(0)
        m = workloads.keras_model(args.workload, bf16=bf16)
        m.compile(optimizer=workloads.keras_optimizer(args.workload),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        m._symbolic_build(data_batch=(x[:bs], y[:bs], None))
        return m

    rows = {}
    policy = "mixed_bfloat16" if args.precision == "bf16" else None
    m = build()
    with mixed_precision_scope(m, policy):
        kw = {"unroll": args.unroll}
        if keras.backend.backend() == "jax":
            kw["in_graph_loop"] = igl
        loops = make_loops(m, **kw)
        t = time.perf_counter()
        data = loops.put((x, y, None))
        _block(data)
        rows["put (s)"] = time.perf_counter() - t
        perm = keras.random.shuffle(keras.ops.arange(len(x), dtype="int32"), seed=0)

        def epoch(lp, steps_per_call=None):
            t = time.perf_counter()
            spc = steps_per_call or n_full
            logs = None
            for s in range(0, n_full, spc):
                logs = lp.train(data, perm, 0, s, min(s + spc, n_full), bs)
            _block(logs)
            return time.perf_counter() - t

        first = epoch(loops)
        warm = min(epoch(loops) for _ in range(2))
        rows["compile (s)"] = first - warm
        rows["epoch, 1 call (s)"] = warm
        rows["step, 1 call/epoch (ms)"] = 1e3 * warm / n_full
        if args.trace and keras.backend.backend() == "jax":
            import jax

            with jax.profiler.trace(args.trace):
                epoch(loops)
        epoch(loops, 1)
        one = min(epoch(loops, 1) for _ in range(2))
        rows["epoch, 1 step/call (s)"] = one
        rows["per-call overhead (ms/step)"] = 1e3 * (one - warm) / n_full
        loops.sync()
        aug_loops = make_loops(m, augment=Augment(flip=True, pad_crop=4, seed=0), **kw)
        epoch(aug_loops)
        rows["epoch + augment (s)"] = min(epoch(aug_loops) for _ in range(2))
        rows["augment (ms/step)"] = 1e3 * (rows["epoch + augment (s)"] - warm) / n_full
        aug_loops.sync()
    m2 = build(bf16=policy is not None)
    m2.fit(x[: bs * 2], y[: bs * 2], batch_size=bs, epochs=1, verbose=0)
    t = time.perf_counter()
    m2.fit(x[: n_full * bs], y[: n_full * bs], batch_size=bs, epochs=1, verbose=0)
    rows["keras fit epoch (s)"] = time.perf_counter() - t

    from benchmarks.common import device_info

    dev = device_info(keras.backend.backend())
    print(f"# {args.workload}, {len(x)} samples, batch {bs}, {args.precision}, "
          f"{dev.get('device')} ({keras.backend.backend()}), in_graph_loop="
          f"{getattr(loops, 'in_graph_loop', True)}")
    for k, v in rows.items():
        print(f"{k:32s} {v:10.3f}")
    print(json.dumps({"workload": args.workload, "rows": rows, "device": dev}))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
