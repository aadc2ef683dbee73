"""The playground's settings: names, defaults, server-side limits, and reading them from a URL.

Every setting lives in the page's URL (``?dataset=xor&networkShape=4,2&...``, the TensorFlow
Playground's names), so a link reproduces an experiment. :func:`from_query` reads a query string
leniently: a bad or unknown value falls back to its default and adds a note the page shows.
:func:`checked` reads a settings mapping strictly (the page's changes): anything outside the limits is
refused with a :class:`LimitError` that says which setting, what was received and what is allowed.
Nothing here imports Keras.

Example:
    >>> config, notes = from_query("dataset=xor&networkShape=4,2&learningRate=oops")
    >>> config["dataset"], config["networkShape"], config["learningRate"]
    ('xor', [4, 2], 0.03)
    >>> notes
    ["learningRate: expected a number > 0 and <= 10. Received: 'oops'; using 0.03"]
"""

import math
import urllib.parse

__all__ = ["DEFAULTS", "LIMITS", "FEATURES", "DATASETS", "ACTIVATIONS", "OPTIMIZERS", "PRESETS",
           "LimitError", "from_query", "checked", "to_query", "problem_of"]

#: Server-side limits on sizes (the TensorFlow Playground stops at 6 layers of 8 neurons).
LIMITS = {"layers": 10, "neurons": 32, "points": 5000, "grid": 100, "batchSize": 512, "sessions": 8,
          "csv_bytes": 1_000_000}

#: Input features: URL name -> label on the page.
FEATURES = {"x": "X1", "y": "X2", "xSquared": "X1²", "ySquared": "X2²", "xTimesY": "X1X2",
            "sinX": "sin(X1)", "sinY": "sin(X2)"}

#: Datasets: URL name -> problem type. ``csv`` is the user's own points (uploaded, not in the URL).
DATASETS = {"circle": "classification", "xor": "classification", "gauss": "classification",
            "spiral": "classification", "reg-plane": "regression", "reg-gauss": "regression",
            "csv": "either"}

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear", "elu", "gelu")
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZATIONS = ("none", "L1", "L2")
PROBLEMS = ("classification", "regression")

DEFAULTS = {
    "dataset": "circle", "problem": "classification", "noise": 0, "percTrainData": 50, "batchSize": 10,
    "numSamples": 500, "seed": 0, "networkShape": [4, 2], "activation": "tanh", "learningRate": 0.03,
    "optimizer": "sgd", "regularization": "none", "regularizationRate": 0.0,
    "features": ["x", "y"], "showTestData": False, "discretize": False, "grid": 40,
}

#: The lectures' classic cases: name -> (title, settings changed from the defaults).
PRESETS = {
    "default": ("Circle, 2 hidden layers (the Playground's start)", {}),
    "xor-linear": ("XOR without a hidden layer: it cannot be learned",
                   {"dataset": "xor", "networkShape": [], "learningRate": 0.03}),
    "xor-hidden": ("XOR with one hidden layer of 4: it can",
                   {"dataset": "xor", "networkShape": [4], "learningRate": 0.1}),
    "circle-features": ("Circle from X1² and X2² alone, no hidden layer",
                        {"dataset": "circle", "networkShape": [], "features": ["xSquared", "ySquared"],
                         "learningRate": 0.1}),
    "spiral-deep": ("Spiral by depth: 5 layers of 8, Adam",
                    {"dataset": "spiral", "networkShape": [8, 8, 8, 8, 8], "optimizer": "adam",
                     "learningRate": 0.01, "batchSize": 10}),
    "spiral-features": ("Spiral by features: all 7 inputs, 2 layers",
                        {"dataset": "spiral", "networkShape": [8, 6],
                         "features": list(FEATURES), "optimizer": "adam", "learningRate": 0.01}),
    "regression-plane": ("Regression: a plane, no hidden layer", {"dataset": "reg-plane", "problem": "regression",
                                                                 "networkShape": [], "activation": "linear"}),
}


