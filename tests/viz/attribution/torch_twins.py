"""The same small ReLU CNN in Keras and in torch with the same weights, for tests against Captum
(helpers only, no tests). Keras is channels last, torch channels first: inputs and maps are
moved between the two layouts with ``np.moveaxis``."""

import keras
import numpy as np


def keras_cnn(seed=0):
    """(8, 8, 2) -> conv4 relu -> maxpool2 -> conv6 -> ReLU() -> GAP -> dense5 relu -> dense3."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((8, 8, 2)),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(2, name="pool"),
        keras.layers.Conv2D(6, 3, padding="same", name="conv2"),
        keras.layers.ReLU(name="relu2"),
        keras.layers.GlobalAveragePooling2D(name="gap"),
        keras.layers.Dense(5, activation="relu", name="fc"),
        keras.layers.Dense(3, name="out"),
    ], name="twin_cnn")


def torch_twin(model):
    """The torch ``nn.Sequential`` computing :func:`keras_cnn`'s logits with its weights (NCHW)."""
    import torch
    from torch import nn

    net = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3),
    ).double()
    pairs = [(net[0], "conv1"), (net[3], "conv2"), (net[7], "fc"), (net[9], "out")]
    with torch.no_grad():
        for module, name in pairs:
            kernel, bias = (np.asarray(v, "float64") for v in model.get_layer(name).weights)
            kernel = kernel.transpose(3, 2, 0, 1) if kernel.ndim == 4 else kernel.T
            module.weight.copy_(torch.from_numpy(kernel))
            module.bias.copy_(torch.from_numpy(bias))
    return net.eval()


def to_torch(x):
    """NHWC numpy -> NCHW float64 torch tensor."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(np.asarray(x, "float64"), -1, 1)))


def to_numpy(t):
    """NCHW torch tensor -> NHWC numpy."""
    return np.moveaxis(t.detach().numpy(), 1, -1)


def keras_relu_cnn(seed=0):
    """:func:`keras_cnn` without its max pooling (a network DeepLIFT's rescale rule covers:
    linear layers and ReLUs only; Captum's DeepLift uses its own rule for max pooling)."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((8, 8, 2)),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1"),
        keras.layers.Conv2D(6, 3, padding="same", name="conv2"),
        keras.layers.ReLU(name="relu2"),
        keras.layers.GlobalAveragePooling2D(name="gap"),
        keras.layers.Dense(5, activation="relu", name="fc"),
        keras.layers.Dense(3, name="out"),
    ], name="twin_relu_cnn")


def torch_relu_twin(model):
    """The torch twin of :func:`keras_relu_cnn` (NCHW, float64)."""
    import torch
    from torch import nn

    net = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(),
        nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3),
    ).double()
    pairs = [(net[0], "conv1"), (net[2], "conv2"), (net[6], "fc"), (net[8], "out")]
    with torch.no_grad():
        for module, name in pairs:
            kernel, bias = (np.asarray(v, "float64") for v in model.get_layer(name).weights)
            kernel = kernel.transpose(3, 2, 0, 1) if kernel.ndim == 4 else kernel.T
            module.weight.copy_(torch.from_numpy(kernel))
            module.bias.copy_(torch.from_numpy(bias))
    return net.eval()


def record_coalitions(explainer):
    """Make Captum's ``Lime`` / ``KernelShap`` ``explainer`` record the coalitions it draws (its
    similarity function sees each one), image by image; returns the list they are appended to."""
    drawn = []
    similarity = explainer.similarity_func

    def record(original, perturbed, coalition, **kwargs):
        drawn.append(coalition.detach().numpy().reshape(-1))
        return similarity(original, perturbed, coalition, **kwargs)

    explainer.similarity_func = record
    return drawn
