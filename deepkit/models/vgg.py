"""VGG (Simonyan & Zisserman, "Very deep convolutional networks for large-scale image recognition",
ICLR 2015, arXiv:1409.1556): configurations A, B, D and E of Table 1, with and without batch norm, and
a CIFAR-10 size.

Five blocks of 3x3 convolutions (stride 1, one pixel of padding, ReLU) with 64, 128, 256, 512 and 512
filters, each block ending in a 2x2 max-pooling with stride 2; then three dense layers (4096, 4096,
classes) with dropout 0.5 after the first two. Layer names follow ``keras.applications`` (``block3_conv2``,
``block3_pool``, ``fc1``, ``fc2``, ``predictions``), so its VGG16/VGG19 weights load by name
(:func:`deepkit.models.convert.from_keras_applications`).

==================  ======  =================
name                config  convs per block
==================  ======  =================
``vgg11``           A       1, 1, 2, 2, 2
``vgg13``           B       2, 2, 2, 2, 2
``vgg16``           D       2, 2, 3, 3, 3
``vgg19``           E       2, 2, 4, 4, 4
==================  ======  =================

Each variant (and its ``_bn`` and ``cifar_`` sibling) is one ``@register_model`` declaration at the end
of this file, with its published counts (torchvision's; keras.applications' for VGG16/VGG19).

The ``_bn`` variants (torchvision's ``vgg16_bn``) put a BatchNorm between each convolution (which keeps
its bias) and its ReLU. The top follows
``keras.applications`` and the paper: ``Flatten`` after ``block5_pool`` (7x7x512 = 25,088 inputs to
``fc1`` at 224x224), so ``fc1`` grows with the input size; torchvision instead averages to 7x7 first.

CIFAR-10 VGG (``cifar_vgg11`` ... ``cifar_vgg19``, 32x32x3, 10 classes): the stem needs no change,
since VGG's first layers are already 3x3 convolutions with stride 1 that keep 32x32; the five poolings
take 32x32 to 1x1x512, so the three 4096-unit dense layers (which would hold 119 M of the 134 M weights
for a 512-vector) become one 512 -> classes layer, and every convolution is followed by BatchNorm so the
deep stacks train from scratch (the common CIFAR VGG, e.g. Liu's pytorch-cifar).

Example:
    >>> from deepkit.models import get_spec
    >>> block3 = get_spec("vgg16")["layers"][2]["sequential"]
    >>> block3["name"], [next(iter(e.values()))["name"] for e in block3["layers"]]
    ('block3', ['block3_conv1', 'block3_conv2', 'block3_conv3', 'block3_pool'])
"""

from deepkit.models._common import conv, head, layer, spec
from deepkit.models.imagenet import torchvision
from deepkit.models.registry import Family, create, register_model

__all__ = ["vgg_spec", "cifar_vgg_spec", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn",
           "vgg19_bn", "cifar_vgg11", "cifar_vgg13", "cifar_vgg16", "cifar_vgg19"]

PAPER = "Simonyan & Zisserman 2015, Very deep convolutional networks for large-scale image recognition"

WIDTHS = (64, 128, 256, 512, 512)
MIN_SIZE_REASON = ("its five 2x2 max-poolings with stride 2 halve the image five times, so block5_pool needs a "
                   "32x32 input to keep a 1x1 map (keras.applications' VGG has the same minimum).")


def _features(depths, batch_norm, bn_momentum, bn_epsilon, kernel_initializer):
    """The five blocks of 3x3 convolutions, each a named ``sequential`` entry ending in its max-pooling."""
    init = None if kernel_initializer == "glorot_uniform" else kernel_initializer
    blocks = []
    for b, (n, width) in enumerate(zip(depths, WIDTHS), start=1):
        entries = []
        for i in range(1, n + 1):
            if batch_norm:
                entries += [conv(width, 3, padding="same", kernel_initializer=init, name=f"block{b}_conv{i}"),
                            layer("BatchNormalization", momentum=bn_momentum, epsilon=bn_epsilon,
                                  name=f"block{b}_bn{i}"),
                            layer("ReLU", name=f"block{b}_relu{i}")]
            else:
                entries.append(conv(width, 3, padding="same", activation="relu", kernel_initializer=init,
                                    name=f"block{b}_conv{i}"))
        entries.append(layer("MaxPooling2D", pool_size=2, strides=2, name=f"block{b}_pool"))
        blocks.append({"sequential": {"layers": entries, "name": f"block{b}"}})
    return blocks


