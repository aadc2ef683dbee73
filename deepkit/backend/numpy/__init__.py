"""deepkit on Keras' numpy backend: inference only (no gradients, no compiled calls, no fast fit loops).

``BACKEND`` implements :class:`deepkit.backend.interface.Backend`; what numpy cannot do says so.
"""

import contextlib

from deepkit.backend.distribution import KerasDistribution
from deepkit.backend.gradients import eager
from deepkit.backend.interface import Backend, Capabilities
from deepkit.backend.loops import NoFitLoops


class NumpyBackend(NoFitLoops, KerasDistribution, Backend):
    name = "numpy"
    capabilities = Capabilities()

    def value_and_grad(self, fn, argnums, has_aux):
        raise NotImplementedError(
            "Gradients need the tensorflow, jax or torch Keras backend; the numpy backend cannot "
            "differentiate. Set KERAS_BACKEND to one of those. Received: backend='numpy'")

    def jit(self, fn, variables, jit_compile=False):
        return eager(fn)

    def no_grad(self):
        return contextlib.nullcontext()

    def accelerator_kind(self):
        return "cpu"

    def free_memory(self):
        return None

    def virtual_cpu_devices(self, n):
        raise RuntimeError(f"virtual_cpu_devices: not supported on the {self.name!r} backend (use jax or "
                           f"tensorflow). Received: n={n!r}")


BACKEND = NumpyBackend()
