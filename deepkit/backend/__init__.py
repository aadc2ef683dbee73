"""Backend-specific code: the only package of deepkit that imports tensorflow, jax or torch.

Everything else in deepkit computes with ``keras.ops`` and asks this package for what Keras 3 does not
offer as an op. Laid out like Keras' own ``keras/src/backend/<name>/``::

    backend/
      __init__.py        this switch: picks the active backend package once; name(), active(), capabilities(),
                         fit_loop(), accelerator_kind(), device_memory(), data_parallel(), ...
      interface.py       the one interface a backend package implements (Backend) and what it declares it
                         can do (Capabilities)
      keras_internals.py the one module that names Keras internals (keras.src, private attributes),
                         each behind a small function saying why and for which Keras versions
      gradients.py       value_and_grad / jit for any backend (deepkit.viz); argument checks they share
      loops.py           what the fast fit path's loops share: the Loops protocol, FastPathUnsupported
      memory.py          the one free-memory probe (accelerator, then host)
      variables.py       weights sized first, allocated later (Keras only, no framework)
      saving.py          Keras' safe mode while specs build layers
      distribution.py    data parallelism through keras.distribution (jax, torch)
      startup.py         the framework's start-up output, kept out of the CLI's
      tensorflow/        gradients (GradientTape, tf.function), loops (tf.while_loop), device, distribute
      jax/               gradients (value_and_grad, jax.jit), loops (lax.scan), device
      torch/             gradients (autograd), device
      numpy/             inference only: says what it cannot do

A backend package's ``__init__.py`` defines ``BACKEND`` and imports no framework; its modules import the
framework and are imported on first use, for the active backend only, so ``import deepkit`` on one
backend never imports another framework. Adding a backend is one package and one line in ``PACKAGES``.

Example:
    >>> import deepkit.backend as backend
    >>> backend.name() in backend.PACKAGES
    True
    >>> backend.accelerator_kind() in ("cpu", "gpu", "tpu")
    True
"""

import importlib
import importlib.util

import keras

__all__ = ["name", "active", "get", "capabilities", "with_capability", "implementation", "fit_loop",
           "fit_loop_unsupported", "accelerator_kind", "device_memory", "virtual_cpu_devices", "data_parallel",
           "multi_worker", "FastPathUnsupported", "PACKAGES"]

#: The backend packages, by Keras backend name (each defines ``BACKEND``): one line per backend.
PACKAGES = {
    "tensorflow": f"{__name__}.tensorflow",
    "jax": f"{__name__}.jax",
    "torch": f"{__name__}.torch",
    "numpy": f"{__name__}.numpy",
}

_SUBMODULES = ("gradients", "interface", "keras_internals", "loops", "memory", "saving", "variables",
               "distribution")
_PICKED = {}


def __getattr__(attr):
    if attr in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{attr}")
    if attr == "FastPathUnsupported":
        return importlib.import_module(f"{__name__}.loops").FastPathUnsupported
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def name():
    """The active Keras backend.

    Returns:
        ``"tensorflow"``, ``"jax"``, ``"torch"`` or ``"numpy"``.

    Example:
        >>> name() == keras.backend.backend()
        True
    """
    return keras.backend.backend()


def get(backend=None):
    """The :class:`deepkit.backend.interface.Backend` of a backend package, picked once and kept.

    Args:
        backend: a Keras backend name; the active one by default.

    Returns:
        The package's ``BACKEND``.

    Raises:
        ValueError: no package for that name.

    Example:
        >>> get("torch").capabilities.fit_loops
        False
    """
    backend = backend or name()
    if backend not in _PICKED:
        if backend not in PACKAGES:
            raise ValueError(f"deepkit has no backend package for this Keras backend; expected one of "
                             f"{sorted(PACKAGES)}. Received: backend={backend!r}")
        _PICKED[backend] = importlib.import_module(PACKAGES[backend]).BACKEND
    return _PICKED[backend]


def active():
    """The active backend: :func:`get` of :func:`name`.

    Returns:
        A :class:`deepkit.backend.interface.Backend`.

    Example:
        >>> active().name == name()
        True
    """
    return get(name())


def capabilities(backend=None):
    """What a backend can do (the active one by default): gradients, compiled calls, fast fit loops, ...

    Args:
        backend: a Keras backend name, or None for the active one.

    Returns:
        A :class:`deepkit.backend.interface.Capabilities`.

    Example:
        >>> capabilities("numpy").gradients
        False
    """
    return get(backend).capabilities


def with_capability(capability):
    """The backends that declare ``capability``, in the order of :data:`PACKAGES`.

    Args:
        capability: a field of :class:`deepkit.backend.interface.Capabilities`, e.g. ``"fit_loops"``.

    Returns:
        A list of backend names.

    Example:
        >>> "jax" in with_capability("fit_loops")
        True
    """
    return [b for b in PACKAGES if getattr(capabilities(b), capability)]


