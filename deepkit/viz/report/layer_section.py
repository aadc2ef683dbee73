"""One section per chosen layer: filters, feature maps, receptive field, top-k patches, Grad-CAM,
feature visualization; and which layers get one.
"""

import numpy as np

from deepkit.viz.report.attributions import attribution_maps
from deepkit.viz.report.document import Figure, Section
from deepkit.viz.report.figures import as_rgb, channel_values_figure, image_grid_figure

__all__ = ["select_layers", "gradcam_layer", "map_size", "deconvnet_applies", "plan_layer_section"]

# Normalization, dropout, noise and padding layers show nothing their neighbours do not.
_SKIPPED = ("BatchNormalization", "LayerNormalization", "GroupNormalization", "Dropout",
            "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "ZeroPadding2D",
            "Cropping2D", "Identity")


def select_layers(model, layers=None, max_layers=6):
    """The layer paths that get a section.

    Args:
        model: the ``keras.Model``.
        layers: names, paths or indices (or one of them); ``None`` chooses up to
            ``max_layers`` image-like layers spread over the depth.
        max_layers: the limit of the automatic choice.

    Returns:
        A list of layer paths.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Dropout(0.5, name="drop"), keras.layers.Flatten()])
        >>> select_layers(m)
        ['c']
    """
    from deepkit.viz import layer_path, resolve_layer, spatial_layers

    if layers is not None:
        layers = [layers] if isinstance(layers, (str, int)) else list(layers)
        return [layer_path(model, layer) for layer in layers]
    paths = [p for p in spatial_layers(model)
             if type(resolve_layer(model, p)).__name__ not in _SKIPPED] or spatial_layers(model)
    if len(paths) > max_layers:
        keep = np.unique(np.round(np.linspace(0, len(paths) - 1, max_layers)).astype(int))
        paths = [paths[i] for i in keep]
    return paths


def map_size(shape):
    """``(height, width)`` of an image-like output shape ``(batch, h, w, c)``, else ``None``.

    Args:
        shape: an output shape.

    Returns:
        The spatial size (entries may be ``None`` when unknown) or ``None``.

    Example:
        >>> map_size((None, 4, 4, 16)), map_size((None, 10))
        ((4, 4), None)
    """
    shape = tuple(shape)
    return (shape[1], shape[2]) if len(shape) == 4 else None


def _at_least_2x2(shape):
    size = map_size(shape)
    return size is not None and all(s is None or s >= 2 for s in size)


def gradcam_layer(model):
    """The deepest layer whose feature maps are at least 2x2 (``None`` if there is none).

    Grad-CAM weights a layer's maps; a 1x1 map gives one number for the whole
    image, so the heat map would be flat.

    Args:
        model: the ``keras.Model``.

    Returns:
        A layer path or ``None``.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Conv2D(2, 2, name="one_by_one"), keras.layers.Flatten()])
        >>> gradcam_layer(m)
        'c'
    """
    from deepkit.viz import resolve_layer, spatial_layers

    paths = [p for p in spatial_layers(model) if _at_least_2x2(resolve_layer(model, p).output.shape)]
    return paths[-1] if paths else None


def _is_conv(model, layer):
    from deepkit.viz import conv_layers

    return any(c is layer for c in conv_layers(model))


def _gradcam_figure(model, path, images, batch_size):
    from deepkit.viz import normalize_image, overlay_heatmap
    from deepkit.viz.plotting import plot_image_table

    cams = np.asarray(attribution_maps(model, images, "grad_cam", batch_size, cam_layer=path))
    overlays = np.stack([overlay_heatmap(im, m, alpha=0.55) for im, m in zip(images, cams)])
    inputs = as_rgb(np.stack([normalize_image(im) for im in images]))
    table = np.stack([inputs, overlays], axis=0)  # rows: input, Grad-CAM; columns: samples
    return plot_image_table(table, row_titles=["input", "Grad-CAM"], cell_inches=0.9)


def _featurevis_figure(model, path, channels, steps, seed):
    from deepkit.viz import objectives, render

    images = render(model, objectives.channel(path, list(channels)), steps=steps, seed=seed,
                    progress=False)
    return image_grid_figure(images, [f"ch {c}" for c in channels],
                             f"{path}: images maximising each channel ({steps} steps)")


