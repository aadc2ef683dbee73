#!/usr/bin/env bash
# Run the whole test suite the way CI does: every test (slow ones included) on the tensorflow backend,
# again on the jax backend, then the documentation build. Run from the repository root, inside the
# environment where deepkit is installed with its test extra: pip install -e ".[test]"
set -euo pipefail
export TF_CPP_MIN_LOG_LEVEL=2 MPLBACKEND=Agg PYTHONHASHSEED=0
status=0
echo "== pytest, KERAS_BACKEND=tensorflow"
KERAS_BACKEND=tensorflow python -m pytest -q -p no:cacheprovider || status=1
echo "== pytest, KERAS_BACKEND=jax"
KERAS_BACKEND=jax python -m pytest -q -p no:cacheprovider || status=1
exit $status
