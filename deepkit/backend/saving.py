"""Keras saving behaviour that deepkit needs and Keras does not export (through ``keras_internals``).

Example:
    >>> with safe_mode():
    ...     pass
"""

__all__ = ["safe_mode"]


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
    from deepkit.backend.keras_internals import SafeModeScope

    return SafeModeScope(True)
