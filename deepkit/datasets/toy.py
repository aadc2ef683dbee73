"""Two-dimensional toy classification problems, like the TensorFlow Playground's.

Each function returns ``(x, y)``: ``x`` float32 of shape (n_samples, 2), ``y`` int32 class labels of
shape (n_samples,), classes as balanced as ``n_samples`` allows, samples shuffled. The same ``seed``
always gives the same data; ``noise`` is the standard deviation of Gaussian noise added to the
points (in the units of the plot, whose points lie roughly within [-1.5, 1.5]).

Example:
    >>> from deepkit.datasets import toy
    >>> x, y = toy.moons(n_samples=100, noise=0.1, seed=0)
    >>> x.shape, x.dtype.name, y.dtype.name, int(y.sum())
    ((100, 2), 'float32', 'int32', 50)
"""

import numbers

import numpy as np

__all__ = ["circles", "moons", "xor", "spiral", "gaussians", "NAMES", "plane", "multi_gaussians",
           "REGRESSION_NAMES"]

NAMES = ("circles", "moons", "xor", "spiral", "gaussians")

#: The regression problems (float32 targets in about [-1, 1] instead of class labels), as the
#: TensorFlow Playground's "plane" and "multiple Gaussians".
REGRESSION_NAMES = ("plane", "multi_gaussians")


def _check_n(n_samples, where, minimum=1):
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < minimum:
        raise ValueError(
            f"deepkit.datasets.toy.{where}: `n_samples` must be an integer >= {minimum}. "
            f"Received: n_samples={n_samples!r}"
        )
    return int(n_samples)


def _check_real(value, name, where, *, low=0.0, high=None, include_low=True):
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and np.isfinite(value)
    if ok:
        ok = value >= low if include_low else value > low
        if high is not None:
            ok = ok and value <= high
    if not ok:
        bound = f">= {low}" if include_low else f"> {low}"
        if high is not None:
            bound += f" and <= {high}"
        raise ValueError(
            f"deepkit.datasets.toy.{where}: `{name}` must be a finite number {bound}. "
            f"Received: {name}={value!r}"
        )
    return float(value)


def _check_classes(n_classes, where):
    if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral) or n_classes < 2:
        raise ValueError(
            f"deepkit.datasets.toy.{where}: `n_classes` must be an integer >= 2. "
            f"Received: n_classes={n_classes!r}"
        )
    return int(n_classes)


def _rng(seed, where):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise ValueError(
            f"deepkit.datasets.toy.{where}: `seed` must be an integer or None. Received: seed={seed!r}"
        )
    return np.random.default_rng(seed)


def _split_counts(n_samples, n_classes):
    base, extra = divmod(n_samples, n_classes)
    return [base + (k < extra) for k in range(n_classes)]


def _finish(rng, x, y, noise):
    if noise > 0:
        x = x + rng.normal(scale=noise, size=x.shape)
    order = rng.permutation(len(x))
    return x[order].astype("float32"), y[order].astype("int32")


def circles(n_samples=200, *, noise=0.05, factor=0.5, seed=0):
    """A small circle (class 1) inside a large one (class 0).

    Args:
        n_samples: number of points (>= 1).
        noise: standard deviation of the Gaussian noise added to each coordinate (>= 0).
        factor: radius of the inner circle relative to the outer one (radius 1), in (0, 1).
        seed: random seed (integer or None for a fresh random draw).

    Returns:
        ``(x, y)``: float32 points (n_samples, 2) and int32 labels (n_samples,).

    Example:
        >>> x, y = circles(n_samples=4, noise=0.0, seed=0)
        >>> np.round(np.hypot(x[:, 0], x[:, 1]), 3)[np.argsort(y)].tolist()
        [1.0, 1.0, 0.5, 0.5]
    """
    n = _check_n(n_samples, "circles")
    noise = _check_real(noise, "noise", "circles")
    factor = _check_real(factor, "factor", "circles", low=0.0, high=1.0, include_low=False)
    if factor >= 1.0:
        raise ValueError(
            f"deepkit.datasets.toy.circles: `factor` must be < 1 (the inner circle is smaller). "
            f"Received: factor={factor!r}"
        )
    rng = _rng(seed, "circles")
    n_out, n_in = _split_counts(n, 2)
    t_out = rng.uniform(0, 2 * np.pi, n_out)
    t_in = rng.uniform(0, 2 * np.pi, n_in)
    x = np.concatenate([
        np.stack([np.cos(t_out), np.sin(t_out)], 1),
        factor * np.stack([np.cos(t_in), np.sin(t_in)], 1),
    ])
    y = np.repeat([0, 1], [n_out, n_in])
    return _finish(rng, x, y, noise)