def _feature_map_figures(ctx, maps):
    from deepkit.viz import plot_feature_maps

    max_channels = ctx.max_channels
    figures = []
    one_by_one = maps.ndim == 4 and maps.shape[1] * maps.shape[2] == 1
    for i in range(len(maps)):
        sample = int(ctx.idx[i])
        if one_by_one:  # one value per channel: bars, not a grid of flat squares
            shown = min(maps.shape[-1], max(max_channels, 64))
            fig = channel_values_figure(maps[i], f"sample {sample}: {shown} channels", max_channels=shown)
            caption = (f"Channel activations for sample {sample}: this layer's maps are 1x1, so "
                       "each channel is one number (shared axis).")
        else:
            fig = plot_feature_maps(maps, index=i, max_channels=max_channels,
                                    title=f"sample {sample}: first "
                                          f"{min(max_channels, maps.shape[-1])} channels")
            caption = (f"Feature maps for sample {sample} (each channel scaled to its own range; "
                       "bright = strong).")
        figures.append(Figure.of(fig, caption))
    return figures


def _feature_maps(model, images, path, batch_size):
    from deepkit.viz import feature_maps

    return np.asarray(feature_maps(model, images, layers=[path], batch_size=batch_size)[path])


def _top_patches_figure(model, path, x, k, channels, batch_size):
    from deepkit.viz import plot_top_patches, top_k_patches

    return plot_top_patches(top_k_patches(model, path, x, k=k, channels=channels, batch_size=batch_size))


def _step_value(step):
    if not step.ok:
        raise RuntimeError(f"needs '{step.label}', which failed: {getattr(step.value, 'text', step.value)}")
    return step.value


def _plot_top_step(top):
    from deepkit.viz import plot_top_patches

    return plot_top_patches(_step_value(top))


def _projections_figure(model, top, x, batch_size):
    from deepkit.viz import plot_projections, top_k_projections

    top = _step_value(top)
    return plot_projections(top, top_k_projections(model, top, x, batch_size=batch_size))


def deconvnet_applies(model, layer):
    """Whether a layer's page shows deconvnet projections: a convolution in a model with non-linearities.

    Any element-wise non-linearity counts (ReLU, tanh, LeCun's scaled tanh:
    :func:`deepkit.viz.attribution.modified.deconvnet_layers`), as the deconvnet rectifies the
    signal at each of them.

    Args:
        model: the ``keras.Model``.
        layer: the layer (object).

    Returns:
        A bool.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3, activation="relu")])
        >>> deconvnet_applies(m, m.layers[0])
        True
    """
    from deepkit.viz.attribution.modified import deconvnet_layers

    return _is_conv(model, layer) and map_size(layer.output.shape) is not None and bool(deconvnet_layers(model))