class LimitError(ValueError):
    """A setting outside what the server allows (its message names the setting, the value and the limit).

    Example:
        >>> issubclass(LimitError, ValueError)
        True
    """


def problem_of(dataset, problem):
    """The problem type a dataset implies (the CSV's own is kept).

    Args:
        dataset: a name of ``DATASETS``.
        problem: the problem type asked for.

    Returns:
        ``"classification"`` or ``"regression"``.

    Example:
        >>> problem_of("reg-plane", "classification")
        'regression'
    """
    kind = DATASETS[dataset]
    return problem if kind == "either" else kind


def _number(text, kind, low, high, low_open=False):
    try:
        value = None if isinstance(text, bool) else kind(text)
    except (TypeError, ValueError, OverflowError):
        value = None
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    if value is None or value < low or value > high or (low_open and value <= low):
        bound = f"> {low}" if low_open else f">= {low}"
        what = "an integer" if kind is int else "a number"
        raise LimitError(f"expected {what} {bound} and <= {high}. Received: {text!r}")
    return value


def _shape(value):
    if isinstance(value, str):
        parts = [p for p in value.replace(" ", "").split(",") if p]
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        raise LimitError(f"expected neurons per hidden layer like 4,2. Received: {value!r}")
    if len(parts) > LIMITS["layers"]:
        raise LimitError(f"at most {LIMITS['layers']} hidden layers. Received: {len(parts)}")
    shape = []
    for i, part in enumerate(parts):
        try:
            shape.append(_number(part, int, 1, LIMITS["neurons"]))
        except LimitError:
            raise LimitError(f"hidden layer {i + 1}: 1 to {LIMITS['neurons']} neurons. Received: {part!r}") from None
    return shape


def _features(value):
    names = [p for p in value.split(",") if p] if isinstance(value, str) else list(value)
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise LimitError(f"unknown feature {unknown[0]!r}; expected some of {', '.join(FEATURES)}")
    if not names:
        raise LimitError("at least one input feature is needed. Received: none")
    return [n for n in FEATURES if n in names]  # the page's order, each once


def _bool(value):
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise LimitError(f"expected true or false. Received: {value!r}")


def _choice(options):
    def parse(value):
        for option in options:
            if str(value).lower() == option.lower():
                return option
        raise LimitError(f"expected one of {', '.join(options)}. Received: {value!r}")
    return parse


_PARSERS = {
    "dataset": _choice(tuple(DATASETS)),
    "problem": _choice(PROBLEMS),
    "noise": lambda v: _number(v, int, 0, 50),
    "percTrainData": lambda v: _number(v, int, 10, 90),
    "batchSize": lambda v: _number(v, int, 1, LIMITS["batchSize"]),
    "numSamples": lambda v: _number(v, int, 20, LIMITS["points"]),
    "seed": lambda v: _number(v, int, 0, 2**31 - 1),
    "networkShape": _shape,
    "activation": _choice(ACTIVATIONS),
    "learningRate": lambda v: _number(v, float, 0, 10, low_open=True),
    "optimizer": _choice(OPTIMIZERS),
    "regularization": _choice(REGULARIZATIONS),
    "regularizationRate": lambda v: _number(v, float, 0, 10),
    "features": _features,
    "showTestData": _bool,
    "discretize": _bool,
    "grid": lambda v: _number(v, int, 8, LIMITS["grid"]),
}
# The TensorFlow Playground's own URL names for the features (x=true&sinX=false...) are read too.
_FEATURE_FLAGS = {name: name for name in FEATURES}


def _consistent(config, notes):
    problem = problem_of(config["dataset"], config["problem"])
    if problem != config["problem"]:
        notes.append(f"dataset {config['dataset']!r} is a {problem} problem; problem set to {problem}")
        config["problem"] = problem
    return config


