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
from deepkit.backend.interface import Backend, Capabilities


class JaxBackend(KerasDistribution, Backend):
    name = "jax"
    capabilities = Capabilities(gradients=True, compiled_calls=True, fit_loops=True, native_distribution=False,
                                virtual_cpu_devices=True)

    def value_and_grad(self, fn, argnums, has_aux):
        return self.module("gradients").value_and_grad(fn, argnums, has_aux)

    def jit(self, fn, variables, jit_compile=False):
        return self.module("gradients").jit(fn, variables, jit_compile=jit_compile)

    def no_grad(self):  # JAX records nothing outside jax.grad
        return contextlib.nullcontext()

    def fit_loop_unsupported(self, model=None):
        return "" if model is None else self.module("loops").fit_loop_unsupported(model)

    def make_fit_loop(self, model, augment=None, jit_compile=None, unroll=1, in_graph_loop=None):
        return self.module("loops").make_fit_loop(model, augment=augment, jit_compile=jit_compile, unroll=unroll,
                                                  in_graph_loop=in_graph_loop)

    def accelerator_kind(self):
        return self.module("device").accelerator_kind()

    def free_memory(self):
        return self.module("device").free_memory()

    def virtual_cpu_devices(self, n):
        return self.module("device").virtual_cpu_devices(n)


BACKEND = JaxBackend()
