"""deepkit's TensorFlow backend: ``tf.GradientTape`` gradients, ``tf.function`` loops, ``tf.distribute``.

Its modules import TensorFlow; this package itself imports no framework, so that listing it (documentation
tools, ``pkgutil``) does not start TensorFlow. ``BACKEND`` implements
:class:`deepkit.backend.interface.Backend` with them:

- ``gradients``: ``value_and_grad`` and ``jit``;
- ``loops``: the fast fit path's compiled loops (``make_fit_loop``, ``fit_loop_unsupported``);
- ``device``: ``accelerator_kind``, ``free_memory``, ``virtual_cpu_devices``;
- ``distribute``: ``data_parallel`` and ``multi_worker`` over ``tf.distribute``.
"""

import contextlib

from deepkit.backend.interface import Backend, Capabilities


class TensorFlowBackend(Backend):
    name = "tensorflow"
    capabilities = Capabilities(gradients=True, compiled_calls=True, fit_loops=True, native_distribution=True,
                                virtual_cpu_devices=True)

    def value_and_grad(self, fn, argnums, has_aux):
        return self.module("gradients").value_and_grad(fn, argnums, has_aux)

    def jit(self, fn, variables, jit_compile=False):
        return self.module("gradients").jit(fn, variables, jit_compile=jit_compile)

    def no_grad(self):  # TensorFlow records nothing outside a GradientTape
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

    def data_parallel(self, devices=None, tpu=None):
        return self.module("distribute").data_parallel(devices, tpu=tpu)

    def multi_worker(self, cluster=None):
        return self.module("distribute").multi_worker(cluster)


BACKEND = TensorFlowBackend()
