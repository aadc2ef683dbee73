"""
5. What is really happening: filters, activations, patches, feature visualization
=================================================================================

A trained network is a few hundred thousand numbers. Zeiler and Fergus (2014) showed how to look at
them: draw the first layer's filters, which are small images; run an image through the network and
draw what each channel computes; search a data set for the image patches that excite a channel most;
and, after Erhan et al. (2009) and Olah et al. (2017), *optimize* an input image until it excites a
channel, which shows what the channel responds to without any data set. This chapter does all four
with :mod:`deepkit.viz` on a small convolutional network trained on MNIST (the offline 8x8 digits when
MNIST cannot be had), and ends with the representation view of chapter 1: how the classes separate,
layer after layer.
"""

# %%
# A network to look at
# --------------------
import keras

import deepkit
from deepkit import viz
from deepkit.viz.featurevis import objectives

keras.utils.set_random_seed(0)
data = deepkit.datasets.lecture("mnist", max_train=20000, max_test=2000)
(x_train, y_train), (x_test, y_test) = data.train, data.test
model = deepkit.from_spec("""
name: digits_cnn
input_shape: [28, 28, 1]
layers:
  - Conv2D: {filters: 16, kernel_size: 5, activation: relu, name: conv1}
  - MaxPooling2D: {name: pool1}
  - Conv2D: {filters: 32, kernel_size: 3, activation: relu, name: conv2}
  - MaxPooling2D: {name: pool2}
  - Conv2D: {filters: 64, kernel_size: 3, activation: relu, name: conv3}
  - GlobalAveragePooling2D: {name: gap}
  - Dense: {units: 10, activation: softmax, name: classifier}
""")
model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
epochs = 40
# sphinx_gallery_start_ignore
if deepkit.datasets.lectures.fast_mode():  # the documentation build's fast mode
    epochs = 8
# sphinx_gallery_end_ignore
model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=0, fast=True, seed=0)
print(f"test accuracy {model.evaluate(x_test, y_test, verbose=0)[1]:.3f}")

# %%
# Filters
# -------
# The first layer's weights apply directly to pixels, so each 5x5 kernel can be drawn as an image
# (:func:`deepkit.viz.plot_filters`). Trained on strokes, they become stroke detectors: oriented edges
# and bars at several angles.

fig = viz.plot_filters(model, "conv1")

# %%
# Deeper kernels mix channels of the layer below; drawn channel by channel they are hard to read. The
# next three views show what deeper units *do* instead.
#
# Activations
# -----------
# :func:`deepkit.viz.feature_maps` runs images through the network and returns chosen layers' outputs.
# Each map is one channel's response at every position: where its pattern appears in the image.

image = x_test[:1]
maps = viz.feature_maps(model, image, layers=["conv1", "conv2", "conv3"])
for name, value in maps.items():
    print(f"{name}: output {value.shape[1:]}, receptive field {viz.receptive_field(model, name).size}")
fig = viz.plot_feature_maps(maps["conv1"], title=f"conv1 on a {y_test[0]}")

# %%
fig = viz.plot_feature_maps(maps["conv2"], title="conv2 (first 32 channels)")

# %%
# Each layer sees more of the image than the one below (the *receptive field* printed above: 5, 10 and
# 20 pixels square) at a coarser resolution: conv3's 3x3 maps are a coarse layout of parts.
#
# Top patches
# -----------
# What does one channel of conv2 respond to? Zeiler and Fergus ran the whole data set through the
# network and kept, for each channel, the image patches (the receptive field around the strongest
# position) of its strongest activations. :func:`deepkit.viz.top_k_patches` does this in batches;
# each row below is one channel, strongest first.

top = viz.top_k_patches(model, "conv2", x_test, k=8)
fig = viz.plot_top_patches(top, max_channels=12, title="conv2: top-8 patches per channel")

# %%
# Feature visualization
# ---------------------
# Instead of searching a data set, optimize an image: start from noise and follow the gradient of one
# channel's mean activation with respect to the pixels. Following Lucid, the image is parameterized by
# its Fourier coefficients scaled to a natural 1/f spectrum and jittered at every step, which keeps the
# optimizer from exploiting high-frequency noise. :func:`deepkit.viz.render` renders all the channels
# of a layer in one batch.

steps = 512
# sphinx_gallery_start_ignore
if deepkit.datasets.lectures.fast_mode():  # the documentation build's fast mode
    steps = 64
# sphinx_gallery_end_ignore
images = viz.render(model, objectives.channel("conv3", range(16)), steps=steps, seed=0)
fig = viz.plot_image_grid(images, titles=[f"conv3 #{i}" for i in range(16)], ncols=8,
                          suptitle=f"conv3 channels, {steps} optimization steps")

# %%
# The objective can be any differentiable function of the activations. A class logit makes the network
# draw what it takes for each digit (the logit is the class score before the softmax, which
# ``class_logit`` skips); total variation is a regularizer that prefers smooth images, and
# objectives add and scale like numbers (as in Lucid):

digit_objective = objectives.class_logit(range(10)) - 0.05 * objectives.total_variation()
digits_drawn = viz.render(model, digit_objective, steps=steps, seed=0)
fig = viz.plot_image_grid(digits_drawn, titles=[str(i) for i in range(10)], ncols=10,
                          suptitle="images that maximize each class logit")

# %%
# Representations, layer by layer
# -------------------------------
# Chapter 1 drew the two-unit hidden layer of an MLP. Here the layers have hundreds of dimensions, so
# :func:`deepkit.viz.plot_layer_embeddings` projects them to two with PCA. Each panel's title gives the
# 5-nearest-neighbour accuracy in the layer's full feature space. These small, clean digits are easy
# even for nearest neighbours on raw pixels; what the layers change is the geometry: from layer to
# layer each class gathers into a tighter group in the first two principal directions (compare the 0s,
# 2s and 6s in the pixels and after global pooling), which is what lets a linear classifier on top do
# the rest. With longer training (run the script without fast mode) the groups separate further.

max_samples = 1000
# sphinx_gallery_start_ignore
if deepkit.datasets.lectures.fast_mode():  # the documentation build's fast mode
    max_samples = 400
# sphinx_gallery_end_ignore
fig = viz.plot_layer_embeddings(model, x_test, y_test, layers=["pool1", "pool2", "gap"],
                                max_samples=max_samples)
print({layer: round(score, 3) for layer, score in fig.deepkit_scores.items()})
