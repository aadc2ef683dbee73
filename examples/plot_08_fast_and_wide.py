"""
8. Going fast and going wide: the fast fit path, mixed precision, several devices
=================================================================================

Small models on small data spend most of Keras' ``fit`` time outside the model: feeding each batch
from the host, calling into the compiled step once per batch, running per-batch callbacks. deepkit's
fast fit path keeps the whole data set on the device and runs a whole epoch per compiled call, with
Keras' own training step, so the results are the same and arrive sooner. Mixed precision halves the
bytes moved per number on accelerators that compute in bfloat16. And when one device is not enough,
Keras' ``keras.distribution`` splits each batch over several.
"""

# %%
# The fast fit path
# -----------------
# ``model.fit(..., fast=True)`` (or :func:`deepkit.train.fit` for any compiled Keras model) takes the
# same arguments as Keras' ``fit`` and returns the same ``History``. Timing both on LeNet-5 and the
# 28x28 digits, with a callback that records each epoch's duration:
import os
import subprocess
import sys
import time

import keras
import matplotlib.pyplot as plt
import numpy as np

import deepkit

FAST = os.environ.get("DEEPKIT_EXAMPLES_FAST", "0") not in ("", "0")
keras.utils.set_random_seed(0)

(x_train, y_train), (x_test, y_test) = deepkit.datasets.digits(image_size=28)
if not FAST:  # more data: the digits tiled 8 times (an epoch of 10,776 images)
    x_train, y_train = np.tile(x_train, (8, 1, 1, 1)), np.tile(y_train, 8)


class EpochTimer(keras.callbacks.Callback):
    """Wall time of every epoch."""

    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


initial = deepkit.models.lenet5().get_weights()
epochs = 4 if FAST else 10
results = {}
for label, options in (("Keras fit", {}), ("fast path", {"fast": True})):
    model = deepkit.models.lenet5()
    model.set_weights(initial)
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    timer = EpochTimer()
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=64, shuffle=False, verbose=0,
                        callbacks=[timer], **options)
    results[label] = {"times": timer.times, "loss": history.history["loss"], "weights": model.get_weights()}
    print(f"{label:10s} first epoch {timer.times[0]:.2f} s (compiles), then "
          f"{np.median(timer.times[1:]):.3f} s per epoch; final loss {history.history['loss'][-1]:.4f}")

difference = max(np.abs(a - b).max() for a, b in zip(results["Keras fit"]["weights"],
                                                      results["fast path"]["weights"]))
print(f"largest weight difference after {epochs} epochs: {difference:.2e}")

fig, (ax_t, ax_l) = plt.subplots(1, 2, figsize=(9, 3.3))
for label, r in results.items():
    ax_t.plot(range(1, epochs + 1), r["times"], "-o", ms=4, label=label)
    ax_l.plot(range(1, epochs + 1), r["loss"], "-o", ms=4, label=label)
ax_t.set(xlabel="epoch", ylabel="seconds", yscale="log", title="time per epoch")
ax_l.set(xlabel="epoch", ylabel="training loss", title="the same training")
ax_t.legend(fontsize=8)
fig.tight_layout()

# %%
# With ``shuffle=False`` both see the batches in the same order and the weights agree to float
# rounding: the fast path runs Keras' own ``train_step``, only without the per-batch trip through
# Python. With shuffling on, it draws its permutation on the device (``seed=`` makes it reproducible).
# The first epoch includes compiling the loop. The gain is largest where per-batch overhead dominates:
# small models, small batches, and GPUs, where a step takes microseconds; ``benchmarks/bench_fit.py``
# measures it against Keras and PyTorch (see :doc:`/user_guide/speed`).
#
# Device-side augmentation
# ------------------------
# Data on the device needs augmentation on the device. :class:`deepkit.train.Augment` does the CIFAR
# recipe (random crops of the zero-padded image, horizontal flips) inside the compiled loop:

augment = deepkit.train.Augment(flip=False, pad_crop=3, seed=0)
shifted = keras.ops.convert_to_numpy(augment(x_train[:8]))
fig = deepkit.viz.plot_image_grid(np.concatenate([x_train[:8], shifted]), ncols=8, normalize=None,
                                  suptitle="digits and random crops of the 3-pixel padded digits")

