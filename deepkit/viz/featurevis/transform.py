"""Random transformations applied at every optimization step (Lucid's ``transform.py``).

Visualizations that still excite a channel after small random jitters, scalings and
rotations are robust: they show what the unit responds to rather than an adversarial
pixel pattern (Olah et al., "Feature Visualization", Distill 2017).

Lucid pads the image, then crops and resamples it several times. Here every transform is a
2-D affine map of pixel coordinates drawn on the host; a :class:`Compose` multiplies them
into one matrix per image, and the images are resampled once, bilinearly, by a gather of the
four neighbours in ``keras.ops`` (the same convention as ``keras.ops.image.affine_transform``,
which on JAX compiles many times slower): one cheap, differentiable step, the image size
unchanged (so models with ``Flatten``/``Dense`` heads work too).
"""

import math

import numpy as np
from keras import ops

__all__ = [
    "Compose",
    "Transform",
    "jitter",
    "pad",
    "random_scale",
    "random_rotate",
    "compose",
    "standard_transforms",
    "resample",
]


def _about_centre(matrix, h, w):
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    to_c = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], "float64")
    back = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1]], "float64")
    return back @ matrix @ to_c


class Transform:
    """A random geometric transformation: maps input pixel coordinates ``(x, y, 1)`` to output.

    Subclasses implement ``matrices(rng, batch, height, width) -> (batch, 3, 3)`` forward
    matrices. ``fill`` is ``None`` or the constant value for pixels coming from outside the
    image (only :func:`pad` sets it).

    Args:
        name: Readable name.

    Returns:
        A transform usable in :func:`compose`.

    Example:
        >>> t = jitter(2)
        >>> t.matrices(np.random.default_rng(0), 3, 8, 8).shape
        (3, 3, 3)
    """

    fill = None

    def __init__(self, name):
        self.name = name

    def matrices(self, rng, batch, height, width):  # pragma: no cover - abstract
        """Random affine maps of pixel coordinates, one per image.

        Args:
            rng: a ``numpy.random.Generator``.
            batch: how many images.
            height, width: the image size in pixels.

        Returns:
            A float array of shape ``(batch, 3, 3)``.

        Example:
            >>> import numpy as np
            >>> jitter(2).matrices(np.random.default_rng(0), 4, 8, 8).shape
            (4, 3, 3)
        """
        raise NotImplementedError

    def __repr__(self):
        return self.name


class _Jitter(Transform):
    def __init__(self, d):
        super().__init__(f"jitter({d})")
        self.d = int(d)

    def matrices(self, rng, batch, height, width):
        shift = rng.integers(-self.d, self.d + 1, size=(batch, 2))
        m = np.tile(np.eye(3), (batch, 1, 1))
        m[:, 0, 2] = shift[:, 0]
        m[:, 1, 2] = shift[:, 1]
        return m


class _Pad(Transform):
    def __init__(self, width, value):
        super().__init__(f"pad({width})")
        self.width = int(width)
        self.fill = value

    def matrices(self, rng, batch, height, width):
        sy = height / (height + 2.0 * self.width)
        sx = width / (width + 2.0 * self.width)
        m = _about_centre(np.diag([sx, sy, 1.0]), height, width)
        return np.tile(m, (batch, 1, 1))


class _Scale(Transform):
    def __init__(self, scales):
        scales = [float(s) for s in scales]
        super().__init__(f"random_scale({min(scales):g}..{max(scales):g})")
        self.scales = np.asarray(scales)

    def matrices(self, rng, batch, height, width):
        s = rng.choice(self.scales, size=batch)
        return np.stack([_about_centre(np.diag([v, v, 1.0]), height, width) for v in s])


class _Rotate(Transform):
    def __init__(self, angles):
        angles = [float(a) for a in angles]
        super().__init__(f"random_rotate({min(angles):g}..{max(angles):g} deg)")
        self.angles = np.asarray(angles)

    def matrices(self, rng, batch, height, width):
        a = np.deg2rad(rng.choice(self.angles, size=batch))
        out = []
        for t in a:
            c, s = math.cos(t), math.sin(t)
            out.append(_about_centre(np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]), height, width))
        return np.stack(out)


def _check(value, name, minimum=0):
    if not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}. Received: {name}={value!r}")


def jitter(d):
    """Random translation by up to ``d`` pixels in x and y (integers, uniform).

    Args:
        d: Maximum shift in pixels.

    Returns:
        A :class:`Transform`.

    Example:
        >>> jitter(8)
        jitter(8)
    """
    _check(d, "d")
    return _Jitter(d)


