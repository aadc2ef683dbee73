"""The graph of a Keras model as the visualizations see it: the one place that walks it.

Every visualization needs "the output of layer X for input images". Keras gives that with
``keras.Model(model.inputs, layer.output)``, which fails with *"Graph disconnected"* as soon
as the layer lives inside a nested model (a ResNet stage, a backbone wrapped in a classifier,
a ``Sequential`` inside a functional model). This module finds layers (:func:`resolve_layer`,
:func:`resolve_with_chain`), builds sub-models that reach into nested models
(:func:`feature_model`, :func:`symbolic_outputs`), the model that stops before a final
softmax (:func:`logit_model`), the model that lets a perturbation be added to a layer
(:func:`intervention_model`), and walks a tensor's history back to the input
(:func:`producer`, :func:`inner_output`; the receptive fields of
:mod:`deepkit.viz.receptive_field` use them). Keras' private graph attributes are read only
through :mod:`deepkit.backend.keras_internals`.

Layers are named by index (``model.layers[i]``, negative allowed), by name, by a ``/`` path
through nested models (``"backbone/stage2/conv1"``), by a unique name anywhere in the nesting,
or passed as the layer object itself.
"""

import difflib

import keras

from deepkit.backend import keras_internals

__all__ = [
    "graph_of",
    "is_container",
    "walk",
    "find_chain",
    "resolve_with_chain",
    "symbolic_outputs",
    "producer",
    "inner_output",
    "nodes_of",
    "logit_model",
    "num_classes",
    "resolve_layer",
    "layer_path",
    "list_layers",
    "feature_model",
    "last_conv_layer",
    "spatial_layers",
    "intervention_model",
    "PreActivation",
]


def _model_name(model):
    return getattr(model, "name", type(model).__name__)


def is_container(layer):
    """True for models whose layers can be walked (functional, Sequential, deepkit blocks).

    Args:
        layer: Any Keras layer.

    Returns:
        bool.

    Example:
        >>> import keras
        >>> is_container(keras.Sequential([keras.Input((2,))])), is_container(keras.layers.Dense(1))
        (True, False)
    """
    return isinstance(layer, keras.Model) and hasattr(layer, "layers")


def graph_of(model):
    """The functional model that holds ``model``'s graph (``model`` itself when functional).

    Args:
        model: A functional or Sequential ``keras.Model`` (or a deepkit block).

    Returns:
        A functional ``keras.Model`` whose ``inputs``/``outputs`` are symbolic tensors.

    Raises:
        ValueError: For a Sequential model that is not built yet.
        TypeError: For a subclassed model (no graph).

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> tuple(graph_of(model).outputs[0].shape)
        (None, 2)
    """
    graph = keras_internals.functional_graph(model)
    if graph is not None:
        return graph
    if isinstance(model, keras.Sequential):
        raise ValueError(
            f"Sequential model '{model.name}' is not built, so its layers have no outputs "
            "yet. Give it an input shape (keras.Input as first layer) or call it on data "
            "first."
        )
    raise TypeError(
        f"Model '{_model_name(model)}' of type {type(model).__name__} is a subclassed model: "
        "its intermediate layer outputs are not part of a graph, so they cannot be "
        "exposed. Use a functional or Sequential model (deepkit.Sequential / "
        "deepkit.from_spec build functional models). "
        f"Received: model={type(model).__name__}"
    )


def walk(model, prefix=""):
    """Every layer, depth first, nested models included: ``(path, layer, containers)``.

    Args:
        model: A model with ``layers``.
        prefix: Prepended to every path.

    Returns:
        A generator of ``(path, layer, containers)``: ``containers`` is the tuple of nested
        models from ``model`` (exclusive) down to the layer (exclusive).

    Example:
        >>> import keras
        >>> inner = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, name="d")], name="in")
        >>> x = keras.Input((2,), name="x")
        >>> [(p, len(c)) for p, _, c in walk(keras.Model(x, inner(x)))]
        [('x', 0), ('in', 0), ('in/d', 1)]
    """
    for layer in model.layers:
        path = f"{prefix}{layer.name}"
        yield path, layer, ()
        if is_container(layer):
            for sub_path, sub_layer, chain in walk(layer, prefix=path + "/"):
                yield sub_path, sub_layer, (layer,) + chain


def list_layers(model, nested=True):
    """List the layers of a model as ``(path, layer)`` pairs.

    Args:
        model: A functional or Sequential ``keras.Model``.
        nested: Whether to descend into nested models. Nested layers get ``/`` paths such as
            ``"backbone/conv1"``.

    Returns:
        A list of ``(path, layer)`` tuples in model order (a nested model is followed by its
        own layers).

    Example:
        >>> import keras
        >>> inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d1")],
        ...                          name="inner")
        >>> x = keras.Input((4,), name="pixels")
        >>> model = keras.Model(x, keras.layers.Dense(2, name="out")(inner(x)))
        >>> [path for path, _ in list_layers(model)]
        ['pixels', 'inner', 'inner/d1', 'out']
    """
    if nested:
        return [(path, layer) for path, layer, _ in walk(model)]
    return [(layer.name, layer) for layer in model.layers]


