"""The zoo's registry: model names -> spec builders, as timm's ``register_model`` / ``create_model``.

Each family module (``lenet.py``, ``alexnet.py``, ``resnet.py``...) describes what its variants share
once, as a :class:`Family` (the spec builder, default input and classes, paper, minimum size), and
declares every variant once, as an ordinary function decorated with ``@register_model``: its architecture
row and its published counts are the decorator's arguments, its signature lists every argument it takes
(the family options and their defaults are read from it), and its body builds it. The decorator registers
the function as it is (timm's way) and it is exported as ``deepkit.models.<name>``. :func:`create` turns a
name into a ``deepkit.Model`` through the declarative spec (so ``model.to_spec()`` prints the network),
and :func:`get_spec` gives the spec without building anything.

Example:
    >>> from deepkit.models import list_models
    >>> list_models("resnet1*")
    ['resnet101', 'resnet152', 'resnet18']
"""

import dataclasses
import fnmatch
import functools
import inspect
import math
import os

from deepkit.errors import SpecError
from deepkit.models import pretrained as pretrained_weights
from deepkit.models import torch_weights
from deepkit.models.torch_weights import STATE_DICT_SUFFIXES
from deepkit.models.preprocessing import preprocessing_layers
from deepkit.naming import did_you_mean, suggest

__all__ = ["ModelInfo", "Family", "register_model", "unregister_model", "builders", "variants", "available_weights",
           "describe_weights", "list_models", "resolve", "model_info", "get_spec", "create", "count_trainable",
           "load_weights"]

_REGISTRY = {}
_ALIASES = {}
_BUILDERS = {}

# Arguments every zoo model takes (keras.applications style), with their defaults.
COMMON_ARGS = ("input_shape", "num_classes", "include_top", "pooling", "classifier_activation", "weights",
               "model_name", "preprocessing")


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """What the registry knows about one model.

    Args:
        name: registry name, e.g. ``"resnet50"``.
        family: ``"lenet"``, ``"alexnet"``, ``"resnet"`` or ``"cifar_resnet"``.
        spec_fn: builds the spec data: ``spec_fn(input_shape, num_classes, include_top, pooling,
            classifier_activation, name, **options)``.
        input_shape: default input shape (height, width, channels).
        num_classes: default number of classes.
        options: the family-specific keyword arguments and their defaults (from the builder's signature).
        paper: the reference.
        trainable_params: the published trainable parameter count at the default input shape and
            number of classes (None when there is none).
        description: one line.
        min_size: smallest height/width the network accepts.
        min_size_reason: why, for the error message.
        macs: multiply-adds of one forward pass at the default input shape (``deepkit.count_macs``, checked
            in the tests), or None.
        arch: the architecture row the model was declared with (``{"block": "basic", "layers": ...}``).
        pretrained: published weights by ``weights=`` tag, e.g. ``{"imagenet": ImageNetWeights(...)}``
            (URL, hash prefix, top-1/top-5, source; see ``deepkit.models.imagenet``).

    Example:
        >>> info = model_info("cifar_resnet20")
        >>> info.family, info.trainable_params
        ('cifar_resnet', 269722)
    """

    name: str
    family: str
    spec_fn: object
    input_shape: tuple
    num_classes: int
    options: dict
    paper: str
    trainable_params: int = None
    description: str = ""
    min_size: int = 1
    min_size_reason: str = ""
    macs: int = None
    arch: dict = dataclasses.field(default_factory=dict)
    pretrained: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Family:
    """What the variants of one family share, declared once per family module.

    Args:
        name: the family, e.g. ``"resnet"`` (``ModelInfo.family``).
        spec_fn: the spec builder, ``spec_fn(arch, input_shape, num_classes, include_top, pooling,
            classifier_activation, name, **options)`` where ``arch`` is the variant's architecture row
            (the keyword arguments of :func:`register_model` that are not counts); variants declared
            without a row call ``spec_fn(input_shape, ...)``.
        input_shape: default input shape (height, width, channels).
        num_classes: default number of classes.
        paper: the reference.
        min_size: smallest height/width the network accepts.
        min_size_reason: why, for the error message.

    The family options (``shortcut="A"`` for the CIFAR ResNets) are the keyword arguments of each
    variant's builder, written once in its signature.

    Example:
        >>> from deepkit.models.resnet import CIFAR_RESNET
        >>> CIFAR_RESNET.input_shape, CIFAR_RESNET.min_size
        ((32, 32, 3), 4)
    """

    name: str
    spec_fn: object
    input_shape: tuple
    num_classes: int
    paper: str
    min_size: int = 1
    min_size_reason: str = ""


