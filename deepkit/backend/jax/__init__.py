"""deepkit's JAX backend: ``jax.value_and_grad``, ``jax.jit`` + ``lax.scan`` loops over Keras' stateless steps.

Its modules import JAX; this package itself imports nothing, so that listing it does not start JAX.
:mod:`deepkit.backend` picks its modules when ``keras.backend.backend() == "jax"``:

- ``gradients``: ``value_and_grad`` and ``jit``;
- ``loops``: the fast fit path's compiled loops (``make_fit_loop``, ``fit_loop_unsupported``);
- ``device``: ``accelerator_kind``, ``free_memory``, ``virtual_cpu_devices``.

Data parallelism on JAX goes through ``keras.distribution`` (:mod:`deepkit.backend.distribution`).
"""