def find_chain(model, target):
    """The nested models from ``model`` (exclusive) down to ``target`` (exclusive).

    Args:
        model: A model with ``layers``.
        target: A layer object.

    Returns:
        A tuple of models (empty for a top-level layer), or None when ``target`` is not in
        ``model``.

    Example:
        >>> import keras
        >>> d = keras.layers.Dense(2)
        >>> find_chain(keras.Sequential([keras.Input((2,)), d]), d)
        ()
    """
    for layer in getattr(model, "layers", []):
        if layer is target:
            return ()
    for layer in getattr(model, "layers", []):
        if is_container(layer):
            chain = find_chain(layer, target)
            if chain is not None:
                return (layer,) + chain
    return None


def _suggest(name, candidates):
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
    if not close:
        # Also try matching the last path component, e.g. "conv" vs "stage1/conv_1".
        tails = {c.rsplit("/", 1)[-1]: c for c in candidates}
        close = [tails[t] for t in difflib.get_close_matches(name, list(tails), n=3, cutoff=0.5)]
    return close


def resolve_with_chain(model, layer):
    """A layer and the nested models that lead to it, for any way of naming it.

    Args:
        model: A ``keras.Model``.
        layer: Anything :func:`resolve_layer` accepts.

    Returns:
        ``(layer_object, containers)`` as :func:`find_chain`.

    Raises:
        As :func:`resolve_layer`.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, name="d")])
        >>> layer, chain = resolve_with_chain(model, "d")
        >>> layer.name, chain
        ('d', ())
    """
    if not isinstance(model, keras.Model) or not hasattr(model, "layers"):
        raise TypeError(
            f"Expected a keras.Model with layers. Received: model={model!r} "
            f"of type {type(model).__name__}"
        )
    if isinstance(layer, bool):
        raise TypeError(f"A layer is named by index, name or object. Received: layer={layer!r}")
    if isinstance(layer, int) or (hasattr(layer, "__index__") and not isinstance(layer, str)
                                  and not isinstance(layer, keras.layers.Layer)):
        index = int(layer.__index__())
        n = len(model.layers)
        if n == 0:
            raise ValueError(f"Model '{model.name}' has no layers. Received: layer={index}")
        if not -n <= index < n:
            raise IndexError(
                f"Layer index {index} is out of range for model '{model.name}' with {n} layers: "
                f"valid indices are 0..{n - 1} (or -{n}..-1). Received: layer={index}"
            )
        return model.layers[index], ()
    if isinstance(layer, keras.layers.Layer):
        chain = find_chain(model, layer)
        if chain is None:
            raise ValueError(
                f"Layer '{layer.name}' is not part of model '{model.name}' (nor of a model nested "
                f"in it). Received: layer={layer.name!r}"
            )
        return layer, chain
    if isinstance(layer, str):
        entries = list(walk(model))
        # 1. exact top-level name, 2. exact path, 3. unique name anywhere in the nesting.
        for path, obj, chain in entries:
            if not chain and obj.name == layer:
                return obj, chain
        for path, obj, chain in entries:
            if path == layer:
                return obj, chain
        matches = [(path, obj, chain) for path, obj, chain in entries if obj.name == layer]
        if len(matches) == 1:
            return matches[0][1], matches[0][2]
        if len(matches) > 1:
            paths = ", ".join(repr(p) for p, _, _ in matches)
            raise ValueError(
                f"Layer name '{layer}' is ambiguous in model '{model.name}': it occurs in several "
                f"nested models ({paths}). Use one of these paths. Received: layer={layer!r}"
            )
        close = _suggest(layer, [p for p, _, _ in entries])
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"No layer named '{layer}' in model '{model.name}'.{hint} "
            f"Available layers: {', '.join(p for p, _, _ in entries[:30])}"
            f"{' ...' if len(entries) > 30 else ''}. Received: layer={layer!r}"
        )
    raise TypeError(
        "A layer is named by an integer index, a name or '/'-path string, or the layer object. "
        f"Received: layer={layer!r} of type {type(layer).__name__}"
    )


def resolve_layer(model, layer):
    """Find a layer of ``model`` by index, name, nested path, or object.

    Args:
        model: A ``keras.Model`` (functional or Sequential; nested models are searched).
        layer: ``int`` index into ``model.layers`` (negative counts from the end); a layer
            name (top-level names win, then ``/`` paths like ``"backbone/conv1"``, then a
            name that is unique anywhere in the nesting); or a ``keras.layers.Layer`` of the
            model.

    Returns:
        The ``keras.layers.Layer``.

    Raises:
        IndexError: For an index out of range; the message names the valid range.
        ValueError: For an unknown or ambiguous name (with close-match suggestions), or a
            layer object that is not in the model.
        TypeError: For anything else.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((8, 8, 1)),
        ...                           keras.layers.Conv2D(4, 3, name="conv"),
        ...                           keras.layers.Flatten(name="flat")], name="net")
        >>> resolve_layer(model, 0).name, resolve_layer(model, "flat").name
        ('conv', 'flat')
        >>> resolve_layer(model, "cnov")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: No layer named 'cnov' in model 'net'. Did you mean 'conv'? ...
    """
    return resolve_with_chain(model, layer)[0]


