"""deepkit's PyTorch backend: ``torch.autograd`` gradients and device queries.

Its modules import PyTorch; this package itself imports no framework. ``BACKEND`` implements
:class:`deepkit.backend.interface.Backend` with them:

- ``gradients``: ``value_and_grad``, ``jit`` (eager: Keras' torch backend has no compiled calls here) and
  ``no_grad``;
- ``device``: ``accelerator_kind``, ``free_memory``.

The fast fit path has no compiled loops on torch (``fit`` falls back to Keras' own loop); data parallelism
goes through ``keras.distribution``.
"""

from deepkit.backend.distribution import KerasDistribution
from deepkit.backend.interface import Backend, Capabilities, ModuleDevice, ModuleGradients
from deepkit.backend.loops import NoFitLoops


class TorchBackend(ModuleGradients, ModuleDevice, NoFitLoops, KerasDistribution, Backend):
    name = "torch"
    capabilities = Capabilities(gradients=True, compiled_calls=False, fit_loops=False, native_distribution=False,
                                virtual_cpu_devices=False)

    def no_grad(self):
        return self.module("gradients").no_grad()

    def virtual_cpu_devices(self, n):
        raise RuntimeError(f"virtual_cpu_devices: not supported on the {self.name!r} backend (use jax or "
                           f"tensorflow). Received: n={n!r}")


BACKEND = TorchBackend()
