"""Adversarial examples and fooling images: what a network's decisions are not.

- Szegedy et al. 2014 ("Intriguing properties of neural networks"): imperceptibly small
  perturbations change a prediction. :func:`fgsm` (Goodfellow et al. 2015, one signed
  gradient step) and :func:`iterative_fgsm` (Kurakin et al. 2017 / Madry et al. 2018:
  several steps projected back into the ``epsilon`` box, optionally targeted) find them.
- Nguyen et al. 2015 ("Deep neural networks are easily fooled"): images unrecognizable to
  humans that the network classifies with near certainty. :func:`fooling_images` finds them
  by gradient ascent on the log-probability of a class, starting from noise.

All functions are batched, compiled, and work on every Keras backend. Images are in the model's
input range (:func:`deepkit.models.preprocessing.input_range`: raw 0-255 pixels for a model that starts
with ``Rescaling(1/255)``, else [0, 1]) unless ``value_range`` says otherwise, and ``epsilon`` and
``step_size`` are fractions of that range (``epsilon=8/255`` is 8 grey levels either way).
"""

import numpy as np
from keras import ops

from deepkit.backend import gradients
from deepkit.models.preprocessing import check_value_range
from deepkit.probabilities import predict_proba
from deepkit.viz.engine import check_batch_size, engine

__all__ = ["fgsm", "iterative_fgsm", "fooling_images"]


def _ce_grad_fn(eng):
    lm = eng.logits

    def build():
        def loss(x, onehot):
            logits = lm(x, training=False)
            if logits.shape[-1] == 1:
                y = onehot[:, :1]
                per = -(y * ops.log_sigmoid(logits) + (1.0 - y) * ops.log_sigmoid(-logits))[:, 0]
            else:
                per = -ops.sum(onehot * ops.log_softmax(logits, axis=-1), axis=-1)
            return ops.sum(per), logits

        vg = gradients.value_and_grad(loss, argnums=0, has_aux=True)

        def step(x, onehot):
            (_, logits), g = vg(x, onehot)
            return g, logits

        return gradients.jit(step, models=[lm])

    return eng.compiled("ce_grad", build)


def _check_fraction(value, name, where):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{where}: {name} is a fraction of the input range (high - low), between 0 and 1 "
                         f"(8/255 = 0.031 for 8 grey levels). Received: {name}={value!r}")
    return float(value)


def fgsm(model, images, labels=None, *, epsilon=0.03, targeted=False, value_range=None,
         batch_size=64):
    """Fast gradient sign method (Goodfellow, Shlens & Szegedy 2015).

    ``x + epsilon * (high - low) * sign(grad_x loss(x, label))`` (or minus, towards ``labels``,
    when ``targeted``), clipped to ``value_range``.

    Args:
        model: A classifier.
        images: ``(N, ...)`` array in ``value_range`` (uint8 pixels are fine for a model that takes them).
        labels: True labels to move away from (default: the predicted classes), or target
            classes when ``targeted``. Int or one int per image.
        epsilon: L-infinity size of the perturbation, as a fraction of ``high - low`` (0 to 1).
        targeted: Move towards ``labels`` instead of away from them.
        value_range: ``(low, high)`` of the images, which the adversarial images are clipped to;
            default the model's input range (:func:`deepkit.models.preprocessing.input_range`).
        batch_size: Images per compiled call.

    Returns:
        float32 array of adversarial images in ``value_range``, same shape as ``images``.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        >>> x = np.full((3, 4), 0.5, "float32")
        >>> adv = fgsm(model, x, epsilon=0.1)
        >>> float(np.abs(adv - x).max()) <= 0.1 + 1e-6
        True
    """
    return iterative_fgsm(model, images, labels, epsilon=epsilon, step_size=epsilon, steps=1,
                          targeted=targeted, value_range=value_range, batch_size=batch_size,
                          _where="fgsm")