def _published(info):
    """One line of published numbers for a builder's docstring."""
    parts = []
    if info.trainable_params is not None:
        parts.append(f"{info.trainable_params:,} trainable parameters")
    if info.macs is not None:
        scale, unit = (1e9, "G") if info.macs >= 1e9 else (1e6, "M")
        parts.append(f"{info.macs / scale:.2f} {unit} multiply-adds")
    size = "x".join(str(d) for d in info.input_shape)
    return f"Published: {', '.join(parts) or 'no counts'} at {size} and {info.num_classes} classes ({info.paper})."


def _builder_doc(info, doc):
    """The builder's docstring: its own text, then the published counts, Args and Returns."""
    text = inspect.cleandoc(doc) if doc else info.description
    body, found, example = text.partition("\nExample:")
    least = f", at least {info.min_size}x{info.min_size}" if info.min_size > 1 else ""
    shipped = pretrained_weights.available_weights(info.name)
    weights = (f"Shipped weights: {', '.join(f'``weights={t!r}``' for t in shipped)} (trained by deepkit's recipe; "
               "see ``deepkit.models.pretrained``)." if shipped else "No shipped weights (``weights=`` takes a local file).")
    for tag, record in info.pretrained.items():
        weights += (f" ``weights={tag!r}``: {record.describe()}, downloaded once from {record.url} (see "
                    "``deepkit.models.imagenet``).")
    options = ", ".join(f"``{k}={v!r}``" for k, v in info.options.items())
    lines = [body.rstrip(), "", _published(info), weights, "", "Args:",
             f"    input_shape: (H, W, C); default {tuple(info.input_shape)}{least}.",
             f"    num_classes: default {info.num_classes}.",
             "    include_top, pooling, classifier_activation, weights, model_name, preprocessing: as in "
             ":func:`deepkit.models.create`."]
    if options:
        lines.append(f"    {', '.join(info.options)}: the family options (defaults {options}).")
    lines += ["", "Returns:", "    A ``deepkit.Model``."]
    if found:
        lines += ["", "Example:" + example]
    return "\n".join(lines) + "\n"


def _declared_options(declared):
    """The family options of a builder: its keyword arguments beyond :data:`COMMON_ARGS`, with their defaults."""
    params = inspect.signature(declared).parameters
    missing = [a for a in COMMON_ARGS if a not in params]
    if missing:
        raise TypeError(f"register_model: the builder {declared.__name__}() must take every common argument "
                        f"({', '.join(COMMON_ARGS)}). Missing: {', '.join(missing)}")
    options = {}
    for key, param in params.items():
        if key in COMMON_ARGS:
            continue
        if param.kind not in (param.KEYWORD_ONLY, param.POSITIONAL_OR_KEYWORD) or param.default is param.empty:
            raise TypeError(f"register_model: {declared.__name__}() option {key!r} must be a keyword argument "
                            f"with a default. Received: {param}")
        options[key] = param.default
    return options


