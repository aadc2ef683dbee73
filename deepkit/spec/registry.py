"""Which layer names a spec may use: the public Keras layers plus layers registered with deepkit.

A spec is data, so it may only name classes from this registry; nothing in a spec can import a module
or run code. Layers that wrap arbitrary Python callables or foreign modules (``Lambda``,
``TorchModuleWrapper``...) are left out on purpose.

Example:
    >>> from deepkit.spec.registry import get_layer_class
    >>> get_layer_class("Conv2D").__name__
    'Conv2D'
"""

import inspect

import keras

from deepkit import naming
from deepkit.errors import SpecError

__all__ = ["register_layer", "layer_names", "suggest", "did_you_mean", "get_layer_class", "spec_name_of",
           "is_layer_name", "is_registered_object"]

# Layers that would let a spec run arbitrary code or load foreign artifacts.
_EXCLUDED = {
    "Lambda", "TFSMLayer", "JaxLayer", "FlaxLayer", "TorchModuleWrapper", "Layer", "Wrapper",
    "InputSpec", "Input", "InputLayer",
}

_CUSTOM = {}


def _keras_layers():
    found = {}
    for name in dir(keras.layers):
        obj = getattr(keras.layers, name)
        if (inspect.isclass(obj) and issubclass(obj, keras.layers.Layer)
                and name not in _EXCLUDED and not name.startswith("_")):
            found[name] = obj
    return found


_KERAS = _keras_layers()


def register_layer(cls=None, *, name=None):
    """Make a custom Keras layer usable by name in specs and serializable in ``.keras`` files.

    Args:
        cls: the layer class (when used as a bare decorator).
        name: the name specs use; defaults to the class name.

    Returns:
        The class itself, so this works as a decorator.

    Example:
        >>> import keras
        >>> from deepkit.spec import register_layer
        >>> @register_layer(name="Scale2")
        ... class Scale2(keras.layers.Layer):
        ...     def call(self, x):
        ...         return 2 * x
        >>> from deepkit.spec.registry import get_layer_class
        >>> get_layer_class("Scale2") is Scale2
        True
    """

    def wrap(layer_cls):
        if not (inspect.isclass(layer_cls) and issubclass(layer_cls, keras.layers.Layer)):
            raise TypeError(f"register_layer expects a keras.layers.Layer subclass. Received: {layer_cls!r}")
        spec_name = name or layer_cls.__name__
        if spec_name in _KERAS and _KERAS[spec_name] is not layer_cls:
            raise ValueError(f"Layer name '{spec_name}' is already a Keras layer; pick another name.")
        keras.saving.register_keras_serializable(package="deepkit", name=spec_name)(layer_cls)
        _CUSTOM[spec_name] = layer_cls
        return layer_cls

    if cls is not None:
        return wrap(cls)
    return wrap


def layer_names():
    """All names a spec may use, sorted.

    Returns:
        A sorted list of layer names.

    Example:
        >>> "Dense" in layer_names() and "Lambda" not in layer_names()
        True
    """
    return sorted({**_KERAS, **_CUSTOM})


def suggest(name, candidates, n=3):
    """Close matches of ``name`` among ``candidates``: :func:`deepkit.naming.suggest`.

    Args:
        name: the misspelt name.
        candidates: the valid names.
        n: how many suggestions at most.

    Returns:
        A list of candidate names.

    Example:
        >>> suggest("conv2", ["Conv2D", "Conv1D", "Dense"])
        ['Conv2D', 'Conv1D']
    """
    return naming.suggest(name, candidates, n=n)


def did_you_mean(name, candidates):
    """A ``" Did you mean 'X'?"`` phrase: :func:`deepkit.naming.did_you_mean`.

    Args:
        name: the misspelt name.
        candidates: the valid names.

    Returns:
        A string to append to an error message.

    Example:
        >>> did_you_mean("Dense2", ["Dense", "Conv2D"])
        " Did you mean 'Dense'?"
    """
    return naming.did_you_mean(name, candidates)


def get_layer_class(name, *, path=None, line=None, column=None, source=None):
    """Look up a layer class by the name a spec uses.

    Exact names first (``Conv2D``); a case-insensitive match is accepted when unique (``conv2d``).

    Args:
        name: the layer name.
        path, line, column, source: where in the spec the name stands, for the error message.

    Returns:
        The layer class.

    Raises:
        SpecError: the name is not a registered layer; the message suggests close matches.

    Example:
        >>> get_layer_class("maxpooling2d").__name__
        'MaxPooling2D'
    """
    if not isinstance(name, str):
        raise SpecError(f"a layer name must be a string. Received: {name!r}",
                        path=path, line=line, column=column, source=source)
    if name not in _KERAS and name not in _CUSTOM:
        import deepkit.layers  # noqa: F401  registers deepkit's own layers (LRN, ...) on first need
    table = {**_KERAS, **_CUSTOM}
    if name in table:
        return table[name]
    folded = [k for k in table if k.lower() == name.lower()]
    if len(folded) == 1:
        return table[folded[0]]
    hint = did_you_mean(name, table)
    if name in _EXCLUDED:
        reason = (f"'{name}' cannot be used in a spec: specs are data and may not carry code or "
                  "foreign modules. Build such layers in Python and pass the instance.")
    else:
        reason = (f"unknown layer '{name}'.{hint} A spec may use any keras.layers class or a layer "
                  "registered with deepkit.spec.register_layer.")
    raise SpecError(reason, path=path, line=line, column=column, source=source)


def spec_name_of(layer):
    """The registry name of a layer instance's class, or None when it is not registered.

    Args:
        layer: a Keras layer instance.

    Returns:
        The name as a string, or None.

    Example:
        >>> import keras
        >>> spec_name_of(keras.layers.Dense(3))
        'Dense'
    """
    cls = type(layer)
    for table in (_CUSTOM, _KERAS):
        for key, value in table.items():
            if value is cls:
                return key
    return None


def is_layer_name(name):
    """True when ``name`` names a layer a spec may use (exactly or, when unique, case-insensitively).

    Args:
        name: any value.

    Returns:
        A bool.

    Example:
        >>> is_layer_name("LSTM"), is_layer_name("units"), is_layer_name("Lambda")
        (True, False, False)
    """
    if not isinstance(name, str):
        return False
    try:
        get_layer_class(name)
    except SpecError:
        return False
    return True


def is_registered_object(config):
    """True when a serialized Keras object names a class or function registered with Keras.

    Keras trusts objects registered with ``@keras.saving.register_keras_serializable()`` (they are
    looked up by their registered name, never imported from the module the file names); specs follow
    the same rule. Objects registered through ``custom_objects=`` of ``keras.saving.load_model`` count
    too while that call runs.

    Args:
        config: a mapping such as ``{"module": "builtins", "class_name": "function",
            "config": "Custom>double", ...}``.

    Returns:
        A bool.

    Example:
        >>> import keras
        >>> @keras.saving.register_keras_serializable(package="demo")
        ... def double(x):
        ...     return 2 * x
        >>> is_registered_object(keras.saving.serialize_keras_object(double))
        True
        >>> is_registered_object({"module": "os", "class_name": "system", "registered_name": "system"})
        False
    """
    if not isinstance(config, dict):
        return False
    if config.get("class_name") == "function":
        name = config.get("config")  # Keras looks a function up by this name (its registered name)
    else:
        name = config.get("registered_name")
    return isinstance(name, str) and keras.saving.get_registered_object(name) is not None
