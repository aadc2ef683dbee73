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
from deepkit.core import Model, Sequential, from_spec, to_spec
from deepkit.spec import Group, Parallel, Repeat, Residual, register_layer
from deepkit.summary import count_macs, summary

__version__ = "0.1.0"

_SUBPACKAGES = ("datasets", "models", "train", "viz", "recipes", "layers", "distribute")


def __getattr__(name):
    # Subpackages load on first use so `import deepkit` stays light (viz pulls in matplotlib).
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"deepkit.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'deepkit' has no attribute '{name}'")


__all__ = [
    "Model", "Sequential", "from_spec", "to_spec", "Residual", "Parallel", "Repeat", "Group", "register_layer",
    "count_macs", "summary", "SpecError", "DataError", "DeepkitError", *_SUBPACKAGES,
]
