"""Gradients and compiled calls on JAX: ``jax.value_and_grad`` and ``jax.jit`` over a ``StatelessScope``.

Example:
    >>> import keras
    >>> keras.backend.backend() != "jax" or callable(value_and_grad(lambda x: x, 0, False))
    True
"""

import functools

import jax
import keras

from deepkit.backend.gradients import check_argnums, float_tensor


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
        >>> if keras.backend.backend() == "jax":
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
        return jax.value_and_grad(fn, argnums=nums[0] if single else nums, has_aux=has_aux)(*args)

    return wrapped


def jit(fn, variables, jit_compile=False):
    """``jax.jit(fn)`` with every variable's current value passed as an argument on each call.

    Inside, the variables read their values from a ``keras.StatelessScope``, so weights are not frozen
    into the program as constants and later weight updates are seen.

    Args:
        fn: a pure function of tensors.
        variables: the Keras variables ``fn`` reads.
        jit_compile: ignored (always compiled).

    Returns:
        The compiled function.

    Example:
        >>> import keras
        >>> keras.backend.backend() != "jax" or callable(jit(lambda x: x, []))
        True
    """
    del jit_compile
    variables = list(variables)

    def pure(values, *args):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return fn(*args)

    compiled = jax.jit(pure)

    @functools.wraps(fn)
    def call(*args):
        return compiled([v.value for v in variables], *args)

    return call
