"""AlexNet (Krizhevsky, Sutskever & Hinton, "ImageNet classification with deep convolutional neural
networks", NIPS 2012), as torchvision builds it and as the paper drew it, plus a CIFAR-10 size.

==================  =========  =============================================================
name                input      what
==================  =========  =============================================================
``alexnet``         224x224x3  torchvision's single tower (64-192-384-256-256 filters, 11x11
                               stride 4 with 2 pixels of padding, adaptive 6x6 average pool)
``alexnet_paper``   227x227x3  the paper: 96-256-384-384-256 filters, conv2/4/5 split in two
                               groups (the two GPUs, ``Conv2D(groups=2)``), LRN after conv1/2
``alexnet_small``   32x32x3    the same five convolutions and three dense layers at CIFAR-10
                               size: 5x5 then 3x3 kernels, stride 1, overlapping 3/2 pooling,
                               LRN, 1024-unit dense layers
==================  =========  =============================================================

Every convolution and the first two dense layers use ReLU; dropout 0.5 precedes fc6 and fc7. Each variant
is one ``@register_model`` declaration at the end of this file, with its published counts.

Example:
    >>> from deepkit.models import get_spec
    >>> [e for e in get_spec("alexnet_paper")["layers"] if "LRN" in e]
    [{'LRN': {'name': 'norm1'}}, {'LRN': {'name': 'norm2'}}]
"""

from deepkit.models._common import conv, head, layer, spec
from deepkit.models.imagenet import torchvision
from deepkit.models.registry import Family, create, register_model

__all__ = ["alexnet_spec", "alexnet_paper_spec", "alexnet_small_spec", "alexnet", "alexnet_paper", "alexnet_small"]

PAPER = "Krizhevsky, Sutskever & Hinton 2012, ImageNet classification with deep convolutional neural networks"


def _classifier(units, dropout):
    def classifier(classes, act):
        return [layer("Flatten", name="flatten"),
                layer("Dropout", rate=dropout, name="drop6"),
                layer("Dense", units=units, activation="relu", name="fc6"),
                layer("Dropout", rate=dropout, name="drop7"),
                layer("Dense", units=units, activation="relu", name="fc7"),
                layer("Dense", units=classes, activation=act, name="fc8")]

    return classifier


def _check_known(input_shape, model):
    if input_shape[0] is None or input_shape[1] is None:
        raise ValueError(f"deepkit.models '{model}' needs a known input size (its dense layers follow a Flatten). "
                         f"Received: input_shape={tuple(input_shape)}")


def alexnet_spec(input_shape, num_classes, include_top, pooling, classifier_activation, name, dropout=0.5):
    """Spec data of torchvision's AlexNet (any input size from 63x63).

    Args:
        input_shape: (H, W, C), at least 63x63; 224x224x3 by default.
        num_classes: classes of fc8.
        include_top: True: adaptive 6x6 average pool and the three dense layers; False: up to pool5.
        pooling: with ``include_top=False``: None, ``"avg"`` or ``"max"``.
        classifier_activation: activation of fc8, or None for logits.
        name: model name.
        dropout: dropout rate before fc6 and fc7.

    Returns:
        The spec dict.

    Example:
        >>> alexnet_spec((224, 224, 3), 1000, True, None, "softmax", "alexnet")["layers"][1]
        {'Conv2D': {'filters': 64, 'kernel_size': 11, 'strides': 4, 'activation': 'relu', 'name': 'conv1'}}
    """
    layers = [
        layer("ZeroPadding2D", padding=2, name="conv1_pad"),
        conv(64, 11, strides=4, activation="relu", name="conv1"),
        layer("MaxPooling2D", pool_size=3, strides=2, name="pool1"),
        conv(192, 5, padding="same", activation="relu", name="conv2"),
        layer("MaxPooling2D", pool_size=3, strides=2, name="pool2"),
        conv(384, 3, padding="same", activation="relu", name="conv3"),
        conv(256, 3, padding="same", activation="relu", name="conv4"),
        conv(256, 3, padding="same", activation="relu", name="conv5"),
        layer("MaxPooling2D", pool_size=3, strides=2, name="pool5"),
    ]
    top = _classifier(4096, dropout)

    def classifier(classes, act):
        return [layer("AdaptiveAveragePooling2D", output_size=6, name="avgpool")] + top(classes, act)

    layers += head(include_top=include_top, pooling=pooling, num_classes=num_classes,
                   classifier_activation=classifier_activation, classifier=classifier)
    return spec(name, input_shape, layers)