def layer_path(model, layer):
    """The ``/`` path of a layer inside ``model`` (e.g. ``"backbone/conv1"``).

    Args:
        model: A ``keras.Model``.
        layer: Anything :func:`resolve_layer` accepts.

    Returns:
        The path string; top-level layers are just their name.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="fc")])
        >>> layer_path(model, -1)
        'fc'
    """
    obj, chain = resolve_with_chain(model, layer)
    return "/".join([c.name for c in chain] + [obj.name])


def nodes_of(graph, operation):
    """The calls (nodes) of ``operation`` inside ``graph``, from the input side.

    Args:
        graph: A functional model (see :func:`graph_of`).
        operation: A layer or nested model of ``graph``.

    Returns:
        A list of Keras ``Node`` objects (``node.arguments``, ``node.outputs``).

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, name="d")])
        >>> len(nodes_of(graph_of(model), model.get_layer("d")))
        1
    """
    return [node for node in keras_internals.graph_nodes(graph) if node.operation is operation]


def producer(tensor):
    """The layer call that produced a symbolic tensor.

    Args:
        tensor: A symbolic tensor of a functional graph.

    Returns:
        ``(operation, node, output_index)``, or None for a tensor outside any graph.

    Example:
        >>> import keras
        >>> x = keras.Input((2,))
        >>> op, node, i = producer(keras.layers.Dense(1, name="d")(x))
        >>> op.name, [t is x for t in node.input_tensors]
        ('d', [True])
    """
    return keras_internals.tensor_producer(tensor)


def inner_output(container, index):
    """Output ``index`` of a nested model's own graph (to walk inside the nested model).

    Args:
        container: A nested functional or Sequential model.
        index: Which output.

    Returns:
        The symbolic output tensor of the container's graph.

    Example:
        >>> import keras
        >>> inner = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, name="d")])
        >>> producer(inner_output(inner, 0))[0].name
        'd'
    """
    return graph_of(container).outputs[index]


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
        inputs, outputs[0] if single else outputs, name=name or f"{_model_name(model)}_features"
    )


def _output_rank(layer):
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return None
    return len(shape)


def spatial_layers(model, nested=True):
    """Paths of layers whose output is an image-like 4-D tensor ``(batch, h, w, channels)``.

    Args:
        model: A functional or Sequential ``keras.Model``.
        nested: Whether to include layers of nested models (their own nested paths). A nested
            model itself is skipped when its layers are listed.

    Returns:
        A list of layer paths in model order, input layers excluded.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                           keras.layers.GlobalAveragePooling2D(name="gap")])
        >>> spatial_layers(model)
        ['c']
    """
    paths = []
    for path, layer in list_layers(model, nested=nested):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if nested and is_container(layer):
            continue
        if _output_rank(layer) == 4:
            paths.append(path)
    return paths


def last_conv_layer(model):
    """Path of the last layer with a 4-D ``(batch, h, w, channels)`` output (Grad-CAM's default).

    Args:
        model: A functional or Sequential ``keras.Model``; nested models are searched.

    Returns:
        The layer path (see :func:`layer_path`).

    Raises:
        ValueError: If no layer has a 4-D output.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c1"),
        ...                           keras.layers.Conv2D(2, 3, name="c2"),
        ...                           keras.layers.Flatten(), keras.layers.Dense(3)])
        >>> last_conv_layer(model)
        'c2'
    """
    paths = spatial_layers(model)
    if not paths:
        raise ValueError(
            f"Model '{_model_name(model)}' has no layer with a 4-D (batch, height, width, "
            "channels) output, so there is no convolutional feature map to use. Pass "
            f"layer= explicitly. Received: model={_model_name(model)!r}"
        )
    return paths[-1]


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

_SQUASHING = ("softmax", "sigmoid")


def _activation_name(op):
    if isinstance(op, keras.layers.Softmax):
        return "softmax"
    activation = getattr(op, "activation", None)
    name = getattr(activation, "__name__", None)
    return name if name in _SQUASHING else None


def _logit_tensor(graph):
    """Symbolic pre-softmax output of ``graph``'s single output, or None if already logits."""
    op, node, _ = producer(graph.outputs[0])
    args = node.arguments.args
    if isinstance(op, (keras.layers.Softmax, keras.layers.Activation)) and _activation_name(op):
        return args[0]
    if _activation_name(op):
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
