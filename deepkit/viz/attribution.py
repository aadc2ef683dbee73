"""Attribution: which input pixels (or feature-map regions) decide a prediction.

Gradient methods (Simonyan et al. 2014 saliency, SmoothGrad, Integrated Gradients), class
activation maps (Grad-CAM, Grad-CAM++, Score-CAM), perturbation (occlusion sensitivity,
Zeiler & Fergus 2014), and the metrics used to test them (deletion / insertion curves,
Petsiuk et al. 2018; the pointing game; randomised-weight copies for the Adebayo et al. 2018
sanity checks).

Every method takes a batch of images and returns one numpy heatmap per image. Work is done
in chunks of at most ``batch_size`` model evaluations, each chunk a single compiled call
(``jax.jit`` / ``tf.function``, see :mod:`deepkit.backend.gradients`) with a fixed shape, so
thousands of images cost one compilation. Compiled functions are cached per model.

The class score differentiated is the pre-softmax logit: when the model ends with a softmax
(or sigmoid), either as a separate layer or as the activation of its last layer, that
activation is skipped (as Simonyan et al. recommend). Probabilities, where a method needs
them (Score-CAM, occlusion, deletion / insertion), are the softmax of those logits.

``class_index`` is ``None`` (each image's predicted class), an ``int`` (one class for all)
or a sequence with one class per image.
"""

import weakref

import keras
import numpy as np
from keras import ops

from deepkit.backend import gradients
from deepkit.viz.graph import graph_of as _graph_of
from deepkit.viz.graph import intervention_model, last_conv_layer, logit_model

__all__ = [
    "logit_model",
    "saliency",
    "smoothgrad",
    "integrated_gradients",
    "grad_cam",
    "grad_cam_plus_plus",
    "score_cam",
    "occlusion",
    "deletion_insertion",
    "pointing_game",
    "randomized_model",
]

# ---------------------------------------------------------------------------------------------
# Shared plumbing
# ---------------------------------------------------------------------------------------------

_FN_CACHE = weakref.WeakKeyDictionary()


def _cached(model, key, build):
    try:
        per_model = _FN_CACHE.setdefault(model, {})
    except TypeError:
        return build()
    if key not in per_model:
        per_model[key] = build()
    return per_model[key]


def _num_classes(model):
    return int(_graph_of(model).outputs[0].shape[-1])


def _images(model, images, where):
    x = np.asarray(images)
    if x.dtype == object:
        raise ValueError(f"{where}: images must be a numeric array. Received: dtype=object")
    x = x.astype("float32", copy=False)
    expected = tuple(_graph_of(model).inputs[0].shape[1:])
    if x.ndim == len(expected):
        x = x[None]
    if x.ndim != len(expected) + 1:
        raise ValueError(
            f"{where}: images must have shape (batch,) + {expected} for model '{model.name}'. "
            f"Received: images.shape={np.shape(images)}"
        )
    for got, want in zip(x.shape[1:], expected):
        if want is not None and got != want:
            raise ValueError(
                f"{where}: images must have shape (batch,) + {expected} for model "
                f"'{model.name}'. Received: images.shape={np.shape(images)}"
            )
    if len(x) == 0:
        raise ValueError(f"{where}: got an empty batch. Received: images.shape={x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{where}: images contain NaN or infinite values.")
    return x


def _check_batch_size(batch_size, where):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"{where}: batch_size must be a positive integer. Received: batch_size={batch_size!r}")
    return int(batch_size)


def _targets(class_index, n, num_classes, where):
    """``(onehot (n, C) float32, use_prediction (n, 1) float32)``."""
    onehot = np.zeros((n, num_classes), "float32")
    if class_index is None:
        return onehot, np.ones((n, 1), "float32")
    idx = np.asarray(class_index)
    if idx.ndim == 0:
        idx = np.full((n,), idx)
    if idx.shape != (n,) or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(
            f"{where}: class_index must be None, an int, or one int per image ({n} images). "
            f"Received: class_index={class_index!r}"
        )
    bad = (idx < 0) | (idx >= num_classes)
    if bad.any():
        raise ValueError(
            f"{where}: class_index must be in 0..{num_classes - 1} for a model with "
            f"{num_classes} outputs. Received: class_index={idx[bad][0]}"
        )
    onehot[np.arange(n), idx] = 1.0
    return onehot, np.zeros((n, 1), "float32")


def _pick_target(logits, onehot, use_pred):
    pred = ops.one_hot(ops.argmax(logits, axis=-1), ops.shape(logits)[-1], dtype=logits.dtype)
    return ops.stop_gradient(use_pred * pred + (1.0 - use_pred) * onehot)


