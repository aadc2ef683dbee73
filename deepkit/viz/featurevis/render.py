"""Activation maximization: the one driver of feature visualization (Lucid's ``render_vis``).

:func:`render` optimizes a parameterized batch of images (:mod:`.param`) so that an
:class:`~deepkit.viz.featurevis.objectives.Objective` is maximal for randomly transformed
copies of them (:mod:`.transform`). Each step (parameters to images, transforms, forward
pass, gradient, Adam update) is one compiled call (``jax.jit`` / ``tf.function``), and a
whole layer's channels are optimized together as one batch.
"""

import numbers
import warnings

import keras
import numpy as np
from keras import ops

from deepkit.backend import gradients
from deepkit.viz.featurevis import objectives as objectives_lib
from deepkit.viz.featurevis import param as param_lib
from deepkit.viz.featurevis import transform as transform_lib
from deepkit.viz import graph as graph_lib
from deepkit.viz.engine import engine

__all__ = ["render", "evaluate", "default_param", "DeadObjectiveWarning"]


class DeadObjectiveWarning(UserWarning):
    """Warned by :func:`render` when the objective's gradient was zero at every step for some images.

    Those images never moved from their starting noise: the unit is dead for them (a ReLU never
    active on any input the optimization reached, a channel whose weights are zero, ...). The
    message names the objective and the images.

    Example:
        >>> issubclass(DeadObjectiveWarning, UserWarning)
        True
    """


def _ref_key(ref):
    if isinstance(ref, objectives_lib.pre_activation):
        return ("pre", _ref_key(ref.layer))
    if isinstance(ref, (str, numbers.Integral)):
        return ref
    return ("object", id(ref))


def activation_model(model, refs):
    """Model from the input to ``[activations of refs..., logits]`` and the key -> index map.

    Shared by :func:`render`, :func:`evaluate` and :func:`deepkit.viz.dream.deep_dream`.

    Args:
        model: A functional or Sequential model with one input.
        refs: The layer references an objective reads (``objective.layers``).

    Returns:
        ``(keras.Model, index)``: ``index`` maps each reference's key to its output position
        (read the outputs with :func:`reader`).
    """
    graph = graph_lib.graph_of(model)
    if len(graph.inputs) != 1:
        raise ValueError(
            f"Feature visualization needs a model with one image input; model '{model.name}' "
            f"has {len(graph.inputs)} inputs."
        )
    layer_refs = [r for r in refs if r not in (objectives_lib.INPUT, objectives_lib.LOGITS)]
    index, unique = {}, []
    for ref in layer_refs:
        key = _ref_key(ref)
        if key in index:
            continue
        index[key] = len(unique)
        if isinstance(ref, objectives_lib.pre_activation):
            unique.append(graph_lib.resolve_with_chain(model, ref.layer) + (True,))
        else:
            unique.append(graph_lib.resolve_with_chain(model, ref))
    outputs = graph_lib.symbolic_outputs(graph, unique) if unique else []
    needs_logits = objectives_lib.LOGITS in refs
    if needs_logits:
        lm = engine(model).logits
        index[_ref_key(objectives_lib.LOGITS)] = len(outputs)
        outputs = list(outputs) + [graph_lib.graph_of(lm).outputs[0]]
    if not outputs:
        outputs = [graph.outputs[0]]
    return keras.Model(graph.inputs[0], list(outputs), name=f"{model.name}_featurevis"), index


def reader(index, outs, image):
    """The ``T(ref)`` function an objective reads activations with.

    Args:
        index: The key -> position map of :func:`activation_model`.
        outs: The activation model's outputs (a list).
        image: The input images (what ``T("input")`` returns).

    Returns:
        ``T(ref) -> tensor``; raises ``ValueError`` for a layer the objective did not declare.
    """

    def T(ref):
        if isinstance(ref, str) and ref == objectives_lib.INPUT:
            return image
        key = _ref_key(ref)
        if key not in index:
            raise ValueError(
                f"Objective reads layer {ref!r}, which it did not declare in its layers. "
                f"Received: layer={ref!r}"
            )
        return outs[index[key]]

    return T


def image_shape(model):
    """The fixed ``(height, width, channels)`` input of ``model``, or a ValueError.

    Args:
        model: A functional or Sequential model.

    Returns:
        A tuple of three ints.

    Example:
        >>> import keras
        >>> image_shape(keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3)]))
        (8, 8, 1)
    """
    shape = tuple(graph_lib.graph_of(model).inputs[0].shape[1:])
    if len(shape) != 3 or any(s is None for s in shape):
        raise ValueError(
            f"Model '{model.name}' has input shape {shape}; feature visualization needs fixed "
            "(height, width, channels) images. Pass param=featurevis.param.image(h, w, c, ...) "
            "to choose a size."
        )
    return shape