def _check_depths(depths):
    depths = tuple(depths)
    if len(depths) != 5 or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in depths):
        raise ValueError("deepkit.models vgg: layers must be five positive integers (convolutions per block, "
                         f"e.g. (2, 2, 3, 3, 3) for VGG-16). Received: layers={depths!r}")
    return depths


def vgg_spec(variant, input_shape, num_classes, include_top, pooling, classifier_activation, name,
             batch_norm=False, dropout=0.5, fc_units=4096, bn_momentum=0.9, bn_epsilon=1e-5,
             kernel_initializer="glorot_uniform"):
    """Spec data of an ImageNet VGG from its declared row.

    Args:
        variant: the declared row, ``{"layers": (n1, ..., n5)}`` (``"batch_norm": True`` in it overrides
            ``batch_norm``; ``vgg16`` declares ``layers=(2, 2, 3, 3, 3)``).
        input_shape: (H, W, C), at least 32x32; with ``include_top`` the size must be known (``fc1``
            follows a ``Flatten``).
        num_classes: classes of ``predictions``.
        include_top: True: ``Flatten``, ``fc1``, ``fc2`` and ``predictions``; False: up to ``block5_pool``.
        pooling: with ``include_top=False``: None, ``"avg"`` or ``"max"``.
        classifier_activation: activation of ``predictions``, or None for logits.
        name: model name.
        batch_norm: BatchNorm between each convolution and its ReLU (torchvision's ``vgg*_bn``).
        dropout: dropout rate after ``fc1`` and ``fc2`` (the paper's 0.5).
        fc_units: width of ``fc1`` and ``fc2``.
        bn_momentum: Keras BatchNorm momentum (0.9 is PyTorch's 0.1).
        bn_epsilon: BatchNorm epsilon (torchvision's 1e-5).
        kernel_initializer: initializer of the convolutions and dense layers; Glorot & Bengio's uniform
            (Keras' default), which the paper (section 3.1) notes works without its staged pre-training.

    Returns:
        The spec dict.

    Example:
        >>> data = vgg_spec({"layers": (1, 1, 2, 2, 2)}, (224, 224, 3), 1000, True, None, "softmax", "vgg11")
        >>> [e["sequential"]["name"] for e in data["layers"][:5]], data["layers"][-1]
        (['block1', 'block2', 'block3', 'block4', 'block5'], {'Dense': {'units': 1000, 'activation': 'softmax', \
'name': 'predictions'}})
    """
    depths, batch_norm = _check_depths(variant["layers"]), variant.get("batch_norm", batch_norm)
    if include_top and (input_shape[0] is None or input_shape[1] is None):
        raise ValueError(f"deepkit.models '{name}' with include_top=True needs a known input size (fc1 follows "
                         f"a Flatten). Received: input_shape={tuple(input_shape)}")
    layers = _features(depths, batch_norm, bn_momentum, bn_epsilon, kernel_initializer)
    init = None if kernel_initializer == "glorot_uniform" else kernel_initializer

    def classifier(classes, act):
        return [layer("Flatten", name="flatten"),
                layer("Dense", units=fc_units, activation="relu", kernel_initializer=init, name="fc1"),
                layer("Dropout", rate=dropout, name="drop1"),
                layer("Dense", units=fc_units, activation="relu", kernel_initializer=init, name="fc2"),
                layer("Dropout", rate=dropout, name="drop2"),
                layer("Dense", units=classes, activation=act, kernel_initializer=init, name="predictions")]

    layers += head(include_top=include_top, pooling=pooling, num_classes=num_classes,
                   classifier_activation=classifier_activation, classifier=classifier,
                   pool_names=("avg_pool", "max_pool"))
    return spec(name, input_shape, layers)


