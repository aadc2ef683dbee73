"""The playground's points: the toy problems on the Playground's plane, features, the grid, CSV upload.

The plane is the TensorFlow Playground's: coordinates in [-6, 6], the data sets of
:mod:`deepkit.datasets.toy` scaled by 5 (their radius 1 becomes the Playground's 5). Classification
labels are 0 and 1 (drawn orange and blue), regression targets lie in about [-1, 1]. Noise is the
Playground's slider, 0 to 50 (percent). Nothing here imports Keras.

Example:
    >>> from deepkit.playground.config import DEFAULTS
    >>> points = make_points(DEFAULTS)
    >>> points.x_train.shape, points.x_test.shape, sorted(set(points.y_train.tolist()))
    ((250, 2), (250, 2), [0.0, 1.0])
    >>> features(points.x_train[:1], ["x", "xSquared"]).shape
    (1, 2)
"""

import csv
import dataclasses
import io

import numpy as np

from deepkit.datasets import toy
from deepkit.playground.config import LIMITS, LimitError

__all__ = ["Points", "make_points", "features", "grid_points", "parse_csv", "EXTENT", "SCALE"]

#: Half the side of the plane shown (the Playground's [-6, 6]).
EXTENT = 6.0
#: Toy units -> plane units.
SCALE = 5.0

_FEATURE_FUNCTIONS = {
    "x": lambda p: p[:, 0],
    "y": lambda p: p[:, 1],
    "xSquared": lambda p: p[:, 0] ** 2,
    "ySquared": lambda p: p[:, 1] ** 2,
    "xTimesY": lambda p: p[:, 0] * p[:, 1],
    "sinX": lambda p: np.sin(p[:, 0]),
    "sinY": lambda p: np.sin(p[:, 1]),
}