def default_param(model, batch=1, *, fft=True, decorrelate="auto", value_range=None, seed=0):
    """The parameterization :func:`render` uses for ``model`` when given none.

    :func:`~deepkit.viz.featurevis.param.image` at the model's input size: for an RGB model
    (3 channels) Fourier 1/f images in decorrelated colour, for a grayscale model (1
    channel) one Fourier 1/f spectrum per image and no colour decorrelation, for other
    channel counts independent channels.

    Args:
        model: A functional or Sequential model with a fixed ``(height, width, channels)``
            image input.
        batch: Number of images.
        fft: Fourier (1/f) parameterization; ``False`` for pixels.
        decorrelate: ``"auto"`` (RGB only), ``True`` (3 channels required) or ``False``.
        value_range: ``(low, high)`` of the model's input values; default its input range
            (:func:`deepkit.models.preprocessing.input_range`: ``(0, 255)`` for a model that takes
            raw pixels, it starts with ``Rescaling(1/255)``, else ``(0, 1)``).
        seed: Seed of the initialization.

    Returns:
        An :class:`~deepkit.viz.featurevis.param.ImageParam`.

    Example:
        >>> import keras
        >>> gray = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3)])
        >>> p = default_param(gray, batch=2)
        >>> p.shape, p.fft, p.decorrelated
        ((2, 8, 8, 1), True, False)
    """
    from deepkit.models.preprocessing import check_value_range

    h, w, c = image_shape(model)
    value_range = check_value_range(model, value_range, "default_param")
    return param_lib.image(h, w, c, batch, fft=fft, decorrelate=decorrelate,
                           value_range=value_range, seed=seed)


def render(model, objective, *, steps=256, learning_rate=0.05, param=None, transforms="standard",
           batch_size=None, value_range=None, fft=True, decorrelate="auto", seed=0,
           return_values=False, progress=False, jit=True):
    """Optimize images that maximize ``objective`` (feature visualization).

    Args:
        model: A functional or Sequential ``keras.Model`` with an image input.
        objective: An :class:`~deepkit.viz.featurevis.objectives.Objective` (e.g.
            ``objectives.channel("conv2", range(16))`` for 16 channels at once), or a
            ``"layer:channel"`` string.
        steps: Optimization steps (Adam).
        learning_rate: Adam learning rate (Lucid uses 0.05).
        param: An :class:`~deepkit.viz.featurevis.param.ImageParam`; default
            :func:`default_param` (``param.image(h, w, c, batch, fft=fft,
            decorrelate=decorrelate, value_range=value_range, seed=seed)`` at the model's
            input size: decorrelated colour for RGB models, one channel without colour
            mixing for grayscale ones).
        transforms: ``"standard"`` (Lucid's list scaled to the image size), ``None`` (no
            transformation), a list of transforms or a
            :class:`~deepkit.viz.featurevis.transform.Compose`.
        batch_size: Number of images when the objective does not fix it (default 1).
        value_range: ``(low, high)`` of the model's input values (used by the default param);
            default ``(0, 255)`` for a model that rescales raw pixels itself (it starts with
            ``Rescaling(1/255)``: the images are then in raw pixel space), else ``(0, 1)``.
        fft: Fourier (1/f) parameterization for the default param.
        decorrelate: Colour decorrelation of the default param: ``"auto"`` (RGB models
            only), ``True`` (3 channels required) or ``False``.
        seed: Seed of the initialization and of the random transforms.
        return_values: Also return the objective value of each final image (without
            transforms).
        progress: Show a progress bar.
        jit: Compile the step (``False`` for eager debugging).

    Returns:
        float32 numpy array ``(batch, height, width, channels)`` of images in the value
        range; with ``return_values``, ``(images, values)`` with ``values`` of shape
        ``(batch,)``.

    Raises:
        ValueError: For a batch size that contradicts the objective or param, or a model
            without a fixed image input.

    Example:
        >>> import keras
        >>> from deepkit.viz.featurevis import objectives
        >>> model = keras.Sequential([keras.Input((8, 8, 1)),
        ...                           keras.layers.Conv2D(4, 3, name="conv")])
        >>> imgs = render(model, objectives.channel("conv", range(4)), steps=3)
        >>> imgs.shape
        (4, 8, 8, 1)
    """
    objective = objectives_lib.as_objective(objective)
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"render: steps must be a positive integer. Received: steps={steps!r}")
    if param is None:
        batch = objective.batch or batch_size or 1
        if batch_size is not None and objective.batch is not None and batch_size != objective.batch:
            raise ValueError(
                f"render: objective {objective.name} needs a batch of {objective.batch}. "
                f"Received: batch_size={batch_size}"
            )
        param = default_param(model, batch, fft=fft, decorrelate=decorrelate,
                              value_range=value_range, seed=seed)
    batch, h, w, c = param.shape
    if objective.batch is not None and objective.batch != batch:
        raise ValueError(
            f"render: objective {objective.name} needs a batch of {objective.batch}; the param "
            f"has {batch} images. Received: param.shape={param.shape}"
        )
    if transforms == "standard":
        transforms = transform_lib.standard_transforms(h, w)
    elif transforms is None:
        transforms = transform_lib.compose([])
    elif not isinstance(transforms, transform_lib.Compose):
        transforms = transform_lib.compose(transforms)
    fill = transforms.fill
    fill = float(sum(param.value_range) / 2.0) if fill is None else float(fill)

    act_model, index = activation_model(model, objective.layers)
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, float(learning_rate)

    def loss(p, sample):
        image = param.to_image(p)
        seen = transforms.apply(image, sample, fill)
        outs = act_model(seen, training=False)
        outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
        values = objective(reader(index, outs, image), batch)
        return -ops.sum(values), values

    value_and_grad = gradients.value_and_grad(loss, argnums=0, has_aux=True)

    def step(p, m, v, t, sample):
        (_, values), g = value_and_grad(p, sample)
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * g * g
        m_hat = m / (1.0 - ops.power(b1, t))
        v_hat = v / (1.0 - ops.power(b2, t))
        p = p - lr * m_hat / (ops.sqrt(v_hat) + eps)
        return p, m, v, values

    step = gradients.jit(step, models=[act_model], enabled=jit)
    rng = np.random.default_rng(seed)
    p = ops.convert_to_tensor(param.init)
    m = ops.zeros_like(p)
    v = ops.zeros_like(p)
    bar = keras.utils.Progbar(steps, unit_name="step") if progress else None
    for i in range(steps):
        sample = transforms.sample(rng, batch, h, w) if len(transforms) else np.zeros((batch, 8), "float32")
        p, m, v, values = step(p, m, v, np.asarray(i + 1, "float32"), sample)
        if bar is not None:
            bar.update(i + 1, values=[("objective", float(np.mean(gradients.to_numpy(values))))])
    images = param.images(gradients.to_numpy(p))
    _warn_if_unmoved(objective, param.images(), images, steps)
    if return_values:
        return images, evaluate(model, objective, images)
    return images


