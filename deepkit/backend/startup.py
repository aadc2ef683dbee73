"""Which frameworks a command imports up front (while the CLI captures their C++ start-up messages).

Keras imports TensorFlow lazily whenever it is installed, whatever the backend: ``keras.utils.set_random_seed``
does, and so does serializing any layer (``serialize_keras_object`` asks whether TensorFlow is available,
which imports it), which building, saving and loading a model all do. On jax or torch TensorFlow's start-up
lines (absl's "All log messages before absl::InitializeLog()" and the CUDA stub's "Could not find cuda
drivers" on every CPU machine) would then come in the middle of a command's output. Every command that
loads Keras imports TensorFlow at start-up instead, while the CLI captures them; it costs nothing extra,
since the command would import it anyway.

Example:
    >>> "keras" in frameworks_to_preload(seeding=False)
    True
"""

import importlib
import importlib.util

__all__ = ["frameworks_to_preload", "preload"]


def frameworks_to_preload(seeding):
    """The modules to import up front.

    Args:
        seeding: whether the command calls ``keras.utils.set_random_seed`` (kept for callers; any
            command that loads Keras ends up importing TensorFlow, so it is preloaded either way).

    Returns:
        A list of module names: TensorFlow first when it is installed, then Keras.

    Example:
        >>> frameworks_to_preload(seeding=False)[-1]
        'keras'
    """
    names = ["keras"]
    if importlib.util.find_spec("tensorflow") is not None:
        names.insert(0, "tensorflow")
    return names


def preload(seeding):
    """Import :func:`frameworks_to_preload` now.

    Args:
        seeding: see :func:`frameworks_to_preload`.

    Returns:
        The names imported.

    Example:
        >>> preload(seeding=False)[-1]
        'keras'
    """
    names = frameworks_to_preload(seeding)
    for name in names:
        importlib.import_module(name)
    return names
