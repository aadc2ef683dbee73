"""Models from specs: a parsed document built into a Keras functional graph, and plain models back into specs.

The spec language stops at the graph: :func:`build_model` takes the model class to hold it (``deepkit.Model``
passes itself, see :mod:`deepkit.core.model`), so nothing here depends on training.

Example:
    >>> import keras
    >>> from deepkit.spec.parse import load_document
    >>> model = build_model(load_document([{"Dense": 3}]), keras.Model, input_shape=(4,))
    >>> format_spec(layers_spec(model))
    {'name': 'model', 'input_shape': [4], 'layers': [{'Dense': 3}]}
"""

import re
import sys

import keras
import yaml

from deepkit.backend.keras_internals import inbound_node_count, producing_layer
from deepkit.backend.saving import safe_mode
from deepkit.backend.variables import allocate as allocate_weights
from deepkit.backend.variables import deferred_weights, discard
from deepkit.errors import SpecError
from deepkit.spec.nodes import (BuildContext, Group, LayerNode, Parallel, Repeat, Residual, SideOutput, Where,
                                build_sequence, to_snake_case)
from deepkit.spec.parse import Document, get_limit, input_dtype, parse_entry
from deepkit.summary import check_weights_fit

__all__ = ["build_model", "check_python_layers", "format_spec", "is_auto_name", "layers_spec"]


def format_spec(data, format=None):
    """Write spec data as a dict (``None``), ``"yaml"`` or ``"json"`` text.

    Args:
        data: spec data.
        format: None, ``"yaml"`` or ``"json"``.

    Returns:
        The data itself, or a string.

    Example:
        >>> format_spec({"layers": ["Flatten"]}, "json")
        '{\\n  "layers": [\\n    "Flatten"\\n  ]\\n}'
    """
    if format is None:
        return data
    if format == "yaml":
        return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)
    if format == "json":
        import json

        return json.dumps(data, indent=2)
    raise ValueError(f"format must be None, 'yaml' or 'json'. Received: format={format!r}")


def build_model(document, model_class, input_shape=None, name=None, allocate=True):
    """Build a parsed ``Document`` into a functional model of ``model_class`` (``deepkit.Model`` gives itself).

    The spec language builds layers and their graph; which model class holds the graph is the caller's
    choice, so the language does not depend on what the model adds (training, summaries).

    Args:
        document: a ``deepkit.spec.parse.Document``.
        model_class: a ``keras.Model`` subclass called as ``model_class(inputs=..., outputs=..., name=...)``.
        input_shape: the input shape when the document has none; one that differs from the document's
            own is refused (a SpecError), never silently preferred.
        name: overrides the document's name.
        allocate: False builds the weights' shapes only (the model can be inspected but not run). True
            allocates them once they fit in memory (``max_weight_bytes``).

    Returns:
        The model.

    Raises:
        SpecError: the spec cannot be built, or its weights cannot fit in the memory available.

    Example:
        >>> import keras
        >>> from deepkit.spec.parse import load_document
        >>> build_model(load_document([{"Dense": 2}]), keras.Model, input_shape=(3,)).count_params()
        8
    """
    if input_shape is not None and document.input_shape is not None:
        given = [input_shape] if isinstance(input_shape, int) else list(input_shape)
        if given != list(document.input_shape):
            raise SpecError(f"input_shape={tuple(given)!r} conflicts with the spec's own input shape "
                            f"{list(document.input_shape)!r}; give the input shape once (drop one of them).")
    with safe_mode():
        return _build(document, model_class, input_shape=input_shape, name=name, allocate=allocate)


def _build(document, model_class, input_shape=None, name=None, allocate=True):
    shape = input_shape if input_shape is not None else document.input_shape
    if shape is None:
        raise SpecError("no input shape: pass input_shape=(28, 28, 1), add a top-level 'input_shape: "
                        "[28, 28, 1]' to the spec, or start the layers with {Input: {shape: [28, 28, 1]}}.")
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(shape)
    if not shape or any(d is not None and (not isinstance(d, int) or isinstance(d, bool) or d < 1) for d in shape):
        raise SpecError(f"input_shape must be positive integers (None for any size), without the batch "
                        f"dimension. Received: input_shape={shape!r}")
    document.input_shape = list(shape)
    if name is not None:
        document.name = name
    _ensure_recursion_limit(document)
    policy = _dtype_policy(document)
    ctx = BuildContext(dtype_policy=policy)
    ctx.claim("input", None)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)  # layers made from spec entries take the document's policy
    try:
        inputs = keras.Input(shape=shape, name="input", dtype=document.input_dtype)
        # Weights are sized from their shapes first and allocated only once they fit in memory.
        with deferred_weights() as scope:
            outputs = build_sequence(document.nodes, inputs, ctx)
            side = getattr(ctx, "side_outputs", None)
            if side:  # extra named outputs: a dict keyed by the main output's layer name and the side outputs'
                main = producing_layer(outputs).name
                if main in side:
                    raise SpecError(f"a side_output is named '{main}' like the layer of the main output; "
                                    "rename one.")
                outputs = {main: outputs, **side}
            model = model_class(inputs=inputs, outputs=outputs, name=document.name or "model")
    finally:
        keras.config.set_dtype_policy(previous)
    if scope is None:  # built inside the caller's own stateless scope: Keras' rules apply
        return model
    if allocate:
        try:
            check_weights_fit(model, get_limit("max_weight_bytes"))
        except SpecError:
            discard(model.variables)
            raise
        allocate_weights(model.variables, scope)  # variables: weights plus seed-generator states
    else:
        discard(model.variables)
    return model


