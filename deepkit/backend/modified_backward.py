"""ReLUs with a modified backward pass, for guided backpropagation and the deconvnet.

The forward pass is ``relu(x)``; only the gradient differs (``keras.ops.custom_gradient``, which
every backend implements: ``jax.custom_vjp``, ``tf.custom_gradient``, a
``torch.autograd.Function``):

- :func:`guided_relu` (Springenberg et al. 2015): the upstream gradient passes where the input
  was positive *and* the gradient is positive, ``g * (x > 0) * (g > 0)``;
- :func:`deconv_relu` (Zeiler & Fergus 2014): the deconvnet's rectification of the signal
  going down, ``relu(g)``, whatever the input was.

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

__all__ = ["guided_relu", "deconv_relu", "RULES"]


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


#: Name -> modified ReLU.
RULES = {"guided": guided_relu, "deconvnet": deconv_relu}