def alexnet_paper_spec(input_shape, num_classes, include_top, pooling, classifier_activation, name,
                       dropout=0.5, lrn=True):
    """Spec data of the paper's two-tower AlexNet (227x227 as published).

    conv1 96@11x11/4 - LRN - max-pool 3/2 - conv2 256@5x5 (2 groups) - LRN - max-pool - conv3 384@3x3
    (across both towers) - conv4 384@3x3 (2 groups) - conv5 256@3x3 (2 groups) - max-pool - fc6 4096 -
    fc7 4096 - fc8 1000. LRN: size 5, alpha 1e-4, beta 0.75, k 2 (section 3.3).

    Args:
        input_shape: (H, W, C), at least 67x67; 227x227x3 gives the paper's 55x55 conv1 maps and 6x6x256
            pool5 (the fc6 size depends on the input size).
        num_classes: classes of fc8.
        include_top: True: the three dense layers; False: up to pool5.
        pooling: with ``include_top=False``: None, ``"avg"`` or ``"max"``.
        classifier_activation: activation of fc8, or None for logits.
        name: model name.
        dropout: dropout rate before fc6 and fc7.
        lrn: False leaves out the two LRN layers (section 3.3 reports +1.2% top-1 error without them).

    Returns:
        The spec dict.

    Example:
        >>> conv2 = alexnet_paper_spec((227, 227, 3), 1000, True, None, "softmax", "a")["layers"][3]["Conv2D"]
        >>> conv2["filters"], conv2["kernel_size"], conv2["groups"]
        (256, 5, 2)
    """
    _check_known(input_shape, "alexnet_paper")
    norm = (lambda n: [layer("LRN", name=n)]) if lrn else (lambda n: [])
    layers = [
        conv(96, 11, strides=4, activation="relu", name="conv1"), *norm("norm1"),
        layer("MaxPooling2D", pool_size=3, strides=2, name="pool1"),
        conv(256, 5, padding="same", activation="relu", groups=2, name="conv2"), *norm("norm2"),
        layer("MaxPooling2D", pool_size=3, strides=2, name="pool2"),
        conv(384, 3, padding="same", activation="relu", name="conv3"),
        conv(384, 3, padding="same", activation="relu", groups=2, name="conv4"),
        conv(256, 3, padding="same", activation="relu", groups=2, name="conv5"),
        layer("MaxPooling2D", pool_size=3, strides=2, name="pool5"),
    ]
    layers += head(include_top=include_top, pooling=pooling, num_classes=num_classes,
                   classifier_activation=classifier_activation, classifier=_classifier(4096, dropout))
    return spec(name, input_shape, layers)


def alexnet_small_spec(input_shape, num_classes, include_top, pooling, classifier_activation, name,
                       dropout=0.5, lrn=True, fc_units=1024):
    """Spec data of AlexNet at CIFAR-10 size (32x32x3).

    AlexNet's layout (five convolutions 64-192-384-256-256 as torchvision, ReLU, LRN after conv1 and conv2,
    overlapping 3x3/2 max-pooling after conv1, conv2 and conv5, dropout, three dense layers) with kernels
    and strides for 32x32 images: 5x5 stride 1 for conv1/conv2, 3x3 after, dense layers of 1024 units.
    32x32 inputs give 15x15, 7x7 and 3x3 maps after the three poolings.

    Args:
        input_shape: (H, W, C), at least 15x15.
        num_classes: classes of fc8.
        include_top: True: the three dense layers; False: up to pool5.
        pooling: with ``include_top=False``: None, ``"avg"`` or ``"max"``.
        classifier_activation: activation of fc8, or None for logits.
        name: model name.
        dropout: dropout rate before fc6 and fc7.
        lrn: False leaves out the LRN layers.
        fc_units: width of fc6 and fc7.

    Returns:
        The spec dict.

    Example:
        >>> alexnet_small_spec((32, 32, 3), 10, True, None, None, "a")["layers"][-1]
        {'Dense': {'units': 10, 'name': 'fc8'}}
    """
    _check_known(input_shape, "alexnet_small")
    norm = (lambda n: [layer("LRN", name=n)]) if lrn else (lambda n: [])
    layers = [
        conv(64, 5, padding="same", activation="relu", name="conv1"), *norm("norm1"),
        layer("MaxPooling2D", pool_size=3, strides=2, name="pool1"),
        conv(192, 5, padding="same", activation="relu", name="conv2"), *norm("norm2"),
        layer("MaxPooling2D", pool_size=3, strides=2, name="pool2"),
        conv(384, 3, padding="same", activation="relu", name="conv3"),
        conv(256, 3, padding="same", activation="relu", name="conv4"),
        conv(256, 3, padding="same", activation="relu", name="conv5"),
        layer("MaxPooling2D", pool_size=3, strides=2, name="pool5"),
    ]
    layers += head(include_top=include_top, pooling=pooling, num_classes=num_classes,
                   classifier_activation=classifier_activation, classifier=_classifier(fc_units, dropout))
    return spec(name, input_shape, layers)


