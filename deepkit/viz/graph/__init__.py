"""The graph of a Keras model as the visualizations see it: the one place that walks it.

Two modules: :mod:`.lookup` (finding layers, walking the graph) and :mod:`.submodels`
(feature, intervention and logit models); every name is available from this package.

Every visualization needs "the output of layer X for input images". Keras gives that with
``keras.Model(model.inputs, layer.output)``, which fails with *"Graph disconnected"* as soon
as the layer lives inside a nested model (a ResNet stage, a backbone wrapped in a classifier,
a ``Sequential`` inside a functional model). This module finds layers (:func:`resolve_layer`,
:func:`resolve_with_chain`), builds sub-models that reach into nested models
(:func:`feature_model`, :func:`symbolic_outputs`), the model that stops before a final
softmax (:func:`logit_model`), the model that lets a perturbation be added to a layer
(:func:`intervention_model`), and walks a tensor's history back to the input
(:func:`producer`, :func:`inner_output`; the receptive fields of
:mod:`deepkit.viz.receptive` use them). Keras' private graph attributes are read only
through :mod:`deepkit.backend.keras_internals`.

Layers are named by index (``model.layers[i]``, negative allowed), by name, by a ``/`` path
through nested models (``"backbone/stage2/conv1"``), by a unique name anywhere in the nesting,
or passed as the layer object itself.

Example:
    >>> import keras
    >>> from deepkit.viz import graph
    >>> inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d")], name="body")
    >>> x = keras.Input((4,))
    >>> model = keras.Model(x, keras.layers.Dense(2, activation="softmax")(inner(x)))
    >>> graph.layer_path(model, "d"), tuple(graph.feature_model(model, "body/d").output.shape)
    ('body/d', (None, 3))
"""

from deepkit.viz.graph.lookup import (
    find_chain,
    graph_of,
    inner_output,
    is_container,
    last_conv_layer,
    layer_path,
    list_layers,
    nodes_of,
    producer,
    resolve_layer,
    resolve_with_chain,
    spatial_layers,
    walk,
)
from deepkit.viz.graph.submodels import (
    PreActivation,
    feature_model,
    intervention_model,
    logit_model,
    num_classes,
    symbolic_outputs,
)

__all__ = [
    "graph_of",
    "is_container",
    "walk",
    "find_chain",
    "resolve_with_chain",
    "resolve_layer",
    "layer_path",
    "list_layers",
    "nodes_of",
    "producer",
    "inner_output",
    "spatial_layers",
    "last_conv_layer",
    "PreActivation",
    "symbolic_outputs",
    "feature_model",
    "intervention_model",
    "logit_model",
    "num_classes",
]
