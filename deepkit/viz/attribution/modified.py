"""Gradient methods with a modified backward pass: guided backpropagation and the deconvnet.

Both run the model's forward pass unchanged and differentiate the class logit with every ReLU's
backward pass replaced (:mod:`deepkit.backend.modified_backward`): guided backpropagation
(Springenberg et al. 2015) lets a gradient through where the ReLU's input was positive *and* the
gradient is positive; the deconvnet (Zeiler & Fergus 2014) rectifies the gradient going down,
whatever the input was. The ReLUs replaced are those of layers with ``activation="relu"``,
``Activation("relu")`` and plain ``ReLU()`` layers (no slope, cap or threshold), nested models
included; a ReLU written as a raw op in a functional graph is not (then the method refuses,
naming no ReLU found, rather than returning the plain gradient silently).

**The deconvnet on other non-linearities.** Zeiler & Fergus' backward pass never differentiates
the non-linearity: it rectifies the reconstructed signal with a ReLU, unpools through the recorded
switches and applies the transposed filters. deepkit keeps that rule whatever the forward
non-linearity is (:func:`deconvnet_layers`): every element-wise activation (tanh, sigmoid, ELU,
GELU... as an ``activation=`` or an ``Activation`` layer; ``ReLU`` / ``LeakyReLU`` / ``ELU`` /
``PReLU`` layers; LeCun's :class:`~deepkit.layers.ScaledTanh`) gets the backward pass
``relu(g)``, and average pooling or subsampling, which has no switches, is transposed (its
gradient spreads the signal evenly over the window), as a convolution is. So LeNet-5 (scaled
tanh, subsampling) has deconvnet projections. On a ReLU network this is Captum's
``Deconvolution``; Captum leaves a tanh or sigmoid's gradient as it is, so on models with those
the two differ.

Example:
    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, activation="relu"),
    ...                           keras.layers.Flatten(), keras.layers.Dense(3)])
    >>> guided_backprop(model, np.random.rand(2, 6, 6, 1)).shape
    (2, 6, 6)
"""

import contextlib

import keras
import numpy as np

from deepkit.backend.modified_backward import RULES, deconv_rectified
from deepkit.layers import ScaledTanh
from deepkit.viz import graph
from deepkit.viz.attribution.cam import grad_cam
from deepkit.viz.attribution.gradient import GradientPath, attribute, reduce_channels
from deepkit.viz.attribution.inputs import channel_axis
from deepkit.viz.attribution.registry import register

__all__ = ["guided_backprop", "deconvnet", "guided_grad_cam", "modified_relus", "relu_layers", "deconvnet_layers"]

_ELEMENTWISE = tuple(f for f in (getattr(keras.activations, name, None) for name in (
    "relu", "relu6", "elu", "selu", "gelu", "silu", "tanh", "sigmoid", "hard_sigmoid", "hard_silu", "softplus",
    "softsign", "leaky_relu", "mish", "exponential")) if f is not None)
_ELEMENTWISE_LAYERS = (keras.layers.ReLU, keras.layers.LeakyReLU, keras.layers.ELU, keras.layers.PReLU,
                       ScaledTanh)


def _plain_relu_layer(layer):
    return (isinstance(layer, keras.layers.ReLU) and not layer.negative_slope and layer.max_value is None
            and not layer.threshold)


def relu_layers(model):
    """The layers whose ReLU a modified backward pass replaces, as ``(path, layer)``.

    Args:
        model: A Keras model (nested models are searched).

    Returns:
        A list of ``(path, layer)``.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="relu", name="d"),
        ...                       keras.layers.ReLU(name="r"), keras.layers.Dense(2, name="o")])
        >>> [p for p, _ in relu_layers(m)]
        ['d', 'r']
    """
    return [(path, layer) for path, layer, _ in graph.walk(model)
            if getattr(layer, "activation", None) is keras.activations.relu or _plain_relu_layer(layer)]


