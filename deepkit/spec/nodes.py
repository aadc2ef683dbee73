"""The building blocks of a spec: a layer, a residual block, parallel branches, a repeat, a group.

Each node builds itself onto a Keras tensor (functional API) and writes itself back as plain data
(``to_data``), so a model made from a spec can always print the spec it came from. The parts live in
modules with one job each, re-exported here:

- :mod:`deepkit.spec.context`: ``Where`` (a node's place in its spec, for errors), ``BuildContext``
  (layer naming during one build);
- :mod:`deepkit.spec.objects`: initializers, regularizers and constraints as spec data;
- :mod:`deepkit.spec.layer_entry`: ``LayerNode`` (one layer entry), ``non_default_config``,
  ``build_sequence``;
- :mod:`deepkit.spec.combinators`: ``Residual``, ``Parallel``, ``Repeat``, ``Group``, ``SideOutput``.

Example:
    >>> import keras
    >>> from deepkit.spec.nodes import Residual, BuildContext
    >>> block = Residual([{"Dense": 4}, {"Dense": 4}], activation="relu")
    >>> y = block.build(keras.Input((4,)), BuildContext())
    >>> tuple(y.shape)
    (None, 4)
    >>> block.to_data()
    {'residual': {'layers': [{'Dense': 4}, {'Dense': 4}], 'activation': 'relu'}}
"""


from deepkit.naming import to_snake_case
from deepkit.spec.combinators import MERGES, Group, Parallel, Repeat, Residual, SideOutput
from deepkit.spec.context import BuildContext, Where, plain_message
from deepkit.spec.layer_entry import (BASE_LAYER_KWARGS, LAYER_ARGUMENTS, LayerNode, Node, as_nodes, build_sequence,
                                      is_auto_name, non_default_config, policy_name)
from deepkit.spec.objects import expand_object, plain_data, short_object

__all__ = [
    "BASE_LAYER_KWARGS", "LAYER_ARGUMENTS", "MERGES", "BuildContext", "Group", "LayerNode", "Node", "Parallel",
    "Repeat", "Residual", "SideOutput", "Where", "as_nodes", "build_sequence", "expand_object", "is_auto_name",
    "non_default_config", "plain_data", "plain_message", "policy_name", "short_object", "to_snake_case",
]
