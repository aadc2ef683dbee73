"""``deepkit playground``: the TensorFlow Playground in the browser, on real Keras models.

Pick a 2-D dataset, stack hidden layers, press play and watch every neuron's response over the plane
change while the real Keras model trains on the configured backend; then export the network as a
deepkit spec and a trained ``.keras`` file, and open its atlas with ``deepkit report``.

Modules, one job each: ``config`` (settings, limits, URL), ``data`` (points, features, grid, CSV),
``session`` (one page's model and frames: the only one importing Keras), ``worker`` (the one thread
that runs Keras), ``protocol`` (the JSON requests), ``server`` (HTTP on the standard library; the page
in ``static/``).

Example:
    >>> from deepkit.playground import serve
    >>> callable(serve)
    True
"""

__all__ = ["serve", "make_server"]


def __getattr__(name):
    if name in __all__:
        from deepkit.playground import server

        return getattr(server, name)
    raise AttributeError(f"module 'deepkit.playground' has no attribute '{name}'")
