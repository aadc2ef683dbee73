"""A training callback that records visualizations every N epochs.

Watch a network learn: first-layer filters turning from noise into edge and blob
detectors, Grad-CAM maps moving onto the object, the embedding pulling classes apart.
:class:`VisualizationRecorder` keeps the arrays (and optionally PNG files) and
:meth:`VisualizationRecorder.plot_evolution` lays one visualization out over epochs.
"""

import os

import keras
import numpy as np

from deepkit.viz.plotting import make_grid, new_figure, normalize_image, overlay_heatmap, save_png

__all__ = ["VisualizationRecorder", "BUILTIN_RECORDINGS"]


def _first_spatial(model):
    from deepkit.viz.layers import spatial_layers

    layers = spatial_layers(model)
    return layers[:1] + layers[-1:] if len(layers) > 1 else layers


def _rec_filters(model, x, y, opts):
    from deepkit.viz.weights import filter_images

    return filter_images(model, opts.get("filter_layer"))[0]


def _rec_activations(model, x, y, opts):
    from deepkit.viz.activations import feature_maps

    layers = opts.get("layers") or _first_spatial(model)
    return feature_maps(model, x[:1], layers=layers)


def _rec_attribution(method):
    def fn(model, x, y, opts):
        from deepkit.viz.attribution import registry

        record = registry.get_method(method)
        return record.function(model, x, class_index=y, **record.report_options(x))

    fn.__name__ = f"_rec_{method}"
    return fn


def _attribution_methods():
    from deepkit.viz.attribution import registry

    return registry.list_methods()


def _recording(name):
    """The built-in recording ``name``: one of :data:`BUILTIN_RECORDINGS` or any attribution
    method of the registry (``deepkit.viz.attribution.list_methods()``), or ``None``."""
    if name in BUILTIN_RECORDINGS:
        return BUILTIN_RECORDINGS[name]
    if isinstance(name, str) and name in _attribution_methods():
        return _rec_attribution(name)
    return None


def _rec_embedding(model, x, y, opts):
    from deepkit.viz.embedding import default_embedding_layers, layer_features, embed

    layer = opts.get("embedding_layer") or default_embedding_layers(model)[-1]
    return embed(layer_features(model, x, layer), "pca")


def _rec_confusion(model, x, y, opts):
    from deepkit.viz.curves import confusion_matrix
    from deepkit.viz.boundary import predict_proba

    if y is None:
        raise ValueError("VisualizationRecorder: 'confusion_matrix' needs y=.")
    probs = predict_proba(model, x)
    return confusion_matrix(y, probs, num_classes=probs.shape[1])


BUILTIN_RECORDINGS = {
    "filters": _rec_filters,
    "activations": _rec_activations,
    "saliency": _rec_attribution("saliency"),
    "grad_cam": _rec_attribution("grad_cam"),
    "embedding": _rec_embedding,
    "confusion_matrix": _rec_confusion,
}


