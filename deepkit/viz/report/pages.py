"""The sections of the atlas's index, layer and unit pages (class pages: :mod:`.class_pages`).

Each function computes through the context's runner (a failure becomes a note and an entry in
``report.json``) and returns :class:`~deepkit.viz.report.render.Section` objects; the site
writer (:mod:`deepkit.viz.report.site`) puts them on pages.
"""

import numpy as np

from deepkit.viz.report.figures import channel_values_figure
from deepkit.viz.report.layer_section import layer_section, map_size
from deepkit.viz.report.render import Figure, Note, Section, Table
from deepkit.viz.report.sections import overview_section
from deepkit.viz.report.site_render import Gallery, Link, Links, page_name
from deepkit.viz.report.units import (bottom_k_patches, display, num_units, thumbnail,
                                      unit_visualizations, unit_weights_figure)

__all__ = ["atlas_layer_rows", "index_sections", "layer_page_sections", "unit_page_sections",
           "activation_atlas_layer", "activation_atlas_section",
           "UNIT_VARIANTS"]

#: Feature visualizations on a unit page: (variant, seed offset, title).
UNIT_VARIANTS = (("channel", 0, "channel mean, seed 0"), ("channel", 1, "channel mean, seed 1"),
                 ("neuron", 0, "centre neuron"), ("pre_activation", 0, "before the activation"))


def _macs(layer):
    from deepkit.summary import layer_macs

    try:
        ins = layer.input
        in_shape = [tuple(t.shape[1:]) for t in ins] if isinstance(ins, (list, tuple)) \
            else tuple(ins.shape[1:])
        return layer_macs(layer, in_shape, tuple(layer.output.shape[1:]))
    except Exception:  # a layer used twice has no single input; nested models are counted inside
        return 0


def _rf_text(model, path, shape):
    from deepkit.viz import receptive_field

    if map_size(shape) is None:
        return "whole input"
    try:
        rf = receptive_field(model, path)
    except Exception:  # e.g. a layer after a merge the walk cannot follow
        return "?"
    return "whole input" if rf.is_global else f"{rf.size[0]}x{rf.size[1]} / {rf.stride[0]}"


def atlas_layer_rows(model, pages):
    """The index's layer table: path (linked when it has a page), type, shape, parameters,
    multiply-adds, receptive field (size / stride in input pixels).

    Args:
        model: the ``keras.Model``.
        pages: the layer paths with a page.

    Returns:
        A :class:`~deepkit.viz.report.render.Table`.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c")])
        >>> atlas_layer_rows(m, ["c"]).rows[0][1:]
        ('Conv2D', (None, 6, 6, 2), '20', '648', '3x3 / 1')
    """
    from deepkit.viz.report.sections import layer_rows

    from deepkit.viz import resolve_layer

    rows = []
    for path, kind, shape, params in layer_rows(model):
        name = Link(page_name("layer", path), path) if path in pages else path
        layer = resolve_layer(model, path)
        rows.append((name, kind, shape, f"{params:,}", f"{_macs(layer):,}",
                     _rf_text(model, path, shape)))
    return Table(["layer", "type", "output shape", "parameters", "multiply-adds",
                  "receptive field / stride"], rows, numeric=(3, 4), title="Layers")


