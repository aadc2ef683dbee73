"""The fast fit path: data on the device, many steps per compiled call, Keras semantics.

``fit(model, x, y, ...)`` trains any compiled ``keras.Model`` like ``model.fit`` does (same
``History``, callbacks at epoch ends, validation, metrics, the same training step), but:

* the arrays go to the device once; shuffling (a device permutation per epoch), batching (a
  gather inside the loop) and augmentation (:class:`deepkit.train.Augment`) happen there;
* all the full batches of an epoch run in one compiled call (``lax.scan`` on jax, a
  ``tf.while_loop`` in one ``tf.function`` on tensorflow; :func:`deepkit.backend.fit_loop` gives them),
  plus one call for a last partial batch, so per-step host overhead disappears (one step per call
  when a callback overrides a batch-level hook, so that it runs after every batch as in Keras);
* mixed precision (bfloat16) is on by default on a GPU/TPU and XLA follows Keras' own choice.

It keeps Keras' semantics (``tests/train/test_fast_conformance.py`` compares it with ``keras.Model.fit``):
``initial_epoch`` and the epoch that ``BackupAndRestore`` / :class:`deepkit.train.checkpoint.Checkpoint`
resume from (:func:`deepkit.backend.keras_internals.initial_epoch`), ``steps_per_epoch``, validation, class and sample weights,
callbacks; a custom ``train_step``/``test_step`` gets the data structure Keras gives it (``(x, y)``,
``(x, y, sample_weight)`` or ``x``) and whatever logs it returns reach History and the callbacks.
The programs are traced before the first callback runs, so a step the compiled loop cannot carry
falls back to Keras' loop cleanly, with the reason.

When the fast path cannot apply (torch backend, a ``tf.data``/``PyDataset`` input,
``validation_steps``, a step the compiled loop cannot run, ...) it falls back to plain ``keras.Model.fit`` and says why in
``history.fast["reason"]`` (and with a warning when ``fast=True`` was asked for). Array data too
large for the device streams through :class:`deepkit.train.stream.ArrayStream` (a ``PyDataset``
with prefetching threads).
"""

import dataclasses
import inspect
import random
import time
import warnings

import numpy as np

import keras
from keras import tree

from deepkit import backend
from deepkit.backend import keras_internals as internals
from deepkit.backend.keras_internals import array_slicing, data_adapter_utils, pythonify_logs
from deepkit.train.augment import Augment
from deepkit.train.precision import mixed_precision_scope, resolve_mixed_precision
from deepkit.train.stream import ArrayStream

__all__ = ["fit_arguments", "fit"]

_FAST_VALUES = (True, False, "auto")


# ------------------------------------------------------------------------------------ helpers
def _is_array(a):
    return isinstance(a, np.ndarray) or (
        hasattr(a, "shape") and hasattr(a, "dtype") and hasattr(a, "__array__")
        and not isinstance(a, (keras.utils.PyDataset,))
    )


def _all_arrays(struct):
    leaves = tree.flatten(struct)
    return bool(leaves) and all(a is None or _is_array(a) for a in leaves)


def _to_numpy(struct):
    """numpy arrays with Keras' dtype rule: floating arrays become ``floatx``."""

    def one(a):
        if a is None:
            return None
        a = np.asarray(a)
        if np.issubdtype(a.dtype, np.floating) and a.dtype != np.dtype(keras.config.floatx()):
            a = a.astype(keras.config.floatx())
        return a

    return tree.map_structure(one, struct)


def _nbytes(struct):
    return sum(int(a.nbytes) for a in tree.flatten(struct) if a is not None)


def _num_samples(data, where):
    sizes = {}
    for name, part in zip(("x", "y", "sample_weight"), data):
        for a in tree.flatten(part) if part is not None else []:
            if a is not None:
                sizes.setdefault(name, set()).add(int(a.shape[0]))
    flat = set().union(*sizes.values()) if sizes else set()
    if len(flat) != 1:
        detail = ", ".join(f"{k}: {sorted(v)}" for k, v in sizes.items())
        raise ValueError(
            f"{where}: x, y and sample_weight must have the same number of samples "
            f"(first axis). Received: {detail}"
        )
    return flat.pop()


