"""Per-layer output shapes, parameters and multiply-adds (MACs) of a Keras model.

Multiply-adds follow the convention of He et al. (2015) and torchvision: one per weight use in
convolutions and dense layers; normalisation, pooling, activations and merges count zero. A custom layer
can report its own cost by defining ``compute_macs(input_shape, output_shape) -> int``.

Example:
    >>> import keras, deepkit
    >>> m = deepkit.Sequential([keras.layers.Conv2D(4, 3), keras.layers.Flatten(), keras.layers.Dense(2)],
    ...                        input_shape=(5, 5, 1))
    >>> deepkit.count_macs(m)  # 3*3*4 positions * 9 * 1 + 36 * 2
    396
"""

import math

import keras


def _prod(values):
    return int(math.prod(int(v) for v in values))


def _shapes(layer):
    """Input and output shapes of a layer's first call, without the batch dimension."""
    def strip(t):
        if isinstance(t, (list, tuple)):
            return [strip(u) for u in t]
        return tuple(t.shape[1:])

    try:
        return strip(layer.input), strip(layer.output)
    except (AttributeError, ValueError):
        return None, None


def layer_macs(layer, input_shape, output_shape):
    """Multiply-adds of one call of ``layer`` on one example.

    Args:
        layer: a Keras layer.
        input_shape: its input shape without batch dimension (a list of shapes for merge layers).
        output_shape: its output shape without batch dimension.

    Returns:
        The number of multiply-adds (int).

    Example:
        >>> import keras
        >>> layer_macs(keras.layers.Dense(10), (784,), (10,))
        7840
    """
    if hasattr(layer, "compute_macs"):
        return int(layer.compute_macs(input_shape, output_shape))
    if input_shape is None or output_shape is None or isinstance(input_shape, list):
        return 0
    L = keras.layers
    if isinstance(layer, L.DepthwiseConv2D) or isinstance(layer, L.DepthwiseConv1D):
        return _prod(output_shape) * _prod(layer.kernel_size)
    if isinstance(layer, (L.SeparableConv2D, L.SeparableConv1D)):
        channels_in = input_shape[-1] if layer.data_format == "channels_last" else input_shape[0]
        spatial = output_shape[:-1] if layer.data_format == "channels_last" else output_shape[1:]
        depthwise = _prod(spatial) * channels_in * layer.depth_multiplier * _prod(layer.kernel_size)
        pointwise = _prod(output_shape) * channels_in * layer.depth_multiplier
        return depthwise + pointwise
    if isinstance(layer, (L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose)):
        return _prod(input_shape) * _prod(layer.kernel_size) * layer.filters
    if isinstance(layer, (L.Conv1D, L.Conv2D, L.Conv3D)):
        channels_in = input_shape[-1] if layer.data_format == "channels_last" else input_shape[0]
        return _prod(output_shape) * _prod(layer.kernel_size) * channels_in // layer.groups
    if isinstance(layer, L.Dense):
        return _prod(input_shape) * layer.units
    if isinstance(layer, L.EinsumDense):
        return _prod(input_shape) * _prod(output_shape) // max(1, _prod(input_shape[:-1]))
    if isinstance(layer, keras.Model):
        return count_macs(layer)
    return 0


def _rows(model):
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        in_shape, out_shape = _shapes(layer)
        rows.append({
            "name": layer.name,
            "type": type(layer).__name__,
            "output_shape": out_shape,
            "params": layer.count_params() if layer.built else 0,
            "macs": layer_macs(layer, in_shape, out_shape),
        })
    return rows


def count_macs(model):
    """Total multiply-adds of one forward pass of one example.

    Args:
        model: a built Keras model (functional, Sequential or deepkit.Model).

    Returns:
        The number of multiply-adds (int).

    Example:
        >>> import keras, deepkit
        >>> deepkit.count_macs(deepkit.Sequential([keras.layers.Dense(3)], input_shape=(4,)))
        12
    """
    return sum(row["macs"] for row in _rows(model))


def _human(n):
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(n)


def summary(model, print_fn=None):
    """Print a table of layers with output shape, parameters and multiply-adds, and return its rows.

    Args:
        model: a built Keras model.
        print_fn: called with each line; ``print`` by default.

    Returns:
        A list of dicts with keys ``name``, ``type``, ``output_shape``, ``params``, ``macs``.

    Example:
        >>> import keras, deepkit
        >>> rows = deepkit.summary(deepkit.Sequential([keras.layers.Dense(3)], input_shape=(4,)),
        ...                        print_fn=lambda line: None)
        >>> rows[0]["params"], rows[0]["macs"]
        (15, 12)
    """
    print_fn = print_fn or print
    rows = _rows(model)
    trainable = sum(_prod(w.shape) for w in model.trainable_weights)
    total = sum(_prod(w.shape) for w in model.weights)
    headers = ("Layer (type)", "Output shape", "Params", "MACs")
    table = [(f"{r['name']} ({r['type']})", str(r["output_shape"]), f"{r['params']:,}", f"{r['macs']:,}")
             for r in rows]
    widths = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths)))
    print_fn(f"Model: {model.name}")
    print_fn("-" * len(line))
    print_fn(line)
    print_fn("=" * len(line))
    for t in table:
        print_fn("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(t, widths))))
    print_fn("=" * len(line))
    macs = sum(r["macs"] for r in rows)
    print_fn(f"Total params: {total:,}  (trainable {trainable:,}, non-trainable {total - trainable:,})")
    print_fn(f"Multiply-adds per example: {macs:,} ({_human(macs)})")
    return rows