def index_sections(ctx, layer_pages, class_pages, training):
    """Overview with the layer table, training (curves, confusion matrix), links to every page.

    Args:
        ctx: the report's context.
        layer_pages: ``{path: number of unit pages}``.
        class_pages: class indices with a page.
        training: the ``training`` section or ``None``.

    Returns:
        A list of sections.

    Example:
        >>> import keras
        >>> from deepkit.viz.report.context import Context, Runner
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2, name="d")])
        >>> x = np.random.default_rng(0).random((8, 6, 6, 1)).astype("float32")
        >>> y = np.arange(8) % 2
        >>> ctx = Context(m, x, y, "random", np.arange(2), m.predict(x, verbose=0), None, Runner(),
        ...               featurevis=False)
        >>> [s.id for s in index_sections(ctx, {"c": 1}, [0, 1], None)]
        ['overview', 'pages']
    """
    overview = overview_section(ctx, [])
    facts = overview.blocks[0]
    table = atlas_layer_rows(ctx.model, list(layer_pages))
    sections = [Section("overview", "Overview", "Overview", [facts, table], grid=False)]
    if training is not None:
        sections.append(training)
    links = [(page_name("layer", p), p, f"{num_units(ctx.model, p)} units, {n} unit pages")
             for p, n in layer_pages.items()]
    blocks = [Links(links, title="Layers")]
    if class_pages:
        from deepkit.viz.report.figures import class_label

        blocks.append(Links([(page_name("class", c), class_label(c, ctx.class_names), None)
                             for c in class_pages], title="Classes"))
    sections.append(Section("pages", "Pages", "Pages of this atlas", blocks, grid=False))
    return sections


def _dense_blocks(ctx, path):
    from deepkit import viz

    model, x = ctx.model, ctx.x
    blocks = []
    ok, maps = ctx.run(f"{path}: activations", viz.feature_maps, model, x[ctx.idx[:2]],
                       layers=[path], batch_size=ctx.batch_size)
    if ok:
        for i, values in enumerate(np.asarray(maps[path])):
            blocks.append(Figure.of(channel_values_figure(values, f"sample {int(ctx.idx[i])}",
                                                          max_channels=256),
                                    f"Unit activations for sample {int(ctx.idx[i])}."))
    else:
        blocks.append(maps)
    return blocks


def layer_page_sections(ctx, path, units, unit_pages, embedding=True):
    """The sections of one layer's page.

    Convolution and pooling layers reuse the single-page report's layer section (filters,
    feature maps, receptive field, top patches, Grad-CAM where the maps are at least 2x2);
    other layers show their activations as bars. Then every shown unit's feature
    visualization (linking to the unit pages) and the embedding of the layer's outputs.

    Args:
        ctx: the report's context (``ctx.featurevis`` decides the gallery).
        path: the layer path.
        units: the units in the gallery.
        unit_pages: the units that have a page.
        embedding: draw the PCA embedding with k-NN accuracy (needs labels).

    Returns:
        ``(sections, thumbnails)``: the sections and ``{unit: image}`` of the gallery.

    Example:
        >>> import keras
        >>> from deepkit.viz.report.context import Context, Runner
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2, name="d")])
        >>> x = np.random.default_rng(0).random((8, 6, 6, 1)).astype("float32")
        >>> y = np.arange(8) % 2
        >>> ctx = Context(m, x, y, "random", np.arange(2), m.predict(x, verbose=0), None, Runner(),
        ...               featurevis=False)
        >>> sections, thumbs = layer_page_sections(ctx, "c", [0, 1], [0], embedding=False)
        >>> len(sections) > 0, thumbs, ctx.runner.errors
        (True, {}, [])
    """
    from deepkit import viz

    layer = viz.resolve_layer(ctx.model, path)
    if map_size(layer.output.shape) is not None:
        featurevis, ctx.featurevis = ctx.featurevis, False
        try:
            main = layer_section(ctx, path, gradcam=ctx.probs is not None)
        finally:
            ctx.featurevis = featurevis
    else:
        main = Section("layer", path, path, _dense_blocks(ctx, path),
                       detail=f"{type(layer).__name__}, output {tuple(layer.output.shape)}")
    sections = [main]
    thumbs = {}
    if ctx.featurevis and units:
        ok, images = ctx.run(f"{path}: feature visualization of {len(units)} units",
                             unit_visualizations, ctx.model, path, units, ctx.featurevis_steps,
                             ctx.seed, ctx.value_range)
        if ok:
            thumbs = dict(zip(units, images))
            items = [(thumbnail(im), f"unit {u}", page_name("unit", (path, u)) if u in unit_pages else None)
                     for u, im in thumbs.items()]
            block = Gallery(items)
        else:
            block = images
        total = num_units(ctx.model, path)
        shown = "every unit" if len(units) == total else f"{len(units)} of {total} units"
        sections.append(Section("units", "Units", f"Units: {shown}", [block], grid=False,
                                detail=f"inputs maximising each unit's mean activation, "
                                       f"{ctx.featurevis_steps} steps; framed ones link to the "
                                       "unit's page"))
    if embedding and ctx.y is not None:
        ok, fig = ctx.run(f"{path}: embedding", viz.plot_layer_embeddings, ctx.model, ctx.x, ctx.y,
                          layers=[path], class_names=ctx.class_names, max_samples=1000,
                          seed=ctx.seed)
        sections.append(Section("embedding", "Embedding", "Embedding", [
            Figure.of(fig, "PCA of the inputs and of this layer's outputs, coloured by true class; "
                           "the titles give the leave-one-out 5-NN accuracy in the full space.")
            if ok else fig]))
    return sections, thumbs