_POOLS = "three overlapping 3x3 max-poolings with stride 2 need at least 3x3 maps at pool5, "
ALEXNET = Family("alexnet", alexnet_spec, input_shape=(224, 224, 3), num_classes=1000,
                 paper=PAPER + " (torchvision's single-tower reading)", min_size=63,
                 min_size_reason=_POOLS + "and conv1 (11x11, stride 4, padding 2) must give 15x15 for that.")
ALEXNET_PAPER = Family("alexnet", alexnet_paper_spec, input_shape=(227, 227, 3), num_classes=1000, paper=PAPER,
                       min_size=67,
                       min_size_reason=_POOLS + "and conv1 (11x11, stride 4, no padding) must give 15x15 for that.")
ALEXNET_SMALL = Family("alexnet", alexnet_small_spec, input_shape=(32, 32, 3), num_classes=10,
                       paper=PAPER + " (scaled to CIFAR-10 by deepkit)", min_size=15,
                       min_size_reason=_POOLS + "so the input needs 15x15 (15 -> 7 -> 3 -> 1).")

# ----------------------------------------------------------------------------- the variants, as published


@register_model(ALEXNET, trainable_params=61_100_840, macs=714_188_480,
                pretrained={"imagenet": torchvision("alexnet-owt-7be5be79.pth", 56.522, 79.066)})
def alexnet(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
            weights=None, model_name=None, preprocessing=None, dropout=0.5):
    """AlexNet as torchvision: one tower, 64-192-384-256-256 filters, adaptive 6x6 average pool.

    Example:
        >>> model = alexnet(input_shape=(64, 64, 3), include_top=False)
        >>> tuple(model.get_layer("pool5").output.shape)
        (None, 1, 1, 256)
    """
    return create("alexnet", **locals())


@register_model(ALEXNET_PAPER, trainable_params=60_965_224, macs=724_406_816)
def alexnet_paper(input_shape=None, num_classes=None, *, include_top=True, pooling=None,
                  classifier_activation="softmax", weights=None, model_name=None, preprocessing=None, dropout=0.5,
                  lrn=True):
    """AlexNet as published: two groups (Conv2D groups=2) in conv2/4/5, LRN, 227x227 input.

    Example:
        >>> model = alexnet_paper(include_top=False)
        >>> tuple(model.get_layer("conv1").output.shape), tuple(model.output.shape)
        ((None, 55, 55, 96), (None, 6, 6, 256))
    """
    return create("alexnet_paper", **locals())


@register_model(ALEXNET_SMALL, trainable_params=5_871_434, macs=182_220_800, aliases=("alexnet_cifar",))
def alexnet_small(input_shape=None, num_classes=None, *, include_top=True, pooling=None,
                  classifier_activation="softmax", weights=None, model_name=None, preprocessing=None, dropout=0.5,
                  lrn=True, fc_units=1024):
    """AlexNet's layout at CIFAR-10 size: 5x5/3x3 kernels, stride 1, LRN, 1024-unit dense layers.

    Example:
        >>> from deepkit.models import count_trainable
        >>> count_trainable(alexnet_small())
        5871434
    """
    return create("alexnet_small", **locals())