# %%
# Mixed precision
# ---------------
# bfloat16 keeps float32's 8-bit exponent (the same range) and only 8 bits of mantissa: about 3
# significant digits. GPUs and TPUs multiply bfloat16 matrices several times faster than float32 and
# move half the bytes. Keras' *mixed* policies compute in bfloat16 while keeping the variables in
# float32, so small updates are not lost:

layer = keras.layers.Dense(4, dtype="mixed_bfloat16")
out = layer(np.ones((2, 3), "float32"))
print("variables:", layer.kernel.dtype, " computation:", layer.compute_dtype, " output:", out.dtype)

values = np.float32([1.0, 1.001, 3.14159265, 1e-3, 65504.0, 1e20])
rounded = keras.ops.convert_to_numpy(keras.ops.cast(keras.ops.cast(values, "bfloat16"), "float32"))
for v, r in zip(values, rounded):
    print(f"{v:>14.8g} -> bfloat16 {r:>14.8g}   relative error {abs(r - v) / abs(v):.1e}")

# %%
# The fast path takes ``mixed_precision=``: ``"auto"`` (its default) turns bfloat16 on for GPUs and
# TPUs and leaves it off on CPUs, where bfloat16 arithmetic is emulated and slower. It switches an
# already built float32 model for the duration of ``fit`` and keeps the output layers (softmax and
# loss) in float32, as the Keras mixed-precision guide recommends. On this CPU we ask for it explicitly,
# to see that training still works:

model = deepkit.models.lenet5()
model.set_weights(initial)
model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=2 if FAST else 5, batch_size=64, verbose=0, fast=True,
                    mixed_precision="bfloat16", seed=0)
print("bfloat16 training:", [round(v, 4) for v in history.history["loss"]],
      "| weights are", model.weights[0].dtype)

# %%
# Several devices
# ---------------
# Data parallelism puts a replica of the model on each device, splits each batch between them, and
# averages the gradients. deepkit has no engine of its own for it: :func:`deepkit.distribute.data_parallel`
# opens Keras' :class:`keras.distribution.DataParallel` on JAX (and torch), or a
# ``tf.distribute.MirroredStrategy`` on TensorFlow, and the model is built, compiled and fitted inside.
# A CPU can pretend to be several devices (:func:`deepkit.distribute.virtual_cpu_devices`), which is how
# the script below runs here, in a separate process on the JAX backend because the device count is
# fixed when the backend starts. With the same global batch, data-parallel training computes the same
# updates as one device:

SNIPPET = r'''
import keras, numpy as np
from deepkit.distribute import data_parallel, global_batch_size, virtual_cpu_devices

print("devices:", virtual_cpu_devices(4))
rng = np.random.default_rng(0)
x = rng.random((512, 16)).astype("float32")
y = (x.sum(1) > 8).astype("int32")


def train(parallel):
    keras.utils.set_random_seed(0)

    def build_and_fit(batch_size):
        model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(2)])
        model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = model.fit(x, y, batch_size=batch_size, epochs=3, shuffle=False, verbose=0)
        return history.history["loss"], model.get_weights()

    if not parallel:
        return build_and_fit(64)
    with data_parallel() as replicas:
        print(f"{replicas.num_replicas} replicas ({replicas.engine.__class__.__name__}), "
              f"{global_batch_size(16, replicas)} examples per step")
        return build_and_fit(global_batch_size(16, replicas))


loss_1, weights_1 = train(parallel=False)
loss_n, weights_n = train(parallel=True)
print("one device:        ", np.round(loss_1, 6))
print("4 replicas:        ", np.round(loss_n, 6))
print("largest weight difference:", max(float(np.abs(a - b).max()) for a, b in zip(weights_1, weights_n)))
'''
env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3")
try:
    import jax  # noqa: F401  (only to know whether the JAX backend is installed)

    done = subprocess.run([sys.executable, "-c", SNIPPET], env=env, capture_output=True, text=True, timeout=300)
    print(done.stdout if done.returncode == 0 else done.stderr[-2000:])
except ImportError:
    print("JAX is not installed: pip install 'deepkit[jax]' to run data parallelism on CPU devices.")

# %%
# On a machine with several GPUs the same ``with data_parallel():`` block spreads training over all of
# them, on any backend; :func:`deepkit.distribute.multi_worker` does it across hosts, and
# :doc:`/user_guide/scaling` covers both.
