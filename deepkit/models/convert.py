"""Weights from ``keras.applications`` ResNet50/101/152 into the zoo's ResNets.

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

_BLOCK = re.compile(r"^conv(\d)_block(\d+)_(\d)_(conv|bn)$")
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
        raise ValueError("convert: the source must be keras.applications.ResNet50, ResNet101 or ResNet152 (v1; "
                         "the V2 pre-activation models have another layout). Received a model named "
                         f"{source.name!r} with blocks per stage {depths}.")
    return _DEPTHS[depths]


def load_keras_applications_weights(target, source):
    """Copy a keras.applications ResNet's weights into a zoo ResNet built with ``stride_in_1x1=True``.

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
        ValueError: convert: the source must be keras.applications.ResNet50, ResNet101 or ResNet152 ...

        A conversion (checked to 1e-4 in ``tests/test_models_reference.py``)::

            source = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=10)
            target = deepkit.models.resnet50(input_shape=(64, 64, 3), num_classes=10, stride_in_1x1=True)
            load_keras_applications_weights(target, source)
    """
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
    """A zoo ResNet with the weights and the function of a keras.applications ResNet50/101/152.

    The zoo model is built to match the source: same input shape, ``include_top``, classes, pooling,
    classifier activation, ``stride_in_1x1=True`` and the source's BatchNorm epsilon.

    Args:
        source: ``keras.applications.ResNet50`` / ``ResNet101`` / ``ResNet152`` (any weights, e.g. those you
            loaded with ``weights="imagenet"`` or a local file; deepkit downloads nothing).
        model_name: name of the new model (default: the zoo name).

    Returns:
        A ``deepkit.Model``.

    Raises:
        ValueError: the source is not a v1 keras.applications ResNet.

    Example:
        >>> import keras
        >>> stem = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3, name="conv1_conv")])
        >>> from_keras_applications(stem)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: convert: the source must be keras.applications.ResNet50, ResNet101 or ResNet152 ...

        With a real source (``weights="imagenet"`` if you have the file in Keras' cache; the conversion is
        checked to 1e-4 in ``tests/test_models_reference.py``)::

            source = keras.applications.ResNet50(weights=None)
            model = from_keras_applications(source)   # deepkit resnet50, stride_in_1x1=True
            model.predict(x)                          # == source.predict(x)
    """
    from deepkit.models.registry import create

    zoo_name = _check_source(source)
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
    return load_keras_applications_weights(
        create(zoo_name, input_shape=tuple(source.input_shape[1:]), include_top=include_top, stride_in_1x1=True,
               bn_epsilon=float(source.get_layer("conv1_bn").epsilon), model_name=model_name, **kwargs),
        source)
