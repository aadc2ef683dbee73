"""LeNet-5 (LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to document recognition",
Proc. IEEE 1998, section II.B and Fig. 2).

Input 32x32; C1: 6 maps 5x5 -> 28x28; S2: 2x2 subsampling -> 14x14; C3: 16 maps 5x5 -> 10x10; S4 -> 5x5;
C5: 120 maps 5x5 -> 1x1; F6: 84 units; output: 10 units. MNIST's 28x28 digits are zero-padded to
32x32 as in the paper ("the largest character is 20x20 ... in a 32x32 field"), so C1 sees the whole
digit with room around it; without padding the network has only 44,426 parameters, the sign of a
wrong build.

Two variants:

======================  ===========================================================
name                    what
======================  ===========================================================
``lenet5``              the common modern reading: full C3, average pooling, tanh,
                        dense softmax output (6*26 + 16*151 + 120*401 + 84*121 + 10*85)
``lenet5_paper``        the paper's own: C3 connection table (Table I), trainable
                        subsampling, scaled tanh, Euclidean RBF output with fixed centres
======================  ===========================================================

Each is one ``@register_model`` declaration at the end of this file, with its published counts.

Example:
    >>> from deepkit.models import lenet5, count_trainable
    >>> count_trainable(lenet5()), count_trainable(lenet5(input_shape=(32, 32, 1)))
    (61706, 61706)
"""

from deepkit.models._common import conv, head, layer, spec
from deepkit.models.registry import Family, create, register_model

__all__ = ["lenet5_spec", "lenet5_paper_spec", "lenet5", "lenet5_paper"]

# Table I of the paper: which S2 maps (rows 0-5) each C3 map (0-15) takes as input.
PAPER_C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)

PAPER = "LeCun et al. 1998, Gradient-based learning applied to document recognition"