def _slice_struct(struct, lo, hi):
    return tree.map_structure(lambda a: None if a is None else a[lo:hi], struct)


def _find_history(callbacks):
    for cb in callbacks.callbacks:
        if isinstance(cb, keras.callbacks.History):
            return cb
    return None


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"fit: `{name}` must be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)


# ------------------------------------------------------------------------------- public API
def fit_arguments(args, kwargs):
    """``keras.Model.fit``'s positional arguments after ``x, y``, as keywords.

    The names and their order are those of :func:`fit`'s signature (Keras' own), read from it.

    Args:
        args: the positional arguments after ``x`` and ``y``, in Keras' order (``batch_size,
            epochs, verbose, callbacks, validation_split, validation_data, shuffle, ...``).
        kwargs: the keyword arguments of the same call.

    Returns:
        A new dict: ``kwargs`` with the positional arguments added under their names.

    Raises:
        TypeError: too many positional arguments, or one also given as a keyword.

    Example:
        >>> fit_arguments((32, 5, 0), {"shuffle": False})
        {'shuffle': False, 'batch_size': 32, 'epochs': 5, 'verbose': 0}
    """
    if len(args) > len(_KERAS_POSITIONAL):
        raise TypeError(f"fit: too many positional arguments. Received: {len(args) + 2} after "
                        f"the model (at most {len(_KERAS_POSITIONAL) + 2}: x, y, "
                        f"{', '.join(_KERAS_POSITIONAL)})")
    out = dict(kwargs)
    for name, value in zip(_KERAS_POSITIONAL, args):
        if name in out:
            raise TypeError(f"fit: got multiple values for argument {name!r}")
        out[name] = value
    return out


