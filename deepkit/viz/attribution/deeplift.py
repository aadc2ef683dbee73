"""DeepLIFT with the rescale rule (Shrikumar, Greenside & Kundaje 2017), through a modified backward pass.

The model runs once on the images stacked over their baselines (the reference forward pass);
every ReLU's (tanh's, sigmoid's) backward pass is replaced by the rescale rule's multiplier
``(f(z) - f(z0)) / (z - z0)`` of its input ``z`` against the baseline's ``z0``
(:func:`deepkit.backend.modified_backward.rescale`), and the gradient of the class logit of
the images, times ``x - x0``, is the attribution: it sums to ``f(x) - f(x0)``
(summation-to-delta). 2-D max pooling with non-overlapping windows takes Captum's max-pooling
rule (:func:`deepkit.backend.modified_backward.rescale_max_pool`). The linear layers keep their
gradient. Layers the rules do not cover (overlapping max pooling, other non-linearities...) are
refused by name. Captum's ``DeepLift`` (its rule for tanh and sigmoid is the same).

Example:
    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2)])
    >>> deeplift(model, np.random.rand(2, 4, 4, 1)).shape
    (2, 4, 4)
"""

import contextlib

import keras
import numpy as np
from keras import ops

from deepkit.backend import gradients
from deepkit.backend.modified_backward import RESCALE, rescale_max_pool
from deepkit.viz import graph
from deepkit.viz.attribution.gradient import reduce_channels
from deepkit.viz.attribution.inputs import prepare
from deepkit.viz.attribution.registry import register

__all__ = ["deeplift", "deeplift_refusal"]

_WHERE = "deeplift"

# Layers that are linear at inference (their gradient is DeepLIFT's multiplier), or reshape.
_LINEAR = ("InputLayer", "Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D",
           "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "Conv1DTranspose", "Conv2DTranspose",
           "Flatten", "Reshape", "Permute", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise",
           "GaussianDropout", "AlphaDropout", "BatchNormalization", "Add", "Subtract", "Average",
           "Concatenate", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "Rescaling",
           "Normalization", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "AveragePooling1D",
           "AveragePooling2D", "Identity", "ReLU", "Activation", "Functional", "Sequential")


def _pools_without_overlap(layer):
    return type(layer).__name__ == "MaxPooling2D" and tuple(layer.strides) == tuple(layer.pool_size)


def _rescaled_layers(model):
    """``(path, layer, attribute, replacement)`` of every activation or pooling the rules replace."""
    out = []
    for path, layer, _ in graph.walk(model):
        if _pools_without_overlap(layer):
            out.append((path, layer, "call", rescale_max_pool(layer.pool_size, layer.padding, layer.data_format)))
            continue
        if type(layer).__name__ == "ReLU":
            if not (layer.negative_slope or layer.max_value is not None or layer.threshold):
                out.append((path, layer, "call", RESCALE["relu"]))
            continue
        activation = getattr(layer, "activation", None)
        for name in RESCALE:
            if activation is getattr(keras.activations, name):
                out.append((path, layer, "activation", RESCALE[name]))
    return out


@contextlib.contextmanager
def _rescaled(model):
    patched = []
    try:
        for _, layer, attribute, replacement in _rescaled_layers(model):
            patched.append((layer, attribute, layer.__dict__.get(attribute)))
            object.__setattr__(layer, attribute, replacement)
        yield
    finally:
        for layer, attribute, old in reversed(patched):
            if old is None:
                layer.__dict__.pop(attribute, None)
            else:
                object.__setattr__(layer, attribute, old)


