"""Residual networks (He, Zhang, Ren & Sun, "Deep residual learning for image recognition", CVPR 2016,
arXiv:1512.03385): the ImageNet family of Table 1 and the CIFAR-10 family of section 4.2.

Each variant is a row of depths, as in timm's ``resnet.py``; the spec builders below expand a row into
the spec that ``model.to_spec()`` prints. Layer names follow torchvision (``conv1``, ``bn1``,
``layer2_block0_conv1``, ``layer2_block0_downsample_conv``, ``fc``), so ``model.get_layer(...)`` reads like
``model.layer2[0].conv1`` there.

ImageNet ResNets (224x224x3, 1000 classes; bias-free convolutions, BatchNorm with torchvision's
epsilon 1e-5 and momentum 0.1, i.e. Keras ``momentum=0.9``):

=============  ===========  ===================
name           block        blocks per stage
=============  ===========  ===================
``resnet18``   basic        2, 2, 2, 2
``resnet34``   basic        3, 4, 6, 3
``resnet50``   bottleneck   3, 4, 6, 3
``resnet101``  bottleneck   3, 4, 23, 3
``resnet152``  bottleneck   3, 8, 36, 3
=============  ===========  ===================

Stride placement: by default a downsampling bottleneck has its stride in the 3x3 convolution, as
torchvision ("ResNet v1.5"): ResNet-50 then needs 4.09 G multiply-adds. ``stride_in_1x1=True`` puts it in
the first 1x1 convolution as the original paper and keras.applications do: 3.86 G, the "3.8 x 10^9" of
Table 1. Parameters are the same either way. Stride-2 3x3 convolutions (and the 7x7 stem and the max-pool)
pad one (three) pixel(s) on every side, as torchvision and keras.applications, not Keras' ``"same"``
(which pads only after).

CIFAR-10 ResNets (32x32x3, 10 classes; depth 6n+2: a 3x3 convolution, three stages of n basic blocks
with 16, 32 and 64 filters, global average pooling, a 10-way dense layer; "option A" identity shortcuts
that subsample and zero-pad channels, :class:`deepkit.layers.ChannelPadShortcut`):

====================  ====
name                  n
====================  ====
``cifar_resnet20``    3
``cifar_resnet32``    5
``cifar_resnet44``    7
``cifar_resnet56``    9
``cifar_resnet110``   18
``cifar_resnet1202``  200
====================  ====

(``97,216 n - 21,926`` trainable parameters.)

Each variant is one ``@register_model`` declaration at the end of this file, with its published counts
(``deepkit models`` lists them); both families share one stage builder, :func:`resnet_stages`.

Example:
    >>> from deepkit.models import create, count_trainable
    >>> count_trainable(create("cifar_resnet20"))
    269722
"""

from deepkit.models._common import conv, head, layer, spec
from deepkit.models.imagenet import torchvision
from deepkit.models.registry import Family, create, register_model

__all__ = ["resnet_stages", "resnet_spec", "cifar_resnet_spec", "resnet18", "resnet34", "resnet50", "resnet101",
           "resnet152", "cifar_resnet20", "cifar_resnet32", "cifar_resnet44", "cifar_resnet56", "cifar_resnet110",
           "cifar_resnet1202"]

PAPER = "He, Zhang, Ren & Sun 2015, Deep residual learning for image recognition"
EXPANSION = {"basic": 1, "bottleneck": 4}


