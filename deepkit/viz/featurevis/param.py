"""Image parameterizations for feature visualization (as Lucid's ``optvis/param``).

Optimizing raw pixels produces high-frequency noise that excites a network without looking
like anything. Olah et al. (Distill 2017) optimize instead

- the image's Fourier coefficients, scaled by ``1 / frequency`` (``fft=True``), so every
  frequency gets about the same gradient step: a preconditioned, "whitened" descent;
- in a decorrelated colour space (``decorrelate``) mapped to RGB by the square root of
  ImageNet's colour covariance: only for 3-channel (RGB) images. A grayscale (1-channel)
  image is one Fourier spectrum (or one pixel grid) of its own, with no colour mixing;
- squashed through a sigmoid into the model's input range ``value_range``; or, with
  ``max_norm``, kept inside an L2 ball around the middle of the range (no squashing), where
  the image that maximizes a linear unit is that unit's filter.

An :class:`ImageParam` holds the initial parameter array and a ``keras.ops`` function
``to_image(params) -> (batch, height, width, channels)`` images, and says which choices it
made (``fft``, ``decorrelated``, ``max_norm``).
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
        fft: Whether the parameters are Fourier coefficients.
        decorrelated: Whether colour is decorrelated (RGB only).
        max_norm: The L2 bound of each image around the middle of the value range, or
            ``None`` (sigmoid squashing into the range).

    Returns:
        The parameterization; call ``param.to_image(params)`` inside the optimization.

    Example:
        >>> p = image(8, 8, channels=1, batch=2, fft=False)
        >>> p.shape, p.init.shape
        ((2, 8, 8, 1), (2, 8, 8, 1))
        >>> p.channels, p.fft, p.decorrelated
        (1, False, False)
    """

    def __init__(self, init, to_image, shape, value_range, description, *, fft=False,
                 decorrelated=False, max_norm=None):
        self.init = np.asarray(init, "float32")
        self.to_image = to_image
        self.shape = tuple(shape)
        self.value_range = tuple(value_range)
        self.description = description
        self.fft = bool(fft)
        self.decorrelated = bool(decorrelated)
        self.max_norm = None if max_norm is None else float(max_norm)

    @property
    def channels(self):
        """Number of image channels (1 for grayscale, 3 for RGB)."""
        return self.shape[-1]

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


def _resolve_decorrelate(decorrelate, channels):
    if isinstance(decorrelate, str):
        if decorrelate != "auto":
            raise ValueError(
                f"image: decorrelate must be 'auto', True or False. Received: decorrelate={decorrelate!r}"
            )
        return channels == 3
    if decorrelate and channels != 3:
        raise ValueError(
            "image: colour decorrelation maps 3 RGB channels (ImageNet's colour covariance); "
            f"the image has {channels} channel{'s' if channels != 1 else ''}. Use "
            "decorrelate='auto' (RGB only) or False. Received: "
            f"decorrelate={decorrelate!r}, channels={channels}"
        )
    return bool(decorrelate)


