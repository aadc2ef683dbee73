"""What the atlas computes about single units: which layers and units, their visualizations,
their most negative data-set patches and their incoming weights.

Every function returns arrays (or a matplotlib figure); pages are assembled in
:mod:`deepkit.viz.report.pages`.
"""

import numpy as np

__all__ = ["weight_layers", "select_atlas_layers", "num_units", "unit_visualizations",
           "bottom_k_patches", "top_projections", "unit_weights_figure", "display", "thumbnail"]


def weight_layers(model):
    """Paths of the layers with a kernel (convolutions and dense layers), input to output.

    Args:
        model: the ``keras.Model``.

    Returns:
        A list of layer paths.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.BatchNormalization(), keras.layers.Flatten(),
        ...                       keras.layers.Dense(3, name="d")])
        >>> weight_layers(m)
        ['c', 'd']
    """
    import keras

    from deepkit.viz import list_layers

    return [path for path, layer in list_layers(model)
            if not isinstance(layer, keras.Model) and layer.built
            and (hasattr(layer, "kernel") or hasattr(layer, "depthwise_kernel"))]


def select_atlas_layers(model, layers=None, max_layers=12):
    """The layers that get a page: every weight layer, or ``max_layers`` spread over the depth.

    Args:
        model: the ``keras.Model``.
        layers: names, paths or indices chosen by the caller (then used as given).
        max_layers: above this many weight layers, keep this many evenly spaced
            ones (the first and the last always).

    Returns:
        A list of layer paths.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((4,))] + [keras.layers.Dense(2, name=f"d{i}")
        ...                                             for i in range(5)])
        >>> select_atlas_layers(m, max_layers=3)
        ['d0', 'd2', 'd4']
    """
    from deepkit.viz import layer_path

    if layers is not None:
        layers = [layers] if isinstance(layers, (str, int)) else list(layers)
        return [layer_path(model, layer) for layer in layers]
    paths = weight_layers(model)
    if len(paths) > max_layers:
        keep = np.unique(np.round(np.linspace(0, len(paths) - 1, max_layers)).astype(int))
        paths = [paths[i] for i in keep]
    return paths


def num_units(model, path):
    """Channels (units) of a layer's output (its last axis).

    Args:
        model: the ``keras.Model``.
        path: the layer path.

    Returns:
        An int.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(5, 3, name="c")])
        >>> num_units(m, "c")
        5
    """
    from deepkit.viz import resolve_layer

    return int(resolve_layer(model, path).output.shape[-1])


def display(images):
    """Images scaled one by one to ``[0, 1]`` (min to max), whatever the model's input range.

    Args:
        images: ``(n, h, w, c)``.

    Returns:
        float32 ``(n, h, w, c)``.

    Example:
        >>> float(display(np.full((1, 2, 2, 1), 255.0) * [[[[0]], [[1]]]]).max())
        1.0
    """
    from deepkit.viz import normalize_image

    images = np.asarray(images, np.float32)
    return normalize_image(images, "minmax", axis=tuple(range(1, images.ndim)))


def unit_visualizations(model, path, units, steps, seed, value_range, variant="channel"):
    """Feature visualizations of several units of one layer, in one batch.

    Args:
        model: the ``keras.Model``.
        path: the layer path.
        units: channel numbers.
        steps: optimization steps.
        seed: random seed.
        value_range: ``(low, high)`` of the model's inputs.
        variant: ``"channel"`` (mean of the channel), ``"neuron"`` (the centre
            unit only; spatial layers) or ``"pre_activation"`` (the channel
            before the layer's activation function).

    Returns:
        float32 images ``(len(units), h, w, c)`` in ``[0, 1]`` (each min-max scaled).

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c")])
        >>> unit_visualizations(m, "c", [0, 1], steps=2, seed=0, value_range=(0, 1)).shape
        (2, 8, 8, 1)
    """
    from deepkit.viz import objectives, render

    units = [int(u) for u in units]
    if variant == "neuron":
        objective = objectives.neuron(path, units)
    else:
        objective = objectives.channel(path, units, pre_activation=variant == "pre_activation")
    images = render(model, objective, steps=steps, seed=seed, value_range=tuple(value_range),
                    progress=False)
    return display(images)


