"""Gradients and compilation for any Keras backend: what deepkit.viz differentiates and compiles with.

Keras 3 has no ``keras.ops.grad``. Its own trainers compute gradients per backend
(``keras/src/backend/*/trainer.py``): ``tf.GradientTape`` on TensorFlow,
``jax.value_and_grad`` over ``stateless_call`` on JAX, ``torch.autograd`` on PyTorch. This
module does the same for arbitrary functions written with ``keras.ops``; the framework code is in
``deepkit/backend/<name>/gradients.py``, reached through the active backend (:func:`deepkit.backend.active`):

- :func:`value_and_grad` turns ``fn(*args) -> scalar`` (or ``(scalar, aux)``) into
  ``g(*args) -> (value, grads)``, differentiating with respect to ``args[argnums]``.
- :func:`jit` compiles such a function: ``jax.jit`` with every Keras variable of the given
  models passed as an argument through ``keras.StatelessScope`` (so weights are not baked
  into the compiled program as constants and later weight updates are seen);
  ``tf.function`` on TensorFlow; eager execution on PyTorch.

Functions given to :func:`jit` must be pure apart from reading model weights: no
``keras.random`` calls with a ``SeedGenerator`` and no variable assignments inside.
Draw random numbers outside and pass them in as arguments.
"""

import functools

import keras
import numpy as np

__all__ = ["value_and_grad", "jit", "no_grad", "to_numpy", "check_argnums", "split_aux", "float_tensor",
           "eager"]


def check_argnums(argnums, nargs):
    """Check ``argnums`` against the number of positional arguments (shared by the backends).

    Args:
        argnums: an int or a tuple of ints.
        nargs: how many positional arguments the call has.

    Returns:
        ``(single, positions)``: whether ``argnums`` was one int, and the positions, non-negative.

    Raises:
        ValueError: an empty tuple, or a position out of range.

    Example:
        >>> check_argnums(-1, 3), check_argnums((0, 2), 3)
        ((True, (2,)), (False, (0, 2)))
    """
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    if not nums:
        raise ValueError(f"argnums must name at least one argument. Received: argnums={argnums!r}")
    for n in nums:
        if not isinstance(n, int) or not -nargs <= n < nargs:
            raise ValueError(
                f"argnums must be integer positions of the {nargs} positional arguments. "
                f"Received: argnums={argnums!r}"
            )
    return single, tuple(n % nargs for n in nums)


def split_aux(out, has_aux):
    """``(value, aux)`` of what a differentiated function returned (``aux`` None without ``has_aux``).

    Args:
        out: the function's result.
        has_aux: whether it must be a pair ``(scalar, aux)``.

    Returns:
        A pair.

    Raises:
        ValueError: ``has_aux`` but ``out`` is not a pair.

    Example:
        >>> split_aux((1.0, "aux"), True), split_aux(1.0, False)
        ((1.0, 'aux'), (1.0, None))
    """
    if not has_aux:
        return out, None
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise ValueError(
            "With has_aux=True the function must return a pair (scalar, aux). "
            f"Received: {type(out).__name__}"
            + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
        )
    return out[0], out[1]


def float_tensor(x):
    """``x`` as a backend tensor of a floating dtype (``floatx`` for integer input), to differentiate.

    Args:
        x: an array or tensor.

    Returns:
        A tensor.

    Example:
        >>> keras.backend.standardize_dtype(float_tensor(np.arange(3)).dtype)
        'float32'
    """
    x = keras.ops.convert_to_tensor(x)
    if not keras.backend.is_float_dtype(keras.backend.standardize_dtype(x.dtype)):
        x = keras.ops.cast(x, keras.backend.floatx())
    return x


def eager(fn):
    """``fn`` run as it is, numpy arguments converted to tensors (Keras calls do not mix the two).

    Args:
        fn: a function of tensors.

    Returns:
        The wrapped function.

    Example:
        >>> keras.ops.convert_to_numpy(eager(lambda x: x + 1)(np.zeros(2, "float32"))).tolist()
        [1.0, 1.0]
    """

    @functools.wraps(fn)
    def call(*args):
        return fn(*[keras.ops.convert_to_tensor(a) if isinstance(a, np.ndarray) else a for a in args])

    return call


def _active():
    from deepkit import backend

    return backend.active()


