"""The report's attribution maps: one way to call a method, wherever a page shows one.

The methods, their titles and their report defaults are the attribution registry's
(:mod:`deepkit.viz.attribution.registry`): which methods the report draws by default
(``report_methods``), the options it passes (``report_options``: Integrated Gradients' steps,
SmoothGrad's samples, occlusion's patch as a fraction of the image side), and the column titles.
The report adds only what follows from the model: the layer of a method that takes one (the
deepest maps of at least 2x2; a 1x1 map localizes nothing).
"""

from deepkit.viz.attribution import registry

__all__ = ["ATTRIBUTION_METHODS", "METHOD_TITLES", "check_methods", "method_title", "attribution_options",
           "attribution_maps"]

#: The attribution methods the report draws by default, in column order (the registry's ``in_report``).
ATTRIBUTION_METHODS = registry.report_methods(default_only=True)

#: Column titles of every registered method (the registry's ``title``).
METHOD_TITLES = {name: registry.get_method(name).title for name in registry.list_methods()}


def check_methods(methods, where="build_report"):
    """Check attribution method names against the registry.

    Args:
        methods: names.
        where: named in the message.

    Returns:
        The names as a tuple.

    Raises:
        ValueError: a name is not registered (the message lists the known ones).

    Example:
        >>> check_methods(["saliency"])
        ('saliency',)
        >>> check_methods(["gradcam"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: build_report: unknown attribution methods ['gradcam']; choose from [...'grad_cam'...].
    """
    known = registry.list_methods()
    unknown = [m for m in methods if m not in known]
    if unknown:
        raise ValueError(f"{where}: unknown attribution methods {unknown}; choose from {known}.")
    return tuple(methods)


def method_title(method):
    """The column title of a method (the registry's; an unregistered name is titled by itself).

    Args:
        method: a method name.

    Returns:
        The title.

    Example:
        >>> method_title("grad_cam"), method_title("my_method")
        ('Grad-CAM', 'my method')
    """
    title = METHOD_TITLES.get(method)
    if title is None and method in registry.list_methods():  # registered after this module loaded
        title = registry.get_method(method).title
    return title or method.replace("_", " ")


def attribution_options(method, images, cam_layer=None):
    """The options the report passes to ``method`` besides the model, images and batch size.

    Args:
        method: a registered method name.
        images: the ``(n, h, w, c)`` images (occlusion's patch follows their size).
        cam_layer: the layer of a method that takes one (``None``: the method's own choice).

    Returns:
        A dict: the registry's report options (:func:`deepkit.viz.attribution.registry.report_options`).

    Example:
        >>> import numpy as np
        >>> attribution_options("integrated_gradients", np.zeros((1, 8, 8, 1)))
        {'steps': 32}
        >>> attribution_options("occlusion", np.zeros((1, 32, 32, 3))), attribution_options("grad_cam", None, "c")
        ({'patch_size': 4, 'stride': 2}, {'layer': 'c'})
    """
    options = registry.report_options(method, images, layer=cam_layer)
    del options["batch_size"]  # the caller's
    return options


def attribution_maps(model, images, method, batch_size=64, cam_layer=None):
    """Attribution maps of ``images`` for their predicted classes.

    Args:
        model: the classifier.
        images: ``(n, h, w, c)``.
        method: a registered method name.
        batch_size: images per forward pass.
        cam_layer: see :func:`attribution_options`.

    Returns:
        The method's maps ``(n, h, w)``.

    Example:
        >>> import numpy as np, keras
        >>> m = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
        >>> attribution_maps(m, np.zeros((3, 4, 4, 1), "float32"), "saliency").shape
        (3, 4, 4)
    """
    import deepkit.viz

    options = attribution_options(method, images, cam_layer)
    # the public function the registry names (deepkit.viz.<name>), else the registered one
    function = getattr(deepkit.viz, method, None) or registry.get_method(method).function
    return function(model, images, batch_size=batch_size, **options)
