"""
6. Attribution and its sanity checks; adversarial and fooling images; DeepDream
===============================================================================

Which pixels made the network say "7"? *Attribution* methods answer with a heatmap over the input,
most of them built from the gradient of the class score with respect to the pixels. They must be
checked: Adebayo et al. (2018) showed that some popular maps barely change when the network's weights
are replaced by random ones, so they show the image, not the model. The same gradient, followed
instead of displayed, changes the image: a step too small to see changes the prediction (adversarial
examples, Szegedy et al. 2014, Goodfellow et al. 2015), and from noise it makes images the network is
sure about and that look like nothing (Nguyen et al. 2015). Followed to amplify what a layer sees, it
dreams (DeepDream, Mordvintsev et al. 2015).
"""

# %%
# A classifier
# ------------
import keras
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import spearmanr

import deepkit
from deepkit import viz

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
  - Conv2D: {filters: 64, kernel_size: 3, activation: relu, padding: same, name: conv3}
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

images, labels = x_test[:6], y_test[:6]

# %%
# Attribution maps
# ----------------
# - **Saliency** (Simonyan et al. 2014): the gradient of the class logit with respect to each pixel.
# - **SmoothGrad** (Smilkov et al. 2017): saliency averaged over noisy copies of the image.
# - **Integrated gradients** (Sundararajan et al. 2017): the gradient integrated along the straight path
#   from a black image; the attributions sum to the change of the logit.
# - **Grad-CAM** (Selvaraju et al. 2017): the last convolutional layer's maps weighted by their mean
#   gradient; coarse (conv3 is 4x4 here), upsampled to the image.

noise_samples, path_steps = 50, 64
# sphinx_gallery_start_ignore
if deepkit.datasets.lectures.fast_mode():  # the documentation build's fast mode
    noise_samples, path_steps = 16, 16
# sphinx_gallery_end_ignore
methods = {
    "saliency": lambda m, x: viz.saliency(m, x, labels),
    "SmoothGrad": lambda m, x: viz.smoothgrad(m, x, labels, num_samples=noise_samples),
    "integrated gradients": lambda m, x: np.abs(viz.integrated_gradients(m, x, labels, steps=path_steps)),
    "Grad-CAM": lambda m, x: viz.grad_cam(m, x, labels, layer="conv3"),
}
maps = {name: method(model, images) for name, method in methods.items()}


