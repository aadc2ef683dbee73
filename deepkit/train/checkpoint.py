"""Crash-safe training: atomic checkpoints, exact resume after a kill, NaN stop with the last good weights.

Keras' ``BackupAndRestore`` writes its weights file in place and its metadata in a second file, so a
kill at the wrong moment leaves a torn or mismatched backup, and it does not save the random-number
state of layers such as ``Dropout``. This module keeps Keras' callback model and fixes those points:

- :class:`Checkpoint` (a ``keras.callbacks.Callback``) saves, after every epoch, *every* model
  variable (weights, BatchNorm statistics, seed-generator states), the optimizer's variables, the
  NumPy / Python random states and the history so far into a fresh directory, fsyncs it, then
  renames it into place. A rename is atomic, so a kill at any moment leaves the previous checkpoint
  intact. On the next ``fit`` it restores the latest complete checkpoint and continues from there.
- :func:`fit_resumable` runs ``model.fit`` with a :class:`Checkpoint` and a data order that is a
  pure function of ``(seed, epoch)``, so a run killed with SIGKILL and started again ends with the
  same weights as an uninterrupted run (on CPU, where the kernels are deterministic).
- :class:`StopOnNaN` stops training when the loss stops being finite and puts back the weights
  from before the last batch with a finite loss, with a message that says when and why.
- :func:`save_model` writes a ``.keras`` file atomically (temporary file, fsync, rename).

The module is over 600 lines as one cohesive thing: crash-safe state on disk, whose parts share one
directory layout and one atomic write-then-rename protocol.

Example:
    >>> import os, tempfile, numpy as np, keras
    >>> from deepkit.train.checkpoint import Checkpoint, latest_checkpoint
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> d = tempfile.mkdtemp()
    >>> _ = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0, callbacks=[Checkpoint(d)])
    >>> os.path.basename(latest_checkpoint(d))
    'epoch-000002'
"""

import json
import os
import random
import re
import shutil
import tempfile
import uuid
import warnings

import keras
import numpy as np

from deepkit.backend.keras_internals import set_initial_epoch
from deepkit.errors import DeepkitError

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "StopOnNaN",
    "TrainingDivergedError",
    "fit_resumable",
    "latest_checkpoint",
    "list_checkpoints",
    "restore_checkpoint",
    "save_checkpoint",
    "save_model",
]

_NAME = re.compile(r"^epoch-(\d{6})$")
_FORMAT = 1


class CheckpointError(DeepkitError, RuntimeError):
    """A checkpoint cannot be written, read, or does not match the model it is restored into.

    Example:
        >>> issubclass(CheckpointError, RuntimeError)
        True
    """


class TrainingDivergedError(DeepkitError, RuntimeError):
    """The loss became NaN or infinite (raised by ``StopOnNaN(raise_error=True)``).

    Example:
        >>> issubclass(TrainingDivergedError, RuntimeError)
        True
    """


# ----------------------------------------------------------------------------- file helpers
def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_file(path, data):
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def save_model(model, filepath, **kwargs):
    """Save a model to a ``.keras`` file atomically: a kill never leaves a torn file at ``filepath``.

    The model is written to a temporary ``.keras`` file next to ``filepath``, flushed to disk, and
    renamed over ``filepath`` (an atomic replace on POSIX and Windows).

    Args:
        model: a ``keras.Model``.
        filepath: destination ending in ``.keras``.
        **kwargs: passed to ``model.save``.

    Returns:
        The destination path, as a string.

    Raises:
        ValueError: ``filepath`` does not end in ``.keras``.

    Example:
        >>> import os, tempfile, keras
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> path = save_model(m, os.path.join(tempfile.mkdtemp(), "m.keras"))
        >>> keras.saving.load_model(path).count_params()
        3
    """
    filepath = os.fspath(filepath)
    if not filepath.endswith(".keras"):
        raise ValueError(f"save_model: the file name must end in '.keras'. Received: filepath={filepath!r}")
    directory = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(filepath)}.{uuid.uuid4().hex}.tmp.keras")
    try:
        model.save(tmp, **kwargs)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
        _fsync_dir(directory)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return filepath


# ----------------------------------------------------------------------------- state capture
def _variables(model):
    model_vars = list(model.variables)
    optimizer = getattr(model, "optimizer", None)
    opt_vars = list(optimizer.variables) if optimizer is not None and optimizer.built else []
    return model_vars, opt_vars


def _describe(variables):
    return [[v.path, list(v.shape), keras.backend.standardize_dtype(v.dtype)] for v in variables]


