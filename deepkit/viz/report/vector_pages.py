"""The atlas of a model on vectors (inputs ``(features,)``): what applies of the image atlas, and the plane.

The index (overview, layer table, training curves, confusion matrix), a page per dense layer (its units'
activation distributions, the embedding of its outputs) and a page per shown unit (the samples that
excite it most and least, as data rows, and its incoming weights). With exactly 2 input features, each
unit's response over the input plane (as the playground draws its neurons) on the layer and unit pages,
and the model's decision map on the index. The image-only sections are planned out, said in one line.
"""

import numpy as np

from deepkit.viz.report.document import Figure, Gallery, Links, Note, Page, Section, Table, png_bytes
from deepkit.viz.report.pages import atlas_layer_rows
from deepkit.viz.report.plane import output_map_figure, response_figure, unit_response_grid
from deepkit.viz.report.sections import overview_facts, plan_embedding, plan_training, problems_section
from deepkit.viz.report.units import num_units, unit_weights_figure

__all__ = ["IMAGE_ONLY", "plan_vector_atlas", "activation_distribution_figure", "top_rows"]

#: The line said on every page of a vector atlas.
IMAGE_ONLY = ("filters, feature maps, data-set patches, attribution maps, feature visualizations and class "
              "pages are left out: they draw images, and this model's inputs are vectors of {d} values")


def activation_distribution_figure(values, title, max_units=64):
    """Box plots of each unit's activations over the data (one box per unit).

    Args:
        values: activations ``(N, units)``.
        title: the figure's title.
        max_units: units shown at most (the first ones).

    Returns:
        A matplotlib ``Figure``.

    Example:
        >>> fig = activation_distribution_figure(np.random.rand(20, 3), "d")
        >>> fig.axes[0].get_xlabel()
        'unit'
    """
    from deepkit.viz.plotting import new_figure

    values = np.asarray(values, np.float32).reshape(len(values), -1)[:, :max_units]
    fig, ax = new_figure(figsize=(min(12.0, 2.0 + 0.25 * values.shape[1]), 2.6))
    ax.boxplot(values, positions=np.arange(values.shape[1]), widths=0.6, showfliers=False)
    ax.axhline(0, color="0.6", linewidth=0.6)
    ax.set_xticks(np.arange(values.shape[1]))
    ax.set_xticklabels([str(u) if values.shape[1] <= 32 or u % 4 == 0 else "" for u in range(values.shape[1])],
                       fontsize=7)
    ax.set_xlabel("unit", fontsize=8)
    ax.set_ylabel("activation", fontsize=8)
    ax.set_title(title, fontsize=9)
    return fig


def top_rows(x, y, values, k=9, largest=True, max_features=8):
    """The samples where one unit is largest (or smallest), as table rows.

    Args:
        x: the inputs ``(N, d)``.
        y: labels or targets ``(N,)``, or ``None``.
        values: the unit's activation per sample ``(N,)``.
        k: rows.
        largest: the largest values first (else the smallest first).
        max_features: input features shown at most (the first ones).

    Returns:
        ``(columns, rows)`` for a :class:`~deepkit.viz.report.document.Table`.

    Example:
        >>> top_rows(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0, 1]), np.array([0.5, 2.0]), k=1)
        (['sample', 'activation', 'x0', 'x1', 'label'], [('#1', '2', '3', '4', '1')])
    """
    values = np.asarray(values).reshape(-1)
    order = np.argsort(-values if largest else values, kind="stable")[:k]
    shown = min(x.shape[1], max_features)
    columns = ["sample", "activation"] + [f"x{i}" for i in range(shown)] + (["label"] if y is not None else [])
    rows = []
    for i in order:
        row = [f"#{int(i)}", f"{values[i]:.3g}"] + [f"{v:.3g}" for v in x[i, :shown]]
        if y is not None:
            row.append(f"{y[i]:.3g}" if np.issubdtype(np.asarray(y).dtype, np.floating) else str(int(y[i])))
        rows.append(tuple(row))
    return columns, rows


def _activations(model, x, path, batch_size):
    from deepkit.viz import feature_maps

    values = np.asarray(feature_maps(model, x, layers=[path], batch_size=batch_size)[path], np.float32)
    return values.reshape(len(values), -1)


def _unit_figures(gx, gy, values, x, y, units, small=True):
    return [response_figure(gx, gy, values[..., u], x, y, title="" if small else f"unit {u}",
                            size=1.4 if small else 3.6, points=not small, colorbar=not small) for u in units]