def _probabilities(logits):
    if logits.shape[-1] == 1:
        return ops.sigmoid(logits)
    return ops.softmax(logits, axis=-1)


def _pad_rows(arrays, rows):
    """Pad every array's first axis to ``rows`` by repeating its last row."""
    out = []
    for a in arrays:
        n = a.shape[0]
        if n < rows:
            a = np.concatenate([a, np.repeat(a[-1:], rows - n, axis=0)], axis=0)
        out.append(a)
    return out


def _bucket(rows, batch_size):
    """Compiled shapes: the next power of two >= rows, at most batch_size (few retraces)."""
    size = 1
    while size < rows:
        size *= 2
    return max(min(size, batch_size), rows) if rows <= batch_size else batch_size


def _chunks(n, batch_size):
    for start in range(0, n, batch_size):
        yield start, min(start + batch_size, n)


def _run_chunked(fn, arrays, batch_size):
    """Apply compiled ``fn`` to ``arrays`` in fixed-size chunks; concatenate numpy outputs."""
    n = arrays[0].shape[0]
    rows = _bucket(min(batch_size, n), batch_size)
    results = None
    for start, stop in _chunks(n, rows):
        chunk = _pad_rows([a[start:stop] for a in arrays], rows)
        out = gradients.to_numpy(fn(*chunk))
        single = not isinstance(out, (tuple, list))
        out = [out] if single else list(out)
        out = [o[: stop - start] for o in out]
        if results is None:
            results = [[] for _ in out]
            was_single = single
        for r, o in zip(results, out):
            r.append(o)
    joined = [np.concatenate(r, axis=0) for r in results]
    return joined[0] if was_single else joined


