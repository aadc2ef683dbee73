"""The registry of attribution methods: the one description of every method.

Every attribution method of :mod:`deepkit.viz.attribution` registers itself with
:func:`register` (as timm's ``@register_model``). Its :class:`Method` record says what the
report, the CLI, the training callback, the package exports and the common tests need to
know: its title, its family, whether it takes ``layer=``, how its map is displayed, the
options the report uses, cheap options for tests, and whether :func:`noise_tunnel
<deepkit.viz.attribution.gradient.noise_tunnel>` can wrap it. Adding a method is one
decorated function in one module of this package (listed in :data:`MODULES`).

Families: ``"gradient"`` (differentiates the class logit with respect to the input, possibly
through a modified backward pass; returns input-shaped attributions reduced over channels),
``"cam"`` (weights a convolutional layer's feature maps; takes ``layer=``) and
``"perturbation"`` (forward passes of modified inputs only).

Displays (how a map is coloured, :data:`DISPLAYS`): ``"magnitude"`` (non-negative maps
dominated by a few pixels: clipped at a high percentile), ``"signed"`` (positive and
negative evidence) and ``"heat"`` (non-negative maps in [0, 1], such as CAMs).

Example:
    >>> {"grad_cam", "score_cam"} <= set(list_methods("cam"))
    True
    >>> get_method("grad_cam").title, get_method("grad_cam").needs_layer
    ('Grad-CAM', True)
"""

import dataclasses
import importlib

__all__ = ["Method", "register", "list_methods", "get_method", "report_methods", "report_options",
           "tunnel_methods", "FAMILIES", "DISPLAYS", "MODULES"]

#: The families of attribution methods, in the order the report shows them.
FAMILIES = ("gradient", "cam", "perturbation")

#: How a method's map is displayed (see the module docstring).
DISPLAYS = ("magnitude", "signed", "heat")

#: The modules whose import registers the methods.
MODULES = ("gradient", "modified", "cam", "perturbation", "sampling", "gradient_shap", "deeplift", "lrp",
           "surrogate")


@dataclasses.dataclass(frozen=True)
class Method:
    """A registered attribution method.

    Attributes:
        name: Public name (``deepkit.viz.<name>``).
        function: ``function(model, images, class_index=None, *, batch_size=..., **options)``
            returning one ``(N, H, W)`` map per image.
        family: One of :data:`FAMILIES`.
        title: Human title (``"Grad-CAM"``), for figures, the CLI and the report.
        needs_layer: The method takes ``layer=`` (a convolutional layer).
        display: One of :data:`DISPLAYS`.
        report: Options the report passes (besides ``batch_size`` and ``layer``); a dict, or a
            callable ``images -> dict`` for options that depend on the image size.
        in_report: Shown by the report by default.
        quick: Keyword options that make the method cheap (used by the common tests).
        tunnel: :func:`noise_tunnel` can wrap the method (every gradient-family method).
        order: Position in the report's and the CLI's lists (lower first).
        reference: The paper.

    Example:
        >>> get_method("saliency").family, get_method("saliency").tunnel
        ('gradient', True)
    """

    name: str
    function: object
    family: str
    title: str = ""
    needs_layer: bool = False
    display: str = "magnitude"
    report: object = dataclasses.field(default_factory=dict)
    in_report: bool = False
    quick: dict = dataclasses.field(default_factory=dict)
    tunnel: bool = False
    order: float = 100.0
    reference: str = ""

    def report_options(self, images=None):
        """The options the report passes to this method (see :func:`report_options`).

        Args:
            images: The ``(N, H, W, C)`` images (for size-dependent options), or ``None``.

        Returns:
            A new dict.

        Example:
            >>> get_method("integrated_gradients").report_options()
            {'steps': 32}
        """
        options = self.report(images) if callable(self.report) else self.report
        return dict(options)


_METHODS = {}