def image(height, width, channels=3, batch=1, *, fft=True, decorrelate="auto", sd=0.01,
          decay_power=1.0, value_range=(0.0, 1.0), seed=0, init=None, max_norm=None):
    """The standard Lucid image parameterization, chosen by the number of channels.

    Which parameterization is used:

    - 3 channels (RGB), ``decorrelate="auto"`` or ``True``: three decorrelated colour planes
      (Lucid's square root of ImageNet's colour covariance maps them to RGB), each a 1/f
      Fourier spectrum (``fft=True``) or a pixel grid (``fft=False``);
    - 1 channel (grayscale): one 1/f Fourier spectrum (or pixel grid), no colour mixing;
      ``decorrelate="auto"`` chooses this, ``decorrelate=True`` is an error;
    - any other channel count, or ``decorrelate=False``: every channel its own spectrum (or
      pixel grid).

    The image is squashed into ``value_range`` by a sigmoid; with ``max_norm`` it is instead
    the middle of the range plus a deviation of L2 norm at most ``max_norm`` (the deviation
    is scaled down onto the ball when longer). Under such a norm bound the image that
    maximizes a linear function ``w . x`` is ``centre + max_norm * w / |w|``: a first-layer
    unit's visualization is then its own filter.

    Args:
        height: Image height.
        width: Image width.
        channels: Image channels.
        batch: Number of images.
        fft: Parameterize by Fourier coefficients scaled by ``1 / f ** decay_power``.
        decorrelate: ``"auto"`` (decorrelated colour for 3 channels only), ``True`` (3
            channels required) or ``False``.
        sd: Standard deviation of the random initial parameters.
        decay_power: Exponent of the ``1 / f`` spectrum scaling.
        value_range: ``(low, high)`` of the model's expected input values; images are
            ``low + (high - low) * sigmoid(t)`` (or, with ``max_norm``, within the ball
            around ``(low + high) / 2``).
        seed: Seed of the random initialization (numpy).
        init: Optional ``(batch, height, width, channels)`` start images in ``value_range``
            (pixel parameterization only): optimization starts from them.
        max_norm: Optional bound of each image's L2 distance (over all pixels and
            channels, in value units) from the middle of the range; at most
            ``(high - low) / 2``, so that the ball lies inside the value range.

    Returns:
        An :class:`ImageParam`.

    Raises:
        ValueError: For non-positive sizes, an empty value range, ``init`` together with
            ``fft=True``, ``decorrelate=True`` on other than 3 channels, or a ``max_norm``
            that is not positive or leaves the value range.

    Example:
        >>> p = image(16, 16, channels=3, batch=4, value_range=(0, 255))
        >>> imgs = p.images()
        >>> imgs.shape, bool(imgs.min() >= 0 and imgs.max() <= 255)
        ((4, 16, 16, 3), True)
        >>> p.decorrelated, image(16, 16, channels=1).decorrelated
        (True, False)
        >>> bounded = image(8, 8, channels=1, max_norm=0.5, sd=1.0).images()
        >>> bool(np.linalg.norm(bounded - 0.5) <= 0.5 + 1e-5)
        True
    """
    for name, v in (("height", height), ("width", width), ("channels", channels), ("batch", batch)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"image: {name} must be a positive integer. Received: {name}={v!r}")
    lo, hi = (float(v) for v in value_range)
    if not hi > lo:
        raise ValueError(f"image: value_range must be (low, high) with high > low. Received: value_range={value_range!r}")
    decorrelate = _resolve_decorrelate(decorrelate, channels)
    centre = (lo + hi) / 2.0
    if max_norm is not None:
        max_norm = float(max_norm)
        if not 0.0 < max_norm <= (hi - lo) / 2.0:
            raise ValueError(
                "image: max_norm must be positive and at most half the value range "
                f"({(hi - lo) / 2.0:g}), so that the ball stays inside value_range={value_range!r}. "
                f"Received: max_norm={max_norm!r}"
            )
    rng = np.random.default_rng(seed)
    shape = (batch, height, width, channels)
    colour = ", decorrelated colour" if decorrelate else ", grayscale" if channels == 1 else ""
    bound = f", |x - {centre:g}| <= {max_norm:g}" if max_norm is not None else ""
    choices = dict(fft=fft and init is None, decorrelated=decorrelate, max_norm=max_norm)

    def finish(t):
        # t: (B, H, W, C) unconstrained.
        if decorrelate:
            t = ops.matmul(t, ops.convert_to_tensor(_DECORRELATE, dtype=t.dtype))
        if max_norm is None:
            return lo + (hi - lo) * ops.sigmoid(t)
        norm = ops.sqrt(ops.sum(ops.square(t), axis=(1, 2, 3), keepdims=True) + 1e-12)
        return centre + t * ops.minimum(1.0, max_norm / norm)

    if init is not None:
        if fft:
            raise ValueError("image: init= needs fft=False (start images are pixel parameters).")
        start = np.asarray(init, "float32")
        if start.shape != shape:
            raise ValueError(f"image: init must have shape {shape}. Received: init.shape={start.shape}")
        if max_norm is None:
            p = np.clip((start - lo) / (hi - lo), 1e-4, 1 - 1e-4)
            logits = np.log(p / (1 - p)).astype("float32")
        else:
            logits = start - centre
            norms = np.sqrt((logits.astype("float64") ** 2).sum(axis=(1, 2, 3)))
            if np.any(norms > max_norm * (1 + 1e-5)):
                raise ValueError(
                    f"image: init images must lie within max_norm={max_norm:g} of {centre:g}. "
                    f"Received: distances up to {norms.max():g}"
                )
        if decorrelate:
            logits = logits @ np.linalg.inv(_DECORRELATE).astype("float32")
        return ImageParam(logits, finish, shape, (lo, hi), f"pixels from init{colour}{bound}", **choices)

    if not fft:
        values = rng.normal(0.0, sd, size=shape).astype("float32")
        return ImageParam(values, finish, shape, (lo, hi), f"pixels{colour}{bound}", **choices)

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

    return ImageParam(values, to_image, shape, (lo, hi), f"fft 1/f^{decay_power:g}{colour}{bound}", **choices)
