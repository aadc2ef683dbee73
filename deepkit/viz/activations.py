"""What layers respond to: feature maps, receptive fields and top-k activating patches.

* :func:`feature_maps` runs inputs through a model and returns the outputs of any
  layers (nested models included), in batches.
* :func:`receptive_field` works out, from the layer graph, which input pixels can
  influence one unit of a layer: its size, its stride (jump) and where unit 0
  starts. Branches (residual, inception) take the union of their paths.
* :func:`top_k_patches` streams a data set through a model in batches and keeps,
  for every channel, the ``k`` images that excite it most and the input patch
  (the receptive field around the strongest location) -- Zeiler & Fergus (2014),
  Fig. 2.
"""

import dataclasses
import math

import numpy as np

from deepkit.viz.graph import walk
from deepkit.viz.plotting import (SEPARATOR, grid_figsize, make_grid, new_figure, normalize_image,
                                  save_png)
from deepkit.viz.receptive import ReceptiveField, receptive_field

__all__ = [
    "feature_maps",
    "plot_feature_maps",
    "ReceptiveField",
    "receptive_field",
    "TopPatches",
    "top_k_patches",
    "plot_top_patches",
    "field_patch",
]


# --------------------------------------------------------------------------- feature maps


def _iter_batches(data, batch_size, where, input_names=None):
    """Yield numpy input batches from an array, an ``(x, y)`` tuple, or an iterable of batches.

    With ``input_names`` (a model of several inputs) each batch is a list of arrays in that order, read
    from a list or tuple of one array per input, a dict keyed by input name, either of those as the ``x``
    of an ``(x, y)`` tuple, or an iterable of such batches.
    """
    if input_names is not None and len(input_names) > 1:
        yield from _iter_multi_batches(data, batch_size, where, input_names)
        return
    if isinstance(data, tuple) and len(data) in (2, 3) and hasattr(data[0], "shape"):
        data = data[0]
    if hasattr(data, "shape") and hasattr(data, "__getitem__") and not isinstance(data, dict):
        n = data.shape[0]
        if n == 0:
            raise ValueError(f"{where}: the data set is empty (0 samples).")
        for i in range(0, n, batch_size):
            yield np.asarray(data[i : i + batch_size])
        return
    try:
        iterator = iter(data)
    except TypeError:
        raise TypeError(
            f"{where}: data must be an array (N, ...), an (x, y) tuple of arrays, or an "
            f"iterable of batches. Received: {type(data).__name__}"
        ) from None
    seen = False
    for batch in iterator:
        if isinstance(batch, (tuple, list)):
            batch = batch[0]
        batch = np.asarray(batch)
        seen = True
        yield batch
    if not seen:
        raise ValueError(f"{where}: the data set is empty (no batches).")


def _multi_inputs(data, where, names):
    """One array per input (in ``names`` order) from a list/tuple or a dict, or None for something else."""
    if isinstance(data, dict):
        if set(data) != set(names):
            raise ValueError(f"{where}: a dict of inputs needs exactly the model's input names {names}. "
                             f"Received: keys {sorted(data, key=str)}")
        return [np.asarray(data[name]) for name in names]
    if isinstance(data, (list, tuple)) and len(data) == len(names) and all(hasattr(a, "shape") for a in data):
        return [np.asarray(a) for a in data]
    return None


