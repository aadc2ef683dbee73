"""Deconvnet projections of single units (Zeiler & Fergus 2014, figure 2).

A unit's strongest activation in an image is projected back to pixels: the activation of one
channel at one position, every other activation of the layer set to zero, is sent down through
the network with the deconvnet's backward pass (:func:`deepkit.viz.attribution.modified.modified_relus`
with the ``"deconvnet"`` rule: every ReLU rectifies the signal going down, max pooling routes it
through the recorded switches, a convolution applies its transposed filters). That is the
gradient of the unit's activation with respect to the input under the modified backward pass;
it is computed for a whole batch of (image, channel, position) triples in one call, and cropped
to the unit's receptive field, so that it sits beside the data-set patch it explains.

**Networks without ReLUs.** The deconvnet's backward pass rectifies the signal with a ReLU at
every non-linearity; it never differentiates the forward one. deepkit keeps that rule for any
element-wise non-linearity (tanh, sigmoid, LeCun's scaled tanh:
:func:`~deepkit.viz.attribution.modified.deconvnet_layers`), and transposes average pooling and LeCun's subsampling (they have no switches: the signal is
spread evenly over each window, the pooling's gradient), as it transposes convolutions. So
LeNet-5 (tanh, average pooling) gets projections on its layer and unit pages. A model with no
non-linearity at all is refused (its projection would be the plain gradient). One consequence,
true of Zeiler & Fergus' rule itself: the deconvnet's only dependence on the image is max
pooling's switches, so in a network without max pooling (LeNet-5; a CIFAR ResNet-20, whose ReLUs
are rectified whatever their input) a unit's projection is the same for every image up to the
crop at the image border, the unit's template seen through the layers below (its projections
beside its patches are alike; the patches show how the images vary). Springenberg et al. 2015
made the same observation for all-convolutional ReLU networks, the reason for guided backprop.

Example:
    >>> import numpy as np, keras
    >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, activation="relu", name="c")])
    >>> x = np.random.default_rng(0).random((3, 8, 8, 1)).astype("float32")
    >>> deconvnet_projections(m, "c", x, units=[0, 1, 1]).shape
    (3, 3, 3, 1)
"""

import numpy as np

from deepkit.viz.activations import field_patch

__all__ = ["deconvnet_projections", "top_k_projections", "plot_projections"]


def _spatial_output(model, path):
    from deepkit.viz.layers import resolve_layer

    layer = resolve_layer(model, path)
    shape = tuple(layer.output.shape)
    if len(shape) != 4 or getattr(layer, "data_format", "channels_last") == "channels_first":
        raise ValueError(
            f"deconvnet_projections: layer {path!r} must have channels-last image-like outputs "
            f"(batch, height, width, channels). Received: output shape {shape}"
        )
    return shape


def _check_units(units, n, channels):
    units = np.asarray(units)
    if units.ndim > 1 or not np.issubdtype(units.dtype, np.integer):
        raise ValueError(
            "deconvnet_projections: units must be one channel number or one per image (ints). "
            f"Received: {units!r}"
        )
    units = np.broadcast_to(units.astype(np.int64), (n,)) if units.ndim == 0 or len(units) == n else None
    if units is None:
        raise ValueError(f"deconvnet_projections: {n} images but a different number of units.")
    bad = sorted({int(u) for u in units if not 0 <= u < channels})
    if bad:
        raise ValueError(
            f"deconvnet_projections: the layer has {channels} channels (0..{channels - 1}). "
            f"Received: units {bad}"
        )
    return units


def _strongest(fm, x, units, batch_size):
    """Each image's argmax position ``(row, col)`` of its unit's map."""
    out = []
    for start in range(0, len(x), batch_size):
        maps = np.asarray(fm.predict_on_batch(x[start:start + batch_size]), np.float32)
        rows = np.arange(len(maps))
        per_unit = maps[rows, :, :, units[start:start + len(maps)]]  # (b, h, w)
        flat = per_unit.reshape(len(maps), -1).argmax(1)
        out.append(np.stack(np.divmod(flat, maps.shape[2]), axis=-1))
    return np.concatenate(out).astype(np.int64)


def _crop(images, rf, positions):
    """The receptive field of each position, zero where it leaves the image."""
    n, h, w, c = images.shape
    if rf.is_global:
        return images
    ph, pw = min(rf.size[0], h), min(rf.size[1], w)
    return np.stack([field_patch(image, rf, tuple(int(p) for p in pos), ph, pw)[1]
                     for image, pos in zip(images, positions)]).astype(np.float32)


