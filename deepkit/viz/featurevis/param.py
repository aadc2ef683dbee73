"""Image parameterizations for feature visualization (as Lucid's ``optvis/param``).

Optimizing raw pixels produces high-frequency noise that excites a network without looking
like anything. Olah et al. (Distill 2017) optimize instead

- the image's Fourier coefficients, scaled by ``1 / frequency`` (``fft=True``), so every
  frequency gets about the same gradient step: a preconditioned, "whitened" descent;
- in a decorrelated colour space (``decorrelate=True``) mapped to RGB by the square root of
  ImageNet's colour covariance;
- squashed through a sigmoid into the model's input range ``value_range``.

An :class:`ImageParam` holds the initial parameter array and a ``keras.ops`` function
``to_image(params) -> (batch, height, width, channels)`` images.
"""

import numpy as np
from keras import ops

__all__ = ["ImageParam", "image", "COLOR_CORRELATION_SVD_SQRT"]

# Square root of ImageNet's RGB colour covariance (Lucid, optvis/param/color.py).
COLOR_CORRELATION_SVD_SQRT = np.asarray(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], "float32"
)
_MAX_NORM = np.max(np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0))
_DECORRELATE = (COLOR_CORRELATION_SVD_SQRT / _MAX_NORM).T.astype("float32")


class ImageParam:
    """A parameterized batch of images.

    Args:
        init: Initial parameter array (numpy).
        to_image: ``keras.ops`` function mapping a parameter tensor to images
            ``(batch, height, width, channels)`` in the value range.
        shape: ``(batch, height, width, channels)`` of the images.
        value_range: ``(low, high)`` of the image values.
        description: Short description used in reports.

    Returns:
        The parameterization; call ``param.to_image(params)`` inside the optimization.

    Example:
        >>> p = image(8, 8, channels=1, batch=2, fft=False)
        >>> p.shape, p.init.shape
        ((2, 8, 8, 1), (2, 8, 8, 1))
    """

    def __init__(self, init, to_image, shape, value_range, description):
        self.init = np.asarray(init, "float32")
        self.to_image = to_image
        self.shape = tuple(shape)
        self.value_range = tuple(value_range)
        self.description = description

    def __repr__(self):
        return f"ImageParam({self.description}, shape={self.shape})"

    def images(self, params=None):
        """Images for ``params`` (default: the initial parameters) as a numpy array.

        Args:
            params: Parameter array, or ``None`` for ``self.init``.

        Returns:
            float32 numpy array ``(batch, height, width, channels)``.

        Example:
            >>> p = image(4, 4, channels=3, batch=1, seed=0)
            >>> float(p.images().min()) >= 0.0
            True
        """
        out = self.to_image(ops.convert_to_tensor(self.init if params is None else params))
        return np.asarray(ops.convert_to_numpy(out), "float32")


def _fft_scale(h, w, decay_power):
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    freqs = np.sqrt(fx * fx + fy * fy)
    scale = 1.0 / np.maximum(freqs, 1.0 / max(h, w)) ** decay_power
    return (scale * np.sqrt(h * w)).astype("float32")


def image(height, width, channels=3, batch=1, *, fft=True, decorrelate=True, sd=0.01,
          decay_power=1.0, value_range=(0.0, 1.0), seed=0, init=None):
    """The standard Lucid image parameterization.

    Args:
        height: Image height.
        width: Image width.
        channels: Image channels; colour decorrelation only applies to 3.
        batch: Number of images.
        fft: Parameterize by Fourier coefficients scaled by ``1 / f ** decay_power``.
        decorrelate: Use decorrelated colour (3 channels only; ignored otherwise).
        sd: Standard deviation of the random initial parameters.
        decay_power: Exponent of the ``1 / f`` spectrum scaling.
        value_range: ``(low, high)`` of the model's expected input values; images are
            ``low + (high - low) * sigmoid(t)``.
        seed: Seed of the random initialization (numpy).
        init: Optional ``(batch, height, width, channels)`` start images in ``value_range``
            (pixel parameterization only): optimization starts from them.

    Returns:
        An :class:`ImageParam`.

    Raises:
        ValueError: For non-positive sizes, an empty value range, or ``init`` together with
            ``fft=True``.

    Example:
        >>> p = image(16, 16, channels=3, batch=4, value_range=(0, 255))
        >>> imgs = p.images()
        >>> imgs.shape, bool(imgs.min() >= 0 and imgs.max() <= 255)
        ((4, 16, 16, 3), True)
    """
    for name, v in (("height", height), ("width", width), ("channels", channels), ("batch", batch)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"image: {name} must be a positive integer. Received: {name}={v!r}")
    lo, hi = (float(v) for v in value_range)
    if not hi > lo:
        raise ValueError(f"image: value_range must be (low, high) with high > low. Received: value_range={value_range!r}")
    rng = np.random.default_rng(seed)
    decorrelate = bool(decorrelate) and channels == 3
    shape = (batch, height, width, channels)

    def finish(t):
        # t: (B, H, W, C) unconstrained.
        if decorrelate:
            t = ops.matmul(t, ops.convert_to_tensor(_DECORRELATE, dtype=t.dtype))
        return lo + (hi - lo) * ops.sigmoid(t)

    if init is not None:
        if fft:
            raise ValueError("image: init= needs fft=False (start images are pixel parameters).")
        start = np.asarray(init, "float32")
        if start.shape != shape:
            raise ValueError(f"image: init must have shape {shape}. Received: init.shape={start.shape}")
        p = np.clip((start - lo) / (hi - lo), 1e-4, 1 - 1e-4)
        logits = np.log(p / (1 - p)).astype("float32")
        if decorrelate:
            logits = logits @ np.linalg.inv(_DECORRELATE).astype("float32")
        return ImageParam(logits, finish, shape, (lo, hi), "pixels from init")

    if not fft:
        values = rng.normal(0.0, sd, size=shape).astype("float32")
        return ImageParam(values, finish, shape, (lo, hi),
                          f"pixels{', decorrelated colour' if decorrelate else ''}")

    scale = _fft_scale(height, width, decay_power)
    # Parameters: real and imaginary parts of the (B, C, H, W) spectrum, stacked on axis 0.
    values = rng.normal(0.0, sd, size=(2, batch, channels, height, width)).astype("float32")

    def to_image(params):
        s = ops.convert_to_tensor(scale, dtype=params.dtype)
        real, _ = ops.ifft2((params[0] * s, params[1] * s))
        # Lucid divides its irfft2d image by 4; real(ifft2) of a non-Hermitian spectrum is
        # the Hermitian part, about 1/sqrt(2) as large, hence 4 / sqrt(2).
        t = ops.transpose(real, (0, 2, 3, 1)) / (4.0 / np.sqrt(2.0))
        return finish(t)

    return ImageParam(values, to_image, shape, (lo, hi),
                      f"fft 1/f^{decay_power:g}{', decorrelated colour' if decorrelate else ''}")
