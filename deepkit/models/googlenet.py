"""GoogLeNet / Inception v1 (Szegedy et al., "Going deeper with convolutions", CVPR 2015,
arXiv:1409.4842), as the paper drew it and as torchvision builds it, plus a CIFAR-10 size.

Each Inception module is one ``parallel`` spec entry: four branches on the same input (1x1; 1x1 reduce
then 3x3; 1x1 reduce then 5x5; 3x3 max-pool then 1x1 projection) concatenated along the channels. The
widths are Table 1 of the paper (``INCEPTION``). Layers are named after the module and branch:
``inception3a_branch1x1_conv``, ``inception3a_branch3x3_reduce_conv``, ``inception3a_branch3x3_conv``,
``inception3a_branch5x5_reduce_conv``, ``inception3a_branch5x5_conv``, ``inception3a_branchpool_pool``,
``inception3a_branchpool_proj_conv`` and the join ``inception3a_concat``; the stem is ``conv1``,
``maxpool1``, ``conv2`` (1x1), ``conv3`` (3x3), ``maxpool2`` as in torchvision.

- ``googlenet_paper``: the paper: convolutions with biases and ReLU, a true 5x5 branch, LRN after
  ``maxpool1`` and after ``conv3`` (as the paper's figure 3 and the Caffe model), dropout 0.4.
- ``googlenet``: torchvision: every convolution bias-free + BatchNorm (eps 1e-3) + ReLU
  (``BasicConv2d``), a 3x3 kernel in the "5x5" branch (torchvision's known deviation), no LRN, 2x2 last
  max-pool, dropout 0.2.
- ``cifar_googlenet``: CIFAR-10 size (below), BatchNorm, true 5x5 branch.

Each is one ``@register_model`` declaration at the end of this file, with its published counts (with and
without the auxiliary classifiers). (224x224x3, 1000 classes; CIFAR: 32x32x3, 10 classes.) About 1.5 G
multiply-adds at 224x224, the paper's "1.5 billion multiply-adds at inference time". Max-poolings use
``padding="same"``, which for these sizes is PyTorch's / Caffe's ``ceil_mode=True``: 224 -> 112 -> 56
-> 28 -> 14 -> 7 as Table 1.

Auxiliary classifiers (``aux_logits=True``, section 5): after ``inception4a`` and ``inception4d``, a 5x5
average pool with stride 3 (14x14 -> 4x4), a 1x1 convolution with 128 filters, a 1024-unit dense layer,
dropout 0.7 and a dense layer for the classes. They are extra model outputs named ``aux1`` and ``aux2``
(``deepkit.spec.SideOutput``): the model then returns ``{"fc": ..., "aux1": ..., "aux2": ...}``, and the
paper adds their losses with weight 0.3 (``deepkit.recipes`` does). For inference, build without them.

CIFAR-10 (``cifar_googlenet``): the ImageNet stem shrinks the image 8 times before ``inception3a``
(224 -> 28) with a 7x7 stride-2 convolution and two max-pools. The CIFAR stem keeps the same layers
but makes ``conv1`` a 3x3 convolution with stride 1, so it shrinks 32x32 only 4 times, to 8x8 at
``inception3a`` (then 4x4 at ``inception4*``, 2x2 at ``inception5*``); the auxiliary heads pool 2x2 with
stride 2 (4x4 -> 2x2). The Inception modules are the paper's.

Example:
    >>> from deepkit.models import get_spec
    >>> block = next(e["parallel"] for e in get_spec("googlenet_paper")["layers"] if "parallel" in e)
    >>> block["name"], [[next(iter(e.values()))["name"][12:] for e in b] for b in block["branches"]]
    ('inception3a', [['branch1x1_conv'], ['branch3x3_reduce_conv', 'branch3x3_conv'], \
['branch5x5_reduce_conv', 'branch5x5_conv'], ['branchpool_pool', 'branchpool_proj_conv']])
"""

import math

from deepkit.models._common import conv, head, layer, spec
from deepkit.models.imagenet import torchvision
from deepkit.models.registry import Family, create, register_model

__all__ = ["inception", "googlenet_spec", "googlenet", "googlenet_paper", "cifar_googlenet"]

PAPER = "Szegedy et al. 2015, Going deeper with convolutions"

# Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
INCEPTION = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
# Per style: BatchNorm convolutions, kernel of the "5x5" branch, LRN, last max-pool, dropout, stem.
STYLES = {
    "paper": dict(batch_norm=False, kernel5=5, lrn=True, pool4=3, dropout=0.4, conv1=(7, 2), aux_pool=(5, 3)),
    "torchvision": dict(batch_norm=True, kernel5=3, lrn=False, pool4=2, dropout=0.2, conv1=(7, 2), aux_pool=(5, 3)),
    "cifar": dict(batch_norm=True, kernel5=5, lrn=False, pool4=3, dropout=0.2, conv1=(3, 1), aux_pool=(2, 2)),
}


class _Units:
    """Writes a convolution unit: Conv2D + ReLU (paper) or bias-free Conv2D + BatchNorm + ReLU (BasicConv2d)."""

    def __init__(self, batch_norm, bn_momentum, bn_epsilon, kernel_initializer):
        self.batch_norm, self.momentum, self.eps = batch_norm, bn_momentum, bn_epsilon
        self.init = None if kernel_initializer == "glorot_uniform" else kernel_initializer

    def __call__(self, filters, kernel_size, name, conv_name=None, strides=1):
        conv_name = conv_name or f"{name}_conv"
        padding = "same" if (kernel_size > 1 and strides == 1) else "valid"
        if not self.batch_norm:
            return [conv(filters, kernel_size, strides=strides, padding=padding, activation="relu",
                         kernel_initializer=self.init, name=conv_name)]
        return [conv(filters, kernel_size, strides=strides, padding=padding, use_bias=False,
                     kernel_initializer=self.init, name=conv_name),
                layer("BatchNormalization", momentum=self.momentum, epsilon=self.eps, name=f"{name}_bn"),
                layer("ReLU", name=f"{name}_relu")]


def inception(units, name, widths, kernel5=5):
    """One Inception module as a ``parallel`` spec entry (four branches, concatenated).

    Args:
        units: a function ``(filters, kernel_size, name) -> entries`` writing one convolution unit.
        name: the module's name, e.g. ``"inception3a"``.
        widths: ``(#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)`` as Table 1.
        kernel5: kernel size of the "5x5" branch (torchvision uses 3).

    Returns:
        A ``{"parallel": {...}}`` entry.

    Example:
        >>> unit = _Units(False, 0.9, 1e-3, "glorot_uniform")
        >>> block = inception(unit, "inception3a", INCEPTION["3a"])["parallel"]
        >>> [len(b) for b in block["branches"]], block["branches"][1][1]
        ([1, 2, 2, 2], {'Conv2D': {'filters': 128, 'kernel_size': 3, 'padding': 'same', 'activation': 'relu', \
'name': 'inception3a_branch3x3_conv'}})
    """
    b1, r3, b3, r5, b5, proj = widths
    p = f"{name}_"
    branches = [
        units(b1, 1, p + "branch1x1"),
        units(r3, 1, p + "branch3x3_reduce") + units(b3, 3, p + "branch3x3"),
        units(r5, 1, p + "branch5x5_reduce") + units(b5, kernel5, p + "branch5x5"),
        [layer("MaxPooling2D", pool_size=3, strides=1, padding="same", name=p + "branchpool_pool")]
        + units(proj, 1, p + "branchpool_proj"),
    ]
    return {"parallel": {"branches": branches, "name": name}}


def _aux(units, name, num_classes, act, pool, dropout=0.7):
    """An auxiliary classifier (section 5) as a ``side_output`` entry named ``name``."""
    size, stride = pool
    return {"side_output": {"layers": [
        layer("AveragePooling2D", pool_size=size, strides=stride, name=f"{name}_pool"),
        *units(128, 1, name, conv_name=f"{name}_conv"),
        layer("Flatten", name=f"{name}_flatten"),
        layer("Dense", units=1024, activation="relu", name=f"{name}_fc1"),
        layer("Dropout", rate=dropout, name=f"{name}_drop"),
        layer("Dense", units=num_classes, activation=act, name=f"{name}_fc2"),
    ], "name": name}}


