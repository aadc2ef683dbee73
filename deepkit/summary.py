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
import re

import keras

from deepkit.backend import memory
from deepkit.errors import SpecError

__all__ = ["layer_macs", "count_macs", "available_memory", "weight_sizes", "human_bytes", "check_weights_fit",
           "summary"]


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


def available_memory():
    """Memory a new model's weights can take now, and where the number comes from.

    The one probe of :func:`deepkit.backend.memory.available`: the free memory of a jax/torch accelerator,
    else the host's (psutil, ``/proc/meminfo`` lowered to a cgroup limit, Windows, POSIX ``sysconf``).

    Returns:
        ``(bytes, source)``, or ``(None, reason)`` when the platform does not say.

    Example:
        >>> free, source = available_memory()
        >>> free is None or free > 0
        True
    """
    return memory.available()


def weight_sizes(model):
    """Parameters and bytes of each layer's weights, computed from their shapes (nothing is allocated).

    Args:
        model: a Keras model, built (its weights may be allocated or not).

    Returns:
        A list of ``(layer_name, class_name, parameters, bytes)``, one per layer with weights.

    Example:
        >>> import keras, deepkit
        >>> weight_sizes(deepkit.Sequential([keras.layers.Dense(3, name="fc")], input_shape=(4,)))
        [('fc', 'Dense', 15, 60)]
    """
    rows = []
    seen = set()
    for layer in model.layers:  # a nested model is one row with all its weights
        own = [w for w in layer.weights if id(w) not in seen]
        if not own:
            continue
        seen.update(id(w) for w in own)
        params = sum(_prod(w.shape) for w in own)
        nbytes = sum(_prod(w.shape) * _itemsize(w.dtype) for w in own)
        rows.append((layer.name, type(layer).__name__, params, nbytes))
    return rows


def _itemsize(dtype):
    """Bytes per element: the bit width that follows the type's name (``float8_e4m3fn``: 8), ``bool`` 1."""
    bits = re.match(r"[a-z]+(\d+)", keras.backend.standardize_dtype(dtype))
    return max(1, int(bits.group(1)) // 8) if bits else 1


def human_bytes(n):
    """Bytes in binary units: ``3.73 TiB``.

    Args:
        n: a number of bytes.

    Returns:
        A string.

    Example:
        >>> human_bytes(4_000_004_000_000), human_bytes(512)
        ('3.64 TiB', '512 B')
    """
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{int(n)} B"


def check_weights_fit(model, limit="auto"):
    """Refuse a model whose weights cannot fit in memory, before they are allocated.

    Args:
        model: a built Keras model whose weights may still be unallocated.
        limit: bytes the weights may take; ``"auto"`` for ``available_memory()``; None: no check.

    Returns:
        The total bytes of the weights.

    Raises:
        SpecError: the weights need more than the limit; the message names the largest layer, its
            parameters and bytes, the total, and the memory available.

    Example:
        >>> import keras, deepkit
        >>> check_weights_fit(deepkit.Sequential([keras.layers.Dense(3)], input_shape=(4,)), limit=1000)
        60
    """
    rows = weight_sizes(model)
    total = sum(r[3] for r in rows)
    if limit is None or not rows:
        return total
    if limit == "auto":
        limit, source = available_memory()
        if limit is None:
            return total
        setting = "max_weight_bytes='auto'"
    else:
        source, setting = "the limit set", f"max_weight_bytes={limit:,}"
    if total <= limit:
        return total
    name, kind, params, nbytes = max(rows, key=lambda r: r[3])
    params_total = sum(r[2] for r in rows)
    raise SpecError(
        f"model '{model.name}' cannot fit in memory: its weights need {human_bytes(total)} "
        f"({total:,} bytes, {params_total:,} parameters) but {human_bytes(limit)} ({limit:,} bytes) is "
        f"available ({source}; {setting}). The largest layer is '{name}' ({kind}): {params:,} parameters, "
        f"{human_bytes(nbytes)} ({nbytes:,} bytes). Make it smaller, or inspect the model without "
        "allocating it with deepkit.summary(spec); to override, use "
        "deepkit.spec.spec_limits(max_weight_bytes=...) (None switches the check off).")


def _human(n):
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(n)


def summary(model, print_fn=None, input_shape=None):
    """Print a table of layers with output shape, parameters and multiply-adds, and return its rows.

    Given a spec instead of a model, the model is built with its weights' shapes only: nothing is
    allocated, so a spec far too large for memory (a 10^12-parameter ``Dense``) can still be inspected.

    Args:
        model: a built Keras model, or a spec (dict, list, YAML/JSON text or file path).
        print_fn: called with each line; ``print`` by default.
        input_shape: the input shape for a spec without its own (as in ``deepkit.from_spec``).

    Returns:
        A list of dicts with keys ``name``, ``type``, ``output_shape``, ``params``, ``macs``.

    Example:
        >>> import keras, deepkit
        >>> rows = deepkit.summary(deepkit.Sequential([keras.layers.Dense(3)], input_shape=(4,)),
        ...                        print_fn=lambda line: None)
        >>> rows[0]["params"], rows[0]["macs"]
        (15, 12)
        >>> rows = deepkit.summary([{"Dense": 10**6}], input_shape=(10**6,), print_fn=lambda line: None)
        >>> rows[0]["params"]  # 4 TB of float32 weights, counted from shapes, never allocated
        1000001000000
    """
    print_fn = print_fn or print
    if not isinstance(model, keras.Model):
        from deepkit.spec.build import build_model
        from deepkit.spec.parse import load_document

        document = load_document(model)  # shapes only: a plain keras.Model holds the graph (nothing trains it)
        model = build_model(document, keras.Model, input_shape=input_shape if document.input_shape is None else None,
                            allocate=False)
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
