"""Attribution: which input pixels (or feature-map regions) decide a prediction.

Split by family, as the methods are registered (:mod:`.registry`, the one description of
every method: its title, family, display, report defaults; every registered method is
exported here and from :mod:`deepkit.viz` under its name):

- :mod:`.gradient`: saliency (Simonyan et al. 2014), Integrated Gradients (Sundararajan et
  al. 2017), a noise tunnel over either (:func:`noise_tunnel`, as Captum's ``NoiseTunnel``)
  and SmoothGrad (Smilkov et al. 2017), the noise tunnel over saliency;
- :mod:`.cam`: class activation maps (Grad-CAM, Grad-CAM++, Score-CAM);
- :mod:`.perturbation`: occlusion sensitivity (Zeiler & Fergus 2014);
- :mod:`.surrogate`: LIME (Ribeiro et al. 2016) and KernelSHAP (Lundberg & Lee 2017), linear
  surrogates fitted on the scores of images with regions removed;
- :mod:`.metrics`: the evaluation of attributions (deletion / insertion curves, Petsiuk et
  al. 2018; the pointing game; randomised-weight copies for the Adebayo et al. 2018 sanity
  checks; sparseness, faithfulness correlation, max-sensitivity; ROAD, Rong et al. 2022).

Every method takes a batch of images and returns one numpy heatmap per image. The work is
done by the model's :class:`~deepkit.viz.engine.Engine` in chunks of at most
``batch_size`` model evaluations, each chunk a single compiled call (``jax.jit`` /
``tf.function``, see :mod:`deepkit.backend.gradients`) with a fixed shape, so thousands of
images cost one compilation. Compiled functions are cached per model.

The class score differentiated is the pre-softmax logit: when the model ends with a softmax
(or sigmoid), either as a separate layer or as the activation of its last layer, that
activation is skipped (as Simonyan et al. recommend; :func:`logit_model`). Probabilities,
where a method needs them (Score-CAM, occlusion, deletion / insertion), are the softmax of
those logits.

``class_index`` is ``None`` (each image's predicted class), an ``int`` (one class for all)
or a sequence with one class per image.

Example:
    >>> import numpy as np, keras
    >>> from deepkit.viz import attribution
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3),
    ...                           keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
    >>> {name: attribution.get_method(name).function(model, np.random.rand(2, 8, 8, 1)).shape
    ...  for name in ("saliency", "grad_cam")}
    {'saliency': (2, 8, 8), 'grad_cam': (2, 8, 8)}
"""

from deepkit.viz.attribution import registry
from deepkit.viz.attribution.gradient import noise_tunnel
from deepkit.viz.attribution.metrics import (deletion_insertion, faithfulness_correlation, max_sensitivity,
                                             noisy_linear_imputation, pointing_game, randomized_model, road,
                                             sparseness)
from deepkit.viz.attribution.registry import (get_method, list_methods, register, report_methods,
                                              report_options, tunnel_methods)
from deepkit.viz.graph import logit_model

#: Every registered method is exported under its own name (read from the registry).
METHODS = tuple(list_methods())
globals().update({name: get_method(name).function for name in METHODS})

__all__ = [
    "logit_model",
    *METHODS,
    "noise_tunnel",
    "deletion_insertion",
    "pointing_game",
    "randomized_model",
    "sparseness",
    "faithfulness_correlation",
    "max_sensitivity",
    "road",
    "noisy_linear_imputation",
    "list_methods",
    "get_method",
    "register",
    "report_methods",
    "report_options",
    "tunnel_methods",
]


def __getattr__(name):
    # A method registered after this package was imported (a plug-in, a test's dummy).
    if name in registry.list_methods():
        return registry.get_method(name).function
    raise AttributeError(f"module 'deepkit.viz.attribution' has no attribute '{name}'")
