#!/usr/bin/env bash
# Run a deepkit benchmark on the borrowed GPU machine (jax backend; see ../shared/gpu/README.md).
#
# Here, once:   bash ../shared/gpu/prepare.sh          # wheels -> .whl/ (ignored)
#               bash benchmarks/gpu_run.sh --prepare-data   # load.py + .npz -> .bench-data/ (ignored)
# Device call:  run(command="bash benchmarks/gpu_run.sh bench_fit", carry=[".whl"])
#               run(command="bash benchmarks/gpu_run.sh bench_tta --data-dir .bench-data",
#                   carry=[".whl", ".bench-data"])
# Any further arguments go to the benchmark; its JSON lands in $OUT.
set -euo pipefail
if [[ "${1:-}" == "--prepare-data" ]]; then
    mkdir -p .bench-data
    cp ../shared/data/load.py ../shared/data/mnist-train.npz ../shared/data/cifar10-train-jpeg.npz .bench-data/
    du -sh .bench-data
    exit 0
fi
bench="${1:-bench_fit}"
shift || true
python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
export PYTHONPATH="/tmp/site:$PWD" KERAS_BACKEND=jax PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -m "benchmarks.${bench}" "$@"
if [[ -n "${OUT:-}" ]]; then
    cp benchmarks/results/*.json "$OUT"/ 2>/dev/null || true
fi
