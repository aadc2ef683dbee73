"""Tiny Keras models with smooth (tanh) activations and their forward passes and gradients
written in numpy, for tests of attribution formulas against the papers (helpers only, no tests).

tanh everywhere makes second derivatives non-zero, so Grad-CAM++ differs from Grad-CAM and a
path integral differs from its end points.
"""

import keras
import numpy as np


def conv_head_model(seed=0):
    """x (6, 6, 2) -> Conv2D(3, 3, tanh) "conv" -> A (4, 4, 3) -> Flatten -> Dense(5, tanh) -> Dense(3)."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((6, 6, 2)),
        keras.layers.Conv2D(3, 3, activation="tanh", name="conv"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(5, activation="tanh", name="hidden",
                           kernel_initializer=keras.initializers.RandomNormal(stddev=0.6)),
        keras.layers.Dense(3, name="logits"),
    ], name="conv_head")


def conv_forward(model, x):
    """``A`` (the conv layer's output) of :func:`conv_head_model`, in numpy."""
    k, b = (np.asarray(v) for v in model.get_layer("conv").weights)
    n, h, w, _ = x.shape
    kh, kw = k.shape[:2]
    out = np.zeros((n, h - kh + 1, w - kw + 1, k.shape[-1]))
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            out[:, i, j] = np.einsum("nabc,abcd->nd", x[:, i:i + kh, j:j + kw], k)
    return np.tanh(out + b)


def head_gradient(model, a, c):
    """``d logit_c / d A`` of :func:`conv_head_model` at feature maps ``a``, in numpy."""
    w1, b1 = (np.asarray(v) for v in model.get_layer("hidden").weights)
    w2, _ = (np.asarray(v) for v in model.get_layer("logits").weights)
    flat = a.reshape(len(a), -1)
    h = np.tanh(flat @ w1 + b1)
    return (((1 - h**2) * w2[:, c]) @ w1.T).reshape(a.shape)


def dense_model(seed=0):
    """x (4, 4, 1) -> Flatten -> Dense(6, tanh) -> Dense(3): a smooth model with an analytic gradient."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((4, 4, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(6, activation="tanh", name="hidden",
                           kernel_initializer=keras.initializers.RandomNormal(stddev=0.8)),
        keras.layers.Dense(3, name="logits"),
    ], name="dense_tanh")


def dense_logit(model, x, c):
    """Logit ``c`` of :func:`dense_model` for ``x`` ``(..., 4, 4, 1)``, in numpy."""
    w1, b1 = (np.asarray(v, "float64") for v in model.get_layer("hidden").weights)
    w2, b2 = (np.asarray(v, "float64") for v in model.get_layer("logits").weights)
    h = np.tanh(x.reshape(x.shape[:-3] + (-1,)) @ w1 + b1)
    return h @ w2[:, c] + b2[c]


def dense_gradient(model, x, c):
    """``d logit_c / d x`` of :func:`dense_model`, in numpy (float64)."""
    w1, b1 = (np.asarray(v, "float64") for v in model.get_layer("hidden").weights)
    w2, _ = (np.asarray(v, "float64") for v in model.get_layer("logits").weights)
    h = np.tanh(x.reshape(x.shape[:-3] + (-1,)) @ w1 + b1)
    return (((1 - h**2) * w2[:, c]) @ w1.T).reshape(x.shape)
