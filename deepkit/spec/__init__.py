"""The declarative model language: specs as data, parsed into Keras layers and graphs.

The models built from specs (``deepkit.Model``, ``deepkit.Sequential``, ``deepkit.from_spec``,
``deepkit.to_spec``) live in :mod:`deepkit.core`; the language imports nothing from there, by any route.

Example:
    >>> from deepkit.spec import format_spec
    >>> print(format_spec({"input_shape": [3], "layers": [{"Dense": 2}]}, "yaml").strip())
    input_shape: [3]
    layers:
    - {Dense: 2}
"""

from deepkit.spec.block import Block
from deepkit.spec.build import format_spec
from deepkit.spec.nodes import Group, Parallel, Repeat, Residual, SideOutput
from deepkit.spec.parse import LIMITS, load_document, read_source, spec_limits
from deepkit.spec.registry import layer_names, register_layer

__all__ = [
    "format_spec", "Residual", "Parallel", "Repeat", "Group",
    "Block", "SideOutput", "register_layer", "layer_names", "load_document", "read_source", "spec_limits", "LIMITS",
]