def _iter_multi_batches(data, batch_size, where, names):
    arrays = _multi_inputs(data, where, names)
    if arrays is None and isinstance(data, (list, tuple)) and len(data) in (2, 3):
        arrays = _multi_inputs(data[0], where, names)  # (x, y) or (x, y, sample_weight)
    if arrays is not None:
        sizes = {len(a) for a in arrays}
        if len(sizes) != 1:
            raise ValueError(f"{where}: the model's {len(names)} inputs {names} need the same number of samples. "
                             f"Received: {[len(a) for a in arrays]}")
        n = sizes.pop()
        if n == 0:
            raise ValueError(f"{where}: the data set is empty (0 samples).")
        for i in range(0, n, batch_size):
            yield [a[i : i + batch_size] for a in arrays]
        return
    expected = (f"a list or tuple of {len(names)} arrays (one per input, in the order {names}), a dict keyed by "
                "those names, either as the x of an (x, y) tuple, or an iterable of such batches")
    if isinstance(data, dict) or hasattr(data, "shape") or not hasattr(data, "__iter__"):
        raise ValueError(f"{where}: model has {len(names)} inputs; data must be {expected}. "
                         f"Received: {type(data).__name__}"
                         + (f" of shape {data.shape}" if hasattr(data, "shape") else ""))
    seen = False
    for batch in data:
        arrays = _multi_inputs(batch, where, names)
        if arrays is None and isinstance(batch, (list, tuple)) and len(batch) in (2, 3):
            arrays = _multi_inputs(batch[0], where, names)
        if arrays is None:
            raise ValueError(f"{where}: model has {len(names)} inputs; data must be {expected}. Received: "
                             f"{type(data).__name__} holding {type(batch).__name__}"
                             + (f" of shape {batch.shape}" if hasattr(batch, "shape") else ""))
        seen = True
        yield arrays
    if not seen:
        raise ValueError(f"{where}: the data set is empty (no batches).")


def _check_batch_size(batch_size, where):
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"{where}: batch_size must be a positive integer. Received: batch_size={batch_size!r}")
    return int(batch_size)


def _layer_names(model, layers):
    from deepkit.viz.layers import layer_path, spatial_layers

    if layers is None:
        return spatial_layers(model)
    if isinstance(layers, (str, int)) or hasattr(layers, "weights"):
        layers = [layers]
    return [layer_path(model, layer) for layer in layers]


def feature_maps(model, inputs, layers=None, batch_size=32):
    """Outputs of chosen layers for some inputs.

    Args:
        model: a functional or Sequential ``keras.Model``.
        inputs: an array ``(N, ...)`` (or an ``(x, y)`` tuple, or an iterable
            of batches); for a model of several inputs, a list or tuple with one array per
            input or a dict keyed by input name (either also as the ``x`` of ``(x, y)``).
        layers: layer names / ``/`` paths / indices / objects; default every
            layer with an image-like ``(N, h, w, c)`` output (nested models
            included).
        batch_size: inputs per forward pass.

    Returns:
        A dict ``{layer path: numpy array (N, ...)}`` in the order requested.

    Example:
        >>> import numpy as np, keras
        >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(3, 3, name="c"),
        ...                       keras.layers.MaxPooling2D(name="p")])
        >>> maps = feature_maps(m, np.zeros((5, 8, 8, 1), "float32"))
        >>> {k: v.shape for k, v in maps.items()}
        {'c': (5, 6, 6, 3), 'p': (5, 3, 3, 3)}
    """
    from deepkit.viz.graph import graph_of
    from deepkit.viz.layers import feature_model

    batch_size = _check_batch_size(batch_size, "feature_maps")
    names = _layer_names(model, layers)
    if not names:
        raise ValueError(
            f"feature_maps: model {model.name!r} has no layer with an image-like output; "
            "pass layers= explicitly."
        )
    fm = feature_model(model, names)
    chunks = [[] for _ in names]
    input_names = [t.name for t in graph_of(model).inputs]
    for xb in _iter_batches(inputs, batch_size, "feature_maps", input_names):
        outs = fm.predict_on_batch(xb)
        if not isinstance(outs, (list, tuple)):
            outs = [outs]
        for store, out in zip(chunks, outs):
            store.append(np.asarray(out))
    return {name: np.concatenate(parts, axis=0) for name, parts in zip(names, chunks)}


