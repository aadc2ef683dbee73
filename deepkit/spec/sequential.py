"""The former home of ``deepkit.Sequential``; it now lives in :mod:`deepkit.core.sequential`
(and ``Block`` in :mod:`deepkit.spec.block`).

Kept so that ``from deepkit.spec.sequential import Sequential`` goes on working, and pickles made
before the move load. The names resolve on first use, so the spec language does not import the models
when it is imported.

Example:
    >>> import deepkit, deepkit.spec.sequential
    >>> deepkit.spec.sequential.Sequential is deepkit.Sequential
    True
"""

import importlib

_MOVED = {"Sequential": "deepkit.core.sequential", "Block": "deepkit.spec.block"}

__all__ = sorted(_MOVED)


def __getattr__(name):
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
