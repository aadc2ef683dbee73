"""The report's page-wide sections: overview, training, predictions with attribution, embeddings.

Each function computes its figures from the model and the data in a
:class:`~deepkit.viz.report.context.Context` (every step through its runner, so a failure becomes
a note) and returns a :class:`~deepkit.viz.report.render.Section`. The per-layer sections are in
:mod:`deepkit.viz.report.layer_section`.
"""

import numpy as np

from deepkit.viz.report.figures import (attribution_figure, class_label, integer_epochs,
                                        samples_figure)
from deepkit.viz.report.layer_section import gradcam_layer
from deepkit.viz.report.render import Facts, Figure, Problems, Section, Table

__all__ = ["ATTRIBUTION_METHODS", "METHOD_TITLES", "layer_rows", "overview_section",
           "training_section", "predictions_section", "embedding_section", "problems_section"]

#: The attribution methods the predictions section can draw, in column order.
ATTRIBUTION_METHODS = ("saliency", "smoothgrad", "integrated_gradients", "grad_cam",
                       "grad_cam_plus_plus", "score_cam", "occlusion")

#: Column titles of the attribution methods.
METHOD_TITLES = {
    "saliency": "Gradient", "smoothgrad": "SmoothGrad", "integrated_gradients": "Integrated Gradients",
    "grad_cam": "Grad-CAM", "grad_cam_plus_plus": "Grad-CAM++", "score_cam": "Score-CAM",
    "occlusion": "Occlusion",
}

_CAM_METHODS = ("grad_cam", "grad_cam_plus_plus", "score_cam")


def layer_rows(model):
    """One row per layer (input layers left out): path, type, output shape, parameters.

    Args:
        model: a ``keras.Model`` (nested models' layers are listed too).

    Returns:
        A list of ``(path, type name, output shape, parameter count)``.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="d")])
        >>> layer_rows(m)
        [('d', 'Dense', (None, 2), 10)]
    """
    import keras

    from deepkit.viz import list_layers

    rows = []
    for path, layer in list_layers(model):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            shape = tuple(layer.output.shape)
        except Exception:  # a layer used twice has no single output
            shape = "?"
        rows.append((path, type(layer).__name__, shape, layer.count_params() if layer.built else 0))
    return rows


def overview_section(ctx, rows):
    """Model, data, backend and accuracy, then the layer table.

    Args:
        ctx: the report's context.
        rows: :func:`layer_rows` of the model.

    Returns:
        The ``overview`` :class:`~deepkit.viz.report.render.Section`.

    Example:
        >>> import keras
        >>> from deepkit.viz.report.context import Context, Runner
        >>> m = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(name="f"),
        ...                       keras.layers.Dense(2, name="d")], name="tiny")
        >>> x = np.random.default_rng(0).random((6, 4, 4, 1)).astype("float32")
        >>> ctx = Context(m, x, np.arange(6) % 2, "random", np.arange(2), None, None, Runner())
        >>> overview_section(ctx, layer_rows(m)).blocks[1].rows
        [('f', 'Flatten', (None, 16), '0'), ('d', 'Dense', (None, 2), '34')]
    """
    import keras

    x, model = ctx.x, ctx.model
    facts = [
        ("model", model.name),
        ("parameters", f"{model.count_params():,}"),
        ("input", f"{tuple(model.inputs[0].shape)}"),
        ("data", f"{ctx.data_name}: {len(x):,} samples, shape {tuple(x.shape[1:])}, "
                 f"values {float(x.min()):.3g} to {float(x.max()):.3g}"),
        ("backend", keras.backend.backend()),
    ]
    if ctx.probs is not None and ctx.y is not None:
        facts.append(("accuracy on the data", f"{float(np.mean(ctx.probs.argmax(1) == ctx.y)):.4f}"))
    if ctx.class_names:
        facts.append(("classes", ", ".join(ctx.class_names)))
    table = Table(["layer", "type", "output shape", "parameters"],
                  [(p, t, s, f"{n:,}") for p, t, s, n in rows], numeric=(3,), title="Layers")
    return Section("overview", "Overview", "Overview", [Facts(facts), table], grid=False)


def training_section(ctx, history):
    """Training curves (when there is a history) and the confusion matrix (with labels).

    Args:
        ctx: the report's context.
        history: the ``{metric: values}`` dict, or ``None``.

    Returns:
        The ``training`` section, or ``None`` when it would be empty.

    Example:
        >>> import keras
        >>> from deepkit.viz.report.context import Context, Runner
        >>> m = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(name="f"),
        ...                       keras.layers.Dense(2, name="d")], name="tiny")
        >>> x = np.random.default_rng(0).random((6, 4, 4, 1)).astype("float32")
        >>> ctx = Context(m, x, np.arange(6) % 2, "random", np.arange(2), None, None, Runner())
        >>> training_section(ctx, {"loss": [0.9, 0.5]}).id
        'training'
    """
    from deepkit.viz import plot_confusion_matrix, plot_history

    blocks = []
    if history is not None:
        ok, fig = ctx.run("training curves", lambda: integer_epochs(plot_history(history)))
        blocks.append(Figure.of(fig, "Training curves (solid: training, dashed: validation).")
                      if ok else fig)
    if ctx.y is not None and ctx.probs is not None:
        names = ctx.class_names if ctx.class_names and len(ctx.class_names) == ctx.probs.shape[1] \
            else None
        ok, fig = ctx.run("confusion matrix", plot_confusion_matrix, ctx.y, ctx.probs,
                          class_names=names)
        blocks.append(Figure.of(fig, f"Confusion matrix on {len(ctx.x):,} samples of "
                                     f"{ctx.data_name} (rows: true class).") if ok else fig)
    return Section("training", "Training", "Training and errors", blocks) if blocks else None