@dataclasses.dataclass
class Points:
    """Train and test points on the plane.

    Attributes:
        x_train, y_train, x_test, y_test: float32 points (N, 2) and targets (N,) (labels 0/1 or values).
        problem: ``"classification"`` or ``"regression"``.
        note: a sentence about how the points were made (CSV rescaling), or ``""``.

    Example:
        >>> p = Points(np.zeros((3, 2)), np.zeros(3), np.zeros((1, 2)), np.zeros(1), "classification")
        >>> len(p.x_train), p.note
        (3, '')
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    problem: str
    note: str = ""


def _generate(config):
    n, seed, level = config["numSamples"], config["seed"], config["noise"] / 100.0
    name = config["dataset"]
    if name == "circle":
        x, y = toy.circles(n, noise=0.5 * level, factor=0.5, seed=seed)
    elif name == "xor":
        x, y = toy.xor(n, noise=0.5 * level, padding=0.06, seed=seed)
    elif name == "gauss":
        x, y = toy.gaussians(n, noise=0.12 + 0.6 * level, seed=seed)
        x = x * 0.6  # the Playground's blobs sit at (2, 2) and (-2, -2)
    elif name == "spiral":
        x, y = toy.spiral(n, noise=0.3 * level, turns=1.75, seed=seed)
    elif name == "reg-plane":
        x, y = toy.plane(n, noise=level, seed=seed)
    elif name == "reg-gauss":
        x, y = toy.multi_gaussians(n, noise=level, seed=seed)
    else:
        raise LimitError(f"dataset {name!r} cannot be generated; expected circle, xor, gauss, spiral, reg-plane "
                         "or reg-gauss")
    return (x * SCALE).astype("float32"), y.astype("float32")


def split(x, y, perc_train, seed):
    """Shuffle and split points into train and test parts.

    Args:
        x: points (N, 2).
        y: targets (N,).
        perc_train: percent of the points for training (10 to 90).
        seed: the shuffle's seed.

    Returns:
        ``(x_train, y_train, x_test, y_test)``.

    Example:
        >>> parts = split(np.zeros((10, 2)), np.arange(10.0), 70, 0)
        >>> [len(p) for p in parts]
        [7, 7, 3, 3]
    """
    order = np.random.default_rng(seed + 1).permutation(len(x))
    cut = max(1, min(len(x) - 1, int(round(len(x) * perc_train / 100.0))))
    train, test = order[:cut], order[cut:]
    return x[train], y[train], x[test], y[test]


def make_points(config, uploaded=None):
    """The train and test points a configuration asks for.

    Args:
        config: a settings dict (:mod:`deepkit.playground.config`).
        uploaded: for ``dataset="csv"``, the ``(x, y, problem, note)`` of :func:`parse_csv`.

    Returns:
        A :class:`Points`.

    Example:
        >>> from deepkit.playground.config import checked
        >>> make_points(checked({"dataset": "reg-plane", "percTrainData": 80})).x_train.shape
        (400, 2)
    """
    if config["dataset"] == "csv":
        if uploaded is None:
            raise LimitError("dataset 'csv': no CSV of points has been uploaded in this page")
        x, y, problem, note = uploaded
    else:
        (x, y), problem, note = _generate(config), config["problem"], ""
    return Points(*split(x, y, config["percTrainData"], config["seed"]), problem=problem, note=note)


def features(points, names):
    """The input features of points, in the order given.

    Args:
        points: (N, 2) coordinates on the plane.
        names: feature names of ``deepkit.playground.config.FEATURES``.

    Returns:
        float32 (N, len(names)).

    Example:
        >>> features(np.array([[2.0, 3.0]]), ["xTimesY", "ySquared"]).tolist()
        [[6.0, 9.0]]
    """
    points = np.asarray(points, np.float32)
    return np.stack([_FEATURE_FUNCTIONS[n](points) for n in names], 1).astype("float32")


def grid_points(resolution):
    """The centres of a resolution x resolution grid over the plane, row by row from the top.

    Args:
        resolution: cells per side.

    Returns:
        float32 (resolution**2, 2): row ``i`` of the image (y from +6 down to -6), column ``j`` (x from -6).

    Example:
        >>> g = grid_points(2)
        >>> g.tolist()
        [[-3.0, 3.0], [3.0, 3.0], [-3.0, -3.0], [3.0, -3.0]]
    """
    step = 2 * EXTENT / resolution
    centres = -EXTENT + step * (np.arange(resolution) + 0.5)
    xx, yy = np.meshgrid(centres, centres[::-1])
    return np.stack([xx.ravel(), yy.ravel()], 1).astype("float32")


def parse_csv(text):
    """The user's own 2-D points from CSV text: columns ``x1, x2, label`` (a header line is allowed).

    Labels that are all 0/1 or all -1/+1 make a classification problem (-1 read as 0); other numbers a
    regression problem (targets scaled into [-1, 1] when they leave it). Points are scaled into the
    plane (largest coordinate 5) when they leave [-6, 6] or all lie within [-1, 1].

    Args:
        text: the CSV file's text.

    Returns:
        ``(x, y, problem, note)``: float32 points (N, 2) and targets (N,), the problem type and a note
        on what was scaled (or ``""``).

    Raises:
        LimitError: a line that is not three numbers (its number quoted), too few or too many points.

    Example:
        >>> x, y, problem, note = parse_csv("x1,x2,label\\n1,2,0\\n-3,4,1\\n0,0,1\\n2,2,0")
        >>> x.shape, y.tolist(), problem, note
        ((4, 2), [0.0, 1.0, 1.0, 0.0], 'classification', '')
    """
    if len(text) > LIMITS["csv_bytes"]:
        raise LimitError(f"CSV: at most {LIMITS['csv_bytes']} bytes. Received: {len(text)} bytes")
    rows = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        if not row or all(not c.strip() for c in row):
            continue
        try:
            values = [float(c) for c in row[:3]]
            if len(row) < 3 or not np.all(np.isfinite(values)):
                raise ValueError
        except ValueError:
            if not rows and number == 1:
                continue  # a header
            raise LimitError(f"CSV line {number}: expected three numbers x1, x2, label. Received: "
                             f"{','.join(row)[:60]!r}") from None
        rows.append(values)
    if len(rows) < 4:
        raise LimitError(f"CSV: at least 4 points are needed. Received: {len(rows)}")
    if len(rows) > LIMITS["points"]:
        raise LimitError(f"CSV: at most {LIMITS['points']} points. Received: {len(rows)}")
    data = np.asarray(rows, np.float64)
    x, y = data[:, :2], data[:, 2]
    notes = []
    labels = set(np.unique(y).tolist())
    if labels <= {0.0, 1.0} or labels <= {-1.0, 1.0}:
        problem, y = "classification", (y > 0).astype(np.float64)
    else:
        problem = "regression"
        peak = np.abs(y).max()
        if peak > 1:
            y = y / peak
            notes.append(f"targets divided by {peak:.4g}")
    reach = np.abs(x).max()
    if reach > EXTENT or reach <= 1:
        factor = 5.0 / reach if reach > 0 else 1.0
        x = x * factor
        notes.append(f"points multiplied by {factor:.4g} to fill the plane")
    return x.astype("float32"), y.astype("float32"), problem, "; ".join(notes)
