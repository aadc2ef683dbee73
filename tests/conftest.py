"""Shared test set-up: headless plotting, fixed seeds, quiet TensorFlow logs, backend markers, timeouts.

Markers (registered in pyproject.toml, documented in CONTRIBUTING.md):

- ``@pytest.mark.backend_independent``: the test does not depend on the Keras backend (spec parsing
  without building, file formats, argument errors, docs checks). It runs on one backend only,
  ``DEEPKIT_TEST_ONCE_BACKEND`` (default ``tensorflow``), and is skipped on the others, so the suite
  run once per backend (tools/test-all.sh) runs it once. ``DEEPKIT_TEST_ONCE_BACKEND=any`` runs it on
  every backend.
- ``@pytest.mark.backends("tensorflow", ..., reason="why")``: the test is meaningful only on the named
  backends and is skipped on the others.
- ``@pytest.mark.slow``: long-running; with pytest-timeout installed it gets ``SLOW_TIMEOUT`` seconds
  instead of the default of pyproject.toml (``timeout``), unless it carries its own
  ``@pytest.mark.timeout(...)``.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
# XLA's cheap LLVM pipeline for the tests' thousands of small programs: the jax pass spends most of its
# time compiling, and this cuts it by about 30 % (the same operations, no fast-math; TensorFlow's XLA reads
# the same flags). Child processes inherit it. Benchmarks never run under it.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = ("--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true "
                               + os.environ.get("XLA_FLAGS", "")).strip()
# Tests never read the real datasets: a DEEPKIT_DATA_DIR of the developer (deepkit.datasets.resolve) is ignored.
os.environ.pop("DEEPKIT_DATA_DIR", None)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

SLOW_TIMEOUT = 1200
"""Seconds a ``slow`` test may run (the default for the others is pyproject.toml's ``timeout``)."""


def once_backend():
    """The backend that runs the ``backend_independent`` tests (``"any"``: every backend)."""
    return os.environ.get("DEEPKIT_TEST_ONCE_BACKEND", "tensorflow")


def pytest_collection_modifyitems(config, items):
    backend = keras.backend.backend()
    once = once_backend()
    has_timeout = config.pluginmanager.hasplugin("timeout")
    for item in items:
        if item.get_closest_marker("backend_independent") and once not in ("any", backend):
            item.add_marker(pytest.mark.skip(
                reason=f"backend-independent: runs once, on the {once} backend (DEEPKIT_TEST_ONCE_BACKEND)"))
        for mark in item.iter_markers("backends"):
            if not mark.args:
                raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.backends needs backend names")
            if backend not in mark.args:
                why = mark.kwargs.get("reason", f"only meaningful on {' / '.join(mark.args)}")
                item.add_marker(pytest.mark.skip(reason=f"{why} (this run's backend: {backend})"))
        if has_timeout and item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
    np.random.seed(1234)
    yield


@pytest.fixture
def backend():
    return keras.backend.backend()
