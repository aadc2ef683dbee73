"""``build_report``: check the arguments, plan, collect, render and write the report."""

import datetime
import os
import time

import numpy as np

from deepkit.viz.report.attributions import ATTRIBUTION_METHODS, check_methods
from deepkit.viz.report.context import Context, Runner
from deepkit.viz.report.data import (check_class_names, check_history, check_model, classifier_output,
                                     load_data, num_classes, pick_samples)
from deepkit.viz.report.document import Report
from deepkit.viz.report.layer_section import select_layers
from deepkit.viz.report.names import PageNames
from deepkit.viz.report.output import check_out_dir, write_report
from deepkit.viz.report.plan import Plan
from deepkit.viz.report.products import plan_atlas, plan_single_page
from deepkit.viz.report.progress import Progress
from deepkit.viz.report.units import select_atlas_layers
from deepkit.viz.report.vector_pages import plan_vector_atlas

__all__ = ["build_report"]


def _probabilities(model, x, batch_size):
    from deepkit.probabilities import predict_proba

    return predict_proba(model, x, batch_size=batch_size)


def build_report(model, data, out_dir, *, history=None, layers=None, num_samples=8,
                 class_names=None, top_k=9, max_channels=16, max_layers=6, max_images=2000,
                 featurevis=True, featurevis_steps=128, attributions=ATTRIBUTION_METHODS,
                 embedding=True, batch_size=64, seed=0, title=None, progress=True,
                 single_file=False, max_units=64, unit_pages=8, max_classes=100, data_path=None,
                 activation_atlas=True):
    """Write the atlas (or one self-contained page) of what each layer of ``model`` has learned.

    The atlas (default) is a static site in ``out_dir``: ``index.html`` (overview, layer
    table with shapes, parameters, multiply-adds and receptive fields, training curves,
    confusion matrix, links), one page per layer, one per shown unit and one per class,
    one stylesheet ``assets/atlas.css`` and the images as PNG files under ``img/``
    (lazy-loaded). No page uses JavaScript or the network.

    Default choice, so that a large model's atlas stays browsable: a page for every
    layer with weights (convolutions, dense layers) when there are at most
    ``max_layers`` (12 in the atlas) of them, else 12 spread evenly over the depth
    (first and last included); on each layer page the feature visualizations of its
    first ``max_units`` (64) units; a unit page for the first ``unit_pages`` (8) units
    of each layer; a class page for every class when there are at most
    ``max_classes`` (100), else for the (at most 100) classes seen most in the labels
    and predictions. A ResNet-50 (random weights, 224x224, 8 random images) gives 118
    pages (12 layer, 96 unit, 9 class pages) and 47 MB without feature visualization
    (measured on CPU), about 50-75 MB more with it (estimated; see ``benchmarks/README.md``).

    ``single_file=True`` writes the single page instead, every image inlined.

    Both are one pipeline: the arguments are checked, the content is planned
    (:mod:`~deepkit.viz.report.products`: which layers, units and classes, and the steps that
    compute them; the progress bar counts the planned steps), collected into plain data
    (:mod:`~deepkit.viz.report.document`: sections of figures as PNG bytes) and rendered
    (:mod:`~deepkit.viz.report.html`) as pages with image files or as one page. The keyword
    arguments are those of deepkit 0.1's ``build_report``, kept as they were. A rerun into the
    same folder replaces the earlier report (its pages no longer written are removed).

    Args:
        model: a functional or Sequential ``keras.Model`` with one image input
            ``(height, width, channels)`` or one vector input ``(features,)`` (the atlas of what
            applies: :mod:`~deepkit.viz.report.vector_pages`; no single page) (with one ``(batch, classes)`` output for the accuracy,
            confusion matrix, attribution maps and class pages; other outputs: those are left
            out and the overview says why).
        data: anything :func:`~deepkit.viz.report.data.load_data` accepts:
            ``(x, y)``, ``x``, a dataset name (``"digits"``, ``"cifar10"``...) or an
            ``.npz`` / ``.npy`` path; images are padded/resized to the model's input and scaled
            to the range it expects (said in the page).
        out_dir: folder to write ``index.html`` and ``report.json`` into (created): new, empty
            or an earlier report's.
        history: a ``keras.callbacks.History``, a dict or a JSON path, for
            training curves.
        layers: layers to show (names, paths, indices); default (single
            page) up to ``max_layers`` image-like layers spread over the depth
            (normalization, dropout and padding layers left out); the atlas
            uses the weight layers (see above).
        num_samples: sample inputs shown with predictions and attribution maps
            (one per class first).
        class_names: names of the classes, one per class the model predicts.
        top_k: patches per channel.
        max_channels: channels shown per layer (feature maps, patches, feature
            visualizations: at most 16 of those).
        max_layers: layer limit for the default choice (the atlas uses at
            least 12).
        max_images: use at most this many data samples (patches, confusion
            matrix, embeddings).
        featurevis: include feature visualizations (the slowest part).
        featurevis_steps: optimization steps per feature visualization.
        attributions: attribution methods (registered names; default ``ATTRIBUTION_METHODS``),
            each run with the registry's defaults.
        embedding: include PCA embeddings of layer outputs.
        batch_size: images per forward pass.
        seed: random seed (feature visualization).
        title: page title (default names the model).
        progress: show a progress bar on stderr.
        single_file: write one self-contained ``index.html`` (sections as listed
            above) instead of the atlas.
        max_units: atlas: units per layer page (feature visualization gallery).
        unit_pages: atlas: units per layer with a page of their own.
        max_classes: atlas: class pages at most.
        data_path: with a dataset name as ``data``: its local file or folder.
        activation_atlas: atlas with feature visualization: add the activation atlas (Carter
            et al. 2019) of the deepest shown layer with maps of at least 2x2 to its page.

    Returns:
        The path of ``index.html``.

    Raises:
        ValueError: for a model that does not take one image input, unusable data, a
            missing or unreadable history file, a class-name count that differs from the
            model's classes, unknown attribution methods, or an ``out_dir`` holding files
            no deepkit report wrote (all checked before anything is computed or written;
            problems inside a section are reported on the page and in ``report.json``
            instead).

    Example:
        >>> import numpy as np, keras, tempfile, os
        >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="c"),
        ...                       keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
        >>> x = np.random.default_rng(0).random((20, 8, 8, 1)).astype("float32")
        >>> path = build_report(m, (x, np.arange(20) % 2), tempfile.mkdtemp(), featurevis=False,
        ...                     attributions=["grad_cam"], embedding=False, progress=False,
        ...                     single_file=True)
        >>> os.path.basename(path), "<img" in open(path).read()
        ('index.html', True)
        >>> site = os.path.dirname(build_report(m, (x, np.arange(20) % 2), tempfile.mkdtemp(),
        ...                                     featurevis=False, embedding=False, progress=False))
        >>> sorted(f for f in os.listdir(site) if f.endswith(".html"))[:3]
        ['class-0.html', 'class-1.html', 'index.html']
    """
    import keras

    import deepkit

    t0 = time.time()
    attributions = check_methods(attributions)
    vectors = len(check_model(model)) == 1
    if vectors and single_file:
        raise ValueError(f"report: model {model.name!r} takes vectors; the single page shows images, so write "
                         "the atlas instead (leave out single_file / --single-file).")
    x, y, data_name = load_data(data, max_images=max_images, model=model, data_path=data_path)
    history = check_history(history)
    class_names = check_class_names(class_names, num_classes(model, y), model.name)
    previous = check_out_dir(out_dir)
    if vectors:  # the image-only parts are planned out (the pages say so)
        featurevis, attributions = False, ()
    paths = (select_layers(model, layers, max_layers) if single_file
             else select_atlas_layers(model, layers, max(max_layers, 12)))

    runner = Runner()
    no_classes = classifier_output(model)
    probs = None
    if no_classes is None:
        ok, probs = runner.run("predicting", _probabilities, model, x, batch_size)
        probs = probs if ok else None
    ctx = Context(model=model, x=x, y=y, data_name=data_name, idx=pick_samples(y, num_samples, len(x)),
                  probs=probs, class_names=class_names, runner=runner, attributions=attributions,
                  batch_size=batch_size, seed=seed, top_k=top_k, max_channels=max_channels,
                  featurevis=featurevis, featurevis_steps=featurevis_steps,
                  value_range=(float(np.min(x)), float(np.max(x))), names=PageNames(paths), no_classes=no_classes)

    plan = Plan()
    versions = (f"generated {datetime.datetime.now():%Y-%m-%d %H:%M} with deepkit {deepkit.__version__} on "
                f"Keras {keras.__version__} ({keras.backend.backend()})")
    meta = {"model": model.name, "data": data_name, "num_samples": int(len(x)), "layers": list(paths)}
    if single_file:
        title = title or f"deepkit report: {model.name}"
        num_layers = plan_single_page(plan, ctx, paths, history, embedding=embedding, title=title)
        subtitle = f"{data_name}, {len(x):,} samples; {num_layers} layers, {len(paths)} shown in detail; {versions}"
        footer = "Images are inlined PNGs; this page needs no other file and no network."
        meta["mode"] = "single_file"
    else:
        title = title or f"deepkit atlas: {model.name}"
        if vectors:
            chosen = plan_vector_atlas(plan, ctx, paths, history, max_units=max_units, unit_pages=unit_pages,
                                       embedding=embedding, title=title)
        else:
            chosen = plan_atlas(plan, ctx, paths, history, max_units=max_units, unit_pages=unit_pages,
                                max_classes=max_classes, embedding=embedding, activation_atlas=activation_atlas,
                                title=title)
        subtitle = (f"{data_name}, {len(x):,} samples; {len(paths)} layer pages, "
                    f"{sum(len(u) for u in chosen['units'].values())} unit pages, {len(chosen['classes'])} class "
                    f"pages; {versions}")
        footer = "Static pages: no script, nothing fetched from the network."
        meta.update(mode="atlas", **chosen)

    runner.progress = Progress(len(plan.steps) + 1, enabled=progress)  # the planned steps, then writing
    pages = plan.collect(runner)
    runner.progress.step("writing index.html")
    if single_file:
        meta["sections"] = [s.id for s in pages[0].sections]
    meta.update(errors=runner.errors, timings_s=runner.timings, seconds=round(time.time() - t0, 2),
                backend=keras.backend.backend())
    report = Report(title, subtitle, f"Generated in {time.time() - t0:.1f} s. {footer}", pages,
                    nav=[("index.html", "Atlas")] + [(ctx.names.page("layer", p), p) for p in paths], meta=meta)
    index, written = write_report(report, out_dir, single_file=single_file, previous=previous)
    runner.progress.advance()
    problems = f", {len(runner.errors)} problems" if runner.errors else ""
    what = (f"{written['images']} images" if single_file
            else f"{len(written['pages'])} pages, {written['images']} images")
    runner.progress.close(f"wrote {index} ({what}, {written['bytes'] / 1e6:.1f} MB{problems})")
    return index