def register_model(info=None, aliases=(), *, family=None, trainable_params=None, macs=None, paper=None,
                   input_shape=None, num_classes=None, min_size=None, min_size_reason=None, pretrained=None,
                   description=None, **arch):
    """Declare a zoo model once: ``@register_model(family, counts..., **arch)`` on its builder, as timm's.

    The decorated function is the model's builder and is returned as it is (exported as
    ``deepkit.models.<name>``): its name names the model, its docstring documents it (a summary line,
    details, an ``Example:``; the decorator appends the published counts, ``Args`` and ``Returns``), its
    signature takes every argument of :data:`COMMON_ARGS` plus the family options with their defaults
    (which :func:`create` and :func:`get_spec` accept for this model), and its body builds the model,
    usually ``return create("name", **locals())``. The published counts and the architecture row given
    here are recorded in the :class:`ModelInfo`; the row goes to the family's ``spec_fn``.

    Called with a :class:`ModelInfo` (``register_model(info, aliases=...)``) it registers that directly.

    Args:
        info: a :class:`Family` (positional, for the decorator form) or a complete :class:`ModelInfo`.
        aliases: other names :func:`create` accepts (not listed by :func:`list_models`).
        family: the :class:`Family` (when not given positionally).
        trainable_params: the published trainable parameter count at the default input shape and classes.
        macs: multiply-adds of one forward pass at the default input shape (checked by the tests).
        paper, input_shape, num_classes, min_size, min_size_reason: override the family's.
        pretrained: published weights, ``{"imagenet": deepkit.models.imagenet.torchvision(file, top1, top5)}``.
        description: one line; default: the first line of the docstring.
        **arch: the architecture row passed to the family's ``spec_fn`` (``block="basic", layers=(2, 2, 2, 2)``).

    Returns:
        The decorator (which returns the builder it is given), or the registered ``ModelInfo``.

    Raises:
        ValueError: the name is already taken.
        TypeError: the builder's signature lacks a common argument or has an option without a default.

    Example:
        >>> from deepkit.models.registry import Family, register_model
        >>> from deepkit.models.lenet import lenet5_spec
        >>> tiny = Family("demo", lenet5_spec, (32, 32, 1), 10, "-")
        >>> @register_model(tiny, trainable_params=61_706, aliases=("demo_net",))
        ... def demo_lenet(input_shape=None, num_classes=None, *, include_top=True, pooling=None,
        ...                classifier_activation="softmax", weights=None, model_name=None, preprocessing=None,
        ...                activation="tanh", subsampling="avg"):
        ...     "A LeNet-5 declared again under another name."
        ...     return create("demo_lenet", **locals())
        >>> count_trainable(demo_lenet()), model_info("demo_net").name
        (61706, 'demo_lenet')
        >>> unregister_model("demo_lenet")
    """
    if isinstance(info, ModelInfo):
        return _add(info, aliases)
    family = family or info
    if not isinstance(family, Family):
        raise TypeError(f"register_model: expected a Family or a ModelInfo. Received: {info!r}")

    def decorate(declared):
        spec_fn = functools.partial(family.spec_fn, dict(arch)) if arch else family.spec_fn
        summary = inspect.cleandoc(declared.__doc__ or declared.__name__).split("\n", 1)[0].rstrip(".")
        model = ModelInfo(
            name=declared.__name__, family=family.name, spec_fn=spec_fn,
            input_shape=tuple(input_shape or family.input_shape), num_classes=num_classes or family.num_classes,
            options=_declared_options(declared), paper=paper or family.paper,
            trainable_params=trainable_params, description=description or summary,
            min_size=family.min_size if min_size is None else min_size,
            min_size_reason=family.min_size_reason if min_size_reason is None else min_size_reason,
            macs=macs, arch=dict(arch), pretrained=dict(pretrained or {}))
        _add(model, aliases)
        declared.__doc__ = _builder_doc(model, declared.__doc__)
        _BUILDERS[model.name] = declared
        return declared

    return decorate


def _add(info, aliases):
    for key in (info.name, *aliases):
        if key in _REGISTRY or key in _ALIASES:
            raise ValueError(f"register_model: the model name '{key}' is already registered.")
    _REGISTRY[info.name] = info
    for alias in aliases:
        _ALIASES[alias] = info.name
    return info


def unregister_model(name):
    """Remove a model (and its aliases) from the registry: the undo of :func:`register_model`.

    Args:
        name: a registered name.

    Returns:
        None.

    Example:
        >>> "lenet5" in list_models()
        True
    """
    name = resolve(name)
    del _REGISTRY[name]
    _BUILDERS.pop(name, None)
    for alias in [a for a, target in _ALIASES.items() if target == name]:
        del _ALIASES[alias]


def builders():
    """The builder functions declared with ``@register_model``, by name (what ``deepkit.models`` exports).

    Returns:
        A dict name -> function.

    Example:
        >>> builders()["resnet50"].__module__
        'deepkit.models.resnet'
    """
    return dict(_BUILDERS)


def variants(family):
    """The declared rows of one family: name -> architecture row plus its published counts.

    Args:
        family: a family name (``"resnet"``) or :class:`Family`.

    Returns:
        A dict ``{name: {**arch, "trainable_params": ..., "macs": ...}}`` in declaration order.

    Example:
        >>> variants("cifar_resnet")["cifar_resnet20"]
        {'n': 3, 'trainable_params': 269722, 'macs': 40551040}
    """
    key = family.name if isinstance(family, Family) else family
    return {name: {**info.arch, "trainable_params": info.trainable_params, "macs": info.macs}
            for name, info in _REGISTRY.items() if info.family == key}


