"""
3. LeNet-5 on handwritten digits
================================

LeCun, Bottou, Bengio and Haffner (1998) read handwritten digits with a *convolutional* network:
small filters slid over the image, so the same feature detector is applied at every position, with
subsampling in between so that the later layers see larger parts of the image. LeNet-5 is that
network, and the ancestor of everything in the next chapter. Here it is from the zoo
(:func:`deepkit.models.lenet5`), trained on handwritten digits.

The data are MNIST's 28x28 digits, in one call: :func:`deepkit.datasets.lecture` reads a local copy
(the folder named by ``DEEPKIT_DATA_DIR``), else downloads them once through ``keras.datasets``, else
falls back to scikit-learn's 8x8 digits upsampled to 28x28, and says which it used.
"""

# %%
# The data
# --------
import keras
import matplotlib.pyplot as plt
import numpy as np

import deepkit
from deepkit.viz.curves import plot_confusion_matrix, plot_history
from deepkit.viz.plotting import plot_image_grid

keras.utils.set_random_seed(0)
data = deepkit.datasets.lecture("mnist")
(x_train, y_train), (x_test, y_test) = data.train, data.test
source = "digits (8x8, upsampled)" if data.is_fallback else f"MNIST ({data.test_split} split)"
print(f"{source}: train {x_train.shape}, test {x_test.shape}")
fig = plot_image_grid(x_train[:24], titles=[str(v) for v in y_train[:24]], ncols=12, normalize=None,
                      suptitle=source)

# %%
# The network
# -----------
# The zoo's ``lenet5`` is the common form of LeNet-5: the 28x28 image is zero-padded to 32x32 (as in
# the paper, so strokes near the border reach the centre of C1's filters), then
#
# - **C1**: six 5x5 convolutions, 28x28 maps;
# - **S2**: 2x2 average subsampling, 14x14;
# - **C3**: sixteen 5x5 convolutions on all six maps, 10x10;
# - **S4**: 2x2 subsampling, 5x5;
# - **C5**: 120 5x5 convolutions, which on a 5x5 input is a fully-connected layer;
# - **F6**: 84 units, then 10 outputs.
#
# 61,706 parameters, and 416,520 multiply-adds per image: each weight of C1 is used at all
# 28x28 = 784 positions.

model = deepkit.models.lenet5(input_shape=x_train.shape[1:])
model.summary()

# %%
# The paper's own version (:func:`deepkit.models.lenet5_paper`) differs in the details the 1998 hardware
# called for: C3 connects each map to only some of S2's maps (a fixed table, 1,516 weights instead of
# 2,416), the subsampling layers have a trainable gain and bias, the activation is the scaled
# :math:`1.7159 \tanh(2x/3)`, and the outputs are Euclidean radial basis functions whose centres are
# fixed bitmaps of the digits. Its parameter count matches the paper's 60,000 trainable weights:

paper = deepkit.models.lenet5_paper(input_shape=x_train.shape[1:])
print(f"lenet5_paper: {deepkit.models.count_trainable(paper):,} trainable parameters, "
      f"{deepkit.count_macs(paper):,} multiply-adds")
print(paper.to_spec("yaml").split("layers:")[1][:700])

# %%
# Training
# --------
# Adam, the cross-entropy of chapter 2, and the fast fit path. A few epochs are enough for the
# digits; MNIST's 60,000 images take about a minute per epoch on a laptop CPU.

epochs = 30 if data.is_fallback else 12
# sphinx_gallery_start_ignore
if deepkit.datasets.lectures.fast_mode():  # the documentation build's fast mode
    epochs = 4
# sphinx_gallery_end_ignore
model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=epochs, batch_size=64, validation_data=(x_test, y_test),
                    verbose=2, fast=True, seed=0)
fig = plot_history(history, title=f"LeNet-5 on {source}")
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy {accuracy:.4f} after {epochs} epochs")

# %%
# The shipped weights
# -------------------
# deepkit ships one LeNet-5 trained by its own recipe (``python -m deepkit.recipes lenet5_mnist``: 20
# epochs on 54,000 MNIST training images, 99.15 % on the 6,000 held out). It carries its preprocessing
# (``Rescaling`` and ``Normalization`` layers), so it takes raw 0-255 pixels:

if source.startswith("MNIST"):
    shipped = deepkit.models.lenet5(weights="mnist")
    raw = (x_test * 255).round()
    shipped_accuracy = float(np.mean(shipped.predict(raw, verbose=0).argmax(1) == y_test))
    print(f"lenet5(weights='mnist'): {shipped_accuracy:.4f} on these {len(y_test):,} images "
          f"(trained here: {accuracy:.4f})")

# %%
# Errors
# ------
# Which digits does it confuse, and what do its mistakes look like?

probabilities = keras.ops.convert_to_numpy(model.predict(x_test, verbose=0))
predicted = probabilities.argmax(1)
fig = plot_confusion_matrix(y_test, predicted, class_names=[str(i) for i in range(10)])

# %%
# The mistakes, with the predicted class and its probability:

wrong = np.flatnonzero(predicted != y_test)[:12]
if len(wrong):
    fig = plot_image_grid(
        x_test[wrong], ncols=min(12, len(wrong)), normalize=None, suptitle="misclassified",
        titles=[f"{y_test[i]} as {predicted[i]}\n{probabilities[i].max():.0%}" for i in wrong])

# %%
# Translation
# -----------
# Convolution and subsampling make the network tolerant to small shifts, which a fully-connected
# network on raw pixels is not. Shifting the test images by a few pixels (with zeros coming in at the
# border) and measuring the accuracy of LeNet-5 against an MLP like chapter 2's (on the same 28x28
# images) shows the difference: both lose accuracy, LeNet-5 less so. Tolerance, not invariance: the
# 2x2 subsamplings absorb a pixel or two, larger shifts need data augmentation (chapter 4).

mlp = deepkit.Sequential(["Flatten", {"Dense": {"units": 128, "activation": "relu"}},
                          {"Dense": {"units": 10, "activation": "softmax"}}], input_shape=x_train.shape[1:])
mlp.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
            metrics=["accuracy"])
mlp.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=0, fast=True, seed=0)


def shifted(images, dx):
    out = np.zeros_like(images)
    if dx >= 0:
        out[:, :, dx:] = images[:, :, :images.shape[2] - dx]
    else:
        out[:, :, :dx] = images[:, :, -dx:]
    return out


shifts = list(range(-4, 5))
fig, ax = plt.subplots(figsize=(5.5, 3.3))
for name, net in (("LeNet-5", model), ("MLP 784-128-10", mlp)):
    accuracies = [net.evaluate(shifted(x_test, s), y_test, verbose=0)[1] for s in shifts]
    ax.plot(shifts, accuracies, "-o", ms=4, label=name)
ax.set(xlabel="horizontal shift (pixels)", ylabel="test accuracy", title="tolerance to translation")
ax.legend()
fig.tight_layout()

# %%
# Chapter 5 opens the trained network up: its filters, its feature maps, and the image patches that
# excite each unit most.