def unit_page_data(ctx, path, units):
    """Everything the unit pages of one layer need, computed in a few batched passes.

    Args:
        ctx: the report's context.
        path: the layer path.
        units: the units with a page.

    Returns:
        A dict: ``"top"`` (a TopPatches or a Note), ``"bottom"`` (``(values, patches)`` or a
        Note), and per variant title its images (or a Note).
    """
    from deepkit import viz

    spatial = map_size(viz.resolve_layer(ctx.model, path).output.shape) is not None
    data = {}
    if ctx.featurevis:
        for variant, offset, title in UNIT_VARIANTS[1:]:
            if variant == "neuron" and not spatial:
                continue
            ok, images = ctx.run(f"{path}: unit visualizations ({title})", unit_visualizations,
                                 ctx.model, path, units, ctx.featurevis_steps, ctx.seed + offset,
                                 ctx.value_range, variant)
            data[title] = images
    _, data["top"] = ctx.run(f"{path}: top patches of {len(units)} units", viz.top_k_patches,
                             ctx.model, path, ctx.x, k=ctx.top_k, channels=list(units),
                             batch_size=ctx.batch_size)
    _, data["bottom"] = ctx.run(f"{path}: negative patches of {len(units)} units",
                                bottom_k_patches, ctx.model, path, ctx.x, units, k=ctx.top_k,
                                batch_size=ctx.batch_size)
    return data


def unit_page_sections(ctx, path, unit, row, data, thumb=None):
    """The sections of one unit's page.

    Args:
        ctx: the report's context.
        path: the layer path.
        unit: the channel number.
        row: the unit's row in ``data`` (its position in the list of page units).
        data: :func:`unit_page_data` of the layer.
        thumb: its gallery visualization (seed 0), or ``None``.

    Returns:
        A list of sections.

    Example:
        >>> import keras
        >>> from deepkit.viz.report.context import Context, Runner
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2, name="d")])
        >>> x = np.random.default_rng(0).random((8, 6, 6, 1)).astype("float32")
        >>> y = np.arange(8) % 2
        >>> ctx = Context(m, x, y, "random", np.arange(2), m.predict(x, verbose=0), None, Runner(),
        ...               featurevis=False)
        >>> data = unit_page_data(ctx, "c", [0])
        >>> len(unit_page_sections(ctx, "c", 0, 0, data)) > 0
        True
    """
    vis = [(thumb, UNIT_VARIANTS[0][2], None)] if thumb is not None else []
    notes = []
    for _, _, title in UNIT_VARIANTS[1:]:
        images = data.get(title)
        if isinstance(images, Note):
            notes.append(images)
        elif images is not None:
            vis.append((images[row], title, None))
    sections = []
    if vis or notes:
        sections.append(Section("vis", "Visualization", "Feature visualization",
                                [Gallery(vis)] + notes, grid=False,
                                detail=f"{ctx.featurevis_steps} steps each"))
    top = data["top"]
    if isinstance(top, Note):
        blocks = [top]
    else:
        blocks = [Gallery([(thumbnail(display(p[None])[0]), f"#{int(i)}: {v:.3g}", None) for p, i, v in
                           zip(top.patches[row], top.indices[row], top.values[row]) if i >= 0],
                          title=f"Strongest {ctx.top_k} (image #: activation)")]
    bottom = data["bottom"]
    if isinstance(bottom, Note):
        blocks.append(bottom)
    else:
        values, patches = bottom
        blocks.append(Gallery([(thumbnail(display(p[None])[0]), f"{v:.3g}", None)
                               for p, v in zip(patches[row], values[row])],
                              title=f"Most negative {len(values[row])} (activation)"))
    sections.append(Section("patches", "Patches", "Data-set patches", blocks, grid=False,
                            detail="each the unit's receptive field in the image"))
    ok, fig = ctx.run(f"{path} unit {unit}: weights", unit_weights_figure, ctx.model, path, unit)
    sections.append(Section("weights", "Weights", "Incoming weights",
                            [Figure.of(fig, "The unit's incoming weights.", pixelated=True)
                             if ok else fig]))
    return sections


