"""Class activation maps: Grad-CAM, Grad-CAM++ and Score-CAM.

A convolutional layer's feature maps ``A_k``, weighted per channel and summed,
``relu(sum_k w_k A_k)``, upsampled to the input: the weights are the mean gradient of the
class logit (Grad-CAM, Selvaraju et al. 2017), pixel-weighted gradients (Grad-CAM++,
Chattopadhay et al. 2018) or the class probability of the input masked by each map
(Score-CAM, Wang et al. 2020). The gradient with respect to ``A`` is taken through
:func:`deepkit.viz.graph.intervention_model`, so layers inside nested models work on every
backend. Every method takes ``layer=`` (default: the last layer with a 4-D output).

Example:
    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="c"),
    ...                           keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
    >>> grad_cam(model, np.random.rand(2, 8, 8, 1), layer="c").shape
    (2, 8, 8)
"""

import numpy as np
from keras import ops

from deepkit.backend import gradients
from deepkit.viz import graph
from deepkit.viz.attribution.inputs import channel_axis, positive_int, prepare
from deepkit.viz.attribution.registry import register
from deepkit.viz.engine import pick_target

__all__ = ["grad_cam", "grad_cam_plus_plus", "xgrad_cam", "layer_cam", "hires_cam", "eigen_cam", "score_cam",
           "layer_channel_axis"]


def _resolve_cam_layer(model, layer, where):
    if layer is None:
        layer = graph.last_conv_layer(model)
    target = graph.resolve_layer(model, layer)
    shape = getattr(target.output, "shape", None)
    if shape is None or len(shape) != 4:
        raise ValueError(
            f"{where}: layer '{target.name}' must have a 4-D (batch, height, width, channels) "
            f"output. Received: layer={layer!r} with output shape "
            f"{None if shape is None else tuple(shape)}"
        )
    return graph.layer_path(model, layer)


def layer_channel_axis(model, layer_path):
    """The channel axis of a layer's 4-D output: ``1`` for a channels-first layer, else ``-1``.

    A layer with a ``data_format`` says it; other layers (activations, BatchNormalization...)
    follow the model's layout (:func:`~deepkit.viz.attribution.inputs.channel_axis`).

    Args:
        model: The model.
        layer_path: A layer path (see :func:`deepkit.viz.graph.layer_path`).

    Returns:
        ``-1`` or ``1``.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((1, 6, 6)), keras.layers.Conv2D(
        ...     2, 3, data_format="channels_first", name="c")])
        >>> layer_channel_axis(m, "c")
        1
    """
    fmt = getattr(graph.resolve_layer(model, layer_path), "data_format", None)
    if fmt in ("channels_first", "channels_last"):
        return 1 if fmt == "channels_first" else -1
    return channel_axis(model)


def _upsample(maps, size):
    """``(B, h, w)`` -> ``(B, H, W)`` bilinear (half-pixel centres on every backend)."""
    resized = ops.image.resize(maps[..., None], size, interpolation="bilinear")
    return resized[..., 0]


def _normalize_maps(cam):
    peak = ops.max(cam, axis=(1, 2), keepdims=True)
    return ops.where(peak > 0, cam / ops.where(peak > 0, peak, 1.0), 0.0)


def _combine(kind, act, g):
    """The class map before its ReLU, from feature maps ``act`` and gradients ``g`` ``(B, h, w, K)``."""
    if kind == "grad_cam_plus_plus":
        # Grad-CAM++ (Chattopadhay et al. 2018, eq. 19 with an exponential score):
        # alpha = g^2 / (2 g^2 + sum_ij(A) g^3), w = sum_ij alpha relu(g).
        g2 = g * g
        g3 = g2 * g
        denom = 2.0 * g2 + ops.sum(act, axis=(1, 2), keepdims=True) * g3
        alpha = g2 / ops.where(ops.abs(denom) > 0, denom, 1.0)
        weights = ops.sum(alpha * ops.relu(g), axis=(1, 2))
    elif kind == "xgrad_cam":
        # XGrad-CAM (Fu et al. 2020, eq. 8): w_k = sum_ij (A_k,ij / sum_ab A_k,ab) g_k,ij.
        total = ops.sum(act, axis=(1, 2), keepdims=True)
        weights = ops.sum(act / ops.where(ops.abs(total) > 0, total, 1.0) * g, axis=(1, 2))
    elif kind == "layer_cam":
        # LayerCAM (Jiang et al. 2021, eq. 6): sum_k relu(g_k,ij) A_k,ij, pixel by pixel.
        return ops.sum(ops.relu(g) * act, axis=-1)
    elif kind == "hires_cam":
        # HiResCAM (Draelos & Carin 2020): sum_k g_k,ij A_k,ij, the gradient not averaged.
        return ops.sum(g * act, axis=-1)
    else:  # grad_cam
        weights = ops.mean(g, axis=(1, 2))
    return ops.sum(act * weights[:, None, None, :], axis=-1)