def fit(
    model,
    x=None,
    y=None,
    batch_size=None,
    epochs=1,
    verbose="auto",
    callbacks=None,
    validation_split=0.0,
    validation_data=None,
    shuffle=True,
    class_weight=None,
    sample_weight=None,
    initial_epoch=0,
    steps_per_epoch=None,
    validation_steps=None,
    validation_batch_size=None,
    validation_freq=1,
    *,
    augment=None,
    seed=None,
    steps_per_call=None,
    mixed_precision=None,
    jit_compile=None,
    fast="auto",
    device_memory=None,
    unroll=1,
    in_graph_loop=None,
    **unknown,
):
    """Train a compiled Keras model, keeping the data on the device (the fast fit path).

    Same arguments (positional ones in Keras' order too: the signature is ``keras.Model.fit``'s)
    and result as ``keras.Model.fit``, plus the options of the fast path (keywords). For the same
    data order (``shuffle=False``) and ``mixed_precision=False`` the weights and History match
    plain ``fit`` within float tolerance: the compiled loop runs Keras' own ``model.train_step``.

    Args:
        model: a compiled ``keras.Model`` (any, not only ``deepkit.Model``).
        x: numpy array (or nested structure of arrays) of inputs; a ``tf.data.Dataset``,
            ``PyDataset`` or generator goes to plain Keras fit.
        y: targets (arrays), or ``None``.
        batch_size: int, default 32.
        epochs: int, last epoch index (as in Keras: with ``initial_epoch``).
        verbose: ``"auto"``, 0, 1 or 2, as Keras (the progress bar moves once per call).
        callbacks: list of ``keras.callbacks.Callback``; epoch-level hooks run exactly as in
            Keras. When one of them overrides a batch-level hook (``on_train_batch_end``,
            ``on_batch_begin``, ``on_test_batch_end``, ...) every batch is its own compiled call
            and the hooks run after every batch, as in Keras (``history.fast["batch_hooks"]``
            names them); otherwise, or with ``steps_per_call``, batch-level hooks run once per
            compiled call (as with Keras' ``steps_per_execution``) with the index of the last
            step of the call.
        validation_split: float in [0, 1): the last fraction of the data is held out, as Keras.
        validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)`` arrays.
        shuffle: bool, reshuffle the training data every epoch (a device permutation; the one
            of an epoch depends on ``seed`` and the epoch only, so a run resumed from a
            checkpoint draws the same orders as an uninterrupted one).
        class_weight: dict ``{class: weight}``, turned into sample weights as Keras does.
        sample_weight: 1-D array of per-sample weights.
        initial_epoch: int, epoch to start from.
        steps_per_epoch: Keras' semantics: an epoch is that many steps and the pass over the
            data continues across epochs; without ``batch_size`` the batch is
            ``ceil(samples / steps_per_epoch)``.
        validation_steps: selects plain Keras fit.
        validation_batch_size: int, default ``batch_size``.
        validation_freq: int, validate every that many epochs.
        augment: a :class:`deepkit.train.Augment`, a dict of its arguments, or ``None``: random
            crop with padding and flips applied to every training batch on the device.
        seed: int or ``None``: seed of the shuffling (and of ``augment`` when it has no seed);
            ``None`` draws one from Python's ``random`` when ``fit`` starts, as Keras does.
        steps_per_call: int or ``None``: training steps per compiled call (``None``: all the full
            batches of an epoch in one call, or one with batch-level callbacks). Set, it is
            kept even with batch-level callbacks (the explicit opt-in to fewer calls).
        mixed_precision: ``None``/``"auto"`` (bfloat16 on GPU/TPU, off on CPU), ``True``/
            ``"bfloat16"``, ``"float16"`` or ``False``. Variables stay float32; the output layers
            and the loss stay float32.
        jit_compile: XLA for the tensorflow loop (``None``: Keras' choice, on with a GPU).
            Ignored on jax (always compiled).
        fast: ``"auto"`` (fast path when it applies, else plain fit with the reason in
            ``history.fast``), ``True`` (same, with a warning on fallback) or ``False`` (plain
            Keras fit; ``augment`` then runs on the host through a prefetching ``PyDataset``).
        device_memory: int, bytes of device memory the data may take (default: half of the
            free device memory where the backend reports it). Larger data streams from the host.
        unroll: int, training steps per iteration of the compiled loop on jax (``lax.scan``'s
            ``unroll``; more: fewer loop iterations and longer XLA programs, slower compilation).
        in_graph_loop: jax only. ``None``: the steps of a call run inside one compiled
            ``lax.scan`` on GPU/TPU, and as one compiled step per call (data still on the device)
            on CPU, where XLA runs convolutions inside loops several times slower
            (jax-ml/jax#12868). ``True``/``False`` force either.
        **unknown: refused with a ``ValueError`` naming them.

    Returns:
        The ``keras.callbacks.History``; its ``fast`` attribute is a dict saying which path ran
        (``"device"``, ``"stream"`` or ``"keras"``), why, and the settings used.

    Raises:
        ValueError: on invalid arguments (quoting them) or inconsistent array lengths.
        TypeError: an argument given both by position and by keyword.

    Example:
        >>> import numpy as np, keras
        >>> from deepkit.train import fit
        >>> keras.utils.set_random_seed(0)
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        >>> model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        >>> x, y = np.random.rand(64, 4).astype("float32"), np.arange(64) % 3
        >>> history = fit(model, x, y, batch_size=16, epochs=2, verbose=0, validation_split=0.25)
        >>> sorted(history.history)
        ['accuracy', 'loss', 'val_accuracy', 'val_loss']
        >>> history.fast["path"] in ("device", "keras")
        True
    """
    given = locals()
    run = _check_arguments(model, {name: given[name] for name in _KERAS_POSITIONAL}, unknown,
                           augment=augment, seed=seed, steps_per_call=steps_per_call,
                           mixed_precision=mixed_precision, jit_compile=jit_compile, fast=fast,
                           device_memory=device_memory, unroll=unroll, in_graph_loop=in_graph_loop)
    info = {
        "path": "device",
        "reason": "in-memory arrays on a backend with compiled loops: data kept on the device",
        "backend": backend.name(),
        "mixed_precision": run.policy,
        "jit_compile": None,
        "steps_per_call": run.steps_per_call,
    }
    reason = _why_not_fast(model, x, y, run)
    if reason:
        return _fallback(model, x, y, run, info, reason)
    data = _arrays(x, y, run)
    reason = _build_error(model, data, run)
    if reason:
        return _fallback(model, x, y, run, info, reason)
    with mixed_precision_scope(model, run.policy):
        loops = _cached_loops(model, run)
        info["jit_compile"] = getattr(loops, "jit_compile", True)
        info["in_graph_loop"] = getattr(loops, "in_graph_loop", True)
        reason = _place(loops, data, run)
        if reason:  # the data stays on the host
            return _stream(model, data.train, data.val, run, info, reason)
        try:
            # Trace before any callback runs, so that a fallback is clean (no event twice).
            loops.prepare(data.dev_train, bool(run.shuffle), _batch_sizes(data.n, run.batch_size),
                          data.dev_val, _batch_sizes(data.n_val, run.val_batch))
            return _device_loop(model, loops, data, run, info)
        except backend.FastPathUnsupported as e:
            reason = f"the compiled loop cannot run this model: {e}"
    return _fallback(model, x, y, run, info, reason)


