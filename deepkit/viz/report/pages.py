"""The atlas's index, layer and unit pages (class pages: :mod:`.class_pages`).

:func:`plan_layer_pages` adds a layer's steps to the :class:`~deepkit.viz.report.plan.Plan` with the
function that builds its page and its unit pages from their results; :func:`index_sections` builds
the index from what the plan chose and computed.
"""

import numpy as np

from deepkit.viz.report.document import Figure, Gallery, Link, Links, Page, Section, Table, png_bytes
from deepkit.viz.report.figures import channel_values_figure
from deepkit.viz.report.layer_section import deconvnet_applies, map_size, plan_layer_section
from deepkit.viz.report.sections import layer_rows, overview_facts, plan_embedding
from deepkit.viz.report.units import (bottom_k_patches, display, num_units, thumbnail, top_projections,
                                      unit_visualizations,
                                      unit_weights_figure)

__all__ = ["atlas_layer_rows", "index_sections", "plan_layer_pages", "activation_atlas_layer",
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


def atlas_layer_rows(model, pages, names=None):
    """The index's layer table: path (linked when it has a page), type, shape, parameters,
    multiply-adds, receptive field (size / stride in input pixels).

    Args:
        model: the ``keras.Model``.
        pages: the layer paths with a page.
        names: their :class:`~deepkit.viz.report.names.PageNames` (default: one for ``pages``).

    Returns:
        A :class:`~deepkit.viz.report.document.Table`.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c")])
        >>> atlas_layer_rows(m, ["c"]).rows[0][1:]
        ('Conv2D', (None, 6, 6, 2), '20', '648', '3x3 / 1')
    """
    from deepkit.viz import resolve_layer
    from deepkit.viz.report.names import PageNames

    names = names or PageNames(pages)
    rows = []
    for path, kind, shape, params in layer_rows(model):
        name = Link(names.page("layer", path), path) if path in pages else path
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
        >>> ctx = Context(m, x, np.arange(8) % 2, "random", np.arange(2), m.predict(x, verbose=0), None,
        ...               Runner(), featurevis=False)
        >>> [s.id for s in index_sections(ctx, {"c": 1}, [0, 1], None)]
        ['overview', 'pages']
    """
    from deepkit.viz.report.figures import class_label

    table = atlas_layer_rows(ctx.model, list(layer_pages), ctx.names)
    sections = [Section("overview", "Overview", "Overview", [overview_facts(ctx), table], grid=False)]
    if training is not None:
        sections.append(training)
    links = [(ctx.names.page("layer", p), p, f"{num_units(ctx.model, p)} units, {n} unit pages")
             for p, n in layer_pages.items()]
    blocks = [Links(links, title="Layers")]
    if class_pages:
        blocks.append(Links([(ctx.names.page("class", c), class_label(c, ctx.class_names), None)
                             for c in class_pages], title="Classes"))
    sections.append(Section("pages", "Pages", "Pages of this atlas", blocks, grid=False))
    return sections


def _activations(model, images, path, batch_size):
    from deepkit.viz import feature_maps

    return np.asarray(feature_maps(model, images, layers=[path], batch_size=batch_size)[path])


def _dense_section(ctx, path, layer, maps):
    blocks = []
    if maps.ok:
        for i, values in enumerate(maps.value):
            sample = int(ctx.idx[i])
            blocks.append(Figure.of(channel_values_figure(values, f"sample {sample}", max_channels=256),
                                    f"Unit activations for sample {sample}."))
    else:
        blocks.append(maps.value)
    return Section("layer", path, path, blocks,
                   detail=f"{type(layer).__name__}, output {tuple(layer.output.shape)}")


def _top_patches(model, path, x, k, units, batch_size):
    from deepkit.viz import top_k_patches

    return top_k_patches(model, path, x, k=k, channels=list(units), batch_size=batch_size)


def plan_layer_pages(plan, ctx, path, units, page_units, embedding=True, activation_atlas=False):
    """Plan a layer's page and the pages of its first units.

    The layer page: for layers with maps, the single page's layer section (filters, feature
    maps, receptive field, top patches, Grad-CAM where the maps are at least 2x2), else the
    activations as bars; then every shown unit's feature visualization (linking to the unit
    pages), the embedding of the layer's outputs and, when asked, the activation atlas. A unit
    page: visualizations at several objectives and seeds, strongest and most negative patches,
    incoming weights.

    Args:
        plan: the :class:`~deepkit.viz.report.plan.Plan`.
        ctx: the report's context (``ctx.featurevis`` decides the visualizations).
        path: the layer path.
        units: the units in the gallery.
        page_units: the units that have a page.
        embedding: draw the PCA embedding with k-NN accuracy (needs labels).
        activation_atlas: add the activation atlas of this layer (Carter et al. 2019).

    Returns:
        ``None``; the pages are planned (the layer page first).

    Example:
        >>> import keras
        >>> from deepkit.viz.report.context import Context, Runner
        >>> from deepkit.viz.report.plan import Plan
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2, name="d")])
        >>> x = np.random.default_rng(0).random((8, 6, 6, 1)).astype("float32")
        >>> ctx = Context(m, x, np.arange(8) % 2, "random", np.arange(2), m.predict(x, verbose=0), None,
        ...               Runner(), featurevis=False)
        >>> plan = Plan()
        >>> plan_layer_pages(plan, ctx, "c", [0, 1], [0], embedding=False)
        >>> [p.name for p in plan.collect(ctx.runner)], ctx.runner.errors
        (['layer-c.html', 'unit-c-0.html'], [])
    """
    from deepkit import viz

    model = ctx.model
    layer = viz.resolve_layer(model, path)
    spatial = map_size(layer.output.shape) is not None
    if spatial:
        main = plan_layer_section(plan, ctx, path, gradcam=ctx.probs is not None, featurevis=False,
                                  deconvnet=True)
    else:
        maps = plan.add(f"{path}: activations", _activations, model, ctx.x[ctx.idx[:2]], path, ctx.batch_size)

        def main():
            return _dense_section(ctx, path, layer, maps)
    gallery = None
    if ctx.featurevis and units:
        gallery = plan.add(f"{path}: feature visualization of {len(units)} units", unit_visualizations,
                           model, path, units, ctx.featurevis_steps, ctx.seed, ctx.value_range)
    emb = plan_embedding(plan, ctx, [path]) if embedding and ctx.y is not None else None
    atlas = _plan_activation_atlas(plan, ctx, path) if activation_atlas else None
    unit_data = _plan_unit_data(plan, ctx, path, page_units, spatial,
                                deconvnet=spatial and deconvnet_applies(model, layer)) if page_units else None
    weights = [plan.figure(f"{path} unit {u}: weights", unit_weights_figure, model, path, u)
               for u in page_units]

    def build():
        layer_name = ctx.names.page("layer", path)
        home = ("index.html", "Atlas")
        sections = [main(), _gallery_section(ctx, path, units, page_units, gallery),
                    emb() if emb else None, atlas() if atlas else None]
        pages = [Page(layer_name, f"Layer {path}", [s for s in sections if s is not None], [home])]
        for row, unit in enumerate(page_units):
            thumb = gallery.value[units.index(unit)] if gallery is not None and gallery.ok else None
            pages.append(Page(ctx.names.page("unit", (path, unit)), f"Unit {unit} of {path}",
                              _unit_sections(ctx, row, unit_data, thumb, weights[row]),
                              [home, (layer_name, path)]))
        return pages

    plan.pages(build)


def _gallery_section(ctx, path, units, page_units, gallery):
    if gallery is None:
        return None
    if gallery.ok:
        block = Gallery.of([(thumbnail(im), f"unit {u}",
                             ctx.names.page("unit", (path, u)) if u in page_units else None)
                            for u, im in zip(units, gallery.value)])
    else:
        block = gallery.value
    total = num_units(ctx.model, path)
    shown = "every unit" if len(units) == total else f"{len(units)} of {total} units"
    return Section("units", "Units", f"Units: {shown}", [block], grid=False,
                   detail=f"inputs maximising each unit's mean activation, {ctx.featurevis_steps} steps; "
                          "framed ones link to the unit's page")


def _plan_unit_data(plan, ctx, path, units, spatial, deconvnet=False):
    data = {}
    if ctx.featurevis:
        for variant, offset, title in UNIT_VARIANTS[1:]:
            if variant == "neuron" and not spatial:
                continue
            data[title] = plan.add(f"{path}: unit visualizations ({title})", unit_visualizations, ctx.model,
                                   path, units, ctx.featurevis_steps, ctx.seed + offset, ctx.value_range,
                                   variant)
    data["top"] = plan.add(f"{path}: top patches of {len(units)} units", _top_patches, ctx.model, path,
                           ctx.x, ctx.top_k, units, ctx.batch_size)
    data["bottom"] = plan.add(f"{path}: negative patches of {len(units)} units", bottom_k_patches,
                              ctx.model, path, ctx.x, units, k=ctx.top_k, batch_size=ctx.batch_size)
    if deconvnet:
        data["deconvnet"] = plan.add(f"{path}: deconvnet projections of {len(units)} units", top_projections,
                                     ctx.model, data["top"], ctx.x, ctx.batch_size)
    return data


def _unit_sections(ctx, row, data, thumb, weights):
    vis = [(thumb, UNIT_VARIANTS[0][2], None)] if thumb is not None else []
    notes = []
    for _, _, title in UNIT_VARIANTS[1:]:
        step = data.get(title)
        if step is None:
            continue
        if step.ok:
            vis.append((step.value[row], title, None))
        else:
            notes.append(step.value)
    sections = []
    if vis or notes:
        sections.append(Section("vis", "Visualization", "Feature visualization", [Gallery.of(vis)] + notes,
                                grid=False, detail=f"{ctx.featurevis_steps} steps each"))
    top, bottom = data["top"], data["bottom"]
    if top.ok:
        t = top.value
        blocks = [Gallery.of([(thumbnail(display(p[None])[0]), f"#{int(i)}: {v:.3g}", None)
                              for p, i, v in zip(t.patches[row], t.indices[row], t.values[row]) if i >= 0],
                             title=f"Strongest {ctx.top_k} (image #: activation)")]
    else:
        blocks = [top.value]
    projections = data.get("deconvnet")
    if projections is not None and projections.ok and top.ok:
        t = top.value
        blocks.append(Gallery.of([(thumbnail(display(p[None])[0]), f"#{int(i)}", None)
                                  for p, i in zip(projections.value[row], t.indices[row]) if i >= 0],
                                 title="Their deconvnet projections (Zeiler & Fergus), same order"))
    elif projections is not None and not projections.ok:
        blocks.append(projections.value)
    if bottom.ok:
        values, patches = bottom.value
        blocks.append(Gallery.of([(thumbnail(display(p[None])[0]), f"{v:.3g}", None)
                                  for p, v in zip(patches[row], values[row])],
                                 title=f"Most negative {len(values[row])} (activation)"))
    else:
        blocks.append(bottom.value)
    sections.append(Section("patches", "Patches", "Data-set patches", blocks, grid=False,
                            detail="each the unit's receptive field in the image"))
    sections.append(Section("weights", "Weights", "Incoming weights",
                            [weights.figure("The unit's incoming weights.", pixelated=True)]))
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


def _activation_atlas_figure(model, x, path, grid, steps, seed, batch_size, value_range):
    from deepkit.viz.activation_space import activation_atlas, plot_activation_atlas

    atlas = activation_atlas(model, x, path, grid=grid, steps=steps, seed=seed, min_count=3,
                             batch_size=batch_size, value_range=value_range)
    return int(atlas.counts.sum()), png_bytes(plot_activation_atlas(atlas))


def _plan_activation_atlas(plan, ctx, path, grid=8):
    step = plan.add(f"{path}: activation atlas", _activation_atlas_figure, ctx.model, ctx.x, path, grid,
                    ctx.featurevis_steps, ctx.seed, ctx.batch_size, ctx.value_range)

    def build():
        if step.ok:
            count, png = step.value
            block = Figure(png, f"{count} spatial activation vectors of {path} laid out in 2-D (PCA), "
                                f"binned {grid}x{grid}; each cell with at least 3 vectors is drawn by feature "
                                "visualization of its mean vector (number: vectors in the cell)")
        else:
            block = step.value
        return Section("activation-atlas", "Activation atlas", f"Activation atlas of {path}", [block],
                       grid=False, detail="Carter et al. 2019: the layer's common states and their "
                                          "neighbours, beyond single units")

    return build