def register(family, quick=None, *, title=None, needs_layer=None, display=None, report=None,
             in_report=False, tunnel=None, order=100.0, reference=""):
    """Decorator that registers an attribution function under its own name.

    Args:
        family: One of :data:`FAMILIES`.
        quick: Options that make a call cheap, for tests (e.g. ``{"steps": 4}``).
        title: Human title; default: the name with underscores as spaces.
        needs_layer: The method takes ``layer=``; default: ``family == "cam"``.
        display: One of :data:`DISPLAYS`; default ``"heat"`` for CAMs, ``"magnitude"``
            for gradients, ``"signed"`` for perturbations.
        report: Options the report passes (dict, or ``images -> dict``).
        in_report: Shown by the report by default.
        tunnel: :func:`noise_tunnel` may wrap it; default: ``family == "gradient"``.
        order: Position in lists (lower first).
        reference: The paper (authors, year).

    Returns:
        The decorator; it returns the function unchanged.

    Raises:
        ValueError: For an unknown family or display, or a name registered twice.

    Example:
        >>> @register("perturbation", title="Mine")
        ... def my_method(model, images, class_index=None, *, batch_size=64):
        ...     pass
        >>> get_method("my_method").title
        'Mine'
        >>> unregister("my_method")
    """
    if family not in FAMILIES:
        raise ValueError(f"register: family must be one of {FAMILIES}. Received: family={family!r}")
    if display is None:
        display = {"cam": "heat", "gradient": "magnitude"}.get(family, "signed")
    if display not in DISPLAYS:
        raise ValueError(f"register: display must be one of {DISPLAYS}. Received: display={display!r}")
    if tunnel and family != "gradient":
        raise ValueError(f"register: only gradient-family methods compose with noise_tunnel. "
                         f"Received: tunnel={tunnel!r}, family={family!r}")

    def decorate(function):
        name = function.__name__
        if name in _METHODS and _METHODS[name].function is not function:
            raise ValueError(f"register: an attribution method named {name!r} is already registered "
                             f"(by {_METHODS[name].function.__module__}). Received: {function!r}")
        _METHODS[name] = Method(
            name, function, family,
            title=title or name.replace("_", " ").capitalize(),
            needs_layer=family == "cam" if needs_layer is None else bool(needs_layer),
            display=display, report=report if report is not None else {}, in_report=bool(in_report),
            quick=dict(quick or {}), tunnel=family == "gradient" if tunnel is None else bool(tunnel),
            order=float(order), reference=reference,
        )
        return function

    return decorate


def unregister(name):
    """Remove a registered method (for tests that register a dummy one).

    Args:
        name: A registered name.

    Returns:
        None.

    Example:
        >>> unregister("no_such_method")
    """
    _METHODS.pop(name, None)


def _load():
    # The methods register on import of their modules.
    for module in MODULES:
        importlib.import_module(f"deepkit.viz.attribution.{module}")


def list_methods(family=None):
    """Names of the registered attribution methods, optionally of one family.

    Args:
        family: ``None`` for all, or one of :data:`FAMILIES`.

    Returns:
        A sorted list of names.

    Example:
        >>> list_methods("perturbation")
        ['kernel_shap', 'lime', 'occlusion', 'rise']
    """
    _load()
    if family is not None and family not in FAMILIES:
        raise ValueError(f"list_methods: family must be None or one of {FAMILIES}. Received: family={family!r}")
    return sorted(name for name, m in _METHODS.items() if family is None or m.family == family)


def get_method(name):
    """The registered :class:`Method` called ``name``.

    Args:
        name: A name from :func:`list_methods`.

    Returns:
        A :class:`Method`.

    Raises:
        KeyError: For an unknown name (the message lists the known ones).

    Example:
        >>> get_method("occlusion").function.__name__
        'occlusion'
    """
    _load()
    if name not in _METHODS:
        raise KeyError(f"No attribution method {name!r}. Known: {', '.join(sorted(_METHODS))}. "
                       f"Received: name={name!r}")
    return _METHODS[name]


def _ordered(names):
    return sorted(names, key=lambda n: (FAMILIES.index(_METHODS[n].family), _METHODS[n].order, n))


def report_methods(default_only=True):
    """The methods the report (and ``deepkit report --attributions``) offers, in display order.

    Args:
        default_only: Only those shown by default (``in_report``); ``False``: every method.

    Returns:
        A tuple of names: gradient methods first, then CAMs, then perturbation methods.

    Example:
        >>> report_methods()[:3]
        ('saliency', 'smoothgrad', 'integrated_gradients')
    """
    _load()
    return tuple(_ordered(n for n, m in _METHODS.items() if m.in_report or not default_only))


def report_options(name, images=None, *, batch_size=64, layer=None):
    """The keyword options the report passes to method ``name`` (its "report defaults").

    Args:
        name: A registered method.
        images: The images to explain (``(N, H, W, C)``), for size-dependent options.
        batch_size: Added as ``batch_size``.
        layer: For methods that take ``layer=``: added when not ``None``.

    Returns:
        A dict of keyword options: ``get_method(name).function(model, images, **options)``.

    Example:
        >>> report_options("smoothgrad", batch_size=32)
        {'num_samples': 16, 'batch_size': 32}
        >>> report_options("grad_cam", layer="conv2")
        {'batch_size': 64, 'layer': 'conv2'}
    """
    method = get_method(name)
    options = method.report_options(images)
    options["batch_size"] = batch_size
    if method.needs_layer and layer is not None:
        options["layer"] = layer
    return options


def tunnel_methods():
    """Names of the methods :func:`noise_tunnel` can wrap (every gradient-family method).

    Returns:
        A sorted list of names.

    Example:
        >>> "integrated_gradients" in tunnel_methods()
        True
    """
    _load()
    return sorted(n for n, m in _METHODS.items() if m.tunnel)
