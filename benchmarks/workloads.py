"""The benchmark workloads: the same network in Keras and in PyTorch, and data of the real shapes.

Workloads (name: network, data, optimizer, batch size, precision on an accelerator):

* ``mnist_convnet``: the lecture's MNIST convnet, conv32-5 / maxpool3 / conv64-5 / maxpool2 /
  fc200 / fc10 (ReLU, "valid" convolutions: 28 -> 24 -> 8 -> 4 -> 2, 2*2*64 = 256 features),
  plain SGD (lr 0.05), batch 100, float32.
* ``lenet5``: LeNet-5 in its common modern form (6 conv5 "same" / maxpool2 / 16 conv5 / maxpool2 /
  fc120 / fc84 / fc10, ReLU), Adam 1e-3, batch 128, float32.
* ``resnet20``: the CIFAR ResNet-20 of He et al. (2016): 3 stages of 3 basic blocks, 16/32/64
  channels, 1x1 projection shortcuts where the shape changes (option B), global average pooling,
  fc10; SGD momentum 0.9 nesterov, batch 512, bfloat16 mixed precision on an accelerator.

All models output logits and use cross-entropy from logits, in Keras and PyTorch alike.
"""

import os
import sys

import numpy as np

WORKLOADS = {
    "mnist_convnet": dict(shape=(28, 28, 1), classes=10, n=60000, batch=100, epochs=10, bf16=False),
    "lenet5": dict(shape=(28, 28, 1), classes=10, n=60000, batch=128, epochs=10, bf16=False),
    "resnet20": dict(shape=(32, 32, 3), classes=10, n=50000, batch=512, epochs=10, bf16=True),
}


# ------------------------------------------------------------------------------------- data
def synthetic(name, n=None, seed=0):
    """Random uint8 images and labels of the workload's real shapes.

    Args:
        name: workload name.
        n: number of samples (default: the real training-set size).
        seed: numpy seed.

    Returns:
        ``(x uint8 (n, H, W, C), y int32 (n,))``.
    """
    w = WORKLOADS[name]
    n = n or w["n"]
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n,) + w["shape"], dtype=np.uint8)
    y = rng.integers(0, w["classes"], n).astype("int32")
    return x, y


def real(name, data_dir, n=None, seed=1234):
    """The real training images from ``data_dir`` (``../shared/data``: ``load.py`` there).

    The images come in a fixed random order (``seed``): the CIFAR-10 file is sorted by class,
    so without it a prefix or a held-out tail would hold one class only.

    Args:
        name: workload name (MNIST for the convnets, CIFAR-10 for resnet20).
        data_dir: folder holding ``load.py`` and the ``.npz`` files.
        n: keep ``n`` samples (default: all).
        seed: seed of the fixed order.

    Returns:
        ``(x uint8 (n, H, W, C), y int32 (n,))``.
    """
    sys.path.insert(0, os.path.abspath(data_dir))
    try:
        from load import cifar10_train, mnist_train  # noqa: PLC0415 - lives in data_dir
    finally:
        sys.path.pop(0)
    if name == "resnet20":
        x, y = cifar10_train()
    else:
        x, y = mnist_train()
        x = x[..., None]
    order = np.random.default_rng(seed).permutation(len(x))[: n or len(x)]
    return np.ascontiguousarray(x[order]), np.asarray(y).reshape(-1)[order].astype("int32")