def moons(n_samples=200, *, noise=0.1, seed=0):
    """Two interleaving half circles (the scikit-learn ``make_moons`` shape), centred on 0.

    Args:
        n_samples: number of points (>= 1).
        noise: standard deviation of the Gaussian noise (>= 0).
        seed: random seed.

    Returns:
        ``(x, y)``: float32 points (n_samples, 2) and int32 labels (n_samples,).

    Example:
        >>> x, y = moons(n_samples=200, noise=0.0, seed=1)
        >>> bool(x[y == 0, 1].mean() > x[y == 1, 1].mean())
        True
    """
    n = _check_n(n_samples, "moons")
    noise = _check_real(noise, "noise", "moons")
    rng = _rng(seed, "moons")
    n_a, n_b = _split_counts(n, 2)
    t_a = rng.uniform(0, np.pi, n_a)
    t_b = rng.uniform(0, np.pi, n_b)
    x = np.concatenate([
        np.stack([np.cos(t_a), np.sin(t_a)], 1),
        np.stack([1 - np.cos(t_b), 0.5 - np.sin(t_b)], 1),
    ])
    x = x - np.array([0.5, 0.25])  # centre the pair of moons on the origin
    y = np.repeat([0, 1], [n_a, n_b])
    return _finish(rng, x, y, noise)


def xor(n_samples=200, *, noise=0.0, padding=0.05, seed=0):
    """Points in the square [-1, 1]^2; class 1 where the two coordinates have different signs.

    Args:
        n_samples: number of points (>= 1).
        noise: standard deviation of the Gaussian noise added after labelling (>= 0).
        padding: gap kept clear around both axes, in [0, 0.5).
        seed: random seed.

    Returns:
        ``(x, y)``: float32 points (n_samples, 2) and int32 labels (n_samples,).

    Example:
        >>> x, y = xor(n_samples=50, seed=0)
        >>> bool(np.all(y == (x[:, 0] * x[:, 1] < 0)))
        True
    """
    n = _check_n(n_samples, "xor")
    noise = _check_real(noise, "noise", "xor")
    padding = _check_real(padding, "padding", "xor", high=0.49)
    rng = _rng(seed, "xor")
    counts = _split_counts(n, 2)
    parts, labels = [], []
    for label, count in enumerate(counts):
        magnitude = rng.uniform(padding, 1.0, size=(count, 2))
        sx = rng.choice([-1.0, 1.0], size=count)
        # class 0: same signs; class 1: opposite signs
        sy = sx if label == 0 else -sx
        parts.append(magnitude * np.stack([sx, sy], 1))
        labels.append(np.full(count, label))
    return _finish(rng, np.concatenate(parts), np.concatenate(labels), noise)


def spiral(n_samples=200, *, noise=0.0, n_classes=2, turns=1.0, seed=0):
    """Interleaved spiral arms, one per class, growing from the origin to radius 1.

    Args:
        n_samples: number of points (>= n_classes).
        noise: standard deviation of the Gaussian noise (>= 0).
        n_classes: number of arms (>= 2).
        turns: how many full turns each arm makes (> 0).
        seed: random seed.

    Returns:
        ``(x, y)``: float32 points (n_samples, 2) and int32 labels in [0, n_classes).

    Example:
        >>> x, y = spiral(n_samples=90, n_classes=3, seed=0)
        >>> np.bincount(y).tolist(), bool(np.abs(x).max() <= 1.0)
        ([30, 30, 30], True)
    """
    n_classes = _check_classes(n_classes, "spiral")
    n = _check_n(n_samples, "spiral", minimum=n_classes)
    noise = _check_real(noise, "noise", "spiral")
    turns = _check_real(turns, "turns", "spiral", include_low=False)
    rng = _rng(seed, "spiral")
    parts, labels = [], []
    for label, count in enumerate(_split_counts(n, n_classes)):
        r = np.linspace(0.05, 1.0, count)
        t = 2 * np.pi * (turns * r + label / n_classes)
        parts.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        labels.append(np.full(count, label))
    return _finish(rng, np.concatenate(parts), np.concatenate(labels), noise)


