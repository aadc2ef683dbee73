"""The one model loader: a zoo name, a spec file, a saved ``.keras``/``.h5`` model or a weights file.

The CLI (train, evaluate, report, summary), the report and the recipes all load models through
:func:`load`, so a reference means the same model everywhere. Saved files are checked before Keras reads
them (a damaged file is one line naming the file and the problem) and loaded in Keras' safe mode: nothing
in a model file may run code.

=====================================  ===========================================================
reference                              loaded as
=====================================  ===========================================================
``"lenet5"``, ``"ResNet-50"``          ``deepkit.models.create(name, weights=..., ...)``
``net.yaml`` / ``.yml`` / ``.json``    the spec, built (its own input shape wins over ``input_shape``)
``model.keras`` / ``.h5``              ``keras.saving.load_model(..., safe_mode=True)``
``x.weights.h5``                       needs ``architecture=`` (a zoo name or spec file): built, then
                                       the weights loaded into it
=====================================  ===========================================================

Example:
    >>> model = load("lenet5", weights="mnist")
    >>> model.name, tuple(model.inputs[0].shape[1:])
    ('lenet5', (28, 28, 1))
"""

import os
import re
import zipfile
import zlib

__all__ = ["load", "load_model_file", "load_problem", "ModelFileError"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _one_line(text):
    return " ".join(_ANSI.sub("", str(text)).split())


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


class ModelFileError(ValueError):
    """A saved model file that cannot be read: missing, damaged, or naming classes nobody registered.

    The message is one line that names the file and the problem.

    Example:
        >>> str(ModelFileError("net.keras", "not a zip archive"))
        'net.keras: not a zip archive'
    """

    def __init__(self, path, problem):
        self.path, self.problem = path, problem
        super().__init__(f"{path}: {problem}")


#: The most a ``.keras`` file's JSON members (``config.json``, ``metadata.json``) may inflate to.
MAX_JSON_BYTES = 64 << 20
#: The most any member may inflate to, relative to its compressed size (Keras stores members uncompressed:
#: ratio 1; compressed float weights reach 2 to 10; a zip bomb, thousands) ...
MAX_EXPANSION = 100
#: ... except members this small, whatever their ratio.
SMALL_MEMBER_BYTES = 1 << 20


def _check_inflated_sizes(path, archive):
    """Zip-bomb bounds, from the central directory alone: nothing is inflated before they hold."""
    archive_bytes = os.path.getsize(path)
    total = 0
    for info in archive.infolist():
        if info.filename.lower().endswith(".json"):
            limit = MAX_JSON_BYTES
        else:
            limit = max(SMALL_MEMBER_BYTES, MAX_EXPANSION * info.compress_size)
        if info.file_size > limit:
            raise ModelFileError(path, f"member '{info.filename}' would inflate from {info.compress_size:,} to "
                                       f"{info.file_size:,} bytes, more than the {limit:,} deepkit reads; refused "
                                       "(a zip bomb, or not a file Keras wrote)")
        total += info.file_size
    limit = MAX_JSON_BYTES + MAX_EXPANSION * archive_bytes
    if total > limit:
        raise ModelFileError(path, f"its members would inflate to {total:,} bytes in all from a {archive_bytes:,}-byte "
                                   f"file, more than the {limit:,} deepkit reads; refused (a zip bomb?)")


def _first_damaged_member(archive):
    """The first member failing its CRC, reading each in 1 MiB blocks and never past its declared size."""
    for info in archive.infolist():
        read = 0
        with archive.open(info) as member:  # zipfile stops at file_size and checks the CRC at the end
            while True:
                try:
                    block = member.read(1 << 20)
                except zipfile.BadZipFile:
                    return info.filename
                if not block:
                    break
                read += len(block)
                if read > info.file_size:  # more than declared: never trusted, whatever zipfile does
                    return info.filename
    return None


def _check_model_file(path):
    """Look at a .keras (zip) or .h5 (HDF5) file before Keras does: damage gets a plain message."""
    if not os.path.exists(path):
        raise ModelFileError(path, "model file not found")
    if not os.path.isfile(path):
        raise ModelFileError(path, "is a folder, not a model file")
    if path.lower().endswith((".h5", ".hdf5")):
        with open(path, "rb") as fh:
            head = fh.read(8)
        if head != _HDF5_SIGNATURE:
            raise ModelFileError(path, f"not an HDF5 file: it lacks the HDF5 signature (starts with {head[:8]!r}); "
                                       "the file is damaged or is not a Keras .h5 model")
        return
    if not zipfile.is_zipfile(path):
        raise ModelFileError(path, f"not a valid .keras file: no zip archive found ({os.path.getsize(path):,} "
                                   "bytes; truncated or not a .keras file)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            _check_inflated_sizes(path, archive)
            damaged = _first_damaged_member(archive)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(path, f"damaged .keras archive: {_one_line(exc)}") from None
    if damaged is not None:
        raise ModelFileError(path, f"damaged .keras archive: member '{damaged}' fails its CRC check")
    if "config.json" not in names:
        raise ModelFileError(path, f"not a .keras model: the archive has no config.json (members: "
                                   f"{', '.join(names[:5])}{'...' if len(names) > 5 else ''})")


def load_model_file(path, compile=True):
    """Load a saved ``.keras`` or ``.h5`` model in Keras' safe mode, with a one-line error for bad files.

    Args:
        path: the file.
        compile: as in ``keras.saving.load_model``.

    Returns:
        The ``keras.Model``.

    Raises:
        ModelFileError: (a ``ValueError``) the file is missing, truncated, fails its CRC check, is not
            HDF5, or names a class that is not registered; the message names the file and the problem.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
        >>> _ = open(path, "wb").write(b"not a zip archive")
        >>> load_model_file(path)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        deepkit.models.loading.ModelFileError: /.../m.keras: not a valid .keras file: no zip archive found (17 bytes; truncated or not a .keras file)
    """
    import keras

    import deepkit.core  # noqa: F401  (registers deepkit's model classes for deserialization)
    import deepkit.layers  # noqa: F401  (and its layers)
    from deepkit.core import saving

    _check_model_file(path)
    saving.register()  # again: a user may have cleared Keras' registry (keras.saving.get_custom_objects().clear())
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as exc:  # Keras' messages span lines and carry the config of the object they stopped at
        raise ModelFileError(path, load_problem(exc)) from exc


_MISSING_CLASS = re.compile(r"Could not (?:locate|deserialize) (?:class|function) '([^']+)'")
_NOT_IN_KERAS = re.compile(r"Could not deserialize '([\w.]+)' because it is not a KerasSaveable subclass")
_FULL_CONFIG = re.compile(r"\s*Full object config: .*$", re.S)
_MAX_MESSAGE = 2000


def keras_version():
    import keras

    return keras.version()


def load_problem(exc):
    """What stopped Keras from loading a file, in one line: a class nobody registered, code refused, or Keras' words.

    A class the file names that is not registered in this process is reported with its module and the package
    to import (Keras imports classes by itself only from keras and its sibling packages); safe mode is named only
    when the file holds code (a Python lambda); any other error is Keras' own message, whole (the object config
    Keras appends is left out; past 2,000 characters it is cut and says how much was left out).

    Args:
        exc: the exception ``keras.saving.load_model`` raised.

    Returns:
        A string.

    Example:
        >>> load_problem(TypeError("Could not locate class 'Mine'. Make sure custom classes are decorated. "
        ...                        "Full object config: {'module': 'mypkg.layers', 'class_name': 'Mine', "
        ...                        "'config': {}, 'registered_name': 'mypkg>Mine'}"))  # doctest: +NORMALIZE_WHITESPACE
        "the file names the class 'Mine' (module 'mypkg.layers', registered as 'mypkg>Mine'), which is not
        registered in this process: import the package that defines it (import mypkg) before loading."
    """
    message = _one_line(exc)
    missing = _MISSING_CLASS.search(message)
    if missing:
        rest = message[missing.end():]  # Keras quotes the config of the class it could not find after its name
        module = re.search(r"'module': '([^']*)'", rest)
        registered = re.search(r"'registered_name': '([^']*)'", rest)
        where = ", ".join(part for part in (
            f"module '{module.group(1)}'" if module else "",
            f"registered as '{registered.group(1)}'" if registered and registered.group(1) != missing.group(1) else "")
            if part)
        package = module.group(1).split(".")[0] if module and module.group(1) else None
        advice = (f"import the package that defines it (import {package}) before loading" if package
                  else "import the module that defines it (and registers it with "
                       "@keras.saving.register_keras_serializable()) before loading")
        return (f"the file names the class '{missing.group(1)}'{f' ({where})' if where else ''}, which is not "
                f"registered in this process: {advice}.")
    unknown = _NOT_IN_KERAS.search(message)
    if unknown:
        module, name = unknown.group(1).rsplit(".", 1)
        return (f"the file names the class '{name}' of module '{module}', which this Keras {keras_version()} does "
                "not have (a file from another Keras release, or edited); Keras says: "
                f"{_FULL_CONFIG.sub('', message)}")
    message = _FULL_CONFIG.sub("", message)
    if len(message) > _MAX_MESSAGE:
        message = f"{message[:_MAX_MESSAGE]}... ({len(message) - _MAX_MESSAGE:,} more characters)"
    if "lambda" in message.lower() or "safe_mode" in message or "unsafe" in message.lower():
        return f"cannot be loaded in safe mode (nothing in a model file may run code): {message}"
    return f"Keras cannot load it: {message}"


def _is_spec_file(ref):
    return ref.lower().endswith((".yaml", ".yml", ".json"))


def _build_spec_file(path, input_shape=None):
    from deepkit.core import build_document
    from deepkit.spec import load_document

    document = load_document(path)  # the spec's own input shape wins over the data's
    return build_document(document, input_shape=document.input_shape or input_shape)


def load(ref, *, weights=None, architecture=None, input_shape=None, num_classes=None, compile=False, **options):
    """Load a model from any reference (see the module table).

    Args:
        ref: a zoo name, a spec file, a saved ``.keras``/``.h5`` model, or a ``.weights.h5`` file.
        weights: for a zoo name: a shipped tag (``"mnist"``) or a local weights file; for a spec file: a
            local weights file. Not allowed with a saved model (it has its weights).
        architecture: for a ``.weights.h5`` reference: the zoo name or spec file it belongs to.
        input_shape: for a zoo name or a spec without one: the input shape.
        num_classes: for a zoo name: the number of classes.
        compile: for a saved model: whether to restore its compiled state (``keras.saving.load_model``).
        **options: for a zoo name: more ``deepkit.models.create`` arguments (``preprocessing=``, family
            options).

    Returns:
        A ``keras.Model`` (a ``deepkit.Model`` for zoo names and specs).

    Raises:
        ModelFileError: a saved model file that is missing, damaged or not loadable in safe mode.
        ValueError: an unknown name (with close matches), a weights file without ``architecture``, or an
            argument that does not apply to the reference.

    Example:
        >>> load("lenet5.weights.h5")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: deepkit.models.load: 'lenet5.weights.h5' is a weights file: it holds no architecture; ...
    """
    from deepkit.models import registry

    ref = os.fspath(ref)
    lower = ref.lower()
    if lower.endswith(".weights.h5"):
        if architecture is None:
            raise ValueError(f"deepkit.models.load: {ref!r} is a weights file: it holds no architecture; pass "
                             "architecture= (a zoo name such as 'lenet5' or a spec file), or give the zoo name "
                             "with weights= this file.")
        return load(architecture, weights=ref, input_shape=input_shape, num_classes=num_classes, **options)
    if lower.endswith((".keras", ".h5", ".hdf5")):
        extra = {k: v for k, v in (("weights", weights), ("input_shape", input_shape),
                                   ("num_classes", num_classes), ("architecture", architecture)) if v is not None}
        if extra or options:
            raise ValueError(f"deepkit.models.load: {ref!r} is a saved model with its own architecture and weights; "
                             f"{', '.join(sorted({**extra, **options}))} cannot apply to it.")
        return load_model_file(ref, compile=compile)
    if _is_spec_file(ref):
        if not os.path.isfile(ref):
            raise ValueError(f"deepkit.models.load: spec file {ref!r} not found.")
        model = _build_spec_file(ref, input_shape)
        if weights is not None:
            registry.load_weights(model, weights)
        return model
    if os.sep in ref or ref.lower().endswith((".h5", ".npz")):
        raise ValueError(f"deepkit.models.load: {ref!r} is not a model reference: expected a zoo name, a spec "
                         "file (.yaml/.yml/.json), a saved model (.keras/.h5) or a .weights.h5 file.")
    kwargs = dict(options)
    if input_shape is not None:
        kwargs["input_shape"] = tuple(input_shape)
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    return registry.create(ref, weights=weights, **kwargs)
