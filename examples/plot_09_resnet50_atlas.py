"""
9. An atlas of ResNet-50, from keras.applications
=================================================

OpenAI Microscope shows, for a few ImageNet networks, what every layer and unit responds to. deepkit does
the same offline for any Keras model: ``deepkit report`` (or :func:`deepkit.viz.report.build_report`)
writes a static site with a page per layer (filters, feature maps, top patches with their receptive
fields, Grad-CAM), per unit and per class. This chapter takes the ResNet-50 of ``keras.applications``,
converts it to the zoo's ``resnet50`` (:func:`deepkit.models.convert.from_keras_applications`: same
outputs, to 1e-4) and draws its atlas.

On your machine the network has its ImageNet weights (``keras.applications.ResNet50(weights="imagenet")``
downloads them once into ``~/.keras/models``). The documentation build has no network, so it runs in fast
mode with **random weights**: the pages are the same, the pictures are those of an untrained network.
The images are CIFAR-10 pictures resized to 224x224 (:func:`deepkit.datasets.lecture`: a local copy, a
download, or the offline digits when CIFAR-10 cannot be had; it says which).
"""

# %%
# The network
# -----------
import os
import re
import tempfile

import keras
import matplotlib.pyplot as plt
import numpy as np

import deepkit
from deepkit.models.convert import from_keras_applications
from deepkit.viz.report import build_report

keras.utils.set_random_seed(0)
weights = "imagenet"
# sphinx_gallery_start_ignore
if deepkit.datasets.lectures.fast_mode():  # the documentation build's fast mode
    weights = None  # random weights: nothing to download
# sphinx_gallery_end_ignore
try:
    source = keras.applications.ResNet50(weights=weights)
except Exception as error:  # no network, no cached file
    print(f"ImageNet weights not available ({str(error)[:100]}...); random weights")
    weights, source = None, keras.applications.ResNet50(weights=None)
model = from_keras_applications(source)
print(f"{model.name}: {deepkit.models.count_trainable(model):,} trainable parameters, "
      f"weights: {weights or 'random'}")

# %%
# The images
# ----------
# ResNet-50 expects 224x224 colour images preprocessed as its training data were
# (``keras.applications.resnet50.preprocess_input``: BGR, ImageNet mean subtracted).
# :func:`deepkit.datasets.fit_to_model` resizes (and colours) the raw pictures for it.

count = 32
# sphinx_gallery_start_ignore
if deepkit.datasets.lectures.fast_mode():  # the documentation build's fast mode
    count = 6
# sphinx_gallery_end_ignore
data = deepkit.datasets.lecture("cifar10", max_train=0, max_test=count)
pictures, what = (data.x_test * 255).round().astype("uint8"), "digits" if data.is_fallback else "CIFAR-10"
raw, notes = deepkit.datasets.fit_to_model(pictures, (224, 224, 3))
print(f"{count} {what} images: {', '.join(notes)}")
x = keras.applications.resnet50.preprocess_input(raw.astype("float32"))

# %%
# The atlas
# ---------
# Three layers are enough to see the arc: the first convolution (``conv1``, 7x7 filters on pixels), a
# middle block and the last one. With ImageNet weights the class pages show the classes ResNet-50 sees
# in these pictures; feature visualizations are on when not in fast mode.

out = os.path.join(tempfile.gettempdir(), "deepkit-resnet50-atlas")
index = build_report(model, x, out, layers=["conv1", "layer3_block5_conv3", "layer4_block2_conv3"],
                     max_units=8, unit_pages=1, max_classes=3, num_samples=min(count, 4),
                     featurevis=weights is not None, featurevis_steps=64, attributions=["grad_cam"],
                     embedding=False, progress=False)
pages = sorted(f for f in os.listdir(out) if f.endswith(".html"))
size = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(out) for f in files)
print(f"{index}: {len(pages)} pages, {size / 1e6:.1f} MB")
print(", ".join(pages))

# %%
# What the pages show
# -------------------
# Each layer page is a column of figures. Here are the first two of ``conv1``'s page: its 64 filters
# (random in fast mode: noise; with ImageNet weights, Gabor-like edges and colour blobs) and its feature
# maps for the first picture. Open ``index.html`` in a browser for the rest: the site needs no
# JavaScript and no network.

page = open(os.path.join(out, "layer-conv1.html"), encoding="utf-8").read()
images = re.findall(r'<img[^>]*src="(img/[^"]+\.png)"', page)[:2]
fig, axes = plt.subplots(1, len(images), figsize=(6 * len(images), 5))
for ax, name in zip(np.atleast_1d(axes), images):
    ax.imshow(plt.imread(os.path.join(out, name)))
    ax.set_axis_off()
    ax.set_title(name, fontsize=8)
fig.tight_layout()
