#!/usr/bin/env bash
# Run the whole test suite the way CI does: every test (slow ones included) on the tensorflow backend,
# then the non-slow tests again on the jax backend, where the tests marked backend_independent (spec
# parsing, file formats, argument errors, docs and packaging checks; see CONTRIBUTING.md) are skipped: they
# ran on tensorflow. The slow tests (end-to-end CLI runs in subprocesses, browser tests, SIGKILL resumes,
# the deep zoo models, the cross-backend comparisons, which start every backend themselves) run once, on
# tensorflow, to keep CI within its time; DEEPKIT_JAX_SLOW=1 runs them on jax too.
# The documentation build runs in the tensorflow pass (tests/docs/test_build.py). Each test has a
# timeout (pytest-timeout; pyproject.toml and tests/conftest.py), and the 25 slowest are listed.
# Tests run in parallel on every core (pytest-xdist, in the test extra; DEEPKIT_TEST_WORKERS=0 runs them
# in this process): each test is independent (its own temporary files, seeds set per test).
# Run from the repository root, inside the environment where deepkit is installed with its test extra:
# pip install -e ".[test]"
set -euo pipefail
export TF_CPP_MIN_LOG_LEVEL=2 MPLBACKEND=Agg PYTHONHASHSEED=0 DEEPKIT_TEST_ONCE_BACKEND=tensorflow
status=0
for backend in tensorflow jax; do
  echo "== pytest, KERAS_BACKEND=$backend"
  start=$(date +%s)
  marker=()
  if [ "$backend" = jax ] && [ "${DEEPKIT_JAX_SLOW:-0}" != 1 ]; then marker=(-m "not slow"); fi
  KERAS_BACKEND=$backend python -m pytest -q -p no:cacheprovider -n "${DEEPKIT_TEST_WORKERS:-auto}" --durations=25 \
    "${marker[@]}" || status=1
  echo "== KERAS_BACKEND=$backend took $(( $(date +%s) - start )) s"
done
exit $status