def _cam_fn(eng, layer_name, kind, upsample, normalize, act_axis=-1, input_axis=-1):
    lm = eng.logits

    def build():
        im = graph.intervention_model(lm, layer_name)
        act_shape = tuple(im.inputs[1].shape[1:])
        size = tuple(im.inputs[0].shape[2:4] if input_axis == 1 else im.inputs[0].shape[1:3])

        def score(x, delta, onehot, use_pred):
            act, logits = im([x, delta], training=False)
            target = pick_target(logits, onehot, use_pred)
            return ops.sum(logits * target), act

        vg = gradients.value_and_grad(score, argnums=1, has_aux=True)

        def step(x, onehot, use_pred):
            delta = ops.zeros((ops.shape(x)[0],) + act_shape, dtype=x.dtype)
            (_, act), g = vg(x, delta, onehot, use_pred)
            if act_axis == 1:  # channels-first maps: (B, K, h, w) -> (B, h, w, K)
                act, g = ops.transpose(act, (0, 2, 3, 1)), ops.transpose(g, (0, 2, 3, 1))
            cam = ops.relu(_combine(kind, act, g))
            if upsample:
                cam = _upsample(cam, size)
            if normalize:
                cam = _normalize_maps(cam)
            return cam

        return eng.jit(step)

    return eng.compiled(("cam", layer_name, kind, upsample, normalize, act_axis, input_axis), build)


def _cam(model, images, class_index, layer, upsample, normalize, batch_size, where):
    inputs = prepare(model, images, batch_size, where, image=True)
    eng, x = inputs.engine, inputs.x
    layer_name = _resolve_cam_layer(eng.model, layer, where)
    onehot, use_pred = eng.targets(class_index, len(x), where)
    fn = _cam_fn(eng, layer_name, where, bool(upsample), bool(normalize),
                 layer_channel_axis(eng.model, layer_name), inputs.channel_axis)
    return eng.run(fn, [x, onehot, use_pred], inputs.batch_size).astype("float32")


@register("cam", title="Grad-CAM", in_report=True, order=0, reference="Selvaraju et al. 2017")
def grad_cam(model, images, class_index=None, *, layer=None, upsample=True, normalize=True,
             batch_size=64):
    """Grad-CAM (Selvaraju et al. 2017): feature maps weighted by their mean gradient.

    ``relu(sum_k w_k A_k)`` with ``w_k`` the spatial mean of ``d logit_c / d A_k`` for the
    feature maps ``A`` of a convolutional layer. The gradient with respect to ``A`` is taken
    through :func:`deepkit.viz.layers.intervention_model`, so layers inside nested models
    work on every backend.

    Args:
        model: A classifier with image inputs.
        images: ``(N, H, W, C)`` array.
        class_index: ``None`` (predicted class), int, or one per image.
        layer: The convolutional layer (index, name, ``/`` path or object); default: the
            last layer with a 4-D output.
        upsample: Resize the maps bilinearly to the input size ``(H, W)``; otherwise they
            have the layer's resolution.
        normalize: Divide each map by its maximum (maps are >= 0), so values are in [0, 1].
        batch_size: Images per compiled call.

    Returns:
        float32 array ``(N, H, W)`` (or ``(N, h, w)`` without upsampling).

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="conv"),
        ...                           keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
        >>> grad_cam(model, np.random.rand(2, 8, 8, 1)).shape
        (2, 8, 8)
    """
    return _cam(model, images, class_index, layer, upsample, normalize, batch_size, "grad_cam")


@register("cam", title="Grad-CAM++", in_report=True, order=1, reference="Chattopadhay et al. 2018")
def grad_cam_plus_plus(model, images, class_index=None, *, layer=None, upsample=True,
                       normalize=True, batch_size=64):
    """Grad-CAM++ (Chattopadhay et al. 2018): pixel-weighted gradients for several instances.

    Weights ``w_k = sum_ij alpha_ij relu(dY/dA_ij)`` with
    ``alpha = g^2 / (2 g^2 + sum_ab A_ab g^3)`` (the closed form for an exponential score;
    the exponential's constant factor cancels after normalization).

    Args:
        model: A classifier with image inputs.
        images: ``(N, H, W, C)`` array.
        class_index: ``None`` (predicted class), int, or one per image.
        layer: As :func:`grad_cam`.
        upsample: As :func:`grad_cam`.
        normalize: As :func:`grad_cam`.
        batch_size: Images per compiled call.

    Returns:
        float32 array ``(N, H, W)``.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3),
        ...                           keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
        >>> grad_cam_plus_plus(model, np.random.rand(2, 8, 8, 1)).shape
        (2, 8, 8)
    """
    return _cam(model, images, class_index, layer, upsample, normalize, batch_size, "grad_cam_plus_plus")


