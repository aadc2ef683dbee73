"""Small helpers that write spec entries, so the family files read like the papers' tables."""


def layer(class_name, *, name=None, **kwargs):
    """One spec entry ``{class_name: {...kwargs, name}}``; None-valued arguments are left out.

    Args:
        class_name: registry name of the layer.
        name: the layer name (kept last, for readability of the printed spec).
        **kwargs: the layer's arguments.

    Returns:
        A dict spec entry (or the bare class name when there are no arguments).

    Example:
        >>> layer("Conv2D", filters=8, kernel_size=3, activation=None, name="c1")
        {'Conv2D': {'filters': 8, 'kernel_size': 3, 'name': 'c1'}}
    """
    body = {k: v for k, v in kwargs.items() if v is not None}
    if name is not None:
        body["name"] = name
    return {class_name: body} if body else class_name


def conv(filters, kernel_size, *, strides=1, padding="valid", name=None, **kwargs):
    """A ``Conv2D`` entry; ``strides=1`` and ``padding="valid"`` (Keras' defaults) are not written.

    Args:
        filters: number of filters.
        kernel_size: int.
        strides: int.
        padding: ``"valid"`` or ``"same"``.
        name: layer name.
        **kwargs: other Conv2D arguments (``use_bias``, ``activation``, ``groups``...).

    Returns:
        A spec entry.

    Example:
        >>> conv(16, 3, padding="same", use_bias=False, name="conv1")
        {'Conv2D': {'filters': 16, 'kernel_size': 3, 'padding': 'same', 'use_bias': False, 'name': 'conv1'}}
    """
    return layer("Conv2D", filters=filters, kernel_size=kernel_size, strides=None if strides == 1 else strides,
                 padding=None if padding == "valid" else padding, name=name, **kwargs)


def head(*, include_top, pooling, num_classes, classifier_activation, classifier,
         pool_names=("avgpool", "global_maxpool")):
    """The top of a network, keras.applications style.

    Args:
        include_top: True: ``classifier`` entries (ending in the class layer); False: optional global pooling.
        pooling: None, ``"avg"`` or ``"max"`` (only used with ``include_top=False``).
        num_classes: number of classes (used by ``classifier``).
        classifier_activation: activation of the last layer, or None.
        classifier: function ``(num_classes, classifier_activation) -> list of entries``.
        pool_names: names of the global average / max pooling layers.

    Returns:
        A list of spec entries.

    Example:
        >>> head(include_top=False, pooling="max", num_classes=10, classifier_activation=None,
        ...      classifier=None)
        [{'GlobalMaxPooling2D': {'name': 'global_maxpool'}}]
    """
    if include_top:
        return classifier(num_classes, classifier_activation)
    if pooling == "avg":
        return [layer("GlobalAveragePooling2D", name=pool_names[0])]
    if pooling == "max":
        return [layer("GlobalMaxPooling2D", name=pool_names[1])]
    return []


def spec(name, input_shape, layers, description=None):
    """A whole spec document.

    Args:
        name: model name.
        input_shape: input shape without batch dimension.
        layers: list of entries.
        description: optional text kept in the spec.

    Returns:
        ``{name, description, input_shape, layers}``.

    Example:
        >>> spec("m", (4,), ["Flatten"])
        {'name': 'm', 'input_shape': [4], 'layers': ['Flatten']}
    """
    out = {"name": name}
    if description:
        out["description"] = description
    out["input_shape"] = list(input_shape)
    out["layers"] = list(layers)
    return out
