"""deepkit: Keras-style deep learning with declarative layer stacking, classic models and visualization.

Example:
    >>> import deepkit
    >>> model = deepkit.Sequential([{"Dense": {"units": 16, "activation": "relu"}},
    ...                             {"Dense": 3}], input_shape=(4,))
    >>> model.count_params()
    131
"""

import importlib
import os
import sys
import types

from deepkit.errors import DataError, DeepkitError, SpecError

__version__ = "0.1.0"

_SUBPACKAGES = ("datasets", "models", "train", "viz", "recipes", "layers", "distribute")

# Public names and the module that defines them: loaded at import, except for the `deepkit` command,
# where they load on first use so that its --help and `models` do not start Keras and its backend.
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


class _Package(types.ModuleType):
    """The package module: ``deepkit.summary`` stays the function when the module of that name loads."""

    def __setattr__(self, name, value):
        # Importing the submodule deepkit.summary binds it on the package; the public name is its function.
        if name == "summary" and isinstance(value, types.ModuleType):
            value = value.summary
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def _started_as_command():
    """Whether this import is the ``deepkit`` command's (or ``python -m deepkit.<module>``'s).

    Those load what each subcommand needs, so ``deepkit --help`` answers without starting Keras. Any
    other ``import deepkit`` (a script, a notebook, the tests) loads the model classes at once, which
    registers them with Keras: ``import deepkit`` then ``keras.saving.load_model`` works.
    """
    first = os.path.basename(sys.argv[0]) if getattr(sys, "argv", None) else ""
    return first in ("deepkit", "deepkit.exe", "-m")  # "-m": deepkit is the package of the module run


if not _started_as_command():
    from deepkit.core import Model, Sequential, from_spec, to_spec  # noqa: E402,F401
    from deepkit.spec import Group, Parallel, Repeat, Residual, register_layer  # noqa: E402,F401
    from deepkit.summary import count_macs, summary  # noqa: E402,F401


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_SUBPACKAGES))


__all__ = [
    "Model", "Sequential", "from_spec", "to_spec", "Residual", "Parallel", "Repeat", "Group", "register_layer",
    "count_macs", "summary", "SpecError", "DataError", "DeepkitError", *_SUBPACKAGES,
]
