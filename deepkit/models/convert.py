"""Weights from ``keras.applications`` ResNet50/101/152 and VGG16/VGG19 into the zoo's models.

VGG: the zoo's ``vgg16`` / ``vgg19`` use keras.applications' layer names (``block1_conv1`` ...
``fc1``, ``fc2``, ``predictions``) and the same layers (the zoo adds weight-free dropout after ``fc1`` and
``fc2``, the identity at inference), so the weights copy over by name unchanged.

ResNet:

keras.applications' ResNets are the paper's v1 layout (stride in the first 1x1 convolution of a
downsampling bottleneck), with biases in every convolution and BatchNorm epsilon 1.001e-5. The zoo's
ResNets are bias-free like torchvision's, so a convolution's bias is folded into the BatchNorm that
follows it (``BN(conv(x) + b)`` equals ``BN'(conv(x))`` with ``moving_mean' = moving_mean - b``), and a
different epsilon is absorbed into the moving variance (``var' = var + eps_source - eps_target``). The
converted model computes the same function (to float32 rounding).

Layer names map as ``conv1_conv -> conv1``, ``conv1_bn -> bn1``,
``conv{s}_block{b}_{i}_conv -> layer{s-1}_block{b-1}_conv{i}``,
``conv{s}_block{b}_0_conv -> layer{s-1}_block{b-1}_downsample_conv`` (BatchNorms alike) and
``predictions -> fc``.

Nothing here downloads anything: pass a source model you built (``weights=None``) or loaded yourself.

Example:
    >>> keras_applications_name("conv3_block2_1_bn"), keras_applications_name("conv4_block1_0_conv")
    ('layer2_block1_bn1', 'layer3_block0_downsample_conv')
"""

import re

import numpy as np

from keras import ops

__all__ = ["keras_applications_name", "load_keras_applications_vgg_weights", "load_keras_applications_weights",
           "from_keras_applications"]

_BLOCK = re.compile(r"^conv(\d)_block(\d+)_(\d)_(conv|bn)$")
_VGG_CONV = re.compile(r"^block(\d)_conv(\d)$")
_VGG_DEPTHS = {13: "vgg16", 16: "vgg19"}
_SOURCES = "keras.applications.ResNet50, ResNet101, ResNet152, VGG16 or VGG19"
_DEPTHS = {(3, 4, 6, 3): "resnet50", (3, 4, 23, 3): "resnet101", (3, 8, 36, 3): "resnet152"}


def keras_applications_name(name):
    """The zoo layer name of a keras.applications ResNet (v1) layer name, or None for weight-free layers.

    Args:
        name: a layer name of ``keras.applications.ResNet50/101/152``.

    Returns:
        The corresponding deepkit layer name, or None.

    Example:
        >>> keras_applications_name("conv1_conv"), keras_applications_name("conv2_block1_add")
        ('conv1', None)
    """
    fixed = {"conv1_conv": "conv1", "conv1_bn": "bn1", "predictions": "fc"}
    if name in fixed:
        return fixed[name]
    match = _BLOCK.match(name)
    if not match:
        return None
    stage, block, index, kind = int(match[1]), int(match[2]), int(match[3]), match[4]
    prefix = f"layer{stage - 1}_block{block - 1}"
    if index == 0:
        return f"{prefix}_downsample_{kind}"
    return f"{prefix}_{kind}{index}"


def _depths(source):
    blocks = {}
    for layer in source.layers:
        match = _BLOCK.match(layer.name)
        if match:
            stage, block = int(match[1]), int(match[2])
            blocks[stage] = max(blocks.get(stage, 0), block)
    return tuple(blocks.get(s, 0) for s in (2, 3, 4, 5))


def _check_source(source):
    names = {layer.name for layer in source.layers}
    depths = _depths(source)
    if "conv1_conv" not in names or depths not in _DEPTHS or any("preact" in n for n in names):
        raise ValueError(f"convert: the source must be {_SOURCES} (ResNets v1; the V2 pre-activation models "
                         "have another layout). Received a model named "
                         f"{source.name!r} with blocks per stage {depths}.")
    return _DEPTHS[depths]


