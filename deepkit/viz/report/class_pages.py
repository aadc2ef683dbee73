"""The atlas's class pages: the class-logit visualization, the most confident and the most
confused examples of the class with attribution maps (the report's one way of calling an
attribution method, :func:`~deepkit.viz.report.attributions.attribution_maps`); and which classes
get a page.
"""

import numpy as np

from deepkit.viz.report.attributions import attribution_maps, method_title
from deepkit.viz.report.document import Figure, Gallery, Note, Page, Section
from deepkit.viz.report.figures import attribution_figure, class_label

__all__ = ["select_classes", "class_visualizations", "plan_class_page", "CLASS_ATTRIBUTIONS"]

#: Attribution methods of the class pages (those of the report's ``attributions`` that are here).
CLASS_ATTRIBUTIONS = ("saliency", "integrated_gradients", "grad_cam")


def select_classes(probs, y, max_classes=100):
    """The classes that get a page: all when there are at most ``max_classes``, else the ones
    seen most often in the labels and predictions (at most ``max_classes``, in index order).

    Args:
        probs: class probabilities ``(N, K)`` or ``None`` (no classifier: no pages).
        y: labels or ``None``.
        max_classes: the limit.

    Returns:
        A list of class indices.

    Example:
        >>> p = np.eye(4)[[0, 1, 1, 3]]
        >>> select_classes(p, None), select_classes(p, np.array([0, 1, 1, 2]), max_classes=2)
        ([0, 1, 2, 3], [0, 1])
    """
    if probs is None:
        return []
    k = probs.shape[1]
    if k <= max_classes:
        return list(range(k))
    counts = np.bincount(probs.argmax(1), minlength=k)
    if y is not None:
        counts = counts + np.bincount(np.asarray(y, int), minlength=k)[:k]
    seen = [c for c in np.argsort(-counts, kind="stable")[:max_classes] if counts[c] > 0]
    return sorted(int(c) for c in seen)


def class_visualizations(model, classes, steps, seed, value_range):
    """Inputs that maximise each class's logit, one batch for all classes.

    Args:
        model: the classifier.
        classes: class indices.
        steps: optimization steps.
        seed: random seed.
        value_range: ``(low, high)`` of the model's inputs.

    Returns:
        float32 images ``(len(classes), h, w, c)``, each min-max scaled to ``[0, 1]``.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Flatten(),
        ...                       keras.layers.Dense(3)])
        >>> class_visualizations(m, [0, 2], steps=2, seed=0, value_range=(0, 1)).shape
        (2, 6, 6, 1)
    """
    from deepkit.viz import objectives, render
    from deepkit.viz.report.units import display

    images = render(model, objectives.class_logit([int(c) for c in classes]), steps=steps,
                    seed=seed, value_range=tuple(value_range), progress=False)
    return display(images)


def _examples(probs, y, c, n):
    pred = probs.argmax(1)
    if y is None:
        mine = np.nonzero(pred == c)[0]
        return mine[np.argsort(-probs[mine, c], kind="stable")][:n], np.array([], int)
    right = np.nonzero((y == c) & (pred == c))[0]
    wrong = np.nonzero((y == c) & (pred != c))[0]
    right = right[np.argsort(-probs[right, c], kind="stable")][:n]
    wrong = wrong[np.argsort(-probs[wrong].max(1), kind="stable")][:n]
    return right, wrong


def plan_class_page(plan, ctx, c, vis=None, n=4, cam_layer=None):
    """Plan the page of class ``c``: its class-logit visualization, the most confident and the most
    confused examples with attribution maps.

    Args:
        plan: the :class:`~deepkit.viz.report.plan.Plan`.
        ctx: the report's context (``probs`` must be set).
        c: the class index.
        vis: the step computing every shown class's visualization (:func:`class_visualizations`),
            and the position of ``c`` in it: ``(step, row)``; or ``None``.
        n: examples per kind.
        cam_layer: the Grad-CAM layer (``None``: no Grad-CAM).

    Example:
        >>> import keras
        >>> from deepkit.viz.report.context import Context, Runner
        >>> from deepkit.viz.report.plan import Plan
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c"),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2, name="d")])
        >>> x = np.random.default_rng(0).random((8, 6, 6, 1)).astype("float32")
        >>> ctx = Context(m, x, np.arange(8) % 2, "random", np.arange(2), m.predict(x, verbose=0), None,
        ...               Runner(), featurevis=False, attributions=("saliency",))
        >>> plan = Plan()
        >>> plan_class_page(plan, ctx, 1, n=2)
        >>> [s.id for s in plan.collect(ctx.runner)[0].sections], ctx.runner.errors
        (['confident', 'confused'], [])
    """
    name = class_label(c, ctx.class_names)
    right, wrong = _examples(ctx.probs, ctx.y, c, n)
    kinds = [("confident", "Most confident", right,
              f"The samples of {name} predicted with the highest confidence; attribution for "
              "the predicted class (rows: sample, prediction and confidence)."),
             ("confused", "Most confused", wrong,
              f"Samples of {name} predicted as another class with the highest confidence; "
              "attribution for the (wrong) predicted class.")]
    methods = [m for m in CLASS_ATTRIBUTIONS if m in ctx.attributions and (m != "grad_cam" or cam_layer)]
    maps = {sid: [(m, plan.add(f"class {name}: {sid}: {method_title(m)}", attribution_maps, ctx.model,
                               ctx.x[idx], m, ctx.batch_size, cam_layer)) for m in methods]
            for sid, _, idx, _ in kinds if len(idx)}

    def build():
        sections = []
        if vis is not None:
            step, row = vis
            block = Gallery.of([(step.value[row], f"logit of {name}", None)]) if step.ok else step.value
            sections.append(Section("vis", "Visualization", "Class-logit visualization", [block], grid=False,
                                    detail=f"the input that maximises the {name!r} logit, "
                                           f"{ctx.featurevis_steps} steps"))
        for sid, title, idx, caption in kinds:
            if len(idx) == 0:
                text = (f"No sample of {name} was predicted as another class." if sid == "confused"
                        else f"No sample of {name} in the data was predicted as it.")
                sections.append(Section(sid, title, title, [Note(text)], grid=False))
                continue
            failed = [step.value for _, step in maps[sid] if not step.ok]
            if failed:
                block = failed[0]
            else:
                rows = []
                for i in idx:
                    p = int(ctx.probs[i].argmax())
                    rows.append(f"#{int(i)}: {class_label(p, ctx.class_names)} {ctx.probs[i, p]:.2f}")
                columns = [(m, method_title(m), step.value) for m, step in maps[sid]]
                block = Figure.of(attribution_figure(ctx.x[idx], columns, rows), caption)
            sections.append(Section(sid, title, title, [block]))
        return [Page(ctx.names.page("class", c), f"Class {name}", sections, [("index.html", "Atlas")])]

    plan.pages(build)