def available_weights(name):
    """The ``weights=`` tags of a model: shipped with deepkit (``"mnist"``) or published (``"imagenet"``).

    Args:
        name: a model name.

    Returns:
        A sorted list of tags.

    Example:
        >>> available_weights("lenet5"), available_weights("resnet18"), available_weights("cifar_resnet20")
        (['mnist'], ['imagenet'], [])
    """
    info = model_info(name)
    return sorted(set(pretrained_weights.available_weights(info.name)) | set(info.pretrained))


def describe_weights(name):
    """The ``weights=`` tags of a model in one short cell, published ones with their top-1/top-5 accuracy
    (the ``weights`` column of ``deepkit models``).

    Args:
        name: a model name.

    Returns:
        A str (``"-"`` when there are none).

    Example:
        >>> describe_weights("resnet50"), describe_weights("lenet5"), describe_weights("cifar_resnet20")
        ('imagenet 76.1/92.9', 'mnist', '-')
    """
    info = model_info(name)
    cells = [f"{tag} {info.pretrained[tag].top1:.1f}/{info.pretrained[tag].top5:.1f}" if tag in info.pretrained
             else tag for tag in available_weights(info.name)]
    return ",".join(cells) or "-"


def list_models(filter=None):
    """Names of the registered models, sorted.

    Args:
        filter: a shell-style pattern (``"resnet*"``, ``"*cifar*"``); a pattern without ``*``, ``?`` or
            ``[`` matches names that contain it.

    Returns:
        A sorted list of names.

    Example:
        >>> list_models("lenet*")
        ['lenet5', 'lenet5_paper']
    """
    names = sorted(_REGISTRY)
    if filter is None:
        return names
    pattern = str(filter).lower()
    if not any(c in pattern for c in "*?["):
        pattern = f"*{pattern}*"
    return [n for n in names if fnmatch.fnmatchcase(n, pattern)]


def _canonical(name):
    return str(name).strip().lower().replace("-", "").replace(" ", "")


def resolve(name):
    """The registry name for ``name``: exact, alias, or ignoring case and dashes (``"ResNet-50"``).

    Args:
        name: a model name.

    Returns:
        The registered name.

    Raises:
        ValueError: no such model; the message lists close matches.

    Example:
        >>> resolve("ResNet-50"), resolve("resnet20")
        ('resnet50', 'cifar_resnet20')
    """
    if isinstance(name, str):
        if name in _REGISTRY:
            return name
        if name in _ALIASES:
            return _ALIASES[name]
        wanted = _canonical(name)
        for table in (_REGISTRY, _ALIASES):
            for key in table:
                if _canonical(key) == wanted or _canonical(key).replace("_", "") == wanted.replace("_", ""):
                    return key if table is _REGISTRY else _ALIASES[key]
    # Registered names first; aliases ("resnet56" for cifar_resnet56) only when no name is close.
    close = suggest(_canonical(name), _REGISTRY) or list(dict.fromkeys(
        _ALIASES[c] for c in suggest(_canonical(name), _ALIASES)))
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"deepkit.models: unknown model {name!r}.{hint} "
                     f"Available: {', '.join(sorted(_REGISTRY))}.")


def model_info(name):
    """The :class:`ModelInfo` of a registered model.

    Args:
        name: a model name (aliases and ``"ResNet-50"`` spellings work).

    Returns:
        A :class:`ModelInfo`.

    Raises:
        ValueError: unknown name (close matches are listed).

    Example:
        >>> model_info("alexnet").trainable_params
        61100840
    """
    return _REGISTRY[resolve(name)]


def _check_shape(info, input_shape):
    where = f"deepkit.models '{info.name}'"
    try:
        shape = tuple(input_shape)
    except TypeError:
        shape = None
    rank_ok = shape is not None and len(shape) == 3 or (info.family == "lenet" and shape is not None
                                                        and len(shape) == 2)
    if not rank_ok or any(d is not None and (isinstance(d, bool) or not isinstance(d, int) or d < 1)
                          for d in shape):
        raise ValueError(f"{where}: input_shape must be (height, width, channels) with positive integers "
                         f"(None for a free size where the network allows it). Received: input_shape={input_shape!r}")
    for axis, size in zip(("height", "width"), shape[:2]):
        if size is not None and size < info.min_size:
            raise ValueError(f"{where} needs images of at least {info.min_size}x{info.min_size}: "
                             f"{info.min_size_reason} Received: input_shape={shape} ({axis} {size}).")
    return shape