def _vgg_source(source):
    """The zoo name for a keras.applications VGG16/VGG19, or None when ``source`` is not one."""
    names = [layer.name for layer in source.layers]
    convs = [n for n in names if _VGG_CONV.match(n)]
    if "block1_conv1" not in names or "conv1_conv" in names:
        return None
    if len(convs) not in _VGG_DEPTHS:
        raise ValueError(f"convert: a keras.applications VGG must be VGG16 (13 convolutions) or VGG19 (16). "
                         f"Received a model named {source.name!r} with {len(convs)} 'blockN_convM' layers.")
    return _VGG_DEPTHS[len(convs)]


def load_keras_applications_vgg_weights(target, source):
    """Copy keras.applications VGG16/VGG19 weights into the zoo's ``vgg16`` / ``vgg19`` (same layer names).

    Args:
        target: ``deepkit.models.vgg16(...)`` / ``vgg19(...)`` without batch norm, with the same input size,
            ``include_top`` and number of classes as ``source``.
        source: ``keras.applications.VGG16`` / ``VGG19``.

    Returns:
        The ``target`` model, its weights replaced.

    Raises:
        ValueError: the source is not a VGG16/19, or a layer is missing in the target or has another shape.

    Example:
        >>> import keras
        >>> from deepkit.models import vgg16
        >>> source = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
        >>> target = load_keras_applications_vgg_weights(vgg16(input_shape=(32, 32, 3), include_top=False),
        ...                                              source)
        >>> same = ops.convert_to_numpy(target.get_layer("block5_conv3").kernel) == ops.convert_to_numpy(
        ...     source.get_layer("block5_conv3").kernel)
        >>> bool(same.all())
        True
    """
    if _vgg_source(source) is None:
        raise ValueError(f"convert: the source must be keras.applications.VGG16 or VGG19. Received a model named "
                         f"{source.name!r}.")
    for layer in source.layers:
        if not layer.weights:
            continue
        try:
            dest = target.get_layer(layer.name)
        except ValueError:
            raise ValueError(f"convert: the target model {target.name!r} has no layer {layer.name!r} (build it as "
                             "deepkit.models.vgg16/vgg19 without batch norm, with the source's include_top and "
                             "number of classes).") from None
        values = [ops.convert_to_numpy(w) for w in layer.weights]
        shapes = [tuple(w.shape) for w in dest.weights]
        if [v.shape for v in values] != shapes:
            raise ValueError(f"convert: source layer {layer.name!r} has weights of shapes "
                             f"{[v.shape for v in values]}, target layer {layer.name!r} has {shapes} (same input "
                             "size and number of classes needed).")
        dest.set_weights(values)
    return target


