"""Feature visualization by activation maximization, after Lucid (Olah et al., Distill 2017).

- :mod:`.objectives`: what to maximize (channel, neuron, layer, class logit, direction) and
  regularizers (total variation, L1/L2, diversity), composable with ``+ - *``.
- :mod:`.param`: how images are parameterized (Fourier 1/f spectrum, decorrelated colour for
  RGB, one channel for grayscale, optional norm bound); :func:`default_param` picks one for
  a model.
- :mod:`.transform`: random jitter / scale / rotation applied at every step for robustness.
- :func:`render`: the optimization loop, compiled, batched over many channels at once.

Example:
    >>> import keras
    >>> from deepkit.viz import featurevis
    >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(6, 3, name="c")])
    >>> featurevis.render(model, featurevis.objectives.channel("c", range(6)), steps=2).shape
    (6, 8, 8, 3)
"""

from deepkit.viz.featurevis import objectives, param, transform
from deepkit.viz.featurevis.render import DeadObjectiveWarning, default_param, evaluate, render

__all__ = ["objectives", "param", "transform", "render", "evaluate", "default_param", "DeadObjectiveWarning"]
