"""deepkit's JAX backend: ``jax.value_and_grad``, ``jax.jit`` + ``lax.scan`` loops over Keras' stateless steps.

Its modules import JAX; this package itself imports no framework, so that listing it does not start JAX.
``BACKEND`` implements :class:`deepkit.backend.interface.Backend` with them:

- ``gradients``: ``value_and_grad`` and ``jit``;
- ``loops``: the fast fit path's compiled loops (``make_fit_loop``, ``fit_loop_unsupported``);
- ``device``: ``accelerator_kind``, ``free_memory``, ``virtual_cpu_devices``.

Data parallelism on JAX goes through ``keras.distribution`` (:mod:`deepkit.backend.distribution`).
"""

import contextlib

from deepkit.backend.distribution import KerasDistribution
from deepkit.backend.interface import Backend, Capabilities, ModuleDevice, ModuleGradients, ModuleLoops


class JaxBackend(ModuleGradients, ModuleLoops, ModuleDevice, KerasDistribution, Backend):
    name = "jax"
    capabilities = Capabilities(gradients=True, compiled_calls=True, fit_loops=True, native_distribution=False,
                                virtual_cpu_devices=True)

    def no_grad(self):  # JAX records nothing outside jax.grad
        return contextlib.nullcontext()


BACKEND = JaxBackend()