def load_keras_applications_weights(target, source):
    """Copy a keras.applications ResNet's weights into a zoo ResNet built with ``stride_in_1x1=True``
    (a VGG16/VGG19 source goes to :func:`load_keras_applications_vgg_weights`).

    Args:
        target: a deepkit ResNet-50/101/152 (``deepkit.models.resnet50(stride_in_1x1=True, ...)``), with
            the same input channels, depth, ``include_top`` and number of classes as ``source``.
        source: ``keras.applications.ResNet50`` / ``ResNet101`` / ``ResNet152``.

    Returns:
        The ``target`` model, its weights replaced.

    Raises:
        ValueError: the source is not a v1 ResNet, the target has the torchvision stride placement, or a
            layer is missing or has another shape.

    Example:
        >>> from deepkit.models import cifar_resnet20
        >>> load_keras_applications_weights(None, cifar_resnet20())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: convert: the source must be keras.applications.ResNet50, ResNet101, ResNet152, VGG16 or ...

        A conversion (checked to 1e-4 in ``tests/models/test_convert.py``)::

            source = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=10)
            target = deepkit.models.resnet50(input_shape=(64, 64, 3), num_classes=10, stride_in_1x1=True)
            load_keras_applications_weights(target, source)
    """
    if _vgg_source(source) is not None:
        return load_keras_applications_vgg_weights(target, source)
    _check_source(source)
    try:
        first = target.get_layer("layer2_block0_conv1")
    except ValueError:
        raise ValueError(f"convert: the target model {target.name!r} is not a deepkit ResNet-50/101/152 "
                         "(it has no layer 'layer2_block0_conv1').") from None
    if tuple(first.strides) != (2, 2):
        raise ValueError("convert: keras.applications' ResNets downsample in the first 1x1 convolution of a "
                         "block; build the target with stride_in_1x1=True (e.g. deepkit.models.resnet50("
                         "stride_in_1x1=True)), or its outputs would differ. Received: target layer "
                         f"'layer2_block0_conv1' with strides={tuple(first.strides)}")
    conv_bias = {}
    for layer in source.layers:
        if not layer.weights:
            continue
        name = keras_applications_name(layer.name)
        if name is None:
            raise ValueError(f"convert: no deepkit layer for source layer {layer.name!r}.")
        try:
            dest = target.get_layer(name)
        except ValueError:
            raise ValueError(f"convert: the target model has no layer {name!r} for source layer {layer.name!r} "
                             "(include_top and num_classes must match the source).") from None
        values = [ops.convert_to_numpy(w) for w in layer.weights]
        if layer.name.endswith("_conv"):
            kernel = values[0]
            if len(values) > 1:
                conv_bias[layer.name[:-len("_conv")]] = values[1]
            new = [kernel]
        elif layer.name.endswith("_bn"):
            gamma, beta, mean, var = values
            bias = conv_bias.get(layer.name[:-len("_bn")], 0.0)
            var = np.maximum(var + (layer.epsilon - dest.epsilon), 0.0)
            new = [gamma, beta, mean - bias, var]
        else:  # predictions -> fc
            new = values
        shapes = [tuple(w.shape) for w in dest.weights]
        if [tuple(v.shape) for v in new] != shapes:
            raise ValueError(f"convert: source layer {layer.name!r} has weights of shapes "
                             f"{[tuple(v.shape) for v in new]}, target layer {name!r} has {shapes}.")
        dest.set_weights(new)
    return target


def from_keras_applications(source, model_name=None):
    """A zoo model with the weights and the function of a keras.applications ResNet50/101/152 or VGG16/19.

    The zoo model is built to match the source: same input shape, ``include_top``, classes, pooling,
    classifier activation; for ResNets also ``stride_in_1x1=True`` and the source's BatchNorm epsilon.

    Args:
        source: ``keras.applications.ResNet50`` / ``ResNet101`` / ``ResNet152`` / ``VGG16`` / ``VGG19``
            (any weights, e.g. those you
            loaded with ``weights="imagenet"`` or a local file; deepkit downloads nothing).
        model_name: name of the new model (default: the zoo name).

    Returns:
        A ``deepkit.Model``.

    Raises:
        ValueError: the source is not a v1 keras.applications ResNet or a VGG16/VGG19.

    Example:
        >>> import keras
        >>> stem = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3, name="conv1_conv")])
        >>> from_keras_applications(stem)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: convert: the source must be keras.applications.ResNet50, ResNet101, ResNet152, VGG16 or ...

        With a real source (``weights="imagenet"`` if you have the file in Keras' cache; the conversion is
        checked to 1e-4 in ``tests/models/test_convert.py``)::

            source = keras.applications.ResNet50(weights=None)
            model = from_keras_applications(source)   # deepkit resnet50, stride_in_1x1=True
            model.predict(x)                          # == source.predict(x)
    """
    from deepkit.models.registry import create

    vgg = _vgg_source(source)
    zoo_name = vgg or _check_source(source)
    names = [layer.name for layer in source.layers]
    include_top = "predictions" in names
    kwargs = {}
    if include_top:
        top = source.get_layer("predictions")
        kwargs["num_classes"] = top.units
        act = getattr(top.activation, "__name__", None)
        kwargs["classifier_activation"] = None if act in (None, "linear") else act
    else:
        last = type(source.layers[-1]).__name__
        kwargs["pooling"] = {"GlobalAveragePooling2D": "avg", "GlobalMaxPooling2D": "max"}.get(last)
    if vgg:
        return load_keras_applications_vgg_weights(
            create(vgg, input_shape=tuple(source.input_shape[1:]), include_top=include_top, model_name=model_name,
                   **kwargs), source)
    return load_keras_applications_weights(
        create(zoo_name, input_shape=tuple(source.input_shape[1:]), include_top=include_top, stride_in_1x1=True,
               bn_epsilon=float(source.get_layer("conv1_bn").epsilon), model_name=model_name, **kwargs),
        source)
