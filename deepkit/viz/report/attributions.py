"""The report's attribution maps: one way to call a method, wherever a page shows one.

The methods and their defaults are the attribution registry's
(:func:`deepkit.viz.attribution.registry.get_method`): the report passes no option of its own
(Integrated Gradients' steps, SmoothGrad's samples are the functions' defaults), only what follows
from the model and the images: the layer of a ``"cam"`` method (the deepest maps of at least 2x2;
a 1x1 map localizes nothing) and occlusion's patch (an eighth of the image side, at least 2 pixels;
the registered 4-pixel default would cover half of an 8x8 digit).
"""

__all__ = ["ATTRIBUTION_METHODS", "METHOD_TITLES", "check_methods", "method_title", "attribution_options",
           "attribution_maps"]

#: The attribution methods the report draws by default, in column order.
ATTRIBUTION_METHODS = ("saliency", "smoothgrad", "integrated_gradients", "grad_cam",
                       "grad_cam_plus_plus", "score_cam", "occlusion")

#: Column titles of the attribution methods (other registered methods are titled by their name).
METHOD_TITLES = {
    "saliency": "Gradient", "smoothgrad": "SmoothGrad", "integrated_gradients": "Integrated Gradients",
    "grad_cam": "Grad-CAM", "grad_cam_plus_plus": "Grad-CAM++", "score_cam": "Score-CAM",
    "occlusion": "Occlusion",
}


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
        >>> check_methods(["gradcam"])
        Traceback (most recent call last):
        ...
        ValueError: build_report: unknown attribution methods ['gradcam']; choose from ['grad_cam', 'grad_cam_plus_plus', 'integrated_gradients', 'occlusion', 'saliency', 'score_cam', 'smoothgrad'].
    """
    from deepkit.viz.attribution.registry import list_methods

    known = list_methods()
    unknown = [m for m in methods if m not in known]
    if unknown:
        raise ValueError(f"{where}: unknown attribution methods {unknown}; choose from {known}.")
    return tuple(methods)


def method_title(method):
    """The column title of a method.

    Example:
        >>> method_title("grad_cam"), method_title("my_method")
        ('Grad-CAM', 'my method')
    """
    return METHOD_TITLES.get(method, method.replace("_", " "))


def attribution_options(method, image_shape, cam_layer=None):
    """The options the report passes to ``method`` besides the model, images and batch size.

    Args:
        method: a registered method name.
        image_shape: ``(h, w, c)`` of the images.
        cam_layer: the layer of a ``"cam"`` method (``None``: the method's own choice).

    Returns:
        A dict (empty for most methods: the registry's defaults apply).

    Example:
        >>> attribution_options("integrated_gradients", (8, 8, 1))
        {}
        >>> attribution_options("occlusion", (32, 32, 3)), attribution_options("grad_cam", (8, 8, 1), "c")
        ({'patch_size': 4, 'stride': 2}, {'layer': 'c'})
    """
    from deepkit.viz.attribution.registry import get_method

    if get_method(method).family == "cam":
        return {} if cam_layer is None else {"layer": cam_layer}
    if method == "occlusion":
        size = max(2, min(image_shape[:2]) // 8)
        return {"patch_size": size, "stride": max(1, size // 2)}
    return {}


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
    from deepkit.viz.attribution.registry import get_method

    options = attribution_options(method, images.shape[1:], cam_layer)
    # the public function the registry names (deepkit.viz.<name>), else the registered one
    function = getattr(deepkit.viz, method, None) or get_method(method).function
    return function(model, images, batch_size=batch_size, **options)