def _expanded_plan(n, samples, batch_size):
    """Chunks ``(i0, i1, k0, k1)`` of (image, sample) pairs with at most ``batch_size`` rows."""
    if samples <= batch_size:
        per = max(1, batch_size // samples)
        for i0 in range(0, n, per):
            yield i0, min(i0 + per, n), 0, samples
    else:
        for i in range(n):
            for k0 in range(0, samples, batch_size):
                yield i, i + 1, k0, min(k0 + batch_size, samples)


def _reduce(g, reduce, where):
    if reduce is None or g.ndim < 4:
        return g
    if reduce == "max_abs":
        return np.abs(g).max(axis=-1)
    if reduce == "abs_sum":
        return np.abs(g).sum(axis=-1)
    if reduce == "sum":
        return g.sum(axis=-1)
    if reduce == "l2":
        return np.sqrt((g**2).sum(axis=-1))
    raise ValueError(
        f"{where}: reduce must be None, 'max_abs', 'abs_sum', 'sum' or 'l2'. Received: reduce={reduce!r}"
    )


def _predict_classes(model, x, batch_size):
    lm = logit_model(model)
    fn = _cached(lm, "logits", lambda: gradients.jit(lambda v: lm(v, training=False), models=[lm]))
    logits = _run_chunked(fn, [x], batch_size)
    return logits.argmax(axis=-1)


def _resolved_targets(model, x, class_index, batch_size, where):
    """One-hot targets with ``None`` resolved to the predicted class of each clean image."""
    if class_index is None:
        class_index = _predict_classes(model, x, batch_size)
    onehot, _ = _targets(class_index, len(x), _num_classes(model), where)
    return onehot


# ---------------------------------------------------------------------------------------------
# Gradient methods
# ---------------------------------------------------------------------------------------------


def _input_grad_fn(model):
    lm = logit_model(model)

    def build():
        def score(x, onehot, use_pred):
            logits = lm(x, training=False)
            target = _pick_target(logits, onehot, use_pred)
            return ops.sum(logits * target), logits

        vg = gradients.value_and_grad(score, argnums=0, has_aux=True)

        def step(x, onehot, use_pred):
            (_, logits), grad = vg(x, onehot, use_pred)
            return grad, logits

        return gradients.jit(step, models=[lm])

    return _cached(lm, "input_grad", build)


def _weighted_grads(model, x, onehot, samples, make_rows, weights, batch_size):
    """``sum_k weights[k] * d score / d row_k`` per image.

    ``make_rows(i0, i1, k0, k1)`` returns the rows for images ``i0:i1`` and samples
    ``k0:k1`` with shape ``(i1 - i0, k1 - k0) + image_shape``.
    """
    fn = _input_grad_fn(model)
    n = len(x)
    out = np.zeros(x.shape, "float32")
    plan = list(_expanded_plan(n, samples, batch_size))
    rows_full = _bucket((plan[0][1] - plan[0][0]) * (plan[0][3] - plan[0][2]), batch_size)
    for i0, i1, k0, k1 in plan:
        m, k = i1 - i0, k1 - k0
        rows = np.asarray(make_rows(i0, i1, k0, k1), "float32").reshape((m * k,) + x.shape[1:])
        targets = np.repeat(onehot[i0:i1], k, axis=0)
        rows, targets = _pad_rows([rows, targets], rows_full)
        grad, _ = fn(rows, targets, np.zeros((len(rows), 1), "float32"))
        grad = gradients.to_numpy(grad)[: m * k].reshape((m, k) + x.shape[1:])
        w = np.asarray(weights[k0:k1], "float32").reshape((1, k) + (1,) * (x.ndim - 1))
        out[i0:i1] += (grad * w).sum(axis=1)
    return out


def saliency(model, images, class_index=None, *, reduce="max_abs", batch_size=64):
    """Vanilla gradient saliency maps (Simonyan, Vedaldi & Zisserman 2014).

    The gradient of the class logit with respect to the input pixels.

    Args:
        model: A classifier (functional or Sequential ``keras.Model``).
        images: ``(N, H, W, C)`` array (or one ``(H, W, C)`` image).
        class_index: ``None`` (predicted class), an int, or one int per image.
        reduce: How channels are combined: ``"max_abs"`` (Simonyan et al.), ``"abs_sum"``,
            ``"sum"``, ``"l2"``, or ``None`` for the raw ``(N, H, W, C)`` gradient. Inputs
            that are not images (rank < 4) are never reduced.
        batch_size: Images per compiled call.

    Returns:
        float32 array ``(N, H, W)`` (or the raw gradient when ``reduce=None``).

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(2, kernel_initializer="ones")])
        >>> saliency(model, np.zeros((3, 4, 4, 1)), class_index=1).shape
        (3, 4, 4)
    """
    where = "saliency"
    x = _images(model, images, where)
    batch_size = _check_batch_size(batch_size, where)
    onehot, use_pred = _targets(class_index, len(x), _num_classes(model), where)
    grad, _ = _run_chunked(_input_grad_fn(model), [x, onehot, use_pred], batch_size)
    return _reduce(grad, reduce, where).astype("float32")


def smoothgrad(model, images, class_index=None, *, num_samples=25, noise_level=0.15,
               squared=False, reduce="max_abs", batch_size=64, seed=0):
    """SmoothGrad (Smilkov et al. 2017): saliency averaged over noisy copies of each image.

    Args:
        model: A classifier.
        images: ``(N, H, W, C)`` array.
        class_index: ``None`` (predicted class of the clean image), int, or one per image.
        num_samples: Noisy copies per image.
        noise_level: Noise standard deviation as a fraction of each image's value range
            (max - min), 0.1-0.2 in the paper.
        squared: Average squared gradients (SmoothGrad-Squared) instead of gradients.
        reduce: As :func:`saliency`.
        batch_size: Model evaluations per compiled call (images x samples are chunked).
        seed: Seed of the noise (numpy), for reproducible maps.

    Returns:
        float32 array ``(N, H, W)`` (or ``(N, H, W, C)`` with ``reduce=None``).

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(2)])
        >>> smoothgrad(model, np.zeros((2, 4, 4, 1)), num_samples=4).shape
        (2, 4, 4)
    """
    where = "smoothgrad"
    x = _images(model, images, where)
    batch_size = _check_batch_size(batch_size, where)
    if not isinstance(num_samples, (int, np.integer)) or num_samples < 1:
        raise ValueError(f"{where}: num_samples must be a positive integer. Received: num_samples={num_samples!r}")
    if noise_level < 0:
        raise ValueError(f"{where}: noise_level must be >= 0. Received: noise_level={noise_level!r}")
    onehot = _resolved_targets(model, x, class_index, batch_size, where)
    axes = tuple(range(1, x.ndim))
    sigma = noise_level * (x.max(axis=axes) - x.min(axis=axes))
    sigma = np.where(sigma > 0, sigma, noise_level).astype("float32")
    sigma = sigma.reshape((-1,) + (1,) * (x.ndim - 1))

    def make_rows(i0, i1, k0, k1):
        # Noise drawn per image from (seed, image index): maps do not depend on batch_size.
        block = np.stack([
            np.random.default_rng([seed, i]).standard_normal((num_samples,) + x.shape[1:])[k0:k1]
            for i in range(i0, i1)
        ]).astype("float32")
        return x[i0:i1, None] + sigma[i0:i1, None] * block

    fn_weights = np.full(num_samples, 1.0 / num_samples, "float32")
    if not squared:
        out = _weighted_grads(model, x, onehot, num_samples, make_rows, fn_weights, batch_size)
        return _reduce(out, reduce, where).astype("float32")
    # SmoothGrad-Squared: mean of squared gradients (weights act on squared grads).
    fn = _input_grad_fn(model)
    out = np.zeros(x.shape, "float32")
    for i0, i1, k0, k1 in _expanded_plan(len(x), num_samples, batch_size):
        m, k = i1 - i0, k1 - k0
        rows = make_rows(i0, i1, k0, k1).reshape((m * k,) + x.shape[1:])
        targets = np.repeat(onehot[i0:i1], k, axis=0)
        grad, _ = _run_chunked(fn, [rows, targets, np.zeros((m * k, 1), "float32")], batch_size)
        out[i0:i1] += (grad.reshape((m, k) + x.shape[1:]) ** 2).sum(axis=1) / num_samples
    return _reduce(out, reduce, where).astype("float32")


def integrated_gradients(model, images, class_index=None, *, baseline=None, steps=50,
                         reduce="sum", batch_size=64):
    """Integrated Gradients (Sundararajan, Taly & Yan 2017).

    ``(x - x') * integral_0^1 grad f(x' + a (x - x')) da``, by the trapezoidal rule over
    ``steps`` intervals. The attributions of an image sum to about
    ``f(x) - f(x')`` for the class logit ``f`` (completeness).

    Args:
        model: A classifier.
        images: ``(N, H, W, C)`` array.
        class_index: ``None`` (predicted class), int, or one per image.
        baseline: ``None`` (black image, all zeros), a float (constant image), or an array
            broadcastable to ``images``.
        steps: Number of intervals of the path integral.
        reduce: As :func:`saliency`; the default ``"sum"`` keeps the sign and completeness.
        batch_size: Model evaluations per compiled call.

    Returns:
        float32 array ``(N, H, W)`` (or ``(N, H, W, C)`` with ``reduce=None``).

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(1, kernel_initializer="ones")])
        >>> ig = integrated_gradients(model, np.ones((1, 2, 2, 1)), steps=4)
        >>> ig.round(3).tolist()
        [[[1.0, 1.0], [1.0, 1.0]]]
    """
    where = "integrated_gradients"
    x = _images(model, images, where)
    batch_size = _check_batch_size(batch_size, where)
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"{where}: steps must be a positive integer. Received: steps={steps!r}")
    if baseline is None:
        base = np.zeros_like(x)
    else:
        try:
            base = np.broadcast_to(np.asarray(baseline, "float32"), x.shape).copy()
        except ValueError:
            raise ValueError(
                f"{where}: baseline must broadcast to images of shape {x.shape}. "
                f"Received: baseline.shape={np.shape(baseline)}"
            ) from None
    onehot = _resolved_targets(model, x, class_index, batch_size, where)
    alphas = np.linspace(0.0, 1.0, steps + 1).astype("float32")
    weights = np.full(steps + 1, 1.0 / steps, "float32")
    weights[0] *= 0.5
    weights[-1] *= 0.5
    shape = (1, -1) + (1,) * (x.ndim - 1)

    def make_rows(i0, i1, k0, k1):
        b = base[i0:i1, None]
        return b + alphas[k0:k1].reshape(shape) * (x[i0:i1, None] - b)

    out = _weighted_grads(model, x, onehot, steps + 1, make_rows, weights, batch_size)
    attributions = (x - base) * out
    return _reduce(attributions, reduce, where).astype("float32")


