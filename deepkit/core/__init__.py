"""deepkit's models: ``deepkit.Model`` and ``deepkit.Sequential``, Keras models that keep their spec.

The spec language (:mod:`deepkit.spec`) builds layers and graphs from data; the models here hold them and
add what a user trains with: ``to_spec()``, a summary with multiply-adds, data checks and the fast fit
path (:mod:`deepkit.train`) in ``fit``.

Example:
    >>> from deepkit.core import Sequential, from_spec
    >>> from_spec([{"Dense": 2}], input_shape=(3,)).count_params(), Sequential([{"Dense": 2}], input_shape=(3,)).count_params()
    (8, 8)
"""

from deepkit.core import saving
from deepkit.core.model import FunctionalModel, Model, SpecModelMixin, build_document, from_spec, to_spec
from deepkit.core.sequential import Sequential

saving.register({"Model": Model, "Sequential": Sequential})  # the names deepkit's .keras files use (as Keras')


__all__ = ["FunctionalModel", "Model", "Sequential", "SpecModelMixin", "build_document", "from_spec", "to_spec"]