def googlenet_spec(variant, input_shape, num_classes, include_top, pooling, classifier_activation, name,
                   aux_logits=False, dropout=None, bn_momentum=0.9, bn_epsilon=1e-3,
                   kernel_initializer="glorot_uniform"):
    """Spec data of a GoogLeNet from its declared row.

    Args:
        variant: the declared row, ``{"style": "paper" | "torchvision" | "cifar"}``.
        input_shape: (H, W, C); at least 32x32 (16x16 for the CIFAR stem), and at least 65x65 (CIFAR: 32x32)
            with ``aux_logits`` so that ``inception4a`` is large enough for the 5x5 auxiliary pool.
        num_classes: classes of ``fc`` (and of the auxiliary classifiers).
        include_top: True: global average pool, dropout and ``fc``; False: up to ``inception5b``.
        pooling: with ``include_top=False``: None, ``"avg"`` or ``"max"``.
        classifier_activation: activation of ``fc`` (and the auxiliary ``fc2``), or None for logits.
        name: model name.
        aux_logits: add the two auxiliary classifiers as extra outputs ``aux1``, ``aux2`` (needs
            ``include_top`` and a known input size).
        dropout: dropout before ``fc``; None: the variant's (paper 0.4, torchvision 0.2).
        bn_momentum: Keras BatchNorm momentum (BatchNorm variants).
        bn_epsilon: BatchNorm epsilon (torchvision's 1e-3).
        kernel_initializer: initializer of the convolutions.

    Returns:
        The spec dict.

    Raises:
        ValueError: ``aux_logits`` without ``include_top``, with an unknown size or too small an input.

    Example:
        >>> data = googlenet_spec({"style": "torchvision"}, (224, 224, 3), 1000, True, None, "softmax", "googlenet")
        >>> [e["parallel"]["name"] for e in data["layers"] if "parallel" in e][-2:]
        ['inception5a', 'inception5b']
    """
    style = STYLES[variant["style"]]
    units = _Units(style["batch_norm"], bn_momentum, bn_epsilon, kernel_initializer)
    dropout = style["dropout"] if dropout is None else dropout
    if aux_logits:
        if not include_top:
            raise ValueError(f"deepkit.models '{name}': aux_logits=True adds classifiers, so it needs "
                             "include_top=True. Received: include_top=False")
        if input_shape[0] is None or input_shape[1] is None:
            raise ValueError(f"deepkit.models '{name}': aux_logits=True needs a known input size (the auxiliary "
                             f"classifiers flatten their maps). Received: input_shape={tuple(input_shape)}")
        shrink = 16 if style["conv1"][1] == 2 else 8
        smallest = min(input_shape[:2])
        if math.ceil(smallest / shrink) < style["aux_pool"][0]:
            need = shrink * (style["aux_pool"][0] - 1) + 1
            raise ValueError(f"deepkit.models '{name}' with aux_logits=True needs images of at least {need}x{need}: "
                             f"inception4a sees the image {shrink} times smaller and the auxiliary classifiers "
                             f"average-pool it with a {style['aux_pool'][0]}x{style['aux_pool'][0]} window. "
                             f"Received: input_shape={tuple(input_shape)}")
    k1, s1 = style["conv1"]
    stem = ([layer("ZeroPadding2D", padding=k1 // 2, name="conv1_pad")] if s1 > 1 else [])
    stem += units(64, k1, "conv1", conv_name="conv1", strides=s1)
    stem.append(layer("MaxPooling2D", pool_size=3, strides=2, padding="same", name="maxpool1"))
    if style["lrn"]:  # Caffe's LRN (local_size 5, alpha 1e-4 divided by the size, k 1) in this layer's terms
        stem.append(layer("LRN", size=5, alpha=2e-5, beta=0.75, k=1.0, name="norm1"))
    stem += units(64, 1, "conv2", conv_name="conv2") + units(192, 3, "conv3", conv_name="conv3")
    if style["lrn"]:
        stem.append(layer("LRN", size=5, alpha=2e-5, beta=0.75, k=1.0, name="norm2"))
    stem.append(layer("MaxPooling2D", pool_size=3, strides=2, padding="same", name="maxpool2"))

    def module(key):
        return inception(units, f"inception{key}", INCEPTION[key], style["kernel5"])

    def aux(aux_name):
        return [_aux(units, aux_name, num_classes, classifier_activation, style["aux_pool"])] if aux_logits else []

    layers = stem + [module("3a"), module("3b"),
                     layer("MaxPooling2D", pool_size=3, strides=2, padding="same", name="maxpool3"),
                     module("4a"), *aux("aux1"), module("4b"), module("4c"), module("4d"), *aux("aux2"),
                     module("4e"),
                     layer("MaxPooling2D", pool_size=style["pool4"], strides=2, padding="same", name="maxpool4"),
                     module("5a"), module("5b")]

    def classifier(classes, act):
        return [layer("GlobalAveragePooling2D", name="avgpool"), layer("Dropout", rate=dropout, name="dropout"),
                layer("Dense", units=classes, activation=act, name="fc")]

    layers += head(include_top=include_top, pooling=pooling, num_classes=num_classes,
                   classifier_activation=classifier_activation, classifier=classifier)
    return spec(name, input_shape, layers)


_HALVES = ("it halves the image five times (conv1, maxpool1, maxpool2, maxpool3, maxpool4), so inception5 "
           "gets a single pixel from a 32x32 image; a smaller one leaves it less than a pixel of image.")
GOOGLENET = Family("googlenet", googlenet_spec, input_shape=(224, 224, 3), num_classes=1000,
                   paper=PAPER + " (torchvision's reading)", min_size=32, min_size_reason=_HALVES)
GOOGLENET_PAPER = Family("googlenet", googlenet_spec, input_shape=(224, 224, 3), num_classes=1000,
                         paper=PAPER + ", Table 1 and figure 3", min_size=32, min_size_reason=_HALVES)
CIFAR_GOOGLENET = Family("googlenet", googlenet_spec, input_shape=(32, 32, 3), num_classes=10,
                         paper=PAPER + " (CIFAR-10 stem by deepkit)", min_size=16,
                         min_size_reason=("it halves the image four times (maxpool1 to maxpool4), so inception5 "
                                          "gets a single pixel from a 16x16 image."))

# torchvision's ImageNet GoogLeNet was trained (ported) on inputs scaled to [-1, 1]: its transform_input
# turns the ImageNet-normalised input into (x - 0.5) / 0.5 of 0-1 RGB, which is this preprocessing.
TRANSFORM_INPUT = {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}

# ----------------------------------------------------------------------------- the variants, as published
# aux_params: the published trainable parameters with the auxiliary classifiers (aux_logits=True).


@register_model(GOOGLENET, style="torchvision", aux_params=13_004_888, trainable_params=6_624_904, macs=1_498_376_192,
                aliases=("inception_v1",),
                pretrained={"imagenet": torchvision("googlenet-1378be20.pth", 69.778, 89.53,
                                                    preprocessing=TRANSFORM_INPUT)})
def googlenet(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
              weights=None, model_name=None, preprocessing=None, aux_logits=False, dropout=None, bn_momentum=0.9,
              bn_epsilon=0.001, kernel_initializer="glorot_uniform"):
    """GoogLeNet as torchvision: BatchNorm convolutions, 3x3 kernels in the 5x5 branch.

    Example:
        >>> model = googlenet(input_shape=(64, 64, 3), include_top=False)
        >>> tuple(model.get_layer("inception4a_concat").output.shape), tuple(model.output.shape)
        ((None, 4, 4, 512), (None, 2, 2, 1024))
    """
    return create("googlenet", **locals())


@register_model(GOOGLENET_PAPER, style="paper", aux_params=13_378_280, trainable_params=6_998_552,
                macs=1_582_671_872)
def googlenet_paper(input_shape=None, num_classes=None, *, include_top=True, pooling=None,
                    classifier_activation="softmax", weights=None, model_name=None, preprocessing=None,
                    aux_logits=False, dropout=None, bn_momentum=0.9, bn_epsilon=0.001,
                    kernel_initializer="glorot_uniform"):
    """GoogLeNet as published: Inception modules with biases, 5x5 branch, LRN in the stem.

    Example:
        >>> from deepkit.models import get_spec
        >>> [e["LRN"]["name"] for e in get_spec("googlenet_paper")["layers"] if "LRN" in e]
        ['norm1', 'norm2']
    """
    return create("googlenet_paper", **locals())


@register_model(CIFAR_GOOGLENET, style="cifar", aux_params=7_188_158, trainable_params=5_983_402,
                macs=121_260_032)
def cifar_googlenet(input_shape=None, num_classes=None, *, include_top=True, pooling=None,
                    classifier_activation="softmax", weights=None, model_name=None, preprocessing=None,
                    aux_logits=False, dropout=None, bn_momentum=0.9, bn_epsilon=0.001,
                    kernel_initializer="glorot_uniform"):
    """GoogLeNet at CIFAR-10 size: 3x3 stride-1 conv1, Inception modules at 8x8, 4x4, 2x2, BatchNorm.

    Example:
        >>> model = cifar_googlenet(include_top=False)
        >>> [tuple(model.get_layer(n).output.shape)[1:3] for n in ("inception3a_concat", "inception5b_concat")]
        [(8, 8), (2, 2)]
    """
    return create("cifar_googlenet", **locals())

