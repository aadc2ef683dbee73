"""Sub-models that share a model's weights: feature, intervention and logit models.

:func:`feature_model` exposes the outputs of any layers, nested models included (where
``keras.Model(model.inputs, layer.output)`` fails with *"Graph disconnected"*);
:func:`intervention_model` lets a perturbation be added to one layer's output (Grad-CAM's
gradient with respect to a feature map on every backend); :func:`logit_model` stops before a
final softmax or sigmoid.

Example:
    >>> import keras
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="h"),
    ...                           keras.layers.Dense(4, activation="softmax")])
    >>> [tuple(t.shape) for t in feature_model(model, ["h"]).outputs], num_classes(model)
    ([(None, 2)], 4)
"""

import keras

from deepkit.backend import keras_internals
from deepkit.probabilities import squashing_activation
from deepkit.viz.graph.lookup import (
    graph_of,
    is_container,
    nodes_of,
    producer,
    resolve_with_chain,
)

__all__ = [
    "PreActivation",
    "symbolic_outputs",
    "feature_model",
    "intervention_model",
    "logit_model",
    "num_classes",
]


class PreActivation(keras.layers.Layer):
    """Calls a layer with its activation replaced by the identity (weights shared).

    Used for pre-activation (e.g. pre-ReLU) outputs, which feature visualization optimizes to
    avoid the zero gradients of inactive ReLUs (as Lucid's ``*_pre_relu`` tensors), and for
    class logits before a final softmax.

    Args:
        inner: A layer with an ``activation`` attribute (Dense, Conv2D, ...).

    Returns:
        A layer computing ``inner``'s output without its activation.

    Example:
        >>> import numpy as np, keras
        >>> dense = keras.layers.Dense(2, activation="relu", kernel_initializer="ones")
        >>> _ = dense(np.zeros((1, 2), "float32"))
        >>> keras.ops.convert_to_numpy(PreActivation(dense)(-np.ones((1, 2), "float32"))).tolist()
        [[-2.0, -2.0]]
    """

    def __init__(self, inner, **kwargs):
        kwargs.setdefault("name", f"{inner.name}_pre_activation")
        super().__init__(**kwargs)
        self.inner = inner

    def call(self, x):
        activation = self.inner.activation
        self.inner.activation = keras.activations.linear
        try:
            return self.inner.call(x)
        finally:
            self.inner.activation = activation


def _pre_activation_tensor(layer, node):
    """Pre-activation output of ``layer`` at ``node``: its input for activation layers."""
    args = node.arguments.args
    activation = getattr(layer, "activation", None)
    if activation is not None and not isinstance(layer, keras.layers.Activation):
        if getattr(activation, "__name__", "") == "linear":
            return node.outputs[0]
        return PreActivation(layer)(args[0])
    if isinstance(layer, (keras.layers.ReLU, keras.layers.Activation, keras.layers.LeakyReLU,
                          keras.layers.Softmax, keras.layers.ELU, keras.layers.PReLU)):
        return args[0]
    raise ValueError(
        f"Layer '{layer.name}' ({type(layer).__name__}) has no activation to remove, so it has "
        f"no pre-activation output. Received: layer={layer.name!r}"
    )


def symbolic_outputs(model, requests):
    """Symbolic tensors (in ``model``'s own graph) for the requested layers.

    Direct layers are read off their node in the graph; layers inside a nested model are
    obtained by calling that nested model's feature model on the nested model's inputs
    within this graph, which keeps everything connected.

    Args:
        model: A functional or Sequential model.
        requests: A list of ``(layer, chain)`` or ``(layer, chain, pre_activation)`` as
            :func:`resolve_with_chain` returns them.

    Returns:
        A list of symbolic tensors, one per request (a list for multi-output layers).

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, name="d")])
        >>> [tuple(t.shape) for t in symbolic_outputs(model, [resolve_with_chain(model, "d")])]
        [(None, 3)]
    """
    graph = graph_of(model)
    results = [None] * len(requests)
    nested = {}
    for i, request in enumerate(requests):
        layer, chain = request[0], request[1]
        pre = bool(request[2]) if len(request) > 2 else False
        if not chain and pre:
            nodes = nodes_of(graph, layer)
            if not nodes:
                raise ValueError(
                    f"Layer '{layer.name}' is in model '{model.name}' but not connected to its "
                    f"inputs. Received: layer={layer.name!r}"
                )
            results[i] = _pre_activation_tensor(layer, nodes[0])
            continue
        if not chain:
            if isinstance(layer, keras.layers.InputLayer) and layer.output is not None:
                # Input layers of this graph: their output is the graph input itself.
                for node in nodes_of(graph, layer):
                    results[i] = node.outputs[0]
                if results[i] is not None:
                    continue
            nodes = nodes_of(graph, layer)
            if not nodes:
                raise ValueError(
                    f"Layer '{layer.name}' is in model '{model.name}' but not connected to its "
                    f"inputs, so it has no output there. Received: layer={layer.name!r}"
                )
            outputs = nodes[0].outputs
            results[i] = outputs[0] if len(outputs) == 1 else list(outputs)
        else:
            nested.setdefault(id(chain[0]), (chain[0], []))[1].append((i, layer, chain[1:], pre))
    for container, items in nested.values():
        nodes = nodes_of(graph, container)
        if not nodes:
            raise ValueError(
                f"Nested model '{container.name}' is not connected to the inputs of "
                f"'{model.name}'. Received: layer={items[0][1].name!r}"
            )
        node = nodes[0]
        inner = graph_of(container)
        inner_outputs = symbolic_outputs(inner, [(layer, chain, pre) for _, layer, chain, pre in items])
        sub = keras.Model(inner.inputs, inner_outputs, name=f"{container.name}_features")
        args = node.arguments.args
        kwargs = {k: v for k, v in node.arguments.kwargs.items() if k in ("training", "mask")}
        outs = sub(*args, **kwargs)
        if not isinstance(outs, (list, tuple)):
            outs = [outs]
        for (i, _, _, _), out in zip(items, outs):
            results[i] = out
    return results


