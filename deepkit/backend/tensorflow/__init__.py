"""deepkit's TensorFlow backend: ``tf.GradientTape`` gradients, ``tf.function`` loops, ``tf.distribute``.

Its modules import TensorFlow; this package itself imports nothing, so that listing it (documentation
tools, ``pkgutil``) does not start TensorFlow. :mod:`deepkit.backend` picks its modules when
``keras.backend.backend() == "tensorflow"``:

- ``gradients``: ``value_and_grad`` and ``jit``;
- ``loops``: the fast fit path's compiled loops (``make_fit_loop``, ``fit_loop_unsupported``);
- ``device``: ``accelerator_kind``, ``free_memory``, ``virtual_cpu_devices``;
- ``distribute``: ``data_parallel`` and ``multi_worker`` over ``tf.distribute``.
"""