def bottom_k_patches(model, path, x, units, k=6, batch_size=64):
    """For each unit, the ``k`` data-set patches where it is most negative (smallest).

    Args:
        model: the ``keras.Model``.
        path: the layer path.
        x: images ``(N, h, w, c)``.
        units: channel numbers.
        k: patches per unit.
        batch_size: images per forward pass.

    Returns:
        ``(values, patches)``: ``values`` ``(len(units), k)`` ascending and a list (per
        unit) of ``k`` image patches (the unit's receptive field, clipped to the image).

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c")])
        >>> v, p = bottom_k_patches(m, "c", np.random.rand(5, 6, 6, 1).astype("float32"), [1], k=2)
        >>> v.shape, p[0][0].shape
        ((1, 2), (3, 3, 1))
    """
    from deepkit.viz import feature_maps, receptive_field

    units = np.asarray(units, int)
    rf = receptive_field(model, path)
    mins, where = [], []
    for start in range(0, len(x), batch_size):
        maps = np.asarray(feature_maps(model, x[start:start + batch_size], layers=[path],
                                       batch_size=batch_size)[path], np.float32)[..., units]
        flat = maps.reshape(len(maps), -1, len(units))
        mins.append(flat.min(1))
        where.append(flat.argmin(1))
        width = maps.shape[2] if maps.ndim == 4 else 1
    mins, where = np.concatenate(mins), np.concatenate(where)
    k = min(k, len(x))
    order = np.argsort(mins, axis=0, kind="stable")[:k].T  # (units, k)
    values = np.take_along_axis(mins.T, order, axis=1)
    patches = []
    for u, rows in enumerate(order):
        unit_patches = []
        for i in rows:
            if rf.is_global:
                unit_patches.append(x[i])
                continue
            pos = divmod(int(where[i, u]), width)
            y0, x0, y1, x1 = rf.box(pos, image_shape=x.shape[1:3])
            unit_patches.append(x[i, y0:y1, x0:x1])
        patches.append(unit_patches)
    return values, patches


def top_projections(model, top, x, batch_size=64):
    """The deconvnet projections of the top patches another report step found, in one batch.

    Args:
        model: the ``keras.Model``.
        top: the :class:`~deepkit.viz.report.plan.Step` whose value is the
            :class:`~deepkit.viz.activations.TopPatches` (it ran before this one).
        x: the images it scanned.
        batch_size: images per gradient call.

    Returns:
        float32 ``(units, k, ph, pw, c)`` (:func:`deepkit.viz.top_k_projections`).

    Raises:
        RuntimeError: when the top-patches step failed.

    Example:
        >>> import keras
        >>> from deepkit.viz import top_k_patches
        >>> from deepkit.viz.report.plan import Step
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, activation="relu", name="c")])
        >>> x = np.random.default_rng(0).random((5, 6, 6, 1)).astype("float32")
        >>> step = Step("top", None, ok=True, value=top_k_patches(m, "c", x, k=2))
        >>> top_projections(m, step, x).shape
        (2, 2, 3, 3, 1)
    """
    from deepkit.viz import top_k_projections

    if not top.ok:
        raise RuntimeError(f"needs '{top.label}', which failed: {getattr(top.value, 'text', top.value)}")
    return top_k_projections(model, top.value, x, batch_size=batch_size)


def unit_weights_figure(model, path, unit, max_inputs=16):
    """The incoming weights of one unit: its kernel per input channel, or bars for a dense unit.

    Args:
        model: the ``keras.Model``.
        path: the layer path.
        unit: the channel number.
        max_inputs: input channels shown at most (convolutions).

    Returns:
        A matplotlib ``Figure``.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d")])
        >>> len(unit_weights_figure(m, "d", 1).axes[0].patches)
        4
    """
    from deepkit import viz
    from deepkit.viz.report.figures import channel_values_figure, image_grid_figure

    layer = viz.resolve_layer(model, path)
    if any(c is layer for c in viz.conv_layers(model)):
        kernel = viz.kernels(model, layer)[unit]  # (kh, kw, in)
        if kernel.shape[-1] == 3 and viz.conv_layers(model)[0] is layer:
            return image_grid_figure(kernel[None], ["RGB"], f"{path} unit {unit}: kernel")
        shown = min(kernel.shape[-1], max_inputs)
        return image_grid_figure(np.moveaxis(kernel[..., :shown], -1, 0)[..., None],
                                 [f"in {i}" for i in range(shown)],
                                 f"{path} unit {unit}: kernel per input channel "
                                 f"(first {shown} of {kernel.shape[-1]})")
    import keras

    weights = np.asarray(keras.ops.convert_to_numpy(layer.kernel), np.float32)
    column = weights.reshape(-1, weights.shape[-1])[:, unit]
    fig = channel_values_figure(column, f"{path} unit {unit}: incoming weights "
                                        f"({min(len(column), 256)} of {len(column)})",
                                max_channels=256)
    fig.axes[0].set_xlabel("input", fontsize=8)
    fig.axes[0].set_ylabel("weight", fontsize=8)
    return fig


def thumbnail(image, size=112):
    """An image shrunk (area average) so that its longer side is at most ``size`` pixels.

    Args:
        image: ``(h, w, c)`` in ``[0, 1]``.
        size: the longest side allowed.

    Returns:
        float32 ``(h', w', c)``; the image itself when it is small enough.

    Example:
        >>> thumbnail(np.zeros((224, 200, 3)), 112).shape
        (112, 100, 3)
    """
    from PIL import Image

    image = np.asarray(image, np.float32)
    h, w = image.shape[:2]
    if max(h, w) <= size:
        return image
    scale = size / max(h, w)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    channels = [np.asarray(Image.fromarray(image[..., i]).resize(new, Image.BOX))
                for i in range(image.shape[-1])]
    return np.stack(channels, axis=-1).astype(np.float32)
