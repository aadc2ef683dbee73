"""One self-contained HTML page showing what every layer of a model has learned.

``build_report(model, data, out_dir)`` (and ``deepkit report MODEL.keras --data NAME|PATH
--out DIR``) writes ``DIR/index.html`` with every image inlined as a PNG data URI, so the
page can be mailed, archived or opened offline. It contains:

* an overview (model, data, accuracy) and a layer table;
* training curves (when a History is given) and the confusion matrix on the data;
* sample predictions with attribution maps (saliency, SmoothGrad, Integrated
  Gradients, Grad-CAM, Grad-CAM++, Score-CAM, occlusion);
* per layer: filters, feature maps for sample inputs, the receptive field and top-k
  activating patches (Zeiler & Fergus), Grad-CAM at that layer for the samples, and
  feature visualizations (Lucid-style);
* PCA of layer outputs coloured by class;
* a ``report.json`` next to the page with the sections, timings and any section that
  failed (a failing section is shown as a note; it does not stop the report).

A progress bar on stderr says what is being computed.
"""

import datetime
import html
import json
import math
import os
import sys
import time
import traceback

import numpy as np

from deepkit.viz.plotting import (new_figure, normalize_image, overlay_heatmap, plot_image_table,
                                  png_data_uri)

__all__ = ["build_report", "load_data", "add_cli_arguments", "run_from_args", "ATTRIBUTION_METHODS"]

ATTRIBUTION_METHODS = ("saliency", "smoothgrad", "integrated_gradients", "grad_cam",
                       "grad_cam_plus_plus", "score_cam", "occlusion")

_TITLES = {
    "saliency": "Gradient", "smoothgrad": "SmoothGrad", "integrated_gradients": "Integrated Gradients",
    "grad_cam": "Grad-CAM", "grad_cam_plus_plus": "Grad-CAM++", "score_cam": "Score-CAM",
    "occlusion": "Occlusion",
}


# --------------------------------------------------------------------------- progress bar


