"""Residual networks (He, Zhang, Ren & Sun, "Deep residual learning for image recognition", CVPR 2016,
arXiv:1512.03385): the ImageNet family of Table 1 and the CIFAR-10 family of section 4.2.

Each family is a table of depths, as in timm's ``resnet.py``; the spec builders below expand a row into
the spec that ``model.to_spec()`` prints. Layer names follow torchvision (``conv1``, ``bn1``,
``layer2_block0_conv1``, ``layer2_block0_downsample_conv``, ``fc``), so ``model.get_layer(...)`` reads like
``model.layer2[0].conv1`` there.

ImageNet ResNets (224x224x3, 1000 classes; bias-free convolutions, BatchNorm with torchvision's
epsilon 1e-5 and momentum 0.1, i.e. Keras ``momentum=0.9``):

=============  ===========  ===================  ======================================================
name           block        blocks per stage     trainable parameters (= torchvision)
=============  ===========  ===================  ======================================================
``resnet18``   basic        2, 2, 2, 2           11,689,512
``resnet34``   basic        3, 4, 6, 3           21,797,672
``resnet50``   bottleneck   3, 4, 6, 3           25,557,032
``resnet101``  bottleneck   3, 4, 23, 3          44,549,160
``resnet152``  bottleneck   3, 8, 36, 3          60,192,808
=============  ===========  ===================  ======================================================

Stride placement: by default a downsampling bottleneck has its stride in the 3x3 convolution, as
torchvision ("ResNet v1.5"): ResNet-50 then needs 4.09 G multiply-adds. ``stride_in_1x1=True`` puts it in
the first 1x1 convolution as the original paper and keras.applications do: 3.86 G, the "3.8 x 10^9" of
Table 1. Parameters are the same either way. Stride-2 3x3 convolutions (and the 7x7 stem and the max-pool)
pad one (three) pixel(s) on every side, as torchvision and keras.applications, not Keras' ``"same"``
(which pads only after).

CIFAR-10 ResNets (32x32x3, 10 classes; depth 6n+2: a 3x3 convolution, three stages of n basic blocks
with 16, 32 and 64 filters, global average pooling, a 10-way dense layer; "option A" identity shortcuts
that subsample and zero-pad channels, :class:`deepkit.layers.ChannelPadShortcut`):

====================  ====  ===============
name                  n     trainable
====================  ====  ===============
``cifar_resnet20``    3     269,722
``cifar_resnet32``    5     464,154
``cifar_resnet44``    7     658,586
``cifar_resnet56``    9     853,018
``cifar_resnet110``   18    1,727,962
``cifar_resnet1202``  200   19,421,274
====================  ====  ===============

(``97,216 n - 21,926`` trainable parameters; ResNet-20 needs 40.6 M multiply-adds.)

Example:
    >>> from deepkit.models import create, count_trainable
    >>> count_trainable(create("cifar_resnet20"))
    269722
"""

import functools

from deepkit.models._common import conv, head, layer, spec
from deepkit.models.registry import ModelInfo, create, register_model

PAPER = "He, Zhang, Ren & Sun 2015, Deep residual learning for image recognition"

# timm-style tables: one line per variant.
IMAGENET_RESNETS = {
    "resnet18": dict(block="basic", layers=(2, 2, 2, 2), trainable_params=11_689_512, macs=1_814_073_344),
    "resnet34": dict(block="basic", layers=(3, 4, 6, 3), trainable_params=21_797_672, macs=3_663_761_408),
    "resnet50": dict(block="bottleneck", layers=(3, 4, 6, 3), trainable_params=25_557_032, macs=4_089_184_256),
    "resnet101": dict(block="bottleneck", layers=(3, 4, 23, 3), trainable_params=44_549_160, macs=7_801_405_440),
    "resnet152": dict(block="bottleneck", layers=(3, 8, 36, 3), trainable_params=60_192_808, macs=11_513_626_624),
}
CIFAR_RESNETS = {
    "cifar_resnet20": dict(n=3, trainable_params=269_722, macs=40_551_040),
    "cifar_resnet32": dict(n=5, trainable_params=464_154, macs=68_862_592),
    "cifar_resnet44": dict(n=7, trainable_params=658_586, macs=97_174_144),
    "cifar_resnet56": dict(n=9, trainable_params=853_018, macs=125_485_696),
    "cifar_resnet110": dict(n=18, trainable_params=1_727_962, macs=252_887_680),
    "cifar_resnet1202": dict(n=200, trainable_params=19_421_274, macs=2_829_238_912),
}
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


