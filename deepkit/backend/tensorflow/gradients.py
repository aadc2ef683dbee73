"""Gradients and compiled calls on TensorFlow: ``tf.GradientTape`` and ``tf.function``.

Example:
    >>> import keras
    >>> keras.backend.backend() != "tensorflow" or callable(value_and_grad(lambda x: x, 0, False))
    True
"""

import functools

import tensorflow as tf

from deepkit.backend.gradients import check_argnums, float_tensor, split_aux


def value_and_grad(fn, argnums, has_aux):
    """``fn`` returning ``(value, grads)`` (see :func:`deepkit.backend.gradients.value_and_grad`).

    Args:
        fn: a function of tensors returning a scalar, or ``(scalar, aux)`` when ``has_aux``.
        argnums: position or positions of the arguments to differentiate.
        has_aux: whether ``fn`` returns ``(scalar, aux)``.

    Returns:
        The wrapped function.

    Example:
        >>> import keras, numpy as np
        >>> if keras.backend.backend() == "tensorflow":
        ...     print(float(value_and_grad(lambda x: keras.ops.sum(x * x), 0, False)(np.ones(2, "float32"))[0]))
        ... else:
        ...     print(2.0)
        2.0
    """

    @functools.wraps(fn)
    def wrapped(*args):
        single, nums = check_argnums(argnums, len(args))
        args = list(args)
        for i in nums:
            args[i] = float_tensor(args[i])
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            for i in nums:
                tape.watch(args[i])
            value, aux = split_aux(fn(*args), has_aux)
        grads = tape.gradient(value, [args[i] for i in nums], unconnected_gradients=tf.UnconnectedGradients.ZERO)
        out = (value, aux) if has_aux else value
        return out, (grads[0] if single else tuple(grads))

    return wrapped


def jit(fn, variables, jit_compile=False):
    """``tf.function(fn)``: variables are read by reference, so later weight updates are seen.

    Args:
        fn: a pure function of tensors.
        variables: the Keras variables ``fn`` reads (unused: TensorFlow captures them).
        jit_compile: XLA-compile.

    Returns:
        The compiled function.

    Example:
        >>> import keras
        >>> keras.backend.backend() != "tensorflow" or callable(jit(lambda x: x, []))
        True
    """
    del variables
    return tf.function(fn, jit_compile=jit_compile)
