"""Backend-specific code: the only package of deepkit that imports tensorflow, jax or torch.

Everything else in deepkit computes with ``keras.ops``. What Keras 3 does not offer as an op
lives here, one small function per backend, chosen by ``keras.backend.backend()``:

- :mod:`deepkit.backend.gradients`: ``value_and_grad`` (tf.GradientTape / jax.value_and_grad /
  torch.autograd) and ``jit`` (jax.jit over Keras variables passed as arguments through
  ``keras.StatelessScope``, ``tf.function``, plain eager torch), used by deepkit.viz.
- :mod:`deepkit.backend.keras_internals`: the one module that names Keras internals (``keras.src``); it
  checks the Keras version once against the supported range.
- :mod:`deepkit.backend.variables`: weights created with their shapes only and allocated later (a
  model is sized before allocation), and the free memory of a jax/torch accelerator.

Submodules are imported lazily so that ``import deepkit`` does not pay for them.
"""

import importlib

__all__ = ["gradients", "variables"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
