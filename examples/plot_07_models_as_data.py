"""
7. Models as data: specs, round trips and your own blocks
=========================================================

A model's architecture is data: which layers, with which arguments, connected how. deepkit writes it as
a *spec*, a short YAML (or JSON, or Python) document, builds it into a Keras model with
:func:`deepkit.from_spec`, and writes any model it built back out with :meth:`~deepkit.core.SpecModelMixin.to_spec`.
This chapter builds a small residual network from YAML, checks that spec, ``.keras`` file and model
all round-trip exactly, shows what a mistake in a spec looks like, and writes two residual blocks of
our own: one as a Python function returning spec nodes, one as a custom Keras layer registered for
specs. :doc:`/user_guide/specs` is the reference of the language.
"""

# %%
# A network in YAML
# -----------------
import os
import tempfile

import keras
import matplotlib.pyplot as plt
import numpy as np

import deepkit

FAST = os.environ.get("DEEPKIT_EXAMPLES_FAST", "0") not in ("", "0")
keras.utils.set_random_seed(0)

SPEC = """
name: tiny_resnet
description: a residual network for 8x8 digits
input_shape: [8, 8, 1]
layers:
  - Conv2D: {filters: 16, kernel_size: 3, padding: same, activation: relu, name: stem}
  - repeat:
      times: 2
      layers:
        - residual:
            layers:
              - Conv2D: {filters: 16, kernel_size: 3, padding: same, use_bias: false}
              - BatchNormalization: {momentum: 0.9}
              - ReLU
              - Conv2D: {filters: 16, kernel_size: 3, padding: same, use_bias: false}
              - BatchNormalization: {momentum: 0.9}
            activation: relu
  - GlobalAveragePooling2D
  - Dense: {units: 10, activation: softmax, name: classifier}
"""

model = deepkit.from_spec(SPEC)
model.summary()

# %%
# The model is an ordinary functional :class:`keras.Model`; the summary adds the multiply-adds of one
# forward pass (convolutions and dense layers; normalization and merges count zero). One argument is
# not at its default: with 1,347 training images the network takes few steps, and
# ``BatchNormalization``'s moving statistics, used at test time, need ``momentum: 0.9`` instead of
# 0.99 to catch up with the batch statistics in that many steps.
#
# Round trips
# -----------
# ``to_spec`` gives the spec back as data, YAML or JSON. Arguments left at their defaults are not
# written, so the spec stays as short as the one we wrote.

print(model.to_spec("yaml"))

# %%
# Building the written spec gives the same architecture; with the same weights it computes the same
# function:

twin = deepkit.from_spec(model.to_spec("json"))
assert twin.to_spec() == model.to_spec()
twin.set_weights(model.get_weights())
x = np.random.default_rng(0).random((4, 8, 8, 1), dtype="float32")
np.testing.assert_allclose(keras.ops.convert_to_numpy(twin(x)), keras.ops.convert_to_numpy(model(x)),
                           rtol=1e-5, atol=1e-6)

# %%
# Saving the whole model (architecture, weights, optimizer state) is Keras' ``model.save``; a
# :class:`deepkit.Model` stores its spec as its config, so the loaded model still knows it:

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "tiny_resnet.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
print(type(loaded).__name__, loaded.to_spec() == model.to_spec())
np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)),
                           rtol=1e-5, atol=1e-6)

# %%
# Mistakes in a spec
# ------------------
# A spec is checked against the layers' constructors before anything is built. Errors say where: the
# line and column in the YAML text, the path in the spec, and what was expected.

BROKEN = """
input_shape: [8, 8, 1]
layers:
  - Conv2D: {filters: 16, kernel_size: 3}
  - residual:
      layers:
        - Conv2D: {filter: 16, kernel_size: 3, padding: same}
  - Dense: 10
"""
try:
    deepkit.from_spec(BROKEN)
except deepkit.SpecError as error:
    print(error)

# %%
# Your own residual block, as a function
# --------------------------------------
# The combinators (:class:`deepkit.Residual`, :class:`deepkit.Parallel`, :class:`deepkit.Repeat`)
# are Python objects too. A *bottleneck* block, as in the deeper ResNets: a 1x1 convolution narrows
# the channels, a 3x3 convolution works on the narrow tensor, a 1x1 convolution widens it again, and a
# projection shortcut matches shapes when the block changes the number of channels or the resolution.


def bottleneck(filters, strides=1, expansion=4, project=False, name=None):
    """A ResNet bottleneck block as a spec node."""
    def conv_bn(channels, kernel, stride=1):
        conv = {"filters": channels, "kernel_size": kernel, "padding": "same", "use_bias": False}
        if stride != 1:
            conv["strides"] = stride
        return [{"Conv2D": conv}, "BatchNormalization"]

    main = conv_bn(filters, 1) + ["ReLU"] + conv_bn(filters, 3, strides) + ["ReLU"]
    main += conv_bn(filters * expansion, 1)
    shortcut = conv_bn(filters * expansion, 1, strides) if project or strides != 1 else None
    return deepkit.Residual(main, shortcut=shortcut, activation="relu", name=name)