def deconvnet_layers(model):
    """The layers whose non-linearity the deconvnet rectifies (module docstring), as ``(path, layer)``.

    Args:
        model: A Keras model (nested models are searched).

    Returns:
        A list of ``(path, layer)``: layers with an element-wise ``activation`` (not linear or
        softmax), ``Activation`` layers of one, and ``ReLU``, ``LeakyReLU``, ``ELU``, ``PReLU`` and
        ``ScaledTanh`` layers.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="tanh", name="d"),
        ...                       keras.layers.Dense(2, activation="softmax", name="o")])
        >>> [p for p, _ in deconvnet_layers(m)]
        ['d']
    """
    return [(path, layer) for path, layer, _ in graph.walk(model)
            if isinstance(layer, _ELEMENTWISE_LAYERS) or getattr(layer, "activation", None) in _ELEMENTWISE]


def _layers_of(model, rule):
    return deconvnet_layers(model) if rule == "deconvnet" else relu_layers(model)


@contextlib.contextmanager
def modified_relus(model, rule):
    """Within the context, every ReLU of ``model`` (:func:`relu_layers`) uses ``rule``'s backward pass.

    With ``rule="deconvnet"``, every element-wise non-linearity (:func:`deconvnet_layers`) gets
    the deconvnet's ``relu(g)`` (the module docstring).

    Args:
        model: A Keras model.
        rule: ``"guided"`` or ``"deconvnet"`` (the rules of ``deepkit.backend.modified_backward``).

    Returns:
        A context manager; the layers are restored on exit.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="relu")])
        >>> with modified_relus(m, "guided"):
        ...     m.layers[0].activation is keras.activations.relu
        False
        >>> m.layers[0].activation is keras.activations.relu
        True
    """
    relu = RULES[rule]
    patched = []
    try:
        for _, layer in _layers_of(model, rule):
            if _plain_relu_layer(layer):
                patched.append((layer, "call", layer.__dict__.get("call")))
                object.__setattr__(layer, "call", relu)
            elif isinstance(layer, _ELEMENTWISE_LAYERS):  # the deconvnet rule only
                patched.append((layer, "call", layer.__dict__.get("call")))
                object.__setattr__(layer, "call", _rectified_call(layer.call))
            elif layer.activation is keras.activations.relu:
                patched.append((layer, "activation", layer.activation))
                object.__setattr__(layer, "activation", relu)
            else:  # the deconvnet rule only
                patched.append((layer, "activation", layer.activation))
                object.__setattr__(layer, "activation", deconv_rectified(layer.activation))
        yield
    finally:
        for layer, attribute, old in reversed(patched):
            if attribute == "call":
                if old is None:
                    layer.__dict__.pop("call", None)
                else:
                    object.__setattr__(layer, "call", old)
            else:
                object.__setattr__(layer, "activation", old)


def _rectified_call(call):
    rectified = deconv_rectified(lambda x: call(x))

    def new_call(inputs, *args, **kwargs):
        return rectified(inputs)

    return new_call


def _modified_path(rule, where):
    def path_of(x, reduce="max_abs", model=None):
        if model is not None and not _layers_of(model, rule):
            what = ("no element-wise non-linearity (an activation, Activation, ReLU or ScaledTanh layer)"
                    if rule == "deconvnet" else "no ReLU layer (activation='relu', Activation('relu') or ReLU())")
            raise ValueError(
                f"{where}: model '{model.name}' has {what} whose backward pass it could modify; its result "
                f"would be the plain gradient. Received: a model with layers {[layer.name for layer in model.layers]}"
            )
        backward = (rule, lambda: modified_relus(model, rule))
        return GradientPath(1, lambda xr, i, k: xr, lambda xr, i, k: np.float32(1.0), reduce, backward)

    return path_of


def _run(rule, model, images, class_index, reduce, batch_size, where):
    from deepkit.viz.engine import engine

    lm = engine(model).logits
    return attribute(model, images, class_index, _bind(_modified_path(rule, where), lm),
                      {"reduce": reduce}, batch_size, where)


def _bind(path_of, model):
    def bound(x, **options):
        return path_of(x, model=model, **options)

    bound.model = model
    return bound


@register("gradient", title="Guided Backpropagation", display="magnitude", order=4,
          reference="Springenberg et al. 2015")