def _attribution_kwargs(method, images, batch_size, cam_layer):
    kwargs = {"batch_size": batch_size}
    if method == "smoothgrad":
        kwargs["num_samples"] = 16
    elif method == "integrated_gradients":
        kwargs["steps"] = 32
    elif method == "occlusion":
        size = max(2, min(images.shape[1:3]) // 8)
        kwargs.update(patch_size=size, stride=max(1, size // 2))
    elif method in _CAM_METHODS and cam_layer is not None:
        kwargs["layer"] = cam_layer  # the deepest maps of at least 2x2: 1x1 maps localize nothing
    return kwargs


def predictions_section(ctx):
    """The sample inputs with predictions, then their attribution maps, one column per method.

    Args:
        ctx: the report's context.

    Returns:
        The ``predictions`` section.

    Example:
        >>> import keras
        >>> from deepkit.viz.report.context import Context, Runner
        >>> m = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(name="f"),
        ...                       keras.layers.Dense(2, name="d")], name="tiny")
        >>> x = np.random.default_rng(0).random((6, 4, 4, 1)).astype("float32")
        >>> ctx = Context(m, x, np.arange(6) % 2, "random", np.arange(2), None, None, Runner())
        >>> [type(b).__name__ for b in predictions_section(ctx).blocks]
        ['Figure']
    """
    from deepkit import viz

    ok, fig = ctx.run("sample predictions", samples_figure, ctx.x, ctx.idx, ctx.y, ctx.probs,
                      ctx.class_names)
    blocks = [Figure.of(fig, "Sample inputs with the model's prediction.") if ok else fig]
    if ctx.attributions and ctx.probs is not None:
        images = ctx.x[ctx.idx]
        cam_layer = gradcam_layer(ctx.model) if set(ctx.attributions) & set(_CAM_METHODS) else None
        columns, notes = [], []
        for method in ctx.attributions:
            kwargs = _attribution_kwargs(method, images, ctx.batch_size, cam_layer)
            ok, maps = ctx.run(f"attribution: {METHOD_TITLES[method]}", getattr(viz, method),
                               ctx.model, images, **kwargs)
            if ok:
                columns.append((method, METHOD_TITLES[method], maps))
            else:
                notes.append(maps)
        targets = ctx.probs[ctx.idx].argmax(1)
        rows = [f"#{int(i)}: class {class_label(int(t), ctx.class_names)}"
                for i, t in zip(ctx.idx, targets)]
        blocks.append(Figure.of(attribution_figure(images, columns, rows),
                                "Attribution maps for the predicted class of each sample "
                                "(rows: samples; red = most important)."))
        blocks += notes
    return Section("predictions", "Predictions", "Sample predictions and attribution", blocks)


def embedding_section(ctx):
    """PCA of layer outputs coloured by the true class (needs labels).

    Args:
        ctx: the report's context.

    Returns:
        The ``embedding`` section.

    Example:
        >>> import keras
        >>> from deepkit.viz.report.context import Context, Runner
        >>> m = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(name="f"),
        ...                       keras.layers.Dense(2, name="d")], name="tiny")
        >>> x = np.random.default_rng(0).random((6, 4, 4, 1)).astype("float32")
        >>> ctx = Context(m, x, np.arange(6) % 2, "random", np.arange(2), None, None, Runner())
        >>> embedding_section(ctx).id
        'embedding'
    """
    from deepkit.viz import plot_layer_embeddings

    ok, fig = ctx.run("embeddings (PCA)", plot_layer_embeddings, ctx.model, ctx.x, ctx.y,
                      class_names=ctx.class_names, max_samples=1000, seed=ctx.seed)
    block = Figure.of(fig, "PCA of layer outputs, coloured by true class; 5-NN accuracy measures "
                           "how well each layer groups the classes.") if ok else fig
    return Section("embedding", "Embeddings", "Representations", [block], grid=False)


def problems_section(errors):
    """The steps that failed, with their errors (``None`` when nothing failed).

    Args:
        errors: the runner's ``errors``.

    Returns:
        The ``problems`` section or ``None``.

    Example:
        >>> problems_section([]) is None
        True
    """
    return Section("problems", "Problems", "Problems", [Problems(errors)], grid=False) if errors else None
