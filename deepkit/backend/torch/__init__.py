"""deepkit's PyTorch backend: ``torch.autograd`` gradients and device queries.

Its modules import PyTorch; this package itself imports nothing. :mod:`deepkit.backend` picks its modules
when ``keras.backend.backend() == "torch"``:

- ``gradients``: ``value_and_grad`` and ``jit`` (eager: Keras' torch backend has no compiled calls here);
- ``device``: ``accelerator_kind``, ``free_memory``.

The fast fit path has no compiled loops on torch (``fit`` falls back to Keras' own loop).
"""