def pad(width, value=None):
    """Zoom out so that a border of ``width`` pixels surrounds the image.

    The fixed-size counterpart of Lucid's ``pad``: the border takes the constant ``value``
    (default: the middle of the value range), which discourages strong patterns at the
    image edge.

    Args:
        width: Border in pixels.
        value: Fill value, or ``None`` for the middle of the image value range.

    Returns:
        A :class:`Transform`.

    Example:
        >>> pad(4)
        pad(4)
    """
    _check(width, "width")
    return _Pad(width, value)


def random_scale(scales):
    """Random zoom about the centre by one of ``scales``.

    Args:
        scales: Sequence of factors (1 = unchanged).

    Returns:
        A :class:`Transform`.

    Example:
        >>> random_scale([0.9, 1.0, 1.1])
        random_scale(0.9..1.1)
    """
    scales = list(scales)
    if not scales or any(s <= 0 for s in scales):
        raise ValueError(f"random_scale needs positive factors. Received: scales={scales!r}")
    return _Scale(scales)


def random_rotate(angles):
    """Random rotation about the centre by one of ``angles`` (degrees).

    Args:
        angles: Sequence of angles in degrees.

    Returns:
        A :class:`Transform`.

    Example:
        >>> random_rotate(range(-5, 6))
        random_rotate(-5..5 deg)
    """
    angles = list(angles)
    if not angles:
        raise ValueError(f"random_rotate needs at least one angle. Received: angles={angles!r}")
    return _Rotate(angles)


class Compose:
    """Several transforms applied in order, resampled once.

    Args:
        transforms: Sequence of :class:`Transform`.

    Returns:
        Call ``sample(rng, batch, height, width)`` on the host for a ``(batch, 8)`` array,
        and ``apply(images, sample, fill_value)`` (``keras.ops``) inside the optimization.

    Example:
        >>> t = compose([jitter(1), random_rotate([0, 5])])
        >>> imgs = np.random.rand(2, 6, 6, 1).astype("float32")
        >>> out = t.apply(imgs, t.sample(np.random.default_rng(0), 2, 6, 6), 0.5)
        >>> tuple(out.shape)
        (2, 6, 6, 1)
    """

    def __init__(self, transforms):
        transforms = list(transforms)
        for t in transforms:
            if not isinstance(t, Transform):
                raise TypeError(f"compose takes Transform objects. Received: {t!r} of type {type(t).__name__}")
        self.transforms = transforms

    def __repr__(self):
        return f"compose({self.transforms})"

    def __len__(self):
        return len(self.transforms)

    @property
    def fill(self):
        fills = [t.fill for t in self.transforms if isinstance(t, _Pad)]
        return fills[0] if fills else None

    @property
    def fill_mode(self):
        return "constant" if any(isinstance(t, _Pad) for t in self.transforms) else "reflect"

    def sample(self, rng, batch, height, width):
        """Draw one composite transformation per image.

        Args:
            rng: ``numpy.random.Generator``.
            batch: Number of images.
            height: Image height.
            width: Image width.

        Returns:
            float32 ``(batch, 8)``: the output-to-input projective transforms that
            ``keras.ops.image.affine_transform`` expects.
        """
        total = np.tile(np.eye(3), (batch, 1, 1))
        for t in self.transforms:
            total = t.matrices(rng, batch, height, width) @ total
        inverse = np.linalg.inv(total)
        inverse = inverse / inverse[:, 2:3, 2:3]
        return inverse.reshape(batch, 9)[:, :8].astype("float32")

    def apply(self, images, sample, fill_value=0.0):
        """Resample ``images`` with the transformations in ``sample``.

        Args:
            images: ``(batch, height, width, channels)`` tensor.
            sample: ``(batch, 8)`` from :meth:`sample`.
            fill_value: Value of pixels from outside the image (constant fill mode).

        Returns:
            The transformed images, same shape.
        """
        if not self.transforms:
            return images
        return resample(images, sample, fill_mode=self.fill_mode, fill_value=fill_value)


