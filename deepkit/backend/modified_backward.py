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
  on a batch of inputs stacked over their baselines;
- :func:`rescale_max_pool`: DeepLIFT's rule for max pooling (the forward pass is the pooling).

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

__all__ = ["guided_relu", "deconv_relu", "deconv_rectified", "rescale", "rescale_max_pool", "RESCALE", "RULES"]


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


def _unpool(values, z, pool):
    """Route ``values`` (one per pooling window) back to each window's first maximum of ``z``.

    The gradient of a max pooling with non-overlapping windows (``z`` channels last, its height
    and width multiples of ``pool``): ties go to the first position in row-major order, as in
    PyTorch's and TensorFlow's max-pooling gradients.
    """
    n, h, w, c = z.shape
    ph, pw = pool
    rows, cols = h // ph, w // pw
    windows = keras.ops.reshape(z, (-1, rows, ph, cols, pw, c))
    windows = keras.ops.reshape(keras.ops.transpose(windows, (0, 1, 3, 5, 2, 4)), (-1, rows, cols, c, ph * pw))
    first_max = keras.ops.one_hot(keras.ops.argmax(windows, axis=-1), ph * pw, dtype=z.dtype)
    routed = keras.ops.reshape(first_max * values[..., None], (-1, rows, cols, c, ph, pw))
    return keras.ops.reshape(keras.ops.transpose(routed, (0, 1, 4, 2, 5, 3)), (-1, h, w, c))


def rescale_max_pool(pool_size, padding="valid", data_format="channels_last"):
    """2-D max pooling (windows = strides = ``pool_size``) with DeepLIFT's max-pooling rule.

    As :func:`rescale`, the input stacks the inputs over the baselines (first half, second half
    of the batch). With ``y``, ``y0`` the pooled inputs and baselines and ``m = max(y, y0)``, the
    gradient at an input position is ``(U_x(g (m - y0)) + U_x0(g (y - m))) / (x - x0)``, where
    ``U_x`` routes a window's value to the position of its maximum in ``x`` (the pooling's
    gradient) and ``g`` is the upstream gradient of the inputs' half; where ``|x - x0| < 1e-10``
    it is the pooling's gradient ``U_x(g)``. The contributions of a window then sum to
    ``g (y - y0)`` (summation-to-delta). Captum's ``DeepLift`` rule for ``MaxPool2d``. Both
    halves get the inputs' multiplier (as :func:`rescale`).

    Args:
        pool_size: ``(height, width)`` of the windows (also the strides: windows do not overlap).
        padding: ``"valid"`` (trailing rows and columns that fill no window are dropped) or
            ``"same"`` (the input is padded at the end to whole windows).
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        A function ``z -> max_pool(z)`` with the rule's gradient.

    Example:
        >>> z = keras.ops.convert_to_tensor([[[[1.0], [3.0]]], [[[0.0], [0.0]]]])  # input, baseline
        >>> keras.ops.convert_to_numpy(rescale_max_pool((1, 2))(z)).ravel().tolist()
        [3.0, 0.0]
    """
    pool = tuple(int(p) for p in pool_size)
    if padding not in ("valid", "same") or data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"rescale_max_pool: padding must be 'valid' or 'same' and data_format 'channels_last' "
                         f"or 'channels_first'. Received: padding={padding!r}, data_format={data_format!r}")

    @keras.ops.custom_gradient
    def pooled(z):
        last = z if data_format == "channels_last" else keras.ops.transpose(z, (0, 2, 3, 1))
        h, w = last.shape[1], last.shape[2]
        if padding == "same":
            rows, cols = -(-h // pool[0]), -(-w // pool[1])
            fill = keras.ops.convert_to_tensor(float("-inf"), last.dtype)
            last = keras.ops.pad(last, [(0, 0), (0, rows * pool[0] - h), (0, cols * pool[1] - w), (0, 0)],
                                 constant_values=fill)
        else:
            rows, cols = h // pool[0], w // pool[1]
            last = last[:, :rows * pool[0], :cols * pool[1], :]
        y = keras.ops.max_pool(last, pool, pool, "valid", "channels_last")
        lx, l0 = keras.ops.split(last, 2, axis=0)
        yx, y0 = keras.ops.split(y, 2, axis=0)
        top = keras.ops.maximum(yx, y0)
        delta_in = lx - l0
        small = keras.ops.abs(delta_in) < 1e-10
        safe = keras.ops.where(small, keras.ops.ones_like(delta_in), delta_in)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            if data_format == "channels_first":
                upstream = keras.ops.transpose(upstream, (0, 2, 3, 1))
            g = keras.ops.split(upstream, 2, axis=0)[0]
            shared = _unpool(g * (top - y0), lx, pool) + _unpool(g * (yx - top), l0, pool)
            multiplier = keras.ops.where(small, _unpool(g, lx, pool), shared / safe)
            multiplier = keras.ops.concatenate([multiplier, multiplier], axis=0)
            multiplier = keras.ops.pad(multiplier, [(0, 0), (0, max(h - rows * pool[0], 0)),
                                                    (0, max(w - cols * pool[1], 0)), (0, 0)])[:, :h, :w, :]
            if data_format == "channels_first":
                multiplier = keras.ops.transpose(multiplier, (0, 3, 1, 2))
            return multiplier

        out = y if data_format == "channels_last" else keras.ops.transpose(y, (0, 3, 1, 2))
        return out, grad

    pooled.__name__ = "rescale_max_pool"
    return pooled


#: Activation name -> the activation with the rescale rule's gradient.
RESCALE = {name: rescale(name) for name in _DERIVATIVES}


#: Name -> modified ReLU.
RULES = {"guided": guided_relu, "deconvnet": deconv_relu, "rescale": RESCALE["relu"]}