def _check_common(info, num_classes, include_top, pooling, classifier_activation, weights):
    where = f"deepkit.models '{info.name}'"
    if include_top and (isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1):
        raise ValueError(f"{where}: num_classes must be a positive integer. Received: num_classes={num_classes!r}")
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"{where}: pooling must be None, 'avg' or 'max' (used when include_top=False). "
                         f"Received: pooling={pooling!r}")
    if classifier_activation is not None and not isinstance(classifier_activation, str):
        raise ValueError(f"{where}: classifier_activation must be an activation name (e.g. 'softmax') or None "
                         f"for logits. Received: classifier_activation={classifier_activation!r}")
    if weights is not None:
        if not isinstance(weights, (str, os.PathLike)):
            raise ValueError(f"{where}: weights must be None, a tag ({_shipped_hint(info)}) or the path of a local "
                             f".weights.h5 / .keras file or PyTorch state dict ({', '.join(STATE_DICT_SUFFIXES)}). "
                             f"Received: weights={weights!r}")
        if weights in available_weights(info.name):
            return
        if not os.path.isfile(weights):
            extra = f" Weights for this model: {_shipped_hint(info)}."
            if str(weights).lower() in ("imagenet", "cifar10", "mnist", "fashion_mnist"):
                published = sorted(n for n, i in _REGISTRY.items() if str(weights).lower() in i.pretrained)
                if published:
                    extra += f" weights={str(weights).lower()!r} exists for: {', '.join(published)}."
            raise ValueError(f"{where}: weights file not found.{extra} Received: weights={str(weights)!r}")


def _shipped_hint(info):
    return ", ".join(repr(t) for t in available_weights(info.name)) or "none"


def get_spec(name, input_shape=None, num_classes=None, include_top=True, pooling=None,
             classifier_activation="softmax", model_name=None, preprocessing=None, **options):
    """The spec data of a zoo model, without building it.

    Args:
        name: a registered model name.
        input_shape: (height, width, channels); the model's default when None.
        num_classes: number of classes; the model's default when None.
        include_top: whether to include the classifier.
        pooling: with ``include_top=False``: None (feature map), ``"avg"`` or ``"max"``.
        classifier_activation: activation of the classifier (``"softmax"``), or None for logits.
        model_name: the model name written into the spec (defaults to the registry name).
        preprocessing: None, ``"rescale"`` or ``{"mean": [...], "std": [...]}``: first layers that take raw
            0-255 pixels (see ``deepkit.models.preprocessing``).
        **options: family options (see ``model_info(name).options``).

    Returns:
        A dict ``{name, input_shape, layers}`` for ``deepkit.from_spec``.

    Raises:
        ValueError: unknown model, bad argument or input size too small.

    Example:
        >>> spec = get_spec("lenet5")
        >>> spec["input_shape"], spec["layers"][1]
        ([28, 28, 1], {'Conv2D': {'filters': 6, 'kernel_size': 5, 'activation': 'tanh', 'name': 'c1'}})
    """
    info = model_info(name)
    unknown = sorted(set(options) - set(info.options))
    if unknown:
        valid = sorted(set(COMMON_ARGS) | set(info.options))
        hint = did_you_mean(unknown[0], valid)
        raise ValueError(f"deepkit.models '{info.name}': unknown argument {unknown[0]!r}.{hint} "
                         f"Valid arguments: {', '.join(valid)}.")
    input_shape = _check_shape(info, info.input_shape if input_shape is None else input_shape)
    num_classes = info.num_classes if num_classes is None else num_classes
    _check_common(info, num_classes, include_top, pooling, classifier_activation, None)
    merged = {**info.options, **options}
    spec = info.spec_fn(input_shape=input_shape, num_classes=num_classes, include_top=bool(include_top),
                        pooling=pooling, classifier_activation=classifier_activation,
                        name=model_name or info.name, **merged)
    channels = input_shape[-1] if len(input_shape) == 3 else 1
    first = preprocessing_layers(preprocessing, channels)
    return {**spec, "layers": first + list(spec["layers"])} if first else spec