def implementation(part, backend=None):
    """The module ``deepkit.backend.<backend>.<part>``, imported now, or None where that backend has none.

    Args:
        part: ``"gradients"``, ``"loops"``, ``"device"`` or ``"distribute"``.
        backend: a backend name; the active one by default.

    Returns:
        A module, or None.

    Example:
        >>> implementation("loops", "torch") is None
        True
    """
    package = PACKAGES.get(backend or name())
    if package is None or importlib.util.find_spec(f"{package}.{part}") is None:
        return None
    return importlib.import_module(f"{package}.{part}")


def fit_loop_unsupported(model=None):
    """Why the fast fit path's compiled loops cannot train ``model`` here ("" when they can).

    Args:
        model: a compiled ``keras.Model``, or None to ask about the backend only.

    Returns:
        A sentence, or "".

    Example:
        >>> capabilities().fit_loops or bool(fit_loop_unsupported())
        True
    """
    return active().fit_loop_unsupported(model)


def fit_loop(model, augment=None, jit_compile=None, unroll=1, in_graph_loop=None):
    """The fast fit path's compiled loops for ``model`` on the active backend.

    Args:
        model: a compiled and built ``keras.Model``.
        augment: a :class:`deepkit.train.Augment` run on each training batch on the device, or None.
        jit_compile: XLA for the tensorflow loop (None: ``model.jit_compile``); jax is always compiled.
        unroll: jax only: training steps per iteration of the compiled loop.
        in_graph_loop: jax only: a call's steps in one compiled ``lax.scan`` (None: on GPU/TPU).

    Returns:
        An object with the :class:`deepkit.backend.loops.Loops` interface.

    Raises:
        FastPathUnsupported: the backend has no compiled loops, or they cannot train this model.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> m.compile(optimizer="sgd", loss="mse")
        >>> if not fit_loop_unsupported(m):
        ...     print(hasattr(fit_loop(m), "train"))
        ... else:
        ...     print(True)
        True
    """
    from deepkit.backend.loops import FastPathUnsupported

    reason = fit_loop_unsupported(model)
    if reason:
        raise FastPathUnsupported(reason)
    return active().make_fit_loop(model, augment=augment, jit_compile=jit_compile, unroll=unroll,
                                  in_graph_loop=in_graph_loop)


def accelerator_kind():
    """The kind of the active backend's default device.

    Returns:
        ``"gpu"``, ``"tpu"`` or ``"cpu"``.

    Example:
        >>> accelerator_kind() in ("cpu", "gpu", "tpu")
        True
    """
    return active().accelerator_kind()


def device_memory():
    """Free memory of the accelerator Keras computes on, when the backend can say; else None.

    Returns:
        ``(bytes_free, device_name)`` for a jax or torch GPU/TPU, or None (CPU, or tensorflow, which
        does not report the size of a device's memory).

    Example:
        >>> info = device_memory()
        >>> info is None or info[0] >= 0
        True
    """
    try:
        return active().free_memory()
    except Exception:  # an accelerator that does not report: the caller falls back to host memory
        return None


def virtual_cpu_devices(n):
    """Split the host CPU into ``n`` devices (before the backend starts); see :mod:`deepkit.distribute`.

    Args:
        n: a positive int.

    Returns:
        The device names now visible to the backend.

    Raises:
        RuntimeError: the backend already started with another number, or has no such setting.

    Example:
        >>> not capabilities().virtual_cpu_devices or len(virtual_cpu_devices(1)) >= 1
        True
    """
    return active().virtual_cpu_devices(n)


def data_parallel(devices=None, tpu=None):
    """One model replica per device of this host: ``tf.distribute`` on TensorFlow, else ``keras.distribution``.

    Args:
        devices: device names, or None for all devices of the default kind.
        tpu: TensorFlow only: a Cloud TPU name or address (``"local"`` on a TPU VM).

    Returns:
        A context manager yielding ``(engine, num_replicas, device_names)``.

    Example:
        >>> if keras.backend.backend() in ("tensorflow", "jax"):  # keras.distribution has no torch devices here
        ...     with data_parallel() as (engine, replicas, devices):
        ...         print(replicas >= 1)
        ... else:
        ...     print(True)
        True
    """
    return active().data_parallel(devices, tpu=tpu)


def multi_worker(cluster=None):
    """Synchronous data parallelism across processes: ``MultiWorkerMirroredStrategy`` or ``keras.distribution``.

    Args:
        cluster: ``{"workers": ["host:port", ...], "index": i}``, or None to read the cluster from the
            environment.

    Returns:
        A context manager yielding ``(engine, num_replicas, device_names)``.

    Example:
        >>> callable(multi_worker)
        True
    """
    return active().multi_worker(cluster)