def plot_feature_maps(maps, index=0, max_channels=32, ncols=None, title=None, cmap="viridis",
                      path=None, layer=None):
    """Draw the channels of feature maps (one input) as a grid: one layer, or each layer of a dict.

    Args:
        maps: what :func:`feature_maps` returns (a dict ``{layer: array}``: one row of the
            figure per layer, or the one named by ``layer``), or one array: ``(N, h, w, c)``,
            ``(N, units)`` for dense layers (drawn as a strip), or ``(h, w, c)`` for one input.
        index: which input of the batch to draw.
        max_channels: draw at most this many channels (the first ones).
        ncols: grid columns.
        title: axes title (of the first layer's axes for a dict).
        cmap: colour map.
        path: if given, also save as PNG.
        layer: with a dict, draw only this key.

    Returns:
        The matplotlib ``Figure``; ``fig.deepkit_image`` holds the (first) grid, and for a dict
        ``fig.deepkit_images`` holds ``{layer: grid}``.

    Raises:
        ValueError: an empty dict, a ``layer`` that is not one of its keys, or maps of another shape.

    Example:
        >>> fig = plot_feature_maps(np.random.rand(2, 6, 6, 5), index=1)
        >>> fig.deepkit_image.ndim
        3
        >>> fig = plot_feature_maps({"a": np.random.rand(2, 6, 6, 5), "b": np.random.rand(2, 4)})
        >>> sorted(fig.deepkit_images)
        ['a', 'b']
    """
    if isinstance(maps, dict):
        if layer is not None:
            if layer not in maps:
                raise ValueError(f"plot_feature_maps: layer must be one of the maps' keys {list(maps)}. "
                                 f"Received: layer={layer!r}")
            return _plot_one_map(maps[layer], index, max_channels, ncols, title, cmap, path, label=str(layer))
        if not maps:
            raise ValueError("plot_feature_maps: got an empty dict of feature maps. Received: {}")
        return _plot_map_dict(maps, index, max_channels, ncols, title, cmap, path)
    if layer is not None:
        raise ValueError(f"plot_feature_maps: layer= picks one entry of a dict of maps; maps is one array. "
                         f"Received: layer={layer!r}")
    return _plot_one_map(maps, index, max_channels, ncols, title, cmap, path)


