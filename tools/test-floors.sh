#!/usr/bin/env bash
# Test deepkit against the lowest versions it supports (the floors of pyproject.toml, pinned in
# ci/constraints-floors.txt): a fresh virtual environment with exactly those versions, then the non-slow
# tests of what can differ between versions on the tensorflow backend, and on the jax backend the tests
# of the code that uses Keras' jax trainer internals (fast fit, checkpoints). Exits non-zero when the
# install or any test fails.
#
# What can differ between versions is every call into Keras, TensorFlow, jax, numpy, scikit-learn,
# matplotlib, PyYAML and Pillow. The floors run (FLOORS_PATHS below) every module's doctests (each public
# function's example: every call into those libraries is made at least once) and the unit tests of the
# packages whose code leans on the libraries' behaviour: the backend boundary, models and specs (layer
# signatures, serialization, saving), training (Keras' trainer internals, callbacks), datasets, the CLI
# and the summary, plus the visualization engine's compiled calls (tests/viz/test_engine.py). Left out,
# because the newest-version run covers them and a lower version cannot change their outcome:
# - the rest of tests/viz and tests/playground: numbers of the methods against numpy and Captum
#   references, figures and the report built from the viz functions (whose examples run here), the
#   playground server; they are most of the suite's time, which CI's budget (README) does not allow
#   three times;
# - tests/docs: repository files (gallery layout, API reference, page snippets) and the docs build,
#   whose extra (sphinx) is not part of the floors; the code the pages run is unit-tested.
# - tests/test_cli_damaged_files.py: deepkit's own archive checks (zipfile, HDF5 signature) run in
#   eight fresh interpreters before Keras sees the file; Keras' own wording is not asserted.
# (tests/models/test_convert.py needs torch, which the floors do not pin: it skips itself.)
# Run from the repository root:  bash tools/test-floors.sh            (install, then test)
#                                bash tools/test-floors.sh install    (only build the environment)
#                                bash tools/test-floors.sh test       (only run the tests in it)
# The environment goes to $DEEPKIT_FLOORS_VENV (default /tmp/deepkit-floors-venv); python3 must be 3.10+.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${DEEPKIT_FLOORS_VENV:-/tmp/deepkit-floors-venv}
step=${1:-all}
case "$step" in all|install|test) ;; *) echo "usage: $0 [all|install|test]. Received: $step" >&2; exit 2 ;; esac

if [ "$step" != test ]; then
  start=$(date +%s)
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -c ci/constraints-floors.txt -e ".[test]"
  # Every pin must be what got installed (a constraint names only what pip would install anyway).
  "$venv/bin/python" - <<'EOF'
import importlib.metadata as md
wrong = []
for line in open("ci/constraints-floors.txt"):
    line = line.split("#")[0].strip()
    if line:
        name, version = (s.strip() for s in line.split("=="))
        try:
            got = md.version(name)
        except md.PackageNotFoundError:
            got = "not installed"
        if got != version:
            wrong.append(f"{name}: pinned {version}, installed {got}")
if wrong:
    raise SystemExit("floor environment differs from ci/constraints-floors.txt: " + "; ".join(wrong))
EOF
  echo "== floors installed in $venv in $(( $(date +%s) - start )) s"
fi

if [ "$step" != install ]; then
  FLOORS_PATHS=(deepkit tests/backend tests/core tests/datasets tests/integration tests/layers tests/models
                tests/spec tests/train tests/test_cli.py tests/test_cli_inputs.py tests/test_cli_train.py
                tests/test_distribute.py tests/test_probabilities.py tests/test_recipes.py tests/test_summary.py
                tests/viz/test_engine.py)
  start=$(date +%s)
  echo "== pytest -m 'not slow', KERAS_BACKEND=tensorflow, lowest supported versions ($(grep -v '^#' ci/constraints-floors.txt | tr '\n' ' '))"
  status=0
  TF_CPP_MIN_LOG_LEVEL=2 MPLBACKEND=Agg PYTHONHASHSEED=0 KERAS_BACKEND=tensorflow \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider -m "not slow" -n "${DEEPKIT_TEST_WORKERS:-auto}" \
    --durations=15 "${FLOORS_PATHS[@]}" \
    || status=$?
  echo "== pytest, KERAS_BACKEND=jax, lowest supported versions: fast fit and checkpoints"
  TF_CPP_MIN_LOG_LEVEL=2 MPLBACKEND=Agg PYTHONHASHSEED=0 KERAS_BACKEND=jax \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider -m "not slow" tests/integration/test_floors.py \
    "tests/train/test_fast.py::test_same_results_as_keras_fit" tests/train/test_checkpoint.py || status=$?
  echo "== floor tests took $(( $(date +%s) - start )) s"
  exit $status
fi
