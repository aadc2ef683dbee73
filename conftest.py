"""Doctest collection of the package: skip a backend's modules whose framework is not installed.

``deepkit/backend/<framework>/`` imports its framework at module level (it is only loaded for that Keras
backend); where the framework is absent (e.g. no PyTorch in the lowest-versions environment) its doctests
cannot be collected, and there is nothing of it to test.
"""

import importlib.util
import pathlib

_FRAMEWORK_DIRS = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
_BACKEND = pathlib.Path(__file__).resolve().parent / "deepkit" / "backend"


def pytest_ignore_collect(collection_path, config):
    path = pathlib.Path(collection_path).resolve()
    for folder, module in _FRAMEWORK_DIRS.items():
        if (path == _BACKEND / folder or _BACKEND / folder in path.parents) \
                and importlib.util.find_spec(module) is None:
            return True
    return None
