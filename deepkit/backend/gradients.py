"""Gradients and compilation for any Keras backend: the only backend-specific code of deepkit.viz.

Keras 3 has no ``keras.ops.grad``. Its own trainers compute gradients per backend
(``keras/src/backend/*/trainer.py``): ``tf.GradientTape`` on TensorFlow,
``jax.value_and_grad`` over ``stateless_call`` on JAX, ``torch.autograd`` on PyTorch. This
module does the same for arbitrary functions written with ``keras.ops``:

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

import contextlib
import functools

import keras
import numpy as np

__all__ = ["value_and_grad", "jit", "backend_name"]


def backend_name():
    """Name of the active Keras backend.

    Returns:
        ``"tensorflow"``, ``"jax"``, ``"torch"`` or ``"numpy"``.

    Example:
        >>> backend_name() in ("tensorflow", "jax", "torch", "numpy")
        True
    """
    return keras.backend.backend()


def _normalize_argnums(argnums, nargs):
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


def _split(out, has_aux):
    if not has_aux:
        return out, None
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise ValueError(
            "With has_aux=True the function must return a pair (scalar, aux). "
            f"Received: {type(out).__name__}"
            + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
        )
    return out[0], out[1]


def _float_tensor(x):
    x = keras.ops.convert_to_tensor(x)
    if not keras.backend.is_float_dtype(keras.backend.standardize_dtype(x.dtype)):
        x = keras.ops.cast(x, keras.backend.floatx())
    return x


def _tf_value_and_grad(fn, argnums, has_aux):
    import tensorflow as tf

    @functools.wraps(fn)
    def wrapped(*args):
        single, nums = _normalize_argnums(argnums, len(args))
        args = list(args)
        for i in nums:
            args[i] = _float_tensor(args[i])
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            for i in nums:
                tape.watch(args[i])
            value, aux = _split(fn(*args), has_aux)
        grads = tape.gradient(
            value, [args[i] for i in nums], unconnected_gradients=tf.UnconnectedGradients.ZERO
        )
        out = (value, aux) if has_aux else value
        return out, (grads[0] if single else tuple(grads))

    return wrapped


def _jax_value_and_grad(fn, argnums, has_aux):
    import jax

    @functools.wraps(fn)
    def wrapped(*args):
        single, nums = _normalize_argnums(argnums, len(args))
        args = list(args)
        for i in nums:
            args[i] = _float_tensor(args[i])
        g = jax.value_and_grad(fn, argnums=nums[0] if single else nums, has_aux=has_aux)
        return g(*args)

    return wrapped


def _torch_value_and_grad(fn, argnums, has_aux):
    import torch

    def detach(tree):
        return keras.tree.map_structure(
            lambda t: t.detach() if isinstance(t, torch.Tensor) else t, tree
        )

    @functools.wraps(fn)
    def wrapped(*args):
        single, nums = _normalize_argnums(argnums, len(args))
        args = list(args)
        for i in nums:
            args[i] = _float_tensor(args[i]).detach().requires_grad_(True)
        with torch.enable_grad():
            value, aux = _split(fn(*args), has_aux)
            if value.requires_grad:
                grads = torch.autograd.grad(value, [args[i] for i in nums], allow_unused=True)
            else:
                grads = [None] * len(nums)
        grads = [torch.zeros_like(args[i]) if g is None else g for i, g in zip(nums, grads)]
        value = value.detach()
        out = (value, detach(aux)) if has_aux else value
        return out, (grads[0] if single else tuple(grads))

    return wrapped


def _numpy_unsupported(fn, argnums, has_aux):
    raise NotImplementedError(
        "Gradients need the tensorflow, jax or torch Keras backend; the numpy backend cannot "
        "differentiate. Set KERAS_BACKEND to one of those. Received: backend='numpy'"
    )


_VALUE_AND_GRAD = {
    "tensorflow": _tf_value_and_grad,
    "jax": _jax_value_and_grad,
    "torch": _torch_value_and_grad,
    "numpy": _numpy_unsupported,
}


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
    backend = backend_name()
    if backend not in _VALUE_AND_GRAD:
        raise NotImplementedError(f"Unsupported Keras backend. Received: backend={backend!r}")
    return _VALUE_AND_GRAD[backend](fn, argnums, has_aux)


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
    backend = backend_name()
    if not enabled or backend not in ("jax", "tensorflow"):

        @functools.wraps(fn)
        def eager(*args):
            # Keras calls do not mix numpy arrays and tensors (torch, or jit disabled).
            return fn(*[keras.ops.convert_to_tensor(a) if isinstance(a, np.ndarray) else a for a in args])

        return eager
    if backend == "jax":
        import jax

        variables = _collect_variables(models, variables)

        def pure(values, *args):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return fn(*args)

        compiled = jax.jit(pure)

        @functools.wraps(fn)
        def call(*args):
            return compiled([v.value for v in variables], *args)

        return call
    import tensorflow as tf

    return tf.function(fn, jit_compile=jit_compile)


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


__all__.append("to_numpy")


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
    if backend_name() == "torch":
        import torch

        return torch.no_grad()
    return contextlib.nullcontext()


__all__.append("no_grad")
