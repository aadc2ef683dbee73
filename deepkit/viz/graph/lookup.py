"""Find layers in a model and walk its graph: the one place that reads a Keras graph.

Layer lookup by index, name, ``/`` path or object (:func:`resolve_layer`), the walk over
nested models (:func:`walk`), and the links of a tensor back to the layer call that made it
(:func:`producer`, :func:`inner_output`, :func:`nodes_of`). Keras' private graph attributes
are read only through :mod:`deepkit.backend.keras_internals`.

Example:
    >>> import keras
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c")])
    >>> resolve_layer(model, "c").name, last_conv_layer(model)
    ('c', 'c')
"""

import keras

from deepkit.backend import keras_internals
from deepkit.naming import suggest

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
    return suggest(name, candidates)


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