def plan_layer_section(plan, ctx, path, gradcam=True, featurevis=None, section_id=None, deconvnet=False):
    """The section of one layer: filters, feature maps, receptive field, top-k patches, Grad-CAM,
    feature visualization.

    Args:
        plan: the :class:`~deepkit.viz.report.plan.Plan`.
        ctx: the report's :class:`~deepkit.viz.report.context.Context`.
        path: the layer path.
        gradcam: draw Grad-CAM at this layer (only done when its maps are at least 2x2).
        featurevis: draw feature visualizations (default ``ctx.featurevis``).
        section_id: the section's id (default: the layer's anchor in ``ctx.names``).
        deconvnet: beside the top patches, their deconvnet projections (Zeiler & Fergus' figure 2;
            convolutions of models with non-linearities, see :func:`deconvnet_applies`): one gradient call
            for every shown channel's top-k.

    Returns:
        A function building the :class:`~deepkit.viz.report.document.Section`.

    Example:
        >>> import keras
        >>> from deepkit.viz.report.context import Context, Runner
        >>> from deepkit.viz.report.plan import Plan
        >>> m = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2)])
        >>> x = np.random.default_rng(0).random((6, 4, 4, 1)).astype("float32")
        >>> ctx = Context(m, x, None, "random", np.arange(2), None, None, Runner(), featurevis=False)
        >>> plan = Plan()
        >>> build = plan_layer_section(plan, ctx, "c")
        >>> [s.label for s in plan.steps]
        ['c: filters', 'c: feature maps', 'c: receptive field', 'c: top-9 patches over 6 images', 'c: Grad-CAM']
        >>> plan.page("index.html", "t", lambda: [build()])
        >>> section = plan.collect(ctx.runner)[0].sections[0]
        >>> section.id, section.detail, ctx.runner.errors
        ('layer-c', 'Conv2D, output (None, 2, 2, 2), receptive field 3x3 pixels, stride 1', [])
    """
    from deepkit import viz

    model, x, idx = ctx.model, ctx.x, ctx.idx
    layer = viz.resolve_layer(model, path)
    out_shape = tuple(layer.output.shape)
    featurevis = ctx.featurevis if featurevis is None else featurevis
    filters = None
    if _is_conv(model, layer):
        filters = plan.figure(f"{path}: filters", viz.plot_filters, model, layer,
                              max_filters=64 if viz.kernels(model, layer).shape[-1] in (1, 3) else 8,
                              max_channels=8)
    maps = plan.add(f"{path}: feature maps", _feature_maps, model, x[idx[:2]], path, ctx.batch_size)
    rf = plan.add(f"{path}: receptive field", viz.receptive_field, model, path)
    channels = list(range(min(ctx.max_channels, out_shape[-1])))
    projections = None
    if deconvnet and deconvnet_applies(model, layer):
        top_data = plan.add(f"{path}: top-{ctx.top_k} patches over {len(x)} images", viz.top_k_patches,
                            model, path, x, k=ctx.top_k, channels=channels, batch_size=ctx.batch_size)
        top = plan.figure(f"{path}: top-{ctx.top_k} patches figure", _plot_top_step, top_data)
        projections = plan.figure(f"{path}: deconvnet projections of {len(channels)} channels",
                                  _projections_figure, model, top_data, x, ctx.batch_size)
    else:
        top = plan.figure(f"{path}: top-{ctx.top_k} patches over {len(x)} images", _top_patches_figure,
                          model, path, x, ctx.top_k, channels, ctx.batch_size)
    cam = vis = None
    if gradcam and _at_least_2x2(out_shape):
        cam = plan.figure(f"{path}: Grad-CAM", _gradcam_figure, model, path, x[idx], ctx.batch_size)
    if featurevis:
        vis = plan.figure(f"{path}: feature visualization", _featurevis_figure, model, path,
                          channels[:16], ctx.featurevis_steps, ctx.seed)

    def build():
        blocks = []
        if filters is not None:
            blocks.append(filters.figure("Learned filters (kernels) of this layer, each scaled to its own "
                                         "range.", pixelated=True))
        blocks += _feature_map_figures(ctx, maps.value) if maps.ok else [maps.value]
        rf_text = None
        if rf.ok:
            rf_text = ("every unit sees the whole input" if rf.value.is_global else
                       f"receptive field {rf.value.size[0]}x{rf.value.size[1]} pixels, "
                       f"stride {rf.value.stride[0]}")
        else:
            blocks.append(rf.value)
        blocks.append(top.figure(f"Top {ctx.top_k} data-set patches per channel (Zeiler & Fergus): the "
                                 "input regions that excite each channel most, strongest first.",
                                 pixelated=True))
        if projections is not None:
            blocks.append(projections.figure(
                f"Deconvnet projections (Zeiler & Fergus 2014, figure 2): for each channel, its top "
                f"{ctx.top_k} activations projected back to pixels through the deconvnet (left, each "
                "scaled to its own range) beside the data-set patches they come from (right), "
                "cropped to the receptive field.", pixelated=True))
        if cam is not None:
            blocks.append(cam.figure("Grad-CAM at this layer for the sample inputs (predicted class): "
                                     "where this layer's features support the decision. Deeper layers "
                                     "localize coarser but more class-specific evidence."))
        if vis is not None:
            blocks.append(vis.figure("Feature visualization: optimized inputs that maximise each "
                                     "channel's mean activation (Fourier parameterization, "
                                     "jitter/scale/rotate robustness)."))
        detail = ", ".join(filter(None, [type(layer).__name__, f"output {out_shape}", rf_text]))
        return Section(section_id or ctx.names.anchor(path), path, path, blocks, detail=detail)

    return build
