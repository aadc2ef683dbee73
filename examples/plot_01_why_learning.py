"""
1. Why learning: representations of 2-D data
============================================

A linear classifier draws one straight line through the plane. Many problems are not split by a
straight line: two interleaved half moons, a ring around a disk. This chapter, in the spirit of the
`TensorFlow Playground <https://playground.tensorflow.org>`_, trains a logistic regression and a
small multilayer perceptron (MLP) on such data, draws their decision boundaries, and then looks at
what the MLP's hidden layers did: they *moved the points* into new coordinates where one straight line
does separate the classes. Learning a classifier is learning a representation.

Set ``DEEPKIT_EXAMPLES_FAST=1`` for a run of a few seconds (fewer epochs); unset, the models are trained
to convergence.
"""

# %%
# The data
# --------
# :mod:`deepkit.datasets.toy` generates the playground's problems: ``(x, y)`` with ``x`` points of shape
# ``(n, 2)`` and ``y`` integer labels. We take the two moons and the circles.
import os

import keras
import matplotlib.pyplot as plt
import numpy as np

import deepkit
from deepkit import viz
from deepkit.datasets import toy

FAST = os.environ.get("DEEPKIT_EXAMPLES_FAST", "0") not in ("", "0")
EPOCHS = 60 if FAST else 300
keras.utils.set_random_seed(0)

problems = {
    "moons": toy.moons(n_samples=300, noise=0.1, seed=0),
    "circles": toy.circles(n_samples=300, noise=0.05, factor=0.4, seed=0),
}

fig, axes = plt.subplots(1, 2, figsize=(8, 3.8))
for ax, (name, (x, y)) in zip(axes, problems.items()):
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=12, edgecolor="k", linewidth=0.3)
    ax.set_title(name)
    ax.set_aspect("equal")
fig.tight_layout()

# %%
# Two models
# ----------
# Logistic regression is a single :class:`keras.layers.Dense` unit with a sigmoid: the probability of
# class 1 is :math:`\sigma(w^\top x + b)`, and the boundary :math:`w^\top x + b = 0` is a line.
# The MLP puts hidden layers in front of that same unit. The last hidden layer has two units, on
# purpose: the representation it computes is again a point in a plane, which we can draw.


def logistic_regression():
    return deepkit.Sequential([{"Dense": {"units": 1, "activation": "sigmoid", "name": "out"}}],
                              input_shape=(2,), name="logistic_regression")


def mlp():
    return deepkit.Sequential([
        {"Dense": {"units": 16, "activation": "tanh", "name": "hidden1"}},
        {"Dense": {"units": 2, "activation": "tanh", "name": "hidden2"}},
        {"Dense": {"units": 1, "activation": "sigmoid", "name": "out"}},
    ], input_shape=(2,), name="mlp")


def train(model, x, y):
    model.compile(optimizer=keras.optimizers.Adam(0.03), loss="binary_crossentropy",
                  metrics=["accuracy"])
    # fast=True keeps the 300 points on the device and runs each epoch as one compiled call
    # (chapter 8); Keras' own loop (leave it out) gives the same model, only slower.
    model.fit(x, y, epochs=EPOCHS, batch_size=32, verbose=0, fast=True)
    return model


def predict(model, points):
    """The model's outputs as a numpy array (one direct call: no per-call set-up as in predict)."""
    return keras.ops.convert_to_numpy(model(points, training=False))


mlp().summary()

# %%
# Decision boundaries
# -------------------
# :func:`deepkit.viz.plot_decision_boundary` evaluates a trained model on a grid of points covering the
# plane and colours it by the predicted probability of class 1; the boundary is the 0.5 contour.


def plot_boundary(ax, model, x, y, title):
    accuracy = float(np.mean((predict(model, x).ravel() > 0.5) == y))
    viz.plot_decision_boundary(model, x, y, ax=ax, title=f"{title}\naccuracy {accuracy:.2f}")
    ax.set_aspect("equal")
    return accuracy


