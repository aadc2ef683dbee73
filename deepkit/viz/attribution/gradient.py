"""Gradient attribution: saliency, Integrated Gradients, and a noise tunnel over either.

Every method here is a *path*: for each image it samples rows (points where the gradient of
the class logit is taken) and weights for those gradients; the model's
:class:`~deepkit.viz.engine.Engine` evaluates all rows of all images in chunks of
``batch_size`` compiled calls and sums the weighted gradients. Saliency (Simonyan et al.
2014) has one row, the image; Integrated Gradients (Sundararajan et al. 2017) the points of
the straight path from a baseline, weighted by the trapezoidal rule and by ``x - baseline``.
:func:`noise_tunnel` wraps any path (as Captum's ``NoiseTunnel``): each image is replaced by
noisy copies and the attributions of the copies averaged (or their squares, or their
variance); :func:`smoothgrad` (Smilkov et al. 2017) is the noise tunnel over saliency.

Example:
    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(2)])
    >>> noise_tunnel(integrated_gradients, model, np.random.rand(2, 4, 4, 1), num_samples=3,
    ...              steps=4).shape
    (2, 4, 4)
"""

import dataclasses
import inspect

import numpy as np

from deepkit.viz.attribution.inputs import from_channels_last, positive_int, prepare, to_channels_last
from deepkit.viz.attribution.registry import get_method, register, tunnel_methods

__all__ = ["saliency", "input_x_gradient", "integrated_gradients", "smoothgrad", "noise_tunnel", "reduce_channels",
           "GradientPath", "attribute"]


def reduce_channels(g, reduce, where, axis=-1):
    """Combine the channel axis of ``(N, H, W, C)`` attributions into ``(N, H, W)`` maps.

    Args:
        g: Attributions; arrays of rank < 4 are returned unchanged.
        reduce: ``None`` (unchanged), ``"max_abs"``, ``"abs_sum"``, ``"sum"`` or ``"l2"``.
        where: Name of the calling function, for the error message.
        axis: The channel axis: ``-1``, or ``1`` for ``(N, C, H, W)`` (channels first).

    Returns:
        The reduced array.

    Example:
        >>> reduce_channels(-np.ones((1, 2, 2, 3)), "abs_sum", "example").tolist()
        [[[3.0, 3.0], [3.0, 3.0]]]
    """
    if reduce is None or g.ndim < 4:
        return g
    if reduce == "max_abs":
        return np.abs(g).max(axis=axis)
    if reduce == "abs_sum":
        return np.abs(g).sum(axis=axis)
    if reduce == "sum":
        return g.sum(axis=axis)
    if reduce == "l2":
        return np.sqrt((g**2).sum(axis=axis))
    raise ValueError(
        f"{where}: reduce must be None, 'max_abs', 'abs_sum', 'sum' or 'l2'. Received: reduce={reduce!r}"
    )


@dataclasses.dataclass
class GradientPath:
    """Rows and gradient weights of a gradient method for one batch of images.

    ``rows(xr, i, k)`` and ``weight(xr, i, k)`` take the (possibly noisy) image of each row
    ``xr``, its image index ``i`` and its sample index ``k``; the method's attribution is
    ``sum_k weight * d logit / d row`` (see :func:`attribute`).

    Attributes:
        samples: Rows per image.
        rows: ``(xr, i, k) -> rows``.
        weight: ``(xr, i, k) -> weights`` (broadcastable to the rows, or a scalar).
        reduce: How channels are combined (:func:`reduce_channels`).
        backward: ``None``, or ``(key, context)``: a modified backward pass (see
            :meth:`deepkit.viz.engine.Engine.input_gradient_fn`).

    Example:
        >>> GradientPath(1, None, None, "sum").samples
        1
    """

    samples: int
    rows: object
    weight: object
    reduce: str
    backward: object = None  # None, or (key, context) for a modified backward pass (one row only)


def _saliency_path(x, reduce="max_abs"):
    return GradientPath(1, lambda xr, i, k: xr, lambda xr, i, k: np.float32(1.0), reduce)


def _input_x_gradient_path(x, reduce="sum"):
    return GradientPath(1, lambda xr, i, k: xr, lambda xr, i, k: xr, reduce)


