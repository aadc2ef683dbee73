"""Class probabilities from a classifier's outputs: one rule for the whole package.

A classifier ends in a softmax, in one sigmoid unit, or in raw logits. :func:`as_probabilities` turns
any of them into an ``(N, C)`` float32 array whose rows sum to 1, with ``C >= 2``: one sigmoid unit
(or one logit) becomes the two columns ``[1 - p, p]``, so column ``k`` is always the probability of
class ``k``. :func:`predict_proba` runs a model and applies it (``deepkit.viz.boundary.predict_proba``
is this function; ``deepkit.viz.adversarial.predict_proba`` applies the same rule to the logits it
computes).

Example:
    >>> import numpy as np
    >>> as_probabilities(np.array([[0.0], [100.0]]), from_logits=True).round(3).tolist()
    [[0.5, 0.5], [0.0, 1.0]]
"""

import numpy as np

__all__ = ["as_probabilities", "predict_proba"]


def as_probabilities(outputs, from_logits=None):
    """Model outputs -> ``(N, C)`` float32 class probabilities (rows sum to 1, ``C >= 2``).

    Args:
        outputs: ``(N, C)`` or ``(N,)`` / ``(N, 1)`` outputs of a classifier.
        from_logits: True: ``outputs`` are logits (softmax, or a sigmoid for one unit, is applied);
            False: they are probabilities already; None: decide from the values (logits when any
            value lies outside [0, 1] or, for several columns, the rows do not sum to 1).

    Returns:
        A float32 array ``(N, C)``; one unit gives ``C = 2`` columns ``[1 - p, p]``.

    Raises:
        ValueError: ``outputs`` is not 1-D or 2-D.

    Example:
        >>> as_probabilities(np.zeros((2, 4))).tolist()  # logits (rows do not sum to 1)
        [[0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]]
        >>> as_probabilities(np.array([0.25, 1.0])).tolist()  # one sigmoid unit
        [[0.75, 0.25], [0.0, 1.0]]
    """
    out = np.asarray(outputs, np.float64)
    if out.ndim == 1:
        out = out[:, None]
    if out.ndim != 2:
        raise ValueError(f"as_probabilities: expected classifier outputs of shape (N, C) or (N,). "
                         f"Received: shape={out.shape}")
    if out.shape[1] == 1:
        p = out[:, 0]
        if from_logits or (from_logits is None and p.size and (p.min() < 0 or p.max() > 1)):
            p = 1.0 / (1.0 + np.exp(-p))
        return np.stack([1.0 - p, p], axis=1).astype(np.float32)
    if from_logits or (from_logits is None and out.size and (
            out.min() < 0 or out.max() > 1 or not np.allclose(out.sum(axis=1), 1.0, atol=1e-3))):
        e = np.exp(out - out.max(axis=1, keepdims=True))
        out = e / e.sum(axis=1, keepdims=True)
    return out.astype(np.float32)


def predict_proba(model, x, batch_size=4096):
    """Class probabilities ``(N, C)`` of a classifier, whatever its output layer.

    Args:
        model: a ``keras.Model`` ending in softmax, one sigmoid unit, or raw logits.
        x: inputs.
        batch_size: inputs per forward pass.

    Returns:
        A float32 array ``(N, C)`` with rows summing to 1 (``C = 2`` for one sigmoid unit);
        see :func:`as_probabilities`.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
        >>> predict_proba(m, np.zeros((4, 2))).sum(axis=1).round(6).tolist()
        [1.0, 1.0, 1.0, 1.0]
    """
    return as_probabilities(model.predict(np.asarray(x, np.float32), batch_size=batch_size, verbose=0))
