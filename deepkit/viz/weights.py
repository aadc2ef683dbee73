"""Learned weights as pictures: first-layer filters, any conv layer's kernels, dense templates.

Keras stores every convolution kernel channels-last whatever the layer's
``data_format``: ``Conv2D`` ``(kh, kw, in/groups, out)``, ``DepthwiseConv2D``
``(kh, kw, in, depth_multiplier)``, ``SeparableConv2D`` keeps a depthwise and a
pointwise kernel, ``Conv2DTranspose`` ``(kh, kw, out, in)``, ``Conv1D``
``(k, in, out)``. ``kernels`` brings them all to ``(filters, kh, kw, in)``.
"""

import numpy as np

from deepkit.viz.plotting import (SEPARATOR, grid_figsize, make_grid, new_figure, normalize_image,
                                  save_png)

__all__ = ["iter_layers", "conv_layers", "kernels", "filter_images", "plot_filters"]

_CONV_NAMES = ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D",
               "SeparableConv1D", "SeparableConv2D", "Conv1DTranspose", "Conv2DTranspose",
               "Conv3DTranspose")


def iter_layers(model):
    """Yield every layer of a model depth first, descending into nested models.

    Args:
        model: a ``keras.Model`` (nested models and ``Sequential`` inside
            functional models are walked too; the nested model itself is
            yielded before its layers).

    Returns:
        A generator of ``keras.layers.Layer`` (``InputLayer`` excluded).

    Example:
        >>> import keras
        >>> inner = keras.Sequential([keras.layers.Dense(3, name="d")], name="inner")
        >>> m = keras.Sequential([keras.Input((2,)), inner, keras.layers.Dense(1, name="out")])
        >>> [layer.name for layer in iter_layers(m)]
        ['inner', 'd', 'out']
    """
    import keras

    for layer in getattr(model, "layers", []):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        yield layer
        if isinstance(layer, keras.Model) or hasattr(layer, "layers"):
            yield from iter_layers(layer)


_CONV_BASES = set(_CONV_NAMES) | {"BaseConv", "BaseDepthwiseConv", "BaseSeparableConv",
                                  "BaseConvTranspose"}


def _is_conv(layer):
    return any(c.__name__ in _CONV_BASES for c in type(layer).__mro__)


def conv_layers(model):
    """List the convolution layers of a model (nested models included), in order.

    Args:
        model: a ``keras.Model``.

    Returns:
        A list of layers (``Conv*``, ``DepthwiseConv*``, ``SeparableConv*``,
        ``Conv*Transpose``).

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2)])
        >>> [layer.name for layer in conv_layers(m)]
        ['c']
    """
    return [layer for layer in iter_layers(model) if _is_conv(layer)]


def _resolve(model, layer):
    if layer is None:
        convs = conv_layers(model)
        if convs:
            return convs[0]
        for cand in iter_layers(model):
            if type(cand).__name__ == "Dense":
                return cand
        raise ValueError(
            f"weights: model {model.name!r} has no convolution or Dense layer to show."
        )
    if hasattr(layer, "weights") and not isinstance(layer, (str, int)):
        return layer
    from deepkit.viz.layers import resolve_layer

    return resolve_layer(model, layer)