# ---------------------------------------------------------------------------------------------
# Class activation maps
# ---------------------------------------------------------------------------------------------


def _resolve_cam_layer(model, layer, where):
    if layer is None:
        return last_conv_layer(model)
    from deepkit.viz.layers import layer_path, resolve_layer

    target = resolve_layer(model, layer)
    shape = getattr(target.output, "shape", None)
    if shape is None or len(shape) != 4:
        raise ValueError(
            f"{where}: layer '{target.name}' must have a 4-D (batch, height, width, channels) "
            f"output. Received: layer={layer!r} with output shape "
            f"{None if shape is None else tuple(shape)}"
        )
    return layer_path(model, layer)


def _upsample(maps, size):
    """``(B, h, w)`` -> ``(B, H, W)`` bilinear (half-pixel centres on every backend)."""
    resized = ops.image.resize(maps[..., None], size, interpolation="bilinear")
    return resized[..., 0]


def _normalize_maps(cam):
    peak = ops.max(cam, axis=(1, 2), keepdims=True)
    return ops.where(peak > 0, cam / ops.where(peak > 0, peak, 1.0), 0.0)


def _cam_fn(model, layer_name, plus, upsample, normalize):
    lm = logit_model(model)

    def build():
        im = intervention_model(lm, layer_name)
        act_shape = tuple(im.inputs[1].shape[1:])
        size = tuple(im.inputs[0].shape[1:3])

        def score(x, delta, onehot, use_pred):
            act, logits = im([x, delta], training=False)
            target = _pick_target(logits, onehot, use_pred)
            return ops.sum(logits * target), act

        vg = gradients.value_and_grad(score, argnums=1, has_aux=True)

        def step(x, onehot, use_pred):
            delta = ops.zeros((ops.shape(x)[0],) + act_shape, dtype=x.dtype)
            (_, act), g = vg(x, delta, onehot, use_pred)
            if plus:
                # Grad-CAM++ (Chattopadhay et al. 2018, eq. 19 with an exponential score):
                # alpha = g^2 / (2 g^2 + sum_ij(A) g^3), w = sum_ij alpha relu(g).
                g2 = g * g
                g3 = g2 * g
                denom = 2.0 * g2 + ops.sum(act, axis=(1, 2), keepdims=True) * g3
                alpha = g2 / ops.where(ops.abs(denom) > 0, denom, 1.0)
                weights = ops.sum(alpha * ops.relu(g), axis=(1, 2))
            else:
                weights = ops.mean(g, axis=(1, 2))
            cam = ops.relu(ops.sum(act * weights[:, None, None, :], axis=-1))
            if upsample:
                cam = _upsample(cam, size)
            if normalize:
                cam = _normalize_maps(cam)
            return cam

        return gradients.jit(step, models=[lm])

    return _cached(lm, ("cam", layer_name, plus, upsample, normalize), build)