def _input_layers(input_shape):
    """Reshape a (H, W) input to (H, W, 1) and zero-pad to 32x32 when smaller, as LeCun did for MNIST."""
    entries = []
    if len(input_shape) == 2:
        input_shape = (*input_shape, 1)
        entries.append(layer("Reshape", target_shape=list(input_shape), name="reshape"))
    height, width = input_shape[:2]
    if height is None or width is None:
        raise ValueError("deepkit.models LeNet-5 needs a known input size (its C5 layer is a 5x5 convolution "
                         f"that must end at 1x1 for 32x32 inputs). Received: input_shape={tuple(input_shape)}")
    pad_h, pad_w = max(0, 32 - height), max(0, 32 - width)
    if pad_h or pad_w:
        if pad_h == pad_w and pad_h % 2 == 0:
            padding = pad_h // 2
        else:
            padding = [[pad_h // 2, pad_h - pad_h // 2], [pad_w // 2, pad_w - pad_w // 2]]
        entries.append(layer("ZeroPadding2D", padding=padding, name="pad"))
    return entries


def lenet5_spec(input_shape, num_classes, include_top, pooling, classifier_activation, name,
                activation="tanh", subsampling="avg"):
    """Spec data of the common LeNet-5 (full C3): 61,706 trainable parameters for 10 classes.

    Args:
        input_shape: (H, W, C) or (H, W); inputs smaller than 32x32 are zero-padded to 32x32.
        num_classes: number of output units.
        include_top: True: F6 and the output layer; False: up to C5.
        pooling: with ``include_top=False``: None, ``"avg"`` or ``"max"``.
        classifier_activation: activation of the output layer, or None for logits.
        name: model name.
        activation: activation of C1, C3, C5 and F6 (``"tanh"`` as the paper; ``"relu"`` for a modern one).
        subsampling: ``"avg"`` (the paper's averaging) or ``"max"`` pooling in S2 and S4.

    Returns:
        The spec dict.

    Example:
        >>> [next(iter(e)) if isinstance(e, dict) else e
        ...  for e in lenet5_spec((32, 32, 1), 10, True, None, "softmax", "lenet5")["layers"]]
        ['Conv2D', 'AveragePooling2D', 'Conv2D', 'AveragePooling2D', 'Conv2D', 'Flatten', 'Dense', 'Dense']
    """
    if subsampling not in ("avg", "max"):
        raise ValueError("deepkit.models 'lenet5': subsampling must be 'avg' or 'max'. "
                         f"Received: subsampling={subsampling!r}")
    pool = "AveragePooling2D" if subsampling == "avg" else "MaxPooling2D"
    layers = _input_layers(input_shape) + [
        conv(6, 5, activation=activation, name="c1"),
        layer(pool, pool_size=2, name="s2"),
        conv(16, 5, activation=activation, name="c3"),
        layer(pool, pool_size=2, name="s4"),
        conv(120, 5, activation=activation, name="c5"),
    ]

    def classifier(classes, act):
        return [layer("Flatten", name="flatten"),
                layer("Dense", units=84, activation=activation, name="f6"),
                layer("Dense", units=classes, activation=act, name="output")]

    layers += head(include_top=include_top, pooling=pooling, num_classes=num_classes,
                   classifier_activation=classifier_activation, classifier=classifier)
    return spec(name, input_shape, layers)


def lenet5_paper_spec(input_shape, num_classes, include_top, pooling, classifier_activation, name, rbf_seed=0):
    """Spec data of LeNet-5 as published: 60,000 trainable parameters.

    C1 (156) - S2 (12) - C3 with the Table I connections (1,516) - S4 (32) - C5 (48,120) - F6 (10,164),
    each followed by LeCun's scaled tanh, then Euclidean RBF output units whose +1/-1 centres are fixed
    (840 non-trainable values; see :class:`deepkit.layers.RBFOutput`). The RBF layer outputs minus the
    squared distances, i.e. logits; ``classifier_activation`` is applied after it as its own layer.

    Args:
        input_shape: (H, W, C) or (H, W); smaller inputs are zero-padded to 32x32.
        num_classes: number of RBF units.
        include_top: True: F6 and the RBF output; False: up to C5.
        pooling: with ``include_top=False``: None, ``"avg"`` or ``"max"``.
        classifier_activation: applied to the RBF output (``"softmax"``), or None for the logits.
        name: model name.
        rbf_seed: seed of the fixed RBF centres.

    Returns:
        The spec dict.

    Example:
        >>> spec_data = lenet5_paper_spec((32, 32, 1), 10, True, None, None, "lenet5_paper")
        >>> spec_data["layers"][4]["PartialConv2D"]["connections"][15]
        [0, 1, 2, 3, 4, 5]
    """
    layers = _input_layers(input_shape) + [
        conv(6, 5, name="c1"), layer("ScaledTanh", name="c1_act"),
        layer("Subsampling2D", pool_size=2, name="s2"), layer("ScaledTanh", name="s2_act"),
        layer("PartialConv2D", filters=16, kernel_size=5, connections=[list(r) for r in PAPER_C3_TABLE], name="c3"),
        layer("ScaledTanh", name="c3_act"),
        layer("Subsampling2D", pool_size=2, name="s4"), layer("ScaledTanh", name="s4_act"),
        conv(120, 5, name="c5"), layer("ScaledTanh", name="c5_act"),
    ]

    def classifier(classes, act):
        out = [layer("Flatten", name="flatten"),
               layer("Dense", units=84, name="f6"), layer("ScaledTanh", name="f6_act"),
               layer("RBFOutput", units=classes, seed=rbf_seed if rbf_seed else None, name="output")]
        if act is not None:
            out.append(layer("Activation", activation=act, name="probabilities"))
        return out

    layers += head(include_top=include_top, pooling=pooling, num_classes=num_classes,
                   classifier_activation=classifier_activation, classifier=classifier)
    return spec(name, input_shape, layers)


_SMALL = "every input smaller than 32x32 is zero-padded to 32x32."
LENET = Family("lenet", lenet5_spec, input_shape=(28, 28, 1), num_classes=10, paper=PAPER, min_size=1,
               min_size_reason=_SMALL)
LENET_PAPER = Family("lenet", lenet5_paper_spec, input_shape=(28, 28, 1), num_classes=10, paper=PAPER,
                     min_size=1, min_size_reason=_SMALL)

# ----------------------------------------------------------------------------- the variants, as published


@register_model(LENET, trainable_params=61_706, macs=416_520, aliases=("lenet",))
def lenet5(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
           weights=None, model_name=None, preprocessing=None, activation="tanh", subsampling="avg"):
    """LeNet-5, full C3 (the common reading), tanh and average pooling; 28x28 padded to 32x32.

    Accepts (H, W, C) or (H, W) inputs; ``activation`` ("tanh") and ``subsampling`` ("avg" or "max")
    are its options.

    Example:
        >>> model = lenet5(input_shape=(28, 28))  # MNIST arrays as they come
        >>> [layer.name for layer in model.layers[1:4]]
        ['reshape', 'pad', 'c1']
    """
    return create("lenet5", **locals())


@register_model(LENET_PAPER, trainable_params=60_000, macs=328_096)
def lenet5_paper(input_shape=None, num_classes=None, *, include_top=True, pooling=None, classifier_activation="softmax",
                 weights=None, model_name=None, preprocessing=None, rbf_seed=0):
    """LeNet-5 as published: C3 connection table, trainable subsampling, scaled tanh, RBF output.

    Example:
        >>> from deepkit.models import count_trainable
        >>> count_trainable(lenet5_paper())
        60000
    """
    return create("lenet5_paper", **locals())
