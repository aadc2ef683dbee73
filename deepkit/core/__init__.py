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


def _offer_in_spec():
    """Offer the models in ``deepkit.spec`` too, and its former modules ``deepkit.spec.model``/``.sequential``.

    The spec language imports nothing from here; these names are set from this side, so ``from deepkit.spec
    import from_spec`` and pickles naming ``deepkit.spec.sequential.Sequential`` keep working once deepkit is
    imported.
    """
    import sys

    import deepkit.spec
    from deepkit.core import model as model_module
    from deepkit.core import sequential as sequential_module

    for name, value in (("Model", Model), ("Sequential", Sequential), ("from_spec", from_spec),
                        ("to_spec", to_spec), ("build_document", build_document)):
        setattr(deepkit.spec, name, value)
    for former, module in (("model", model_module), ("sequential", sequential_module)):
        sys.modules.setdefault(f"deepkit.spec.{former}", module)
        setattr(deepkit.spec, former, module)


_offer_in_spec()

__all__ = ["FunctionalModel", "Model", "Sequential", "SpecModelMixin", "build_document", "from_spec", "to_spec"]