def _cam(model, images, class_index, layer, upsample, normalize, batch_size, plus, where):
    x = _images(model, images, where)
    batch_size = _check_batch_size(batch_size, where)
    if x.ndim != 4:
        raise ValueError(f"{where}: needs image inputs (batch, height, width, channels). Received: images.shape={x.shape}")
    layer_name = _resolve_cam_layer(model, layer, where)
    onehot, use_pred = _targets(class_index, len(x), _num_classes(model), where)
    fn = _cam_fn(model, layer_name, plus, bool(upsample), bool(normalize))
    return _run_chunked(fn, [x, onehot, use_pred], batch_size).astype("float32")


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
    return _cam(model, images, class_index, layer, upsample, normalize, batch_size, False, "grad_cam")


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
    return _cam(model, images, class_index, layer, upsample, normalize, batch_size, True,
                "grad_cam_plus_plus")


def _forward_fn(model, layer_name):
    """Compiled ``x -> (activation, logits)`` (activation None when layer_name is None)."""
    lm = logit_model(model)

    def build():
        if layer_name is None:
            return gradients.jit(lambda x: lm(x, training=False), models=[lm])
        from deepkit.viz.layers import feature_model

        fm = feature_model(lm, [layer_name, -1])
        return gradients.jit(lambda x: tuple(fm(x, training=False)), models=[fm])

    return _cached(lm, ("forward", layer_name), build)


def _prob_fn(model, logit=False):
    """Compiled ``(x, onehot) -> probability (or logit) of the target class``."""
    lm = logit_model(model)

    def build():
        def prob(x, onehot):
            logits = lm(x, training=False)
            return ops.sum((logits if logit else _probabilities(logits)) * onehot, axis=-1)

        return gradients.jit(prob, models=[lm])

    return _cached(lm, ("logit" if logit else "prob"), build)


