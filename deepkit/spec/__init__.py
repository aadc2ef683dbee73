"""The declarative model language: specs as data, parsed into Keras layers.

Example:
    >>> from deepkit.spec import from_spec
    >>> from_spec([{"Dense": 2}], input_shape=(3,)).count_params()
    8
"""

from deepkit.spec.model import Model, build_document, format_spec, from_spec, to_spec
from deepkit.spec.nodes import Group, Parallel, Repeat, Residual, SideOutput
from deepkit.spec.parse import LIMITS, load_document, read_source, spec_limits
from deepkit.spec.registry import layer_names, register_layer
from deepkit.spec.sequential import Block, Sequential

__all__ = [
    "Model", "Sequential", "from_spec", "to_spec", "format_spec", "build_document", "Residual", "Parallel", "Repeat", "Group",
    "Block", "SideOutput", "register_layer", "layer_names", "load_document", "read_source", "spec_limits", "LIMITS",
]