def value_and_grad(fn, argnums=0, has_aux=False):
    """Wrap ``fn`` so that it returns its value and its gradient, on any Keras backend.

    Args:
        fn: A function of backend tensors written with ``keras.ops`` (it may call Keras
            models) returning a scalar, or ``(scalar, aux)`` when ``has_aux``.
        argnums: Position (int) or positions (tuple) of the arguments to differentiate.
            Those arguments are converted to floating-point tensors.
        has_aux: Whether ``fn`` returns ``(scalar, aux)``; ``aux`` is returned unchanged
            (detached on torch).

    Returns:
        A function with ``fn``'s signature returning ``(value, grads)``, or
        ``((value, aux), grads)`` when ``has_aux``. ``grads`` is one tensor for an int
        ``argnums`` or a tuple of tensors; an argument the value does not depend on gets
        zeros.

    Raises:
        NotImplementedError: On the numpy backend.

    Example:
        >>> import keras, numpy as np
        >>> f = value_and_grad(lambda x: keras.ops.sum(x ** 2))
        >>> value, grad = f(np.array([1.0, 2.0, 3.0], "float32"))
        >>> float(value), keras.ops.convert_to_numpy(grad).tolist()
        (14.0, [2.0, 4.0, 6.0])
    """
    return _active().value_and_grad(fn, argnums, has_aux)


def _collect_variables(models, variables):
    collected = list(variables or [])
    for model in models or ():
        if not hasattr(model, "variables"):
            raise TypeError(
                "jit(models=...) takes Keras models or layers whose variables fn reads. "
                f"Received: {model!r} of type {type(model).__name__}"
            )
        collected.extend(model.variables)
    unique, seen = [], set()
    for v in collected:
        if id(v) not in seen:
            seen.add(id(v))
            unique.append(v)
    return unique


def jit(fn, models=(), variables=None, enabled=True, jit_compile=False):
    """Compile a pure ``keras.ops`` function for the active backend.

    Args:
        fn: A function of tensors. It may call the Keras models listed in ``models`` (in
            inference mode) and may use :func:`value_and_grad` inside. It must not draw
            random numbers from a ``SeedGenerator`` or assign variables.
        models: Keras models/layers whose variables ``fn`` reads. On JAX their current
            values are passed to the compiled program as arguments on every call (through
            ``keras.StatelessScope``), so weights are not frozen into it.
        variables: Extra Keras variables read by ``fn``.
        enabled: ``False`` runs ``fn`` eagerly (useful for debugging); numpy arguments
            are converted to tensors.
        jit_compile: On TensorFlow, whether ``tf.function`` uses XLA.

    Returns:
        A callable with ``fn``'s signature. Like ``jax.jit`` and ``tf.function``, it
        recompiles for new argument shapes, so keep batch shapes fixed in loops.

    Example:
        >>> import keras, numpy as np
        >>> layer = keras.layers.Dense(2, kernel_initializer="ones")
        >>> _ = layer(np.zeros((1, 3), "float32"))
        >>> f = jit(lambda x: layer(x) * 2.0, models=[layer])
        >>> keras.ops.convert_to_numpy(f(np.ones((1, 3), "float32"))).tolist()
        [[6.0, 6.0]]
    """
    if not enabled:
        return eager(fn)
    return _active().jit(fn, _collect_variables(models, variables), jit_compile=jit_compile)


def to_numpy(x):
    """Convert a backend tensor (or a nested structure of them) to numpy.

    Args:
        x: A tensor, array, or a list/tuple/dict of them.

    Returns:
        The same structure with numpy arrays.

    Example:
        >>> to_numpy([keras.ops.ones((2,))])[0].tolist()
        [1.0, 1.0]
    """
    return keras.tree.map_structure(
        lambda t: t if isinstance(t, np.ndarray) else keras.ops.convert_to_numpy(t), x
    )


def no_grad():
    """A context in which forward calls record nothing for differentiation.

    On torch, ``torch.no_grad()``: a forward pass that is not differentiated (occlusion,
    Score-CAM, predictions) then builds no autograd graph, which saves its memory and time.
    TensorFlow and JAX record nothing outside a tape / ``jax.grad``, so there it does nothing.

    Returns:
        A context manager.

    Example:
        >>> import keras, numpy as np
        >>> with no_grad():
        ...     y = keras.ops.sum(keras.ops.ones((2,)))
        >>> float(to_numpy(y))
        2.0
    """
    return _active().no_grad()

