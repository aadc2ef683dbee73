"""The declarative model language: specs as data, parsed into Keras layers and graphs.

``Model``, ``Sequential``, ``from_spec``, ``to_spec`` and ``build_document`` live in :mod:`deepkit.core`
(the models that train); they are offered here too, resolved on first use, so that importing the
language does not import the models.

Example:
    >>> from deepkit.spec import from_spec
    >>> from_spec([{"Dense": 2}], input_shape=(3,)).count_params()
    8
"""

import importlib

from deepkit.spec.block import Block
from deepkit.spec.build import format_spec
from deepkit.spec.nodes import Group, Parallel, Repeat, Residual, SideOutput
from deepkit.spec.parse import LIMITS, load_document, read_source, spec_limits
from deepkit.spec.registry import layer_names, register_layer

_FROM_CORE = ("Model", "Sequential", "from_spec", "to_spec", "build_document")
_FORMER_MODULES = ("model", "sequential")  # the models' former modules, kept as aliases


def __getattr__(name):
    if name in _FROM_CORE:
        return getattr(importlib.import_module("deepkit.core"), name)
    if name in _FORMER_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Model", "Sequential", "from_spec", "to_spec", "format_spec", "build_document", "Residual", "Parallel", "Repeat", "Group",
    "Block", "SideOutput", "register_layer", "layer_names", "load_document", "read_source", "spec_limits", "LIMITS",
]
