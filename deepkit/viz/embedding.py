"""Representations: PCA / t-SNE maps of any layer's outputs, coloured by class.

The classic picture of "what the network has learned": inputs that look different but
share a class end up close together in the deeper layers. :func:`knn_accuracy` puts a
number on it (leave-one-out k-nearest-neighbour accuracy in a feature space).
"""

import numpy as np

from deepkit.viz.plotting import new_figure, save_png

__all__ = [
    "layer_features",
    "embed",
    "layer_embedding",
    "knn_accuracy",
    "plot_embedding",
    "plot_layer_embeddings",
    "default_embedding_layers",
]


def _flatten(feats, pool, where):
    if feats.ndim <= 2:
        return feats.reshape(feats.shape[0], -1)
    if pool == "auto":
        pool = "flatten" if int(np.prod(feats.shape[1:])) <= 4096 else "avg"
    if pool == "flatten":
        return feats.reshape(feats.shape[0], -1)
    axes = tuple(range(1, feats.ndim - 1))
    if pool == "avg":
        return feats.mean(axis=axes)
    if pool == "max":
        return feats.max(axis=axes)
    raise ValueError(
        f"{where}: pool must be 'auto', 'flatten', 'avg' or 'max'. Received: pool={pool!r}"
    )


def layer_features(model, x, layer, pool="auto", batch_size=256):
    """One feature vector per input: a layer's output, flattened or pooled.

    Args:
        model: a functional or Sequential ``keras.Model``.
        x: inputs ``(N, ...)``.
        layer: layer name, ``/`` path, index or object; ``"input"`` gives the
            raw inputs (the baseline every layer should beat).
        pool: for image-like outputs ``(N, h, w, c)``: ``"flatten"``,
            ``"avg"`` / ``"max"`` (global pooling over positions, ``(N, c)``)
            or ``"auto"`` (flatten up to 4,096 values, else average).
        batch_size: inputs per forward pass.

    Returns:
        A float32 array ``(N, D)``.

    Example:
        >>> import numpy as np, keras
        >>> m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(4, 3, name="c")])
        >>> layer_features(m, np.zeros((3, 6, 6, 1), "float32"), "c", pool="avg").shape
        (3, 4)
    """
    from deepkit.viz.activations import feature_maps

    x = np.asarray(x)
    if isinstance(layer, str) and layer == "input":
        feats = x
    else:
        feats = next(iter(feature_maps(model, x, layers=[layer], batch_size=batch_size).values()))
    return _flatten(np.asarray(feats, np.float32), pool, "layer_features")


def embed(features, method="pca", n_components=2, seed=0, perplexity=30.0):
    """Project feature vectors to 2 (or 3) dimensions.

    Args:
        features: ``(N, D)`` array.
        method: ``"pca"`` (linear; scikit-learn ``PCA``) or ``"tsne"``
            (scikit-learn ``TSNE`` with PCA initialisation; features with
            more than 50 dimensions are first reduced to 50 by PCA, the usual
            practice).
        n_components: output dimensions.
        seed: random state (t-SNE).
        perplexity: t-SNE perplexity (capped at ``(N - 1) / 3``).

    Returns:
        A float32 array ``(N, n_components)``.

    Raises:
        ValueError: for an unknown method or too few samples.

    Example:
        >>> pts = embed(np.random.default_rng(0).normal(size=(20, 5)), "pca")
        >>> pts.shape
        (20, 2)
    """
    from sklearn.decomposition import PCA

    feats = np.asarray(features, np.float64)
    if feats.ndim != 2:
        raise ValueError(f"embed: features must be (N, D). Received: shape={feats.shape}")
    n = feats.shape[0]
    if n < max(3, n_components + 1):
        raise ValueError(f"embed: need at least {max(3, n_components + 1)} samples. Received: N={n}")
    if method == "pca":
        k = min(n_components, feats.shape[1], n)
        out = PCA(n_components=k, random_state=seed).fit_transform(feats)
        if k < n_components:
            out = np.pad(out, ((0, 0), (0, n_components - k)))
        return out.astype(np.float32)
    if method == "tsne":
        from sklearn.manifold import TSNE

        if feats.shape[1] > 50 and n > 50:
            feats = PCA(n_components=50, random_state=seed).fit_transform(feats)
        perp = float(min(perplexity, max(1.0, (n - 1) / 3.0)))
        tsne = TSNE(n_components=n_components, perplexity=perp, init="pca", random_state=seed)
        if n > 2000:
            return tsne.fit_transform(feats).astype(np.float32)
        # Small problems gain nothing from OpenMP threads, and with TensorFlow's own thread pools
        # in the process they oversubscribe the CPU badly (measured: 150 points 18 s -> 1.6 s).
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="openmp"):
            return tsne.fit_transform(feats).astype(np.float32)
    raise ValueError(f"embed: method must be 'pca' or 'tsne'. Received: method={method!r}")