def guided_backprop(model, images, class_index=None, *, reduce="max_abs", batch_size=64):
    """Guided backpropagation (Springenberg, Dosovitskiy, Brox & Riedmiller 2015).

    The gradient of the class logit with every ReLU's backward pass replaced by
    ``g * (x > 0) * (g > 0)``: only positive evidence flows down, through units that were on.
    Captum's ``GuidedBackprop``.

    Args:
        model: A classifier whose non-linearities are ReLUs (see the module docstring).
        images: ``(N, H, W, C)`` array.
        class_index: ``None`` (predicted class), int, or one per image.
        reduce: As :func:`~deepkit.viz.attribution.gradient.saliency`.
        batch_size: Images per compiled call.

    Returns:
        float32 array ``(N, H, W)`` (or ``(N, H, W, C)`` with ``reduce=None``).

    Raises:
        ValueError: For a model with no ReLU layer.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2)])
        >>> guided_backprop(model, np.random.rand(2, 4, 4, 1), reduce=None).shape
        (2, 4, 4, 1)
    """
    return _run("guided", model, images, class_index, reduce, batch_size, "guided_backprop")


@register("gradient", title="DeconvNet", display="magnitude", order=5, reference="Zeiler & Fergus 2014")
def deconvnet(model, images, class_index=None, *, reduce="max_abs", batch_size=64):
    """The deconvnet's projection to pixels (Zeiler & Fergus 2014).

    The class logit's gradient with every ReLU's backward pass replaced by ``relu(g)`` (the
    deconvnet rectifies the signal going down; max pooling routes it through the recorded
    switches, as the gradient does). Captum's ``Deconvolution`` on ReLU networks. Any other
    element-wise non-linearity (tanh, sigmoid, LeCun's scaled tanh) is rectified the same way, and
    average pooling / subsampling transposed (the module docstring).

    Args:
        model: A classifier with element-wise non-linearities (see the module docstring).
        images: ``(N, H, W, C)`` array.
        class_index: ``None`` (predicted class), int, or one per image.
        reduce: As :func:`~deepkit.viz.attribution.gradient.saliency`.
        batch_size: Images per compiled call.

    Returns:
        float32 array ``(N, H, W)`` (or ``(N, H, W, C)`` with ``reduce=None``).

    Raises:
        ValueError: For a model with no non-linearity to rectify.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2)])
        >>> deconvnet(model, np.random.rand(2, 4, 4, 1)).shape
        (2, 4, 4)
    """
    return _run("deconvnet", model, images, class_index, reduce, batch_size, "deconvnet")


@register("cam", title="Guided Grad-CAM", display="magnitude", order=7, reference="Selvaraju et al. 2017")
def guided_grad_cam(model, images, class_index=None, *, layer=None, reduce="max_abs", batch_size=64):
    """Guided Grad-CAM (Selvaraju et al. 2017): guided backpropagation times the Grad-CAM map.

    The pixel-level detail of :func:`guided_backprop`, masked by the class localisation of
    :func:`~deepkit.viz.attribution.cam.grad_cam` (upsampled bilinearly, not normalised), pixel
    by pixel and channel by channel; Captum's ``GuidedGradCam`` (``interpolate_mode="bilinear"``).

    Args:
        model: A classifier with image inputs and ReLU non-linearities.
        images: ``(N, H, W, C)`` array.
        class_index: ``None`` (predicted class), int, or one per image.
        layer: The convolutional layer of the Grad-CAM (as :func:`~deepkit.viz.attribution.cam.grad_cam`).
        reduce: As :func:`~deepkit.viz.attribution.gradient.saliency`.
        batch_size: Images per compiled call.

    Returns:
        float32 array ``(N, H, W)`` (or ``(N, H, W, C)`` with ``reduce=None``).

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, activation="relu"),
        ...                           keras.layers.Flatten(), keras.layers.Dense(3)])
        >>> guided_grad_cam(model, np.random.rand(2, 6, 6, 1)).shape
        (2, 6, 6)
    """
    where = "guided_grad_cam"
    guided = _run("guided", model, images, class_index, None, batch_size, where)
    cam = grad_cam(model, images, class_index, layer=layer, normalize=False, batch_size=batch_size)
    axis = channel_axis(model) if guided.ndim == 4 else -1
    out = guided * (cam[:, None] if axis == 1 else cam[..., None])
    return reduce_channels(out, reduce, where, axis).astype("float32")
