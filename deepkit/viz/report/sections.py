"""The report's page-wide sections: overview, training, predictions with attribution, embeddings.

Each ``plan_*`` function adds its steps to a :class:`~deepkit.viz.report.plan.Plan` and returns a
function of no argument that builds the :class:`~deepkit.viz.report.document.Section` from the
steps' results once they ran (a failed step becomes a note). The per-layer sections are in
:mod:`deepkit.viz.report.layer_section`.
"""

import numpy as np

from deepkit.viz.report.attributions import attribution_maps, method_title
from deepkit.viz.report.document import Facts, Figure, Problems, Section, Table
from deepkit.viz.report.figures import attribution_figure, class_label, integer_epochs, samples_figure
from deepkit.viz.report.layer_section import gradcam_layer

__all__ = ["layer_rows", "overview_facts", "overview_section", "layer_table", "plan_training", "plan_predictions",
           "plan_embedding", "problems_section"]


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


def overview_facts(ctx):
    """Model, data, backend, accuracy and classes.

    Args:
        ctx: the report's :class:`~deepkit.viz.report.context.Context`.

    Returns:
        A :class:`~deepkit.viz.report.document.Facts` block.

    Example:
        >>> import keras
        >>> from deepkit.viz.report.context import Context, Runner
        >>> m = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2)],
        ...                      name="tiny")
        >>> ctx = Context(m, np.zeros((6, 4, 4, 1)), None, "zeros", np.arange(2), None, None, Runner())
        >>> overview_facts(ctx).items[0]
        ('model', 'tiny')
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
    if ctx.no_classes:
        facts.append(("not shown", ctx.no_classes))
    return Facts(facts)


def overview_section(ctx, table):
    """The ``overview`` section: :func:`overview_facts` and a layer table.

    Args:
        ctx: the report's context.
        table: the layer :class:`~deepkit.viz.report.document.Table`.

    Returns:
        The section.

    Example:
        >>> import keras, numpy as np
        >>> from deepkit.viz.report.context import Context, Runner
        >>> from deepkit.viz.report.plan import Plan
        >>> m = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax", name="d")])
        >>> x = np.random.default_rng(0).random((6, 4, 4, 1)).astype("float32")
        >>> y = np.array([0, 1, 0, 1, 0, 1])
        >>> ctx = Context(m, x, y, "random", np.arange(2), m.predict(x, verbose=0), None, Runner(),
        ...               featurevis=False)
        >>> overview_section(ctx, layer_table(layer_rows(m))).id
        'overview'
    """
    return Section("overview", "Overview", "Overview", [overview_facts(ctx), table], grid=False)


def layer_table(rows):
    """The single page's layer table of :func:`layer_rows`.

    Example:
        >>> layer_table([("d", "Dense", (None, 2), 10)]).rows
        [('d', 'Dense', (None, 2), '10')]
    """
    return Table(["layer", "type", "output shape", "parameters"],
                 [(p, t, s, f"{n:,}") for p, t, s, n in rows], numeric=(3,), title="Layers")


def plan_training(plan, ctx, history):
    """Training curves (with a history) and the confusion matrix (with labels and probabilities).

    Args:
        plan: the :class:`~deepkit.viz.report.plan.Plan`.
        ctx: the report's context.
        history: the ``{metric: values}`` dict, or ``None``.

    Returns:
        A function building the ``training`` section (``None`` when it would be empty).

    Example:
        >>> import keras, numpy as np
        >>> from deepkit.viz.report.context import Context, Runner
        >>> from deepkit.viz.report.plan import Plan
        >>> m = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax", name="d")])
        >>> x = np.random.default_rng(0).random((6, 4, 4, 1)).astype("float32")
        >>> y = np.array([0, 1, 0, 1, 0, 1])
        >>> ctx = Context(m, x, y, "random", np.arange(2), m.predict(x, verbose=0), None, Runner(),
        ...               featurevis=False)
        >>> plan = Plan()
        >>> build = plan_training(plan, ctx, {"loss": [1.0, 0.5]})
        >>> [step.label for step in plan.steps]
        ['training curves', 'confusion matrix']
    """
    from deepkit.viz import plot_confusion_matrix, plot_history

    curves = matrix = None
    if history is not None:
        curves = plan.figure("training curves", lambda: integer_epochs(plot_history(history)))
    if ctx.y is not None and ctx.probs is not None:
        names = ctx.class_names if ctx.class_names and len(ctx.class_names) == ctx.probs.shape[1] else None
        matrix = plan.figure("confusion matrix", plot_confusion_matrix, ctx.y, ctx.probs, class_names=names)

    def build():
        blocks = []
        if curves is not None:
            blocks.append(curves.figure("Training curves (solid: training, dashed: validation)."))
        if matrix is not None:
            blocks.append(matrix.figure(f"Confusion matrix on {len(ctx.x):,} samples of {ctx.data_name} "
                                        "(rows: true class)."))
        return Section("training", "Training", "Training and errors", blocks) if blocks else None

    return build


def plan_predictions(plan, ctx):
    """The sample inputs with predictions, then their attribution maps, one column per method.

    Args:
        plan: the plan.
        ctx: the report's context.

    Returns:
        A function building the ``predictions`` section.

    Example:
        >>> import keras, numpy as np
        >>> from deepkit.viz.report.context import Context, Runner
        >>> from deepkit.viz.report.plan import Plan
        >>> m = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax", name="d")])
        >>> x = np.random.default_rng(0).random((6, 4, 4, 1)).astype("float32")
        >>> y = np.array([0, 1, 0, 1, 0, 1])
        >>> ctx = Context(m, x, y, "random", np.arange(2), m.predict(x, verbose=0), None, Runner(),
        ...               featurevis=False)
        >>> plan = Plan()
        >>> build = plan_predictions(plan, ctx)
        >>> [step.label for step in plan.steps]
        ['sample predictions']
    """
    samples = plan.figure("sample predictions", samples_figure, ctx.x, ctx.idx, ctx.y, ctx.probs,
                          ctx.class_names)
    images = ctx.x[ctx.idx]
    maps = []
    if ctx.attributions and ctx.probs is not None:
        cam_layer = gradcam_layer(ctx.model)
        maps = [(method, plan.add(f"attribution: {method_title(method)}", attribution_maps, ctx.model, images,
                                  method, ctx.batch_size, cam_layer))
                for method in ctx.attributions]

    def build():
        blocks = [samples.figure("Sample inputs with the model's prediction.")]
        if maps:
            columns = [(m, method_title(m), step.value) for m, step in maps if step.ok]
            targets = ctx.probs[ctx.idx].argmax(1)
            rows = [f"#{int(i)}: class {class_label(int(t), ctx.class_names)}" for i, t in zip(ctx.idx, targets)]
            blocks.append(Figure.of(attribution_figure(images, columns, rows),
                                    "Attribution maps for the predicted class of each sample "
                                    "(rows: samples; red = most important)."))
            blocks += [step.value for _, step in maps if not step.ok]
        return Section("predictions", "Predictions", "Sample predictions and attribution", blocks)

    return build


def plan_embedding(plan, ctx, layers=None, section_id="embedding"):
    """PCA of layer outputs coloured by the true class (needs labels).

    Args:
        plan: the plan.
        ctx: the report's context.
        layers: the layers (``None``: ``plot_layer_embeddings``' choice).
        section_id: the section's id.

    Returns:
        A function building the section.

    Example:
        >>> import keras, numpy as np
        >>> from deepkit.viz.report.context import Context, Runner
        >>> from deepkit.viz.report.plan import Plan
        >>> m = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax", name="d")])
        >>> x = np.random.default_rng(0).random((6, 4, 4, 1)).astype("float32")
        >>> y = np.array([0, 1, 0, 1, 0, 1])
        >>> ctx = Context(m, x, y, "random", np.arange(2), m.predict(x, verbose=0), None, Runner(),
        ...               featurevis=False)
        >>> plan = Plan()
        >>> build = plan_embedding(plan, ctx, layers=["d"])
        >>> [step.label for step in plan.steps]
        ['d: embedding']
    """
    from deepkit.viz import plot_layer_embeddings

    label = "embeddings (PCA)" if layers is None else f"{layers[0]}: embedding"
    options = {} if layers is None else {"layers": list(layers)}
    fig = plan.figure(label, plot_layer_embeddings, ctx.model, ctx.x, ctx.y, class_names=ctx.class_names,
                      max_samples=1000, seed=ctx.seed, **options)
    if layers is None:
        return lambda: Section(section_id, "Embeddings", "Representations", [fig.figure(
            "PCA of layer outputs, coloured by true class; 5-NN accuracy measures how well each layer "
            "groups the classes.")], grid=False)
    return lambda: Section(section_id, "Embedding", "Embedding", [fig.figure(
        "PCA of the inputs and of this layer's outputs, coloured by true class; the titles give the "
        "leave-one-out 5-NN accuracy in the full space.")])


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