def gaussians(n_samples=200, *, noise=0.3, n_classes=2, seed=0):
    """One Gaussian blob per class, the centres evenly spaced on the unit circle.

    Args:
        n_samples: number of points (>= n_classes).
        noise: standard deviation of each blob (>= 0).
        n_classes: number of blobs (>= 2).
        seed: random seed.

    Returns:
        ``(x, y)``: float32 points (n_samples, 2) and int32 labels in [0, n_classes).

    Example:
        >>> x, y = gaussians(n_samples=400, noise=0.1, n_classes=4, seed=0)
        >>> [round(float(v), 1) for v in x[y == 0].mean(0)]
        [0.7, 0.7]
    """
    n_classes = _check_classes(n_classes, "gaussians")
    n = _check_n(n_samples, "gaussians", minimum=n_classes)
    noise = _check_real(noise, "noise", "gaussians")
    rng = _rng(seed, "gaussians")
    counts = _split_counts(n, n_classes)
    angles = np.pi / 4 + 2 * np.pi * np.arange(n_classes) / n_classes
    centres = np.stack([np.cos(angles), np.sin(angles)], 1)
    x = np.repeat(centres, counts, axis=0)
    y = np.repeat(np.arange(n_classes), counts)
    return _finish(rng, x, y, noise)


def _regression_finish(rng, x, target_at, noise):
    """Targets read at the points moved by the noise (as the Playground does), points kept."""
    moved = x + rng.normal(scale=noise, size=x.shape) if noise > 0 else x
    return x.astype("float32"), target_at(moved).astype("float32")


def plane(n_samples=200, *, noise=0.0, seed=0):
    """A regression problem: a tilted plane over the square [-1.2, 1.2]^2, target ``(x1 + x2) / 2``.

    The TensorFlow Playground's "plane" (its radius 6 and label scale 1/10, in this module's units,
    where the Playground's coordinates are divided by 5). The noise moves the point at which the target
    is read, not the point itself.

    Args:
        n_samples: number of points (>= 1).
        noise: standard deviation of the Gaussian displacement of the point the target is read at (>= 0).
        seed: random seed.

    Returns:
        ``(x, y)``: float32 points (n_samples, 2) and float32 targets (n_samples,) in [-1.2, 1.2].

    Example:
        >>> x, y = plane(n_samples=5, seed=0)
        >>> bool(np.allclose(y, x.sum(1) / 2))
        True
    """
    n = _check_n(n_samples, "plane")
    noise = _check_real(noise, "noise", "plane")
    rng = _rng(seed, "plane")
    x = rng.uniform(-1.2, 1.2, size=(n, 2))
    return _regression_finish(rng, x, lambda p: (p[:, 0] + p[:, 1]) / 2, noise)


# Centre (x, y) and sign of each bump of multi_gaussians: the Playground's six, divided by 5.
_BUMPS = ((-0.8, 0.5, 1.0), (0.0, 0.5, -1.0), (0.8, 0.5, 1.0),
          (-0.8, -0.5, -1.0), (0.0, -0.5, 1.0), (0.8, -0.5, -1.0))


def multi_gaussians(n_samples=200, *, noise=0.0, seed=0):
    """A regression problem: six bumps of height +1 or -1 in two rows, zero between them.

    The TensorFlow Playground's "multiple Gaussians": each bump falls linearly from its sign at its
    centre to 0 at distance 0.4 (the Playground's 2, divided by 5); where bumps meet the target is the
    one largest in absolute value. Points are uniform over [-1.2, 1.2]^2.

    Args:
        n_samples: number of points (>= 1).
        noise: standard deviation of the Gaussian displacement of the point the target is read at (>= 0).
        seed: random seed.

    Returns:
        ``(x, y)``: float32 points (n_samples, 2) and float32 targets (n_samples,) in [-1, 1].

    Example:
        >>> x, y = multi_gaussians(n_samples=400, seed=0)
        >>> float(y.min()) >= -1.0 and float(y.max()) <= 1.0, bool((y == 0).any())
        (True, True)
    """
    n = _check_n(n_samples, "multi_gaussians")
    noise = _check_real(noise, "noise", "multi_gaussians")
    rng = _rng(seed, "multi_gaussians")
    x = rng.uniform(-1.2, 1.2, size=(n, 2))

    def target(p):
        values = np.stack([sign * np.clip(1 - np.hypot(p[:, 0] - cx, p[:, 1] - cy) / 0.4, 0, 1)
                           for cx, cy, sign in _BUMPS], 1)
        return values[np.arange(len(p)), np.abs(values).argmax(1)]

    return _regression_finish(rng, x, target, noise)
