"""
10. What AlexNet learned
========================

Zeiler & Fergus ("Visualizing and understanding convolutional networks", 2014) opened up the network of
Krizhevsky, Sutskever & Hinton: the first layer's filters are oriented edges and colour blobs, deeper units
respond to textures, parts and objects, shown by the image patches that excite them most. This chapter
does the same with the zoo's ``alexnet`` (torchvision's single-tower reading): its first-layer filters,
the top patches of a few ``conv5`` units, and Grad-CAM on a few pictures.

On your machine the network gets torchvision's ImageNet weights with one changed line,
``WEIGHTS = "imagenet"`` (the checkpoint is downloaded once into ``~/.keras/models`` and hash-checked;
reading the ``.pth`` needs PyTorch, or pass a ``.safetensors`` copy as ``WEIGHTS``). The documentation build
has no network, so it runs with **random weights**: the pictures below are those of an untrained AlexNet
(noise filters, arbitrary patches), not what the paper shows.
"""

# %%
# The network
# -----------
# ``preprocessing=`` puts torchvision's ImageNet scaling and mean/std inside the model, as
# ``weights="imagenet"`` does: it takes raw 0-255 RGB pictures.
import os

import keras
import matplotlib.pyplot as plt
import numpy as np

import deepkit
from deepkit import models
from deepkit.models.imagenet import IMAGENET_MEAN, IMAGENET_STD
from deepkit.viz.activations import plot_top_patches, top_k_patches
from deepkit.viz.attribution.cam import grad_cam
from deepkit.viz.weights import plot_filters

FAST = os.environ.get("DEEPKIT_EXAMPLES_FAST", "0") not in ("", "0")
WEIGHTS = None  # the one line to change: "imagenet" (or the path of a .safetensors / .pth file)
keras.utils.set_random_seed(0)

if WEIGHTS is None:
    model = models.alexnet(preprocessing={"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)})
else:
    model = models.alexnet(weights=WEIGHTS)
print(f"{model.name}: {models.count_trainable(model):,} trainable parameters, weights: {WEIGHTS or 'random'}")

# %%
# The pictures
# ------------
# CIFAR-10 test pictures resized to 224x224 (in fast mode only from a local copy through
# ``DEEPKIT_DATA_DIR``), or the offline digits when there is none; your own photos come from a folder with
# ``deepkit.datasets.folder.read_image_folder("my_photos/")`` (resized to 256, centre 224x224 cropped).
count = 8 if FAST else 64
try:
    if FAST and deepkit.datasets.local_copy("cifar10") is None:  # fast mode downloads nothing
        raise deepkit.datasets.DatasetUnavailableError("no local copy (DEEPKIT_DATA_DIR)")
    pictures = deepkit.datasets.resolve("cifar10", purpose="evaluate").x_test[:count]
except (deepkit.datasets.DatasetUnavailableError, deepkit.DataError):
    (_, _), (digits, _) = deepkit.datasets.digits()
    pictures = (digits[:count] * 255).astype("uint8")
x, notes = deepkit.datasets.fit_to_model(pictures, (224, 224, 3))
x = x.astype("float32")
print(f"{len(x)} pictures: {', '.join(notes)}")

# %%
# The first layer's filters
# -------------------------
# 64 filters of 11x11x3, each scaled to its own range (Krizhevsky et al. figure 3). Trained, they are
# oriented edges at several frequencies and colour blobs; random, they are noise.
plot_filters(model, "conv1", max_filters=64)

# %%
# What excites conv5
# ------------------
# For eight ``conv5`` units, the pictures whose strongest response is largest, cropped to the unit's
# receptive field (Zeiler & Fergus figure 2).
top = top_k_patches(model, "conv5", x, k=4, channels=list(range(8)))
plot_top_patches(top, max_channels=8)

# %%
# Where the network looks
# -----------------------
# Grad-CAM (Selvaraju et al. 2017) on ``conv5`` for the predicted class of four pictures; with ImageNet
# weights ``models.decode_predictions`` names it.
maps = grad_cam(model, x[:4], layer="conv5")
names = models.decode_predictions(np.asarray(model.predict(x[:4], verbose=0)), top=1)
fig, axes = plt.subplots(1, 4, figsize=(12, 3.4))
for ax, image, cam, row in zip(axes, x[:4], maps, names):
    ax.imshow(image.astype("uint8"))
    ax.imshow(cam, cmap="jet", alpha=0.45)
    ax.set_title(f"{row[0][1]} ({row[0][2]:.2f})", fontsize=8)
    ax.set_axis_off()
fig.suptitle("Grad-CAM on conv5" + ("" if WEIGHTS else " (random weights)"))
fig.tight_layout()