def resample(images, transform, fill_mode="reflect", fill_value=0.0):
    """Bilinear resampling of a batch by projective transforms, in ``keras.ops``.

    Same convention as ``keras.ops.image.affine_transform``: ``transform[i]`` is
    ``[a0, a1, a2, b0, b1, b2, c0, c1]`` and output pixel ``(x, y)`` reads input point
    ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`` with ``k = c0 x + c1 y + 1``.

    Args:
        images: ``(batch, height, width, channels)`` tensor with static shape.
        transform: ``(batch, 8)`` array or tensor.
        fill_mode: ``"reflect"`` (mirror about the pixel edges) or ``"constant"``.
        fill_value: Value outside the image in constant mode.

    Returns:
        Tensor of the same shape as ``images``.

    Example:
        >>> img = np.arange(9, dtype="float32").reshape(1, 3, 3, 1)
        >>> shift = np.array([[1, 0, 1, 0, 1, 0, 0, 0]], "float32")  # read x + 1
        >>> ops.convert_to_numpy(resample(img, shift, "constant", -1.0))[0, :, :, 0].tolist()
        [[1.0, 2.0, -1.0], [4.0, 5.0, -1.0], [7.0, 8.0, -1.0]]
    """
    if fill_mode not in ("reflect", "constant"):
        raise ValueError(f"resample: fill_mode must be 'reflect' or 'constant'. Received: fill_mode={fill_mode!r}")
    images = ops.convert_to_tensor(images)
    b, h, w, c = images.shape
    dtype = images.dtype
    t = ops.cast(ops.convert_to_tensor(transform), dtype)
    ys, xs = np.meshgrid(np.arange(h, dtype="float32"), np.arange(w, dtype="float32"), indexing="ij")
    X = ops.convert_to_tensor(xs.reshape(1, -1), dtype=dtype)
    Y = ops.convert_to_tensor(ys.reshape(1, -1), dtype=dtype)
    k = t[:, 6:7] * X + t[:, 7:8] * Y + 1.0
    sx = (t[:, 0:1] * X + t[:, 1:2] * Y + t[:, 2:3]) / k
    sy = (t[:, 3:4] * X + t[:, 4:5] * Y + t[:, 5:6]) / k
    if fill_mode == "reflect":
        def reflect(s, n):
            u = ops.mod(s + 0.5, 2.0 * n)
            u = ops.where(u >= n, 2.0 * n - u, u) - 0.5
            return ops.clip(u, 0.0, n - 1.0)

        sx, sy = reflect(sx, w), reflect(sy, h)
    x0 = ops.floor(sx)
    y0 = ops.floor(sy)
    wx = sx - x0
    wy = sy - y0
    flat = ops.reshape(images, (b * h * w, c))
    base = ops.convert_to_tensor((np.arange(b) * h * w).reshape(b, 1), dtype="int32")
    out = 0.0
    for dy, dx, weight in ((0, 0, (1 - wy) * (1 - wx)), (0, 1, (1 - wy) * wx),
                           (1, 0, wy * (1 - wx)), (1, 1, wy * wx)):
        yy = y0 + dy
        xx = x0 + dx
        inside = (yy >= 0) & (yy <= h - 1) & (xx >= 0) & (xx <= w - 1)
        index = ops.cast(ops.clip(yy, 0, h - 1) * w + ops.clip(xx, 0, w - 1), "int32") + base
        values = ops.reshape(ops.take(flat, ops.reshape(index, (-1,)), axis=0), (b, h * w, c))
        if fill_mode == "constant":
            values = ops.where(inside[..., None], values, ops.cast(fill_value, dtype))
        out = out + weight[..., None] * values
    return ops.reshape(out, (b, h, w, c))


def compose(transforms):
    """Compose transforms (see :class:`Compose`).

    Args:
        transforms: Sequence of :class:`Transform` (possibly empty: no transformation).

    Returns:
        A :class:`Compose`.

    Example:
        >>> len(compose([jitter(2), pad(1)]))
        2
    """
    return Compose(transforms)


def standard_transforms(height, width=None):
    """Lucid's ``standard_transforms`` scaled to the image size.

    At 224 px this is Lucid's list: pad 12, jitter 8, scale 0.9..1.1, rotate -10..10 deg,
    jitter 4. Smaller images get proportionally smaller pad and jitter.

    Args:
        height: Image height.
        width: Image width (default: ``height``).

    Returns:
        A :class:`Compose`.

    Example:
        >>> standard_transforms(224)
        compose([pad(12), jitter(8), random_scale(0.9..1.1), random_rotate(-10..10 deg), jitter(4)])
    """
    size = min(height, width or height)
    f = size / 224.0
    p = max(int(round(12 * f)), 1 if size >= 16 else 0)
    j1 = max(int(round(8 * f)), 1)
    j2 = max(int(round(4 * f)), 1 if size >= 16 else 0)
    transforms = []
    if p:
        transforms.append(pad(p))
    transforms += [
        jitter(j1),
        random_scale([1 + (i - 5) / 50.0 for i in range(11)]),
        random_rotate(list(range(-10, 11)) + 5 * [0]),
    ]
    if j2:
        transforms.append(jitter(j2))
    return compose(transforms)
