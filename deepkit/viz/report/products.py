"""The report's two products, planned from the same parts: the atlas and the single page.

:func:`plan_atlas` plans an index, a page per layer, per shown unit and per class;
:func:`plan_single_page` plans one page with an overview, training, predictions with attribution,
a section per layer and the embeddings. Both only add steps and pages to a
:class:`~deepkit.viz.report.plan.Plan`; :mod:`deepkit.viz.report.builder` runs it and writes the
result.
"""

from deepkit.viz.report.class_pages import class_visualizations, plan_class_page, select_classes
from deepkit.viz.report.layer_section import gradcam_layer, plan_layer_section
from deepkit.viz.report.pages import activation_atlas_layer, index_sections, plan_layer_pages
from deepkit.viz.report.sections import (layer_rows, layer_table, overview_section, plan_embedding,
                                         plan_predictions, plan_training, problems_section)
from deepkit.viz.report.units import num_units

__all__ = ["atlas_units", "plan_atlas", "plan_single_page"]


def atlas_units(model, paths, max_units=64, unit_pages=8):
    """Which units each layer page shows and which of them get a page.

    Args:
        model: the ``keras.Model``.
        paths: the layers with a page.
        max_units: gallery units per layer (the first ones; all when fewer).
        unit_pages: units per layer with their own page (the first ones).

    Returns:
        ``{path: (gallery units, page units)}``.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, name="d")])
        >>> atlas_units(m, ["d"], max_units=4, unit_pages=2)
        {'d': ([0, 1, 2, 3], [0, 1])}
    """
    plan = {}
    for path in paths:
        units = list(range(min(max_units, num_units(model, path))))
        plan[path] = (units, units[:unit_pages])
    return plan


def plan_atlas(plan, ctx, paths, history=None, *, max_units=64, unit_pages=8, max_classes=100,
               embedding=True, activation_atlas=True, title="Atlas"):
    """Plan the atlas: a page per layer (and its first units), per class, and the index last.

    Args:
        plan: the :class:`~deepkit.viz.report.plan.Plan`.
        ctx: the report's :class:`~deepkit.viz.report.context.Context` (``probs`` set or ``None``).
        paths: the layers with a page.
        history: ``{metric: values}`` or ``None``.
        max_units: gallery units per layer.
        unit_pages: units per layer with a page.
        max_classes: class pages at most.
        embedding: draw the embedding of each layer's outputs (needs labels).
        activation_atlas: with feature visualization, the activation atlas (Carter et al. 2019) of
            the deepest shown layer with maps of at least 2x2.
        title: the index's heading.

    Returns:
        What was chosen: ``{"units": {path: page units}, "classes": [...]}``.

    Example:
        >>> import keras, numpy as np
        >>> from deepkit.viz.report.context import Context, Runner
        >>> from deepkit.viz.report.plan import Plan
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2, name="d")])
        >>> x = np.random.default_rng(0).random((8, 6, 6, 1)).astype("float32")
        >>> ctx = Context(m, x, np.arange(8) % 2, "random", np.arange(2), m.predict(x, verbose=0), None,
        ...               Runner(), featurevis=False, attributions=())
        >>> plan = Plan()
        >>> plan_atlas(plan, ctx, ["c"], unit_pages=1, embedding=False)
        {'units': {'c': [0]}, 'classes': [0, 1]}
        >>> sorted(p.name for p in plan.collect(ctx.runner))
        ['class-0.html', 'class-1.html', 'index.html', 'layer-c.html', 'unit-c-0.html']
    """
    model = ctx.model
    chosen = atlas_units(model, paths, max_units, unit_pages)
    classes = select_classes(ctx.probs, ctx.y, max_classes)
    deepest = activation_atlas_layer(model, list(paths)) if ctx.featurevis and activation_atlas else None
    for path, (units, page_units) in chosen.items():
        plan_layer_pages(plan, ctx, path, units, page_units, embedding, activation_atlas=path == deepest)
    if classes:
        vis = None
        if ctx.featurevis:
            vis = plan.add(f"class-logit visualization of {len(classes)} classes", class_visualizations, model,
                           classes, ctx.featurevis_steps, ctx.seed, ctx.value_range)
            vis.keep = True  # every class page shows its row
        cam_layer = gradcam_layer(model)
        for row, c in enumerate(classes):
            plan_class_page(plan, ctx, c, (vis, row) if vis is not None else None, cam_layer=cam_layer)
    training = plan_training(plan, ctx, history)
    layer_pages = {p: len(pu) for p, (_, pu) in chosen.items()}
    plan.page("index.html", title, lambda: index_sections(ctx, layer_pages, classes, training())
              + [problems_section(ctx.runner.errors)])
    return {"units": {p: pu for p, (_, pu) in chosen.items()}, "classes": classes}


def plan_single_page(plan, ctx, paths, history=None, *, embedding=True, title="Report"):
    """Plan the single page: overview, training, predictions with attribution, layers, embeddings.

    Args:
        plan: the :class:`~deepkit.viz.report.plan.Plan`.
        ctx: the report's context.
        paths: the layers with a section.
        history: ``{metric: values}`` or ``None``.
        embedding: add the PCA embeddings of layer outputs (needs labels).
        title: the page's heading.

    Returns:
        The number of layers in the layer table.

    Example:
        >>> import keras, numpy as np
        >>> from deepkit.viz.report.context import Context, Runner
        >>> from deepkit.viz.report.plan import Plan
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2, name="d")])
        >>> x = np.random.default_rng(0).random((8, 6, 6, 1)).astype("float32")
        >>> ctx = Context(m, x, np.arange(8) % 2, "random", np.arange(2), None, None, Runner(),
        ...               featurevis=False)
        >>> plan = Plan()
        >>> plan_single_page(plan, ctx, ["c"], embedding=False)
        3
        >>> [s.id for s in plan.collect(ctx.runner)[0].sections]
        ['overview', 'predictions', 'layer-c']
    """
    rows = layer_rows(ctx.model)
    training = plan_training(plan, ctx, history)
    predictions = plan_predictions(plan, ctx)
    gradcam = "grad_cam" in ctx.attributions and ctx.probs is not None
    layers = [plan_layer_section(plan, ctx, path, gradcam) for path in paths]
    emb = plan_embedding(plan, ctx) if embedding and ctx.y is not None else None
    plan.page("index.html", title, lambda: [overview_section(ctx, layer_table(rows)), training(), predictions(),
                                            *(build() for build in layers), emb() if emb else None,
                                            problems_section(ctx.runner.errors)])
    return len(rows)