def checked(settings, base=None):
    """Settings read strictly: each given value must be valid and within ``LIMITS``.

    Args:
        settings: a mapping of setting names to values (strings as in a URL, or typed values).
        base: the settings the given ones change (default ``DEFAULTS``).

    Returns:
        A complete settings dict.

    Raises:
        LimitError: an unknown setting or a value outside what is allowed, naming it.

    Example:
        >>> checked({"networkShape": [8, 8]})["networkShape"]
        [8, 8]
        >>> checked({"problem": "regression"})["dataset"]
        'reg-plane'
        >>> checked({"networkShape": [64]})
        Traceback (most recent call last):
        ...
        deepkit.playground.config.LimitError: networkShape: hidden layer 1: 1 to 32 neurons. Received: 64
    """
    config = _copy(base or DEFAULTS)
    if not isinstance(settings, dict):
        raise LimitError(f"settings must be a JSON object. Received: {type(settings).__name__}")
    for key, value in settings.items():
        if key not in _PARSERS:
            raise LimitError(f"unknown setting {key!r}; expected some of {', '.join(_PARSERS)}")
        try:
            config[key] = _PARSERS[key](value)
        except LimitError as e:
            raise LimitError(f"{key}: {e}") from None
    if "problem" in settings and "dataset" not in settings and DATASETS[config["dataset"]] not in (
            config["problem"], "either"):
        # a new problem type picks its first data set, as the Playground's selector does
        config["dataset"] = "reg-plane" if config["problem"] == "regression" else "circle"
    return _consistent(config, [])


def from_query(query):
    """Settings from a URL query string, leniently: what is wrong falls back to its default, with a note.

    Args:
        query: the query string (with or without its leading ``?``).

    Returns:
        ``(config, notes)``: a complete settings dict and a list of sentences for the page.

    Example:
        >>> config, notes = from_query("?networkShape=4,99&bogus=1")
        >>> config["networkShape"], notes[0]
        ([4, 2], "networkShape: hidden layer 2: 1 to 32 neurons. Received: '99'; using 4,2")
        >>> notes[1]
        "unknown setting 'bogus' ignored"
    """
    config = _copy(DEFAULTS)
    notes = []
    try:
        pairs = urllib.parse.parse_qsl(str(query).lstrip("?"), keep_blank_values=True)
    except ValueError as e:
        return config, [f"the URL's settings could not be read ({e}); using the defaults"]
    flags = {}
    presets = [value for key, value in pairs if key == "preset"]
    if presets:
        if presets[-1] in PRESETS:
            config.update(_copy(PRESETS[presets[-1]][1]))
        else:
            notes.append(f"unknown preset {presets[-1]!r} ignored; expected one of {', '.join(PRESETS)}")
    for key, value in pairs:
        if key == "preset":
            continue
        if key in _FEATURE_FLAGS and key not in _PARSERS:
            flags[key] = value
            continue
        if key not in _PARSERS:
            notes.append(f"unknown setting {key!r} ignored")
            continue
        try:
            config[key] = _PARSERS[key](value)
        except LimitError as e:
            notes.append(f"{key}: {e}; using {_show(DEFAULTS[key])}")
    if flags:
        try:
            on = [k for k, v in flags.items() if _bool(v)]
            config["features"] = _features(on)
        except LimitError as e:
            notes.append(f"features: {e}; using {_show(DEFAULTS['features'])}")
    if config["dataset"] == "csv":
        notes.append("a CSV of your own points is not kept in the URL; upload it again (using circle meanwhile)")
        config["dataset"] = "circle"
    return _consistent(config, notes), notes


def to_query(config):
    """The query string of a settings dict (what the page puts in its URL).

    Args:
        config: a settings dict.

    Returns:
        The query string, without ``?``.

    Example:
        >>> to_query({"dataset": "xor", "networkShape": [4, 2], "showTestData": False})
        'dataset=xor&networkShape=4,2&showTestData=false'
    """
    return "&".join(f"{k}={urllib.parse.quote(_show(v), safe=',')}" for k, v in config.items())


def _show(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _copy(config):
    return {k: list(v) if isinstance(v, list) else v for k, v in config.items()}