def feature_model(model, layers, name=None, pre_activation=False):
    """Build a model from ``model``'s inputs to the outputs of the requested layers.

    Works for layers of nested models (a backbone inside a classifier, ResNet stages,
    ``Sequential`` inside functional), where ``keras.Model(model.inputs, layer.output)``
    raises "Graph disconnected". The sub-model shares weights with ``model``.

    Args:
        model: A functional or Sequential ``keras.Model``.
        layers: One layer (index, name, ``/`` path or object, see :func:`resolve_layer`) or a
            list/tuple of them. A layer called several times (shared) contributes the output
            of its first call.
        name: Optional name of the returned model.
        pre_activation: Return each layer's output before its activation (``Conv2D(...,
            activation="relu")`` without the ReLU; for ``ReLU``/``Activation`` layers, their
            input).

    Returns:
        A functional ``keras.Model`` with ``model``'s inputs whose output is the requested
        layer's output (a single layer) or a list with one output per requested layer (a
        list or tuple was given).

    Raises:
        TypeError: For subclassed models (no graph to take outputs from).
        ValueError / IndexError: As :func:`resolve_layer`.

    Example:
        >>> import numpy as np, keras
        >>> inner = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, name="hidden")],
        ...                          name="body")
        >>> x = keras.Input((6,))
        >>> model = keras.Model(x, keras.layers.Dense(2, name="head")(inner(x)))
        >>> fm = feature_model(model, ["body/hidden", "head"])
        >>> [tuple(o.shape) for o in fm(np.zeros((5, 6), "float32"))]
        [(5, 4), (5, 2)]
    """
    single = not isinstance(layers, (list, tuple))
    requests = [
        resolve_with_chain(model, layer) + (pre_activation,)
        for layer in ([layers] if single else layers)
    ]
    if not requests:
        raise ValueError(f"feature_model needs at least one layer. Received: layers={layers!r}")
    graph = graph_of(model)
    outputs = symbolic_outputs(graph, requests)
    inputs = graph.inputs
    if isinstance(inputs, (list, tuple)) and len(inputs) == 1:
        inputs = inputs[0]
    return keras.Model(
        inputs, outputs[0] if single else outputs, name=name or f"{getattr(model, 'name', type(model).__name__)}_features"
    )


def _rebuild(graph, inputs, chain, target, delta, tapped):
    """Re-run ``graph`` symbolically on ``inputs``, adding ``delta`` to ``target``'s output.

    ``chain`` lists the nested models from ``graph`` down to ``target``. The nested model on
    the path is replaced by its own intervention model (called as one operation, so layer
    names stay unique); the (un-perturbed) output of ``target`` is stored in ``tapped``.
    """

    def operation_fn(op):
        if op is target:

            def call(*args, **kwargs):
                out = op(*args, **kwargs)
                if "a" in tapped:
                    return out  # shared layer: perturb its first call only
                tapped["a"] = out
                return keras.layers.Add(name=f"{op.name}_plus_delta")([out, delta])

            return call
        if chain and op is chain[0]:

            def call(*args, **kwargs):
                if "a" in tapped:
                    return op(*args, **kwargs)
                sub = _intervention(op, chain[1:], target)
                inner_inputs = args[0] if len(args) == 1 else list(args)
                act, out = sub([inner_inputs, delta])
                tapped["a"] = act
                return out

            return call
        return op

    return keras_internals.run_graph(graph, inputs, operation_fn)


def _intervention(model, chain, target, name=None):
    graph = graph_of(model)
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise ValueError(
            f"intervention_model needs models with one input and one output; model "
            f"'{model.name}' has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs."
        )
    shape = target.output.shape
    x = keras.Input(shape=graph.inputs[0].shape[1:], dtype=graph.inputs[0].dtype, name="x")
    delta = keras.Input(shape=tuple(shape[1:]), dtype=target.output.dtype, name="delta")
    tapped = {}
    out = _rebuild(graph, x, chain, target, delta, tapped)
    if isinstance(out, (list, tuple)):
        out = out[0]
    if "a" not in tapped:
        raise ValueError(
            f"Layer '{target.name}' is not connected to the inputs of '{model.name}'. "
            f"Received: layer={target.name!r}"
        )
    return keras.Model([x, delta], [tapped["a"], out], name=name or f"{model.name}_intervention")