# ------------------------------------------------------------------------------------ keras
def keras_model(name, bf16=False):
    """Build the workload's Keras model (functional), uncompiled.

    Args:
        name: workload name.
        bf16: build it under the ``mixed_bfloat16`` policy (last Dense kept float32).

    Returns:
        a ``keras.Model`` taking uint8 images (it rescales them by 1/255 itself).
    """
    import keras
    from keras import layers

    w = WORKLOADS[name]
    policy = "mixed_bfloat16" if bf16 else "float32"
    old = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        inp = keras.Input(w["shape"], dtype="uint8")
        h = layers.Rescaling(1.0 / 255)(inp)
        if name == "mnist_convnet":
            h = layers.Conv2D(32, 5, activation="relu")(h)
            h = layers.MaxPooling2D(3)(h)
            h = layers.Conv2D(64, 5, activation="relu")(h)
            h = layers.MaxPooling2D(2)(h)
            h = layers.Flatten()(h)
            h = layers.Dense(200, activation="relu")(h)
        elif name == "lenet5":
            h = layers.Conv2D(6, 5, padding="same", activation="relu")(h)
            h = layers.MaxPooling2D(2)(h)
            h = layers.Conv2D(16, 5, activation="relu")(h)
            h = layers.MaxPooling2D(2)(h)
            h = layers.Flatten()(h)
            h = layers.Dense(120, activation="relu")(h)
            h = layers.Dense(84, activation="relu")(h)
        elif name == "resnet20":
            h = _keras_resnet20_body(h)
        else:
            raise ValueError(f"unknown workload {name!r}; known: {sorted(WORKLOADS)}")
        out = layers.Dense(w["classes"], dtype="float32")(h)
    finally:
        keras.config.set_dtype_policy(old)
    return keras.Model(inp, out, name=name)


def _keras_resnet20_body(h):
    from keras import layers

    def bn(t):
        return layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(t)

    h = layers.Conv2D(16, 3, padding="same", use_bias=False)(h)
    h = layers.ReLU()(bn(h))
    for stage, filters in enumerate((16, 32, 64)):
        for block in range(3):
            stride = 2 if stage > 0 and block == 0 else 1
            r = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(h)
            r = layers.ReLU()(bn(r))
            r = layers.Conv2D(filters, 3, padding="same", use_bias=False)(r)
            r = bn(r)
            if stride != 1 or h.shape[-1] != filters:
                h = bn(layers.Conv2D(filters, 1, strides=stride, use_bias=False)(h))
            h = layers.ReLU()(layers.Add()([h, r]))
    return layers.GlobalAveragePooling2D()(h)


def keras_optimizer(name, steps_per_epoch=None, epochs=None, lr=None):
    """The workload's optimizer (a fresh instance)."""
    import keras

    if name == "mnist_convnet":
        return keras.optimizers.SGD(lr or 0.05)
    if name == "lenet5":
        return keras.optimizers.Adam(lr or 1e-3)
    return keras.optimizers.SGD(lr or 0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)


# ------------------------------------------------------------------------------------ torch
def torch_model(name):
    """The same network in PyTorch (NCHW), taking float images in [0, 1].

    Args:
        name: workload name.

    Returns:
        ``torch.nn.Module``.
    """
    import torch
    from torch import nn

    if name == "mnist_convnet":
        return nn.Sequential(
            nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(3),
            nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(256, 200), nn.ReLU(), nn.Linear(200, 10),
        )
    if name == "lenet5":
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10),
        )
    if name != "resnet20":
        raise ValueError(f"unknown workload {name!r}; known: {sorted(WORKLOADS)}")

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.b1 = nn.BatchNorm2d(cout, momentum=0.1, eps=1e-5)
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.b2 = nn.BatchNorm2d(cout, momentum=0.1, eps=1e-5)
            self.short = None
            if stride != 1 or cin != cout:
                self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                           nn.BatchNorm2d(cout, momentum=0.1, eps=1e-5))

        def forward(self, x):
            r = torch.relu(self.b1(self.c1(x)))
            r = self.b2(self.c2(r))
            return torch.relu((x if self.short is None else self.short(x)) + r)

    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for stage, cout in enumerate((16, 32, 64)):
        for block in range(3):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(Block(cin, cout, stride))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def torch_optimizer(name, params, lr=None):
    """The workload's optimizer in PyTorch (same hyper-parameters as Keras)."""
    import torch

    if name == "mnist_convnet":
        return torch.optim.SGD(params, lr=lr or 0.05)
    if name == "lenet5":
        return torch.optim.Adam(params, lr=lr or 1e-3)
    return torch.optim.SGD(params, lr=lr or 0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
