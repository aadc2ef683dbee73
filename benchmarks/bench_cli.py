"""How fast the ``deepkit`` command answers: wall time of ``--help``, ``models`` and ``train --help`` in fresh
processes, against the time to import Keras alone (what every command paid before Keras became lazy), and
what the first command imports (``python -X importtime``).

    python benchmarks/bench_cli.py [--repeat 5]

Prints a table (median seconds of ``--repeat`` runs) and writes ``benchmarks/results/bench_cli.json``.
The target: ``deepkit --help`` and ``deepkit models`` under 1 s.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import ROOT, device_info, save_json, table  # noqa: E402

_SCRIPT = os.path.join(os.path.dirname(sys.executable), "deepkit")  # the installed console script
_DEEPKIT = [_SCRIPT] if os.path.exists(_SCRIPT) else [sys.executable, "-m", "deepkit.cli"]
COMMANDS = {
    "deepkit --help": [*_DEEPKIT, "--help"],
    "deepkit models": [*_DEEPKIT, "models"],
    "deepkit train --help": [*_DEEPKIT, "train", "--help"],
    "python -c 'import keras' (reference)": [sys.executable, "-c", "import keras"],
}


def wall(args, env):
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{args} failed: {done.stderr[-2000:]}")
    return seconds


def heaviest_imports(args, env, top=5):
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "deepkit.cli", *args[len(_DEEPKIT):]],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match and len(match.group(3)) <= 2:  # top-level imports only
            rows.append((int(match.group(2)) / 1e6, match.group(4)))
    return sorted(rows, reverse=True)[:top]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": ROOT, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow")}
    results = {}
    for name, command in COMMANDS.items():
        runs = [wall(command, env) for _ in range(args.repeat)]
        results[name] = {"median_s": statistics.median(runs), "min_s": min(runs), "runs": runs}
    rows = [{"command": name, "median": r["median_s"], "min": r["min_s"],
             "ok": "-" if "reference" in name else ("yes" if r["median_s"] < 1.0 else "NO")}
            for name, r in results.items()]
    print(table(rows, [("command", "command", None), ("median s", "median", ".3f"), ("min s", "min", ".3f"),
                       ("under 1 s", "ok", None)]))
    imports = heaviest_imports(COMMANDS["deepkit models"], env)
    print("\nheaviest top-level imports of `deepkit models`: "
          + ", ".join(f"{name} {seconds:.3f} s" for seconds, name in imports))
    save_json("bench_cli", {"results": results, "imports_of_models": imports,
                            "device": device_info(env["KERAS_BACKEND"]), "repeat": args.repeat})
    return 0


if __name__ == "__main__":
    sys.exit(main())