_VARIANT_DOC = """{title} ({reference}): {what}

    Args:
        model: A classifier with image inputs.
        images: ``(N, H, W, C)`` array.
        class_index: ``None`` (predicted class), int, or one per image.
        layer: As :func:`grad_cam`.
        upsample: As :func:`grad_cam`.
        normalize: As :func:`grad_cam`.
        batch_size: Images per compiled call.

    Returns:
        float32 array ``(N, H, W)`` (or ``(N, h, w)`` without upsampling).

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3),
        ...                           keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
        >>> {name}(model, np.random.rand(2, 8, 8, 1)).shape
        (2, 8, 8)
    """


@register("cam", title="XGrad-CAM", order=3, reference="Fu et al. 2020")
def xgrad_cam(model, images, class_index=None, *, layer=None, upsample=True, normalize=True,
              batch_size=64):
    return _cam(model, images, class_index, layer, upsample, normalize, batch_size, "xgrad_cam")


@register("cam", title="LayerCAM", order=4, reference="Jiang et al. 2021")
def layer_cam(model, images, class_index=None, *, layer=None, upsample=True, normalize=True,
              batch_size=64):
    return _cam(model, images, class_index, layer, upsample, normalize, batch_size, "layer_cam")


@register("cam", title="HiResCAM", order=5, reference="Draelos & Carin 2020")
def hires_cam(model, images, class_index=None, *, layer=None, upsample=True, normalize=True,
              batch_size=64):
    return _cam(model, images, class_index, layer, upsample, normalize, batch_size, "hires_cam")


xgrad_cam.__doc__ = _VARIANT_DOC.format(
    title="XGrad-CAM", reference="Fu et al. 2020", name="xgrad_cam",
    what="feature maps weighted by their gradients averaged with the maps themselves as weights,\n"
         "    ``w_k = sum_ij (A_k,ij / sum_ab A_k,ab) dY/dA_k,ij``, the weights that satisfy the\n"
         "    paper's sensitivity and conservation axioms; ``relu(sum_k w_k A_k)``.")
layer_cam.__doc__ = _VARIANT_DOC.format(
    title="LayerCAM", reference="Jiang et al. 2021", name="layer_cam",
    what="every location of every feature map weighted by its own positive gradient,\n"
         "    ``relu(sum_k relu(dY/dA_k,ij) A_k,ij)``: fine-grained maps from shallow layers too.")
hires_cam.__doc__ = _VARIANT_DOC.format(
    title="HiResCAM", reference="Draelos & Carin 2020", name="hires_cam",
    what="the gradient times the feature maps, element by element, summed over channels,\n"
         "    ``relu(sum_k dY/dA_k,ij A_k,ij)``: unlike Grad-CAM's averaged gradient, it shows the\n"
         "    locations the score actually used.")


@register("cam", title="EigenCAM", order=6, reference="Muhammad & Yeasin 2020")
def eigen_cam(model, images, class_index=None, *, layer=None, upsample=True, normalize=True,
              batch_size=64):
    """EigenCAM (Muhammad & Yeasin 2020): the first principal component of the feature maps.

    The ``(h*w, K)`` matrix of a layer's activations, centred over locations, is projected on
    its first right singular vector; the projection, signed so that it agrees with the summed
    activations (a singular vector's sign is arbitrary), rectified, is the map. Gradient free
    and class agnostic: ``class_index`` is checked but does not change the map.

    Args:
        model: A classifier with image inputs.
        images: ``(N, H, W, C)`` array.
        class_index: Checked only (the map does not depend on the class).
        layer: As :func:`grad_cam`.
        upsample: As :func:`grad_cam`.
        normalize: As :func:`grad_cam`.
        batch_size: Images per compiled call.

    Returns:
        float32 array ``(N, H, W)`` (or ``(N, h, w)`` without upsampling).

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3),
        ...                           keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
        >>> eigen_cam(model, np.random.rand(2, 8, 8, 1)).shape
        (2, 8, 8)
    """
    where = "eigen_cam"
    inputs = prepare(model, images, batch_size, where, image=True)
    eng, x = inputs.engine, inputs.x
    layer_name = _resolve_cam_layer(eng.model, layer, where)
    eng.targets(class_index, len(x), where)
    act, _ = eng.run(_forward_fn(eng, layer_name), [x], inputs.batch_size)
    if layer_channel_axis(eng.model, layer_name) == 1:
        act = np.moveaxis(act, 1, -1)
    n, h, w, k = act.shape
    flat = act.reshape(n, h * w, k).astype("float64")
    centred = flat - flat.mean(axis=1, keepdims=True)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    projection = np.einsum("npk,nk->np", centred, vt[:, 0])
    sign = np.sign(np.einsum("np,np->n", projection, flat.sum(axis=-1)))
    cam = np.maximum(projection * np.where(sign == 0, 1.0, sign)[:, None], 0.0).reshape(n, h, w)
    if upsample:
        with gradients.no_grad():
            cam = gradients.to_numpy(_upsample(ops.convert_to_tensor(cam.astype("float32")), tuple(inputs.hw)))
    if normalize:
        peak = cam.max(axis=(1, 2), keepdims=True)
        cam = np.where(peak > 0, cam / np.where(peak > 0, peak, 1.0), 0.0)
    return cam.astype("float32")


