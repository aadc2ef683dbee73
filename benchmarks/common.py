"""Shared pieces of the benchmark scripts: subprocess workers, timing callback, tables, JSON."""

import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")


def run_worker(module, args, backend, timeout=None):
    """Run ``python -m module args`` in a fresh process; return the JSON it prints last.

    One framework per process: jax preallocates GPU memory, and Keras' backend is global.
    """
    env = dict(os.environ)
    env["KERAS_BACKEND"] = backend
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", module] + [str(a) for a in args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            out = json.loads(line)
            out["process_seconds"] = wall
            return out
    tail = (proc.stdout[-1500:] + "\n" + proc.stderr[-3000:]).strip()
    return {"error": f"worker failed (rc={proc.returncode}): {tail}"}


def epoch_timer():
    """A Keras callback recording ``time.perf_counter()`` at every epoch end (after the sync that
    pythonifying the logs forces)."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.ends = []

        def on_epoch_end(self, epoch, logs=None):
            self.ends.append(time.perf_counter())

    return EpochTimer()


def summarize(t_start, epoch_ends, n_samples, extra=None):
    """Total wall time, per-epoch times, steady epoch time (median after the first) and img/s."""
    epochs = [b - a for a, b in zip([t_start] + epoch_ends[:-1], epoch_ends)]
    steady = statistics.median(epochs[1:]) if len(epochs) > 1 else epochs[0]
    out = {
        "total_s": epoch_ends[-1] - t_start if epoch_ends else None,
        "epoch_s": epochs,
        "first_epoch_s": epochs[0],
        "steady_epoch_s": steady,
        "img_per_s": n_samples / steady if steady else None,
    }
    out.update(extra or {})
    return out


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip() + f" ({os.cpu_count()} cores)"
    except OSError:
        pass
    return (platform.processor() or "cpu") + f" ({os.cpu_count()} cores)"


def device_info(backend):
    """A short description of the device the worker ran on."""
    info = {"backend": backend, "host": platform.node(), "cpus": os.cpu_count()}
    try:
        if backend == "jax":
            import jax

            d = jax.devices()[0]
            info.update(platform=d.platform,
                        device=_cpu_name() if d.platform == "cpu" else getattr(d, "device_kind", str(d)),
                        jax=jax.__version__)
        elif backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            info.update(platform="gpu" if gpus else "cpu",
                        device=(tf.config.experimental.get_device_details(gpus[0]).get("device_name")
                                if gpus else _cpu_name()),
                        tensorflow=tf.__version__)
        elif backend == "torch":
            import torch

            cuda = torch.cuda.is_available()
            info.update(platform="gpu" if cuda else "cpu",
                        device=torch.cuda.get_device_name(0) if cuda else _cpu_name(),
                        torch=torch.__version__)
    except Exception as e:  # noqa: BLE001 - informational only
        info["device_error"] = str(e)
    try:
        import keras

        info["keras"] = keras.__version__
    except ImportError:
        pass
    return info


def fmt(v, spec=".2f", none="-"):
    return none if v is None else format(v, spec)


def table(rows, columns):
    """A GitHub-markdown table from dict rows; ``columns`` is a list of (header, key, format)."""
    head = "| " + " | ".join(c[0] for c in columns) + " |"
    sep = "| " + " | ".join("---" for _ in columns) + " |"
    body = []
    for r in rows:
        cells = []
        for _, key, spec in columns:
            v = r.get(key)
            cells.append(fmt(v, spec) if isinstance(v, (int, float)) and spec else ("-" if v is None else str(v)))
        body.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, sep] + body)


def save_json(name, payload):
    """Write ``payload`` to ``benchmarks/results/<name>-<timestamp>.json``; return the path."""
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json")
    with open(path, "w") as f:
        json.dump(payload, f, indent=1, default=str)
    return path
