"""Class probabilities from a classifier's outputs: one rule for the whole package.

A classifier ends in a softmax, in one sigmoid unit, or in raw logits. Whether a model outputs logits
is answered here once, from its graph (:func:`outputs_logits`: its output layer, looked for inside
nested models, is no softmax or sigmoid, as a layer or as an activation; the layer-level rule is
:func:`squashing_activation`); the command line's losses and ``deepkit.viz``'s logit models ask it.
:func:`as_probabilities` turns any classifier output into an ``(N, C)`` float32 array whose rows sum
to 1, with ``C >= 2``: one sigmoid unit (or one logit) becomes the two columns ``[1 - p, p]``, so
column ``k`` is always the probability of class ``k``. :func:`predict_proba` runs a model and applies
it (``deepkit.viz.boundary.predict_proba`` is this function).

Example:
    >>> import numpy as np
    >>> as_probabilities(np.array([[0.0], [100.0]]), from_logits=True).round(3).tolist()
    [[0.5, 0.5], [0.0, 1.0]]
"""

import numpy as np

__all__ = ["squashing_activation", "outputs_logits", "as_probabilities", "predict_proba"]

_SQUASHING = ("softmax", "sigmoid")


def squashing_activation(layer):
    """The probability-making activation a layer ends in: ``"softmax"``, ``"sigmoid"`` or ``None``.

    Args:
        layer: a Keras layer (a ``Softmax`` layer, an ``Activation`` layer, or any layer with an
            ``activation``).

    Returns:
        ``"softmax"``, ``"sigmoid"`` or ``None`` (linear, ReLU, ``log_softmax``...: logits).

    Example:
        >>> import keras
        >>> squashing_activation(keras.layers.Dense(3, activation="softmax"))
        'softmax'
        >>> squashing_activation(keras.layers.Softmax()), squashing_activation(keras.layers.Dense(3))
        ('softmax', None)
    """
    import keras

    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    name = getattr(getattr(layer, "activation", None), "__name__", None)
    return name if name in _SQUASHING else None


def _output_layer(model):
    from deepkit.backend.keras_internals import producing_layer

    try:
        outputs = list(model.outputs or [])
    except (AttributeError, ValueError):  # a subclassed or unbuilt model has no symbolic outputs
        outputs = []
    if len(outputs) == 1:
        layer = producing_layer(outputs[0])
        if layer is not None:
            return layer
    layers = getattr(model, "layers", None) or []
    return layers[-1] if layers else None


def outputs_logits(model):
    """Whether a model outputs logits (``True``) or probabilities (``False``): the package's one answer.

    The layer that makes the model's output (inside a nested model, the nested model's own output
    layer) decides: a softmax or sigmoid (:func:`squashing_activation`) makes probabilities,
    anything else logits.

    Args:
        model: a ``keras.Model`` (functional, Sequential, nested).

    Returns:
        ``True`` or ``False``; ``None`` when the model has no layers to look at.

    Example:
        >>> import keras
        >>> inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        >>> outputs_logits(keras.Sequential([keras.Input((4,)), inner]))
        False
        >>> outputs_logits(keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)]))
        True
    """
    import keras

    layer, seen = _output_layer(model), set()
    while isinstance(layer, keras.Model) and hasattr(layer, "layers") and id(layer) not in seen:
        seen.add(id(layer))
        layer = _output_layer(layer)
    if layer is None:
        return None
    return squashing_activation(layer) is None


def as_probabilities(outputs, from_logits=None):
    """Model outputs -> ``(N, C)`` float32 class probabilities (rows sum to 1, ``C >= 2``).

    Args:
        outputs: ``(N, C)`` or ``(N,)`` / ``(N, 1)`` outputs of a classifier.
        from_logits: True: ``outputs`` are logits (softmax, or a sigmoid for one unit, is applied);
            False: they are probabilities already; None (outputs of unknown origin; a model's are
            known, see :func:`predict_proba`): decide from the values (logits when any value lies
            outside [0, 1] or, for several columns, the rows do not sum to 1).

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

    Whether the outputs are logits is the model's answer (:func:`outputs_logits`), not a guess from
    the values: one logit that happens to lie in [0, 1] still goes through the sigmoid.

    Args:
        model: a ``keras.Model`` with one ``(batch, classes)`` or ``(batch,)`` output ending in
            softmax, one sigmoid unit, or raw logits.
        x: inputs.
        batch_size: inputs per forward pass.

    Returns:
        A float32 array ``(N, C)`` with rows summing to 1 (``C = 2`` for one sigmoid unit);
        see :func:`as_probabilities`.

    Raises:
        ValueError: the model has several outputs, or its output is not a class vector.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
        >>> predict_proba(m, np.zeros((4, 2))).sum(axis=1).round(6).tolist()
        [1.0, 1.0, 1.0, 1.0]
    """
    outputs = model.predict(np.asarray(x, np.float32), batch_size=batch_size, verbose=0)
    if isinstance(outputs, (list, tuple, dict)):
        raise ValueError(f"predict_proba: model {model.name!r} has {len(outputs)} outputs; class probabilities "
                         "need a classifier with one (batch, classes) output.")
    if np.ndim(outputs) > 2:
        raise ValueError(f"predict_proba: model {model.name!r} outputs shape {np.shape(outputs)}; class "
                         "probabilities need a classifier whose output is (batch, classes).")
    return as_probabilities(outputs, from_logits=outputs_logits(model))