def intervention_model(model, layer, name=None):
    """A model that exposes one layer's output and lets a perturbation be added to it.

    The returned model takes ``[inputs, delta]`` and returns ``[activation, outputs]``:
    ``activation`` is the layer's output for ``inputs`` and the rest of the network sees
    ``activation + delta`` instead. With ``delta = 0`` the outputs equal ``model``'s, and the
    gradient of any function of the outputs with respect to ``delta`` is its gradient with
    respect to the layer's activation: the quantity Grad-CAM needs, obtained on every
    backend without a tape that watches intermediate tensors. Nested models are rebuilt
    along the path to the layer; weights are shared with ``model``.

    Args:
        model: A functional or Sequential ``keras.Model`` with one input and one output.
        layer: The layer (anything :func:`resolve_layer` accepts).
        name: Optional name of the returned model.

    Returns:
        A functional ``keras.Model`` with inputs ``[x, delta]`` (``delta`` shaped like the
        layer's output, batch first) and outputs ``[activation, model_output]``.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="h"),
        ...                           keras.layers.Dense(1, name="out")])
        >>> im = intervention_model(model, "h")
        >>> x = np.ones((4, 3), "float32")
        >>> act, out = im([x, np.zeros((4, 2), "float32")])
        >>> to_np = keras.ops.convert_to_numpy
        >>> bool(np.allclose(to_np(out), to_np(model(x))))
        True
    """
    target, chain = resolve_with_chain(model, layer)
    if isinstance(target, keras.layers.InputLayer):
        raise ValueError(
            f"Layer '{target.name}' is an input layer; perturb the input directly instead. "
            f"Received: layer={layer!r}"
        )
    if not hasattr(target.output, "shape"):
        raise ValueError(f"Layer '{target.name}' has several outputs. Received: layer={layer!r}")
    return _intervention(model, chain, target, name=name)


# ---------------------------------------------------------------------------------------------
# Logits
# ---------------------------------------------------------------------------------------------

def _logit_tensor(graph):
    """Symbolic pre-softmax output of ``graph``'s single output, or None if already logits.

    Which layers squash is :func:`deepkit.probabilities.squashing_activation`'s answer."""
    op, node, _ = producer(graph.outputs[0])
    args = node.arguments.args
    if isinstance(op, (keras.layers.Softmax, keras.layers.Activation)) and squashing_activation(op):
        return args[0]
    if squashing_activation(op):
        return PreActivation(op, name=f"{op.name}_logits")(args[0])
    if is_container(op):
        inner = graph_of(op)
        inner_logits = _logit_tensor(inner)
        if inner_logits is not None:
            sub = keras.Model(inner.inputs, inner_logits, name=f"{op.name}_logits")
            return sub(*args)
    return None


def logit_model(model):
    """The model itself, or a copy sharing its weights that stops before a final softmax/sigmoid.

    Args:
        model: A functional or Sequential classifier with one input and one output of shape
            ``(batch, classes)``.

    Returns:
        A ``keras.Model`` whose output is the class logits. If ``model`` does not end with a
        softmax or sigmoid (as a layer or as the last layer's activation, possibly inside a
        nested model), ``model`` is returned unchanged. Each call builds a new model;
        :func:`deepkit.viz.engine.engine` keeps one per model.

    Raises:
        ValueError: For a model with several inputs or outputs, or an output that is not
            ``(batch, classes)``.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((3,)),
        ...                           keras.layers.Dense(4, activation="softmax")])
        >>> logits = logit_model(model)
        >>> x = np.ones((2, 3), "float32")
        >>> probs = keras.ops.convert_to_numpy(keras.ops.softmax(logits(x)))
        >>> bool(np.allclose(probs, keras.ops.convert_to_numpy(model(x)), atol=1e-6))
        True
    """
    graph = graph_of(model)
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise ValueError(
            f"Attribution needs a model with one input and one output; model '{model.name}' "
            f"has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs."
        )
    if len(graph.outputs[0].shape) != 2:
        raise ValueError(
            f"Attribution needs a classifier whose output is (batch, classes); model "
            f"'{model.name}' outputs shape {tuple(graph.outputs[0].shape)}."
        )
    tensor = _logit_tensor(graph)
    if tensor is None:
        return model
    return keras.Model(graph.inputs[0], tensor, name=f"{model.name}_logits")


def num_classes(model):
    """Number of outputs (classes) of a classifier.

    Args:
        model: A functional or Sequential model with one ``(batch, classes)`` output.

    Returns:
        int.

    Example:
        >>> import keras
        >>> num_classes(keras.Sequential([keras.Input((3,)), keras.layers.Dense(5)]))
        5
    """
    return int(graph_of(model).outputs[0].shape[-1])
