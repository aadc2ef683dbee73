"""deepkit's models: ``deepkit.Model`` and ``deepkit.Sequential``, Keras models that keep their spec.

The spec language (:mod:`deepkit.spec`) builds layers and graphs from data; the models here hold them and
add what a user trains with: ``to_spec()``, a summary with multiply-adds, data checks and the fast fit
path (:mod:`deepkit.train`) in ``fit``.

Example:
    >>> from deepkit.core import Sequential, from_spec
    >>> from_spec([{"Dense": 2}], input_shape=(3,)).count_params(), Sequential([{"Dense": 2}], input_shape=(3,)).count_params()
    (8, 8)
"""

from deepkit.core.model import Model, SpecModelMixin, build_document, from_spec, to_spec
from deepkit.core.sequential import Sequential

__all__ = ["Model", "Sequential", "SpecModelMixin", "build_document", "from_spec", "to_spec"]