def _map_grid(maps, index, max_channels, ncols, cmap, label=""):
    """``(image, imshow kwargs, default title, tile size)`` of one layer's maps for input ``index``."""
    where = "plot_feature_maps" + (f" (layer {label!r})" if label else "")
    maps = np.asarray(maps, np.float32)
    if maps.ndim == 3:
        maps = maps[None]
        index = 0
    if maps.ndim not in (2, 4):
        raise ValueError(
            f"{where}: expected maps of shape (N, h, w, c), (h, w, c) or (N, units), or the dict "
            f"feature_maps returns. Received: shape={maps.shape}"
        )
    if not 0 <= index < maps.shape[0]:
        raise IndexError(f"{where}: index {index} out of range for {maps.shape[0]} inputs.")
    if maps.ndim == 2:  # dense: (N, units) -> one strip
        vec = maps[index]
        side = int(math.ceil(math.sqrt(vec.size)))
        padded = np.full(side * side, np.nan, np.float32)
        padded[: vec.size] = vec
        grid = padded.reshape(side, side)
        return grid, {"cmap": cmap}, f"{vec.size} units", 3.0
    chans = np.transpose(maps[index], (2, 0, 1))[:max_channels]  # (c, h, w)
    tiles = normalize_image(chans, "minmax", axis=(1, 2))
    h, w = tiles.shape[1:]
    up = max(1, int(math.ceil(24 / max(h, w))))
    tiles = np.repeat(np.repeat(tiles, up, 1), up, 2)
    grid = make_grid(tiles, ncols=ncols or min(len(tiles), 8), padding=max(1, up // 2), pad_value=-1.0)
    import matplotlib

    rgb = matplotlib.colormaps[cmap](np.clip(grid[..., 0], 0, 1))[..., :3]
    rgb[grid[..., 0] < 0] = 1.0  # white separators
    title = f"{min(maps.shape[-1], max_channels)} of {maps.shape[-1]} channels, {maps.shape[1]}x{maps.shape[2]}"
    return rgb, {}, title, grid_figsize(grid.shape, tiles.shape[2], 0.9, min_size=1.0)


def _show_grid(fig, ax, image, kwargs, title):
    im = ax.imshow(image, interpolation="nearest", **kwargs)
    if image.ndim == 2:
        fig.colorbar(im, ax=ax, shrink=0.8)
    for side in ax.spines.values():
        side.set_visible(image.ndim == 2)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)
    return np.nan_to_num(image)[..., None] if image.ndim == 2 else image


def _plot_one_map(maps, index, max_channels, ncols, title, cmap, path, label=""):
    image, kwargs, default_title, size = _map_grid(maps, index, max_channels, ncols, cmap, label)
    fig, ax = new_figure(figsize=(3.2, 3.0) if image.ndim == 2 else size)
    fig.deepkit_image = _show_grid(fig, ax, image, kwargs, title or (f"{label}: " if label else "") + default_title)
    if path is not None:
        save_png(fig, path)
    return fig


def _plot_map_dict(maps, index, max_channels, ncols, title, cmap, path):
    grids = {name: _map_grid(m, index, max_channels, ncols, cmap, str(name)) for name, m in maps.items()}
    width = max(3.2 if g[0].ndim == 2 else g[3][0] for g in grids.values())
    height = sum(3.0 if g[0].ndim == 2 else g[3][1] for g in grids.values())
    fig, axes = new_figure(nrows=len(grids), figsize=(width, min(height, 30.0)), squeeze=False)
    fig.deepkit_images = {}
    for i, (ax, (name, (image, kwargs, default_title, _))) in enumerate(zip(axes[:, 0], grids.items())):
        label = title if (title and i == 0) else f"{name}: {default_title}"
        fig.deepkit_images[name] = _show_grid(fig, ax, image, kwargs, label)
    fig.deepkit_image = next(iter(fig.deepkit_images.values()))
    if path is not None:
        save_png(fig, path)
    return fig


# --------------------------------------------------------------------------- top-k patches


@dataclasses.dataclass
class TopPatches:
    """The inputs that excite each channel of a layer most (result of :func:`top_k_patches`).

    For channel ``channels[c]``, entry ``t`` (``t = 0`` strongest) is data-set
    image ``indices[c, t]``, whose strongest unit for that channel sits at
    ``positions[c, t]`` with activation ``values[c, t]``; the unit's receptive
    field covers input box ``boxes[c, t] = (y0, x0, y1, x1)`` (clipped to the
    image, end exclusive) and ``patches[c, t]`` is that part of the image,
    zero where the field leaves the image. Slots never filled (data set
    smaller than ``k``) have index ``-1`` and value ``-inf``.

    Attributes:
        layer: layer path.
        channels: ``(C,)`` channel numbers.
        values: ``(C, k)`` activations, descending.
        indices: ``(C, k)`` data-set indices.
        positions: ``(C, k, 2)`` unit rows/cols in the feature map (``-1`` for
            layers without spatial axes).
        boxes: ``(C, k, 4)`` input boxes.
        patches: ``(C, k, ph, pw, channels)`` input patches.
        receptive_field: the layer's :class:`ReceptiveField`.
        num_images: how many images were scanned.

    Example:
        >>> import numpy as np, keras
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c")])
        >>> top = top_k_patches(m, "c", np.random.rand(5, 6, 6, 1).astype("float32"), k=2)
        >>> type(top).__name__, top.indices.shape, top.receptive_field.size
        ('TopPatches', (2, 2), (3, 3))
    """

    layer: str
    channels: np.ndarray
    values: np.ndarray
    indices: np.ndarray
    positions: np.ndarray
    boxes: np.ndarray
    patches: np.ndarray
    receptive_field: ReceptiveField
    num_images: int = 0


def _reducer(model, layer, channels):
    """Model: inputs -> (max over positions, argmax position) per channel, one batch at a time."""
    import keras
    from keras import ops

    from deepkit.viz.layers import feature_model, resolve_layer

    fm = feature_model(model, layer)
    out = fm.output
    lyr = resolve_layer(model, layer)
    channels_first = getattr(lyr, "data_format", None) == "channels_first"
    rank = len(out.shape)
    if rank < 2:
        raise ValueError(
            f"top_k_patches: layer {lyr.name!r} has output shape {tuple(out.shape)}; "
            "need (batch, ..., channels)."
        )

    class _SpatialMax(keras.layers.Layer):
        def call(self, x):
            if channels_first and rank > 2:
                x = ops.moveaxis(x, 1, -1)
            if channels is not None:
                x = ops.take(x, channels, axis=-1)
            if rank == 2:
                return x, ops.zeros_like(x, dtype="int32")
            flat = ops.reshape(x, (ops.shape(x)[0], -1, ops.shape(x)[-1]))
            return ops.max(flat, axis=1), ops.cast(ops.argmax(flat, axis=1), "int32")

    inputs = fm.inputs[0] if len(fm.inputs) == 1 else fm.inputs
    return keras.Model(inputs, _SpatialMax(name="spatial_max")(out)), tuple(out.shape), \
        channels_first


def top_k_patches(model, layer, data, k=9, channels=None, batch_size=64):
    """Find, for every channel of a layer, the ``k`` data-set images that excite it most.

    Zeiler & Fergus (2014), Fig. 2: each channel is shown by the input
    patches of its strongest activations over a data set. For every image
    the strongest position of each channel is taken (one entry per image),
    and the top ``k`` images over the whole data set are kept. The data set
    is streamed in batches (the per-batch reduction runs compiled, on the
    device), so it can be far larger than memory.

    Args:
        model: a functional or Sequential ``keras.Model`` on images
            ``(N, H, W, C)``.
        layer: layer name, ``/`` path, index or object (convolution,
            pooling, activation... or a dense layer: then the patch is the
            whole image).
        data: images ``(N, H, W, C)``, an ``(x, y)`` tuple, or an iterable of
            batches (``x`` or ``(x, y)``).
        k: patches per channel.
        channels: channel numbers to keep (default all).
        batch_size: images per forward pass when ``data`` is an array.

    Returns:
        A :class:`TopPatches`.

    Raises:
        ValueError: for ``k < 1``, an empty data set, non-image inputs or
            channels out of range.

    Example:
        >>> import numpy as np, keras
        >>> m = keras.Sequential([keras.Input((8, 8, 1)),
        ...                       keras.layers.Conv2D(2, 3, name="c", use_bias=False)])
        >>> x = np.random.default_rng(0).random((20, 8, 8, 1)).astype("float32")
        >>> top = top_k_patches(m, "c", x, k=3)
        >>> top.values.shape, top.patches.shape
        ((2, 3), (2, 3, 3, 3, 1))
    """
    from deepkit.viz.layers import layer_path

    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"top_k_patches: k must be a positive integer. Received: k={k!r}")
    k = int(k)
    batch_size = _check_batch_size(batch_size, "top_k_patches")
    in_shape = tuple(model.inputs[0].shape)
    if len(in_shape) != 4:
        raise ValueError(
            "top_k_patches: the model input must be images (batch, H, W, C). "
            f"Received: input shape={in_shape}"
        )
    path = layer_path(model, layer)
    rf = receptive_field(model, path)
    if channels is not None:
        channels = np.atleast_1d(np.asarray(channels, dtype=np.int64))
    reducer, out_shape, channels_first = _reducer(model, path, None if channels is None
                                                  else channels.astype("int32"))
    n_channels = out_shape[1] if channels_first and len(out_shape) > 2 else out_shape[-1]
    if channels is not None:
        bad = [int(c) for c in channels if not 0 <= c < n_channels]
        if bad:
            raise ValueError(
                f"top_k_patches: layer {path!r} has {n_channels} channels (0..{n_channels - 1}). "
                f"Received: channels={bad}"
            )
    else:
        channels = np.arange(n_channels)
    fmap_sp = (out_shape[2:] if channels_first else out_shape[1:-1]) if len(out_shape) > 2 else ()
    input_cf = any(getattr(l, "data_format", None) == "channels_first"
                   for _, l, _ in walk(model))
    img_h, img_w = (in_shape[2], in_shape[3]) if input_cf else (in_shape[1], in_shape[2])
    nch = len(channels)
    best_v = np.full((nch, k), -np.inf, np.float32)
    best_i = np.full((nch, k), -1, np.int64)
    best_p = np.full((nch, k, 2), -1, np.int64)
    best_b = np.zeros((nch, k, 4), np.int64)
    best_patch = None
    offset = 0
    for xb in _iter_batches(data, batch_size, "top_k_patches"):
        images = np.transpose(xb, (0, 2, 3, 1)) if input_cf else xb
        if images.ndim != 4:
            raise ValueError(
                f"top_k_patches: batches must be (B, H, W, C) images. Received: shape={xb.shape}"
            )
        img_h, img_w = images.shape[1:3]
        if rf.is_global:
            ph, pw = img_h, img_w
        else:
            ph, pw = min(rf.size[0], img_h), min(rf.size[1], img_w)
        if best_patch is None:
            best_patch = np.zeros((nch, k, ph, pw, images.shape[-1]), np.float32)
        vals, arg = reducer.predict_on_batch(xb)
        vals, arg = np.asarray(vals, np.float32), np.asarray(arg, np.int64)
        b = vals.shape[0]
        all_v = np.concatenate([best_v, vals.T], axis=1)
        order = np.argsort(-all_v, axis=1, kind="stable")[:, :k]
        rows = np.arange(nch)[:, None]
        new_v = all_v[rows, order]
        new_i = np.concatenate([best_i, offset + np.tile(np.arange(b), (nch, 1))], axis=1)[rows, order]
        if len(fmap_sp) == 2:
            pos_b = np.stack([arg.T // fmap_sp[1], arg.T % fmap_sp[1]], axis=-1)
        else:
            pos_b = np.full((nch, b, 2), -1, np.int64)
        new_p = np.concatenate([best_p, pos_b], axis=1)[rows, order]
        new_b = best_b[rows, np.minimum(order, k - 1)].copy()
        new_patch = best_patch[rows, np.minimum(order, k - 1)].copy()
        for c, t in zip(*np.nonzero(order >= k)):
            j = order[c, t] - k
            box, patch = field_patch(images[j], rf, tuple(new_p[c, t]), ph, pw)
            new_b[c, t] = box
            new_patch[c, t] = patch
        best_v, best_i, best_p, best_b, best_patch = new_v, new_i, new_p, new_b, new_patch
        offset += b
    return TopPatches(layer=path, channels=channels, values=best_v, indices=best_i,
                      positions=best_p, boxes=best_b, patches=best_patch, receptive_field=rf,
                      num_images=offset)


def field_patch(image, rf, position, ph, pw):
    """The part of ``image`` seen by the unit at ``position``: its clipped box and a ``(ph, pw)`` patch.

    The patch is zero where the receptive field leaves the image; a field as large as the image (or
    a global one, or a negative position) gives the image's top-left ``(ph, pw)``.

    Args:
        image: ``(h, w, c)`` array.
        rf: the layer's :class:`ReceptiveField`.
        position: ``(row, col)`` of the unit in the layer's map.
        ph: patch height (usually ``min(rf.size[0], h)``).
        pw: patch width.

    Returns:
        ``((y0, x0, y1, x1), patch)``: the box clipped to the image and the float32 patch.

    Example:
        >>> import numpy as np, keras
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(1, 3, name="c")])
        >>> rf = receptive_field(m, "c")
        >>> box, patch = field_patch(np.ones((6, 6, 1)), rf, (1, 2), 3, 3)
        >>> box, patch.shape
        ((1, 2, 4, 5), (3, 3, 1))
    """
    h, w = image.shape[:2]
    patch = np.zeros((ph, pw, image.shape[-1]), np.float32)
    if rf.is_global or position[0] < 0:
        patch[:] = image[:ph, :pw]
        return (0, 0, h, w), patch
    y0, x0, y1, x1 = rf.box(position)
    if rf.size[0] >= h:
        y0, y1 = 0, h
    if rf.size[1] >= w:
        x0, x1 = 0, w
    cy0, cx0, cy1, cx1 = max(y0, 0), max(x0, 0), min(y1, h), min(x1, w)
    if cy1 > cy0 and cx1 > cx0:
        patch[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0] = image[cy0:cy1, cx0:cx1]
    return (cy0, cx0, cy1, cx1), patch


def plot_top_patches(top, channels=None, max_channels=16, normalize="all", upscale=None,
                     title=None, path=None):
    """Draw top-k patches: one row per channel, strongest first (Zeiler & Fergus Fig. 2).

    Args:
        top: a :class:`TopPatches`.
        channels: which of ``top.channels`` to draw (default the first
            ``max_channels``).
        max_channels: row limit.
        normalize: ``"all"`` keeps the images' common scale (true colours),
            ``"each"`` stretches every patch.
        upscale: pixel repeat for small patches; default makes patches at
            least 24 pixels.
        title: axes title.
        path: if given, also save as PNG.

    Returns:
        The matplotlib ``Figure``; ``fig.deepkit_image`` holds the grid.

    Example:
        >>> import numpy as np, keras
        >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c")])
        >>> top = top_k_patches(m, "c", np.random.rand(10, 8, 8, 1).astype("float32"), k=4)
        >>> plot_top_patches(top).deepkit_image.shape[:2]
        (54, 106)
    """
    if channels is None:
        rows = np.arange(min(len(top.channels), max_channels))
    else:
        wanted = list(np.atleast_1d(channels))
        lookup = {int(c): i for i, c in enumerate(top.channels)}
        missing = [c for c in wanted if int(c) not in lookup]
        if missing:
            raise ValueError(
                f"plot_top_patches: channels {missing} were not collected; available: "
                f"{[int(c) for c in top.channels][:20]}"
            )
        rows = np.array([lookup[int(c)] for c in wanted])
    patches = top.patches[rows]  # (R, k, ph, pw, ch)
    r, k = patches.shape[:2]
    tiles = patches.reshape(r * k, *patches.shape[2:])
    valid = (top.indices[rows] >= 0).reshape(-1)
    if normalize == "each":
        tiles = normalize_image(tiles, "minmax", axis=(1, 2, 3))
    elif normalize == "all":
        tiles = normalize_image(tiles, "minmax")
    else:
        raise ValueError(
            f"plot_top_patches: normalize must be 'all' or 'each'. Received: normalize={normalize!r}"
        )
    tiles[~valid] = SEPARATOR[0]
    ph, pw = tiles.shape[1:3]
    up = int(upscale or max(1, int(math.ceil(24 / max(ph, pw)))))
    tiles = np.repeat(np.repeat(tiles, up, 1), up, 2)
    pad = 2
    grid = make_grid(tiles, ncols=k, padding=pad, pad_color=SEPARATOR)
    gh, gw = grid.shape[:2]
    fig, ax = new_figure(figsize=grid_figsize(grid.shape, tiles.shape[2], 0.7, max_width=9.0))
    ax.imshow(grid, interpolation="nearest")
    for side in ax.spines.values():
        side.set_visible(False)
    th = tiles.shape[1]
    ax.set_yticks([pad + i * (th + pad) + th / 2 for i in range(r)],
                  [f"ch {int(top.channels[i])}" for i in rows], fontsize=7)
    ax.set_xticks([])
    rf = top.receptive_field
    rf_text = "whole image" if rf.is_global else f"{rf.size[0]}x{rf.size[1]} px"
    ax.set_title(title or f"{top.layer}: top {k} of {top.num_images} images, "
                 f"receptive field {rf_text}", fontsize=9)
    fig.deepkit_image = grid
    if path is not None:
        save_png(fig, path)
    return fig
