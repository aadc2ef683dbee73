"""Find layers in a model and build sub-models that expose their outputs.

The public face of :mod:`deepkit.viz.graph`, which does the work: layers are named by index
(``model.layers[i]``, negative allowed), by name, by a ``/`` path through nested models
(``"backbone/stage2/conv1"``), by a unique name anywhere in the nesting, or passed as the
layer object itself; :func:`feature_model` reaches into nested models, where
``keras.Model(model.inputs, layer.output)`` fails with *"Graph disconnected"*.

Example:
    >>> import keras
    >>> from deepkit.viz import layers
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c")])
    >>> layers.last_conv_layer(model)
    'c'
"""

from deepkit.viz.graph import (
    PreActivation,
    feature_model,
    intervention_model,
    last_conv_layer,
    layer_path,
    list_layers,
    resolve_layer,
    spatial_layers,
)

__all__ = [
    "resolve_layer",
    "layer_path",
    "list_layers",
    "feature_model",
    "last_conv_layer",
    "spatial_layers",
    "intervention_model",
    "PreActivation",
]