def _plan_layer(plan, ctx, path, units, page_units, embedding, plane):
    model, x, y = ctx.model, ctx.x, ctx.y
    acts = plan.add(f"{path}: activations", _activations, model, x, path, ctx.batch_size)
    grid = plan.add(f"{path}: unit responses over the input plane", unit_response_grid, model, path, x) \
        if plane else None
    emb = plan_embedding(plan, ctx, [path]) if embedding else None
    weights = [plan.figure(f"{path} unit {u}: weights", unit_weights_figure, model, path, u) for u in page_units]
    d = x.shape[1]
    layer = _layer(model, path)

    def build():
        home = ("index.html", "Atlas")
        layer_name = ctx.names.page("layer", path)
        blocks = []
        if acts.ok:
            blocks.append(Figure.of(activation_distribution_figure(acts.value, f"{path}: activations over "
                                                                             f"{len(x):,} samples"),
                                    "Each unit's activations over the data (box: quartiles; whiskers: "
                                    "1.5 IQR)."))
        else:
            blocks.append(acts.value)
        sections = [Section("layer", path, path, blocks + [Note(IMAGE_ONLY.format(d=d))], grid=False,
                            detail=f"{type(layer).__name__}, output {tuple(layer.output.shape)}")]
        if grid is not None:
            if grid.ok:
                gx, gy, values = grid.value
                items = [(fig, f"unit {u}", ctx.names.page("unit", (path, u)) if u in page_units else None)
                         for u, fig in zip(units, _unit_figures(gx, gy, values, x, y, units))]
                block = Gallery([(png_bytes(f), c, h) for f, c, h in items])
            else:
                block = grid.value
            sections.append(Section("plane", "Input plane", "Units over the input plane", [block], grid=False,
                                    detail="each unit's output at every point of the plane (blue negative, "
                                           "red positive), as the playground draws its neurons; framed ones "
                                           "link to the unit's page"))
        sections.append(Section("units", "Units", "Unit pages",
                                [Links([(ctx.names.page("unit", (path, u)), f"unit {u}", None)
                                        for u in page_units])], grid=False))
        if emb is not None:
            sections.append(emb())
        pages = [Page(layer_name, f"Layer {path}", sections, [home])]
        for row, unit in enumerate(page_units):
            pages.append(Page(ctx.names.page("unit", (path, unit)), f"Unit {unit} of {path}",
                              _unit_sections(ctx, acts, grid, unit, weights[row]), [home, (layer_name, path)]))
        return pages

    plan.pages(build)


def _layer(model, path):
    from deepkit.viz import resolve_layer

    return resolve_layer(model, path)


def _unit_sections(ctx, acts, grid, unit, weights):
    sections = []
    if grid is not None:
        if grid.ok:
            gx, gy, values = grid.value
            block = Figure.of(_unit_figures(gx, gy, values, ctx.x, ctx.y, [unit], small=False)[0],
                              "The unit's output over the input plane, with the data points.")
        else:
            block = grid.value
        sections.append(Section("plane", "Input plane", "Over the input plane", [block]))
    if acts.ok:
        values = acts.value[:, unit]
        blocks = []
        for largest, what in ((True, "Strongest"), (False, "Most negative")):
            columns, rows = top_rows(ctx.x, ctx.y, values, ctx.top_k, largest)
            blocks.append(Table(columns, rows, numeric=tuple(range(1, len(columns))),
                                title=f"{what} {len(rows)} samples"))
    else:
        blocks = [acts.value]
    sections.append(Section("samples", "Samples", "Data-set samples", blocks, grid=False,
                            detail="the inputs where the unit is largest and smallest, one row each"))
    sections.append(Section("weights", "Weights", "Incoming weights",
                            [weights.figure("The unit's incoming weights.")]))
    return sections


def plan_vector_atlas(plan, ctx, paths, history=None, *, max_units=64, unit_pages=8, embedding=True,
                      title="Atlas"):
    """Plan the atlas of a model on vectors: a page per layer and per shown unit, and the index.

    Args:
        plan: the :class:`~deepkit.viz.report.plan.Plan`.
        ctx: the report's context (``ctx.x`` is ``(N, d)``).
        paths: the layers with a page.
        history: ``{metric: values}`` or ``None``.
        max_units: units per layer on its page (input-plane gallery).
        unit_pages: units per layer with a page.
        embedding: draw the embedding of each layer's outputs (needs class labels).
        title: the index's heading.

    Returns:
        What was chosen: ``{"units": {path: page units}, "classes": []}``.

    Example:
        >>> import keras
        >>> from deepkit.viz.report.context import Context, Runner
        >>> from deepkit.viz.report.plan import Plan
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, "tanh", name="h"),
        ...                       keras.layers.Dense(1, name="out")])
        >>> x = np.random.default_rng(0).random((16, 2)).astype("float32")
        >>> ctx = Context(m, x, None, "random", np.arange(2), None, None, Runner(), featurevis=False)
        >>> plan = Plan()
        >>> plan_vector_atlas(plan, ctx, ["h"], unit_pages=1)
        {'units': {'h': [0]}, 'classes': []}
        >>> [p.name for p in plan.collect(ctx.runner)]
        ['layer-h.html', 'unit-h-0.html', 'index.html']
    """
    from deepkit.viz.report.products import atlas_units

    d = ctx.x.shape[1]
    plane = d == 2
    chosen = atlas_units(ctx.model, paths, max_units, unit_pages)
    embed = embedding and ctx.y is not None and ctx.probs is not None
    for path, (units, page_units) in chosen.items():
        _plan_layer(plan, ctx, path, units, page_units, embed, plane)
    training = plan_training(plan, ctx, history)
    decision = None
    if plane:
        decision = plan.figure("decision map", output_map_figure, ctx.model, ctx.x, ctx.y, ctx.probs is not None)

    def index():
        table = atlas_layer_rows(ctx.model, list(chosen), ctx.names)
        sections = [Section("overview", "Overview", "Overview",
                            [overview_facts(ctx), Note(IMAGE_ONLY.format(d=d)), table], grid=False),
                    training()]
        if decision is not None:
            sections.append(Section("decision", "Decision map", "The model over the input plane",
                                    [decision.figure("The model's output at every point of the plane, with the "
                                                     "data points (a classifier: its class regions).")]))
        links = [(ctx.names.page("layer", p), p, f"{num_units(ctx.model, p)} units, {len(pu)} unit pages")
                 for p, (_, pu) in chosen.items()]
        sections.append(Section("pages", "Pages", "Pages of this atlas", [Links(links, title="Layers")],
                                grid=False))
        return sections + [problems_section(ctx.runner.errors)]

    plan.page("index.html", title, index)
    return {"units": {p: pu for p, (_, pu) in chosen.items()}, "classes": []}