def layer_embedding(model, x, layer, method="pca", pool="auto", seed=0, batch_size=256):
    """PCA / t-SNE coordinates of a layer's outputs for inputs ``x``.

    Args:
        model: a ``keras.Model``.
        x: inputs ``(N, ...)``.
        layer: as :func:`layer_features` (``"input"`` for raw inputs).
        method: ``"pca"`` or ``"tsne"``.
        pool: as :func:`layer_features`.
        seed: random state.
        batch_size: inputs per forward pass.

    Returns:
        A float32 array ``(N, 2)``.

    Example:
        >>> import numpy as np, keras
        >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="h")])
        >>> layer_embedding(m, np.random.rand(10, 4).astype("float32"), "h").shape
        (10, 2)
    """
    feats = layer_features(model, x, layer, pool=pool, batch_size=batch_size)
    return embed(feats, method=method, seed=seed)


def knn_accuracy(features, labels, k=5):
    """Leave-one-out k-nearest-neighbour accuracy: how well a feature space groups classes.

    Args:
        features: ``(N, D)`` array.
        labels: ``(N,)`` class indices.
        k: neighbours (majority vote, ties to the nearest).

    Returns:
        A float in ``[0, 1]``.

    Example:
        >>> f = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
        >>> knn_accuracy(f, [0, 0, 0, 1, 1, 1], k=2)
        1.0
    """
    from sklearn.neighbors import NearestNeighbors

    feats = np.asarray(features, np.float64).reshape(len(features), -1)
    labels = np.asarray(labels).reshape(-1)
    if feats.shape[0] != labels.shape[0]:
        raise ValueError(
            f"knn_accuracy: {feats.shape[0]} feature rows but {labels.shape[0]} labels."
        )
    k = int(min(k, feats.shape[0] - 1))
    nn = NearestNeighbors(n_neighbors=k + 1).fit(feats)
    _, idx = nn.kneighbors(feats)
    neigh = labels[idx[:, 1:]]  # drop the point itself
    correct = 0
    for row, lab in zip(neigh, labels):
        values, counts = np.unique(row, return_counts=True)
        best = values[counts == counts.max()]
        pred = best[0] if len(best) == 1 else next(v for v in row if v in best)
        correct += pred == lab
    return float(correct / len(labels))