def _basic_block(style, prefix, planes, strides, shortcut):
    main = [*style.conv(planes, 3, strides, f"{prefix}_conv1"), style.bn(f"{prefix}_bn1"),
            layer("ReLU", name=f"{prefix}_relu1"),
            *style.conv(planes, 3, 1, f"{prefix}_conv2"), style.bn(f"{prefix}_bn2", last=True)]
    return main, shortcut


def _bottleneck_block(style, prefix, planes, strides, shortcut, stride_in_1x1):
    s1, s3 = (strides, 1) if stride_in_1x1 else (1, strides)
    main = [*style.conv(planes, 1, s1, f"{prefix}_conv1"), style.bn(f"{prefix}_bn1"),
            layer("ReLU", name=f"{prefix}_relu1"),
            *style.conv(planes, 3, s3, f"{prefix}_conv2"), style.bn(f"{prefix}_bn2"),
            layer("ReLU", name=f"{prefix}_relu2"),
            *style.conv(planes * 4, 1, 1, f"{prefix}_conv3"), style.bn(f"{prefix}_bn3", last=True)]
    return main, shortcut


def _projection(style, prefix, filters, strides):
    """Option B shortcut: 1x1 convolution with the block's stride, then BatchNorm (torchvision's downsample)."""
    return [*style.conv(filters, 1, strides, f"{prefix}_downsample_conv"), style.bn(f"{prefix}_downsample_bn")]


def _residual(main, shortcut, name):
    body = {"layers": main}
    if shortcut is not None:
        body["shortcut"] = shortcut
    body["activation"] = "relu"
    body["name"] = name
    return {"residual": body}


def resnet_spec(variant, input_shape, num_classes, include_top, pooling, classifier_activation, name,
                stride_in_1x1=False, zero_init_residual=False, bn_epsilon=1e-5, bn_momentum=0.9,
                kernel_initializer="he_normal"):
    """Spec data of an ImageNet ResNet from its row of ``IMAGENET_RESNETS``.

    Args:
        variant: ``"resnet18"`` ... ``"resnet152"``, or a dict ``{"block": "basic"|"bottleneck",
            "layers": (n1, n2, n3, n4)}`` for another depth.
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
        >>> data = resnet_spec("resnet18", (224, 224, 3), 1000, True, None, "softmax", "resnet18")
        >>> [next(iter(e)) for e in data["layers"]][:7]
        ['ZeroPadding2D', 'Conv2D', 'BatchNormalization', 'ReLU', 'ZeroPadding2D', 'MaxPooling2D', 'sequential']
    """
    row = IMAGENET_RESNETS[variant] if isinstance(variant, str) else variant
    block, depths = row["block"], tuple(row["layers"])
    if block not in EXPANSION:
        raise ValueError(f"deepkit.models resnet: block must be 'basic' or 'bottleneck'. Received: block={block!r}")
    style = _Style(bn_epsilon, bn_momentum, kernel_initializer, zero_init_residual)
    layers = [*style.conv(64, 7, 2, "conv1"), style.bn("bn1"), layer("ReLU", name="relu"),
              layer("ZeroPadding2D", padding=1, name="maxpool_pad"),
              layer("MaxPooling2D", pool_size=3, strides=2, name="maxpool")]
    inplanes = 64
    for stage, (blocks, planes) in enumerate(zip(depths, (64, 128, 256, 512)), start=1):
        stage_layers = []
        for b in range(blocks):
            strides = 2 if (b == 0 and stage > 1) else 1
            prefix = f"layer{stage}_block{b}"
            out = planes * EXPANSION[block]
            shortcut = _projection(style, prefix, out, strides) if (strides != 1 or inplanes != out) else None
            if block == "basic":
                main, shortcut = _basic_block(style, prefix, planes, strides, shortcut)
            else:
                main, shortcut = _bottleneck_block(style, prefix, planes, strides, shortcut, stride_in_1x1)
            stage_layers.append(_residual(main, shortcut, f"block{b}"))
            inplanes = out
        layers.append({"sequential": {"layers": stage_layers, "name": f"layer{stage}"}})

    def classifier(classes, act):
        return [layer("GlobalAveragePooling2D", name="avgpool"),
                layer("Dense", units=classes, activation=act, name="fc")]

    layers += head(include_top=include_top, pooling=pooling, num_classes=num_classes,
                   classifier_activation=classifier_activation, classifier=classifier)
    return spec(name, input_shape, layers)


