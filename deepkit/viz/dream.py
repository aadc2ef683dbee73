"""DeepDream (Mordvintsev, Olah & Tyka 2015): amplify what a layer sees in a real image.

Gradient ascent on the input image itself (not on a fresh parameterization as in
:mod:`deepkit.viz.featurevis`) for an objective such as the mean squared activation of
some layers, with normalized steps and random jitter, optionally over several octaves
(scales) when the model accepts any image size.
"""

import numbers

import numpy as np
from keras import ops

from deepkit.backend import gradients
from deepkit.models.preprocessing import check_value_range
from deepkit.viz.featurevis import objectives as objectives_lib
from deepkit.viz.featurevis import transform as transform_lib
from deepkit.viz.featurevis.render import activation_model, reader
from deepkit.viz.graph import graph_of

__all__ = ["deep_dream"]


def _dream_objective(layers):
    if isinstance(layers, objectives_lib.Objective):
        return layers
    if isinstance(layers, dict):
        items = list(layers.items())
    elif isinstance(layers, (list, tuple)):
        items = [(layer, 1.0) for layer in layers]
    else:
        items = [(layers, 1.0)]
    if not items:
        raise ValueError(f"deep_dream needs at least one layer. Received: layers={layers!r}")
    total = None
    for layer, weight in items:
        if not isinstance(weight, numbers.Number):
            raise TypeError(f"deep_dream: layer weights must be numbers. Received: {layer!r}: {weight!r}")
        term = float(weight) * objectives_lib.layer(layer)
        total = term if total is None else total + term
    return total


def deep_dream(model, images, layers, *, steps=50, step_size=0.01, octaves=1, octave_scale=1.4,
               jitter=None, value_range=None, batch_size=16, seed=0, jit=True):
    """Run DeepDream on a batch of images.

    Each step moves every image by ``step_size * (high - low)`` along its objective gradient
    divided by the gradient's standard deviation (as in the TensorFlow tutorial), under a
    random jitter (a reflected translation, so no seams), and clips to ``value_range``.

    Args:
        model: A functional or Sequential ``keras.Model`` with an image input ``(H, W, C)``.
        images: ``(N, H, W, C)`` array (or one ``(H, W, C)`` image) in ``value_range``.
        layers: A layer reference, a list of them (equal weights), a ``{layer: weight}``
            dict (mean squared activation, Lucid's ``deepdream`` objective), or any
            :class:`~deepkit.viz.featurevis.objectives.Objective`.
        steps: Gradient steps per octave.
        step_size: Step as a fraction of the value range.
        octaves: Number of scales, from ``octave_scale ** -(octaves - 1)`` up to the full
            size. More than 1 needs a model whose input height and width are ``None``.
        octave_scale: Ratio between successive octaves.
        jitter: Maximum random shift in pixels per step; default ``max(1, size // 16)``.
        value_range: ``(low, high)`` of the images; default the model's input range
            (:func:`deepkit.models.preprocessing.input_range`: raw 0-255 pixels for a model that
            starts with ``Rescaling(1/255)``).
        batch_size: Images per compiled call.
        seed: Seed of the jitter.
        jit: Compile the step.

    Returns:
        float32 array of dreamed images, same shape as ``images``.

    Raises:
        ValueError: For a model without an image input, ``octaves > 1`` with a fixed-size model
            input, or bad images.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((8, 8, 1)),
        ...                           keras.layers.Conv2D(4, 3, activation="relu", name="c")])
        >>> x = np.random.default_rng(0).random((2, 8, 8, 1)).astype("float32")
        >>> deep_dream(model, x, "c", steps=3).shape
        (2, 8, 8, 1)
    """
    where = "deep_dream"
    objective = _dream_objective(layers)
    in_shape = tuple(graph_of(model).inputs[0].shape[1:])
    if len(in_shape) != 3:
        raise ValueError(
            f"{where}: DeepDream shifts and rescales images, so it needs a model with an image input "
            f"(height, width, channels); model '{model.name}' takes inputs of shape {in_shape}. "
            f"Received: images.shape={np.shape(images)}")
    x = np.asarray(images, "float32")
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"{where}: images must be (N, H, W, C). Received: images.shape={np.shape(images)}")
    lo, hi = check_value_range(model, value_range, where, images=x)
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"{where}: steps must be a positive integer. Received: steps={steps!r}")
    if not isinstance(octaves, (int, np.integer)) or octaves < 1:
        raise ValueError(f"{where}: octaves must be a positive integer. Received: octaves={octaves!r}")
    n, H, W, C = x.shape
    fixed = in_shape[0] is not None or in_shape[1] is not None
    if octaves > 1 and fixed:
        raise ValueError(
            f"{where}: octaves > 1 resizes the image, but model '{model.name}' has a fixed input "
            f"size {in_shape}. Use octaves=1 or a model built with Input((None, None, {C})). "
            f"Received: octaves={octaves}"
        )
    if any(want is not None and want != got for want, got in zip(in_shape, (H, W, C))):
        raise ValueError(
            f"{where}: images must be (N,) + {in_shape} for model '{model.name}'. "
            f"Received: images.shape={np.shape(images)}"
        )
    act_model, index = activation_model(model, objective.layers)
    span = hi - lo

    def objective_of(img, sample):
        # The jitter is inside the differentiated function, so the gradient is already
        # with respect to the un-shifted image.
        seen = transform_lib.resample(img, sample, "reflect")
        values = objective(reader(index, _as_list(act_model(seen, training=False)), seen), seen.shape[0])
        return ops.sum(values), values

    vg = gradients.value_and_grad(objective_of, argnums=0, has_aux=True)

    def step(img, sample):
        (_, values), g = vg(img, sample)
        std = ops.std(g, axis=(1, 2, 3), keepdims=True)
        img = img + (step_size * span) * g / (std + 1e-8)
        return ops.clip(img, lo, hi), values

    step = gradients.jit(step, models=[act_model], enabled=jit)
    rng = np.random.default_rng(seed)
    out = np.empty_like(x)
    for start in range(0, n, batch_size):
        chunk = x[start : start + batch_size]
        b = len(chunk)
        img = chunk
        for o in range(octaves):
            scale = octave_scale ** (o - (octaves - 1))
            size = (max(int(round(H * scale)), 1), max(int(round(W * scale)), 1))
            img = ops.convert_to_tensor(img)
            if size != tuple(img.shape[1:3]):
                img = ops.image.resize(img, size, interpolation="bilinear")
            d = jitter if jitter is not None else max(1, min(size) // 16)
            for _ in range(steps):
                shift = rng.integers(-d, d + 1, size=(b, 2)).astype("float32")
                sample = np.zeros((b, 8), "float32")
                sample[:, 0] = sample[:, 4] = 1.0
                sample[:, 2], sample[:, 5] = shift[:, 0], shift[:, 1]
                img, _ = step(img, sample)
        if tuple(img.shape[1:3]) != (H, W):
            img = ops.image.resize(img, (H, W), interpolation="bilinear")
        out[start : start + b] = gradients.to_numpy(img)
    return out


def _as_list(outs):
    return list(outs) if isinstance(outs, (list, tuple)) else [outs]