class _Progress:
    """A one-line progress bar on a stream: ``[######......]  7/19  conv2: top patches``."""

    def __init__(self, total, enabled=True, stream=None, width=28):
        self.total = max(int(total), 1)
        self.done = 0
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.time()

    def step(self, label):
        """Announce the step about to run."""
        if not self.enabled:
            return
        filled = int(self.width * self.done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        line = (f"[{bar}] {self.done:>3d}/{self.total} {time.time() - self.start:6.1f}s  "
                f"{label}")
        if self.tty:
            self.stream.write("\r" + line[:120].ljust(120))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def advance(self):
        self.done = min(self.done + 1, self.total)

    def close(self, message):
        if not self.enabled:
            return
        bar = "#" * self.width
        line = f"[{bar}] {self.total:>3d}/{self.total} {time.time() - self.start:6.1f}s  {message}"
        self.stream.write(("\r" + line[:120].ljust(120) + "\n") if self.tty else line + "\n")
        self.stream.flush()


# --------------------------------------------------------------------------- data


def load_data(data, max_images=None):
    """Resolve the report's data argument to ``(x, y, name)`` arrays.

    Args:
        data: ``(x, y)`` arrays; ``x`` alone; a dataset name known to
            ``deepkit.datasets.load`` (its test split is used, e.g.
            ``"digits"``, ``"cifar10"``); or a path to an ``.npz`` file with
            ``x_test``/``y_test``, ``x``/``y`` or ``x_train``/``y_train`` (or
            an ``.npy`` file with images only).
        max_images: keep at most this many samples (the first ones).

    Returns:
        ``(x, y, name)``: ``y`` is ``None`` without labels; labels are class
        indices.

    Raises:
        ValueError: for an unusable file or a name that is neither a file nor
            a dataset.

    Example:
        >>> x, y, name = load_data((np.zeros((5, 4, 4, 1)), np.arange(5)), max_images=3)
        >>> x.shape, y.tolist(), name
        ((3, 4, 4, 1), [0, 1, 2], 'arrays')
    """
    name = "arrays"
    if isinstance(data, (str, os.PathLike)):
        path = os.fspath(data)
        if os.path.isfile(path):
            name = os.path.basename(path)
            if path.endswith(".npy"):
                x, y = np.load(path, allow_pickle=False), None
            else:
                try:
                    archive = np.load(path, allow_pickle=False)
                except Exception as exc:
                    raise ValueError(f"report: cannot read data file {path!r}: {exc}") from None
                with archive as d:
                    for xk, yk in (("x_test", "y_test"), ("x", "y"), ("x_train", "y_train")):
                        if xk in d:
                            x = d[xk]
                            y = d[yk] if yk in d else None
                            break
                    else:
                        raise ValueError(
                            f"report: {path!r} holds arrays {sorted(d.keys())}; expected x_test "
                            "(and y_test), x (and y) or x_train (and y_train)."
                        )
        else:
            from deepkit import datasets

            try:
                (_, _), (x, y) = datasets.load(path)
            except ValueError as exc:
                raise ValueError(
                    f"report: --data {path!r} is neither a file nor a dataset name. {exc}"
                ) from None
            name = path
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
    else:
        x, y = data, None
    x = np.asarray(x)
    if x.dtype == np.uint8:
        x = x.astype("float32") / 255.0
    x = x.astype("float32")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            y = y.argmax(axis=1)
        y = y.reshape(-1).astype(np.int64)
        if len(y) != len(x):
            raise ValueError(f"report: {len(x)} inputs but {len(y)} labels.")
    if len(x) == 0:
        raise ValueError("report: the data set is empty.")
    if max_images is not None:
        x = x[:max_images]
        y = None if y is None else y[:max_images]
    return x, y, name


def _pick_samples(y, n, total):
    """Indices of ``n`` samples, one per class in turn (first of each class), then the rest."""
    n = max(1, min(int(n), total))
    if y is None:
        return np.arange(n)
    classes, firsts = np.unique(y, return_index=True)  # first sample of every class
    picked = list(firsts[np.argsort(classes)][:n])
    chosen = set(picked)
    for i in range(total):
        if len(picked) >= n:
            break
        if i not in chosen:
            picked.append(i)
    return np.array(sorted(int(i) for i in picked))


# --------------------------------------------------------------------------- html pieces


_CSS = """
:root { --fg:#1d232a; --muted:#5b6672; --line:#d8dee4; --bg:#fbfcfd; --accent:#2f6fb0; --warn:#a04000; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg);
       background:var(--bg); }
header { padding:18px 28px; background:#16324f; color:#fff; }
header h1 { margin:0 0 4px; font-size:22px; }
header p { margin:0; color:#c9d6e3; font-size:13px; }
nav { position:sticky; top:0; z-index:2; background:#fff; border-bottom:1px solid var(--line);
      padding:6px 28px; font-size:13px; white-space:nowrap; overflow-x:auto; }
nav a { color:var(--accent); text-decoration:none; margin-right:14px; }
main { padding:8px 28px 40px; max-width:1400px; }
section { border-bottom:1px solid var(--line); padding:14px 0 18px; }
h2 { font-size:19px; margin:6px 0 10px; }
h2 small, h3 small { color:var(--muted); font-weight:normal; font-size:13px; }
h3 { font-size:15px; margin:14px 0 6px; }
.grid { display:flex; flex-wrap:wrap; gap:14px; align-items:flex-start; }
figure { margin:0; background:#fff; border:1px solid var(--line); border-radius:6px; padding:6px; }
figure img { display:block; max-width:100%; height:auto; image-rendering:auto; }
figure img.px { image-rendering:pixelated; }
figcaption { font-size:12px; color:var(--muted); margin-top:4px; max-width:640px; }
table { border-collapse:collapse; font-size:13px; }
th, td { border-bottom:1px solid var(--line); padding:3px 10px 3px 0; text-align:left; }
td.num, th.num { text-align:right; }
.note { color:var(--warn); font-size:13px; background:#fff4ec; border-left:3px solid var(--warn);
        padding:4px 8px; margin:6px 0; }
.kv { display:grid; grid-template-columns:max-content auto; gap:2px 14px; font-size:14px; }
.kv dt { color:var(--muted); } .kv dd { margin:0; }
footer { color:var(--muted); font-size:12px; padding:12px 28px 30px; }
"""


def _esc(text):
    return html.escape(str(text), quote=True)


def _figure_html(fig_or_image, caption, alt=None, pixelated=False):
    uri = png_data_uri(fig_or_image)
    if hasattr(fig_or_image, "savefig"):
        _close(fig_or_image)
    cls = ' class="px"' if pixelated else ""
    return (f'<figure><img{cls} src="{uri}" alt="{_esc(alt or caption)}">'
            f"<figcaption>{_esc(caption)}</figcaption></figure>")


def _close(fig):
    try:
        fig.clf()
    except Exception:  # pragma: no cover
        pass


class _Report:
    def __init__(self, progress):
        self.sections = []  # (id, title, html)
        self.errors = []
        self.timings = {}
        self.progress = progress

    def run(self, label, fn, *args, **kwargs):
        """Run one step; on failure keep going and return a note instead."""
        self.progress.step(label)
        start = time.time()
        try:
            return True, fn(*args, **kwargs)
        except Exception as exc:  # a failing section must not sink the report
            msg = f"{type(exc).__name__}: {exc}"
            self.errors.append({"step": label, "error": msg,
                                "traceback": traceback.format_exc(limit=6)})
            return False, f'<p class="note">{_esc(label)} could not be drawn: {_esc(msg)}</p>'
        finally:
            self.timings[label] = round(time.time() - start, 3)
            self.progress.advance()


# --------------------------------------------------------------------------- sections


def _layer_rows(model):
    import keras

    from deepkit.viz.layers import list_layers

    rows = []
    for path, layer in list_layers(model):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            shape = tuple(layer.output.shape)
        except Exception:
            shape = "?"
        rows.append((path, type(layer).__name__, shape, layer.count_params() if layer.built else 0))
    return rows


def _overview(model, x, y, name, probs, class_names):
    import keras

    items = [
        ("model", model.name),
        ("parameters", f"{model.count_params():,}"),
        ("input", f"{tuple(model.inputs[0].shape)}"),
        ("data", f"{_esc(name)}: {len(x):,} samples, shape {tuple(x.shape[1:])}, "
                 f"values {float(x.min()):.3g} to {float(x.max()):.3g}"),
        ("backend", keras.backend.backend()),
    ]
    if probs is not None and y is not None:
        acc = float(np.mean(probs.argmax(1) == y))
        items.append(("accuracy on the data", f"{acc:.4f}"))
    if class_names:
        items.append(("classes", ", ".join(map(str, class_names))))
    kv = "".join(f"<dt>{_esc(k)}</dt><dd>{v if k == 'data' else _esc(v)}</dd>" for k, v in items)
    rows = "".join(
        f"<tr><td>{_esc(p)}</td><td>{_esc(t)}</td><td>{_esc(s)}</td><td class=num>{n:,}</td></tr>"
        for p, t, s, n in _layer_rows(model))
    table = ("<table><thead><tr><th>layer</th><th>type</th><th>output shape</th>"
             f"<th class=num>parameters</th></tr></thead><tbody>{rows}</tbody></table>")
    return f'<dl class="kv">{kv}</dl><h3>Layers</h3>{table}'


def _label(i, class_names):
    return str(class_names[i]) if class_names and 0 <= i < len(class_names) else str(i)


def _samples_figure(x, idx, y, probs, class_names):
    imgs = x[idx]
    n = len(idx)
    ncols = min(n, 8)
    nrows = math.ceil(n / ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(1.5 * ncols, 1.75 * nrows), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k >= n:
            continue
        img = normalize_image(imgs[k])
        ax.imshow(img[..., 0] if img.shape[-1] == 1 else img[..., :3], cmap="gray",
                  interpolation="nearest")
        parts = []
        if probs is not None:
            p = int(probs[idx[k]].argmax())
            parts.append(f"pred {_label(p, class_names)} ({probs[idx[k], p]:.2f})")
        if y is not None:
            parts.append(f"true {_label(int(y[idx[k]]), class_names)}")
        ax.set_title("\n".join(parts), fontsize=7)
    return fig


def _attribution_table(model, x, idx, methods, rep, batch_size, class_names, probs):
    from deepkit.viz import attribution

    imgs = x[idx]
    targets = None if probs is None else probs[idx].argmax(1)
    columns = [("input", np.stack([normalize_image(im) for im in imgs]))]
    notes = []
    for method in methods:
        fn = getattr(attribution, method)
        kwargs = {"batch_size": batch_size}
        if method == "smoothgrad":
            kwargs["num_samples"] = 16
        if method == "integrated_gradients":
            kwargs["steps"] = 32
        if method == "occlusion":
            size = max(2, min(imgs.shape[1:3]) // 8)
            kwargs.update(patch_size=size, stride=max(1, size // 2))
        ok, maps = rep.run(f"attribution: {_TITLES[method]}", fn, model, imgs, **kwargs)
        if not ok:
            notes.append(maps)
            continue
        maps = np.asarray(maps)
        if maps.ndim == 4:
            maps = np.abs(maps).max(axis=-1)
        overlays = np.stack([overlay_heatmap(im, normalize_image(m, "percentile")
                                             if method in ("saliency", "smoothgrad",
                                                           "integrated_gradients") else m,
                                             alpha=0.55, normalize=True)
                             for im, m in zip(imgs, maps)])
        columns.append((_TITLES[method], overlays))
    table = np.stack([cols for _, cols in [(t, _rgb(c)) for t, c in columns]], axis=1)
    rows = [f"#{int(i)}: class {_label(int(t), class_names)}" for i, t in zip(idx, targets)] \
        if targets is not None else [f"#{int(i)}" for i in idx]
    fig = plot_image_table(table, col_titles=[t for t, _ in columns], row_titles=rows,
                           cell_inches=1.1)
    html_out = _figure_html(fig, "Attribution maps for the predicted class of each sample "
                                 "(rows: samples; red = most important).")
    return html_out + "".join(notes)


def _rgb(images):
    images = np.asarray(images, np.float32)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    return images[..., :3]


def _featurevis_grid(model, layer, channels, steps, seed):
    from deepkit.viz import featurevis

    imgs = featurevis.render(model, featurevis.objectives.channel(layer, list(channels)),
                             steps=steps, seed=seed, progress=False)
    return _grid_figure(imgs, [f"ch {c}" for c in channels],
                        f"{layer}: images maximising each channel ({steps} steps)")


def _grid_figure(imgs, titles, title, normalize="each"):
    imgs = np.asarray(imgs, np.float32)
    if normalize == "each":
        imgs = normalize_image(imgs, "minmax", axis=tuple(range(1, imgs.ndim)))
    n = len(imgs)
    ncols = min(n, 8)
    nrows = math.ceil(n / ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(1.25 * ncols, 1.35 * nrows + 0.3), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k < n:
            img = imgs[k]
            ax.imshow(img[..., 0] if img.shape[-1] == 1 else img[..., :3], cmap="gray",
                      interpolation="nearest")
            ax.set_title(titles[k], fontsize=7)
    fig.suptitle(title, fontsize=9)
    return fig


def _select_layers(model, layers, max_layers):
    from deepkit.viz.layers import layer_path, resolve_layer, spatial_layers

    if layers is not None:
        layers = [layers] if isinstance(layers, (str, int)) else list(layers)
        return [layer_path(model, layer) for layer in layers]
    # Normalization, dropout, noise and padding layers show nothing their neighbours do not.
    skip = ("BatchNormalization", "LayerNormalization", "GroupNormalization", "Dropout",
            "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "ZeroPadding2D",
            "Cropping2D", "Identity")
    paths = [p for p in spatial_layers(model)
             if type(resolve_layer(model, p)).__name__ not in skip] or spatial_layers(model)
    if len(paths) > max_layers:
        keep = np.unique(np.round(np.linspace(0, len(paths) - 1, max_layers)).astype(int))
        paths = [paths[i] for i in keep]
    return paths


def _layer_gradcam(model, path, imgs, batch_size):
    from deepkit.viz import attribution

    cams = np.asarray(attribution.grad_cam(model, imgs, layer=path, batch_size=batch_size))
    overlays = np.stack([overlay_heatmap(im, m, alpha=0.55) for im, m in zip(imgs, cams)])
    inputs = _rgb(np.stack([normalize_image(im) for im in imgs]))
    table = np.stack([inputs, overlays], axis=0)  # rows: input, Grad-CAM; columns: samples
    return plot_image_table(table, row_titles=["input", "Grad-CAM"], cell_inches=0.9)


def _layer_section(model, path, x, idx, rep, top_k, max_channels, featurevis_steps, batch_size,
                   seed, do_featurevis, do_gradcam=True):
    from deepkit.viz import activations, weights
    from deepkit.viz.layers import resolve_layer

    layer = resolve_layer(model, path)
    parts = []
    out_shape = tuple(layer.output.shape)
    is_conv = weights._is_conv(layer)
    if is_conv:
        ok, fig = rep.run(f"{path}: filters", weights.plot_filters, model, layer,
                          max_filters=64 if weights.kernels(model, layer).shape[-1] in (1, 3) else 8,
                          max_channels=8)
        parts.append(_figure_html(fig, "Learned filters (kernels) of this layer, each scaled to "
                                       "its own range.", pixelated=True) if ok else fig)
    ok, maps = rep.run(f"{path}: feature maps", activations.feature_maps, model, x[idx[:2]],
                       layers=[path], batch_size=batch_size)
    if ok:
        arr = maps[path]
        for i in range(len(arr)):
            fig = activations.plot_feature_maps(arr, index=i, max_channels=max_channels,
                                                title=f"sample {int(idx[i])}: first "
                                                      f"{min(max_channels, arr.shape[-1])} channels")
            parts.append(_figure_html(fig, f"Feature maps for sample {int(idx[i])} (each channel "
                                           "scaled to its own range; bright = strong)."))
    else:
        parts.append(maps)
    ok, rf = rep.run(f"{path}: receptive field", activations.receptive_field, model, path)
    rf_text = ""
    if ok:
        rf_text = ("every unit sees the whole input" if rf.is_global else
                   f"receptive field {rf.size[0]}x{rf.size[1]} pixels, stride {rf.stride[0]}")
    else:
        parts.append(rf)
    n_channels = out_shape[-1]
    channels = list(range(min(max_channels, n_channels)))
    ok, top = rep.run(f"{path}: top-{top_k} patches over {len(x)} images",
                      activations.top_k_patches, model, path, x, k=top_k, channels=channels,
                      batch_size=batch_size)
    if ok:
        fig = activations.plot_top_patches(top)
        parts.append(_figure_html(fig, f"Top {top_k} data-set patches per channel "
                                       "(Zeiler & Fergus): the input regions that excite each "
                                       "channel most, strongest first.", pixelated=True))
    else:
        parts.append(top)
    if do_gradcam and len(out_shape) == 4:
        ok, cams = rep.run(f"{path}: Grad-CAM", _layer_gradcam, model, path, x[idx], batch_size)
        if ok:
            parts.append(_figure_html(cams, "Grad-CAM at this layer for the sample inputs "
                                            "(predicted class): where this layer's features "
                                            "support the decision. Deeper layers localize coarser "
                                            "but more class-specific evidence."))
        else:
            parts.append(cams)
    if do_featurevis:
        ok, fig = rep.run(f"{path}: feature visualization", _featurevis_grid, model, path,
                          channels[: min(len(channels), 16)], featurevis_steps, seed)
        parts.append(_figure_html(fig, "Feature visualization: optimized inputs that maximise "
                                       "each channel's mean activation (Fourier parameterization, "
                                       "jitter/scale/rotate robustness).") if ok else fig)
    header = (f'<h2>{_esc(path)} <small>{_esc(type(layer).__name__)}, output '
              f'{_esc(out_shape)}{", " + _esc(rf_text) if rf_text else ""}</small></h2>')
    return header + '<div class="grid">' + "".join(parts) + "</div>"


def _anchor(text):
    return "layer-" + "".join(c if c.isalnum() else "-" for c in text)


def _page(title, subtitle, sections, footer):
    nav = "".join(f'<a href="#{_esc(sid)}">{_esc(stitle)}</a>' for sid, stitle, _ in sections)
    body = "".join(f'<section id="{_esc(sid)}">{content}</section>' for sid, _, content in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<link rel=\"icon\" href=\"data:,\">"
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{_esc(title)}</h1><p>{_esc(subtitle)}</p></header>"
        f"<nav>{nav}</nav><main>{body}</main><footer>{footer}</footer></body></html>\n"
    )


# --------------------------------------------------------------------------- entry point


def build_report(model, data, out_dir, *, history=None, layers=None, num_samples=8,
                 class_names=None, top_k=9, max_channels=16, max_layers=6, max_images=2000,
                 featurevis=True, featurevis_steps=128, attributions=ATTRIBUTION_METHODS,
                 embedding=True, batch_size=64, seed=0, title=None, progress=True):
    """Write a self-contained HTML report of what each layer of ``model`` has learned.

    Args:
        model: a functional or Sequential ``keras.Model`` on images (a classifier
            for the attribution and confusion-matrix sections).
        data: anything :func:`load_data` accepts: ``(x, y)``, ``x``, a dataset
            name (``"digits"``, ``"cifar10"``...) or an ``.npz`` / ``.npy`` path.
        out_dir: folder to write ``index.html`` and ``report.json`` into
            (created).
        history: a ``keras.callbacks.History``, a dict or a JSON path, for
            training curves.
        layers: layers to show (names, paths, indices); default up to
            ``max_layers`` image-like layers spread over the depth
            (normalization, dropout and padding layers left out).
        num_samples: sample inputs shown with predictions and attribution maps
            (one per class first).
        class_names: names of the classes.
        top_k: patches per channel.
        max_channels: channels shown per layer (feature maps, patches, feature
            visualizations: at most 16 of those).
        max_layers: layer limit for the default choice.
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

    Returns:
        The path of ``index.html``.

    Raises:
        ValueError: for unusable data or unknown attribution methods (problems
            inside a section are reported on the page and in ``report.json``
            instead).

    Example:
        >>> import numpy as np, keras, tempfile, os
        >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="c"),
        ...                       keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
        >>> x = np.random.default_rng(0).random((20, 8, 8, 1)).astype("float32")
        >>> path = build_report(m, (x, np.arange(20) % 2), tempfile.mkdtemp(), featurevis=False,
        ...                     attributions=["grad_cam"], embedding=False, progress=False)
        >>> os.path.basename(path), "<img" in open(path).read()
        ('index.html', True)
    """
    from deepkit.viz import curves
    from deepkit.probabilities import as_probabilities as _as_probabilities

    unknown = [m for m in attributions if m not in ATTRIBUTION_METHODS]
    if unknown:
        raise ValueError(
            f"build_report: unknown attribution methods {unknown}; choose from "
            f"{list(ATTRIBUTION_METHODS)}."
        )
    t0 = time.time()
    x, y, data_name = load_data(data, max_images=max_images)
    in_shape = tuple(model.inputs[0].shape[1:])
    if tuple(x.shape[1:]) != in_shape and None not in in_shape:
        raise ValueError(
            f"build_report: the data's samples have shape {tuple(x.shape[1:])} but model "
            f"{model.name!r} takes {in_shape}."
        )
    paths = _select_layers(model, layers, max_layers)
    steps = 2 + (history is not None) + (y is not None) + len(attributions) + 1 \
        + len(paths) * (4 + bool(featurevis) + ("grad_cam" in attributions)) + 1 \
        + bool(embedding and y is not None)
    rep = _Report(_Progress(steps, enabled=progress))
    sections = []

    ok, out = rep.run("predicting", lambda: _as_probabilities(
        model.predict(x, batch_size=batch_size, verbose=0)))
    probs = out if ok and np.ndim(out) == 2 else None
    if probs is not None and probs.shape[1] < 2:
        probs = None
    ok, body = rep.run("overview", _overview, model, x, y, data_name, probs, class_names)
    sections.append(("overview", "Overview", "<h2>Overview</h2>" + body))

    training = []
    if history is not None:
        ok, fig = rep.run("training curves", curves.plot_history, history)
        training.append(_figure_html(fig, "Training curves (solid: training, dashed: "
                                          "validation).") if ok else fig)
    if y is not None and probs is not None:
        ok, fig = rep.run("confusion matrix", curves.plot_confusion_matrix, y, probs,
                          class_names=class_names if class_names and
                          len(class_names) == probs.shape[1] else None)
        training.append(_figure_html(fig, f"Confusion matrix on {len(x):,} samples of "
                                          f"{data_name} (rows: true class).") if ok else fig)
    if training:
        sections.append(("training", "Training", "<h2>Training and errors</h2>"
                         '<div class="grid">' + "".join(training) + "</div>"))

    idx = _pick_samples(y, num_samples, len(x))
    ok, fig = rep.run("sample predictions", _samples_figure, x, idx, y, probs, class_names)
    pred_html = [_figure_html(fig, "Sample inputs with the model's prediction.") if ok else fig]
    if attributions and probs is not None:
        pred_html.append(_attribution_table(model, x, idx, list(attributions), rep, batch_size,
                                            class_names, probs))
    sections.append(("predictions", "Predictions", "<h2>Sample predictions and attribution</h2>"
                     '<div class="grid">' + "".join(pred_html) + "</div>"))

    layer_gradcam = "grad_cam" in attributions and probs is not None
    for path in paths:
        body = _layer_section(model, path, x, idx, rep, top_k, max_channels, featurevis_steps,
                              batch_size, seed, featurevis, layer_gradcam)
        sections.append((_anchor(path), path, body))

    if embedding and y is not None:
        from deepkit.viz.embedding import plot_layer_embeddings

        ok, fig = rep.run("embeddings (PCA)", plot_layer_embeddings, model, x, y,
                          class_names=class_names, max_samples=1000, seed=seed)
        sections.append(("embedding", "Embeddings", "<h2>Representations</h2>" + (
            _figure_html(fig, "PCA of layer outputs, coloured by true class; 5-NN accuracy "
                              "measures how well each layer groups the classes.")
            if ok else fig)))

    if rep.errors:
        items = "".join(f"<li><b>{_esc(e['step'])}</b>: {_esc(e['error'])}</li>" for e in rep.errors)
        sections.append(("problems", "Problems", f"<h2>Problems</h2><ul>{items}</ul>"))

    rep.progress.step("writing index.html")
    import deepkit
    import keras

    os.makedirs(out_dir, exist_ok=True)
    title = title or f"deepkit report: {model.name}"
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    subtitle = (f"{data_name}, {len(x):,} samples; {len(paths)} layers; generated {when} with "
                f"deepkit {deepkit.__version__} on Keras {keras.__version__} "
                f"({keras.backend.backend()})")
    footer = (f"Generated in {time.time() - t0:.1f} s. Images are inlined PNGs; this page needs no "
              "other file and no network.")
    page = _page(title, subtitle, sections, footer)
    index = os.path.join(os.fspath(out_dir), "index.html")
    with open(index, "w", encoding="utf-8") as f:
        f.write(page)
    meta = {
        "model": model.name, "data": data_name, "num_samples": int(len(x)),
        "layers": paths, "sections": [sid for sid, _, _ in sections],
        "images": page.count("<img "), "errors": rep.errors, "timings_s": rep.timings,
        "seconds": round(time.time() - t0, 2), "backend": keras.backend.backend(),
    }
    with open(os.path.join(os.fspath(out_dir), "report.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    rep.progress.advance()
    rep.progress.close(f"wrote {index} ({len(page) / 1e6:.1f} MB, {meta['images']} images"
                       f"{', %d problems' % len(rep.errors) if rep.errors else ''})")
    return index


# --------------------------------------------------------------------------- command line


def add_cli_arguments(parser):
    """Add the ``deepkit report`` arguments to an ``argparse`` parser.

    Args:
        parser: an ``argparse.ArgumentParser`` (the ``report`` sub-command's).

    Returns:
        The parser.

    Example:
        >>> import argparse
        >>> p = add_cli_arguments(argparse.ArgumentParser())
        >>> a = p.parse_args(["m.keras", "--data", "digits", "--out", "r"])
        >>> a.model, a.data, a.out, a.num_samples
        ('m.keras', 'digits', 'r', 8)
    """
    parser.add_argument("model", help="saved model (.keras), spec file or zoo name")
    parser.add_argument("--data", required=True,
                        help="dataset name (e.g. digits, cifar10; its test split) or .npz/.npy file")
    parser.add_argument("--out", default="deepkit-report", help="output folder (default: deepkit-report)")
    parser.add_argument("--history", help="JSON file of History.history, for training curves")
    parser.add_argument("--layers", help="comma-separated layer names or paths (default: automatic)")
    parser.add_argument("--num-samples", type=int, default=8, help="sample inputs (default 8)")
    parser.add_argument("--class-names", help="comma-separated class names")
    parser.add_argument("--top-k", type=int, default=9, help="patches per channel (default 9)")
    parser.add_argument("--max-channels", type=int, default=16)
    parser.add_argument("--max-images", type=int, default=2000,
                        help="data samples used at most (default 2000)")
    parser.add_argument("--featurevis-steps", type=int, default=128)
    parser.add_argument("--no-featurevis", action="store_true", help="skip feature visualization")
    parser.add_argument("--attributions", default=",".join(ATTRIBUTION_METHODS),
                        help="comma-separated subset of: " + ", ".join(ATTRIBUTION_METHODS))
    parser.add_argument("--screenshot", action="store_true",
                        help="also open the page in headless Chromium, check it and save "
                             "screenshot.png")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _split(text):
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def _load_model(spec):
    import deepkit  # noqa: F401  (registers deepkit layers for deserialization)

    if spec.lower().endswith((".keras", ".h5", ".hdf5")):
        from deepkit.cli import load_model_file

        return load_model_file(spec, compile=False)  # damaged files: one line naming file and problem
    from deepkit.cli import _load_model as cli_load

    return cli_load(spec)


def run_from_args(args):
    """Run ``deepkit report`` with parsed arguments (see :func:`add_cli_arguments`).

    Args:
        args: the ``argparse.Namespace``.

    Returns:
        0 on success.

    Example:
        >>> import argparse, tempfile, os, numpy as np, keras
        >>> d = tempfile.mkdtemp()
        >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2)])
        >>> m.save(os.path.join(d, "m.keras"))
        >>> np.savez(os.path.join(d, "d.npz"), x=np.random.rand(6, 8, 8, 1), y=np.arange(6) % 2)
        >>> a = add_cli_arguments(argparse.ArgumentParser()).parse_args(
        ...     [os.path.join(d, "m.keras"), "--data", os.path.join(d, "d.npz"), "--out",
        ...      os.path.join(d, "r"), "--no-featurevis", "--attributions", "saliency", "--quiet"])
        >>> run_from_args(a), sorted(os.listdir(os.path.join(d, "r")))  # doctest: +ELLIPSIS
        /.../r/index.html
        (0, ['index.html', 'report.json'])
    """
    model = _load_model(args.model)
    attributions = _split(args.attributions) or []
    path = build_report(
        model, args.data, args.out, history=args.history, layers=_split(args.layers),
        num_samples=args.num_samples, class_names=_split(args.class_names), top_k=args.top_k,
        max_channels=args.max_channels, max_images=args.max_images,
        featurevis=not args.no_featurevis, featurevis_steps=args.featurevis_steps,
        attributions=attributions, progress=not args.quiet)
    if getattr(args, "screenshot", False):
        from deepkit.viz.report_browser import check_page

        result = check_page(path, screenshot=os.path.join(args.out, "screenshot.png"))
        print(f"chromium: {len(result.images)} images decoded, {len(result.console_errors)} "
              f"console errors; screenshot {result.screenshot}")
    print(path)
    return 0