trained = {}
fig, axes = plt.subplots(2, 2, figsize=(8, 8))
for row, (name, (x, y)) in zip(axes, problems.items()):
    linear = train(logistic_regression(), x, y)
    deep = train(mlp(), x, y)
    trained[name] = deep
    acc_linear = plot_boundary(row[0], linear, x, y, f"{name}: logistic regression")
    acc_deep = plot_boundary(row[1], deep, x, y, f"{name}: MLP 16-2-1")
    print(f"{name:8s} logistic regression {acc_linear:.3f}   MLP {acc_deep:.3f}")
fig.tight_layout()

# %%
# The logistic regression can only tilt and shift its line: on the circles it cuts off a piece of the
# ring and no more, since no line encloses the inner disk.
# The MLP bends its boundary around the data.
#
# The hidden layer's coordinate change
# ------------------------------------
# Where did the bend come from? The output unit of the MLP is still a logistic regression: a straight
# line. But it does not see ``x``; it sees ``h = hidden2(hidden1(x))``, a point in a new plane.
# We cut the model after ``hidden2`` (a Keras functional model on the same layers), map the data *and
# a grid of lines of the input plane* through it, and draw the output unit's line in the new
# coordinates.

name = "moons"
x, y = problems[name]
model = trained[name]
hidden = keras.Model(model.input, model.get_layer("hidden2").output)
w, b = (np.asarray(v) for v in model.get_layer("out").get_weights())

fig, (ax_in, ax_h) = plt.subplots(1, 2, figsize=(9, 4.4))
lo, hi = x.min(0) - 0.3, x.max(0) + 0.3
t = np.linspace(0, 1, 200, dtype="float32")
lines = []
for v in np.linspace(lo[0], hi[0], 15):   # vertical grid lines of the input plane
    lines.append(np.stack([np.full_like(t, v), lo[1] + t * (hi[1] - lo[1])], 1))
for v in np.linspace(lo[1], hi[1], 15):   # horizontal grid lines
    lines.append(np.stack([lo[0] + t * (hi[0] - lo[0]), np.full_like(t, v)], 1))
mapped = predict(hidden, np.concatenate(lines)).reshape(len(lines), len(t), 2)
for line, line_h in zip(lines, mapped):
    ax_in.plot(line[:, 0], line[:, 1], color="0.75", lw=0.6)
    ax_h.plot(line_h[:, 0], line_h[:, 1], color="0.75", lw=0.6)

h = predict(hidden, x)
ax_in.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=10, edgecolor="k", linewidth=0.3)
ax_h.scatter(h[:, 0], h[:, 1], c=y, cmap="coolwarm", s=10, edgecolor="k", linewidth=0.3)
# The output unit's boundary w0*h0 + w1*h1 + b = 0, a straight line in the hidden plane.
h0 = np.linspace(-1.05, 1.05, 50)
if abs(w[1, 0]) > 1e-6:
    ax_h.plot(h0, -(w[0, 0] * h0 + b[0]) / w[1, 0], "k-", lw=2, label="output unit: p = 0.5")
ax_h.set_xlim(-1.05, 1.05)
ax_h.set_ylim(-1.05, 1.05)
ax_h.legend(loc="lower left", fontsize=8)
ax_in.set_title("input coordinates x")
ax_h.set_title("hidden coordinates h = hidden2(hidden1(x))")
for ax in (ax_in, ax_h):
    ax.set_aspect("equal")
fig.tight_layout()

separable = float(np.mean(((h @ w + b).ravel() > 0) == y))
print(f"accuracy of the straight line in the hidden plane: {separable:.3f}")

# %%
# The grid of the input plane comes out stretched and folded (``tanh`` squashes it into the square
# :math:`[-1, 1]^2`), and in the new coordinates the two moons sit on either side of one straight line.
# Each layer is a change of coordinates, and training chooses the coordinates in which the last,
# linear, layer's job is easy. The rest of the course builds on this picture: deeper networks compose
# more such changes, and :doc:`chapter 5 <plot_05_what_is_happening>` looks at the representations of
# a convolutional network.
