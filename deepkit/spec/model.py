"""The former home of ``deepkit.Model``; it now lives in :mod:`deepkit.core.model`.

Kept so that ``from deepkit.spec.model import Model`` (and the other names it had) goes on working. The
names resolve on first use, so the spec language does not import the models when it is imported.

Example:
    >>> import deepkit, deepkit.spec.model
    >>> deepkit.spec.model.Model is deepkit.Model
    True
"""

import importlib

_MOVED = {
    "Model": "deepkit.core.model", "SpecModelMixin": "deepkit.core.model", "LOAD_HINT": "deepkit.core.model",
    "build_document": "deepkit.core.model", "from_spec": "deepkit.core.model", "to_spec": "deepkit.core.model",
    "format_spec": "deepkit.spec.build",
}

__all__ = sorted(_MOVED)


def __getattr__(name):
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