def kernels(model, layer=None):
    """The kernel of a convolution layer as ``(filters, kh, kw, in_channels)`` numpy array.

    Args:
        model: a ``keras.Model``.
        layer: layer name, index, or instance; default the first convolution
            layer. ``DepthwiseConv2D`` gives one filter per (input channel,
            multiplier), each ``(kh, kw, 1)``; ``SeparableConv2D`` gives its
            depthwise kernel the same way; ``Conv1D`` kernels get
            ``kh == 1``; ``Conv2DTranspose`` filters are indexed by output
            channel.

    Returns:
        A float32 array ``(filters, kh, kw, in_channels)``.

    Raises:
        ValueError: for a layer without a 1-D/2-D convolution kernel, or not
            yet built.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 5, name="c")])
        >>> kernels(m, "c").shape
        (4, 5, 5, 3)
    """
    lyr = _resolve(model, layer)
    cls = type(lyr).__name__
    if not _is_conv(lyr):
        raise ValueError(
            f"kernels: layer {lyr.name!r} ({cls}) is not a convolution layer; "
            f"use filter_images() for Dense first layers. Received: layer={layer!r}"
        )
    if not lyr.built:
        raise ValueError(f"kernels: layer {lyr.name!r} is not built yet (call the model once).")
    names = [c.__name__ for c in type(lyr).__mro__]
    if hasattr(lyr, "depthwise_kernel"):  # SeparableConv
        k = _to_numpy(lyr.depthwise_kernel)
        depthwise = True
    else:
        k = _to_numpy(lyr.kernel)
        depthwise = any(n.startswith("DepthwiseConv") or n == "BaseDepthwiseConv" for n in names)
    k = np.asarray(k, dtype=np.float32)
    if k.ndim == 3:  # 1-D conv: (k, in, out) -> (1, k, in, out)
        k = k[None]
    if k.ndim != 4:
        raise ValueError(
            f"kernels: layer {lyr.name!r} ({cls}) has a {k.ndim - 2}-D kernel of shape "
            f"{tuple(k.shape)}; only 1-D and 2-D convolutions can be drawn."
        )
    if any("Transpose" in n for n in names):
        k = np.transpose(k, (0, 1, 3, 2))  # (kh, kw, out, in) -> (kh, kw, in, out)
    if depthwise:  # (kh, kw, in, mult) -> filters = in*mult, each with 1 channel
        kh, kw, cin, mult = k.shape
        return np.transpose(k.reshape(kh, kw, cin * mult), (2, 0, 1))[..., None].copy()
    return np.transpose(k, (3, 0, 1, 2)).copy()


def _to_numpy(v):
    import keras

    return keras.ops.convert_to_numpy(v)


def _input_image_shape(model):
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, list):
        shape = shape[0]
    return None if shape is None else tuple(shape[1:])


def filter_images(model, layer=None, mode="auto"):
    """First-layer filters (or any conv layer's kernels) as a batch of images.

    Args:
        model: a ``keras.Model``.
        layer: layer name, index or instance; default the first convolution
            layer, or the first ``Dense`` layer when the model has no
            convolution (then each unit's weights are reshaped to the input
            image: the "templates" of a linear classifier or an MLP).
        mode: ``"rgb"`` keeps the kernel's channels as colours (needs 1 or 3
            input channels: the first layer of an image model);
            ``"channels"`` gives one grey image per (filter, input channel),
            filter-major; ``"mean"`` averages over input channels; ``"auto"``
            is ``"rgb"`` for 1 or 3 input channels, else ``"channels"``.

    Returns:
        ``(images, titles)``: a float32 array ``(N, kh, kw, C)`` with raw
        weight values (not rescaled) and a list of ``N`` short titles
        (``"3"`` or ``"3/c1"`` = filter 3, input channel 1).

    Raises:
        ValueError: for an unknown mode, ``"rgb"`` with other than 1 or 3
            channels, or a ``Dense`` layer whose inputs are not the image.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="c")])
        >>> imgs, titles = filter_images(m)
        >>> imgs.shape, titles[:2]
        ((4, 3, 3, 3), ['0', '1'])
        >>> filter_images(m, "c", mode="channels")[0].shape
        (12, 3, 3, 1)
    """
    lyr = _resolve(model, layer)
    if mode not in ("auto", "rgb", "channels", "mean"):
        raise ValueError(
            "filter_images: mode must be 'auto', 'rgb', 'channels' or 'mean'. "
            f"Received: mode={mode!r}"
        )
    if type(lyr).__name__ == "Dense" and not _is_conv(lyr):
        w = np.asarray(_to_numpy(lyr.kernel), np.float32)  # (in, units)
        shape = _input_image_shape(model)
        if shape is None or None in shape or int(np.prod(shape)) != w.shape[0]:
            raise ValueError(
                f"filter_images: Dense layer {lyr.name!r} has {w.shape[0]} inputs, which is not "
                f"the model's input image (shape {shape}); only a first Dense layer on the "
                "flattened image can be drawn as images."
            )
        if len(shape) == 1:
            raise ValueError(
                f"filter_images: the model input is a vector {shape}, not an image; "
                f"Dense layer {lyr.name!r} has nothing to reshape to."
            )
        imgs = w.T.reshape((w.shape[1],) + shape)
        if imgs.ndim == 3:
            imgs = imgs[..., None]
        return imgs, [str(i) for i in range(imgs.shape[0])]
    k = kernels(model, lyr)
    n, kh, kw, cin = k.shape
    if mode == "auto":
        mode = "rgb" if cin in (1, 3) else "channels"
    if mode == "rgb":
        if cin not in (1, 3):
            raise ValueError(
                f"filter_images: mode='rgb' needs 1 or 3 input channels; layer {lyr.name!r} "
                f"has {cin}. Use mode='channels' or 'mean'."
            )
        return k, [str(i) for i in range(n)]
    if mode == "mean":
        return k.mean(axis=-1, keepdims=True), [str(i) for i in range(n)]
    imgs = np.transpose(k, (0, 3, 1, 2)).reshape(n * cin, kh, kw, 1)
    return imgs, [f"{i}/c{c}" for i in range(n) for c in range(cin)]