def deeplift_refusal(model):
    """Why the rescale rule cannot explain ``model`` (the first layer it does not cover), or ``None``.

    Args:
        model: A Keras model (its logits: a final softmax is removed by the engine first).

    Returns:
        A message naming the layer and why, or ``None`` when every layer is covered.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((4, 1)), keras.layers.MaxPooling1D(name="pool"),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2, activation="relu")])
        >>> deeplift_refusal(m)
        "layer 'pool' (MaxPooling1D) is not linear, not a max pooling and not an activation the rescale rule covers (relu, tanh, sigmoid)"
    """
    covered = {id(layer) for _, layer, _, _ in _rescaled_layers(model)}
    for path, layer, _ in graph.walk(model):
        kind = type(layer).__name__
        activation = getattr(layer, "activation", None)
        if kind == "PreActivation":  # the engine's logits: a layer called without its activation
            layer = getattr(layer, "inner", layer)
            kind, activation = type(layer).__name__, None
        if id(layer) in covered:
            continue
        if kind == "MaxPooling2D":
            return (f"layer {path!r} (MaxPooling2D with pool_size {tuple(layer.pool_size)} and strides "
                    f"{tuple(layer.strides)}): DeepLIFT's max-pooling rule is implemented for windows that do "
                    "not overlap (strides equal to pool_size)")
        if kind not in _LINEAR:
            return (f"layer {path!r} ({kind}) is not linear, not a max pooling and not an activation the "
                    "rescale rule covers (relu, tanh, sigmoid)")
        if kind == "ReLU":
            return f"layer {path!r} (ReLU with a slope, cap or threshold): the rescale rule covers plain ReLUs only"
        if activation is not None and activation is not keras.activations.linear:
            name = getattr(activation, "__name__", activation)
            return (f"layer {path!r} ({kind}) has activation {name!r}: the rescale rule covers "
                    "'relu', 'tanh', 'sigmoid' and 'linear' only")
    return None


def _baseline(x, baseline):
    if baseline is None:
        return np.zeros_like(x)
    try:
        return np.broadcast_to(np.asarray(baseline, "float32"), x.shape).copy()
    except ValueError:
        raise ValueError(f"{_WHERE}: baseline must broadcast to images of shape {x.shape}. "
                         f"Received: baseline.shape={np.shape(baseline)}") from None


@register("gradient", title="DeepLIFT", display="signed", order=7, reference="Shrikumar et al. 2017")
def deeplift(model, images, class_index=None, *, baseline=None, reduce="sum", batch_size=64):
    """DeepLIFT's rescale rule (Shrikumar, Greenside & Kundaje 2017): contributions of ``x - x0``.

    ``(x - x0) * m`` with ``m`` the gradient of the class logit in which every ReLU's (tanh's,
    sigmoid's) derivative is replaced by ``(f(z) - f(z0)) / (z - z0)`` (``z0`` its input at the baseline); the
    attributions of an image sum to ``f(x) - f(x0)``. Captum's ``DeepLift``.

    Args:
        model: A classifier whose layers are linear (dense, convolutions, average pooling,
            batch normalisation, additions...), ReLU, tanh and sigmoid activations, or 2-D max
            pooling whose windows do not overlap.
        images: ``(N,) + input_shape`` array.
        class_index: ``None`` (predicted class), int, or one per image.
        baseline: ``None`` (all zeros), a float, or an array broadcastable to ``images``.
        reduce: As :func:`~deepkit.viz.attribution.gradient.saliency`; the default ``"sum"``
            keeps the sign and summation-to-delta.
        batch_size: Images per compiled call (each with its baseline: twice as many rows).

    Returns:
        float32 array ``(N, H, W)`` (or ``(N,) + input_shape`` with ``reduce=None``).

    Raises:
        ValueError: For a model with a layer the rule does not cover (the message names it),
            or a baseline that does not broadcast.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(1, activation="relu", kernel_initializer="ones")])
        >>> deeplift(model, np.ones((1, 2, 2, 1))).tolist()
        [[[1.0, 1.0], [1.0, 1.0]]]
    """
    inputs = prepare(model, images, batch_size, _WHERE)
    eng, x, axis = inputs.engine, inputs.x, inputs.channel_axis
    lm = eng.logits
    reason = deeplift_refusal(lm)
    if reason is not None:
        raise ValueError(f"{_WHERE}: model '{lm.name}' cannot be explained by the rescale rule: {reason}. "
                         f"Received: a model with layers {[layer.name for layer in lm.layers]}")
    x0 = _baseline(x, baseline)
    onehot = eng.resolved_targets(x, class_index, inputs.batch_size, _WHERE)

    def build():
        def score(xs, x0s, target):
            logits = lm(ops.concatenate([xs, x0s], axis=0), training=False)
            return ops.sum(ops.split(logits, 2, axis=0)[0] * target)

        vg = gradients.value_and_grad(score, argnums=0)

        def step(xs, x0s, target):
            with _rescaled(lm):
                _, grad = vg(xs, x0s, target)
            return grad

        return eng.jit(step)

    fn = eng.compiled(("deeplift",), build)
    grad = eng.run(fn, [x, x0, onehot], inputs.batch_size)
    grad = grad[0] if isinstance(grad, (tuple, list)) else grad
    return reduce_channels(np.asarray(grad) * (x - x0), reduce, _WHERE, axis).astype("float32")
