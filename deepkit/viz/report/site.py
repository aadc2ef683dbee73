"""The atlas: ``index.html``, a page per layer, per shown unit and per class, sharing one
stylesheet (``assets/atlas.css``) and a folder of PNGs (``img/``).

Pages are flat in the output folder (``layer-<path>.html``, ``unit-<path>-<n>.html``,
``class-<n>.html``), so every link is a plain relative file name; nothing is fetched from the
network and no page needs JavaScript.
"""

import datetime
import json
import os
import time

from deepkit.viz.report.class_pages import class_page_sections, class_visualizations, select_classes
from deepkit.viz.report.figures import class_label
from deepkit.viz.report.layer_section import gradcam_layer
from deepkit.viz.report.pages import activation_atlas_layer, activation_atlas_section, index_sections, \
    layer_page_sections, unit_page_data, unit_page_sections
from deepkit.viz.report.progress import Progress
from deepkit.viz.report.site_render import SITE_CSS, ImageStore, page_name, render_site_page
from deepkit.viz.report.units import num_units

__all__ = ["write_site", "atlas_plan"]


def atlas_plan(model, paths, max_units=64, unit_pages=8):
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
        >>> atlas_plan(m, ["d"], max_units=4, unit_pages=2)
        {'d': ([0, 1, 2, 3], [0, 1])}
    """
    plan = {}
    for path in paths:
        units = list(range(min(max_units, num_units(model, path))))
        plan[path] = (units, units[:unit_pages])
    return plan


def _steps(ctx, plan, classes, history, embedding):
    per_layer = 6 + (2 + 3 * bool(ctx.featurevis))
    units = sum(len(p) for _, p in plan.values())
    return (3 + (history is not None) + (ctx.y is not None) + per_layer * len(plan) + units
            + bool(classes) * (1 + 6 * len(classes)) + embedding * len(plan))


class _Writer:
    def __init__(self, out_dir, title, subtitle, nav):
        self.out_dir, self.title, self.subtitle, self.nav = out_dir, title, subtitle, nav
        self.images = ImageStore(out_dir)
        self.pages = []
        self.bytes = 0

    def page(self, name, heading, sections, crumbs=(), footer=""):
        text = render_site_page(heading, self.subtitle, self.nav, sections, footer or self.title,
                                self.images, here=name, crumbs=crumbs)
        with open(os.path.join(self.out_dir, name), "w", encoding="utf-8") as f:
            f.write(text)
        self.pages.append(name)
        self.bytes += len(text.encode())


def write_site(ctx, out_dir, paths, history_section, *, max_units=64, unit_pages=8,
               max_classes=100, embedding=True, title=None, progress=True, t0=None, activation_atlas=True):
    """Compute and write the atlas (the checks on data and arguments are done by the caller).

    Args:
        ctx: the report's :class:`~deepkit.viz.report.context.Context` (``probs`` set).
        out_dir: the folder (created).
        paths: the layers with a page.
        history_section: a callable ``ctx -> training Section or None``.
        max_units: gallery units per layer.
        unit_pages: units per layer with a page.
        max_classes: class pages at most.
        embedding: draw the embedding of each layer's outputs.
        title: the index's title.
        progress: show the progress bar.
        t0: start time (for the footer and ``report.json``).
        activation_atlas: with feature visualization on, add the activation atlas (Carter et al. 2019)
            of the deepest shown layer with maps of at least 2x2 to its page.

    Returns:
        The path of ``index.html``.

    Example:
        >>> import os, tempfile, keras, numpy as np
        >>> from deepkit.viz.report.context import Context, Runner
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2, name="d")])
        >>> x = np.random.default_rng(0).random((8, 6, 6, 1)).astype("float32")
        >>> ctx = Context(m, x, np.arange(8) % 2, "random", np.arange(2), m.predict(x, verbose=0), None,
        ...               Runner(), featurevis=False, attributions=())
        >>> out = tempfile.mkdtemp()
        >>> path = write_site(ctx, out, ["c"], lambda ctx: None, unit_pages=1, progress=False)
        >>> os.path.basename(path), os.path.exists(os.path.join(out, "layer-c.html"))
        ('index.html', True)
    """
    import keras

    import deepkit

    t0 = t0 or time.time()
    model = ctx.model
    os.makedirs(os.path.join(out_dir, "assets"), exist_ok=True)
    with open(os.path.join(out_dir, "assets", "atlas.css"), "w", encoding="utf-8") as f:
        f.write(SITE_CSS)
    plan = atlas_plan(model, paths, max_units, unit_pages)
    classes = select_classes(ctx.probs, ctx.y, max_classes)
    ctx.runner.progress = Progress(_steps(ctx, plan, classes, True, embedding), enabled=progress)
    title = title or f"deepkit atlas: {model.name}"
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    subtitle = (f"{ctx.data_name}, {len(ctx.x):,} samples; {len(paths)} layer pages, "
                f"{sum(len(p) for _, p in plan.values())} unit pages, {len(classes)} class pages; "
                f"generated {when} with deepkit {deepkit.__version__} on Keras {keras.__version__} "
                f"({keras.backend.backend()})")
    nav = [("index.html", "Atlas")] + [(page_name("layer", p), p) for p in paths]
    writer = _Writer(out_dir, title, subtitle, nav)
    home = ("index.html", "Atlas")

    atlas_layer = activation_atlas_layer(model, list(plan)) if ctx.featurevis and activation_atlas else None
    for path, (units, page_units) in plan.items():
        layer_name = page_name("layer", path)
        sections, thumbs = layer_page_sections(ctx, path, units, page_units, embedding)
        if path == atlas_layer:
            sections.append(activation_atlas_section(ctx, path))
        writer.page(layer_name, f"Layer {path}", sections, crumbs=[home])
        if not page_units:
            continue
        data = unit_page_data(ctx, path, page_units)
        for row, unit in enumerate(page_units):
            sections = unit_page_sections(ctx, path, unit, row, data, thumbs.get(unit))
            writer.page(page_name("unit", (path, unit)), f"Unit {unit} of {path}", sections,
                        crumbs=[home, (layer_name, path)])

    if classes:
        vis = {}
        if ctx.featurevis:
            ok, images = ctx.run(f"class-logit visualization of {len(classes)} classes",
                                 class_visualizations, model, classes, ctx.featurevis_steps,
                                 ctx.seed, ctx.value_range)
            vis = dict(zip(classes, images)) if ok else {c: images for c in classes}
        cam_layer = gradcam_layer(model)
        for c in classes:
            name = class_label(c, ctx.class_names)
            writer.page(page_name("class", c), f"Class {name}",
                        class_page_sections(ctx, c, vis.get(c), cam_layer=cam_layer), crumbs=[home])

    from deepkit.viz.report.sections import problems_section

    layer_pages = {p: len(pu) for p, (_, pu) in plan.items()}
    sections = index_sections(ctx, layer_pages, classes, history_section(ctx))
    problems = problems_section(ctx.runner.errors)
    sections += [problems] if problems is not None else []
    ctx.runner.progress.step("writing index.html")
    footer = (f"Generated in {time.time() - t0:.1f} s. Static pages: no script, nothing fetched "
              "from the network.")
    writer.page("index.html", title, sections, footer=footer)
    index = os.path.join(out_dir, "index.html")
    meta = {"model": model.name, "data": ctx.data_name, "num_samples": int(len(ctx.x)),
            "mode": "atlas", "layers": list(paths),
            "units": {p: pu for p, (_, pu) in plan.items()}, "classes": classes,
            "pages": writer.pages, "images": writer.images.files,
            "bytes": writer.bytes + writer.images.bytes + len(SITE_CSS),
            "errors": ctx.runner.errors, "timings_s": ctx.runner.timings,
            "seconds": round(time.time() - t0, 2), "backend": keras.backend.backend()}
    with open(os.path.join(out_dir, "report.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    ctx.runner.progress.advance()
    problems = f", {len(ctx.runner.errors)} problems" if ctx.runner.errors else ""
    ctx.runner.progress.close(f"wrote {index} ({len(writer.pages)} pages, {writer.images.files} "
                              f"images, {meta['bytes'] / 1e6:.1f} MB{problems})")
    return index
