"""Compiled multi-step training loops for the fast fit path (the backend switch point).

The fast path in :func:`deepkit.train.fit` keeps the whole data set on the device and runs many
training steps per compiled call. Everything that is inherently backend-specific lives here and
in the per-backend modules next to it:

* ``jax_loops.py``: ``jax.jit`` + ``lax.scan`` over Keras' own stateless
  ``model.train_step(state, data)`` (the function ``model.fit`` itself uses on jax).
* ``tensorflow_loops.py``: one ``tf.function`` (optionally XLA-compiled) holding a
  ``tf.while_loop`` over Keras' ``model.train_step(data)``.

Both expose the same small interface, documented on :class:`Loops`. The orchestration (callbacks,
epochs, validation, History) is backend-agnostic and lives in ``deepkit/train/fast.py``.
"""

import keras

SUPPORTED_BACKENDS = ("jax", "tensorflow")


class FastPathUnsupported(ValueError):
    """Raised (before any training step ran) when the compiled loop cannot run a model.

    ``deepkit.train.fit(fast="auto")`` catches it and falls back to plain Keras fit.

    Example:
        >>> issubclass(FastPathUnsupported, ValueError)
        True
    """


def tracing_failed(error):
    """The :class:`FastPathUnsupported` for a step whose tracing inside the compiled loop raised ``error``.

    Args:
        error: whatever the user's step raised while it was traced.

    Returns:
        A ``FastPathUnsupported`` whose message names the error's type and first line.

    Example:
        >>> str(tracing_failed(KeyError("x")))
        "tracing the step inside the compiled loop failed (KeyError: 'x')"
    """
    first = str(error).splitlines()[0] if str(error) else ""
    return FastPathUnsupported(f"tracing the step inside the compiled loop failed ({type(error).__name__}: {first})")


def pack_step_data(x, y=None, sample_weight=None):
    """The structure Keras hands to ``train_step``/``test_step`` for one batch.

    As ``keras.utils.pack_x_y_sample_weight``: ``(x, y, sample_weight)`` with sample weights,
    ``(x, y)`` without, ``x`` alone without targets (``(x,)`` when ``x`` is a tuple or list, so
    that ``keras.utils.unpack_x_y_sample_weight`` gets the inputs back whole). Dicts and lists
    inside ``x`` and ``y`` are kept as they are.

    Args:
        x: the inputs of the batch (array or nested structure).
        y: the targets, or ``None``.
        sample_weight: the per-sample weights, or ``None``.

    Returns:
        The packed batch.

    Example:
        >>> pack_step_data("x", "y")
        ('x', 'y')
        >>> pack_step_data("x")
        'x'
        >>> pack_step_data(["a", "b"])
        (['a', 'b'],)
        >>> pack_step_data("x", "y", "w")
        ('x', 'y', 'w')
    """
    if y is None:  # as Keras: sample weights without targets are dropped
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


class Loops:
    """Interface of a backend's compiled loops (documentation only; see the implementations).

    A ``Loops`` object is bound to one compiled model and to one :class:`deepkit.train.Augment`
    (or ``None``). ``data`` is a tuple ``(x, y, sample_weight)`` of device arrays (nested
    structures allowed for ``x`` and ``y``; ``sample_weight`` may be ``None``), ``perm`` a device
    int32 permutation of the sample indices or ``None`` for the stored order.

    Methods:
        put(tree): copy a nested structure of numpy arrays to the device (once per fit).
        train(data, perm, offset, start, stop, batch): run the training steps
            ``start, ..., stop - 1``; step ``i`` uses the samples
            ``perm[offset + i * batch : offset + (i + 1) * batch]``. Returns the logs of the last
            step (device scalars). One compiled program per distinct ``batch``.
        test(data, offset, start, stop, batch): same for ``model.test_step`` (no shuffling, no
            augmentation).
        sync(): write the device state back into the model's variables (a no-op on
            tensorflow, whose variables are updated in place).
        finish(): ``sync()``, then give the variables back to the model (at the end of a fit,
            also when it failed).
        prepare(data, shuffle, batches, val, val_batches): trace the programs a fit will run,
            raising :class:`FastPathUnsupported` for a step the loop cannot carry.
        memory_budget(): bytes of device memory the fast path may fill with data.

    Example:
        >>> from deepkit.backend.loops import Loops
        >>> sorted(m for m in ("put", "train", "test", "sync")) == ["put", "sync", "test", "train"]
        True
    """


def backend_supports_fast_path(backend=None):
    """Whether the compiled on-device loops exist for a Keras backend.

    Args:
        backend: backend name; defaults to ``keras.backend.backend()``.

    Returns:
        ``(supported, reason)``: a bool and, when unsupported, a sentence saying why.

    Example:
        >>> backend_supports_fast_path("torch")[0]
        False
        >>> backend_supports_fast_path("jax")
        (True, '')
    """
    backend = backend or keras.backend.backend()
    if backend in SUPPORTED_BACKENDS:
        return True, ""
    return False, (
        f"the fast path has compiled loops for {', '.join(SUPPORTED_BACKENDS)} only; "
        f"Received: backend={backend!r} (plain Keras fit is used instead)"
    )


def make_loops(model, augment=None, jit_compile=None, unroll=1, in_graph_loop=None):
    """Build the compiled loops for ``model`` on the current Keras backend (:func:`deepkit.backend.fit_loop`).

    Args:
        model: a compiled and built ``keras.Model``.
        augment: a :class:`deepkit.train.Augment` applied to each training batch on the device,
            or ``None``.
        jit_compile: XLA for the tensorflow loop (``None``: follow ``model.jit_compile``, i.e.
            Keras' own choice: on for GPU, off on CPU). The jax loop is always ``jax.jit``-ed.
        unroll: training steps per iteration of the compiled jax loop (``lax.scan``'s
            ``unroll``); ignored on tensorflow.
        in_graph_loop: jax only: run a call's steps in one compiled ``lax.scan`` (``None``: on
            GPU/TPU; on CPU each step is its own compiled call, see ``JaxLoops``).

    Returns:
        A backend loops object with the :class:`Loops` interface.

    Raises:
        ValueError: if the backend has no compiled loops (see :func:`backend_supports_fast_path`).

    Example:
        >>> import keras
        >>> if keras.backend.backend() in ("jax", "tensorflow"):
        ...     m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        ...     m.compile(optimizer="sgd", loss="mse")
        ...     loops = make_loops(m)
        ...     print(type(loops).__name__.endswith("Loops"))
        ... else:
        ...     print(True)
        True
    """
    ok, reason = backend_supports_fast_path()
    if not ok:
        raise ValueError(f"make_loops: {reason}")
    from deepkit.backend import fit_loop

    return fit_loop(model, augment=augment, jit_compile=jit_compile, unroll=unroll, in_graph_loop=in_graph_loop)


def accelerator_kind():
    """The kind of the default device of the current backend (:func:`deepkit.backend.accelerator_kind`).

    Returns:
        ``"gpu"``, ``"tpu"`` or ``"cpu"``.

    Example:
        >>> accelerator_kind() in ("cpu", "gpu", "tpu")
        True
    """
    from deepkit.backend import accelerator_kind as kind

    return kind()


def host_available_bytes():
    """Bytes of host memory currently available (``None`` if the OS does not say).

    Returns:
        int or None.

    Example:
        >>> n = host_available_bytes()
        >>> n is None or n > 0
        True
    """
    import os

    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