def create(name, input_shape=None, num_classes=None, include_top=True, pooling=None,
           classifier_activation="softmax", weights=None, model_name=None, preprocessing=None, **options):
    """Build a zoo model by name, keras.applications style.

    Args:
        name: a registered model name (see :func:`list_models`); ``"ResNet-50"`` spellings work.
        input_shape: (height, width, channels); the model's default when None.
        num_classes: number of classes; the model's default when None.
        include_top: whether to include the classifier (fully-connected layers at the top).
        pooling: with ``include_top=False``: None (last feature map), ``"avg"`` or ``"max"``
            (global pooling).
        classifier_activation: the classifier's activation (``"softmax"``), or None for logits.
        weights: None (random initialisation); a tag of the weights shipped with deepkit
            (``available_weights(name)``, e.g. ``"mnist"`` for ``lenet5``: the model is then built at their
            input shape, classes and preprocessing, and takes raw 0-255 pixels); ``"imagenet"`` for the
            ImageNet models (torchvision's published checkpoint, downloaded once into Keras' cache and
            hash-checked, see ``deepkit.models.imagenet``; the model takes raw 0-255 RGB and has
            ``model.class_names``); the path of a local ``.weights.h5`` or ``.keras`` file with weights for
            this architecture; or a PyTorch state dict (``.safetensors``, ``.pth``/``.pt``/``.th``) for a model
            with a PyTorch counterpart (``deepkit.models.torch_weights``).
        model_name: the Keras model name (defaults to the registry name).
        preprocessing: None (default: the model takes its input as given), ``"rescale"`` or
            ``{"mean": [...], "std": [...]}``: the model starts with ``Rescaling(1/255)`` (and
            ``Normalization``) and takes raw 0-255 pixels (see ``deepkit.models.preprocessing``).
        **options: family options, e.g. ``stride_in_1x1=True`` for the ImageNet ResNets
            (see ``model_info(name).options``).

    Returns:
        A ``deepkit.Model`` (a ``keras.Model``) whose ``to_spec()`` is its spec.

    Raises:
        ValueError: unknown model (close matches are listed), bad argument, input too small,
            missing weights file.

    Example:
        >>> from deepkit.models import create
        >>> model = create("cifar_resnet20")
        >>> count_trainable(model)
        269722
        >>> create("resnet51")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: deepkit.models: unknown model 'resnet51'. Did you mean 'resnet50' or ...
    """
    from deepkit.core import from_spec

    info = model_info(name)
    num_classes_eff = info.num_classes if num_classes is None else num_classes
    _check_common(info, num_classes_eff, include_top, pooling, classifier_activation, weights)
    if isinstance(weights, str) and weights in info.pretrained:
        return _create_published(info, weights, input_shape, num_classes, include_top, pooling,
                                 classifier_activation, model_name, preprocessing, options)
    if weights is not None and os.fspath(weights).lower().endswith(STATE_DICT_SUFFIXES):
        model = create(info.name, input_shape, num_classes, include_top, pooling, classifier_activation, None,
                       model_name, preprocessing, **options)
        return _load_torch(info, model, weights, include_top)
    shipped = None
    if isinstance(weights, str) and weights in pretrained_weights.available_weights(info.name):
        shipped = pretrained_weights.pretrained(info.name, weights)
        input_shape, num_classes, preprocessing = _shipped_arguments(
            info, shipped, input_shape, num_classes if include_top else None, preprocessing)
        weights = pretrained_weights.verify_checksum(shipped)
    spec = get_spec(info.name, input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                    pooling=pooling, classifier_activation=classifier_activation, model_name=model_name,
                    preprocessing=preprocessing, **options)
    try:
        model = from_spec(spec)
    except SpecError as exc:  # a family option produced an impossible network: say which model
        changed = {k: v for k, v in options.items() if v != info.options.get(k)}
        raise ValueError(f"deepkit.models '{info.name}': cannot build with {changed or 'the defaults'}: {exc}") from exc
    if weights is not None:
        if shipped is not None and not include_top:  # the classifier's weights are in the file, not the model
            load_weights(from_spec(get_spec(info.name, input_shape=input_shape, num_classes=num_classes,
                                            preprocessing=preprocessing, **options)), weights, into=model)
        else:
            load_weights(model, weights)
    return model