def _row_scores(model, x, onehot, samples, make_rows, batch_size, logit=False):
    """Target-class probability (or logit) of ``samples`` rows per image -> ``(N, samples)``."""
    fn = _prob_fn(model, logit)
    n = len(x)
    scores = np.zeros((n, samples), "float32")
    plan = list(_expanded_plan(n, samples, batch_size))
    rows_full = _bucket((plan[0][1] - plan[0][0]) * (plan[0][3] - plan[0][2]), batch_size)
    for i0, i1, k0, k1 in plan:
        m, k = i1 - i0, k1 - k0
        rows = np.asarray(make_rows(i0, i1, k0, k1), "float32").reshape((m * k,) + x.shape[1:])
        targets = np.repeat(onehot[i0:i1], k, axis=0)
        rows, targets = _pad_rows([rows, targets], rows_full)
        p = gradients.to_numpy(fn(rows, targets))[: m * k]
        scores[i0:i1, k0:k1] = p.reshape(m, k)
    return scores


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
    x = _images(model, images, where)
    batch_size = _check_batch_size(batch_size, where)
    if x.ndim != 4:
        raise ValueError(f"{where}: needs image inputs. Received: images.shape={x.shape}")
    layer_name = _resolve_cam_layer(model, layer, where)
    act, logits = _run_chunked(_forward_fn(model, layer_name), [x], batch_size)
    onehot, _ = _targets(
        logits.argmax(-1) if class_index is None else class_index, len(x), _num_classes(model), where
    )
    k_total = act.shape[-1]
    if max_channels is not None:
        if not isinstance(max_channels, (int, np.integer)) or max_channels < 1:
            raise ValueError(f"{where}: max_channels must be a positive integer or None. Received: max_channels={max_channels!r}")
        m = min(int(max_channels), k_total)
        order = np.argsort(-act.max(axis=(1, 2)), axis=-1, kind="stable")[:, :m]
        act = np.take_along_axis(act, order[:, None, None, :], axis=-1)
    size = x.shape[1:3]
    # Upsample every channel map: (N, h, w, K) -> (N, K, H, W).
    n, h, w, k = act.shape
    flat = np.transpose(act, (0, 3, 1, 2)).reshape(n * k, h, w)
    up = np.concatenate([
        gradients.to_numpy(_upsample(ops.convert_to_tensor(flat[s:e]), size))
        for s, e in _chunks(len(flat), max(1, 4096))
    ]).reshape(n, k, *size)
    lo = up.min(axis=(2, 3), keepdims=True)
    hi = up.max(axis=(2, 3), keepdims=True)
    masks = np.where(hi > lo, (up - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0).astype("float32")

    def make_rows(i0, i1, k0, k1):
        return x[i0:i1, None] * masks[i0:i1, k0:k1, :, :, None]

    weights = _row_scores(model, x, onehot, k, make_rows, batch_size)
    cam = np.maximum((weights[:, :, None, None] * up).sum(axis=1), 0.0)
    if normalize:
        peak = cam.max(axis=(1, 2), keepdims=True)
        cam = np.where(peak > 0, cam / np.where(peak > 0, peak, 1.0), 0.0)
    return cam.astype("float32")


# ---------------------------------------------------------------------------------------------
# Occlusion
# ---------------------------------------------------------------------------------------------


def _positions(size, patch, stride):
    starts = list(range(0, max(size - patch, 0) + 1, stride))
    if starts[-1] != max(size - patch, 0):
        starts.append(max(size - patch, 0))
    return starts


def occlusion(model, images, class_index=None, *, patch_size=4, stride=2, fill=0.0,
              score="probability", batch_size=64):
    """Occlusion sensitivity (Zeiler & Fergus 2014): how much the class probability drops
    when a square patch of the image is covered.

    Args:
        model: A classifier with image inputs.
        images: ``(N, H, W, C)`` array.
        class_index: ``None`` (predicted class), int, or one per image.
        patch_size: Side of the square occluder, in pixels (int or ``(ph, pw)``).
        stride: Step between occluder positions (int or ``(sh, sw)``); positions always
            reach the bottom/right edge.
        fill: Occluder value: a float, or ``"mean"`` for each image's mean pixel.
        score: ``"probability"`` (Zeiler & Fergus) or ``"logit"``; logits do not saturate,
            so they still rank regions when the model is certain (probability ~ 1).
        batch_size: Occluded images per compiled call.

    Returns:
        float32 array ``(N, H, W)``: for each pixel, the mean score drop
        ``s(x) - s(x occluded)`` over the occluder positions that cover it (positive where
        the evidence is).

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(3)])
        >>> occlusion(model, np.random.rand(2, 8, 8, 1), patch_size=4, stride=4).shape
        (2, 8, 8)
    """
    where = "occlusion"
    x = _images(model, images, where)
    batch_size = _check_batch_size(batch_size, where)
    if x.ndim != 4:
        raise ValueError(f"{where}: needs image inputs. Received: images.shape={x.shape}")
    ph, pw = (patch_size, patch_size) if np.ndim(patch_size) == 0 else patch_size
    sh, sw = (stride, stride) if np.ndim(stride) == 0 else stride
    for name, v in (("patch_size", ph), ("patch_size", pw), ("stride", sh), ("stride", sw)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{where}: {name} must be positive integers. Received: {name}={v!r}")
    H, W = x.shape[1:3]
    masks = []
    for y0 in _positions(H, ph, sh):
        for x0 in _positions(W, pw, sw):
            m = np.zeros((H, W), "float32")
            m[y0 : y0 + ph, x0 : x0 + pw] = 1.0
            masks.append(m)
    masks = np.stack(masks)
    if isinstance(fill, str):
        if fill != "mean":
            raise ValueError(f"{where}: fill must be a number or 'mean'. Received: fill={fill!r}")
        fills = x.mean(axis=(1, 2, 3)).reshape(-1, 1, 1, 1)
    else:
        fills = np.full((len(x), 1, 1, 1), float(fill), "float32")
    if score not in ("probability", "logit"):
        raise ValueError(f"{where}: score must be 'probability' or 'logit'. Received: score={score!r}")
    logit = score == "logit"
    onehot = _resolved_targets(model, x, class_index, batch_size, where)
    base = _row_scores(model, x, onehot, 1, lambda i0, i1, k0, k1: x[i0:i1, None], batch_size, logit)

    def make_rows(i0, i1, k0, k1):
        mk = masks[None, k0:k1, :, :, None]
        return x[i0:i1, None] * (1.0 - mk) + fills[i0:i1, None] * mk

    scores = _row_scores(model, x, onehot, len(masks), make_rows, batch_size, logit)
    drop = base - scores  # (N, P)
    coverage = masks.sum(axis=0)
    heat = np.einsum("np,phw->nhw", drop, masks) / np.maximum(coverage, 1.0)
    return heat.astype("float32")


# ---------------------------------------------------------------------------------------------
# Evaluation of attributions
# ---------------------------------------------------------------------------------------------


def deletion_insertion(model, images, heatmaps, class_index=None, *, mode="deletion",
                       steps=20, baseline=0.0, batch_size=64):
    """Deletion / insertion curves (Petsiuk, Das & Saenko 2018, RISE).

    Deletion removes pixels from the image in decreasing order of attribution (replacing
    them with ``baseline``) and records the class probability after each step: a good
    attribution makes it fall fast (small area under the curve). Insertion starts from the
    baseline and adds pixels in the same order: a good attribution makes it rise fast
    (large area).

    Args:
        model: A classifier with image inputs.
        images: ``(N, H, W, C)`` array.
        heatmaps: ``(N, H, W)`` attributions (higher = more important). Ties are broken by
            pixel order.
        class_index: ``None`` (predicted class of the clean image), int, or one per image.
        mode: ``"deletion"`` or ``"insertion"``.
        steps: Number of steps; step ``t`` changes ``round(t / steps * H * W)`` pixels.
        baseline: Value of removed pixels: a float, an array broadcastable to images, or
            ``"blur"`` for a Gaussian-blurred copy of each image (sigma = 1/8 of the image
            size), which RISE uses for insertion so that the curve measures the evidence in
            the details rather than the appearance of any pixels at all.
        batch_size: Images per compiled call.

    Returns:
        ``(curves, auc)``: ``curves`` float32 ``(N, steps + 1)`` probabilities at fractions
        ``0, 1/steps, ..., 1``; ``auc`` float32 ``(N,)``, the trapezoidal area under each
        curve over the fraction axis [0, 1].

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(2)])
        >>> x = np.random.rand(3, 4, 4, 1)
        >>> curves, auc = deletion_insertion(model, x, np.random.rand(3, 4, 4), steps=4)
        >>> curves.shape, auc.shape
        ((3, 5), (3,))
    """
    where = "deletion_insertion"
    if mode not in ("deletion", "insertion"):
        raise ValueError(f"{where}: mode must be 'deletion' or 'insertion'. Received: mode={mode!r}")
    x = _images(model, images, where)
    batch_size = _check_batch_size(batch_size, where)
    heat = np.asarray(heatmaps, "float32")
    if heat.shape != x.shape[:3]:
        raise ValueError(f"{where}: heatmaps must have shape {x.shape[:3]}. Received: heatmaps.shape={heat.shape}")
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"{where}: steps must be a positive integer. Received: steps={steps!r}")
    if isinstance(baseline, str):
        if baseline != "blur":
            raise ValueError(f"{where}: baseline must be a number, an array or 'blur'. Received: baseline={baseline!r}")
        base = _blur(x, sigma=max(x.shape[1:3]) / 8.0)
    else:
        base = np.broadcast_to(np.asarray(baseline, "float32"), x.shape)
    n, H, W = heat.shape
    order = np.argsort(-heat.reshape(n, -1), axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(n)[:, None], order] = np.arange(H * W)[None]
    rank = rank.reshape(n, H, W)
    counts = np.round(np.linspace(0, 1, steps + 1) * H * W).astype(int)
    onehot = _resolved_targets(model, x, class_index, batch_size, where)

    def make_rows(i0, i1, k0, k1):
        changed = rank[i0:i1, None] < counts[None, k0:k1, None, None]  # (m, k, H, W)
        changed = changed[..., None]
        if mode == "deletion":
            return np.where(changed, base[i0:i1, None], x[i0:i1, None])
        return np.where(changed, x[i0:i1, None], base[i0:i1, None])

    curves = _row_scores(model, x, onehot, steps + 1, make_rows, batch_size)
    auc = ((curves[:, 1:] + curves[:, :-1]) / 2.0).sum(axis=1) / steps
    return curves.astype("float32"), auc.astype("float32")


def _blur(x, sigma):
    """Separable Gaussian blur of ``(N, H, W, C)`` images in numpy (reflecting borders)."""
    radius = max(int(3 * sigma), 1)
    t = np.arange(-radius, radius + 1)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    k = (k / k.sum()).astype("float32")
    out = x
    for axis in (1, 2):
        pad = [(0, 0)] * 4
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="reflect" if out.shape[axis] > radius else "edge")
        out = sum(
            k[i] * np.take(padded, np.arange(i, i + out.shape[axis]), axis=axis)
            for i in range(len(k))
        )
    return out.astype("float32")