def activation_atlas_layer(model, paths):
    """The layer whose page gets the activation atlas: the deepest shown one with maps of at least 2x2.

    Args:
        model: the ``keras.Model``.
        paths: the layers with a page, in depth order.

    Returns:
        A layer path, or ``None`` when no shown layer has such maps.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Conv2D(2, 3, name="c2"), keras.layers.Flatten(),
        ...                       keras.layers.Dense(2, name="d")])
        >>> activation_atlas_layer(m, ["c", "c2", "d"])
        'c2'
    """
    from deepkit import viz

    def big_enough(path):
        size = map_size(viz.resolve_layer(model, path).output.shape)
        return size is not None and None not in size and min(size) >= 2

    spatial = [p for p in paths if big_enough(p)]
    return spatial[-1] if spatial else None


def activation_atlas_section(ctx, path, grid=8):
    """The activation atlas of ``path`` over the report's data (``deepkit.viz.activation_atlas``).

    Args:
        ctx: the report's context (its images, feature-visualization steps, seed).
        path: a layer with spatial maps.
        grid: cells per side.

    Returns:
        A section.

    Example:
        >>> import keras
        >>> from deepkit.viz.report.context import Context, Runner
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(3, 3, name="c"),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2)])
        >>> x = np.random.default_rng(0).random((20, 6, 6, 1)).astype("float32")
        >>> ctx = Context(m, x, None, "random", np.arange(2), None, None, Runner(), featurevis_steps=2)
        >>> activation_atlas_section(ctx, "c", grid=2).id, ctx.runner.errors
        ('activation-atlas', [])
    """
    from deepkit.viz.activation_space import activation_atlas, plot_activation_atlas

    ok, atlas = ctx.run(f"{path}: activation atlas", activation_atlas, ctx.model, ctx.x, path, grid=grid,
                        steps=ctx.featurevis_steps, seed=ctx.seed, min_count=3,
                        batch_size=ctx.batch_size, value_range=ctx.value_range)
    if ok:
        block = Figure.of(plot_activation_atlas(atlas),
                          f"{int(atlas.counts.sum())} spatial activation vectors of {path} laid out in 2-D "
                          f"(PCA), binned {grid}x{grid}; each cell with at least 3 vectors is drawn by "
                          "feature visualization of its mean vector (number: vectors in the cell)")
    else:
        block = atlas
    return Section("activation-atlas", "Activation atlas", f"Activation atlas of {path}", [block],
                   grid=False, detail="Carter et al. 2019: the layer's common states and their neighbours, "
                                      "beyond single units")