def cifar_resnet_spec(variant, input_shape, num_classes, include_top, pooling, classifier_activation, name,
                      shortcut="A", zero_init_residual=False, bn_epsilon=1e-5, bn_momentum=0.9,
                      kernel_initializer="he_normal"):
    """Spec data of a CIFAR ResNet (depth 6n+2) from its row of ``CIFAR_RESNETS``.

    Args:
        variant: ``"cifar_resnet20"`` ... ``"cifar_resnet1202"``, or a dict ``{"n": blocks_per_stage}``.
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
        >>> data = cifar_resnet_spec("cifar_resnet20", (32, 32, 3), 10, True, None, None, "r20")
        >>> data["layers"][4]["sequential"]["layers"][0]["residual"]["shortcut"]
        [{'ChannelPadShortcut': {'filters': 32, 'strides': 2, 'name': 'layer2_block0_shortcut'}}]
    """
    n = (CIFAR_RESNETS[variant] if isinstance(variant, str) else variant)["n"]
    if str(shortcut).upper() not in ("A", "B"):
        raise ValueError(f"deepkit.models cifar_resnet: shortcut must be 'A' or 'B'. Received: shortcut={shortcut!r}")
    style = _Style(bn_epsilon, bn_momentum, kernel_initializer, zero_init_residual)
    layers = [*style.conv(16, 3, 1, "conv1"), style.bn("bn1"), layer("ReLU", name="relu")]
    inplanes = 16
    for stage, planes in enumerate((16, 32, 64), start=1):
        stage_layers = []
        for b in range(n):
            strides = 2 if (b == 0 and stage > 1) else 1
            prefix = f"layer{stage}_block{b}"
            short = None
            if strides != 1 or inplanes != planes:
                short = ([layer("ChannelPadShortcut", filters=planes, strides=strides, name=f"{prefix}_shortcut")]
                         if str(shortcut).upper() == "A" else _projection(style, prefix, planes, strides))
            main, short = _basic_block(style, prefix, planes, strides, short)
            stage_layers.append(_residual(main, short, f"block{b}"))
            inplanes = planes
        layers.append({"sequential": {"layers": stage_layers, "name": f"layer{stage}"}})

    def classifier(classes, act):
        return [layer("GlobalAveragePooling2D", name="avgpool"),
                layer("Dense", units=classes, activation=act, name="fc")]

    layers += head(include_top=include_top, pooling=pooling, num_classes=num_classes,
                   classifier_activation=classifier_activation, classifier=classifier)
    return spec(name, input_shape, layers)


_RESNET_OPTIONS = {"stride_in_1x1": False, "zero_init_residual": False, "bn_epsilon": 1e-5, "bn_momentum": 0.9,
                   "kernel_initializer": "he_normal"}
_CIFAR_OPTIONS = {"shortcut": "A", "zero_init_residual": False, "bn_epsilon": 1e-5, "bn_momentum": 0.9,
                  "kernel_initializer": "he_normal"}

for _name, _row in IMAGENET_RESNETS.items():
    register_model(ModelInfo(
        name=_name, family="resnet", spec_fn=functools.partial(resnet_spec, _name), input_shape=(224, 224, 3),
        num_classes=1000, options=dict(_RESNET_OPTIONS), paper=PAPER + ", Table 1",
        trainable_params=_row["trainable_params"], macs=_row["macs"],
        description=f"ImageNet ResNet-{_name[6:]}: {_row['block']} blocks {_row['layers']}, torchvision layout",
        min_size=32, min_size_reason=("it halves the image five times (stem convolution, max-pool, layer2, "
                                      "layer3, layer4), so layer4 would see less than one pixel of a smaller "
                                      "image (keras.applications has the same minimum).")))
