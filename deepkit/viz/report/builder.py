"""``build_report``: which sections the page has, in which order, and writing it out."""

import datetime
import json
import os
import time

import numpy as np

from deepkit.viz.report.context import Context, Runner
from deepkit.viz.report.data import (check_class_names, check_history, load_data, num_classes,
                                     pick_samples)
from deepkit.viz.report.layer_section import layer_section, layer_steps, select_layers
from deepkit.viz.report.progress import Progress
from deepkit.viz.report.render import render_page
from deepkit.viz.report.site import write_site
from deepkit.viz.report.units import select_atlas_layers
from deepkit.viz.report.sections import (ATTRIBUTION_METHODS, embedding_section, layer_rows,
                                         overview_section, predictions_section, problems_section,
                                         training_section)

__all__ = ["build_report"]


def _probabilities(model, x, batch_size):
    from deepkit.viz.boundary import predict_proba

    probs = predict_proba(model, x, batch_size=batch_size)
    return probs if np.ndim(probs) == 2 and probs.shape[1] >= 2 else None


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

    ``single_file=True`` writes today's single page instead, every image inlined.

    Args:
        model: a functional or Sequential ``keras.Model`` on images (a classifier
            for the attribution and confusion-matrix sections).
        data: anything :func:`~deepkit.viz.report.data.load_data` accepts:
            ``(x, y)``, ``x``, a dataset name (``"digits"``, ``"cifar10"``...) or an
            ``.npz`` / ``.npy`` path; images are padded/resized to the model's input and scaled
            to the range it expects (said in the page).
        out_dir: folder to write ``index.html`` and ``report.json`` into
            (created).
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
        attributions: attribution methods, a subset of ``ATTRIBUTION_METHODS``.
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
        ValueError: for unusable data, a missing or unreadable history file,
            a class-name count that differs from the model's classes, or unknown
            attribution methods (all checked before anything is computed;
            problems inside a section are reported on the page and in
            ``report.json`` instead).

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
    unknown = [m for m in attributions if m not in ATTRIBUTION_METHODS]
    if unknown:
        raise ValueError(
            f"build_report: unknown attribution methods {unknown}; choose from "
            f"{list(ATTRIBUTION_METHODS)}."
        )
    t0 = time.time()
    x, y, data_name = load_data(data, max_images=max_images, model=model, data_path=data_path)
    history = check_history(history)
    class_names = check_class_names(class_names, num_classes(model, y), model.name)
    paths = (select_layers(model, layers, max_layers) if single_file
             else select_atlas_layers(model, layers, max(max_layers, 12)))

    runner = Runner()
    ctx = Context(model=model, x=x, y=y, data_name=data_name, idx=pick_samples(y, num_samples, len(x)),
                  probs=None, class_names=class_names, runner=runner, attributions=tuple(attributions),
                  batch_size=batch_size, seed=seed, top_k=top_k, max_channels=max_channels,
                  featurevis=featurevis, featurevis_steps=featurevis_steps,
                  value_range=(float(np.min(x)), float(np.max(x))))
    if not single_file:
        ok, probs = runner.run("predicting", _probabilities, model, x, batch_size)
        ctx.probs = probs if ok else None
        return write_site(ctx, os.fspath(out_dir), paths, lambda c: training_section(c, history),
                          max_units=max_units, unit_pages=unit_pages, max_classes=max_classes,
                          embedding=embedding, title=title, progress=progress, t0=t0,
                          activation_atlas=activation_atlas)
    layer_gradcam = "grad_cam" in attributions
    steps = (3 + (history is not None) + (y is not None) + len(attributions)
             + sum(layer_steps(ctx, path, layer_gradcam) for path in paths)
             + bool(embedding and y is not None))
    runner.progress = Progress(steps, enabled=progress)

    ok, probs = runner.run("predicting", _probabilities, model, x, batch_size)
    ctx.probs = probs if ok else None
    rows = layer_rows(model)
    sections = [overview_section(ctx, rows), training_section(ctx, history), predictions_section(ctx)]
    sections += [layer_section(ctx, path, layer_gradcam and ctx.probs is not None) for path in paths]
    if embedding and y is not None:
        sections.append(embedding_section(ctx))
    sections.append(problems_section(runner.errors))
    sections = [s for s in sections if s is not None]

    runner.progress.step("writing index.html")
    page = _page(model, title, data_name, len(x), len(rows), len(paths), sections, t0)
    index = _write(out_dir, page, {
        "model": model.name, "data": data_name, "num_samples": int(len(x)),
        "layers": paths, "sections": [s.id for s in sections], "images": page.count("<img "),
        "errors": runner.errors, "timings_s": runner.timings, "seconds": round(time.time() - t0, 2),
    })
    runner.progress.advance()
    problems = f", {len(runner.errors)} problems" if runner.errors else ""
    runner.progress.close(f"wrote {index} ({len(page) / 1e6:.1f} MB, {page.count('<img ')} images"
                          f"{problems})")
    return index


def _page(model, title, data_name, num_samples, num_layers, num_shown, sections, t0):
    import keras

    import deepkit

    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    subtitle = (f"{data_name}, {num_samples:,} samples; {num_layers} layers, {num_shown} shown in "
                f"detail; generated {when} with deepkit {deepkit.__version__} on Keras "
                f"{keras.__version__} ({keras.backend.backend()})")
    footer = (f"Generated in {time.time() - t0:.1f} s. Images are inlined PNGs; this page needs no "
              "other file and no network.")
    return render_page(title or f"deepkit report: {model.name}", subtitle, sections, footer)


def _write(out_dir, page, meta):
    import keras

    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    index = os.path.join(out_dir, "index.html")
    with open(index, "w", encoding="utf-8") as f:
        f.write(page)
    with open(os.path.join(out_dir, "report.json"), "w", encoding="utf-8") as f:
        json.dump({**meta, "backend": keras.backend.backend()}, f, indent=1)
    return index