_KERAS_POSITIONAL = tuple(inspect.signature(fit).parameters)[3:17]  # batch_size ... validation_freq


# ----------------------------------------------------------------------- step 1: arguments
@dataclasses.dataclass
class _Run:
    """``fit``'s arguments, checked: what the steps below read."""

    keras_args: dict  # keras.Model.fit's arguments as given: a fallback passes them on
    batch_size: int
    epochs: int
    initial_epoch: int
    steps_per_epoch: object
    val_batch: int
    validation_freq: int
    shuffle: object
    augment: object
    seed: object
    steps_per_call: object
    policy: object
    jit_compile: object
    fast: object
    device_memory: object
    unroll: int
    in_graph_loop: object


def _check_arguments(model, keras_args, unknown, *, augment, seed, steps_per_call, mixed_precision,
                     jit_compile, fast, device_memory, unroll, in_graph_loop):
    """Check every argument (quoting a bad one) and return them as a :class:`_Run`."""
    if fast not in _FAST_VALUES:
        raise ValueError(f"fit: `fast` must be True, False or 'auto'. Received: fast={fast!r}")
    if unknown:
        raise ValueError(f"fit: unknown arguments {sorted(unknown)}. Received: "
                         f"{ {k: unknown[k] for k in sorted(unknown)}!r}")
    a = keras_args
    steps_per_epoch = a["steps_per_epoch"]
    if steps_per_epoch is not None:
        steps_per_epoch = _check_int("steps_per_epoch", steps_per_epoch, 1)
    if a["validation_steps"] is not None:
        _check_int("validation_steps", a["validation_steps"], 1)
    batch_size = 32 if a["batch_size"] is None else _check_int("batch_size", a["batch_size"], 1)
    val_batch = a["validation_batch_size"]
    val_batch = batch_size if val_batch is None else _check_int("validation_batch_size", val_batch, 1)
    if steps_per_call is not None:
        steps_per_call = _check_int("steps_per_call", steps_per_call, 1)
    if not 0.0 <= float(a["validation_split"]) < 1.0:
        raise ValueError("fit: `validation_split` must be in [0, 1). "
                         f"Received: validation_split={a['validation_split']!r}")
    if isinstance(augment, dict):
        augment = Augment(**augment)
    if augment is not None and not isinstance(augment, Augment):
        raise ValueError(
            "fit: `augment` must be a deepkit.train.Augment, a dict of its arguments or None. "
            f"Received: augment={augment!r}"
        )
    if augment is not None and not augment.active:
        augment = None
    if augment is not None and seed is not None and augment.seed is None:
        augment.reseed(int(seed) + 1)
    run = _Run(
        keras_args=dict(a), batch_size=batch_size, epochs=_check_int("epochs", a["epochs"], 0),
        initial_epoch=_check_int("initial_epoch", a["initial_epoch"], 0),
        steps_per_epoch=steps_per_epoch, val_batch=val_batch,
        validation_freq=_check_int("validation_freq", a["validation_freq"], 1),
        shuffle=a["shuffle"], augment=augment, seed=seed, steps_per_call=steps_per_call,
        policy=resolve_mixed_precision(mixed_precision), jit_compile=jit_compile, fast=fast,
        device_memory=device_memory, unroll=_check_int("unroll", unroll, 1), in_graph_loop=in_graph_loop,
    )
    internals.assert_compiled(model, "fit")
    return run


