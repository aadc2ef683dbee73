"""What the fast fit path's compiled loops share: the :class:`Loops` interface, :class:`FastPathUnsupported`.

The fast path in :func:`deepkit.train.fit` keeps the whole data set on the device and runs many
training steps per compiled call. The loops themselves are backend code, one module per backend that
has them (``deepkit/backend/<name>/loops.py``: ``jax.jit`` + ``lax.scan`` over Keras' stateless
``model.train_step(state, data)`` on jax; one ``tf.function`` holding a ``tf.while_loop`` over
``model.train_step(data)`` on tensorflow), reached through :func:`deepkit.backend.fit_loop`. A backend
without them declares ``Capabilities(fit_loops=False)`` and uses :class:`NoFitLoops`. The orchestration
(callbacks, epochs, validation, History) is backend-agnostic and lives in ``deepkit/train/fast.py``.
"""

import typing

__all__ = ["FastPathUnsupported", "tracing_failed", "pack_step_data", "Loops", "NoFitLoops"]


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


@typing.runtime_checkable
class Loops(typing.Protocol):
    """Interface of a backend's compiled loops (``JaxLoops``, ``TensorFlowLoops``).

    A ``Loops`` object is bound to one compiled model and to one :class:`deepkit.train.Augment`
    (or ``None``). ``data`` is a tuple ``(x, y, sample_weight)`` of device arrays (nested
    structures allowed for ``x`` and ``y``; ``sample_weight`` may be ``None``), ``perm`` a device
    int32 permutation of the sample indices or ``None`` for the stored order. One compiled program
    per distinct ``batch``.

    Example:
        >>> class Nothing:
        ...     pass
        >>> isinstance(Nothing(), Loops)
        False
    """

    def put(self, tree):
        """Copy a nested structure of numpy arrays to the device (once per fit)."""

    def train(self, data, perm, offset, start, stop, batch):
        """Run training steps ``start, ..., stop - 1``; step ``i`` uses the samples
        ``perm[offset + i * batch : offset + (i + 1) * batch]``. Returns the last step's logs (device scalars)."""

    def test(self, data, offset, start, stop, batch):
        """As ``train`` for ``model.test_step`` (no shuffling, no augmentation)."""

    def sync(self):
        """Write the device state back into the model's variables (a no-op where they are updated in place)."""

    def finish(self):
        """``sync()``, then give the variables back to the model (at the end of a fit, also when it failed)."""

    def prepare(self, data, shuffle, batches, val=None, val_batches=()):
        """Trace the programs a fit will run, raising :class:`FastPathUnsupported` for a step the loop cannot carry."""

    def memory_budget(self):
        """Bytes of device memory the fast path may fill with data (None: unknown)."""


class NoFitLoops:
    """The loops members of a backend without compiled loops (``Capabilities(fit_loops=False)``).

    Example:
        >>> from deepkit import backend
        >>> backend.get("torch").fit_loop_unsupported().startswith("the fast path has compiled loops for")
        True
    """

    def fit_loop_unsupported(self, model=None):
        """Why not: no compiled loops on this backend (plain Keras fit is used instead).

        Args:
            model: unused.

        Returns:
            A sentence naming the backends that have them.

        Example:
            >>> from deepkit import backend
            >>> "Received: backend='numpy'" in backend.get("numpy").fit_loop_unsupported()
            True
        """
        from deepkit import backend

        have = ", ".join(sorted(backend.with_capability("fit_loops")))
        return (f"the fast path has compiled loops for {have} only; Received: backend={self.name!r} "
                "(plain Keras fit is used instead)")

    def make_fit_loop(self, model, augment=None, jit_compile=None, unroll=1, in_graph_loop=None):
        """Raise :class:`FastPathUnsupported` with :meth:`fit_loop_unsupported`'s reason.

        Args:
            model: unused.
            augment: unused.
            jit_compile: unused.
            unroll: unused.
            in_graph_loop: unused.

        Raises:
            FastPathUnsupported: always.

        Example:
            >>> from deepkit import backend
            >>> try:
            ...     backend.get("numpy").make_fit_loop(None)
            ... except FastPathUnsupported as e:
            ...     print("numpy" in str(e))
            True
        """
        raise FastPathUnsupported(self.fit_loop_unsupported(model))