def pointing_game(heatmaps, boxes, tolerance=0):
    """Pointing game (Zhang et al. 2016): is each heatmap's maximum inside the object?

    Args:
        heatmaps: ``(N, H, W)`` attributions.
        boxes: ``(N, 4)`` boxes ``(y0, x0, y1, x1)`` in pixels, end exclusive, or ``(N, H, W)``
            boolean masks of the object.
        tolerance: Pixels the box is grown by on every side (15 px in the original paper at
            224 px resolution).

    Returns:
        Boolean array ``(N,)``: ``True`` where the maximum is a hit. With several maxima,
        the first in row-major order counts.

    Example:
        >>> heat = np.zeros((2, 5, 5)); heat[0, 1, 1] = 1; heat[1, 4, 4] = 1
        >>> pointing_game(heat, [[0, 0, 2, 2], [0, 0, 2, 2]]).tolist()
        [True, False]
    """
    heat = np.asarray(heatmaps, "float32")
    if heat.ndim != 3:
        raise ValueError(f"pointing_game: heatmaps must be (N, H, W). Received: heatmaps.shape={heat.shape}")
    n, H, W = heat.shape
    boxes = np.asarray(boxes)
    if boxes.shape == heat.shape:
        region = boxes.astype(bool)
        if tolerance:
            grown = region.copy()
            for dy in range(-tolerance, tolerance + 1):
                for dx in range(-tolerance, tolerance + 1):
                    grown |= np.roll(np.roll(region, dy, axis=1), dx, axis=2)
            region = grown
    elif boxes.shape == (n, 4):
        region = np.zeros((n, H, W), bool)
        for i, (y0, x0, y1, x1) in enumerate(boxes.astype(int)):
            region[i, max(y0 - tolerance, 0) : y1 + tolerance, max(x0 - tolerance, 0) : x1 + tolerance] = True
    else:
        raise ValueError(
            f"pointing_game: boxes must be (N, 4) or masks shaped like heatmaps {heat.shape}. "
            f"Received: boxes.shape={boxes.shape}"
        )
    flat = heat.reshape(n, -1).argmax(axis=1)
    ys, xs = np.unravel_index(flat, (H, W))
    return region[np.arange(n), ys, xs]