def _global_seed_state():
    from deepkit.backend.keras_internals import global_seed_generator

    gen = global_seed_generator()
    return None if gen is None else gen.state


def save_checkpoint(model, directory, epoch, *, history=None, keep=2, extra=None):
    """Write a complete training checkpoint atomically into ``directory/epoch-NNNNNN``.

    Everything goes into a temporary directory first (``.tmp-*``), each file is fsynced, and the
    directory is renamed into place, so readers only ever see complete checkpoints.

    Args:
        model: a compiled ``keras.Model``.
        directory: the checkpoint directory (created if needed).
        epoch: the number of completed epochs the checkpoint represents.
        history: optional dict of lists (the logs so far), restored with the checkpoint.
        keep: how many complete checkpoints to keep (the newest ones); at least 1.
        extra: optional JSON-serialisable dict stored with the checkpoint.

    Returns:
        The path of the new checkpoint directory.

    Example:
        >>> import tempfile, keras
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> m.compile(optimizer="adam", loss="mse")
        >>> import os; os.path.basename(save_checkpoint(m, tempfile.mkdtemp(), 3))
        'epoch-000003'
    """
    directory = os.fspath(directory)
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
        raise ValueError(f"save_checkpoint: epoch must be an integer >= 0. Received: epoch={epoch!r}")
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ValueError(f"save_checkpoint: keep must be an integer >= 1. Received: keep={keep!r}")
    os.makedirs(directory, exist_ok=True)
    model_vars, opt_vars = _variables(model)
    arrays = {}
    for i, v in enumerate(model_vars):
        arrays[f"model_{i}"] = keras.ops.convert_to_numpy(v.value)
    for i, v in enumerate(opt_vars):
        arrays[f"optimizer_{i}"] = keras.ops.convert_to_numpy(v.value)
    seed_state = _global_seed_state()
    if seed_state is not None:
        arrays["global_seed_state"] = keras.ops.convert_to_numpy(seed_state.value)
    np_state = np.random.get_state()
    arrays["numpy_rng_keys"] = np_state[1]
    py_state = random.getstate()
    meta = {
        "format": _FORMAT,
        "epoch": int(epoch),
        "backend": keras.backend.backend(),
        "model_variables": _describe(model_vars),
        "optimizer_variables": _describe(opt_vars),
        "numpy_rng": [np_state[0], int(np_state[2]), int(np_state[3]), float(np_state[4])],
        "python_rng": [py_state[0], list(py_state[1]), py_state[2]],
        "history": history or {},
        "extra": extra or {},
    }
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=directory)
    try:
        _write_file(os.path.join(tmp, "state.npz"), buffer.getvalue())
        # meta.json is written last: a checkpoint directory is complete when it holds it.
        _write_file(os.path.join(tmp, "meta.json"), json.dumps(meta).encode("utf-8"))
        _fsync_dir(tmp)
        final = os.path.join(directory, f"epoch-{int(epoch):06d}")
        if os.path.exists(final):  # the same epoch saved again (e.g. after a restore)
            trash = os.path.join(directory, f".old-{uuid.uuid4().hex}")
            os.rename(final, trash)
            shutil.rmtree(trash, ignore_errors=True)
        os.rename(tmp, final)
        _fsync_dir(directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in list_checkpoints(directory)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    _clean_stale(directory)
    return final


def _clean_stale(directory):
    """Remove leftovers of writes that were killed (their process is gone)."""
    for name in os.listdir(directory):
        if name.startswith((".tmp-", ".old-")):
            shutil.rmtree(os.path.join(directory, name), ignore_errors=True)


def list_checkpoints(directory):
    """Complete checkpoints in ``directory``, oldest first.

    Args:
        directory: a checkpoint directory (may not exist).

    Returns:
        A list of paths of ``epoch-NNNNNN`` directories that hold a ``meta.json``.

    Example:
        >>> list_checkpoints("/nonexistent/dir")
        []
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        return []
    found = []
    for name in os.listdir(directory):
        match = _NAME.match(name)
        path = os.path.join(directory, name)
        if match and os.path.isfile(os.path.join(path, "meta.json")):
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def latest_checkpoint(directory):
    """The newest complete checkpoint in ``directory``, or None.

    Args:
        directory: a checkpoint directory.

    Returns:
        A path, or None when there is no complete checkpoint.

    Example:
        >>> latest_checkpoint("/nonexistent/dir") is None
        True
    """
    found = list_checkpoints(directory)
    return found[-1] if found else None


def _read(path):
    try:
        with open(os.path.join(path, "meta.json"), encoding="utf-8") as f:
            meta = json.load(f)
        with np.load(os.path.join(path, "state.npz"), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as e:  # OSError, BadZipFile, EOFError, JSON errors...: all mean "damaged"
        raise CheckpointError(f"checkpoint {path!r} cannot be read ({type(e).__name__}: {e}).") from None
    if meta.get("format") != _FORMAT:
        raise CheckpointError(f"checkpoint {path!r} has format {meta.get('format')!r}; expected {_FORMAT}.")
    return meta, arrays


def _check_match(path, kind, described, variables):
    current = _describe(variables)
    if len(current) != len(described):
        raise CheckpointError(
            f"checkpoint {path!r} holds {len(described)} {kind} variables but the model has "
            f"{len(current)}: it was written by a different model or optimizer."
        )
    for saved, now in zip(described, current):
        if saved[1] != now[1]:
            raise CheckpointError(
                f"checkpoint {path!r}: {kind} variable {now[0]!r} has shape {tuple(now[1])} in the model "
                f"but {tuple(saved[1])} in the checkpoint (saved as {saved[0]!r})."
            )


def restore_checkpoint(model, path, *, restore_rng=True):
    """Load a checkpoint written by :func:`save_checkpoint` into ``model``.

    Args:
        model: the same architecture, compiled with the same optimizer.
        path: a checkpoint directory (``epoch-NNNNNN``) or a directory of checkpoints (the newest
            complete one that reads back is used; a damaged newest one falls back to the one before).
        restore_rng: also restore the NumPy and Python global random states.

    Returns:
        The checkpoint's metadata dict (``epoch``, ``history``, ``extra``...).

    Raises:
        CheckpointError: no readable checkpoint, or one that does not match the model.

    Example:
        >>> import tempfile, numpy as np, keras
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> m.compile(optimizer="adam", loss="mse")
        >>> d = tempfile.mkdtemp(); _ = save_checkpoint(m, d, 1)
        >>> w = m.get_weights(); m.set_weights([np.zeros_like(a) for a in w])
        >>> restore_checkpoint(m, d)["epoch"], np.allclose(m.get_weights()[0], w[0])
        (1, True)
    """
    path = os.fspath(path)
    if _NAME.match(os.path.basename(os.path.normpath(path))):
        candidates = [path]
    else:
        candidates = list_checkpoints(path)[::-1]
        if not candidates:
            raise CheckpointError(f"no complete checkpoint in {path!r}.")
    errors = []
    for candidate in candidates:
        try:
            meta, arrays = _read(candidate)
            break
        except CheckpointError as e:
            errors.append(str(e))
            warnings.warn(f"{e} Trying the previous checkpoint.", RuntimeWarning, stacklevel=2)
    else:
        raise CheckpointError("no readable checkpoint: " + " ".join(errors))
    optimizer = getattr(model, "optimizer", None)
    if meta["optimizer_variables"] and optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)
    model_vars, opt_vars = _variables(model)
    _check_match(candidate, "model", meta["model_variables"], model_vars)
    _check_match(candidate, "optimizer", meta["optimizer_variables"], opt_vars)
    for i, v in enumerate(model_vars):
        v.assign(arrays[f"model_{i}"])
    for i, v in enumerate(opt_vars):
        v.assign(arrays[f"optimizer_{i}"])
    seed_state = _global_seed_state()
    if seed_state is not None and "global_seed_state" in arrays:
        seed_state.assign(arrays["global_seed_state"])
    if restore_rng:
        name, pos, has_gauss, cached = meta["numpy_rng"]
        np.random.set_state((name, arrays["numpy_rng_keys"], pos, has_gauss, cached))
        version, internal, gauss = meta["python_rng"]
        random.setstate((version, tuple(internal), gauss))
    meta["path"] = candidate
    return meta


# ----------------------------------------------------------------------------- callbacks
class Checkpoint(keras.callbacks.Callback):
    """Atomic per-epoch checkpoints, restored automatically when training starts again.

    A drop-in for ``keras.callbacks.BackupAndRestore``: pass it to ``fit``; if the process dies
    (SIGKILL, power loss, preemption), running the same ``fit`` again restores the newest complete
    checkpoint and continues with the next epoch. Unlike ``BackupAndRestore`` every write is atomic
    (a kill while writing leaves the previous checkpoint intact), all variables including
    seed-generator states (Dropout, random augmentation layers) and the optimizer are saved, and the
    NumPy / Python random states are restored too.

    The resumed run reproduces the uninterrupted one exactly when the data order does not depend on
    the process history: ``shuffle=False``; deepkit's fast path (:func:`deepkit.train.fit`,
    ``deepkit.Model.fit``), whose order of an epoch is a function of the seed (drawn from Python's
    ``random`` when ``fit`` starts, before this callback restores the random states) and the epoch;
    or :func:`fit_resumable`, which shuffles with a seed per epoch.

    Args:
        directory: where checkpoints go (``directory/epoch-NNNNNN``).
        keep: how many checkpoints to keep (newest first), at least 1.
        restore: restore the newest checkpoint at the start of ``fit``.
        delete_on_end: remove the directory when training ends normally.

    Attributes:
        restored_epoch: the epoch the last ``fit`` resumed from (0 when it started fresh).
        history: the logs of all epochs so far, restored ones included.

    Example:
        >>> import tempfile, numpy as np, keras
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> m.compile(optimizer="sgd", loss="mse")
        >>> ckpt = Checkpoint(tempfile.mkdtemp())
        >>> _ = m.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0, callbacks=[ckpt])
        >>> h = m.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=3, verbose=0, callbacks=[ckpt])
        >>> ckpt.restored_epoch, len(h.history["loss"]), len(ckpt.history["loss"])
        (2, 1, 3)
    """

    def __init__(self, directory, *, keep=2, restore=True, delete_on_end=False):
        super().__init__()
        self.directory = os.fspath(directory)
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise ValueError(f"Checkpoint: keep must be an integer >= 1. Received: keep={keep!r}")
        self.keep = keep
        self.restore = restore
        self.delete_on_end = delete_on_end
        self.restored_epoch = 0
        self.history = {}
        self._extra = {}

    def on_train_begin(self, logs=None):
        self.restored_epoch = 0
        if not self.restore:
            return
        if list_checkpoints(self.directory):
            meta = restore_checkpoint(self.model, self.directory)
            self.restored_epoch = meta["epoch"]
            self.history = {k: list(v) for k, v in meta["history"].items()}
            # Keras' fit starts at the model's initial epoch when set (as BackupAndRestore does).
            set_initial_epoch(self.model, meta["epoch"])
        else:
            self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        save_checkpoint(self.model, self.directory, epoch + 1, history=self.history, keep=self.keep,
                        extra=self._extra)

    def on_train_end(self, logs=None):
        set_initial_epoch(self.model, None)
        if self.delete_on_end and not getattr(self.model, "stop_training", False):
            shutil.rmtree(self.directory, ignore_errors=True)


class StopOnNaN(keras.callbacks.Callback):
    """Stop training when the loss is NaN or infinite, and put back the last good weights.

    After each batch whose loss is finite, the weights from before that batch are remembered (a
    copy in host memory). When a loss is not finite, training stops, those weights are restored,
    and a ``RuntimeWarning`` (or, with ``raise_error=True``, a :class:`TrainingDivergedError`) says
    at which epoch and batch the loss broke and which weights were kept.

    Args:
        monitor: the log entry to watch (``"loss"``).
        raise_error: raise instead of warning after restoring the weights.

    Attributes:
        message: the message, once training was stopped (else None).
        stopped_at: ``(epoch, batch)`` where the loss stopped being finite, or None.

    Example:
        >>> import numpy as np, keras, warnings
        >>> m = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        >>> m.compile(optimizer=keras.optimizers.SGD(1e20), loss="mse")
        >>> stop = StopOnNaN()
        >>> with warnings.catch_warnings(record=True):
        ...     _ = m.fit(np.ones((64, 1)) * 1e3, np.ones((64, 1)), batch_size=8, epochs=3, verbose=0,
        ...               callbacks=[stop])
        >>> stop.stopped_at is not None, bool(np.all(np.isfinite(m.get_weights()[0])))
        (True, True)
    """

    def __init__(self, monitor="loss", raise_error=False):
        super().__init__()
        self.monitor = monitor
        self.raise_error = raise_error
        self.message = None
        self.stopped_at = None
        self._epoch = 0
        self._before = None
        self._good = None
        self._good_at = None

    def _snapshot(self):
        return [keras.ops.convert_to_numpy(v.value).copy() for v in self.model.variables]

    def on_train_begin(self, logs=None):
        self.message = None
        self.stopped_at = None
        self._good = self._snapshot()
        self._good_at = "the start of training"

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self._before = self._snapshot()

    def on_train_batch_end(self, batch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        value = float(keras.ops.convert_to_numpy(value))
        if np.isfinite(value):
            self._good = self._before
            self._good_at = f"epoch {self._epoch + 1}, batch {batch + 1}"
            return
        for v, saved in zip(self.model.variables, self._good):
            v.assign(saved)
        self.stopped_at = (self._epoch, batch)
        self.model.stop_training = True
        self.message = (
            f"StopOnNaN: the {self.monitor} became {value} at epoch {self._epoch + 1}, batch "
            f"{batch + 1}; training stopped and the weights were restored to those used at "
            f"{self._good_at} (the last batch with a finite {self.monitor}). Lower the learning "
            "rate, check the data for extreme values, or add gradient clipping (clipnorm=...)."
        )
        if self.raise_error:
            raise TrainingDivergedError(self.message)
        warnings.warn(self.message, RuntimeWarning, stacklevel=2)


class _Span(keras.callbacks.Callback):
    """Forward a user callback across several one-epoch ``fit`` calls as if they were one."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.first = True
        self.last = False

    def set_model(self, model):
        super().set_model(model)
        self.inner.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        self.inner.set_params(params)

    def on_train_begin(self, logs=None):
        if self.first:
            self.first = False
            self.inner.on_train_begin(logs)

    def on_train_end(self, logs=None):
        if self.last:
            self.inner.on_train_end(logs)

    def __getattribute__(self, name):
        if name.startswith("on_") and name not in ("on_train_begin", "on_train_end"):
            return getattr(object.__getattribute__(self, "inner"), name)
        return object.__getattribute__(self, name)


