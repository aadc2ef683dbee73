"""deepkit: Keras-style deep learning with declarative layer stacking, classic models and visualization.

Example:
    >>> import deepkit
    >>> model = deepkit.Sequential([{"Dense": {"units": 16, "activation": "relu"}},
    ...                             {"Dense": 3}], input_shape=(4,))
    >>> model.count_params()
    131
"""

import importlib

from deepkit.errors import DataError, DeepkitError, SpecError

__version__ = "0.1.0"

_SUBPACKAGES = ("datasets", "models", "train", "viz", "recipes", "layers", "distribute")

# Public names and the module that defines them. Everything loads on first use, so `import deepkit`
# (and the `deepkit` command's --help) does not start Keras and its backend.
_LAZY = {
    "Model": "deepkit.core", "Sequential": "deepkit.core", "from_spec": "deepkit.core", "to_spec": "deepkit.core",
    "Residual": "deepkit.spec", "Parallel": "deepkit.spec", "Repeat": "deepkit.spec", "Group": "deepkit.spec",
    "register_layer": "deepkit.spec", "count_macs": "deepkit.summary", "summary": "deepkit.summary",
}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f"deepkit.{name}")
    else:
        raise AttributeError(f"module 'deepkit' has no attribute '{name}'")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_SUBPACKAGES))


__all__ = [
    "Model", "Sequential", "from_spec", "to_spec", "Residual", "Parallel", "Repeat", "Group", "register_layer",
    "count_macs", "summary", "SpecError", "DataError", "DeepkitError", *_SUBPACKAGES,
]
