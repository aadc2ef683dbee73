"""
2. Stacking layers, compile and fit
===================================

A network is a stack of layers; training it takes three more choices: a **loss** that says how wrong
the outputs are, an **optimizer** that says how to change the weights to make the loss smaller, and the
**training loop** that feeds it the data batch by batch. This chapter builds a small classifier of
handwritten digits, computes its loss by hand to see what Keras computes, writes the training loop
out, compares optimizers and losses, and reads the training curves.

The digits are scikit-learn's 8x8 images (:func:`deepkit.datasets.digits`), available offline.
"""

# %%
# Data
# ----
import os

import keras
import matplotlib.pyplot as plt
import numpy as np

import deepkit
from deepkit.viz.curves import plot_confusion_matrix, plot_history

FAST = os.environ.get("DEEPKIT_EXAMPLES_FAST", "0") not in ("", "0")
EPOCHS = 6 if FAST else 60
keras.utils.set_random_seed(0)

(x_train, y_train), (x_test, y_test) = deepkit.datasets.digits()
print("train", x_train.shape, "test", x_test.shape, "labels", np.unique(y_train))

fig, axes = plt.subplots(2, 8, figsize=(8, 2.3))
for ax, image, label in zip(axes.ravel(), x_train, y_train):
    ax.imshow(image[..., 0], cmap="gray_r")
    ax.set_title(str(label), fontsize=9)
    ax.axis("off")
fig.tight_layout()

# %%
# Stacking layers
# ---------------
# A multilayer perceptron: flatten the 8x8 image into 64 numbers, one hidden layer of 64 ReLU units,
# and 10 outputs turned into class probabilities by a softmax. Each :class:`keras.layers.Dense` layer
# holds a weight matrix and a bias vector: :math:`64 \times 64 + 64 = 4160` and
# :math:`64 \times 10 + 10 = 650` parameters. The summary also counts the multiply-adds of one forward
# pass.

LAYERS = [
    "Flatten",
    {"Dense": {"units": 64, "activation": "relu"}},
    {"Dense": {"units": 10, "activation": "softmax"}},
]


def make_model(name="mlp"):
    return deepkit.Sequential(LAYERS, input_shape=x_train.shape[1:], name=name)


model = make_model()
model.summary()
assert model.count_params() == 64 * 64 + 64 + 64 * 10 + 10

# %%
# The same stack, written three ways
# ----------------------------------
# :class:`deepkit.Sequential` is a :class:`keras.Sequential`, so the Keras idiom of an empty model
# grown with ``add`` works as it is; so does a list of Keras layers, and spec entries such as
# ``{"Dense": ...}`` may stand wherever a layer goes. Without an input shape the model waits for its
# first batch (or ``build``) to create its weights, as in Keras. The spec form,
# :func:`deepkit.from_spec`, is the same network as data. All of them print the same spec.

by_add = deepkit.Sequential(name="by_add")
by_add.add(keras.layers.Flatten())
by_add.add(keras.layers.Dense(64, activation="relu"))
by_add.add({"Dense": {"units": 10, "activation": "softmax"}})
print("built before seeing data:", by_add.built)
by_add.build((None,) + x_train.shape[1:])