for _name, _row in CIFAR_RESNETS.items():
    register_model(ModelInfo(
        name=_name, family="cifar_resnet", spec_fn=functools.partial(cifar_resnet_spec, _name),
        input_shape=(32, 32, 3), num_classes=10, options=dict(_CIFAR_OPTIONS), paper=PAPER + ", section 4.2",
        trainable_params=_row["trainable_params"], macs=_row["macs"],
        description=f"CIFAR-10 ResNet-{_name[12:]}: 3 stages of {_row['n']} basic blocks, option A shortcuts",
        min_size=4, min_size_reason="it halves the image twice (layer2, layer3), so layer3 needs 4x4 inputs."),
        aliases=(_name[6:],))


def resnet18(input_shape=None, num_classes=None, **kwargs):
    """ResNet-18 for ImageNet: 11,689,512 trainable parameters, 1.8 G multiply-adds at 224x224.

    Args:
        input_shape: (H, W, C), default (224, 224, 3), at least 32x32.
        num_classes: default 1000.
        **kwargs: ``include_top``, ``pooling``, ``classifier_activation``, ``weights``, ``model_name`` and the
            options of :func:`resnet_spec`; see :func:`deepkit.models.create`.

    Returns:
        A ``deepkit.Model``.

    Example:
        >>> model = resnet18(input_shape=(32, 32, 3), num_classes=10)
        >>> tuple(model.get_layer("layer4_block1_conv2").output.shape)
        (None, 1, 1, 512)
    """
    return create("resnet18", input_shape=input_shape, num_classes=num_classes, **kwargs)


def resnet34(input_shape=None, num_classes=None, **kwargs):
    """ResNet-34 for ImageNet: 21,797,672 trainable parameters, 3.6 G multiply-adds at 224x224.

    Args:
        input_shape: (H, W, C), default (224, 224, 3), at least 32x32.
        num_classes: default 1000.
        **kwargs: as :func:`resnet18`.

    Returns:
        A ``deepkit.Model``.

    Example:
        >>> from deepkit.models import get_spec
        >>> [len(e["sequential"]["layers"]) for e in get_spec("resnet34")["layers"] if "sequential" in e]
        [3, 4, 6, 3]
    """
    return create("resnet34", input_shape=input_shape, num_classes=num_classes, **kwargs)


def resnet50(input_shape=None, num_classes=None, **kwargs):
    """ResNet-50 for ImageNet: 25,557,032 trainable parameters; 4.1 G multiply-adds (3.8 G with
    ``stride_in_1x1=True``) at 224x224.

    Args:
        input_shape: (H, W, C), default (224, 224, 3), at least 32x32.
        num_classes: default 1000.
        **kwargs: as :func:`resnet18`; ``stride_in_1x1=True`` is the paper's / keras.applications' layout.

    Returns:
        A ``deepkit.Model``.

    Example:
        >>> from deepkit.models import get_spec
        >>> block = get_spec("resnet50")["layers"][7]["sequential"]["layers"][0]["residual"]  # layer2, block 0
        >>> [next(iter(e.values()))["name"] for e in block["layers"]][3:5]  # the stride sits in the 3x3
        ['layer2_block0_conv2_pad', 'layer2_block0_conv2']
    """
    return create("resnet50", input_shape=input_shape, num_classes=num_classes, **kwargs)


def resnet101(input_shape=None, num_classes=None, **kwargs):
    """ResNet-101 for ImageNet: 44,549,160 trainable parameters, 7.8 G multiply-adds at 224x224.

    Args:
        input_shape: (H, W, C), default (224, 224, 3), at least 32x32.
        num_classes: default 1000.
        **kwargs: as :func:`resnet18`.

    Returns:
        A ``deepkit.Model``.

    Example:
        >>> from deepkit.models import get_spec
        >>> len(get_spec("resnet101")["layers"][8]["sequential"]["layers"])  # blocks of layer3
        23
    """
    return create("resnet101", input_shape=input_shape, num_classes=num_classes, **kwargs)


def resnet152(input_shape=None, num_classes=None, **kwargs):
    """ResNet-152 for ImageNet: 60,192,808 trainable parameters, 11.5 G multiply-adds at 224x224.

    Args:
        input_shape: (H, W, C), default (224, 224, 3), at least 32x32.
        num_classes: default 1000.
        **kwargs: as :func:`resnet18`.

    Returns:
        A ``deepkit.Model``.

    Example:
        >>> from deepkit.models import get_spec
        >>> [len(e["sequential"]["layers"]) for e in get_spec("resnet152")["layers"] if "sequential" in e]
        [3, 8, 36, 3]
    """
    return create("resnet152", input_shape=input_shape, num_classes=num_classes, **kwargs)