def _ig_path(x, baseline=None, steps=50, reduce="sum", where="integrated_gradients"):
    steps = positive_int(steps, "steps", where)
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
    alphas = np.linspace(0.0, 1.0, steps + 1).astype("float32")
    weights = np.full(steps + 1, 1.0 / steps, "float32")
    weights[0] *= 0.5
    weights[-1] *= 0.5
    shape = (-1,) + (1,) * (x.ndim - 1)

    def rows(xr, i, k):
        b = base[i]
        return b + alphas[k].reshape(shape) * (xr - b)

    def weight(xr, i, k):
        # Completeness: (x - x') * integral of the gradient, folded into each row's weight.
        return weights[k].reshape(shape) * (xr - base[i])

    return GradientPath(steps + 1, rows, weight, reduce)


_PATHS = {}  # gradient function -> its path builder (the tunnel's fast route; others: _tunnel_any)



def attribute(model, images, class_index, path_of, options, batch_size, where, tunnel=None):
    """Run a gradient method given by its path over a batch of images (optionally noise-tunnelled).

    Args:
        model: A classifier.
        images: The inputs.
        class_index: ``None``, an int or one per image.
        path_of: ``(x, **options) -> GradientPath``.
        options: The method's options.
        batch_size: Rows per compiled call.
        where: The method's name, for messages.
        tunnel: ``None``, or ``(num_samples, noise_level, kind, seed)``.

    Returns:
        float32 attributions, reduced over channels as the path says.

    Example:
        >>> import numpy as np, keras
        >>> m = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
        >>> attribute(m, np.ones((1, 2, 2, 1)), 0, _saliency_path, {}, 8, "example").shape
        (1, 2, 2)
    """
    inputs = prepare(model, images, batch_size, where)
    eng, x, batch_size, axis = inputs.engine, inputs.x, inputs.batch_size, inputs.channel_axis
    path = path_of(x, **options)
    if tunnel is None:
        if path.samples == 1:
            # One row per image: a predicted class is picked inside the compiled call.
            onehot, use_pred = eng.targets(class_index, len(x), where)
            grad, _ = eng.run(eng.input_gradient_fn(path.backward), [x, onehot, use_pred], batch_size)
            grad = grad * path.weight(x, np.arange(len(x)), np.zeros(len(x), int))
            return reduce_channels(grad, path.reduce, where, axis).astype("float32")
        onehot = eng.resolved_targets(x, class_index, batch_size, where)
        sums = eng.gradient_sums(
            x, onehot, path.samples, lambda i, k: (path.rows(x[i], i, k), path.weight(x[i], i, k)),
            batch_size, backward=path.backward,
        )
        return reduce_channels(sums[:, 0], path.reduce, where, axis).astype("float32")
    num_samples, noise_level, kind, seed = tunnel
    onehot = eng.resolved_targets(x, class_index, batch_size, where)
    inner = path.samples
    noisy_copies = _noisy(x, num_samples, noise_level, seed, axis)

    def noisy(i, k):
        return noisy_copies(i, k // inner)

    scale = np.float32(1.0 / num_samples) if kind == "smoothgrad" else np.float32(1.0)

    def rows_and_weights(i, k):
        xr = noisy(i, k)  # drawn once per chunk for both
        return path.rows(xr, i, k % inner), path.weight(xr, i, k % inner) * scale

    sums = eng.gradient_sums(x, onehot, num_samples * inner, rows_and_weights, batch_size,
                             groups=1 if kind == "smoothgrad" else num_samples, backward=path.backward)
    out = sums[:, 0] if kind == "smoothgrad" else _combine(sums, kind)
    return reduce_channels(out, path.reduce, where, axis).astype("float32")


def _combine(per_sample, kind):
    """``(N, S, ...)`` attributions of the noisy copies -> ``(N, ...)`` (Captum's ``nt_type``)."""
    if kind == "smoothgrad":
        return per_sample.mean(axis=1)
    if kind == "smoothgrad_sq":
        return (per_sample**2).mean(axis=1)  # the mean of the squares, not the square of the mean
    return per_sample.var(axis=1)  # vargrad: the variance (population), not a standard deviation


def _noisy(x, num_samples, noise_level, seed, axis=-1):
    """``(image_index, sample_index) -> noisy copies``: noise of standard deviation
    ``noise_level * (max - min)`` of each image, drawn per image from ``(seed, index)`` in
    the channels-last layout (the same noise for a channels-first model's images)."""
    axes = tuple(range(1, x.ndim))
    sigma = noise_level * (x.max(axis=axes) - x.min(axis=axes))
    sigma = np.where(sigma > 0, sigma, noise_level).astype("float32")
    noise = _Noise(to_channels_last(x[:1], axis).shape[1:], num_samples, seed)

    def noisy(i, s):
        return x[i] + sigma[i].reshape((-1,) + (1,) * (x.ndim - 1)) * from_channels_last(noise(i, s), axis)

    return noisy


def _default_reduce(function):
    parameter = inspect.signature(function).parameters.get("reduce")
    return None if parameter is None else parameter.default


def _tunnel_any(method, model, images, class_index, options, batch_size, where, tunnel):
    """The noise tunnel over any gradient method: the method attributes every noisy copy
    (``reduce=None``), the copies' attributions are combined, then channels are reduced."""
    num_samples, noise_level, kind, seed = tunnel
    inputs = prepare(model, images, batch_size, where)
    eng, x = inputs.engine, inputs.x
    onehot = eng.resolved_targets(x, class_index, inputs.batch_size, where)
    reduce = options.pop("reduce", _default_reduce(method.function))
    noisy = _noisy(x, num_samples, noise_level, seed, inputs.channel_axis)
    n = len(x)
    i = np.repeat(np.arange(n), num_samples)
    k = np.tile(np.arange(num_samples), n)
    copies = noisy(i, k)
    raw = method.function(eng.model, copies, class_index=onehot.argmax(-1)[i], reduce=None,
                          batch_size=inputs.batch_size, **options)
    raw = np.asarray(raw).reshape((n, num_samples) + raw.shape[1:])
    out = _combine(raw, kind)
    return reduce_channels(out, reduce, where, inputs.channel_axis).astype("float32")


class _Noise:
    """Gaussian noise drawn per image from ``(seed, image index)``: maps do not depend on
    ``batch_size`` or on the other images of the batch."""

    def __init__(self, shape, samples, seed):
        self.shape, self.samples, self.seed = tuple(shape), samples, seed
        self.cache = {}

    def __call__(self, i, s):
        out = np.empty((len(i),) + self.shape, "float32")
        for image in np.unique(i):
            if image not in self.cache:
                if len(self.cache) > 4:
                    self.cache.pop(min(self.cache))
                rng = np.random.default_rng([self.seed, int(image)])
                self.cache[image] = rng.standard_normal((self.samples,) + self.shape).astype("float32")
            sel = i == image
            out[sel] = self.cache[image][s[sel]]
        return out


@register("gradient", title="Gradient", display="magnitude", in_report=True, order=0,
          reference="Simonyan, Vedaldi & Zisserman 2014")
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
    return attribute(model, images, class_index, _saliency_path, {"reduce": reduce}, batch_size,
                      "saliency")


@register("gradient", quick={"steps": 4}, title="Integrated Gradients", display="magnitude",
          report={"steps": 32}, in_report=True, order=2, reference="Sundararajan, Taly & Yan 2017")
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
    return attribute(model, images, class_index, _ig_path,
                      {"baseline": baseline, "steps": steps, "reduce": reduce}, batch_size,
                      "integrated_gradients")


@register("gradient", title="Gradient x Input", display="signed", order=3,
          reference="Shrikumar et al. 2016")
def input_x_gradient(model, images, class_index=None, *, reduce="sum", batch_size=64):
    """Gradient x Input (Shrikumar et al. 2016): the input gradient times the input, pixel by pixel.

    For a linear model (and a ReLU network without biases) it is the logit's exact
    decomposition over the inputs; Captum's ``InputXGradient``.

    Args:
        model: A classifier.
        images: ``(N, H, W, C)`` array.
        class_index: ``None`` (predicted class), int, or one per image.
        reduce: As :func:`saliency`; the default ``"sum"`` keeps the sign.
        batch_size: Images per compiled call.

    Returns:
        float32 array ``(N, H, W)`` (or ``(N, H, W, C)`` with ``reduce=None``).

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(1, kernel_initializer="ones")])
        >>> input_x_gradient(model, np.full((1, 2, 2, 1), 3.0)).tolist()
        [[[3.0, 3.0], [3.0, 3.0]]]
    """
    return attribute(model, images, class_index, _input_x_gradient_path, {"reduce": reduce},
                      batch_size, "input_x_gradient")


_PATHS[saliency] = _saliency_path
_PATHS[input_x_gradient] = _input_x_gradient_path
_PATHS[integrated_gradients] = _ig_path
_KINDS = ("smoothgrad", "smoothgrad_sq", "vargrad")


def noise_tunnel(method, model, images, class_index=None, *, num_samples=25, noise_level=0.15,
                 kind="smoothgrad", batch_size=64, seed=0, **options):
    """Average a gradient method over noisy copies of each image (Captum's ``NoiseTunnel``).

    Each image gets ``num_samples`` copies with Gaussian noise of standard deviation
    ``noise_level * (max - min)`` of the image; ``method`` attributes every copy (to the
    class predicted for the clean image, unless ``class_index`` is given) and the
    attributions are combined before channels are reduced.

    Args:
        method: Any gradient-family method (``registry.tunnel_methods()``: saliency,
            Integrated Gradients, Gradient x Input, Guided Backpropagation...) or its name.
        model: A classifier.
        images: ``(N, H, W, C)`` array.
        class_index: ``None`` (predicted class of the clean image), int, or one per image.
        num_samples: Noisy copies per image.
        noise_level: Noise standard deviation as a fraction of each image's value range.
        kind: ``"smoothgrad"`` (mean), ``"smoothgrad_sq"`` (mean of squares) or
            ``"vargrad"`` (variance), as Captum's ``nt_type``.
        batch_size: Model evaluations per compiled call (all rows of all copies are
            chunked together).
        seed: Seed of the noise, drawn per image from ``(seed, image index)``.
        **options: Options of ``method`` (``reduce``, ``steps``, ``baseline``...).

    Returns:
        float32 array ``(N, H, W)`` (or ``(N, H, W, C)`` with ``reduce=None``).

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(2)])
        >>> noise_tunnel("saliency", model, np.zeros((2, 4, 4, 1)), num_samples=4).shape
        (2, 4, 4)
    """
    where = "noise_tunnel"
    known = tunnel_methods()
    name = method if isinstance(method, str) else getattr(method, "__name__", None)
    if name not in known or (not isinstance(method, str) and get_method(name).function is not method):
        raise ValueError(
            f"{where}: method must be one of {known} (a gradient-family method) or its name. "
            f"Received: method={getattr(method, '__name__', method)!r}"
        )
    num_samples = positive_int(num_samples, "num_samples", where)
    if not noise_level >= 0:
        raise ValueError(f"{where}: noise_level must be >= 0. Received: noise_level={noise_level!r}")
    if kind not in _KINDS:
        raise ValueError(f"{where}: kind must be one of {_KINDS}. Received: kind={kind!r}")
    record = get_method(name)
    tunnel = (num_samples, float(noise_level), kind, seed)
    if record.function in _PATHS:
        return attribute(model, images, class_index, _PATHS[record.function], options, batch_size,
                          name, tunnel=tunnel)
    return _tunnel_any(record, model, images, class_index, dict(options), batch_size, name, tunnel)


@register("gradient", quick={"num_samples": 3}, title="SmoothGrad", display="magnitude",
          report={"num_samples": 16}, in_report=True, order=1, tunnel=False,
          reference="Smilkov et al. 2017")
def smoothgrad(model, images, class_index=None, *, num_samples=25, noise_level=0.15,
               squared=False, reduce="max_abs", batch_size=64, seed=0):
    """SmoothGrad (Smilkov et al. 2017): saliency averaged over noisy copies of each image.

    The :func:`noise_tunnel` over :func:`saliency`.

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
    num_samples = positive_int(num_samples, "num_samples", where)
    if not noise_level >= 0:
        raise ValueError(f"{where}: noise_level must be >= 0. Received: noise_level={noise_level!r}")
    return attribute(model, images, class_index, _saliency_path, {"reduce": reduce}, batch_size,
                      where, tunnel=(int(num_samples), float(noise_level),
                                     "smoothgrad_sq" if squared else "smoothgrad", seed))