class VisualizationRecorder(keras.callbacks.Callback):
    """Record chosen visualizations of the model every ``every`` epochs while it trains.

    Built-in recordings (each an array, or a dict of arrays for ``"activations"``):
    ``"filters"`` (first conv layer, ``(F, kh, kw, C)`` raw weights), ``"activations"``
    (feature maps of the first image at the first and last image-like layers), any
    attribution method of the registry by name (``"saliency"``, ``"grad_cam"``... see
    ``deepkit.viz.attribution.list_methods()``: ``(N, H, W)`` maps for ``x``, for the true
    class when ``y`` is given, else the predicted one), ``"embedding"`` (PCA of the layer
    before the output, ``(N, 2)``), ``"confusion_matrix"`` (on ``x``, ``y``). Any other
    entry can be a callable ``fn(model, x, y) -> array`` given in a dict
    ``{name: fn}``.

    Args:
        x: a few inputs to visualize (e.g. 4 to 16 images; 100+ for embeddings).
        y: their labels (class indices), optional.
        every: record after every ``every``-th epoch.
        record: names of built-ins and/or a dict ``{name: callable}``.
        include_initial: also record before the first epoch (as epoch 0).
        out_dir: if given, every recording is also saved as
            ``out_dir/<name>/epoch_0003.png`` (attribution maps: the first 16
            images).
        layers: layers for ``"activations"`` (default first and last image-like).
        filter_layer: layer for ``"filters"`` (default the first conv layer).
        embedding_layer: layer for ``"embedding"``.

    Attributes:
        epochs: epoch numbers recorded (1-based: after that many epochs).
        records: dict ``{name: [value per recorded epoch]}``.
        saved: list of PNG paths written.

    Example:
        >>> import numpy as np, keras
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2)])
        >>> m.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        >>> x, y = np.random.rand(8, 6, 6, 1).astype("float32"), np.arange(8) % 2
        >>> rec = VisualizationRecorder(x[:2], every=2, record=["filters"])
        >>> _ = m.fit(x, y, epochs=4, verbose=0, callbacks=[rec])
        >>> rec.epochs, rec.records["filters"][0].shape
        ([0, 2, 4], (2, 3, 3, 1))
    """

    def __init__(self, x, y=None, every=1, record=("filters", "grad_cam"), include_initial=True,
                 out_dir=None, layers=None, filter_layer=None, embedding_layer=None):
        super().__init__()
        if not isinstance(every, (int, np.integer)) or isinstance(every, bool) or every < 1:
            raise ValueError(
                f"VisualizationRecorder: every must be a positive integer. Received: every={every!r}"
            )
        self.x = np.asarray(x)
        self.y = None if y is None else np.asarray(y).reshape(-1).astype(np.int64)
        if self.y is not None and len(self.y) != len(self.x):
            raise ValueError(
                f"VisualizationRecorder: {len(self.x)} inputs but {len(self.y)} labels."
            )
        self.every = int(every)
        self.include_initial = include_initial
        self.out_dir = None if out_dir is None else os.fspath(out_dir)
        self.options = {"layers": layers, "filter_layer": filter_layer,
                        "embedding_layer": embedding_layer}
        self.recorders = {}
        items = record.items() if isinstance(record, dict) else [(r, None) for r in (
            [record] if isinstance(record, str) else record)]
        for name, fn in items:
            if fn is None:
                fn = _recording(name)
                if fn is None:
                    raise ValueError(
                        f"VisualizationRecorder: unknown recording {name!r}; built-ins are "
                        f"{sorted(BUILTIN_RECORDINGS)} and the attribution methods "
                        f"{_attribution_methods()}, or pass {{name: callable}}."
                    )
            elif not callable(fn):
                raise ValueError(f"VisualizationRecorder: recording {name!r} is not callable.")
            else:
                fn = _wrap_user(fn)
            self.recorders[name] = fn
        if "confusion_matrix" in self.recorders and self.y is None:
            raise ValueError("VisualizationRecorder: 'confusion_matrix' needs y=.")
        self._maps = {name for name in self.recorders if name in _attribution_methods()}
        self.epochs = []
        self.records = {name: [] for name in self.recorders}
        self.saved = []

    # -- keras hooks
    def on_train_begin(self, logs=None):
        """Record the untrained state as epoch 0 (when ``include_initial``)."""
        if self.include_initial and 0 not in self.epochs:
            self._record(0)

    def on_epoch_end(self, epoch, logs=None):
        """Record after every ``every``-th epoch (``epoch`` is 0-based, as in Keras)."""
        done = epoch + 1
        if done % self.every == 0 and done not in self.epochs:
            self._record(done)

    # -- work
    def _record(self, epoch):
        self.epochs.append(epoch)
        for name, fn in self.recorders.items():
            value = fn(self.model, self.x, self.y, self.options)
            self.records[name].append(value)
            if self.out_dir is not None:
                fig = self._figure(name, value, epoch)
                if fig is not None:
                    path = os.path.join(self.out_dir, name, f"epoch_{epoch:04d}.png")
                    save_png(fig, path)
                    self.saved.append(path)

    def _figure(self, name, value, epoch):
        from deepkit.viz import activations, curves, embedding
        from deepkit.viz.plotting import plot_image_grid

        title = f"{name}, epoch {epoch}"
        if name == "filters":
            return plot_image_grid(value, normalize="each", suptitle=title)
        if name == "activations":
            first = next(iter(value))
            return activations.plot_feature_maps(value[first], title=f"{first}, epoch {epoch}")
        if name in self._maps:  # attribution maps: the first 16 images
            return plot_image_grid(self._overlays(value[:16]), normalize=None, suptitle=title)
        if name == "embedding":
            return embedding.plot_embedding(value, self.y, title=title)
        if name == "confusion_matrix":
            return curves.plot_confusion_matrix(matrix=value, title=title)
        value = np.asarray(value)
        if value.ndim in (3, 4) and value.shape[0] > 0:
            return plot_image_grid(value, suptitle=title)
        return None

    def _overlays(self, maps):
        return np.stack([overlay_heatmap(img, m, alpha=0.5) for img, m in zip(self.x, maps)])

    def plot_evolution(self, name, index=0, path=None):
        """One visualization across the recorded epochs, one column per epoch.

        Args:
            name: a recorded name. For ``"filters"`` the rows are filters (up
                to 16); for attribution maps ``index`` picks the image; for
                ``"embedding"`` one scatter per epoch.
            index: image index for per-image recordings.
            path: if given, save as PNG.

        Returns:
            The matplotlib ``Figure``.

        Raises:
            ValueError: for a name that was not recorded or nothing recorded yet.

        Example:
            >>> rec = VisualizationRecorder(np.zeros((1, 4, 4, 1)), record=["filters"])
            >>> rec.epochs, rec.records["filters"] = [0, 1], [np.zeros((2, 3, 3, 1)), np.ones((2, 3, 3, 1))]
            >>> rec.plot_evolution("filters").deepkit_image.shape
            (54, 54, 1)
        """
        if name not in self.records:
            raise ValueError(
                f"plot_evolution: {name!r} was not recorded; recorded: {sorted(self.records)}"
            )
        values = self.records[name]
        if not values:
            raise ValueError("plot_evolution: nothing recorded yet (train first).")
        n = len(values)
        if name == "embedding":
            from deepkit.viz.embedding import plot_embedding

            fig, axes = new_figure(1, n, figsize=(3.0 * n, 3.0), squeeze=False)
            for ax, v, e in zip(axes[0], values, self.epochs):
                plot_embedding(v, self.y, ax=ax, title=f"epoch {e}")
        else:
            if name == "filters":
                stack = np.stack([normalize_image(v[:16], "minmax", axis=(1, 2, 3))
                                  for v in values], axis=1)  # (F, E, kh, kw, C)
                tiles = stack.reshape(-1, *stack.shape[2:])
                ncols = n
            elif name in self._maps:
                tiles = np.stack([overlay_heatmap(self.x[index], v[index]) for v in values])
                ncols = n
            elif name == "activations":
                first = next(iter(values[0]))
                tiles = np.stack([normalize_image(np.moveaxis(v[first][0], -1, 0)[:8],
                                                  "minmax", axis=(1, 2)) for v in values], axis=1)
                tiles = tiles.reshape(-1, *tiles.shape[2:])
                ncols = n
            else:
                arr = np.stack([np.asarray(v) for v in values])
                if arr.ndim == 3:  # matrices per epoch
                    tiles = normalize_image(arr, "minmax", axis=(1, 2))
                else:
                    tiles = normalize_image(arr[:, index], "minmax", axis=tuple(range(1, arr.ndim - 1)))
                ncols = n
            h, w = tiles.shape[1:3]
            up = max(1, int(np.ceil(24 / max(h, w))))
            tiles = np.repeat(np.repeat(tiles, up, 1), up, 2)
            grid = make_grid(tiles, ncols=ncols, padding=2, pad_value=1.0)
            gh, gw = grid.shape[:2]
            scale = 8.0 / max(gw, gh)
            fig, ax = new_figure(figsize=(max(3.0, gw * scale), max(2.0, gh * scale) + 0.5))
            ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid[..., :3],
                      cmap="gray" if grid.shape[-1] == 1 else None, interpolation="nearest")
            th, tw = tiles.shape[1:3]
            ax.set_xticks([2 + i * (tw + 2) + tw / 2 for i in range(n)],
                          [str(e) for e in self.epochs], fontsize=7)
            ax.set_yticks([])
            ax.set_xlabel("epoch")
            ax.set_title(f"{name} during training", fontsize=9)
            fig.deepkit_image = grid
        if path is not None:
            save_png(fig, path)
        return fig


def _wrap_user(fn):
    def call(model, x, y, opts):
        return fn(model, x, y)

    call.__name__ = getattr(fn, "__name__", "recording")
    return call
