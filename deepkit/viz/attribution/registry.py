"""The registry of attribution methods: name -> function and family.

Every attribution method of :mod:`deepkit.viz.attribution` registers itself with
:func:`register` (as timm's ``@register_model``), so the common tests run over all of
them (:func:`list_methods`) and a new method gets the same coverage without a test written
by hand. Families: ``"gradient"`` (differentiates the class logit with respect to the input),
``"cam"`` (weights a convolutional layer's feature maps; takes ``layer=``) and
``"perturbation"`` (forward passes of modified inputs only).

Example:
    >>> from deepkit.viz import attribution
    >>> sorted(m for m in list_methods() if get_method(m).family == "cam")
    ['grad_cam', 'grad_cam_plus_plus', 'score_cam']
"""

import dataclasses

__all__ = ["Method", "register", "list_methods", "get_method", "FAMILIES"]

#: The families of attribution methods.
FAMILIES = ("gradient", "cam", "perturbation")


@dataclasses.dataclass(frozen=True)
class Method:
    """A registered attribution method.

    Attributes:
        name: Public name (``deepkit.viz.<name>``).
        function: ``function(model, images, class_index=None, *, batch_size=..., **options)``
            returning one ``(N, H, W)`` map per image.
        family: One of :data:`FAMILIES`.
        quick: Keyword options that make the method cheap (used by the common tests).

    Example:
        >>> get_method("saliency").family
        'gradient'
    """

    name: str
    function: object
    family: str
    quick: dict = dataclasses.field(default_factory=dict)


_METHODS = {}


def register(family, quick=None):
    """Decorator that registers an attribution function under its own name.

    Args:
        family: One of :data:`FAMILIES`.
        quick: Options that make a call cheap, for tests (e.g. ``{"steps": 4}``).

    Returns:
        The decorator; it returns the function unchanged.

    Example:
        >>> @register("perturbation")
        ... def my_method(model, images, class_index=None, *, batch_size=64):
        ...     pass
        >>> get_method("my_method").family
        'perturbation'
        >>> _ = _METHODS.pop("my_method")
    """
    if family not in FAMILIES:
        raise ValueError(f"register: family must be one of {FAMILIES}. Received: family={family!r}")

    def decorate(function):
        _METHODS[function.__name__] = Method(function.__name__, function, family, dict(quick or {}))
        return function

    return decorate


def _load():
    # The methods register on import of their modules.
    from deepkit.viz.attribution import cam, gradient, perturbation  # noqa: F401


def list_methods(family=None):
    """Names of the registered attribution methods, optionally of one family.

    Args:
        family: ``None`` for all, or one of :data:`FAMILIES`.

    Returns:
        A sorted list of names.

    Example:
        >>> list_methods("perturbation")
        ['occlusion']
    """
    _load()
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
