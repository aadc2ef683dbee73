"""Weights created with their shapes only, allocated later (or never, for a summary).

Keras creates a layer's variables when the layer is first called. Inside a
``keras.StatelessScope(initialize_variables=False)`` it records the shape, dtype and initializer and
defers the allocation; this module allocates such variables one model at a time (Keras' own
``initialize_all_variables`` would allocate every pending variable of the process), so a model can be
sized from its shapes first and refused before a 10^12-parameter kernel is allocated.

Example:
    >>> import keras
    >>> from deepkit.backend.variables import allocate, deferred_weights, is_allocated
    >>> with deferred_weights() as scope:
    ...     layer = keras.layers.Dense(3)
    ...     _ = layer(keras.Input((4,)))
    >>> [is_allocated(w) for w in layer.weights]
    [False, False]
    >>> allocate(layer.weights, scope)
    >>> [is_allocated(w) for w in layer.weights], tuple(layer.kernel.shape)
    ([True, True], (4, 3))
"""

import contextlib

import keras

__all__ = ["deferred_weights", "is_allocated", "discard", "allocate"]


@contextlib.contextmanager
def deferred_weights():
    """Create variables inside the block without allocating them.

    Inside an existing stateless scope (a trace) nothing changes: Keras' own rules apply. When the
    block raises, the variables it created are discarded.

    Returns:
        A context manager giving the ``keras.StatelessScope`` (or None when already inside one).

    Example:
        >>> import keras
        >>> with deferred_weights():
        ...     v = keras.Variable(keras.initializers.Zeros(), shape=(2, 2))
        >>> is_allocated(v)
        False
        >>> discard([v])
    """
    from deepkit.backend.keras_internals import in_stateless_scope

    if in_stateless_scope():
        yield None
        return
    before = {id(v) for v in _pending()}
    try:
        with keras.StatelessScope(initialize_variables=False) as scope:
            yield scope
    except BaseException:  # a failed build: its half-made variables must never be allocated later
        discard([v for v in _pending() if id(v) not in before])
        raise


def is_allocated(variable):
    """Whether a Keras variable holds a value (False: shape only, created under ``deferred_weights``).

    Args:
        variable: a ``keras.Variable``.

    Returns:
        A bool.

    Example:
        >>> import keras
        >>> is_allocated(keras.Variable(1.0))
        True
    """
    from deepkit.backend.keras_internals import has_value

    return has_value(variable)


def _pending():
    from deepkit.backend.keras_internals import pending_variables

    return pending_variables()


def discard(variables):
    """Forget deferred variables, so no later scope allocates them (a refused model's weights).

    Args:
        variables: Keras variables.

    Returns:
        None.

    Example:
        >>> import keras
        >>> with deferred_weights():
        ...     v = keras.Variable(keras.initializers.Zeros(), shape=(10**6, 10**6))
        >>> discard([v]); is_allocated(v)
        False
    """
    ids = {id(v) for v in variables}
    pending = _pending()
    pending[:] = [v for v in pending if id(v) not in ids]


def allocate(variables, scope=None):
    """Allocate deferred variables with their initializers, then replay assignments made in ``scope``.

    Args:
        variables: Keras variables (those already allocated are left alone).
        scope: the scope given by ``deferred_weights``; values a layer assigned to its variables while it
            was built there are written after allocation.

    Returns:
        None.

    Example:
        >>> import keras
        >>> with deferred_weights() as scope:
        ...     v = keras.Variable(keras.initializers.Ones(), shape=(2,))
        >>> allocate([v], scope); keras.ops.convert_to_numpy(v).tolist()
        [1.0, 1.0]
    """
    variables = list(variables)
    ids = {id(v) for v in variables}
    # In creation order, as Keras would have allocated them: the same random draws for the same seed.
    ordered = [v for v in _pending() if id(v) in ids]
    ordered += [v for v in variables if id(v) not in {id(o) for o in ordered}]
    from deepkit.backend.keras_internals import deferred_initialize

    for variable in ordered:
        if not is_allocated(variable):
            deferred_initialize(variable)
    discard(variables)
    if scope is None:
        return
    for variable in variables:
        value = scope.get_current_value(variable)
        if value is not None and not isinstance(value, keras.KerasTensor):
            try:
                variable.assign(value)
            except Exception:  # a traced (symbolic) value: nothing concrete to keep
                pass
