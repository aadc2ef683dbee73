"""See what a network has learned, on every Keras backend.

Weights (:mod:`.weights`), activations, receptive fields and top-k patches
(:mod:`.activations`), feature visualization (:mod:`.featurevis`), attribution maps
(:mod:`.attribution`), DeepDream (:mod:`.dream`), adversarial and fooling images
(:mod:`.adversarial`), PCA / t-SNE embeddings (:mod:`.embedding`), decision boundaries
(:mod:`.boundary`), training curves and confusion matrices (:mod:`.curves`), a recording
callback (:mod:`.callback`) and a self-contained HTML report (:mod:`.report`). Layer lookup
and sub-models reaching into nested models live in :mod:`.graph` (the one module that walks
a model's graph; :mod:`.layers` is its public face); the batched, compiled calls of every
attribution and adversarial method in the model-bound :mod:`.engine`; image grids, overlays
and PNG output in :mod:`.plotting`.

Every function returns numpy arrays or a matplotlib ``Figure`` (built without ``pyplot``),
and the ``plot_*`` functions take ``path=`` to save a PNG. Submodules and their public
functions load on first use, so ``import deepkit.viz`` is light.

Example:
    >>> import numpy as np, keras
    >>> from deepkit import viz
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="c"),
    ...                           keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
    >>> viz.grad_cam(model, np.random.rand(2, 8, 8, 1)).shape
    (2, 8, 8)
    >>> viz.receptive_field(model, "c").size
    (3, 3)
"""

import importlib

_SUBMODULES = (
    "activation_space", "activations", "adversarial", "attribution", "boundary", "callback", "curves", "dream",
    "embedding", "engine", "featurevis", "graph", "layers", "plotting", "projections", "receptive", "report",
    "weights",
)

# public name -> submodule that defines it
_EXPORTS = {
    # layers
    "resolve_layer": "layers", "layer_path": "layers", "list_layers": "layers",
    "feature_model": "layers", "last_conv_layer": "layers", "spatial_layers": "layers",
    # weights
    "kernels": "weights", "filter_images": "weights", "plot_filters": "weights",
    "conv_layers": "weights",
    # activations
    "feature_maps": "activations", "plot_feature_maps": "activations",
    "ReceptiveField": "activations", "receptive_field": "activations",
    "TopPatches": "activations", "top_k_patches": "activations",
    "plot_top_patches": "activations",
    "deconvnet_projections": "projections", "top_k_projections": "projections",
    "plot_projections": "projections",
    # activation atlas
    "activation_atlas": "activation_space", "plot_activation_atlas": "activation_space",
    "ActivationAtlas": "activation_space", "spatial_activations": "activation_space",
    # attribution (every registered method is exported too: see __getattr__)
    "noise_tunnel": "attribution",
    "deletion_insertion": "attribution", "pointing_game": "attribution",
    "randomized_model": "attribution",
    # feature visualization, dream, adversarial
    "render": "featurevis", "objectives": "featurevis", "deep_dream": "dream",
    "fgsm": "adversarial", "iterative_fgsm": "adversarial", "fooling_images": "adversarial",
    # representations
    "layer_features": "embedding", "embed": "embedding", "layer_embedding": "embedding",
    "knn_accuracy": "embedding", "plot_embedding": "embedding",
    "plot_layer_embeddings": "embedding",
    "decision_grid": "boundary", "plot_decision_boundary": "boundary",
    "compare_boundaries": "boundary", "logistic_regression": "boundary", "mlp": "boundary",
    # curves
    "history_dict": "curves", "plot_history": "curves", "confusion_matrix": "curves",
    "plot_confusion_matrix": "curves",
    # callback and report
    "VisualizationRecorder": "callback", "build_report": "report",
    # plotting helpers
    "make_grid": "plotting", "normalize_image": "plotting", "overlay_heatmap": "plotting",
    "plot_image_grid": "plotting", "save_png": "plotting", "png_data_uri": "plotting",
}


def _attribution_methods():
    from deepkit.viz.attribution import registry

    return registry.list_methods()


def __getattr__(name):
    if name == "__all__":  # the attribution methods are the registry's: listed on demand
        return sorted(set(_EXPORTS) | set(_attribution_methods()))
    if name in _SUBMODULES:
        module = importlib.import_module(f"deepkit.viz.{name}")
        globals()[name] = module
        return module
    if name in _EXPORTS:
        module = importlib.import_module(f"deepkit.viz.{_EXPORTS[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    if not name.startswith("_") and name in _attribution_methods():
        from deepkit.viz.attribution import registry

        return registry.get_method(name).function
    raise AttributeError(f"module 'deepkit.viz' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBMODULES) | set(_attribution_methods()))
