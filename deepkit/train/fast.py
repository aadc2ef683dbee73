"""The fast fit path: data on the device, many steps per compiled call, Keras semantics.

``fit(model, x, y, ...)`` trains any compiled ``keras.Model`` like ``model.fit`` does (same
``History``, callbacks at epoch ends, validation, metrics, the same training step), but:

* the arrays go to the device once; shuffling (a device permutation per epoch), batching (a
  gather inside the loop) and augmentation (:class:`deepkit.train.Augment`) happen there;
* all the full batches of an epoch run in one compiled call (``lax.scan`` on jax, a
  ``tf.while_loop`` in one ``tf.function`` on tensorflow; :func:`deepkit.backend.fit_loop` gives them),
  plus one call for a last partial batch, so per-step host overhead disappears;
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
_KERAS_POSITIONAL = (
    "batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data",
    "shuffle", "class_weight", "sample_weight", "initial_epoch", "steps_per_epoch",
    "validation_steps", "validation_batch_size", "validation_freq",
)


def fit_arguments(args, kwargs):
    """``keras.Model.fit``'s positional arguments after ``x, y``, as keywords.

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
    *args,
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
    validation_batch_size=None,
    validation_freq=1,
    augment=None,
    seed=None,
    steps_per_call=None,
    mixed_precision=None,
    jit_compile=None,
    fast="auto",
    device_memory=None,
    unroll=1,
    in_graph_loop=None,
    **fit_kwargs,
):
    """Train a compiled Keras model, keeping the data on the device (the fast fit path).

    Same arguments (positional ones in Keras' order too) and result as ``keras.Model.fit``,
    plus the options of the fast path (keywords). For the same data order (``shuffle=False``) and
    ``mixed_precision=False`` the weights and History match plain ``fit`` within float tolerance:
    the compiled loop runs Keras' own ``model.train_step``.

    Args:
        model: a compiled ``keras.Model`` (any, not only ``deepkit.Model``).
        x: numpy array (or nested structure of arrays) of inputs; a ``tf.data.Dataset``,
            ``PyDataset`` or generator goes to plain Keras fit.
        y: targets (arrays), or ``None``.
        batch_size: int, default 32.
        epochs: int, last epoch index (as in Keras: with ``initial_epoch``).
        verbose: ``"auto"``, 0, 1 or 2, as Keras (the progress bar moves once per call).
        callbacks: list of ``keras.callbacks.Callback``; epoch-level hooks run exactly as in
            Keras; batch-level hooks run once per compiled call (as with Keras'
            ``steps_per_execution``) with the index of the last step of the call.
        validation_split: float in [0, 1): the last fraction of the data is held out, as Keras.
        validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)`` arrays.
        shuffle: bool, reshuffle the training data every epoch (a device permutation).
        class_weight: dict ``{class: weight}``, turned into sample weights as Keras does.
        sample_weight: 1-D array of per-sample weights.
        initial_epoch: int, epoch to start from.
        validation_batch_size: int, default ``batch_size``.
        validation_freq: int, validate every that many epochs.
        augment: a :class:`deepkit.train.Augment`, a dict of its arguments, or ``None``: random
            crop with padding and flips applied to every training batch on the device.
        seed: int or ``None``: seed of the shuffling (and of ``augment`` when it has no seed).
        steps_per_call: int or ``None``: training steps per compiled call (``None``: all the full
            batches of an epoch in one call). Smaller values update the progress bar and run
            batch-level callbacks more often.
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
        **fit_kwargs: the other ``keras.Model.fit`` arguments: ``steps_per_epoch`` (Keras'
            semantics: an epoch is that many steps and the pass over the data continues across
            epochs; without ``batch_size`` the batch is ``ceil(samples / steps_per_epoch)``) and
            ``validation_steps`` (selects plain Keras fit).

    Returns:
        The ``keras.callbacks.History``; its ``fast`` attribute is a dict saying which path ran
        (``"device"``, ``"stream"`` or ``"keras"``), why, and the settings used.

    Raises:
        ValueError: on invalid arguments (quoting them) or inconsistent array lengths.

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
    # ------------------------------------------------------------------ arguments
    if args:  # keras.Model.fit's positional order, so fit(model, x, y, 32, 5) works as in Keras
        if len(args) > len(_KERAS_POSITIONAL):
            raise TypeError(f"fit: too many positional arguments. Received: {len(args) + 3}")
        given = dict(zip(_KERAS_POSITIONAL, args))
        local = dict(batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
                     validation_split=validation_split, validation_data=validation_data,
                     shuffle=shuffle, class_weight=class_weight, sample_weight=sample_weight,
                     initial_epoch=initial_epoch, validation_batch_size=validation_batch_size,
                     validation_freq=validation_freq)
        defaults = dict(batch_size=None, epochs=1, verbose="auto", callbacks=None,
                        validation_split=0.0, validation_data=None, shuffle=True,
                        class_weight=None, sample_weight=None, initial_epoch=0,
                        validation_batch_size=None, validation_freq=1)
        for name, value in given.items():
            if name in fit_kwargs or (name in local and local[name] is not defaults[name]
                                      and local[name] != defaults[name]):
                raise TypeError(f"fit: got multiple values for argument {name!r}")
            if name in local:
                local[name] = value
            else:
                fit_kwargs[name] = value
        return fit(model, x, y, **local, augment=augment, seed=seed, steps_per_call=steps_per_call,
                   mixed_precision=mixed_precision, jit_compile=jit_compile, fast=fast,
                   device_memory=device_memory, unroll=unroll, in_graph_loop=in_graph_loop,
                   **fit_kwargs)
    if fast not in _FAST_VALUES:
        raise ValueError(f"fit: `fast` must be True, False or 'auto'. Received: fast={fast!r}")
    unknown = set(fit_kwargs) - {"steps_per_epoch", "validation_steps"}
    if unknown:
        raise ValueError(f"fit: unknown arguments {sorted(unknown)}. Received: "
                         f"{ {k: fit_kwargs[k] for k in sorted(unknown)}!r}")
    steps_per_epoch = fit_kwargs.get("steps_per_epoch")
    if steps_per_epoch is not None:
        steps_per_epoch = _check_int("steps_per_epoch", steps_per_epoch, 1)
    if fit_kwargs.get("validation_steps") is not None:
        _check_int("validation_steps", fit_kwargs["validation_steps"], 1)
    batch_given = batch_size is not None
    batch_size = 32 if batch_size is None else _check_int("batch_size", batch_size, 1)
    epochs = _check_int("epochs", epochs, 0)
    initial_epoch = _check_int("initial_epoch", initial_epoch, 0)
    if validation_batch_size is not None:
        validation_batch_size = _check_int("validation_batch_size", validation_batch_size, 1)
    if steps_per_call is not None:
        steps_per_call = _check_int("steps_per_call", steps_per_call, 1)
    if not isinstance(validation_freq, (int, np.integer)) or isinstance(validation_freq, bool) \
            or validation_freq < 1:
        raise ValueError(
            f"fit: `validation_freq` must be an integer >= 1. Received: validation_freq={validation_freq!r}"
        )
    if not 0.0 <= float(validation_split) < 1.0:
        raise ValueError(
            f"fit: `validation_split` must be in [0, 1). Received: validation_split={validation_split!r}"
        )
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
    policy = resolve_mixed_precision(mixed_precision)
    internals.assert_compiled(model, "fit")
    x_in, y_in = x, y  # for a late fallback

    info = {
        "path": "device",
        "reason": "in-memory arrays on a backend with compiled loops: data kept on the device",
        "backend": backend.name(),
        "mixed_precision": policy,
        "jit_compile": None,
        "steps_per_call": steps_per_call,
    }

    # -------------------------------------------------------- can the fast path apply?
    reason = _why_not_fast(model, x, y, sample_weight, validation_data, shuffle, fit_kwargs, fast)
    plain = dict(
        batch_size=batch_size if batch_given else None, epochs=epochs, verbose=verbose, callbacks=callbacks,
        validation_split=validation_split, validation_data=validation_data, shuffle=shuffle,
        class_weight=class_weight, sample_weight=sample_weight, initial_epoch=initial_epoch,
        validation_batch_size=validation_batch_size, validation_freq=validation_freq, **fit_kwargs,
    )
    if reason:
        return _fallback(model, x, y, plain, augment, seed, policy, info, reason, fast)

    # --------------------------------------------------------------- prepare arrays
    x, y, sample_weight = _to_numpy(x), _to_numpy(y), _to_numpy(sample_weight)
    if class_weight is not None:
        if sample_weight is not None:
            raise ValueError("fit: pass either `class_weight` or `sample_weight`, not both.")
        if not isinstance(y, np.ndarray):
            raise ValueError("fit: `class_weight` needs a single array `y`. "
                             f"Received: y of type {type(y).__name__}")
        sample_weight = data_adapter_utils.class_weight_to_sample_weights(y, class_weight)
    if validation_split and validation_data is None:
        (x, y, sample_weight), validation_data = array_slicing.train_validation_split(
            (x, y, sample_weight), validation_split=validation_split
        )
    train_data = (x, y, sample_weight)
    n = _num_samples(train_data, "fit")
    if n == 0:
        raise ValueError("fit: the training data is empty. Received: 0 samples")
    if steps_per_epoch is not None and not batch_given:  # as Keras' array adapter
        batch_size = max(1, -(-n // steps_per_epoch))
        plain["batch_size"] = batch_size
    val_data = None
    if validation_data is not None:
        vx, vy, vsw = data_adapter_utils.unpack_x_y_sample_weight(tuple(validation_data))
        val_data = (_to_numpy(vx), _to_numpy(vy), _to_numpy(vsw))
        if _num_samples(val_data, "fit(validation_data)") == 0:
            val_data = None

    # ---------------------------------------------------------- build, place, loop
    with mixed_precision_scope(model, policy):
        first = (_slice_struct(x, 0, batch_size), _slice_struct(y, 0, batch_size),
                 _slice_struct(sample_weight, 0, batch_size))
        try:
            internals.symbolic_build(model, first)
        except Exception as e:  # noqa: BLE001 - e.g. a model without call() (the guide's GAN)
            build_error = f"the model cannot be built on a batch ({type(e).__name__})"
        else:
            build_error = ""
    if build_error:
        return _fallback(model, x_in, y_in, plain, augment, seed, policy, info, build_error, fast)
    with mixed_precision_scope(model, policy):
        loops = _cached_loops(model, augment, jit_compile, _check_int("unroll", unroll, 1), policy,
                              in_graph_loop)
        info["jit_compile"] = getattr(loops, "jit_compile", True)
        info["in_graph_loop"] = getattr(loops, "in_graph_loop", True)
        budget = device_memory if device_memory is not None else loops.memory_budget()
        need = _nbytes(train_data) + (_nbytes(val_data) if val_data is not None else 0)
        if budget is not None and need > budget:
            reason = (f"the data ({need / 2**20:.0f} MiB) exceeds the device memory budget "
                      f"({budget / 2**20:.0f} MiB); streaming it from the host")
            return _stream(model, train_data, val_data, plain, augment, seed, info, reason)
        try:
            dev_train = loops.put(train_data)
            dev_val = loops.put(val_data) if val_data is not None else None
        except Exception as e:  # noqa: BLE001 - out-of-memory errors differ per backend
            if "RESOURCE_EXHAUSTED" in str(e) or "out of memory" in str(e).lower():
                reason = f"the data did not fit on the device ({type(e).__name__}); streaming it"
                return _stream(model, train_data, val_data, plain, augment, seed, info, reason)
            raise
        val_batch = validation_batch_size or batch_size
        n_val = _num_samples(val_data, "fit(validation_data)") if val_data is not None else 0
        try:
            # Trace before any callback runs, so that a fallback is clean (no event twice).
            loops.prepare(dev_train, bool(shuffle), _batch_sizes(n, batch_size), dev_val,
                          _batch_sizes(n_val, val_batch) if dev_val is not None else ())
            return _device_loop(model, loops, dev_train, n, dev_val, n_val, batch_size, epochs,
                                initial_epoch, verbose, callbacks, shuffle, seed, steps_per_call,
                                val_batch, validation_freq, steps_per_epoch, info)
        except backend.FastPathUnsupported as e:
            reason = f"the compiled loop cannot run this model: {e}"
    return _fallback(model, x_in, y_in, plain, augment, seed, policy, info, reason, fast)


def _batch_sizes(n, batch):
    """The batch sizes a pass over ``n`` samples runs: full batches, then the remainder."""
    full, rem = divmod(n, batch)
    return ([batch] if full else []) + ([rem] if rem else [])


def _cached_loops(model, augment, jit_compile, unroll, policy, in_graph_loop):
    """The compiled loops of ``model`` for this configuration, reused across ``fit`` calls.

    Keras keeps ``model.train_function`` between ``fit`` calls; so do we, keyed by everything the
    traced programs depend on (a new ``compile()`` makes new optimizer/loss/metrics objects)."""
    key = (
        *(id(part) for part in internals.compile_state(model)),
        id(augment), None if augment is None else tuple(sorted(augment.get_config().items())),
        jit_compile, unroll, policy, in_graph_loop, keras.config.image_data_format(),
    )
    per_model = internals.attached(model, "_deepkit_fast_loops")
    if per_model is None:
        per_model = {}
        # Kept on the model: the model <-> loops reference cycle is collected with the model.
        internals.attach(model, "_deepkit_fast_loops", per_model)
    if key not in per_model:
        per_model.clear()  # one configuration at a time: the old programs are dropped
        per_model[key] = backend.fit_loop(model, augment=augment, jit_compile=jit_compile,
                                          unroll=unroll, in_graph_loop=in_graph_loop)
    return per_model[key]


def _why_not_fast(model, x, y, sample_weight, validation_data, shuffle, fit_kwargs, fast):
    if fast is False:
        return "fast=False"
    reason = backend.fit_loop_unsupported()
    if reason:
        return reason
    if x is None or not _all_arrays(x):
        return (f"the fast path takes numpy arrays; Received: x of type {type(x).__name__} "
                "(it is passed to Keras fit, which streams it)")
    for name, part in (("y", y), ("sample_weight", sample_weight)):
        if part is not None and not _all_arrays(part):
            return f"the fast path takes numpy arrays; Received: {name} of type {type(part).__name__}"
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or not all(
            p is None or _all_arrays(p) for p in validation_data
        ):
            return ("the fast path takes validation_data as a tuple of arrays; "
                    f"Received: validation_data of type {type(validation_data).__name__}")
    if fit_kwargs.get("validation_steps") is not None:
        return ("the fast path validates on all of validation_data; Received: "
                f"validation_steps={fit_kwargs['validation_steps']!r}")
    if shuffle not in (True, False):
        return f"the fast path supports shuffle=True/False; Received: shuffle={shuffle!r}"
    if model.run_eagerly:
        return "the model was compiled with run_eagerly=True"
    if keras.distribution.distribution() is not None:
        return "a keras.distribution is set (the fast path runs on one device)"
    return backend.fit_loop_unsupported(model)


def _fallback(model, x, y, plain, augment, seed, policy, info, reason, fast):
    info.update(path="keras", reason=reason, jit_compile=None, steps_per_call=None)
    if fast is True:
        warnings.warn(f"deepkit.train.fit: using plain Keras fit because {reason}.", stacklevel=3)
    if augment is not None:
        if not (_all_arrays(x) and (y is None or _all_arrays(y))):
            raise ValueError(
                "fit: `augment` needs array data (x, y) to apply it; for a dataset or "
                f"generator put the augmentation into it. Received: x of type {type(x).__name__}"
            )
        x, y, sw = _to_numpy(x), _to_numpy(y), _to_numpy(plain.pop("sample_weight"))
        if plain.get("class_weight") is not None:
            sw = data_adapter_utils.class_weight_to_sample_weights(y, plain.pop("class_weight"))
        val = plain.pop("validation_data")
        if plain["validation_split"] and val is None:
            (x, y, sw), val = array_slicing.train_validation_split(
                (x, y, sw), validation_split=plain["validation_split"])
        plain["validation_split"] = 0.0
        val = None if val is None else data_adapter_utils.unpack_x_y_sample_weight(tuple(val))
        with mixed_precision_scope(model, policy):
            return _stream(model, (x, y, sw), val, plain, augment, seed, info,
                           reason + "; augmenting on the host")
    with mixed_precision_scope(model, policy):
        history = keras.Model.fit(model, x, y, **plain)
    history.fast = info
    return history


def _stream(model, train_data, val_data, plain, augment, seed, info, reason):
    x, y, sw = train_data
    info.update(path="stream", reason=reason, steps_per_call=None)
    ds = ArrayStream(x, y, sw, batch_size=plain["batch_size"] or 32, shuffle=bool(plain["shuffle"]),
                     augment=augment, seed=seed)
    kwargs = {k: v for k, v in plain.items()
              if k not in ("batch_size", "shuffle", "sample_weight", "class_weight",
                           "validation_split", "validation_data")}
    if val_data is not None:
        val_data = tuple(v for v in val_data if v is not None) if val_data[2] is None else val_data
    history = keras.Model.fit(model, ds, validation_data=val_data, **kwargs)
    history.fast = info
    return history


def _device_loop(model, loops, data, n, val, n_val, batch_size, epochs, initial_epoch,
                 verbose, callbacks, shuffle, seed, steps_per_call, val_batch,
                 validation_freq, steps_per_epoch, info):
    n_full, rem = divmod(n, batch_size)
    steps = n_full + (1 if rem else 0)  # batches in one pass over the data
    per_epoch = steps_per_epoch or steps
    spc = steps_per_call or max(n_full, 1)
    info["steps_per_call"] = spc
    shuffler = keras.random.SeedGenerator(seed, name="fit_shuffle") if shuffle else None
    if not isinstance(callbacks, keras.callbacks.CallbackList):
        callbacks = keras.callbacks.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, verbose=verbose,
            epochs=epochs, steps=per_epoch, model=model,
        )
    history = _find_history(callbacks)

    model.stop_training = False
    training_logs = {}
    logs = {}
    timings = []
    pos, perm = 0, None  # batches of the current pass already run, its permutation
    callbacks.on_train_begin()
    # As Keras: BackupAndRestore / deepkit's Checkpoint set the epoch to resume from.
    initial_epoch = internals.initial_epoch(model) or initial_epoch
    info["initial_epoch"] = initial_epoch
    try:
        for epoch in range(initial_epoch, epochs):
            t0 = time.perf_counter()
            model.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            if pos == 0 or steps_per_epoch is None:  # a new pass over the data
                pos = 0
                perm = keras.random.shuffle(keras.ops.arange(n, dtype="int32"), seed=shuffler) \
                    if shuffler is not None else None
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
                    logs = loops.train(data, perm, 0, pos, stop, batch_size)
                    k, pos = k + stop - pos, stop
                else:  # the last, partial batch
                    logs = loops.train(data, perm, n_full * batch_size, 0, 1, rem)
                    k, pos = k + 1, pos + 1
                callbacks.on_train_batch_end(k - 1, logs)
            if pos >= steps:
                pos = 0
            loops.sync()
            epoch_logs = dict(internals.metrics_result_or_logs(model, logs))
            if val is not None and internals.should_evaluate(model, epoch, validation_freq):
                val_logs = _evaluate(model, loops, val, n_val, val_batch, callbacks)
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
    if isinstance(model.optimizer, keras.optimizers.Optimizer) and epochs > 0:
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


def _evaluate(model, loops, val, n_val, batch, callbacks):
    loops.sync()
    model.reset_metrics()
    callbacks.on_test_begin()
    full, rem = divmod(n_val, batch)
    logs = {}
    if full:
        callbacks.on_test_batch_begin(0)
        logs = loops.test(val, 0, 0, full, batch)
        callbacks.on_test_batch_end(full - 1, logs)
    if rem:
        callbacks.on_test_batch_begin(full)
        logs = loops.test(val, full * batch, 0, 1, rem)
        callbacks.on_test_batch_end(full, logs)
    loops.sync()
    logs = pythonify_logs(internals.metrics_result_or_logs(model, logs))
    callbacks.on_test_end(logs)
    return logs