def cifar_resnet20(input_shape=None, num_classes=None, **kwargs):
    """CIFAR-10 ResNet-20 (option A): 269,722 trainable parameters, 40.6 M multiply-adds.

    Args:
        input_shape: (H, W, C), default (32, 32, 3).
        num_classes: default 10.
        **kwargs: ``include_top``, ``pooling``, ``classifier_activation``, ``weights``, ``model_name`` and the
            options of :func:`cifar_resnet_spec` (``shortcut="B"``...); see :func:`deepkit.models.create`.

    Returns:
        A ``deepkit.Model``.

    Example:
        >>> import deepkit
        >>> round(deepkit.count_macs(cifar_resnet20()) / 1e6, 1)
        40.6
    """
    return create("cifar_resnet20", input_shape=input_shape, num_classes=num_classes, **kwargs)


def cifar_resnet32(input_shape=None, num_classes=None, **kwargs):
    """CIFAR-10 ResNet-32 (option A): 464,154 trainable parameters.

    Args:
        input_shape: (H, W, C), default (32, 32, 3).
        num_classes: default 10.
        **kwargs: as :func:`cifar_resnet20`.

    Returns:
        A ``deepkit.Model``.

    Example:
        >>> from deepkit.models import get_spec
        >>> len(get_spec("cifar_resnet32")["layers"][3]["sequential"]["layers"])  # blocks per stage
        5
    """
    return create("cifar_resnet32", input_shape=input_shape, num_classes=num_classes, **kwargs)


def cifar_resnet44(input_shape=None, num_classes=None, **kwargs):
    """CIFAR-10 ResNet-44 (option A): 658,586 trainable parameters.

    Args:
        input_shape: (H, W, C), default (32, 32, 3).
        num_classes: default 10.
        **kwargs: as :func:`cifar_resnet20`.

    Returns:
        A ``deepkit.Model``.

    Example:
        >>> from deepkit.models import get_spec
        >>> len(get_spec("cifar_resnet44")["layers"][3]["sequential"]["layers"])  # blocks per stage
        7
    """
    return create("cifar_resnet44", input_shape=input_shape, num_classes=num_classes, **kwargs)


def cifar_resnet56(input_shape=None, num_classes=None, **kwargs):
    """CIFAR-10 ResNet-56 (option A): 853,018 trainable parameters.

    Args:
        input_shape: (H, W, C), default (32, 32, 3).
        num_classes: default 10.
        **kwargs: as :func:`cifar_resnet20`.

    Returns:
        A ``deepkit.Model``.

    Example:
        >>> from deepkit.models import get_spec
        >>> len(get_spec("cifar_resnet56")["layers"][5]["sequential"]["layers"])  # blocks of layer3
        9
    """
    return create("cifar_resnet56", input_shape=input_shape, num_classes=num_classes, **kwargs)


def cifar_resnet110(input_shape=None, num_classes=None, **kwargs):
    """CIFAR-10 ResNet-110 (option A): 1,727,962 trainable parameters.

    Args:
        input_shape: (H, W, C), default (32, 32, 3).
        num_classes: default 10.
        **kwargs: as :func:`cifar_resnet20`.

    Returns:
        A ``deepkit.Model``.

    Example:
        >>> from deepkit.models import get_spec
        >>> len(get_spec("cifar_resnet110")["layers"][3]["sequential"]["layers"])
        18
    """
    return create("cifar_resnet110", input_shape=input_shape, num_classes=num_classes, **kwargs)


def cifar_resnet1202(input_shape=None, num_classes=None, **kwargs):
    """CIFAR-10 ResNet-1202 (option A): 19,421,274 trainable parameters ("19.4M" in the paper).

    Args:
        input_shape: (H, W, C), default (32, 32, 3).
        num_classes: default 10.
        **kwargs: as :func:`cifar_resnet20`.

    Returns:
        A ``deepkit.Model`` (building it takes a while: about 4,000 layers).

    Example:
        >>> from deepkit.models import get_spec
        >>> len(get_spec("cifar_resnet1202")["layers"][3]["sequential"]["layers"])
        200
    """
    return create("cifar_resnet1202", input_shape=input_shape, num_classes=num_classes, **kwargs)
