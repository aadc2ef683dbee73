"""Temporary mixed precision for an already-built model (used by the fast fit path).

Keras fixes a layer's dtype policy when the layer is made; ``keras.mixed_precision`` must be set
before the model is built. For training an existing float32 model in bfloat16 we switch the
compute dtype of its layers for the duration of ``fit`` and restore it afterwards. Variables stay
float32 (the "mixed" policies only change the compute dtype), the layers that produce the model's
outputs stay float32 (so the loss and softmax are computed in float32, as the Keras
mixed-precision guide recommends), and Keras' BatchNormalization already computes its statistics
in float32.
"""

import contextlib

import keras

from deepkit.backend import accelerator_kind
from deepkit.backend.keras_internals import flatten_layers, producing_layer

__all__ = ["resolve_mixed_precision", "mixed_precision_scope"]

POLICIES = {"bfloat16": "mixed_bfloat16", "bf16": "mixed_bfloat16", "float16": "mixed_float16",
            "fp16": "mixed_float16", "mixed_bfloat16": "mixed_bfloat16",
            "mixed_float16": "mixed_float16"}


def resolve_mixed_precision(value):
    """Turn the ``mixed_precision`` argument of ``fit`` into a Keras policy name or ``None``.

    Args:
        value: ``None`` / ``"auto"`` (bfloat16 on a GPU or TPU, off on CPU, where bfloat16 is
            slow), ``False`` (off), ``True`` (bfloat16), or a name such as ``"bfloat16"``,
            ``"mixed_bfloat16"``, ``"float16"``.

    Returns:
        ``"mixed_bfloat16"``, ``"mixed_float16"`` or ``None`` (no change).

    Raises:
        ValueError: on an unknown value.

    Example:
        >>> resolve_mixed_precision(False) is None
        True
        >>> resolve_mixed_precision("bf16")
        'mixed_bfloat16'
    """
    if value is None or (isinstance(value, str) and value == "auto"):
        return "mixed_bfloat16" if accelerator_kind() in ("gpu", "tpu") else None
    if value is False:
        return None
    if value is True:
        return "mixed_bfloat16"
    if isinstance(value, str) and value in POLICIES:
        return POLICIES[value]
    raise ValueError(
        "fit: `mixed_precision` must be None/'auto', True, False, 'bfloat16' or 'float16'. "
        f"Received: mixed_precision={value!r}"
    )


def _output_layers(model):
    layers = set()
    for t in getattr(model, "outputs", None) or []:
        layer = producing_layer(t)
        if layer is not None:
            layers.add(id(layer))
    return layers


@contextlib.contextmanager
def mixed_precision_scope(model, policy):
    """Within the block, layers of ``model`` with a float32 policy compute in ``policy``.

    Args:
        model: a built ``keras.Model``.
        policy: ``"mixed_bfloat16"``, ``"mixed_float16"`` or ``None`` (do nothing).

    Returns:
        A context manager yielding the number of layers switched.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
        >>> with mixed_precision_scope(m, "mixed_bfloat16") as n:
        ...     print(n, m.layers[0].compute_dtype, m.layers[1].compute_dtype)
        1 bfloat16 float32
        >>> m.layers[0].compute_dtype
        'float32'
    """
    if policy is None:
        yield 0
        return
    keep = _output_layers(model)
    changed = []
    for layer in flatten_layers(model, include_self=False, recursive=True):
        if id(layer) in keep or isinstance(layer, keras.layers.InputLayer):
            continue
        if flatten_layers(layer, include_self=False, recursive=False):
            continue  # containers: their leaves are switched one by one
        if layer.dtype_policy.name != "float32":
            continue
        changed.append((layer, layer.dtype_policy))
        layer.dtype_policy = policy
    try:
        yield len(changed)
    finally:
        for layer, old in changed:
            layer.dtype_policy = old