def randomized_model(model, layers=None, seed=None):
    """A copy of ``model`` with some or all layers re-initialised (Adebayo et al. 2018).

    The "model parameter randomisation test": an attribution method that explains the model
    must give different maps for the trained model and a copy with random weights.
    Cascading randomisation (from the top layer down) is done by passing growing lists.

    Args:
        model: A functional or Sequential ``keras.Model``.
        layers: ``None`` to re-initialise every layer, or a list of layers (index, name or
            object of ``model``) to re-initialise; the others keep ``model``'s weights.
        seed: If given, ``keras.utils.set_random_seed(seed)`` is called first so the new
            weights are reproducible (this resets the global random state).

    Returns:
        A new ``keras.Model`` with the same architecture; ``model`` is unchanged.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="a"),
        ...                           keras.layers.Dense(2, name="b")])
        >>> r = randomized_model(model, layers=["b"], seed=0)
        >>> bool(np.allclose(r.get_layer("a").kernel, model.get_layer("a").kernel))
        True
        >>> bool(np.allclose(r.get_layer("b").kernel, model.get_layer("b").kernel))
        False
    """
    from deepkit.viz.layers import resolve_layer

    if seed is not None:
        keras.utils.set_random_seed(seed)
    fresh = keras.models.clone_model(model)
    if layers is None:
        return fresh
    chosen = {id(resolve_layer(model, layer)) for layer in layers}
    result = keras.models.clone_model(model)
    result.set_weights(model.get_weights())
    for original, new_layer, fresh_layer in zip(model.layers, result.layers, fresh.layers):
        if id(original) in chosen:
            new_layer.set_weights(fresh_layer.get_weights())
    return result