def fit_resumable(model, x, y=None, *, directory, epochs, batch_size=32, seed=0, shuffle=True,
                  sample_weight=None, validation_data=None, callbacks=None, verbose=0, keep=2):
    """``model.fit`` that survives being killed: rerun it and it continues where it stopped.

    Each epoch is one ``model.fit`` call over the data in an order drawn from
    ``numpy.random.default_rng([seed, epoch])`` (so it does not depend on what ran before), followed
    by an atomic :class:`Checkpoint`. When a checkpoint exists in ``directory`` the run restores it
    and starts at the next epoch; on CPU with a fixed seed the final weights equal those of an
    uninterrupted run.

    Args:
        model: a compiled ``keras.Model``.
        x, y, sample_weight: NumPy arrays (or lists/dicts of arrays), first axis = samples.
        directory: the checkpoint directory.
        epochs: total number of epochs.
        batch_size: samples per step.
        seed: seed of the per-epoch data order.
        shuffle: shuffle every epoch (with the seed); False keeps the stored order.
        validation_data: as in ``fit``.
        callbacks: Keras callbacks; they see one training run (``on_train_begin`` once) even though
            ``fit`` is called once per epoch. ``model.stop_training`` (EarlyStopping...) ends the loop.
        verbose: as in ``fit``.
        keep: checkpoints to keep.

    Returns:
        A ``keras.callbacks.History`` whose ``history`` covers all epochs, restored ones included.

    Example:
        >>> import tempfile, numpy as np, keras
        >>> keras.utils.set_random_seed(0)
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> m.compile(optimizer="sgd", loss="mse")
        >>> h = fit_resumable(m, np.ones((8, 2)), np.ones((8, 1)), directory=tempfile.mkdtemp(), epochs=3)
        >>> len(h.history["loss"])
        3
    """
    from keras import tree

    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit_resumable: epochs must be an integer >= 1. Received: epochs={epochs!r}")
    checkpoint = Checkpoint(directory, keep=keep, restore=False)
    checkpoint.set_model(model)
    start = 0
    if list_checkpoints(directory):
        meta = restore_checkpoint(model, directory)
        start = meta["epoch"]
        checkpoint.history = {k: list(v) for k, v in meta["history"].items()}
    spans = [_Span(c) for c in (callbacks or [])]
    n = len(tree.flatten(x)[0])

    def take(data, order):
        if data is None:
            return None
        return tree.map_structure(lambda a: np.asarray(a)[order], data)

    for epoch in range(start, epochs):
        order = np.random.default_rng([int(seed), epoch]).permutation(n) if shuffle else np.arange(n)
        for span in spans:
            span.last = epoch == epochs - 1
        model.fit(take(x, order), take(y, order), sample_weight=take(sample_weight, order),
                  batch_size=batch_size, epochs=epoch + 1, initial_epoch=epoch, shuffle=False,
                  validation_data=validation_data, callbacks=[*spans, checkpoint], verbose=verbose)
        if model.stop_training:
            for span in spans:
                if not span.last:
                    span.last = True
                    span.inner.on_train_end()
            break
    history = keras.callbacks.History()
    history.set_model(model)
    history.history = {k: list(v) for k, v in checkpoint.history.items()}
    history.epoch = list(range(len(next(iter(history.history.values()), []))))
    return history
