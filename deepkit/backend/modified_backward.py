"""Activations with a modified backward pass, for guided backpropagation, the deconvnet and DeepLIFT.

The forward pass is ``relu(x)``; only the gradient differs (``keras.ops.custom_gradient``, which
every backend implements: ``jax.custom_vjp``, ``tf.custom_gradient``, a
``torch.autograd.Function``):

- :func:`guided_relu` (Springenberg et al. 2015): the upstream gradient passes where the input
  was positive *and* the gradient is positive, ``g * (x > 0) * (g > 0)``;
- :func:`deconv_relu` (Zeiler & Fergus 2014): the deconvnet's rectification of the signal
  going down, ``relu(g)``, whatever the input was; :func:`deconv_rectified` puts the same
  backward pass under any element-wise non-linearity (tanh, sigmoid, LeCun's scaled tanh...);
- :func:`rescale` (Shrikumar et al. 2017): DeepLIFT's rescale rule for ReLU, tanh and sigmoid,
  on a batch of inputs stacked over their baselines.

Example:
    >>> import numpy as np, keras
    >>> from deepkit.backend import gradients
    >>> x = np.array([-1.0, 2.0, 3.0], "float32")
    >>> w = keras.ops.convert_to_tensor([1.0, 1.0, -1.0])
    >>> g = gradients.value_and_grad(lambda v: keras.ops.sum(guided_relu(v) * w))
    >>> (gradients.to_numpy(g(x)[1]) + 0.0).tolist()
    [0.0, 1.0, 0.0]
"""

import keras

__all__ = ["guided_relu", "deconv_relu", "deconv_rectified", "rescale", "RESCALE", "RULES"]


@keras.ops.custom_gradient
def guided_relu(x):
    """ReLU whose gradient is ``g * (x > 0) * (g > 0)`` (guided backpropagation).

    Args:
        x: A tensor.

    Returns:
        ``relu(x)`` (with the guided gradient).

    Example:
        >>> keras.ops.convert_to_numpy(guided_relu(keras.ops.convert_to_tensor([-1.0, 2.0]))).tolist()
        [0.0, 2.0]
    """
    positive = keras.ops.cast(x > 0, x.dtype)

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        return upstream * positive * keras.ops.cast(upstream > 0, upstream.dtype)

    return keras.ops.relu(x), grad


@keras.ops.custom_gradient
def deconv_relu(x):
    """ReLU whose gradient is ``relu(g)`` (the deconvnet's backward rectification).

    Args:
        x: A tensor.

    Returns:
        ``relu(x)`` (with the deconvnet's gradient).

    Example:
        >>> keras.ops.convert_to_numpy(deconv_relu(keras.ops.convert_to_tensor([-1.0, 2.0]))).tolist()
        [0.0, 2.0]
    """

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        return keras.ops.relu(upstream)

    return keras.ops.relu(x), grad


def deconv_rectified(forward):
    """``forward`` (an element-wise non-linearity) with the deconvnet's backward pass ``relu(g)``.

    The deconvnet (Zeiler & Fergus 2014) does not differentiate the non-linearity: it rectifies
    the signal going down. Their networks use ReLUs (:func:`deconv_relu`); for any other
    element-wise non-linearity the same rectification is the faithful generalization.

    Args:
        forward: A function ``x -> f(x)`` applied element by element.

    Returns:
        A function ``x -> forward(x)`` whose gradient is ``relu(upstream)``.

    Example:
        >>> import numpy as np
        >>> from deepkit.backend import gradients
        >>> f = deconv_rectified(keras.ops.tanh)
        >>> g = gradients.value_and_grad(lambda v: keras.ops.sum(f(v) * keras.ops.convert_to_tensor([2.0, -1.0])))
        >>> gradients.to_numpy(g(np.array([0.5, 3.0], "float32"))[1]).tolist()
        [2.0, 0.0]
    """

    @keras.ops.custom_gradient
    def rectified(x):
        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return keras.ops.relu(upstream)

        return forward(x), grad

    rectified.__name__ = f"deconv_{getattr(forward, '__name__', 'activation')}"
    return rectified


_DERIVATIVES = {
    "relu": lambda z, y: keras.ops.cast(z > 0, z.dtype),
    "tanh": lambda z, y: 1.0 - y * y,
    "sigmoid": lambda z, y: y * (1.0 - y),
}


def rescale(name):
    """Activation ``name`` with DeepLIFT's rescale rule (Shrikumar et al. 2017) as its gradient.

    The input ``z`` stacks the inputs' pre-activations over the baselines' (first half, second
    half of the batch). The gradient of both halves is ``g * (f(z) - f(z0)) / (z - z0)``, the
    multiplier of the input half against the baseline half, or ``f'(z)`` where
    ``|z - z0| < 1e-10`` (as Captum's ``DeepLift``).

    Args:
        name: ``"relu"``, ``"tanh"`` or ``"sigmoid"``.

    Returns:
        A function ``z -> f(z)`` with the rescale rule's gradient.

    Example:
        >>> z = keras.ops.convert_to_tensor([[2.0], [-1.0]])  # an input row, its baseline row
        >>> keras.ops.convert_to_numpy(rescale("relu")(z)).tolist()
        [[2.0], [0.0]]
    """
    if name not in _DERIVATIVES:
        raise ValueError(f"rescale: the rescale rule is defined for {sorted(_DERIVATIVES)}. Received: name={name!r}")
    function, derivative = getattr(keras.activations, name), _DERIVATIVES[name]

    @keras.ops.custom_gradient
    def rescaled(z):
        y = function(z)
        zx, z0 = keras.ops.split(z, 2, axis=0)
        yx, y0 = keras.ops.split(y, 2, axis=0)
        delta_in = zx - z0
        small = keras.ops.abs(delta_in) < 1e-10
        safe = keras.ops.where(small, keras.ops.ones_like(delta_in), delta_in)
        multiplier = keras.ops.where(small, derivative(zx, yx), (yx - y0) / safe)
        multiplier = keras.ops.concatenate([multiplier, multiplier], axis=0)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return upstream * multiplier

        return y, grad

    rescaled.__name__ = f"rescale_{name}"
    return rescaled


#: Activation name -> the activation with the rescale rule's gradient.
RESCALE = {name: rescale(name) for name in _DERIVATIVES}


#: Name -> modified ReLU.
RULES = {"guided": guided_relu, "deconvnet": deconv_relu, "rescale": RESCALE["relu"]}