def _why_not_fast(model, x, y, run):
    """Why the fast path cannot train on these arguments ("" when it can)."""
    a = run.keras_args
    if run.fast is False:
        return "fast=False"
    reason = backend.fit_loop_unsupported()
    if reason:
        return reason
    if x is None or not _all_arrays(x):
        return (f"the fast path takes numpy arrays; Received: x of type {type(x).__name__} "
                "(it is passed to Keras fit, which streams it)")
    for name, part in (("y", y), ("sample_weight", a["sample_weight"])):
        if part is not None and not _all_arrays(part):
            return f"the fast path takes numpy arrays; Received: {name} of type {type(part).__name__}"
    validation_data = a["validation_data"]
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or not all(
            p is None or _all_arrays(p) for p in validation_data
        ):
            return ("the fast path takes validation_data as a tuple of arrays; "
                    f"Received: validation_data of type {type(validation_data).__name__}")
    if a["validation_steps"] is not None:
        return ("the fast path validates on all of validation_data; Received: "
                f"validation_steps={a['validation_steps']!r}")
    if run.shuffle not in (True, False):
        return f"the fast path supports shuffle=True/False; Received: shuffle={run.shuffle!r}"
    if model.run_eagerly:
        return "the model was compiled with run_eagerly=True"
    if keras.distribution.distribution() is not None:
        return "a keras.distribution is set (the fast path runs on one device)"
    return backend.fit_loop_unsupported(model)


# -------------------------------------------------------------------------- step 2: arrays
@dataclasses.dataclass
class _Data:
    """The training and validation arrays on the host (and, once placed, on the device)."""

    train: tuple  # (x, y, sample_weight) numpy structures
    n: int
    val: object = None  # (x, y, sample_weight) or None
    n_val: int = 0
    dev_train: object = None
    dev_val: object = None


