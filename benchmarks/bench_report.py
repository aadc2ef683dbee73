"""Size and time of ``deepkit report`` (the atlas) for LeNet-5 and CIFAR ResNet-20 on CPU.

LeNet-5 is trained by ``deepkit train`` on the offline digits (its acceptance case); ResNet-20
has random weights and runs on random 32x32 images (the atlas's cost does not depend on the
weights). Each report runs through ``deepkit.cli.main`` in this process; the time is that
call's wall time (training not included). Prints a table and writes JSON (pages, files,
bytes, seconds per workload) to ``benchmarks/results/bench_report.json``.

Run from the project root::

    python -m benchmarks.bench_report                        # both, default settings
    python -m benchmarks.bench_report --featurevis-steps 32  # quicker feature visualizations
    python -m benchmarks.bench_report --workloads resnet50 --num-images 8 --no-featurevis
"""

import argparse
import json
import os
import tempfile
import time

import numpy as np

WORKLOADS = ("lenet5", "resnet20")


def _files(folder):
    sizes = [os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(folder) for f in files]
    pages = [f for f in os.listdir(folder) if f.endswith(".html")]
    return len(pages), len(sizes), sum(sizes)


def _model_and_data(name, work, num_images, seed=0):
    """``(model file, data file, extra report arguments)`` of a workload."""
    import keras

    from deepkit import cli, models

    rng = np.random.default_rng(seed)
    model_path = os.path.join(work, f"{name}.keras")
    if name == "lenet5":
        from sklearn.datasets import load_digits

        cli.main(["train", "--model", "lenet5", "--data", "digits", "--epochs", "3",
                  "--out", model_path])
        # the trained model takes 32x32 inputs (deepkit train resizes the 8x8 digits): the same
        # digits, each pixel repeated 4x4, as an .npz
        d = load_digits()
        x = np.kron(d.images / 16.0, np.ones((4, 4)))[..., None].astype("float32")
        data = os.path.join(work, "digits32.npz")
        np.savez(data, x=x[-num_images:], y=d.target[-num_images:])
        return model_path, data, ["--class-names", ",".join(str(i) for i in range(10))]
    size, classes, zoo = {"resnet20": (32, 10, "cifar_resnet20"),
                          "resnet50": (224, 1000, "resnet50")}[name]
    keras.utils.set_random_seed(seed)
    models.create(zoo).save(model_path)
    data = os.path.join(work, f"{name}.npz")
    np.savez(data, x=rng.random((num_images, size, size, 3), dtype=np.float32),
             y=rng.integers(0, classes, num_images))
    return model_path, data, []


def run(name, work, num_images, featurevis_steps, featurevis=True):
    """Build one workload's atlas; return its row."""
    from deepkit import cli

    model_path, data, extra = _model_and_data(name, work, num_images)
    out = os.path.join(work, f"{name}-atlas")
    args = ["report", model_path, "--data", data, "--out", out, "--quiet",
            "--max-images", str(num_images)] + extra
    if featurevis_steps is not None:
        args += ["--featurevis-steps", str(featurevis_steps)]
    if not featurevis:
        args.append("--no-featurevis")
    start = time.time()
    status = cli.main(args)
    seconds = time.time() - start
    if status != 0:
        raise RuntimeError(f"deepkit report {name} exited with status {status}")
    pages, files, size = _files(out)
    meta = json.load(open(os.path.join(out, "report.json"), encoding="utf-8"))
    return {"workload": name, "status": status, "pages": pages, "files": files, "bytes": size,
            "seconds": round(seconds, 1), "layers": len(meta["layers"]),
            "unit_pages": sum(len(u) for u in meta["units"].values()),
            "class_pages": len(meta["classes"]), "errors": len(meta["errors"]),
            "featurevis_steps": (featurevis_steps or 128) if featurevis else 0,
            "num_images": num_images}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help="comma-separated: lenet5, resnet20, resnet50")
    parser.add_argument("--num-images", type=int, default=500, help="data samples (default 500)")
    parser.add_argument("--featurevis-steps", type=int, help="default: the report's (128)")
    parser.add_argument("--no-featurevis", action="store_true", help="reports without feature "
                        "visualization (e.g. ResNet-50 on CPU)")
    parser.add_argument("--out", default=os.path.join("benchmarks", "results", "bench_report.json"))
    args = parser.parse_args(argv)
    import keras

    rows = []
    with tempfile.TemporaryDirectory(prefix="deepkit-bench-report-") as work:
        for name in args.workloads.split(","):
            rows.append(run(name.strip(), work, args.num_images, args.featurevis_steps,
                            not args.no_featurevis))
    print(f"\nbackend {keras.backend.backend()}")
    print("| workload | pages (layer/unit/class) | files | MB | seconds | featurevis steps | images |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['workload']} | {r['pages']} ({r['layers']}/{r['unit_pages']}/{r['class_pages']}) "
              f"| {r['files']} | {r['bytes'] / 1e6:.1f} | {r['seconds']} | {r['featurevis_steps']} "
              f"| {r['num_images']} |")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"backend": keras.backend.backend(), "rows": rows}, f, indent=1)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