def plot_filters(model, layer=None, mode="auto", max_filters=64, max_channels=16,
                 normalize="each", upscale=None, title=None, path=None):
    """Draw filters as an image grid (Krizhevsky 2012 Fig. 3, Zeiler & Fergus Fig. 2).

    Args:
        model: a ``keras.Model``.
        layer: as ``filter_images``; default the first conv (or Dense) layer.
        mode: as ``filter_images``. In ``"channels"`` mode each row is a
            filter and each column an input channel.
        max_filters: draw at most this many filters (the first ones).
        max_channels: in ``"channels"`` mode, at most this many input
            channels per filter.
        normalize: ``"each"`` scales every filter to its own min..max (as in
            the papers), ``"all"`` uses one scale for the layer (shows which
            filters are strong), ``"symmetric"`` maps 0 to grey.
        upscale: integer pixel repeat for tiny kernels; default makes a
            tile at least 24 pixels wide.
        title: axes title; default names the layer and kernel shape.
        path: if given, also save the figure there as PNG.

    Returns:
        The matplotlib ``Figure``; the grid image is ``fig.deepkit_image``
        (an RGB float array in ``[0, 1]``, separators light blue).

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(6, 3)])
        >>> fig = plot_filters(m)
        >>> fig.deepkit_image.shape
        (54, 80, 3)
    """
    lyr = _resolve(model, layer)
    imgs, _ = filter_images(model, lyr, mode=mode)
    n_all = imgs.shape[0]
    effective = mode
    if mode == "auto":
        effective = "rgb" if (not _is_conv(lyr) or kernels(model, lyr).shape[-1] in (1, 3)) \
            else "channels"
    if effective == "channels":
        cin = kernels(model, lyr).shape[-1]
        nf = n_all // cin
        sel = imgs.reshape(nf, cin, *imgs.shape[1:])[:max_filters, :max_channels]
        ncols = sel.shape[1]
        imgs = sel.reshape(-1, *imgs.shape[1:])
        norm_axis = (1, 2, 3)
    else:
        imgs = imgs[:max_filters]
        ncols = None
        norm_axis = (1, 2, 3)
    if normalize == "each":
        imgs = normalize_image(imgs, "minmax", axis=norm_axis)
    elif normalize == "all":
        imgs = normalize_image(imgs, "minmax")
    elif normalize == "symmetric":
        imgs = normalize_image(imgs, "symmetric")
    else:
        raise ValueError(
            "plot_filters: normalize must be 'each', 'all' or 'symmetric'. "
            f"Received: normalize={normalize!r}"
        )
    h, w = imgs.shape[1:3]
    up = int(upscale or max(1, int(np.ceil(24 / max(h, w)))))
    if up > 1:
        imgs = np.repeat(np.repeat(imgs, up, axis=1), up, axis=2)
    grid = make_grid(imgs, ncols=ncols, padding=max(1, up // 4), pad_color=SEPARATOR)
    fig, ax = new_figure(figsize=grid_figsize(grid.shape, imgs.shape[2], 0.55, min_size=2.6))
    ax.imshow(grid, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    if title is None:
        shape = "x".join(str(s) for s in _kernel_shape(lyr))
        title = f"{lyr.name}\n{type(lyr).__name__} {shape}, {min(n_all, imgs.shape[0])} shown"
        if effective == "channels":
            title = f"{lyr.name}\nrows: filters, columns: input channels"
    ax.set_title(title, fontsize=9)
    fig.deepkit_image = grid
    if path is not None:
        save_png(fig, path)
    return fig


def _kernel_shape(layer):
    for attr in ("kernel", "depthwise_kernel"):
        if hasattr(layer, attr):
            try:
                return tuple(getattr(layer, attr).shape)
            except Exception:  # pragma: no cover
                pass
    return ()