def iterative_fgsm(model, images, labels=None, *, epsilon=0.03, step_size=None, steps=10,
                   targeted=False, random_start=False, value_range=None, batch_size=64,
                   seed=0, _where="iterative_fgsm"):
    """Iterative FGSM / projected gradient descent (Kurakin et al. 2017; Madry et al. 2018).

    ``steps`` signed-gradient steps of ``step_size``, each followed by projection onto the
    L-infinity ball of radius ``epsilon`` around the image and clipping to ``value_range``.

    Args:
        model: A classifier.
        images: ``(N, ...)`` array in ``value_range``.
        labels: Labels to move away from (default: predicted), or targets when ``targeted``.
        epsilon: L-infinity radius, as a fraction of ``high - low`` (0 to 1).
        step_size: Size of each step, as a fraction of ``high - low``; default ``2.5 * epsilon / steps``.
        steps: Number of steps.
        targeted: Move towards ``labels``.
        random_start: Start from a uniform random point of the ball (PGD).
        value_range: ``(low, high)`` of valid inputs; default the model's input range
            (:func:`deepkit.models.preprocessing.input_range`).
        batch_size: Images per compiled call.
        seed: Seed of the random start.

    Returns:
        float32 array of adversarial images, same shape as ``images``.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        >>> adv = iterative_fgsm(model, np.full((2, 4), 0.5), epsilon=0.05, steps=3)
        >>> adv.shape
        (2, 4)
    """
    eng = engine(model)
    x = eng.images(images, _where)
    batch_size = check_batch_size(batch_size, _where)
    lo, hi = check_value_range(model, value_range, _where, images=x)
    epsilon = _check_fraction(epsilon, "epsilon", _where)
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"{_where}: steps must be a positive integer. Received: steps={steps!r}")
    step_size = 2.5 * epsilon / steps if step_size is None else _check_fraction(step_size, "step_size", _where)
    epsilon, step_size = epsilon * (hi - lo), step_size * (hi - lo)  # in input units from here on
    onehot = eng.resolved_targets(x, labels, batch_size, _where)
    sign = -1.0 if targeted else 1.0
    fn = _ce_grad_fn(eng)
    adv = x.copy()
    if random_start:
        adv = np.clip(adv + np.random.default_rng(seed).uniform(-epsilon, epsilon, x.shape), lo, hi)
        adv = adv.astype("float32")
    for _ in range(steps):
        g, _ = eng.run(fn, [adv, onehot], batch_size)
        adv = adv + sign * step_size * np.sign(g)
        adv = np.clip(np.clip(adv, x - epsilon, x + epsilon), lo, hi).astype("float32")
    return adv


def fooling_images(model, class_index, *, steps=200, learning_rate=0.05, value_range=None,
                   start=None, seed=0, return_probabilities=True, jit=True):
    """Images the model classifies with near certainty but that look like nothing
    (Nguyen, Yosinski & Clune 2015, gradient-ascent variant).

    Maximizes the log-probability of ``class_index`` over raw pixels (no smoothness prior, no
    transforms: the point is what the classifier accepts, not a pretty picture), starting
    from random noise.

    Args:
        model: A classifier with a fixed image input.
        class_index: One class (one image) or a sequence (one image per class).
        steps: Adam steps.
        learning_rate: Adam learning rate on the sigmoid-parameterized pixels.
        value_range: ``(low, high)`` of the model's inputs; default its input range
            (:func:`deepkit.models.preprocessing.input_range`).
        start: Optional start images ``(batch, H, W, C)`` in ``value_range`` (e.g. real images
            of another class); default uniform noise.
        seed: Seed of the noise.
        return_probabilities: Also return the probability of the target class per image.
        jit: Compile the optimization step.

    Returns:
        float32 images ``(batch, H, W, C)``, and with ``return_probabilities`` the
        ``(batch,)`` target-class probabilities: ``(images, probabilities)``.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(3)])
        >>> imgs, p = fooling_images(model, [0, 2], steps=5)
        >>> imgs.shape, p.shape
        ((2, 4, 4, 1), (2,))
    """
    from deepkit.viz.featurevis import objectives, param
    from deepkit.viz.featurevis.render import image_shape, render

    lo, hi = check_value_range(model, value_range, "fooling_images", images=start)
    single = np.ndim(class_index) == 0
    classes = [int(class_index)] if single else [int(c) for c in class_index]
    num_classes = engine(model).num_classes
    for c in classes:
        if not 0 <= c < num_classes:
            raise ValueError(
                f"fooling_images: class_index must be in 0..{num_classes - 1}. Received: class_index={c}"
            )
    h, w, ch = image_shape(model)
    if start is None:
        start = np.random.default_rng(seed).uniform(lo, hi, (len(classes), h, w, ch))
    start = np.asarray(start, "float32")
    if start.shape != (len(classes), h, w, ch):
        raise ValueError(
            f"fooling_images: start must have shape {(len(classes), h, w, ch)}. "
            f"Received: start.shape={start.shape}"
        )
    p = param.image(h, w, ch, len(classes), fft=False, decorrelate=False, value_range=(lo, hi),
                    init=start)
    images = render(model, objectives.class_probability(classes), steps=steps,
                    learning_rate=learning_rate, param=p, transforms=None, seed=seed, jit=jit)
    if not return_probabilities:
        return images
    probs = predict_proba(model, images)[np.arange(len(classes)), classes]
    return images, probs.astype("float32")