def plot_embedding(coords, labels=None, class_names=None, title=None, ax=None, path=None,
                   point_size=8, legend=True):
    """Scatter plot of 2-D embedding coordinates coloured by class.

    Args:
        coords: ``(N, 2)`` array.
        labels: ``(N,)`` class indices (one colour per class, legend).
        class_names: names for the legend.
        title: axes title.
        ax: draw into this matplotlib axes (else a new figure).
        path: if given, save the figure as PNG.
        point_size: marker size.
        legend: draw the class legend (right of the axes).

    Returns:
        The matplotlib ``Figure``.

    Example:
        >>> fig = plot_embedding(np.random.rand(30, 2), np.arange(30) % 3)
        >>> len(fig.axes[0].collections)
        3
    """
    coords = np.asarray(coords)
    if coords.ndim != 2 or coords.shape[1] < 2:
        raise ValueError(f"plot_embedding: coords must be (N, 2). Received: shape={coords.shape}")
    if ax is None:
        fig, ax = new_figure(figsize=(4.2, 3.8))
    else:
        fig = ax.figure
    if labels is None:
        ax.scatter(coords[:, 0], coords[:, 1], s=point_size, alpha=0.8)
    else:
        labels = np.asarray(labels).reshape(-1)
        if labels.shape[0] != coords.shape[0]:
            raise ValueError(
                f"plot_embedding: {coords.shape[0]} points but {labels.shape[0]} labels."
            )
        classes = np.unique(labels)
        import matplotlib

        cmap = matplotlib.colormaps["tab10" if len(classes) <= 10 else "tab20"]
        for i, c in enumerate(classes):
            sel = labels == c
            name = class_names[int(c)] if class_names is not None else str(c)
            ax.scatter(coords[sel, 0], coords[sel, 1], s=point_size, alpha=0.8,
                       color=cmap(i % cmap.N), label=name)
        if len(classes) <= 20 and legend:
            ax.legend(fontsize=6, markerscale=1.5, loc="center left", bbox_to_anchor=(1.0, 0.5),
                      ncol=2 if len(classes) > 10 else 1, frameon=False, title="class",
                      title_fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    if path is not None:
        save_png(fig, path)
    return fig


def plot_layer_embeddings(model, x, y, layers=None, method="pca", class_names=None, pool="auto",
                          max_samples=1000, seed=0, path=None):
    """Side-by-side embeddings of the raw inputs and several layers, coloured by class.

    Each panel's title gives the leave-one-out 5-NN accuracy in that layer's
    full feature space: it should rise with depth in a trained network.

    Args:
        model: a ``keras.Model``.
        x: inputs ``(N, ...)``.
        y: class indices ``(N,)`` (or one-hot).
        layers: layer references (the raw input is always the first panel);
            default :func:`default_embedding_layers`.
        method: ``"pca"`` or ``"tsne"``.
        class_names: legend names.
        pool: as :func:`layer_features`.
        max_samples: use at most this many inputs (the first ones).
        seed: random state.
        path: if given, save as PNG.

    Returns:
        The matplotlib ``Figure``; ``fig.deepkit_scores`` maps each panel's
        layer to its 5-NN accuracy.

    Example:
        >>> import numpy as np, keras
        >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="h"),
        ...                       keras.layers.Dense(2, name="out")])
        >>> fig = plot_layer_embeddings(m, np.random.rand(20, 4), np.arange(20) % 2, layers=["h"])
        >>> sorted(fig.deepkit_scores)
        ['h', 'input']
    """
    x = np.asarray(x)[:max_samples]
    y = np.asarray(y)
    if y.ndim == 2:
        y = y.argmax(axis=1)
    y = y[:max_samples]
    if layers is None:
        layers = default_embedding_layers(model)
    else:
        layers = ["input"] + [l for l in ([layers] if isinstance(layers, (str, int)) else layers)
                              if l != "input"]
    n = len(layers)
    fig, axes = new_figure(1, n, figsize=(3.1 * n + 0.8, 3.3), squeeze=False)
    scores = {}
    for i, (ax, layer) in enumerate(zip(axes[0], layers)):
        feats = layer_features(model, x, layer, pool=pool)
        name = layer if isinstance(layer, str) else _layer_name(model, layer)
        scores[name] = knn_accuracy(feats, y)
        coords = embed(feats, method=method, seed=seed)
        plot_embedding(coords, y, class_names=class_names, ax=ax, legend=i == n - 1,
                       title=f"{name} ({feats.shape[1]}-d)\n5-NN acc {scores[name]:.2f}")
    fig.suptitle(f"{method.upper()} of layer outputs", fontsize=10)
    fig.deepkit_scores = scores
    if path is not None:
        save_png(fig, path)
    return fig


def _layer_name(model, layer):
    from deepkit.viz.layers import layer_path

    return layer_path(model, layer)


def default_embedding_layers(model):
    """``["input", ...]``: up to two late image-like layers and the layer feeding the output.

    Args:
        model: a ``keras.Model``.

    Returns:
        A list of layer paths beginning with ``"input"``.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="h"),
        ...                       keras.layers.Dense(2, name="out")])
        >>> default_embedding_layers(m)
        ['input', 'h']
    """
    import keras

    from deepkit.viz.layers import list_layers, spatial_layers

    chosen = spatial_layers(model)[-2:]
    leaves = [(p, l) for p, l in list_layers(model)
              if not isinstance(l, keras.layers.InputLayer) and not hasattr(l, "layers")]
    if len(leaves) >= 2:
        penultimate = leaves[-2][0]
        if penultimate not in chosen:
            chosen.append(penultimate)
    return ["input"] + chosen
