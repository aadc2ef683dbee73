"""Helpers for the sphinx-gallery run of ``examples/``.

Example:
    >>> reset_keras({}, "plot_x.py")
"""


def reset_keras(gallery_conf, fname):
    """Start each example from a fresh Keras state: no old layers' names or models kept alive, seeded.

    Args:
        gallery_conf: sphinx-gallery's configuration (unused).
        fname: the example file about to run (unused).

    Returns:
        None.
    """
    import keras

    keras.utils.clear_session(free_memory=True)
    keras.utils.set_random_seed(0)
