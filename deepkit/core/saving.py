"""``.keras`` files of deepkit models that plain Keras loads, and that come back as deepkit models with deepkit.

A deepkit model's file names its class the way a Keras model's does: ``{"module": "keras", "class_name":
"Model"}`` (or ``"Sequential"``), with Keras' own functional or sequential config inside (a spec model adds
its ``spec``). Without deepkit, Keras reads it as a ``keras.Model`` / ``keras.Sequential`` computing the same
outputs; with deepkit imported, the registered names ``"Model"`` and ``"Sequential"`` bring back
``deepkit.Model`` / ``deepkit.Sequential`` (spec, fast fit). Keras' own files write ``registered_name: null``
(``Functional`` for functional models), so they never meet these names. A file whose layers are deepkit's
own (``Block``, ``deepkit.layers``) still needs deepkit; Keras' error then quotes the layer's
``requires: import deepkit ...``.

Files written before this format (``registered_name: "deepkit>Model"``) keep loading: those names stay
registered. The registrations live in Keras' custom-object registry, which a user may clear
(``keras.saving.get_custom_objects().clear()``, as Keras' serialization guide does): saving and
``deepkit.models.load`` register them again.

Example:
    >>> import json, os, tempfile, zipfile, deepkit
    >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
    >>> deepkit.from_spec([{"Dense": 2}], input_shape=(3,)).save(path)
    >>> config = json.loads(zipfile.ZipFile(path).read("config.json"))
    >>> config["module"], config["class_name"], config["registered_name"]
    ('keras', 'Model', 'Model')
"""

import json
import os
import shutil
import tempfile
import zipfile

import keras

__all__ = ["keras_compatible", "register", "rewrite_saved_file"]

#: deepkit's model classes by the Keras name their files use ("Model", "Sequential"); filled by register().
_KERAS_NAMES = {}


def register(classes=None):
    """Register deepkit's classes with Keras (again), under their own and their Keras-compatible names.

    Args:
        classes: ``{keras_name: class}`` to add to the Keras-compatible names (``deepkit.core`` gives its
            Model and Sequential once); None re-registers what is known.

    Returns:
        None.

    Example:
        >>> import keras, deepkit
        >>> saved = dict(keras.saving.get_custom_objects())
        >>> keras.saving.get_custom_objects().clear()
        >>> register()
        >>> keras.saving.get_custom_objects()["Model"] is deepkit.Model
        True
        >>> keras.saving.get_custom_objects().update(saved)  # what else was registered, back
    """
    _KERAS_NAMES.update(classes or {})
    registry = keras.saving.get_custom_objects()
    for name, cls in _KERAS_NAMES.items():
        registry[name] = cls
    for cls in _deepkit_classes():
        registered = keras.saving.get_registered_name(cls)
        if registered.startswith("deepkit>") and registry.get(registered) is None:
            registry[registered] = cls


def _deepkit_classes():
    """deepkit's Keras classes loaded so far (layers and models), found from ``keras.layers.Layer``."""
    found, todo = set(), [keras.layers.Layer]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return [cls for cls in found if cls.__module__.split(".")[0] == "deepkit"]


def keras_compatible(config):
    """A saved config with deepkit's model classes named as Keras names its own (module ``keras``).

    Args:
        config: the serialized model (``config.json`` of a ``.keras`` file), as plain data.

    Returns:
        The same structure, rewritten where a deepkit model class is named; nothing else changes.

    Example:
        >>> keras_compatible({"module": "deepkit.core.model", "class_name": "FunctionalModel",
        ...                   "registered_name": "deepkit>FunctionalModel", "config": {}})
        {'module': 'keras', 'class_name': 'Model', 'registered_name': 'Model', 'config': {}}
    """
    if isinstance(config, list):
        return [keras_compatible(item) for item in config]
    if not isinstance(config, dict):
        return config
    config = {key: keras_compatible(value) for key, value in config.items()}
    name = _keras_name(config.get("registered_name"))
    if name is not None and str(config.get("module", "")).startswith("deepkit."):
        config.update(module="keras", class_name=name, registered_name=name)
    return config


def _keras_name(registered):
    """The Keras name a deepkit model class is saved under, or None (not a deepkit model class)."""
    if not isinstance(registered, str) or not registered.startswith("deepkit>"):
        return None
    cls = keras.saving.get_registered_object(registered)
    for name, model_class in _KERAS_NAMES.items():
        if cls is not None and isinstance(cls, type) and issubclass(cls, model_class):
            return name
    return None


def rewrite_saved_file(path):
    """Rewrite the ``config.json`` of a ``.keras`` file (a zip, or a folder) just saved by Keras, Keras-compatibly.

    Args:
        path: the file (or unzipped folder) Keras wrote.

    Returns:
        True when the file was rewritten; False when it is not a ``.keras`` archive or folder.

    Example:
        >>> rewrite_saved_file("model.h5")
        False
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        config_path = os.path.join(path, "config.json")
        if not os.path.isfile(config_path):
            return False
        with open(config_path, encoding="utf-8") as fh:
            config = json.load(fh)
        with open(config_path, "w", encoding="utf-8") as fh:
            json.dump(keras_compatible(config), fh)
        return True
    if not (os.path.isfile(path) and zipfile.is_zipfile(path)):
        return False
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(suffix=".keras", dir=folder)
    os.close(handle)
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(temporary, "w") as target:
            for info in source.infolist():
                if info.filename == "config.json":
                    data = json.dumps(keras_compatible(json.loads(source.read(info)))).encode("utf-8")
                    target.writestr(info, data, compress_type=info.compress_type)
                else:
                    with source.open(info) as src, target.open(info, "w", force_zip64=True) as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        shutil.copymode(path, temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return True