def cifar_vgg_spec(variant, input_shape, num_classes, include_top, pooling, classifier_activation, name,
                   batch_norm=True, dropout=0.0, bn_momentum=0.9, bn_epsilon=1e-5, kernel_initializer="he_normal"):
    """Spec data of a CIFAR-10 VGG: the same five blocks, one dense layer on the 1x1x512 map.

    The stem is VGG's own (3x3 convolutions, stride 1, keep 32x32); only the top changes: five poolings
    leave 1x1x512 at 32x32, flattened into a single ``predictions`` layer (512 -> classes).

    Args:
        variant: the declared row, ``{"layers": (n1, ..., n5)}``.
        input_shape: (H, W, C), at least 32x32 (known when ``include_top``).
        num_classes: classes of ``predictions``.
        include_top: True: ``flatten`` (optional dropout) and ``predictions``; False: up to ``block5_pool``.
        pooling: with ``include_top=False``: None, ``"avg"`` or ``"max"``.
        classifier_activation: activation of ``predictions``, or None for logits.
        name: model name.
        batch_norm: BatchNorm after each convolution (default True: needed to train 16-19 layers from scratch
            with the recipe's learning rate).
        dropout: dropout rate before ``predictions`` (0: none).
        bn_momentum: Keras BatchNorm momentum.
        bn_epsilon: BatchNorm epsilon.
        kernel_initializer: initializer of the convolutions (He et al.'s ``"he_normal"`` by default).

    Returns:
        The spec dict.

    Example:
        >>> data = cifar_vgg_spec({"layers": (1, 1, 2, 2, 2)}, (32, 32, 3), 10, True, None, None, "v")
        >>> data["layers"][-2:]
        ['Flatten', {'Dense': {'units': 10, 'name': 'predictions'}}]
    """
    depths = _check_depths(variant["layers"])
    if include_top and (input_shape[0] is None or input_shape[1] is None):
        raise ValueError(f"deepkit.models '{name}' with include_top=True needs a known input size "
                         f"(predictions follows a Flatten). Received: input_shape={tuple(input_shape)}")
    layers = _features(depths, batch_norm, bn_momentum, bn_epsilon, kernel_initializer)

    def classifier(classes, act):
        return (["Flatten"] + ([layer("Dropout", rate=dropout, name="drop")] if dropout else [])
                + [layer("Dense", units=classes, activation=act, name="predictions")])

    layers += head(include_top=include_top, pooling=pooling, num_classes=num_classes,
                   classifier_activation=classifier_activation, classifier=classifier,
                   pool_names=("avg_pool", "max_pool"))
    return spec(name, input_shape, layers)


VGG = Family("vgg", vgg_spec, input_shape=(224, 224, 3), num_classes=1000,
             paper=PAPER + ", Table 1", min_size=32, min_size_reason=MIN_SIZE_REASON)
CIFAR_VGG = Family("cifar_vgg", cifar_vgg_spec, input_shape=(32, 32, 3), num_classes=10,
                   paper=PAPER + " (CIFAR-10 size: one dense layer, BatchNorm)", min_size=32,
                   min_size_reason=MIN_SIZE_REASON)

# ----------------------------------------------------------------------------- the variants, as published


@register_model(VGG, config="A", layers=(1, 1, 2, 2, 2), trainable_params=132_863_336, macs=7_609_090_048,
                pretrained={"imagenet": torchvision("vgg11-8a719046.pth", 69.02, 88.628)})
def vgg11(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
          weights=None, model_name=None, preprocessing=None, dropout=0.5, fc_units=4096, bn_momentum=0.9,
          bn_epsilon=1e-5, kernel_initializer="glorot_uniform"):
    """VGG-11 (configuration A): 8 3x3 convolutions in blocks (1, 1, 2, 2, 2), three dense layers.

    Example:
        >>> model = vgg11(input_shape=(32, 32, 3), include_top=False)
        >>> tuple(model.output.shape)
        (None, 1, 1, 512)
    """
    return create("vgg11", **locals())


@register_model(VGG, config="B", layers=(2, 2, 2, 2, 2), trainable_params=133_047_848, macs=11_308_466_176,
                pretrained={"imagenet": torchvision("vgg13-19584684.pth", 69.928, 89.246)})