def _load_torch(info, model, path, include_top):
    layout = torch_weights.has_pytorch_layout(info)
    if layout is None:
        raise ValueError(f"deepkit.models '{info.name}' has no PyTorch counterpart, so a PyTorch state dict does not "
                         "fit it (models that take one: alexnet, vgg11..vgg19_bn, googlenet, resnet18..152, "
                         f"cifar_resnet20..1202). Received: weights={os.fspath(path)!r}")
    return torch_weights.load_state_dict(model, path, layout,
                                         ignore_prefixes=torch_weights.unused_prefixes(model, layout, include_top))


def _create_published(info, tag, input_shape, num_classes, include_top, pooling, classifier_activation,
                      model_name, preprocessing, options):
    """A model with published weights (``weights="imagenet"``): fetched, hash-checked, loaded in place."""
    from deepkit.models import imagenet

    record = info.pretrained[tag]
    where = f"deepkit.models '{info.name}' with weights={tag!r}"
    if include_top and num_classes is not None and num_classes != record.num_classes:
        raise ValueError(f"{where}: the weights classify {record.num_classes} classes; leave num_classes unset "
                         f"(or use include_top=False). Received: num_classes={num_classes}")
    if preprocessing is not None and preprocessing != record.preprocessing:
        raise ValueError(f"{where}: the weights come with their own preprocessing ({record.preprocessing}); leave "
                         f"preprocessing unset. Received: preprocessing={preprocessing!r}")
    model = create(info.name, record.input_shape if input_shape is None else input_shape, record.num_classes,
                   include_top, pooling, classifier_activation, None, model_name, record.preprocessing, **options)
    _load_torch(info, model, imagenet.fetch(record, info.name), include_top)
    if include_top:
        model.class_names = imagenet.imagenet_classes()
    return model


def _shipped_arguments(info, shipped, input_shape, num_classes, preprocessing):
    """The input shape, classes and preprocessing shipped weights need; a conflicting argument is an error."""
    where = f"deepkit.models '{info.name}' with weights={shipped.tag!r}"
    if input_shape is not None and tuple(input_shape) != shipped.input_shape:
        raise ValueError(f"{where}: the weights were trained at input_shape={shipped.input_shape}; leave "
                         f"input_shape unset. Received: input_shape={tuple(input_shape)}")
    if num_classes is not None and num_classes != shipped.num_classes:
        raise ValueError(f"{where}: the weights classify {shipped.num_classes} classes; leave num_classes unset "
                         f"(or use include_top=False). Received: num_classes={num_classes}")
    if preprocessing is not None and preprocessing != shipped.preprocessing:
        raise ValueError(f"{where}: the weights come with their own preprocessing "
                         f"({shipped.preprocessing}); leave preprocessing unset. Received: "
                         f"preprocessing={preprocessing!r}")
    return shipped.input_shape, shipped.num_classes, shipped.preprocessing


def count_trainable(model):
    """The number of trainable parameters (the count papers and torchvision publish).

    Keras' ``count_params()`` also counts BatchNormalization's moving mean and variance, which
    torchvision keeps as buffers; this counts trainable weights only.

    Args:
        model: a built Keras model or layer.

    Returns:
        An int.

    Example:
        >>> from deepkit.models import create
        >>> count_trainable(create("lenet5"))
        61706
    """
    return int(sum(math.prod(int(d) for d in w.shape) for w in model.trainable_weights))


def load_weights(model, path, into=None):
    """Load a local ``.weights.h5`` or ``.keras`` file into a zoo model, with a clear error on mismatch.

    Args:
        model: a built Keras model.
        path: the file.
        into: optional model without the classifier: the weights are loaded into ``model`` (the whole
            architecture), then copied layer by layer into ``into`` by layer name.

    Returns:
        The model (``into`` when given).

    Raises:
        ValueError: the file is missing or does not fit the architecture.

    Example:
        >>> import os, tempfile
        >>> from deepkit.models import create
        >>> m = create("lenet5")
        >>> path = os.path.join(tempfile.mkdtemp(), "lenet5.weights.h5")
        >>> m.save_weights(path)
        >>> create("lenet5", weights=path).count_params()
        61706
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"load_weights: weights file not found. Received: {path!r}")
    try:
        model.load_weights(path)
    except Exception as exc:
        raise ValueError(f"load_weights: the file {path!r} does not fit model '{model.name}' "
                         f"({model.count_params():,} parameters): {exc}") from exc
    if into is None:
        return model
    source = {layer.name: layer for layer in model.layers}
    for layer in into.layers:
        if layer.weights and layer.name in source:
            layer.set_weights(source[layer.name].get_weights())
    return into
