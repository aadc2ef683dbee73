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

from deepkit.backend.interface import Backend, Capabilities, ModuleDevice, ModuleGradients, ModuleLoops


class TensorFlowBackend(ModuleGradients, ModuleLoops, ModuleDevice, Backend):
    name = "tensorflow"
    capabilities = Capabilities(gradients=True, compiled_calls=True, fit_loops=True, native_distribution=True,
                                virtual_cpu_devices=True)

    def no_grad(self):  # TensorFlow records nothing outside a GradientTape
        return contextlib.nullcontext()

    def data_parallel(self, devices=None, tpu=None):
        return self.module("distribute").data_parallel(devices, tpu=tpu)

    def multi_worker(self, cluster=None):
        return self.module("distribute").multi_worker(cluster)


BACKEND = TensorFlowBackend()