def vgg13(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
          weights=None, model_name=None, preprocessing=None, dropout=0.5, fc_units=4096, bn_momentum=0.9,
          bn_epsilon=1e-5, kernel_initializer="glorot_uniform"):
    """VGG-13 (configuration B): 10 3x3 convolutions in blocks (2, 2, 2, 2, 2), three dense layers.

    Example:
        >>> from deepkit.models import get_spec
        >>> [len(e["sequential"]["layers"]) - 1 for e in get_spec("vgg13")["layers"][:5]]
        [2, 2, 2, 2, 2]
    """
    return create("vgg13", **locals())


@register_model(VGG, config="D", layers=(2, 2, 3, 3, 3), trainable_params=138_357_544, macs=15_470_264_320,
                pretrained={"imagenet": torchvision("vgg16-397923af.pth", 71.592, 90.382)})
def vgg16(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
          weights=None, model_name=None, preprocessing=None, dropout=0.5, fc_units=4096, bn_momentum=0.9,
          bn_epsilon=1e-5, kernel_initializer="glorot_uniform"):
    """VGG-16 (configuration D): 13 3x3 convolutions in blocks (2, 2, 3, 3, 3), three dense layers.

    Example:
        >>> model = vgg16(input_shape=(64, 64, 3), num_classes=10, fc_units=256)
        >>> tuple(model.get_layer("fc1").kernel.shape)  # 2x2x512 after block5_pool
        (2048, 256)
    """
    return create("vgg16", **locals())


@register_model(VGG, config="E", layers=(2, 2, 4, 4, 4), trainable_params=143_667_240, macs=19_632_062_464,
                pretrained={"imagenet": torchvision("vgg19-dcbb9e9d.pth", 72.376, 90.876)})
def vgg19(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
          weights=None, model_name=None, preprocessing=None, dropout=0.5, fc_units=4096, bn_momentum=0.9,
          bn_epsilon=1e-5, kernel_initializer="glorot_uniform"):
    """VGG-19 (configuration E): 16 3x3 convolutions in blocks (2, 2, 4, 4, 4), three dense layers.

    Example:
        >>> from deepkit.models import get_spec
        >>> [len(e["sequential"]["layers"]) - 1 for e in get_spec("vgg19")["layers"][:5]]
        [2, 2, 4, 4, 4]
    """
    return create("vgg19", **locals())


@register_model(VGG, config="A", layers=(1, 1, 2, 2, 2), batch_norm=True,
                trainable_params=132_868_840, macs=7_609_090_048,
                pretrained={"imagenet": torchvision("vgg11_bn-6002323d.pth", 70.37, 89.81)})
def vgg11_bn(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
             weights=None, model_name=None, preprocessing=None, dropout=0.5, fc_units=4096, bn_momentum=0.9,
             bn_epsilon=1e-5, kernel_initializer="glorot_uniform"):
    """VGG-11 (configuration A) with BatchNorm after every convolution (torchvision's ``vgg11_bn``).

    Example:
        >>> from deepkit.models import get_spec
        >>> [next(iter(e)) for e in get_spec("vgg11_bn")["layers"][0]["sequential"]["layers"]]
        ['Conv2D', 'BatchNormalization', 'ReLU', 'MaxPooling2D']
    """
    return create("vgg11_bn", **locals())


@register_model(VGG, config="B", layers=(2, 2, 2, 2, 2), batch_norm=True,
                trainable_params=133_053_736, macs=11_308_466_176,
                pretrained={"imagenet": torchvision("vgg13_bn-abd245e5.pth", 71.586, 90.374)})
def vgg13_bn(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
             weights=None, model_name=None, preprocessing=None, dropout=0.5, fc_units=4096, bn_momentum=0.9,
             bn_epsilon=1e-5, kernel_initializer="glorot_uniform"):
    """VGG-13 (configuration B) with BatchNorm after every convolution (torchvision's ``vgg13_bn``).

    Example:
        >>> from deepkit.models import model_info
        >>> model_info("vgg13_bn").trainable_params - model_info("vgg13").trainable_params  # gamma, beta
        5888
    """
    return create("vgg13_bn", **locals())


@register_model(VGG, config="D", layers=(2, 2, 3, 3, 3), batch_norm=True,
                trainable_params=138_365_992, macs=15_470_264_320,
                pretrained={"imagenet": torchvision("vgg16_bn-6c64b313.pth", 73.36, 91.516)})
