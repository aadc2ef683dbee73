"""Which frameworks a command imports up front (while the CLI captures their C++ start-up messages).

Keras' ``keras.utils.set_random_seed`` imports TensorFlow whenever it is installed, whatever the
backend, so on jax or torch TensorFlow's start-up lines (the cuInit error of every CPU machine) would
come in the middle of a command's output. A command that seeds imports it at start-up instead.

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
        seeding: whether the command calls ``keras.utils.set_random_seed``.

    Returns:
        A list of module names: TensorFlow first when it is installed and the command seeds, then Keras.

    Example:
        >>> frameworks_to_preload(seeding=False)
        ['keras']
    """
    names = ["keras"]
    if seeding and importlib.util.find_spec("tensorflow") is not None:
        names.insert(0, "tensorflow")
    return names


def preload(seeding):
    """Import :func:`frameworks_to_preload` now.

    Args:
        seeding: see :func:`frameworks_to_preload`.

    Returns:
        The names imported.

    Example:
        >>> preload(seeding=False)
        ['keras']
    """
    names = frameworks_to_preload(seeding)
    for name in names:
        importlib.import_module(name)
    return names