def _count_layers(nodes):
    """How many layers the nodes make (repeats expanded), to size Python's recursion limit."""
    total = 0
    for node in nodes:
        if isinstance(node, Residual):
            total += _count_layers(node.layers) + _count_layers(node.shortcut or []) + 2
        elif isinstance(node, Parallel):
            total += sum(_count_layers(branch) for branch in node.branches) + 1
        elif isinstance(node, Repeat):
            total += node.times * len(node.template) * 4  # a template entry may itself be a block
        elif isinstance(node, (Group, SideOutput)):
            total += _count_layers(node.layers)
        else:
            total += 1
    return total


def _ensure_recursion_limit(document):
    """Raise (never lower) Python's recursion limit for very deep networks.

    Keras walks a functional graph recursively (``keras.src.ops.function._build_map``), about one Python
    frame per layer, so a model of thousands of layers (CIFAR ResNet-1202: about 4,000) exceeds Python's
    default limit of 1,000. The limit stays raised so that saving, loading and cloning the model work too.
    """
    needed = 2 * _count_layers(document.nodes) + 2000
    if sys.getrecursionlimit() < needed:
        sys.setrecursionlimit(needed)


def _dtype_policy(document):
    """The dtype policy name a document builds with: its own, else Keras' global policy (then recorded).

    A model built under ``keras.config.set_dtype_policy("mixed_bfloat16")`` writes ``dtype_policy:
    mixed_bfloat16`` in its spec, so that saving, loading and ``to_spec`` keep it, as Keras keeps the
    policy in each layer's config.
    """
    name = document.dtype_policy
    if name is None:
        name = keras.config.dtype_policy().name
        if name != "float32":
            document.dtype_policy = name
        return name
    try:
        return keras.dtype_policies.get(name).name
    except Exception as exc:
        raise SpecError(f"unknown Keras dtype policy {name!r}; expected e.g. 'float32', "
                        f"'mixed_float16' or 'mixed_bfloat16' ({exc}).", path="dtype_policy") from exc


def is_auto_name(layer, auto=None):
    """Whether a layer's name is one deepkit or Keras would have made up (``dense``, ``dense_7``), so a spec omits it.

    Args:
        layer: a Keras layer.
        auto: the name deepkit would give it at its place in a spec, if known.

    Returns:
        A bool.

    Example:
        >>> import keras
        >>> is_auto_name(keras.layers.Dense(2, name="dense_7")), is_auto_name(keras.layers.Dense(2, name="out"))
        (True, False)
    """
    if auto is not None and layer.name == auto:
        return True
    return re.fullmatch(re.escape(to_snake_case(type(layer).__name__)) + r"(_\d+)?", layer.name) is not None


def layers_spec(model):
    """The spec data of a plain linear Keras model (a ``keras.Sequential`` or a functional stack).

    Args:
        model: a ``keras.Model`` whose layers are all registered and form a plain stack.

    Returns:
        A dict ``{name, input_shape, layers}``.

    Raises:
        SpecError: the model's graph is not a plain stack, or a layer is not registered.

    Example:
        >>> import keras
        >>> layers_spec(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="out")], name="net"))
        {'name': 'net', 'input_shape': [3], 'layers': [{'Dense': {'units': 2, 'name': 'out'}}]}
    """
    if not isinstance(model, keras.Model):
        raise SpecError(f"to_spec expects a keras.Model. Received: {type(model).__name__}")
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    for layer in layers:
        if inbound_node_count(layer) > 1 or isinstance(layer.input, (list, tuple)):
            raise SpecError(f"model '{model.name}' is not a plain stack of layers (layer '{layer.name}' has "
                            "several inputs or is shared); build it with deepkit.Sequential/from_spec "
                            "to keep its branches as a spec.")
    doc_nodes = []
    ctx = BuildContext()
    ctx.claim("input", None)
    for layer in layers:
        node = LayerNode(instance=layer)
        auto = ctx.auto_name(to_snake_case(node.class_name))
        node.explicit_name = None if is_auto_name(layer, auto) else layer.name
        ctx.claim(layer.name, node.where)
        doc_nodes.append(node)
    document = Document(doc_nodes, input_shape=list(model.inputs[0].shape[1:]), name=model.name,
                        input_dtype=input_dtype(model.inputs[0].dtype, Where()))
    return document.to_data()


def check_python_layers(nodes):
    """Re-create each layer given as a Python instance from its spec entry, as loading will do.

    Layers built from spec entries were made from that very data; an instance's config may hold
    something a spec cannot carry (a Python lambda, an unregistered function), found here at save time.

    Args:
        nodes: spec nodes (a document's ``nodes``).

    Returns:
        None.

    Raises:
        SpecError: an instance's entry would not load back.

    Example:
        >>> from deepkit.spec.parse import load_document
        >>> check_python_layers(load_document([{"Dense": 2}]).nodes)
    """
    for node in nodes:
        if isinstance(node, LayerNode):
            if node.instance is not None:
                with safe_mode():
                    parse_entry(node.to_data(), node.where or Where()).make_layer()
        elif isinstance(node, Residual):
            check_python_layers(node.layers + (node.shortcut or []))
        elif isinstance(node, Parallel):
            for branch in node.branches:
                check_python_layers(branch)
        elif isinstance(node, Group):
            check_python_layers(node.layers)