net = deepkit.Sequential([
    {"Conv2D": {"filters": 32, "kernel_size": 3, "padding": "same", "activation": "relu"}},
    bottleneck(8, project=True, name="block1"),
    bottleneck(8, name="block2"),
    bottleneck(16, strides=2, name="block3"),
    "GlobalAveragePooling2D",
    {"Dense": {"units": 10, "activation": "softmax"}},
], input_shape=(8, 8, 1), name="bottleneck_net")
print(f"parameters {net.count_params():,}, multiply-adds {deepkit.count_macs(net):,}")
print(net.to_spec("yaml")[:600], "...")

# %%
# The function returns data, so the network it builds is a spec like any other: the printed YAML
# builds it again without the function.
#
# Your own layer, registered for specs
# ------------------------------------
# A new *operation* needs a Keras layer. Decorated with :func:`deepkit.register_layer`, it can be named
# in specs and loaded from ``.keras`` files; a complete ``get_config`` is all it needs for both. A
# ``compute_macs`` method lets the summary count its cost. Here: squeeze-and-excitation (Hu et al.,
# 2018), which rescales each channel by a gate computed from the global average of all channels.


@deepkit.register_layer
class SqueezeExcite(keras.layers.Layer):
    """Channel gating: ``x * sigmoid(W2 relu(W1 mean(x)))``."""

    def __init__(self, ratio=4, **kwargs):
        super().__init__(**kwargs)
        self.ratio = ratio

    def build(self, input_shape):
        channels = input_shape[-1]
        self.squeeze = keras.layers.Dense(max(1, channels // self.ratio), activation="relu")
        self.excite = keras.layers.Dense(channels, activation="sigmoid")
        self.squeeze.build((input_shape[0], channels))
        self.excite.build((input_shape[0], max(1, channels // self.ratio)))

    def call(self, x):
        gate = self.excite(self.squeeze(keras.ops.mean(x, axis=(1, 2))))
        return x * gate[:, None, None, :]

    def compute_macs(self, input_shape, output_shape):
        channels = input_shape[-1]
        hidden = max(1, channels // self.ratio)
        return 2 * channels * hidden + int(np.prod(output_shape))  # two dense layers + the scaling

    def get_config(self):
        return {**super().get_config(), "ratio": self.ratio}


SE_SPEC = SPEC.replace("""              - BatchNormalization: {momentum: 0.9}
            activation: relu""", """              - BatchNormalization: {momentum: 0.9}
              - SqueezeExcite: {ratio: 4}
            activation: relu""").replace("name: tiny_resnet", "name: tiny_se_resnet")
se_model = deepkit.from_spec(SE_SPEC)
rows = deepkit.summary(se_model)

# %%
# Where the parameters and the multiply-adds are
# ----------------------------------------------
# The rows that :func:`deepkit.summary` returns are plain data, handy for plots. Parameters sit in the
# convolutions and the classifier; almost all the computation is in the convolutions, which apply their
# few weights at every one of the 64 positions. The squeeze-and-excitation layers are cheap.

named = [r for r in rows if r["params"] or r["macs"]]
fig, (ax_p, ax_m) = plt.subplots(1, 2, figsize=(9, 0.3 * len(named) + 1.2), sharey=True)
labels = [r["name"] for r in named]
ax_p.barh(labels, [r["params"] for r in named], color="tab:blue")
ax_m.barh(labels, [r["macs"] for r in named], color="tab:orange")
ax_p.set_xlabel("parameters")
ax_m.set_xlabel("multiply-adds per example")
ax_p.invert_yaxis()
fig.tight_layout()

# %%
# Train it
# --------
# It is a Keras model: compile and fit as usual. It still round-trips, custom layer included.

(x_train, y_train), (x_test, y_test) = deepkit.datasets.digits()
se_model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = se_model.fit(x_train, y_train, epochs=5 if FAST else 30, batch_size=32,
                       validation_data=(x_test, y_test), verbose=0)
print(f"test accuracy after {len(history.history['loss'])} epochs: {history.history['val_accuracy'][-1]:.3f}")

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "se.keras")
    se_model.save(path)
    reloaded = keras.saving.load_model(path)
np.testing.assert_allclose(keras.ops.convert_to_numpy(reloaded(x_test[:8])),
                           keras.ops.convert_to_numpy(se_model(x_test[:8])), rtol=1e-5, atol=1e-6)
print(reloaded.to_spec("yaml").split("layers:")[0])

from deepkit.viz.curves import plot_history  # noqa: E402

fig = plot_history(history, title="tiny SE-ResNet on the digits")
