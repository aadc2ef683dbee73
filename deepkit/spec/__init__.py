"""The declarative model language: specs as data, parsed into Keras layers and graphs.

``Model``, ``Sequential``, ``from_spec``, ``to_spec`` and ``build_document`` live in :mod:`deepkit.core`
(the models that train). The language imports nothing from there, by any route; ``deepkit.core`` offers
them here too when it loads (``import deepkit`` loads it), with the former modules ``deepkit.spec.model``
and ``deepkit.spec.sequential``.

Example:
    >>> from deepkit.spec import from_spec
    >>> from_spec([{"Dense": 2}], input_shape=(3,)).count_params()
    8
"""

from deepkit.spec.block import Block
from deepkit.spec.build import format_spec
from deepkit.spec.nodes import Group, Parallel, Repeat, Residual, SideOutput
from deepkit.spec.parse import LIMITS, load_document, read_source, spec_limits
from deepkit.spec.registry import layer_names, register_layer

__all__ = [
    "Model", "Sequential", "from_spec", "to_spec", "format_spec", "build_document", "Residual", "Parallel", "Repeat", "Group",
    "Block", "SideOutput", "register_layer", "layer_names", "load_document", "read_source", "spec_limits", "LIMITS",
]