class _Style:
    """Per-model constants shared by every convolution and BatchNorm entry."""

    def __init__(self, bn_epsilon, bn_momentum, kernel_initializer, zero_init_residual):
        self.eps, self.momentum = bn_epsilon, bn_momentum
        self.init, self.zero_last = kernel_initializer, zero_init_residual

    def conv(self, filters, kernel_size, strides, name):
        """A bias-free convolution; stride-2 kernels larger than 1 get explicit symmetric padding."""
        if kernel_size > 1 and strides > 1:
            return [layer("ZeroPadding2D", padding=kernel_size // 2, name=f"{name}_pad"),
                    conv(filters, kernel_size, strides=strides, use_bias=False,
                         kernel_initializer=self.init, name=name)]
        return [conv(filters, kernel_size, strides=strides, padding="same" if kernel_size > 1 else "valid",
                     use_bias=False, kernel_initializer=self.init, name=name)]

    def bn(self, name, last=False):
        return layer("BatchNormalization", momentum=self.momentum, epsilon=self.eps,
                     gamma_initializer="zeros" if (last and self.zero_last) else None, name=name)


def _basic_block(style, prefix, planes, strides, stride_in_1x1):
    return [*style.conv(planes, 3, strides, f"{prefix}_conv1"), style.bn(f"{prefix}_bn1"),
            layer("ReLU", name=f"{prefix}_relu1"),
            *style.conv(planes, 3, 1, f"{prefix}_conv2"), style.bn(f"{prefix}_bn2", last=True)]


def _bottleneck_block(style, prefix, planes, strides, stride_in_1x1):
    s1, s3 = (strides, 1) if stride_in_1x1 else (1, strides)
    return [*style.conv(planes, 1, s1, f"{prefix}_conv1"), style.bn(f"{prefix}_bn1"),
            layer("ReLU", name=f"{prefix}_relu1"),
            *style.conv(planes, 3, s3, f"{prefix}_conv2"), style.bn(f"{prefix}_bn2"),
            layer("ReLU", name=f"{prefix}_relu2"),
            *style.conv(planes * 4, 1, 1, f"{prefix}_conv3"), style.bn(f"{prefix}_bn3", last=True)]


_BLOCKS = {"basic": _basic_block, "bottleneck": _bottleneck_block}


def _shortcut(style, kind, prefix, filters, strides):
    """Option A: parameter-free subsample and zero-pad; option B: 1x1 convolution and BatchNorm
    (torchvision's downsample)."""
    if kind == "A":
        return [layer("ChannelPadShortcut", filters=filters, strides=strides, name=f"{prefix}_shortcut")]
    return [*style.conv(filters, 1, strides, f"{prefix}_downsample_conv"), style.bn(f"{prefix}_downsample_bn")]


def _residual(main, shortcut, name):
    body = {"layers": main}
    if shortcut is not None:
        body["shortcut"] = shortcut
    body["activation"] = "relu"
    body["name"] = name
    return {"residual": body}


def resnet_stages(style, block, depths, widths, inplanes, shortcut="B", stride_in_1x1=False):
    """The residual stages of either ResNet family: one ``sequential`` entry per stage (``layer1``...).

    Each stage but the first starts with a stride-2 block; a block whose stride or width changes gets
    a shortcut of the given kind, the others an identity.

    Args:
        style: the ``_Style`` (BatchNorm and convolution constants).
        block: ``"basic"`` or ``"bottleneck"``.
        depths: blocks per stage.
        widths: planes per stage (the bottleneck's output is 4 times wider).
        inplanes: channels entering the first stage.
        shortcut: ``"A"`` (subsample and zero-pad) or ``"B"`` (projection).
        stride_in_1x1: bottlenecks downsample in their first 1x1 convolution.

    Returns:
        A list of spec entries.

    Example:
        >>> stages = resnet_stages(_Style(1e-5, 0.9, "he_normal", False), "basic", (1, 1), (16, 32), 16, "A")
        >>> [e["sequential"]["name"] for e in stages]
        ['layer1', 'layer2']
        >>> stages[1]["sequential"]["layers"][0]["residual"]["shortcut"]
        [{'ChannelPadShortcut': {'filters': 32, 'strides': 2, 'name': 'layer2_block0_shortcut'}}]
    """
    stages = []
    for stage, (blocks, planes) in enumerate(zip(depths, widths), start=1):
        entries = []
        for b in range(blocks):
            strides = 2 if (b == 0 and stage > 1) else 1
            prefix = f"layer{stage}_block{b}"
            out = planes * EXPANSION[block]
            short = _shortcut(style, shortcut, prefix, out, strides) if (strides != 1 or inplanes != out) else None
            entries.append(_residual(_BLOCKS[block](style, prefix, planes, strides, stride_in_1x1), short,
                                     f"block{b}"))
            inplanes = out
        stages.append({"sequential": {"layers": entries, "name": f"layer{stage}"}})
    return stages


def _classifier(classes, act):
    return [layer("GlobalAveragePooling2D", name="avgpool"), layer("Dense", units=classes, activation=act, name="fc")]


def resnet_spec(variant, input_shape, num_classes, include_top, pooling, classifier_activation, name,
                stride_in_1x1=False, zero_init_residual=False, bn_epsilon=1e-5, bn_momentum=0.9,
                kernel_initializer="he_normal"):
    """Spec data of an ImageNet ResNet from its declared row.

    Args:
        variant: the declared row, ``{"block": "basic"|"bottleneck", "layers": (n1, n2, n3, n4)}``
            (``resnet50`` declares ``block="bottleneck", layers=(3, 4, 6, 3)``).
        input_shape: (H, W, C), at least 32x32.
        num_classes: classes of ``fc``.
        include_top: True: global average pool and ``fc``; False: up to ``layer4``.
        pooling: with ``include_top=False``: None, ``"avg"`` or ``"max"``.
        classifier_activation: activation of ``fc``, or None for logits.
        name: model name.
        stride_in_1x1: bottlenecks downsample in their first 1x1 convolution (paper, keras.applications)
            instead of the 3x3 one (torchvision).
        zero_init_residual: the last BatchNorm of each block starts with gamma 0 (Goyal et al. 2017).
        bn_epsilon: BatchNorm epsilon (torchvision 1e-5; keras.applications 1.001e-5).
        bn_momentum: Keras BatchNorm momentum (0.9 is PyTorch's 0.1).
        kernel_initializer: initializer of the convolutions (He et al.'s ``"he_normal"``).

    Returns:
        The spec dict.

    Example:
        >>> data = resnet_spec({"block": "basic", "layers": (2, 2, 2, 2)}, (224, 224, 3), 1000, True, None, "softmax", "resnet18")
        >>> [next(iter(e)) for e in data["layers"]][:7]
        ['ZeroPadding2D', 'Conv2D', 'BatchNormalization', 'ReLU', 'ZeroPadding2D', 'MaxPooling2D', 'sequential']
    """
    block, depths = variant["block"], tuple(variant["layers"])
    if block not in EXPANSION:
        raise ValueError(f"deepkit.models resnet: block must be 'basic' or 'bottleneck'. Received: block={block!r}")
    style = _Style(bn_epsilon, bn_momentum, kernel_initializer, zero_init_residual)
    layers = [*style.conv(64, 7, 2, "conv1"), style.bn("bn1"), layer("ReLU", name="relu"),
              layer("ZeroPadding2D", padding=1, name="maxpool_pad"),
              layer("MaxPooling2D", pool_size=3, strides=2, name="maxpool")]
    layers += resnet_stages(style, block, depths, (64, 128, 256, 512), 64, "B", stride_in_1x1)
    layers += head(include_top=include_top, pooling=pooling, num_classes=num_classes,
                   classifier_activation=classifier_activation, classifier=_classifier)
    return spec(name, input_shape, layers)


def cifar_resnet_spec(variant, input_shape, num_classes, include_top, pooling, classifier_activation, name,
                      shortcut="A", zero_init_residual=False, bn_epsilon=1e-5, bn_momentum=0.9,
                      kernel_initializer="he_normal"):
    """Spec data of a CIFAR ResNet (depth 6n+2) from its declared row.

    Args:
        variant: the declared row, ``{"n": blocks_per_stage}`` (``cifar_resnet20`` declares ``n=3``).
        input_shape: (H, W, C), at least 4x4.
        num_classes: classes of ``fc``.
        include_top: True: global average pool and ``fc``; False: up to ``layer3``.
        pooling: with ``include_top=False``: None, ``"avg"`` or ``"max"``.
        classifier_activation: activation of ``fc``, or None for logits.
        name: model name.
        shortcut: ``"A"`` (the paper's CIFAR choice: parameter-free subsample and zero-pad) or ``"B"``
            (1x1 convolution and BatchNorm where the shape changes).
        zero_init_residual: the last BatchNorm of each block starts with gamma 0.
        bn_epsilon: BatchNorm epsilon.
        bn_momentum: Keras BatchNorm momentum.
        kernel_initializer: initializer of the convolutions.

    Returns:
        The spec dict.

    Example:
        >>> data = cifar_resnet_spec({"n": 3}, (32, 32, 3), 10, True, None, None, "r20")
        >>> data["layers"][4]["sequential"]["layers"][0]["residual"]["shortcut"]
        [{'ChannelPadShortcut': {'filters': 32, 'strides': 2, 'name': 'layer2_block0_shortcut'}}]
    """
    n = variant["n"]
    if str(shortcut).upper() not in ("A", "B"):
        raise ValueError(f"deepkit.models cifar_resnet: shortcut must be 'A' or 'B'. Received: shortcut={shortcut!r}")
    style = _Style(bn_epsilon, bn_momentum, kernel_initializer, zero_init_residual)
    layers = [*style.conv(16, 3, 1, "conv1"), style.bn("bn1"), layer("ReLU", name="relu")]
    layers += resnet_stages(style, "basic", (n, n, n), (16, 32, 64), 16, str(shortcut).upper())
    layers += head(include_top=include_top, pooling=pooling, num_classes=num_classes,
                   classifier_activation=classifier_activation, classifier=_classifier)
    return spec(name, input_shape, layers)


RESNET = Family(
    "resnet", resnet_spec, input_shape=(224, 224, 3), num_classes=1000,
    paper=PAPER + ", Table 1", min_size=32,
    min_size_reason=("it halves the image five times (stem convolution, max-pool, layer2, layer3, layer4), so "
                     "layer4 would see less than one pixel of a smaller image (keras.applications has the same "
                     "minimum)."))
CIFAR_RESNET = Family(
    "cifar_resnet", cifar_resnet_spec, input_shape=(32, 32, 3), num_classes=10,
    paper=PAPER + ", section 4.2", min_size=4,
    min_size_reason="it halves the image twice (layer2, layer3), so layer3 needs 4x4 inputs.")

# ----------------------------------------------------------------------------- the variants, as published


@register_model(RESNET, block="basic", layers=(2, 2, 2, 2), trainable_params=11_689_512, macs=1_814_073_344,
                pretrained={"imagenet": torchvision("resnet18-f37072fd.pth", 69.758, 89.078)})
def resnet18(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
             weights=None, model_name=None, preprocessing=None, stride_in_1x1=False, zero_init_residual=False,
             bn_epsilon=1e-5, bn_momentum=0.9, kernel_initializer="he_normal"):
    """ImageNet ResNet-18: basic blocks (2, 2, 2, 2), torchvision layout.

    Example:
        >>> model = resnet18(input_shape=(32, 32, 3), num_classes=10)
        >>> tuple(model.get_layer("layer4_block1_conv2").output.shape)
        (None, 1, 1, 512)
    """
    return create("resnet18", **locals())


@register_model(RESNET, block="basic", layers=(3, 4, 6, 3), trainable_params=21_797_672, macs=3_663_761_408,
                pretrained={"imagenet": torchvision("resnet34-b627a593.pth", 73.314, 91.42)})
def resnet34(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
             weights=None, model_name=None, preprocessing=None, stride_in_1x1=False, zero_init_residual=False,
             bn_epsilon=1e-5, bn_momentum=0.9, kernel_initializer="he_normal"):
    """ImageNet ResNet-34: basic blocks (3, 4, 6, 3), torchvision layout.

    Example:
        >>> from deepkit.models import get_spec
        >>> [len(e["sequential"]["layers"]) for e in get_spec("resnet34")["layers"] if "sequential" in e]
        [3, 4, 6, 3]
    """
    return create("resnet34", **locals())


@register_model(RESNET, block="bottleneck", layers=(3, 4, 6, 3), trainable_params=25_557_032, macs=4_089_184_256,
                pretrained={"imagenet": torchvision("resnet50-0676ba61.pth", 76.13, 92.862)})
def resnet50(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
             weights=None, model_name=None, preprocessing=None, stride_in_1x1=False, zero_init_residual=False,
             bn_epsilon=1e-5, bn_momentum=0.9, kernel_initializer="he_normal"):
    """ImageNet ResNet-50: bottleneck blocks (3, 4, 6, 3), torchvision layout.

    The stride of a downsampling block sits in its 3x3 convolution (torchvision, "v1.5");
    ``stride_in_1x1=True`` is the paper's / keras.applications' layout (3.86 G multiply-adds).

    Example:
        >>> from deepkit.models import get_spec
        >>> block = get_spec("resnet50")["layers"][7]["sequential"]["layers"][0]["residual"]  # layer2, block 0
        >>> [next(iter(e.values()))["name"] for e in block["layers"]][3:5]  # the stride sits in the 3x3
        ['layer2_block0_conv2_pad', 'layer2_block0_conv2']
    """
    return create("resnet50", **locals())


@register_model(RESNET, block="bottleneck", layers=(3, 4, 23, 3), trainable_params=44_549_160, macs=7_801_405_440,
                pretrained={"imagenet": torchvision("resnet101-63fe2227.pth", 77.374, 93.546)})
def resnet101(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
              weights=None, model_name=None, preprocessing=None, stride_in_1x1=False, zero_init_residual=False,
              bn_epsilon=1e-5, bn_momentum=0.9, kernel_initializer="he_normal"):
    """ImageNet ResNet-101: bottleneck blocks (3, 4, 23, 3), torchvision layout.

    Example:
        >>> from deepkit.models import get_spec
        >>> len(get_spec("resnet101")["layers"][8]["sequential"]["layers"])  # blocks of layer3
        23
    """
    return create("resnet101", **locals())


@register_model(RESNET, block="bottleneck", layers=(3, 8, 36, 3), trainable_params=60_192_808, macs=11_513_626_624,
                pretrained={"imagenet": torchvision("resnet152-394f9c45.pth", 78.312, 94.046)})
def resnet152(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
              weights=None, model_name=None, preprocessing=None, stride_in_1x1=False, zero_init_residual=False,
              bn_epsilon=1e-5, bn_momentum=0.9, kernel_initializer="he_normal"):
    """ImageNet ResNet-152: bottleneck blocks (3, 8, 36, 3), torchvision layout.

    Example:
        >>> from deepkit.models import get_spec
        >>> [len(e["sequential"]["layers"]) for e in get_spec("resnet152")["layers"] if "sequential" in e]
        [3, 8, 36, 3]
    """
    return create("resnet152", **locals())


@register_model(CIFAR_RESNET, n=3, trainable_params=269_722, macs=40_551_040, aliases=("resnet20",))
def cifar_resnet20(input_shape=None, num_classes=None, *, include_top=True, pooling=None,
                   classifier_activation="softmax", weights=None, model_name=None, preprocessing=None, shortcut="A",
                   zero_init_residual=False, bn_epsilon=1e-5, bn_momentum=0.9, kernel_initializer="he_normal"):
    """CIFAR-10 ResNet-20: 3 stages of 3 basic blocks, option A shortcuts.

    Example:
        >>> import deepkit
        >>> round(deepkit.count_macs(cifar_resnet20()) / 1e6, 1)
        40.6
    """
    return create("cifar_resnet20", **locals())


@register_model(CIFAR_RESNET, n=5, trainable_params=464_154, macs=68_862_592, aliases=("resnet32",))
def cifar_resnet32(input_shape=None, num_classes=None, *, include_top=True, pooling=None,
                   classifier_activation="softmax", weights=None, model_name=None, preprocessing=None, shortcut="A",
                   zero_init_residual=False, bn_epsilon=1e-5, bn_momentum=0.9, kernel_initializer="he_normal"):
    """CIFAR-10 ResNet-32: 3 stages of 5 basic blocks, option A shortcuts.

    Example:
        >>> from deepkit.models import get_spec
        >>> len(get_spec("cifar_resnet32")["layers"][3]["sequential"]["layers"])  # blocks per stage
        5
    """
    return create("cifar_resnet32", **locals())


@register_model(CIFAR_RESNET, n=7, trainable_params=658_586, macs=97_174_144, aliases=("resnet44",))
def cifar_resnet44(input_shape=None, num_classes=None, *, include_top=True, pooling=None,
                   classifier_activation="softmax", weights=None, model_name=None, preprocessing=None, shortcut="A",
                   zero_init_residual=False, bn_epsilon=1e-5, bn_momentum=0.9, kernel_initializer="he_normal"):
    """CIFAR-10 ResNet-44: 3 stages of 7 basic blocks, option A shortcuts.

    Example:
        >>> from deepkit.models import get_spec
        >>> len(get_spec("cifar_resnet44")["layers"][3]["sequential"]["layers"])  # blocks per stage
        7
    """
    return create("cifar_resnet44", **locals())


@register_model(CIFAR_RESNET, n=9, trainable_params=853_018, macs=125_485_696, aliases=("resnet56",))
def cifar_resnet56(input_shape=None, num_classes=None, *, include_top=True, pooling=None,
                   classifier_activation="softmax", weights=None, model_name=None, preprocessing=None, shortcut="A",
                   zero_init_residual=False, bn_epsilon=1e-5, bn_momentum=0.9, kernel_initializer="he_normal"):
    """CIFAR-10 ResNet-56: 3 stages of 9 basic blocks, option A shortcuts.

    Example:
        >>> from deepkit.models import get_spec
        >>> len(get_spec("cifar_resnet56")["layers"][5]["sequential"]["layers"])  # blocks of layer3
        9
    """
    return create("cifar_resnet56", **locals())


@register_model(CIFAR_RESNET, n=18, trainable_params=1_727_962, macs=252_887_680, aliases=("resnet110",))
def cifar_resnet110(input_shape=None, num_classes=None, *, include_top=True, pooling=None,
                    classifier_activation="softmax", weights=None, model_name=None, preprocessing=None, shortcut="A",
                    zero_init_residual=False, bn_epsilon=1e-5, bn_momentum=0.9, kernel_initializer="he_normal"):
    """CIFAR-10 ResNet-110: 3 stages of 18 basic blocks, option A shortcuts.

    Example:
        >>> from deepkit.models import get_spec
        >>> len(get_spec("cifar_resnet110")["layers"][3]["sequential"]["layers"])
        18
    """
    return create("cifar_resnet110", **locals())


@register_model(CIFAR_RESNET, n=200, trainable_params=19_421_274, macs=2_829_238_912, aliases=("resnet1202",))
def cifar_resnet1202(input_shape=None, num_classes=None, *, include_top=True, pooling=None,
                     classifier_activation="softmax", weights=None, model_name=None, preprocessing=None, shortcut="A",
                     zero_init_residual=False, bn_epsilon=1e-5, bn_momentum=0.9, kernel_initializer="he_normal"):
    """CIFAR-10 ResNet-1202: 3 stages of 200 basic blocks, option A shortcuts ("19.4M" parameters in the paper).

    Building it takes a while: about 4,000 layers.

    Example:
        >>> from deepkit.models import get_spec
        >>> len(get_spec("cifar_resnet1202")["layers"][3]["sequential"]["layers"])
        200
    """
    return create("cifar_resnet1202", **locals())