def vgg16_bn(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
             weights=None, model_name=None, preprocessing=None, dropout=0.5, fc_units=4096, bn_momentum=0.9,
             bn_epsilon=1e-5, kernel_initializer="glorot_uniform"):
    """VGG-16 (configuration D) with BatchNorm after every convolution (torchvision's ``vgg16_bn``).

    Example:
        >>> from deepkit.models import model_info
        >>> model_info("vgg16_bn").trainable_params
        138365992
    """
    return create("vgg16_bn", **locals())


@register_model(VGG, config="E", layers=(2, 2, 4, 4, 4), batch_norm=True,
                trainable_params=143_678_248, macs=19_632_062_464,
                pretrained={"imagenet": torchvision("vgg19_bn-c79401a0.pth", 74.218, 91.842)})
def vgg19_bn(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
             weights=None, model_name=None, preprocessing=None, dropout=0.5, fc_units=4096, bn_momentum=0.9,
             bn_epsilon=1e-5, kernel_initializer="glorot_uniform"):
    """VGG-19 (configuration E) with BatchNorm after every convolution (torchvision's ``vgg19_bn``).

    Example:
        >>> from deepkit.models import model_info
        >>> model_info("vgg19_bn").trainable_params
        143678248
    """
    return create("vgg19_bn", **locals())


@register_model(CIFAR_VGG, layers=(1, 1, 2, 2, 2), trainable_params=9_231_114, macs=152_769_536)
def cifar_vgg11(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
                weights=None, model_name=None, preprocessing=None, batch_norm=True, dropout=0.0, bn_momentum=0.9,
                bn_epsilon=1e-5, kernel_initializer="he_normal"):
    """CIFAR-10 VGG-11: VGG's blocks (1, 1, 2, 2, 2) with BatchNorm, 1x1x512 -> one dense layer.

    Example:
        >>> from deepkit.models import count_trainable
        >>> count_trainable(cifar_vgg11())
        9231114
    """
    return create("cifar_vgg11", **locals())


@register_model(CIFAR_VGG, layers=(2, 2, 2, 2, 2), trainable_params=9_416_010, macs=228_267_008)
def cifar_vgg13(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
                weights=None, model_name=None, preprocessing=None, batch_norm=True, dropout=0.0, bn_momentum=0.9,
                bn_epsilon=1e-5, kernel_initializer="he_normal"):
    """CIFAR-10 VGG-13: VGG's blocks (2, 2, 2, 2, 2) with BatchNorm, 1x1x512 -> one dense layer.

    Example:
        >>> from deepkit.models import model_info
        >>> model_info("cifar_vgg13").trainable_params
        9416010
    """
    return create("cifar_vgg13", **locals())


@register_model(CIFAR_VGG, layers=(2, 2, 3, 3, 3), trainable_params=14_728_266, macs=313_201_664)
def cifar_vgg16(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
                weights=None, model_name=None, preprocessing=None, batch_norm=True, dropout=0.0, bn_momentum=0.9,
                bn_epsilon=1e-5, kernel_initializer="he_normal"):
    """CIFAR-10 VGG-16: VGG's blocks (2, 2, 3, 3, 3) with BatchNorm, 1x1x512 -> one dense layer.

    Example:
        >>> from deepkit.models import model_info
        >>> model_info("cifar_vgg16").trainable_params
        14728266
    """
    return create("cifar_vgg16", **locals())


@register_model(CIFAR_VGG, layers=(2, 2, 4, 4, 4), trainable_params=20_040_522, macs=398_136_320)
def cifar_vgg19(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
                weights=None, model_name=None, preprocessing=None, batch_norm=True, dropout=0.0, bn_momentum=0.9,
                bn_epsilon=1e-5, kernel_initializer="he_normal"):
    """CIFAR-10 VGG-19: VGG's blocks (2, 2, 4, 4, 4) with BatchNorm, 1x1x512 -> one dense layer.

    Example:
        >>> from deepkit.models import model_info
        >>> model_info("cifar_vgg19").trainable_params
        20040522
    """
    return create("cifar_vgg19", **locals())