def show_maps(rows, title):
    fig, axes = plt.subplots(len(images), len(rows) + 1, figsize=(1.5 * (len(rows) + 1), 1.5 * len(images)))
    for i in range(len(images)):
        axes[i, 0].imshow(images[i, ..., 0], cmap="gray_r")
        axes[i, 0].set_ylabel(str(labels[i]))
        for j, (name, heat) in enumerate(rows.items(), 1):
            axes[i, j].imshow(heat[i], cmap="inferno")
            if i == 0:
                axes[i, j].set_title(name, fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


fig = show_maps(maps, "attributions of the true class")

# %%
# Integrated gradients satisfy *completeness*: the attributions of an image add up to the difference of
# the logit between the image and the baseline. A check of the implementation, and of the number of
# integration steps:

logits = viz.attribution.logit_model(model)
ig = viz.integrated_gradients(model, images, labels, steps=64)
scores = keras.ops.convert_to_numpy(logits(images))[np.arange(len(images)), labels]
baseline = keras.ops.convert_to_numpy(logits(np.zeros_like(images)))[:, labels].diagonal()
print("sum of attributions:", ig.sum(axis=(1, 2)).round(3))
print("logit(x) - logit(0): ", (scores - baseline).round(3))

# %%
# Sanity check: randomize the model
# ---------------------------------
# Adebayo et al.'s *model parameter randomization test*: re-initialize the weights from the top layer
# down (:func:`deepkit.viz.randomized_model`) and recompute the maps. A method that explains the model
# must change as the model is destroyed. We measure the rank correlation (Spearman) between each map
# of the trained model and the same map of the randomized ones.

cascade = [["classifier"], ["classifier", "conv3"], ["classifier", "conv3", "conv2"],
           ["classifier", "conv3", "conv2", "conv1"]]
correlations = {name: [] for name in methods}
randomized_maps = {}
for layers in cascade:
    random_model = viz.randomized_model(model, layers=layers, seed=1)
    for name, method in methods.items():
        other = method(random_model, images)
        # a constant map (Grad-CAM of a dead network is all zeros) is uncorrelated with anything
        rho = np.mean([spearmanr(a.ravel(), b.ravel())[0] if a.std() > 0 and b.std() > 0 else 0.0
                       for a, b in zip(maps[name], other)])
        correlations[name].append(float(rho))
        if len(layers) == len(cascade[-1]):
            randomized_maps[name] = other

for name, values in correlations.items():
    print(f"{name:22s}", " ".join(f"{v:+.2f}" for v in values))

fig, ax = plt.subplots(figsize=(6, 3.5))
steps_labels = ["trained"] + [f"-{layers[-1]}" for layers in cascade]
for name, values in correlations.items():
    ax.plot(range(len(cascade) + 1), [1.0] + values, "-o", ms=4, label=name)
ax.set_xticks(range(len(cascade) + 1), steps_labels, fontsize=8)
ax.set(ylabel="rank correlation with trained maps", xlabel="layers randomized, top down",
       title="model randomization test")
ax.axhline(0, color="0.6", lw=0.8)
ax.legend(fontsize=8)
fig.tight_layout()

# %%
fig = show_maps(randomized_maps, "the same methods on the fully randomized network")

# %%
# Maps that stay correlated with the trained model's when every weight is random are driven by the
# input (here the digit's strokes) more than by what the network learned; on a small network like this
# even the gradient of a random network follows the strokes, which is exactly Adebayo et al.'s
# warning: a map that *looks* right is not yet evidence.
#
# Every method on one image, each beside its sanity check
# --------------------------------------------------------
# deepkit registers each attribution method once (:mod:`deepkit.viz.attribution.registry`: its title,
# family, how its map is shown, the options the report uses), so one loop runs all of them: gradients
# and their modified backward passes (DeconvNet, guided backpropagation, LRP, DeepLIFT), the class
# activation maps (at ``conv3``), and the perturbation and sampling methods. Each map explains the
# trained network; the one below it, the same method on the network with every layer re-initialized
# (the last step of the cascade above), titled with the rank correlation between the two maps. A
# method worth reading changes when the weights are destroyed (:math:`\rho` near 0); signed maps are
# shown red for evidence for the class and blue against it.

from deepkit.viz import attribution

image, label = images[:1], labels[:1]
random_model = viz.randomized_model(model, layers=cascade[-1], seed=1)
names = attribution.list_methods()
columns = 6
blocks = -(-(len(names) + 1) // columns)  # the image, then one panel pair per method
fig, axes = plt.subplots(2 * blocks, columns, figsize=(1.35 * columns, 2.6 * blocks))
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_frame_on(False)
axes[0, 0].imshow(image[0, ..., 0], cmap="gray_r")
axes[0, 0].set_title(f"label {label[0]}", fontsize=7)
axes[1, 0].set_title("below: randomized", fontsize=7)
for slot, name in enumerate(names, 1):
    top, bottom = axes[2 * (slot // columns), slot % columns], axes[2 * (slot // columns) + 1, slot % columns]
    method = attribution.get_method(name)
    options = attribution.report_options(name, image, layer="conv3")
    trained = method.function(model, image, label, **options)[0]
    randomized = method.function(random_model, image, label, **options)[0]
    both_vary = trained.std() > 0 and randomized.std() > 0
    rho = spearmanr(trained.ravel(), randomized.ravel())[0] if both_vary else 0.0
    for ax, heat in [(top, trained), (bottom, randomized)]:
        if method.display == "signed":
            limit = float(np.abs(heat).max()) or 1.0
            ax.imshow(heat, cmap="RdBu_r", vmin=-limit, vmax=limit)
        else:
            ax.imshow(heat, cmap="inferno")
    top.set_title(method.title, fontsize=7)
    bottom.set_title(f"\u03c1 = {rho:+.2f}", fontsize=7)
fig.tight_layout()

# %%
# Adversarial examples
# --------------------
# The fast gradient sign method (:func:`deepkit.viz.fgsm`) moves every pixel by :math:`\epsilon` in the
# direction that increases the loss; iterative FGSM (:func:`deepkit.viz.iterative_fgsm`) takes several
# smaller steps, each projected back into the :math:`\epsilon`-box around the image. Accuracy on the
# test images against the size of the perturbation:

x_eval, y_eval = x_test[:200], y_test[:200]
epsilons = [0.0, 0.05, 0.1, 0.15, 0.2, 0.3]
curves = {"FGSM": [], "iterative FGSM (10 steps)": []}
for eps in epsilons:
    for name, attack in (("FGSM", viz.fgsm), ("iterative FGSM (10 steps)", viz.iterative_fgsm)):
        adv = x_eval if eps == 0 else attack(model, x_eval, y_eval, epsilon=eps)
        curves[name].append(model.evaluate(adv, y_eval, verbose=0)[1])
fig, ax = plt.subplots(figsize=(5, 3.3))
for name, accuracy in curves.items():
    ax.plot(epsilons, accuracy, "-o", ms=4, label=name)
ax.set(xlabel="epsilon (pixel values are in [0, 1])", ylabel="accuracy", title="accuracy under attack")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
eps = 0.15
adversarial = viz.iterative_fgsm(model, images, labels, epsilon=eps)
before = keras.ops.convert_to_numpy(model.predict(images, verbose=0))
after = keras.ops.convert_to_numpy(model.predict(adversarial, verbose=0))
fig, axes = plt.subplots(3, len(images), figsize=(1.5 * len(images), 4.8))
for i in range(len(images)):
    axes[0, i].imshow(images[i, ..., 0], cmap="gray_r", vmin=0, vmax=1)
    axes[0, i].set_title(f"{before[i].argmax()} ({before[i].max():.0%})", fontsize=8)
    axes[1, i].imshow(adversarial[i, ..., 0], cmap="gray_r", vmin=0, vmax=1)
    axes[1, i].set_title(f"{after[i].argmax()} ({after[i].max():.0%})", fontsize=8)
    axes[2, i].imshow(adversarial[i, ..., 0] - images[i, ..., 0], cmap="RdBu", vmin=-eps, vmax=eps)
for ax in axes.ravel():
    ax.axis("off")
fig.suptitle(f"original / adversarial (epsilon {eps}) / difference, with predictions", fontsize=9)
fig.tight_layout()

# %%
# Fooling images
# --------------
# Start from noise and climb the log-probability of each class in turn, with no prior that keeps the
# image natural (:func:`deepkit.viz.fooling_images`). The network is certain, and the images are not
# digits: a classifier only ever learned to separate the ten classes *from each other*, never from
# everything else.

steps = 400
# sphinx_gallery_start_ignore
if deepkit.datasets.lectures.fast_mode():  # the documentation build's fast mode
    steps = 100
# sphinx_gallery_end_ignore
fooling, probabilities = viz.fooling_images(model, list(range(10)), steps=steps)
fig = viz.plot_image_grid(fooling, titles=[f"{c}: {p:.1%}" for c, p in enumerate(probabilities)],
                          ncols=10, normalize=None, suptitle="images classified with high confidence")

# %%
# DeepDream
# ---------
# DeepDream climbs the squared activations of a layer starting from a real image: whatever the layer
# faintly sees in it, it amplifies. With a digit network, the strokes grow more strokes.

steps = 100
# sphinx_gallery_start_ignore
if deepkit.datasets.lectures.fast_mode():  # the documentation build's fast mode
    steps = 30
# sphinx_gallery_end_ignore
dreams = {layer: viz.deep_dream(model, images[:4], layer, steps=steps, step_size=0.02)
          for layer in ("conv1", "conv2", "conv3")}
fig = viz.plot_image_grid(np.concatenate([images[:4]] + list(dreams.values())), ncols=4, normalize=None,
                          titles=["original"] * 4 + [layer for layer in dreams for _ in range(4)],
                          suptitle="DeepDream on three layers")
