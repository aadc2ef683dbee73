"""Gradients on PyTorch: ``torch.autograd``; calls run eagerly.

Example:
    >>> import keras
    >>> keras.backend.backend() != "torch" or callable(value_and_grad(lambda x: x, 0, False))
    True
"""

import functools

import keras
import torch

from deepkit.backend.gradients import check_argnums, eager, float_tensor, split_aux


def value_and_grad(fn, argnums, has_aux):
    """``fn`` returning ``(value, grads)`` (see :func:`deepkit.backend.gradients.value_and_grad`).

    Args:
        fn: a function of tensors returning a scalar, or ``(scalar, aux)`` when ``has_aux``.
        argnums: position or positions of the arguments to differentiate.
        has_aux: whether ``fn`` returns ``(scalar, aux)``; ``aux`` comes back detached.

    Returns:
        The wrapped function.

    Example:
        >>> import keras, numpy as np
        >>> if keras.backend.backend() == "torch":
        ...     print(float(value_and_grad(lambda x: keras.ops.sum(x * x), 0, False)(np.ones(2, "float32"))[0]))
        ... else:
        ...     print(2.0)
        2.0
    """

    def detach(tree):
        return keras.tree.map_structure(lambda t: t.detach() if isinstance(t, torch.Tensor) else t, tree)

    @functools.wraps(fn)
    def wrapped(*args):
        single, nums = check_argnums(argnums, len(args))
        args = list(args)
        for i in nums:
            args[i] = float_tensor(args[i]).detach().requires_grad_(True)
        with torch.enable_grad():
            value, aux = split_aux(fn(*args), has_aux)
            if value.requires_grad:
                grads = torch.autograd.grad(value, [args[i] for i in nums], allow_unused=True)
            else:
                grads = [None] * len(nums)
        grads = [torch.zeros_like(args[i]) if g is None else g for i, g in zip(nums, grads)]
        value = value.detach()
        out = (value, detach(aux)) if has_aux else value
        return out, (grads[0] if single else tuple(grads))

    return wrapped


def jit(fn, variables, jit_compile=False):
    """``fn`` run eagerly (numpy arguments converted to tensors): no compiled calls on torch here.

    Args:
        fn: a function of tensors.
        variables: unused.
        jit_compile: unused.

    Returns:
        The eager function.

    Example:
        >>> callable(jit(lambda x: x, []))
        True
    """
    del variables, jit_compile
    return eager(fn)


def no_grad():
    """``torch.no_grad()``: forward calls build no autograd graph.

    Returns:
        A context manager.

    Example:
        >>> with no_grad():
        ...     pass
    """
    return torch.no_grad()