def deconvnet_projections(model, layer, images, units, positions=None, *, crop=True, batch_size=64):
    """Project one unit's activation per image back to pixels with the deconvnet (Zeiler & Fergus 2014).

    For image ``i``, the activation of channel ``units[i]`` of ``layer`` at ``positions[i]``
    (default: where that channel is strongest in the image) is the only non-zero activation of
    the layer, and is sent down to the input through the deconvnet (every non-linearity, ReLU,
    tanh or other, rectifies the signal; max pooling uses the forward pass's switches, average
    pooling and subsampling are transposed: module docstring). This equals Captum's ``Deconvolution`` with
    that activation as the model's output. One gradient call per ``batch_size`` images, however
    many different units they ask for.

    Args:
        model: A Keras image model (channels last) with element-wise non-linearities (ReLU, tanh...).
        layer: A layer with image-like outputs ``(batch, h, w, channels)``: name, ``/`` path,
            index or object.
        images: ``(N, H, W, C)`` array.
        units: The channel (int) projected in every image, or one channel per image.
        positions: ``(N, 2)`` rows and columns in the layer's map, or ``None`` (each image's
            strongest position of its channel).
        crop: Return each projection cropped to the unit's receptive field (zero where the
            field leaves the image), ``(N, ph, pw, C)``; ``False``: the whole ``(N, H, W, C)``.
        batch_size: Images per gradient call.

    Returns:
        float32 array, ``(N, ph, pw, C)`` (``crop=True``) or ``(N, H, W, C)``.

    Raises:
        ValueError: For non-image inputs or layers, units or positions out of range, or a model
            with no non-linearity (the projection would be the plain gradient).

    Example:
        >>> import numpy as np, keras
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.ReLU(name="r"), keras.layers.MaxPooling2D(2, name="p")])
        >>> x = np.random.default_rng(1).random((2, 6, 6, 1)).astype("float32")
        >>> deconvnet_projections(m, "p", x, 1, positions=[[0, 0], [1, 1]], crop=False).shape
        (2, 6, 6, 1)
    """
    import keras

    from deepkit.backend import gradients
    from deepkit.viz.attribution.modified import deconvnet_layers, modified_relus
    from deepkit.viz.layers import feature_model, layer_path
    from deepkit.viz.receptive import receptive_field

    where = "deconvnet_projections"
    x = np.asarray(images, np.float32)
    if x.ndim != 4:
        raise ValueError(f"{where}: images must be (N, H, W, C). Received: shape {x.shape}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"{where}: batch_size must be a positive int. Received: {batch_size!r}")
    path = layer_path(model, layer)
    _, h, w, channels = _spatial_output(model, path)
    if not deconvnet_layers(model):
        raise ValueError(
            f"{where}: model '{model.name}' has no element-wise non-linearity (an activation, Activation, "
            "ReLU or ScaledTanh layer) for the deconvnet to rectify; the projection would be the plain "
            f"gradient. Received: a model with layers {[layer.name for layer in model.layers]}"
        )
    units = _check_units(units, len(x), channels)
    fm = feature_model(model, path)
    if positions is None:
        positions = _strongest(fm, x, units, batch_size)
    positions = np.asarray(positions)
    if positions.shape != (len(x), 2) or not np.issubdtype(positions.dtype, np.integer) or \
            (positions < 0).any() or (positions[:, 0] >= h).any() or (positions[:, 1] >= w).any():
        raise ValueError(
            f"{where}: positions must be (N, 2) ints within layer {path!r}'s {h}x{w} map. "
            f"Received: {positions.tolist()!r}"
        )

    def unit_sum(xb, mask):
        return keras.ops.sum(fm(xb, training=False) * mask)

    grad = gradients.value_and_grad(unit_sum, argnums=0)
    out = []
    with modified_relus(model, "deconvnet"):
        for start in range(0, len(x), batch_size):
            xb = x[start:start + batch_size]
            mask = np.zeros((len(xb), h, w, channels), np.float32)
            rows = np.arange(len(xb))
            pos = positions[start:start + len(xb)]
            mask[rows, pos[:, 0], pos[:, 1], units[start:start + len(xb)]] = 1.0
            _, g = grad(xb, keras.ops.convert_to_tensor(mask))
            out.append(np.asarray(gradients.to_numpy(g), np.float32))
    projections = np.concatenate(out) if out else np.zeros_like(x)
    return _crop(projections, receptive_field(model, path), positions) if crop else projections


def top_k_projections(model, top, data, batch_size=64):
    """The deconvnet projections of the strongest activations found by ``top_k_patches``.

    Args:
        model: The model ``top`` was computed on.
        top: A :class:`~deepkit.viz.activations.TopPatches` of a spatial layer.
        data: The images ``(N, H, W, C)`` it was computed over (``top.indices`` index them).
        batch_size: Images per gradient call.

    Returns:
        float32 ``(channels, k, ph, pw, C)``, shaped like ``top.patches`` (zeros in unfilled slots).

    Example:
        >>> import numpy as np, keras
        >>> from deepkit.viz import top_k_patches
        >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(3, 3, activation="relu", name="c")])
        >>> x = np.random.default_rng(0).random((10, 8, 8, 1)).astype("float32")
        >>> top = top_k_patches(m, "c", x, k=4)
        >>> top_k_projections(m, top, x).shape == top.patches.shape
        True
    """
    data = np.asarray(data, np.float32)
    nch, k = top.indices.shape
    filled = top.indices >= 0
    c_idx, t_idx = np.nonzero(filled)
    out = np.zeros(top.patches.shape, np.float32)
    if len(c_idx):
        proj = deconvnet_projections(model, top.layer, data[top.indices[c_idx, t_idx]],
                                     np.asarray(top.channels)[c_idx], top.positions[c_idx, t_idx],
                                     batch_size=batch_size)
        out[c_idx, t_idx] = proj[:, :out.shape[2], :out.shape[3]]
    return out


def _mosaic(images, cols):
    from deepkit.viz.plotting import make_grid

    shown = np.asarray(images, np.float32)
    lo = shown.reshape(len(shown), -1).min(1)[:, None, None, None]
    hi = shown.reshape(len(shown), -1).max(1)[:, None, None, None]
    shown = (shown - lo) / np.maximum(hi - lo, 1e-12)
    if shown.shape[-1] not in (1, 3):
        shown = shown[..., :1]
    return make_grid(shown, ncols=cols, padding=1, pad_value=1.0)


def plot_projections(top, projections, max_units=16, title=None):
    """Zeiler & Fergus' figure 2: per unit, the deconvnet projections of its top-k activations
    beside the data-set patches they come from.

    Args:
        top: A :class:`~deepkit.viz.activations.TopPatches`.
        projections: Its projections (:func:`top_k_projections`), shaped like ``top.patches``.
        max_units: Units drawn at most (the first ones).
        title: The figure's title (default: the layer's name).

    Returns:
        A matplotlib ``Figure``: one panel per unit, projections (each scaled to its own range)
        on the left, patches on the right, strongest first.

    Example:
        >>> import numpy as np, keras
        >>> from deepkit.viz import top_k_patches
        >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, activation="relu", name="c")])
        >>> x = np.random.default_rng(0).random((12, 8, 8, 1)).astype("float32")
        >>> top = top_k_patches(m, "c", x, k=9)
        >>> len(plot_projections(top, top_k_projections(m, top, x)).axes)
        2
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    units = min(len(top.channels), max_units)
    k = top.indices.shape[1]
    cols = int(np.ceil(np.sqrt(k)))
    ncols = min(units, 4)
    nrows = int(np.ceil(units / ncols))
    fig = Figure(figsize=(3.2 * ncols, 1.75 * nrows + 0.4))
    for u in range(units):
        ok = top.indices[u] >= 0
        left = _mosaic(projections[u][ok], cols)
        right = _mosaic(top.patches[u][ok], cols)
        gap = np.ones((left.shape[0], max(2, left.shape[1] // 12), left.shape[2]), np.float32)
        panel = np.concatenate([left, gap, right], axis=1)
        ax = fig.add_subplot(nrows, ncols, u + 1)
        ax.imshow(panel.squeeze(-1) if panel.shape[-1] == 1 else panel, cmap="gray",
                  interpolation="nearest", vmin=0, vmax=1)
        ax.set_title(f"ch {int(top.channels[u])}", fontsize=8)
        ax.axis("off")
    fig.suptitle(title or f"{top.layer}: deconvnet projections | top-{k} patches", fontsize=9)
    fig.tight_layout()
    return fig