def _warn_if_unmoved(objective, start, images, steps):
    """Warn (:class:`DeadObjectiveWarning`) for the images equal to their start.

    Adam moves a parameter unless its gradient was exactly zero at every step, so an image equal to
    its start saw no gradient at all: its objective is dead there and the image is the starting noise.
    """
    unmoved = np.all((np.asarray(images) == np.asarray(start)).reshape(len(images), -1), axis=1)
    if unmoved.any():
        which = np.flatnonzero(unmoved).tolist()
        warnings.warn(
            f"render: the objective {objective.name} had a zero gradient at every one of the {steps} steps for "
            f"image(s) {which} of {len(images)}: the unit is dead for them (e.g. a ReLU never active), and "
            "those images are their starting noise, not a visualization. Try another unit, pre_activation(), "
            "or a different start.",
            DeadObjectiveWarning, stacklevel=3)


def evaluate(model, objective, images, batch_size=None):
    """Value of ``objective`` for each image (no transforms), e.g. for real inputs.

    Args:
        model: The model the objective refers to.
        objective: An :class:`~deepkit.viz.featurevis.objectives.Objective` or string.
        images: ``(N, H, W, C)`` array in the model's input range.
        batch_size: Images per call; default all at once if the objective fixes no batch
            size, else the objective's batch size.

    Returns:
        float32 numpy array ``(N,)``.

    Example:
        >>> import numpy as np, keras
        >>> from deepkit.viz.featurevis import objectives
        >>> model = keras.Sequential([keras.Input((4, 4, 1)),
        ...                           keras.layers.Conv2D(2, 1, kernel_initializer="ones",
        ...                                               name="c")])
        >>> evaluate(model, objectives.channel("c", 0), np.ones((3, 4, 4, 1))).tolist()
        [1.0, 1.0, 1.0]
    """
    objective = objectives_lib.as_objective(objective)
    x = np.asarray(images, "float32")
    act_model, index = activation_model(model, objective.layers)
    n = len(x)
    if objective.batch is not None:
        if n % objective.batch:
            raise ValueError(
                f"evaluate: objective {objective.name} works on batches of {objective.batch}. "
                f"Received: {n} images"
            )
        batch_size = objective.batch
    batch_size = batch_size or max(n, 1)
    values = []
    for start in range(0, n, batch_size):
        chunk = x[start : start + batch_size]
        outs = act_model(ops.convert_to_tensor(chunk), training=False)
        outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
        values.append(
            gradients.to_numpy(objective(reader(index, outs, ops.convert_to_tensor(chunk)), len(chunk)))
        )
    return np.concatenate(values).astype("float32")