def _forward_fn(eng, layer_name):
    """Compiled ``x -> (activation, logits)`` of a layer (forward only)."""
    lm = eng.logits

    def build():
        fm = graph.feature_model(lm, [layer_name, -1])
        return eng.jit(lambda x: tuple(fm(x, training=False)), models=[fm])

    # forward=True runs it under no_grad on torch only (same values): an equivalent mutant.
    return eng.compiled(("forward", layer_name), build, forward=True)  # pragma: no mutate (no_grad, torch only)


@register("cam", quick={"max_channels": 4}, title="Score-CAM", in_report=True, order=2,
          reference="Wang et al. 2020")
def score_cam(model, images, class_index=None, *, layer=None, max_channels=None,
              normalize=True, batch_size=64):
    """Score-CAM (Wang et al. 2020): feature maps weighted by the score of the masked input.

    Each feature map, upsampled and min-max normalised to [0, 1], masks the image; the
    softmax probability of the class for that masked image is the map's weight;
    ``relu(sum_k w_k A_k)``. Gradient free; costs one forward pass per (image, channel).

    Args:
        model: A classifier with image inputs.
        images: ``(N, H, W, C)`` array.
        class_index: ``None`` (predicted class), int, or one per image.
        layer: As :func:`grad_cam`.
        max_channels: Use only this many channels per image, those with the largest
            maximum activation (as "Faster Score-CAM" in tf-keras-vis); ``None`` uses all.
        normalize: Divide each map by its maximum.
        batch_size: Masked images per compiled call.

    Returns:
        float32 array ``(N, H, W)``.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3),
        ...                           keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
        >>> score_cam(model, np.random.rand(2, 8, 8, 1)).shape
        (2, 8, 8)
    """
    where = "score_cam"
    inputs = prepare(model, images, batch_size, where, image=True)
    eng, x, batch_size = inputs.engine, inputs.x, inputs.batch_size
    layer_name = _resolve_cam_layer(eng.model, layer, where)
    act, logits = eng.run(_forward_fn(eng, layer_name), [x], batch_size)
    if layer_channel_axis(eng.model, layer_name) == 1:
        act = np.moveaxis(act, 1, -1)
    onehot, _ = eng.targets(logits.argmax(-1) if class_index is None else class_index, len(x), where)
    k_total = act.shape[-1]
    if max_channels is not None:
        m = min(positive_int(max_channels, "max_channels", where), k_total)
        order = np.argsort(-act.max(axis=(1, 2)), axis=-1, kind="stable")[:, :m]
        act = np.take_along_axis(act, order[:, None, None, :], axis=-1)
    size = inputs.hw
    # Upsample every channel map: (N, h, w, K) -> (N, K, H, W).
    n, h, w, k = act.shape
    flat = np.transpose(act, (0, 3, 1, 2)).reshape(n * k, h, w)
    with gradients.no_grad():
        up = np.concatenate([
            gradients.to_numpy(_upsample(ops.convert_to_tensor(flat[s : s + 4096]), size))
            for s in range(0, len(flat), 4096)
        ]).reshape(n, k, *size)
    lo = up.min(axis=(2, 3), keepdims=True)
    span = up.max(axis=(2, 3), keepdims=True) - lo
    # Min-max to [0, 1] (a constant map, span 0, is 0 everywhere: it masks everything out): one multiply over all maps.
    masks = (up - lo) * (1.0 / np.where(span > 0, span, 1.0)).astype("float32")

    def make_rows(i, j):
        return x[i] * (masks[i, j, None] if inputs.channel_axis == 1 else masks[i, j, :, :, None])

    weights = eng.row_scores(x, onehot, k, make_rows, batch_size)
    cam = np.maximum(np.einsum("nk,nkhw->nhw", weights, up), 0.0)
    if normalize:
        peak = cam.max(axis=(1, 2), keepdims=True)
        cam = np.where(peak > 0, cam / np.where(peak > 0, peak, 1.0), 0.0)
    return cam.astype("float32")
