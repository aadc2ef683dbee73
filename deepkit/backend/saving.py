"""Keras saving internals that deepkit needs and Keras does not export.

Example:
    >>> with safe_mode():
    ...     pass
"""

import contextlib


def safe_mode():
    """Keras' safe mode while layers are built from spec data, whatever the global setting.

    Layer constructors deserialize nested configs (activations, initializers); in safe mode Keras
    refuses the ones that would run code, even after ``keras.config.enable_unsafe_deserialization()``.

    Returns:
        A context manager.

    Example:
        >>> import keras
        >>> with safe_mode():
        ...     layer = keras.layers.Dense(2, activation="relu")
        >>> layer.activation.__name__
        'relu'
    """
    try:
        from keras.src.saving.serialization_lib import SafeModeScope
    except ImportError:  # pragma: no cover - future Keras: the spec check of __lambda__ values still applies
        return contextlib.nullcontext()
    return SafeModeScope(True)