def _arrays(x, y, run):
    """numpy arrays as Keras makes them: floatx, class weights as sample weights, the split held out."""
    a = run.keras_args
    x, y, sample_weight = _to_numpy(x), _to_numpy(y), _to_numpy(a["sample_weight"])
    if a["class_weight"] is not None:
        if sample_weight is not None:
            raise ValueError("fit: pass either `class_weight` or `sample_weight`, not both.")
        if not isinstance(y, np.ndarray):
            raise ValueError("fit: `class_weight` needs a single array `y`. "
                             f"Received: y of type {type(y).__name__}")
        sample_weight = data_adapter_utils.class_weight_to_sample_weights(y, a["class_weight"])
    validation_data = a["validation_data"]
    if a["validation_split"] and validation_data is None:
        (x, y, sample_weight), validation_data = array_slicing.train_validation_split(
            (x, y, sample_weight), validation_split=a["validation_split"]
        )
    data = _Data(train=(x, y, sample_weight), n=_num_samples((x, y, sample_weight), "fit"))
    if data.n == 0:
        raise ValueError("fit: the training data is empty. Received: 0 samples")
    if run.steps_per_epoch is not None and a["batch_size"] is None:  # as Keras' array adapter
        # (validation keeps Keras' ``validation_batch_size or batch_size``: 32 here)
        run.batch_size = max(1, -(-data.n // run.steps_per_epoch))  # pragma: no mutate (n >= 1 here)
        run.keras_args["batch_size"] = run.batch_size
    if validation_data is not None:
        vx, vy, vsw = data_adapter_utils.unpack_x_y_sample_weight(tuple(validation_data))
        val = (_to_numpy(vx), _to_numpy(vy), _to_numpy(vsw))
        n_val = _num_samples(val, "fit(validation_data)")
        if n_val:
            data.val, data.n_val = val, n_val
    return data


def _build_error(model, data, run):
    """Build the model on its first batch; None, or why it cannot be built (a late fallback)."""
    first = tuple(_slice_struct(part, 0, run.batch_size) for part in data.train)
    with mixed_precision_scope(model, run.policy):
        try:
            internals.symbolic_build(model, first)
        except Exception as e:  # noqa: BLE001 - e.g. a model without call() (the guide's GAN)
            return f"the model cannot be built on a batch ({type(e).__name__})"
    return None


# ------------------------------------------------------------------ step 3: loops and place
def _cached_loops(model, run):
    """The compiled loops of ``model`` for this configuration, reused across ``fit`` calls.

    Keras keeps ``model.train_function`` between ``fit`` calls; so do we, keyed by everything the
    traced programs depend on (a new ``compile()`` makes new optimizer/loss/metrics objects)."""
    augment = run.augment
    key = (
        *(id(part) for part in internals.compile_state(model)),
        id(augment), None if augment is None else tuple(sorted(augment.get_config().items())),
        run.jit_compile, run.unroll, run.policy, run.in_graph_loop, keras.config.image_data_format(),
    )
    per_model = internals.attached(model, "_deepkit_fast_loops")
    if per_model is None:
        per_model = {}
        # Kept on the model: the model <-> loops reference cycle is collected with the model.
        internals.attach(model, "_deepkit_fast_loops", per_model)
    if key not in per_model:
        per_model.clear()  # one configuration at a time: the old programs are dropped
        per_model[key] = backend.fit_loop(model, augment=augment, jit_compile=run.jit_compile,
                                          unroll=run.unroll, in_graph_loop=run.in_graph_loop)
    return per_model[key]


def _place(loops, data, run):
    """Copy the arrays to the device; None when they are there, else why they stream from the host."""
    budget = run.device_memory if run.device_memory is not None else loops.memory_budget()
    need = _nbytes(data.train) + (_nbytes(data.val) if data.val is not None else 0)
    if budget is not None and need > budget:
        return (f"the data ({need / 2**20:.0f} MiB) exceeds the device memory budget "
                f"({budget / 2**20:.0f} MiB); streaming it from the host")
    try:
        data.dev_train = loops.put(data.train)
        data.dev_val = loops.put(data.val) if data.val is not None else None
    except Exception as e:  # noqa: BLE001 - out-of-memory errors differ per backend
        if "RESOURCE_EXHAUSTED" in str(e) or "out of memory" in str(e).lower():
            return f"the data did not fit on the device ({type(e).__name__}); streaming it"
        raise
    return None


def _batch_sizes(n, batch):
    """The batch sizes a pass over ``n`` samples runs: full batches, then the remainder."""
    full, rem = divmod(n, batch)
    return ([batch] if full else []) + ([rem] if rem else [])


# --------------------------------------------------------------- other paths: Keras, stream
def _fallback(model, x, y, run, info, reason):
    """Plain ``keras.Model.fit`` with the arguments as given (host streaming with ``augment``)."""
    info.update(path="keras", reason=reason, jit_compile=None, steps_per_call=None)
    if run.fast is True:
        warnings.warn(f"deepkit.train.fit: using plain Keras fit because {reason}.", stacklevel=3)
    plain = dict(run.keras_args)
    if run.augment is not None:
        if not (_all_arrays(x) and (y is None or _all_arrays(y))):
            raise ValueError(
                "fit: `augment` needs array data (x, y) to apply it; for a dataset or "
                f"generator put the augmentation into it. Received: x of type {type(x).__name__}"
            )
        x, y, sw = _to_numpy(x), _to_numpy(y), _to_numpy(plain["sample_weight"])
        if plain["class_weight"] is not None:
            sw = data_adapter_utils.class_weight_to_sample_weights(y, plain["class_weight"])
        val = plain["validation_data"]
        if plain["validation_split"] and val is None:
            (x, y, sw), val = array_slicing.train_validation_split(
                (x, y, sw), validation_split=plain["validation_split"])
        val = None if val is None else data_adapter_utils.unpack_x_y_sample_weight(tuple(val))
        with mixed_precision_scope(model, run.policy):
            return _stream(model, (x, y, sw), val, run, info, reason + "; augmenting on the host")
    with mixed_precision_scope(model, run.policy):
        history = keras.Model.fit(model, x, y, **plain)
    history.fast = info
    return history


def _stream(model, train_data, val_data, run, info, reason):
    """Keras fit over an :class:`ArrayStream` of the host arrays."""
    x, y, sw = train_data
    info.update(path="stream", reason=reason, steps_per_call=None)
    plain = run.keras_args
    ds = ArrayStream(x, y, sw, batch_size=plain["batch_size"] or 32, shuffle=bool(plain["shuffle"]),
                     augment=run.augment, seed=run.seed)
    kwargs = {k: v for k, v in plain.items()
              if k not in ("batch_size", "shuffle", "sample_weight", "class_weight",
                           "validation_split", "validation_data")}
    if val_data is not None:
        val_data = tuple(v for v in val_data if v is not None) if val_data[2] is None else val_data
    history = keras.Model.fit(model, ds, validation_data=val_data, **kwargs)
    history.fast = info
    return history


# ------------------------------------------------------------------ step 4: the device loop
_BATCH_HOOKS = (
    "on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end",
)


def _batch_hooks(callbacks):
    """``"Class.hook"`` for each given callback that overrides a batch-level hook of Keras' ``Callback``.

    Callbacks Keras adds itself (``History``, ``ProgbarLogger`` of a ``CallbackList``) do not count;
    the hooks are looked up on the instance, so a wrapper forwarding them is seen through."""
    if callbacks is None:
        return []
    if isinstance(callbacks, keras.callbacks.CallbackList):
        callbacks = [cb for cb in callbacks.callbacks
                     if type(cb) not in (keras.callbacks.History, keras.callbacks.ProgbarLogger)]
    found = []
    for cb in callbacks:
        for hook in _BATCH_HOOKS:
            method = getattr(cb, hook, None)
            if getattr(method, "__func__", method) is not getattr(keras.callbacks.Callback, hook):
                found.append(f"{type(cb).__name__}.{hook}")
    return found


def _pass_seed(base, epoch):
    """The shuffle seed of the pass over the data that starts at ``epoch``: a function of both only.

    The factor is odd, so the seeds of one run differ for 2**31 epochs."""
    return (base + 1_000_003 * epoch) % 2**31  # pragma: no mutate (any odd factor, any uint32 modulus)


def _device_loop(model, loops, data, run, info):
    """Keras' epoch loop (callbacks, validation, History) around the compiled calls."""
    n_full, rem = divmod(data.n, run.batch_size)
    steps = n_full + (1 if rem else 0)  # batches in one pass over the data
    per_epoch = run.steps_per_epoch or steps
    hooks = _batch_hooks(run.keras_args["callbacks"])
    if run.steps_per_call is not None:
        spc, why = run.steps_per_call, f"steps_per_call={run.steps_per_call}"
    elif hooks:
        spc, why = 1, f"one step per call: batch-level hooks run after every batch ({', '.join(hooks)})"
    else:
        spc, why = max(n_full, 1), "all the full batches of an epoch in one call"
    info.update(steps_per_call=spc, calls=why, batch_hooks=hooks)
    callbacks = run.keras_args["callbacks"]
    verbose = run.keras_args["verbose"]
    if not isinstance(callbacks, keras.callbacks.CallbackList):
        callbacks = keras.callbacks.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, verbose=verbose,
            epochs=run.epochs, steps=per_epoch, model=model,
        )
    history = _find_history(callbacks)
    # As Keras' SeedGenerator(None): an unseeded shuffle draws its seed from Python's random, here
    # before on_train_begin (where a Checkpoint restores the random states of the killed run).
    base_seed = None
    if run.shuffle:
        base_seed = int(run.seed) if run.seed is not None else random.randint(1, int(1e9))  # pragma: no mutate (the range is arbitrary)

    model.stop_training = False
    training_logs = {}
    logs = {}
    timings = []
    pos, perm = 0, None  # batches of the current pass already run, its permutation
    callbacks.on_train_begin()
    # As Keras: BackupAndRestore / deepkit's Checkpoint set the epoch to resume from.
    initial_epoch = internals.initial_epoch(model) or run.initial_epoch
    info["initial_epoch"] = initial_epoch
    try:
        for epoch in range(initial_epoch, run.epochs):
            t0 = time.perf_counter()
            model.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            if pos == 0 or run.steps_per_epoch is None:  # a new pass over the data
                pos = 0
                perm = None if base_seed is None else keras.random.shuffle(
                    keras.ops.arange(data.n, dtype="int32"), seed=_pass_seed(base_seed, epoch))
            k = 0  # steps run in this epoch (Keras' batch index)
            while k < per_epoch and not model.stop_training:
                if pos >= steps:  # only with steps_per_epoch: the pass ended inside the epoch
                    warnings.warn(
                        "Your input ran out of data; interrupting training. Make sure that your "
                        "dataset or generator can generate at least `steps_per_epoch * epochs` "
                        "batches.", stacklevel=3)
                    break
                callbacks.on_train_batch_begin(k)
                if pos < n_full:
                    stop = min(pos + spc, n_full, pos + per_epoch - k)
                    logs = loops.train(data.dev_train, perm, 0, pos, stop, run.batch_size)
                    k, pos = k + stop - pos, stop
                else:  # the last, partial batch
                    logs = loops.train(data.dev_train, perm, n_full * run.batch_size, 0, 1, rem)
                    k, pos = k + 1, pos + 1
                callbacks.on_train_batch_end(k - 1, logs)
            if pos >= steps:
                pos = 0
            loops.sync()
            epoch_logs = dict(internals.metrics_result_or_logs(model, logs))
            if data.dev_val is not None and internals.should_evaluate(model, epoch, run.validation_freq):
                val_logs = _evaluate(model, loops, data, run.val_batch, callbacks, 1 if hooks else None)
                epoch_logs.update({f"val_{name}": v for name, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            timings.append(time.perf_counter() - t0)
            training_logs = epoch_logs
            if model.stop_training:
                break
    except BaseException:
        _restore(loops, quiet=True)
        raise
    _restore(loops)
    if isinstance(model.optimizer, keras.optimizers.Optimizer) and run.epochs > 0:
        model.optimizer.finalize_variable_values(model.trainable_weights)
    callbacks.on_train_end(logs=training_logs)
    info["epoch_seconds"] = timings
    history = history or model.history
    history.fast = info
    return history


def _restore(loops, quiet=False):
    """Write the device state back into the model and release it (quietly while an error propagates)."""
    try:
        loops.finish()
    except Exception:  # noqa: BLE001
        if not quiet:
            raise


def _evaluate(model, loops, data, batch, callbacks, per_call):
    """One validation pass: the full batches ``per_call`` at a time (``None``: all in one call), then the rest."""
    loops.sync()
    model.reset_metrics()
    callbacks.on_test_begin()
    full, rem = divmod(data.n_val, batch)
    per_call = per_call or max(full, 1)  # pragma: no mutate (with no full batch any step will do)
    logs = {}
    for start in range(0, full, per_call):
        stop = min(start + per_call, full)
        callbacks.on_test_batch_begin(start)
        logs = loops.test(data.dev_val, 0, start, stop, batch)
        callbacks.on_test_batch_end(stop - 1, logs)
    if rem:
        callbacks.on_test_batch_begin(full)
        logs = loops.test(data.dev_val, full * batch, 0, 1, rem)
        callbacks.on_test_batch_end(full, logs)
    loops.sync()
    logs = pythonify_logs(internals.metrics_result_or_logs(model, logs))
    callbacks.on_test_end(logs)
    return logs
