"""GradientSHAP (Lundberg & Lee 2017; Erion et al. 2021's expected gradients): Integrated
Gradients in expectation over baselines and path points.

For each image ``x`` it draws ``num_samples`` rows: a baseline ``b`` from a set of baselines,
a point ``a`` uniform in [0, 1] and (optionally) Gaussian noise ``e`` of standard deviation
``stdev``; the attribution is the mean of ``(x + e - b) * grad f(b + a (x + e - b))``, an
estimate of the SHAP values of ``f`` with the baselines as background distribution. It is
Captum's ``GradientShap``. All rows of all images are chunked by the model's
:class:`~deepkit.viz.engine.Engine` (a :class:`~deepkit.viz.attribution.gradient.GradientPath`).
The draws are made per image from ``(seed, image index)``, so maps do not depend on
``batch_size`` or on the other images; ``alphas`` and ``baseline_indices`` take given draws
instead (to reproduce another library's).

Example:
    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(2)])
    >>> gradient_shap(model, np.random.rand(2, 4, 4, 1), num_samples=4).shape
    (2, 4, 4)
"""

import numpy as np

from deepkit.viz.attribution.gradient import GradientPath, attribute
from deepkit.viz.attribution.inputs import channel_axis, from_channels_last, positive_int, to_channels_last
from deepkit.viz.attribution.registry import register

__all__ = ["gradient_shap"]

_WHERE = "gradient_shap"


def _baselines(x, baselines):
    if baselines is None:
        return np.zeros((1,) + x.shape[1:], "float32")
    b = np.asarray(baselines, "float32")
    if b.shape == x.shape[1:]:
        return b[None]
    if b.ndim == 0:
        return np.full((1,) + x.shape[1:], b, "float32")
    if b.ndim == x.ndim and b.shape[1:] == x.shape[1:] and len(b):
        return b
    raise ValueError(
        f"{_WHERE}: baselines must be a float, one input of shape {x.shape[1:]} or a stack of them "
        f"(B,) + {x.shape[1:]}. Received: baselines.shape={b.shape}"
    )


def _draws(given, name, n, num_samples, default):
    if given is None:
        return default
    a = np.asarray(given)
    if a.shape != (n, num_samples):
        raise ValueError(f"{_WHERE}: {name} must have shape (images, num_samples) = {(n, num_samples)}. "
                         f"Received: {name}.shape={a.shape}")
    return a


def _path(x, *, baselines, num_samples, stdev, seed, alphas, baseline_indices, reduce, axis):
    # every option comes from gradient_shap (no defaults of its own to drift from the public ones)
    base = _baselines(x, baselines)
    n = len(x)
    rngs = [np.random.default_rng([seed, i]) for i in range(n)]
    drawn_alphas = np.stack([r.uniform(0.0, 1.0, num_samples) for r in rngs]).astype("float32")
    drawn_index = np.stack([r.integers(0, len(base), num_samples) for r in rngs])
    alphas = _draws(alphas, "alphas", n, num_samples, drawn_alphas).astype("float32")
    index = _draws(baseline_indices, "baseline_indices", n, num_samples, drawn_index).astype(int)
    if index.size and (index.min() < 0 or index.max() >= len(base)):
        raise ValueError(f"{_WHERE}: baseline_indices must be in [0, {len(base)}) (the number of baselines). "
                         f"Received: values from {index.min()} to {index.max()}")
    if stdev:
        shape = to_channels_last(x[:1], axis).shape[1:]
        noise = np.stack([r.standard_normal((num_samples,) + shape) for r in rngs]).astype("float32")
        noise = from_channels_last(noise.reshape((-1,) + shape), axis).reshape((n, num_samples) + x.shape[1:])
        noise *= np.float32(stdev)
    shape = (-1,) + (1,) * (x.ndim - 1)
    scale = np.float32(1.0 / num_samples)

    def shifted(xr, i, k):
        return xr + noise[i, k] if stdev else xr

    def rows(xr, i, k):
        b = base[index[i, k]]
        return b + alphas[i, k].reshape(shape) * (shifted(xr, i, k) - b)

    def weight(xr, i, k):
        return (shifted(xr, i, k) - base[index[i, k]]) * scale

    return GradientPath(num_samples, rows, weight, reduce)


@register("gradient", quick={"num_samples": 4}, title="GradientSHAP", display="signed", order=6,
          reference="Lundberg & Lee 2017; Erion et al. 2021")
def gradient_shap(model, images, class_index=None, *, baselines=None, num_samples=20, stdev=0.0, seed=0,
                  alphas=None, baseline_indices=None, reduce="sum", batch_size=64):
    """GradientSHAP: expected gradients times input minus baseline, over random baselines and path points.

    ``mean_k (x + e_k - b_k) * grad f(b_k + a_k (x + e_k - b_k))`` with ``b_k`` drawn from
    ``baselines``, ``a_k ~ U(0, 1)`` and ``e_k ~ N(0, stdev^2)`` (Captum's ``GradientShap``).

    Args:
        model: A classifier.
        images: ``(N,) + input_shape`` array (images in the model's layout).
        class_index: ``None`` (predicted class), int, or one per image.
        baselines: ``None`` (one all-zero input), a float, one input, or a stack
            ``(B,) + input_shape`` of background inputs drawn from uniformly.
        num_samples: Rows (gradient evaluations) per image.
        stdev: Standard deviation of the Gaussian noise added to the image in each row
            (absolute, as Captum's ``stdevs``).
        seed: Seed of the draws (per image, from ``(seed, image index)``).
        alphas: Optional given path points, ``(N, num_samples)`` in [0, 1], instead of drawing them.
        baseline_indices: Optional given baseline choices, ``(N, num_samples)`` ints.
        reduce: As :func:`~deepkit.viz.attribution.gradient.saliency`; the default ``"sum"``
            keeps the sign.
        batch_size: Model evaluations per compiled call (all rows of all images are chunked).

    Returns:
        float32 array ``(N, H, W)`` (or ``(N,) + input_shape`` with ``reduce=None``).

    Raises:
        ValueError: For baselines of the wrong shape, draws of the wrong shape or indices out of range.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(1, kernel_initializer="ones")])
        >>> gradient_shap(model, np.ones((1, 2, 2, 1)), num_samples=3).round(3).tolist()
        [[[1.0, 1.0], [1.0, 1.0]]]
    """
    num_samples = positive_int(num_samples, "num_samples", _WHERE)
    if not stdev >= 0:
        raise ValueError(f"{_WHERE}: stdev must be >= 0. Received: stdev={stdev!r}")
    options = {"baselines": baselines, "num_samples": num_samples, "stdev": float(stdev), "seed": seed,
               "alphas": alphas, "baseline_indices": baseline_indices, "reduce": reduce,
               "axis": channel_axis(model)}
    return attribute(model, images, class_index, _path, options, batch_size, _WHERE)
