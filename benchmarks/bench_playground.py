"""How fast ``deepkit playground`` trains and answers: updates per second and latency, over the real protocol.

    python benchmarks/bench_playground.py [--backends tensorflow,jax] [--seconds 5]

For a few network sizes (500 points, 250 for training, batch 10: 25 steps per update, a 40 x 40 map
grid), a fake page drives a server on a free loopback port over HTTP, as the browser does:

* ``build s``: opening a page (points, model, compiled loops, first frame);
* ``first step s``: the first step (tracing the programs);
* ``step ms``: median round trip of a ``step`` request (one update: one pass over the training points, its
  full batches in one compiled call, then the frame's forward pass over grid and points);
* ``updates/s``: epochs trained per second while playing, ``frames/s``: frames the long-polling page
  received per second (it takes the latest, skipping any it was too slow for), ``frame KiB``: one frame's JSON;
* ``pause ms``: round trip of ``pause``, and ``after pause``: updates that still landed after it answered.

Prints a table per backend and writes ``benchmarks/results/bench_playground-<time>.json``. The target is
at least 10 updates per second for the 2 x 8 tanh network on 2 CPU cores.
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import device_info, run_worker, save_json, table  # noqa: E402

SIZES = {
    "2 x 8 tanh": "networkShape=8,8",
    "4,2 tanh (Playground start)": "networkShape=4,2",
    "4 x 16 relu": "networkShape=16,16,16,16&activation=relu",
    "6 x 32 tanh, 7 features": "networkShape=32,32,32,32,32,32&features=x,y,xSquared,ySquared,xTimesY,sinX,sinY",
}


def measure(seconds):
    """One backend, in this process: every size of :data:`SIZES`."""
    import keras

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from tests.playground.client import Client, running_server

    rows = []
    with running_server() as server:
        for name, query in SIZES.items():
            c = Client(server.url)
            t0 = time.perf_counter()
            c.open(query + "&optimizer=adam&learningRate=0.01")
            build = time.perf_counter() - t0
            t0 = time.perf_counter()
            c.control("step")
            first = time.perf_counter() - t0
            steps = []
            for _ in range(7):
                t0 = time.perf_counter()
                answer = c.control("step")
                steps.append(time.perf_counter() - t0)
            frame_kib = len(json.dumps(answer["frame"])) / 1024
            epoch0 = answer["frame"]["epoch"]
            c.control("play")
            t0 = time.perf_counter()
            frames, seq, frame = 0, answer["frame"]["seq"], answer["frame"]
            while time.perf_counter() - t0 < seconds:
                frame = c.frame(after=seq, wait=2)["frame"]
                if frame["seq"] > seq:
                    frames += 1
                    seq = frame["seq"]
            elapsed = time.perf_counter() - t0
            t1 = time.perf_counter()
            paused = c.control("pause")
            pause_ms = (time.perf_counter() - t1) * 1000
            time.sleep(0.5)
            after = c.frame(wait=0)["frame"]["epoch"] - paused["frame"]["epoch"]
            rows.append({"network": name, "build s": build, "first step s": first,
                         "step ms": statistics.median(steps) * 1000,
                         "updates/s": (frame["epoch"] - epoch0) / elapsed, "frames/s": frames / elapsed,
                         "frame KiB": frame_kib, "pause ms": pause_ms, "after pause": after,
                         "test loss": frame["loss"]["test"]})
            c.request("POST", "/api/close", {"session": c.session})
    return {"backend": keras.backend.backend(), "device": device_info(keras.backend.backend()), "rows": rows}


COLUMNS = [("network", "network", None), ("build s", "build s", ".2f"), ("first step s", "first step s", ".2f"),
           ("step ms", "step ms", ".1f"), ("updates/s", "updates/s", ".1f"), ("frames/s", "frames/s", ".1f"),
           ("frame KiB", "frame KiB", ".1f"), ("pause ms", "pause ms", ".1f"), ("after pause", "after pause", "d"),
           ("test loss", "test loss", ".3f")]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="tensorflow,jax")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of play per network (default 5)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(args.seconds)))
        return 0
    results = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        out = run_worker("benchmarks.bench_playground", ["--worker", "--seconds", args.seconds], backend,
                         timeout=900)
        if "error" in out:
            print(f"{backend}: {out['error']}")
            continue
        results.append(out)
        print(f"\n{backend} ({out['device'].get('device')}, {out['device'].get('cpus')} cpus, "
              f"load {os.getloadavg()[0]:.1f}):")
        print(table(out["rows"], COLUMNS))
    print("\nwritten:", save_json("bench_playground", {"seconds": args.seconds, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
