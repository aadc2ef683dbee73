"""The one interface a backend package implements, and the capabilities it declares.

A backend is a package ``deepkit/backend/<name>/`` whose ``__init__.py`` defines ``BACKEND``, an instance of a
subclass of :class:`Backend` (importing no framework: its methods import their modules on first use).
:mod:`deepkit.backend` picks the active one once; everything outside ``deepkit/backend/`` asks it what it
can do (:class:`Capabilities`) instead of comparing backend names.

Example:
    >>> from deepkit.backend.interface import Backend, MEMBERS
    >>> "value_and_grad" in MEMBERS and "capabilities" in MEMBERS
    True
"""

import abc
import dataclasses
import importlib

__all__ = ["Capabilities", "Backend"]


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What a backend can do, declared once by its package.

    Attributes:
        gradients: :meth:`Backend.value_and_grad` differentiates (False: it raises ``NotImplementedError``).
        compiled_calls: :meth:`Backend.jit` compiles a program per argument shape, so callers keep
            one batch shape (pad the last chunk); False: calls run eagerly.
        fit_loops: compiled multi-step training loops for the fast fit path (:meth:`Backend.make_fit_loop`).
        native_distribution: data parallelism through the framework's own engine (``tf.distribute``)
            rather than ``keras.distribution``.
        virtual_cpu_devices: :meth:`Backend.virtual_cpu_devices` can split the host CPU into devices.

    Example:
        >>> Capabilities(gradients=True).fit_loops
        False
    """

    gradients: bool = False
    compiled_calls: bool = False
    fit_loops: bool = False
    native_distribution: bool = False
    virtual_cpu_devices: bool = False


class Backend(abc.ABC):
    """One Keras backend as deepkit uses it: gradients, loops, device, distribution, capabilities.

    A subclass sets ``name`` (``keras.backend.backend()``'s value for it) and ``capabilities`` and
    implements every abstract method; a member it cannot offer says why (``fit_loop_unsupported`` returns
    the reason, the others raise). Instantiating a subclass that misses one raises ``TypeError``.

    Example:
        >>> from deepkit import backend
        >>> isinstance(backend.active(), Backend)
        True
    """

    #: ``keras.backend.backend()`` for this backend.
    name = None
    #: What the backend can do.
    capabilities = Capabilities()

    # ------------------------------------------------------------------ gradients
    @abc.abstractmethod
    def value_and_grad(self, fn, argnums, has_aux):
        """``fn`` returning ``(value, grads)``: see :func:`deepkit.backend.gradients.value_and_grad`."""

    @abc.abstractmethod
    def jit(self, fn, variables, jit_compile=False):
        """``fn`` compiled, reading ``variables`` as arguments: see :func:`deepkit.backend.gradients.jit`."""

    @abc.abstractmethod
    def no_grad(self):
        """A context in which forward calls record nothing for differentiation."""

    # ------------------------------------------------------------------ loops
    @abc.abstractmethod
    def fit_loop_unsupported(self, model=None):
        """Why the compiled loops cannot train ``model`` (None: any model) here, or ""."""

    @abc.abstractmethod
    def make_fit_loop(self, model, augment=None, jit_compile=None, unroll=1, in_graph_loop=None):
        """The compiled loops for ``model`` (the :class:`deepkit.backend.loops.Loops` interface)."""

    # ------------------------------------------------------------------ device
    @abc.abstractmethod
    def accelerator_kind(self):
        """``"gpu"``, ``"tpu"`` or ``"cpu"``: the kind of the default device."""

    @abc.abstractmethod
    def free_memory(self):
        """``(bytes_free, device_name)`` of the accelerator, or None (CPU, or it does not report)."""

    @abc.abstractmethod
    def virtual_cpu_devices(self, n):
        """Split the host CPU into ``n`` devices; the device names."""

    # ------------------------------------------------------------------ distribution
    @abc.abstractmethod
    def data_parallel(self, devices=None, tpu=None):
        """A context manager yielding ``(engine, num_replicas, device_names)`` for this host's devices."""

    @abc.abstractmethod
    def multi_worker(self, cluster=None):
        """A context manager yielding ``(engine, num_replicas, device_names)`` across processes."""

    def module(self, part):
        """The module ``<this backend's package>.<part>``, imported now (it may import the framework).

        Args:
            part: a module name of the package (``"gradients"``, ``"loops"``, ``"device"``, ...).

        Returns:
            The module.

        Example:
            >>> from deepkit import backend
            >>> backend.active().module("device").__name__ == f"deepkit.backend.{backend.name()}.device"
            True
        """
        return importlib.import_module(f"{type(self).__module__}.{part}")

    def __repr__(self):
        return f"<deepkit backend {self.name!r} {self.capabilities}>"


class ModuleGradients:
    """``value_and_grad`` and ``jit`` answered by the backend package's ``gradients`` module."""

    def value_and_grad(self, fn, argnums, has_aux):
        return self.module("gradients").value_and_grad(fn, argnums, has_aux)

    def jit(self, fn, variables, jit_compile=False):
        return self.module("gradients").jit(fn, variables, jit_compile=jit_compile)


class ModuleLoops:
    """The fast path's compiled loops answered by the backend package's ``loops`` module."""

    def fit_loop_unsupported(self, model=None):
        return "" if model is None else self.module("loops").fit_loop_unsupported(model)

    def make_fit_loop(self, model, augment=None, jit_compile=None, unroll=1, in_graph_loop=None):
        return self.module("loops").make_fit_loop(model, augment=augment, jit_compile=jit_compile, unroll=unroll,
                                                  in_graph_loop=in_graph_loop)


class ModuleDevice:
    """Device queries answered by the backend package's ``device`` module."""

    def accelerator_kind(self):
        return self.module("device").accelerator_kind()

    def free_memory(self):
        return self.module("device").free_memory()

    def virtual_cpu_devices(self, n):
        return self.module("device").virtual_cpu_devices(n)


#: Every member a backend package provides: the attributes, then the abstract methods.
MEMBERS = ("name", "capabilities") + tuple(sorted(Backend.__abstractmethods__))