by_list = deepkit.Sequential([keras.layers.Flatten(), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")], input_shape=x_train.shape[1:])
by_spec = deepkit.from_spec({"input_shape": list(x_train.shape[1:]), "layers": LAYERS})
for other in (by_add, by_list, by_spec):
    assert other.count_params() == model.count_params()
    assert other.to_spec()["layers"] == LAYERS
print(by_add.to_spec("yaml"))

# %%
# The loss, by hand
# -----------------
# For a softmax output :math:`p(x)` and the true class :math:`y`, the cross-entropy is
# :math:`-\log p_y(x)`, averaged over the batch. Before training, with small random weights, all ten
# probabilities are near 0.1, so the loss is near :math:`\log 10 \approx 2.30`. Keras'
# ``sparse_categorical_crossentropy`` (labels as integers, not one-hot vectors) computes exactly this.

probabilities = keras.ops.convert_to_numpy(model(x_train[:256]))
by_hand = -np.mean(np.log(probabilities[np.arange(256), y_train[:256]]))
keras_loss = keras.losses.SparseCategoricalCrossentropy()(y_train[:256], probabilities)
print(f"cross-entropy by hand {by_hand:.4f}, Keras {float(keras_loss):.4f}, log(10) = {np.log(10):.4f}")
np.testing.assert_allclose(by_hand, float(keras_loss), rtol=1e-5)

# %%
# The training loop
# -----------------
# ``compile`` attaches the loss and optimizer to the model; a training step computes the loss on one
# batch, its gradient with respect to every weight, and lets the optimizer update the weights. An
# *epoch* is one pass over the shuffled training data. Written out with Keras' one-step
# ``train_on_batch``, the loop is:

model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
batch_size = 32
rng = np.random.default_rng(0)
losses = []
LOOP_EPOCHS = 2 if FAST else 5
for epoch in range(LOOP_EPOCHS):
    order = rng.permutation(len(x_train))
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        loss, accuracy = model.train_on_batch(x_train[batch], y_train[batch])
        losses.append(float(loss))
    print(f"epoch {epoch + 1}: last batch loss {losses[-1]:.3f}, accuracy {accuracy:.3f}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(losses, lw=0.8)
ax.set_xlabel("step (one batch of 32)")
ax.set_ylabel("training loss")
ax.set_title(f"the loss, step by step ({LOOP_EPOCHS} epochs of SGD)")
fig.tight_layout()

# %%
# ``model.fit`` runs the same loop, with the bookkeeping: shuffling, batching, a running average of the
# metrics per epoch, an evaluation on validation data after each epoch, callbacks. (On a
# :class:`deepkit.Model` it first checks the data: wrong lengths, NaNs or labels outside the ten
# classes raise a :class:`deepkit.DataError` that names the argument.)

model = make_model()
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, validation_data=(x_test, y_test),
                    verbose=0)
fig = plot_history(history, title="SGD, learning rate 0.1")

# %%
# The two curves tell the story of a fit. Training loss falling and validation loss falling with it:
# the model is learning things that generalise. Validation loss flattening or rising while training
# loss keeps falling: it starts to memorise the training set (over-fitting).
#
# Optimizers
# ----------
# Plain stochastic gradient descent steps against the gradient of each batch. Momentum keeps a running
# direction across steps; Adam and RMSprop also scale each weight's step by the size of its recent
# gradients. Same model, same initial weights, same data order. (From here on ``fit`` gets
# ``fast=True``: deepkit's fast path keeps these small arrays on the device and runs a whole epoch per
# compiled call. It runs Keras' own training step, so the curves are the same, only sooner; chapter 8
# shows it.)

optimizers = {
    "SGD 0.01": keras.optimizers.SGD(learning_rate=0.01),
    "SGD 0.01 + momentum 0.9": keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
    "RMSprop 0.001": keras.optimizers.RMSprop(learning_rate=0.001),
    "Adam 0.001": keras.optimizers.Adam(learning_rate=0.001),
}
initial = make_model("reference").get_weights()
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.4))
for label, optimizer in optimizers.items():
    candidate = make_model()
    candidate.set_weights(initial)
    candidate.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = candidate.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, validation_data=(x_test, y_test),
                      verbose=0, fast=True, seed=1).history
    epochs = np.arange(1, EPOCHS + 1)
    ax_loss.plot(epochs, h["loss"], label=label)
    ax_acc.plot(epochs, h["val_accuracy"], label=label)
    print(f"{label:24s} final loss {h['loss'][-1]:.3f}  test accuracy {h['val_accuracy'][-1]:.3f}")
ax_loss.set(xlabel="epoch", ylabel="training loss", yscale="log", title="loss")
ax_acc.set(xlabel="epoch", ylabel="accuracy", title="test accuracy")
ax_loss.legend(fontsize=8)
fig.tight_layout()

# %%
# Losses
# ------
# Why cross-entropy and not the squared error between the probabilities and the one-hot target? When a
# softmax output is confidently wrong, its squared error barely changes with the logits (the softmax is
# saturated), so the gradient vanishes; the cross-entropy's gradient with respect to the logits is
# simply :math:`p - \text{onehot}(y)` and stays large. Same optimizer, two losses:

fig, ax = plt.subplots(figsize=(5, 3.4))
for loss_name, targets in (("sparse_categorical_crossentropy", y_train),
                           ("mean_squared_error", keras.utils.to_categorical(y_train, 10))):
    candidate = make_model()
    candidate.set_weights(initial)
    candidate.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss=loss_name,
                      metrics=["accuracy"] if loss_name.startswith("sparse") else ["categorical_accuracy"])
    h = candidate.fit(x_train, targets, epochs=EPOCHS, batch_size=32, verbose=0, fast=True, seed=1).history
    key = "accuracy" if "accuracy" in h else "categorical_accuracy"
    ax.plot(np.arange(1, EPOCHS + 1), h[key], "-o", ms=3, label=loss_name)
ax.set(xlabel="epoch", ylabel="training accuracy", title="same model and optimizer, two losses")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# What the model gets wrong
# -------------------------
# Accuracy is one number; the confusion matrix shows which digits are taken for which.

predicted = np.argmax(keras.ops.convert_to_numpy(model.predict(x_test, verbose=0)), axis=1)
fig = plot_confusion_matrix(y_test, predicted, class_names=[str(i) for i in range(10)])
