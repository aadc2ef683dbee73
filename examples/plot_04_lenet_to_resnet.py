"""
4. From LeNet to AlexNet, VGG, GoogLeNet and ResNet
===================================================

Fourteen years separate LeNet-5 (1998) from AlexNet (2012); VGG and GoogLeNet followed in 2014 and
ResNet in 2015. The ideas stayed: convolutions, subsampling, a classifier on top. What changed is scale
(more layers, more channels, bigger images), ReLUs instead of saturating tanh, VGG's stacks of small 3x3
convolutions, GoogLeNet's *Inception* modules (parallel 1x1, 3x3 and 5x5 branches, 1x1 reductions that
keep them cheap) and, with ResNet, the *residual connection* that lets a network of a hundred layers
train. This chapter puts the whole arc side by side, computed from the zoo itself (parameters,
multiply-adds, depth, receptive field) beside the published ImageNet errors, looks inside an Inception
module, and trains the smallest ResNet, ResNet-20, on CIFAR-10.

ResNet-20 trains on CIFAR-10 with the paper's augmentation. :func:`deepkit.datasets.lecture` loads it in
one call: a local copy (the folder named by ``DEEPKIT_DATA_DIR``), else a ``keras.datasets`` download, else
the offline 8x8 digits upsampled to 32x32, saying which it used.
"""

# %%
# The zoo
# -------
# :func:`deepkit.models.list_models` names every network of the zoo and :func:`deepkit.models.create`
# builds one by name, keras.applications style. Each is built from a spec, exactly as published
# (the parameter counts match the papers and torchvision).
import keras
import matplotlib.pyplot as plt
import numpy as np

import deepkit
from deepkit.viz import receptive_field
from deepkit.viz.curves import plot_history

keras.utils.set_random_seed(0)

print(deepkit.models.list_models())

# %%
# The arc in one table
# --------------------
# Five milestones, each at its paper's input size. ``depth`` is the longest chain of layers with weights
# from the input to the output (a branch or a shortcut does not add to it): 22 for GoogLeNet, as the paper
# counts. The receptive field is that of the last convolutional feature map: how many input pixels one
# of its units can see (:func:`deepkit.viz.receptive_field` walks the layer graph). The errors are the
# published ImageNet top-5 errors of one network (ILSVRC validation set): AlexNet from Krizhevsky et al.
# (Table 2), the others from He et al.'s comparison (Table 4, the table the lectures show).

TOP5 = {"lenet5": "- (MNIST)", "alexnet_paper": "18.2 %", "vgg16": "7.1 %", "googlenet_paper": "7.89 %",
        "resnet50": "5.25 %", "resnet152": "4.49 %"}
WEIGHTED = (keras.layers.Conv2D, keras.layers.Dense)


def longest_weighted_path(model):
    """Depth: the most weighted layers on one path from the input (model.layers is in graph order)."""
    depth = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            depth[layer.name] = 0
            continue
        inputs = layer.input if isinstance(layer.input, (list, tuple)) else [layer.input]
        before = max(depth[t._keras_history[0].name] for t in inputs)
        depth[layer.name] = before + (isinstance(layer, WEIGHTED) or type(layer).__name__ == "PartialConv2D")
    return max(depth.values())


def last_feature_map(model):
    """The last layer with a spatial (4-D) output: where the classifier starts."""
    return [layer for layer in model.layers if len(layer.output.shape) == 4][-1]


def describe(name):
    model = deepkit.models.create(name)
    info = deepkit.models.model_info(name)
    layers = deepkit.summary(model, print_fn=lambda line: None)
    weighted = [r for r in layers if r["params"]]
    last = last_feature_map(model)
    row = {
        "name": name, "family": info.family, "input": "x".join(map(str, info.input_shape)),
        "params": deepkit.models.count_trainable(model), "macs": deepkit.count_macs(model),
        "depth": longest_weighted_path(model), "rf": receptive_field(model, last.name).size[0],
        "last": last.name, "conv_params": sum(r["params"] for r in weighted if "Conv" in r["type"]),
        "conv_macs": sum(r["macs"] for r in weighted if "Conv" in r["type"]),
    }
    del model
    keras.utils.clear_session()
    return row


arc = ["lenet5", "alexnet_paper", "vgg16", "googlenet_paper", "resnet50", "resnet152"]
# sphinx_gallery_start_ignore
if deepkit.datasets.lectures.fast_mode():  # the documentation build's fast mode
    arc.remove("resnet152")
# sphinx_gallery_end_ignore
arc_rows = [describe(name) for name in arc]
print(f"{'model':16s} {'input':>10s} {'depth':>5s} {'parameters':>12s} {'multiply-adds':>14s} "
      f"{'top-5 error':>12s}  receptive field")
for r in arc_rows:
    print(f"{r['name']:16s} {r['input']:>10s} {r['depth']:5d} {r['params']:12,d} {r['macs'] / 1e6:12,.1f} M "
          f"{TOP5[r['name']]:>12s}  {r['rf']} px ({r['last']})")

# %%
# Read it down the columns. VGG-16 has more parameters than anything after it (123 M of its 138 M in
# the three dense layers) and twenty times AlexNet's computation; GoogLeNet is deeper still (22) with
# twenty times fewer parameters (7.0 M) and a tenth of VGG's multiply-adds, by reducing channels
# with 1x1 convolutions before every 3x3 and 5x5; ResNet-50 goes to 50 layers at a quarter of VGG's
# cost. The receptive fields grow with depth: 195 and 212 pixels for AlexNet and VGG-16, more than the
# 224-pixel image for GoogLeNet and ResNet-50, whose last units can, in principle, see the whole picture
# (their *effective* field is much smaller, see chapter 5).
#
# The rest of the zoo, for the plots below (the CIFAR-size networks, the other depths):

names = ["lenet5", "alexnet_small", "alexnet", "cifar_vgg11", "cifar_googlenet", "cifar_resnet20",
         "cifar_resnet56", "resnet18", "cifar_resnet110", "resnet34", "resnet101", "vgg11", "vgg19", "googlenet"]
# sphinx_gallery_start_ignore
if deepkit.datasets.lectures.fast_mode():  # the documentation build's fast mode
    names = names[:8]
# sphinx_gallery_end_ignore

rows = [r for r in arc_rows] + [describe(name) for name in names if name not in arc]

print(f"{'model':16s} {'input':>10s} {'depth':>6s} {'parameters':>12s} {'multiply-adds':>15s}")
for r in rows:
    print(f"{r['name']:16s} {r['input']:>10s} {r['depth']:6d} {r['params']:12,d} {r['macs']:15,d}")

# %%
# ``depth`` matches the names: 5 for LeNet-5, 8 for AlexNet, 16 for VGG-16, 20 and 56 for the CIFAR
# ResNets (the 1x1 projections of the ImageNet ResNets' shortcuts sit beside the main path, not on it).
#
# Parameters against computation
# ------------------------------
# A parameter is stored once; a multiply-add is spent per weight *use*. A convolution weight is used at
# every position of its output map, a dense weight once. So the two counts tell different stories:

colors = {"lenet": "tab:green", "alexnet": "tab:orange", "vgg": "tab:red", "cifar_vgg": "tab:red",
          "googlenet": "tab:olive", "resnet": "tab:blue", "cifar_resnet": "tab:purple"}
fig, ax = plt.subplots(figsize=(6.5, 4.5))
for r in rows:
    ax.scatter(r["params"], r["macs"], s=40, color=colors.get(r["family"], "k"))
    ax.annotate(r["name"], (r["params"], r["macs"]), textcoords="offset points", xytext=(5, 3), fontsize=8)
ax.set(xscale="log", yscale="log", xlabel="trainable parameters", ylabel="multiply-adds per image",
       title="the zoo: size against computation")
ax.grid(alpha=0.3, which="both")
fig.tight_layout()

# %%
# AlexNet and VGG hold most of their parameters in their three dense layers but spend nearly all their
# computation in the convolutions; GoogLeNet and ResNet replace the big dense layers by global average
# pooling, so nearly everything, parameters and computation, is convolution.

fig, ax = plt.subplots(figsize=(6.5, 0.35 * len(rows) + 1.2))
y = np.arange(len(rows))
ax.barh(y - 0.2, [r["conv_params"] / r["params"] for r in rows], height=0.4, label="share of parameters")
ax.barh(y + 0.2, [r["conv_macs"] / max(r["macs"], 1) for r in rows], height=0.4, label="share of multiply-adds")
ax.set_yticks(y, [r["name"] for r in rows])
ax.invert_yaxis()
ax.set(xlim=(0, 1), xlabel="fraction in convolutional layers")
ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=8, frameon=False)
fig.tight_layout()

# %%
# Inside an Inception module
# --------------------------
# A GoogLeNet is a stem, nine Inception modules and a classifier. In the spec each module is one
# ``parallel`` entry: four branches on the same input, concatenated along the channels. The 1x1
# "reduce" convolutions cut 192 channels to 96 and 16 before the expensive 3x3 and 5x5 kernels:

googlenet_spec = deepkit.models.get_spec("googlenet_paper")
inception3a = next(e for e in googlenet_spec["layers"] if "parallel" in e)
print(deepkit.spec.format_spec([inception3a], "yaml"))

# %%
# What the reduction saves, counted from the same spec: the module with its 1x1 reductions, and the
# same module without them (the 3x3 and 5x5 convolutions applied to all 192 input channels):

g = deepkit.models.googlenet_paper(include_top=False)
module = [l for l in g.layers if l.name.startswith("inception3a_") and l.weights]
with_reduce = sum(deepkit.models.count_trainable(l) for l in module)
naive = 192 * 64 + 64 + 9 * 192 * 128 + 128 + 25 * 192 * 32 + 32 + 192 * 32 + 32
print(f"inception3a: {with_reduce:,} parameters with 1x1 reductions, {naive:,} without")
del g
keras.utils.clear_session()

# %%
# The residual block
# ------------------
# A ResNet is a stack of residual blocks: :math:`y = \mathrm{relu}(x + F(x))`, with :math:`F` two 3x3
# convolutions. When a stage halves the resolution and doubles the channels, CIFAR ResNets (option A of
# the paper) subsample the shortcut and pad it with zero channels, adding no parameters. The spec of
# the zoo's ResNet-20 shows the blocks as data:

resnet20_spec = deepkit.models.get_spec("cifar_resnet20")

def find_residuals(entries):
    for entry in entries:
        if isinstance(entry, dict):
            for key, value in entry.items():
                if key == "residual":
                    yield value
                elif isinstance(value, dict) and "layers" in value:
                    yield from find_residuals(value["layers"])
                elif key == "sequential" and isinstance(value, list):
                    yield from find_residuals(value)


residuals = list(find_residuals(resnet20_spec["layers"]))
print(f"{len(residuals)} residual blocks; the first one that changes the shape:")
first_down = next(b for b in residuals if "shortcut" in b)
print(deepkit.spec.format_spec({"residual": first_down}, "yaml"))

# %%
# ResNet-20 on CIFAR-10
# ---------------------
# He et al. train with SGD (momentum 0.9, weight decay 1e-4, batch 128), a learning rate of 0.1 divided
# by 10 twice, and two augmentations: random crops of the image padded by 4 pixels, and horizontal
# flips. :class:`deepkit.train.Augment` runs them on the device inside the fast fit path.
# (``python -m deepkit.recipes resnet20_cifar10`` runs the full 64,000-iteration schedule, 91 % test
# accuracy; it takes hours on a CPU.)


data = deepkit.datasets.lecture("cifar10")
(x_train, y_train), (x_test, y_test) = data.train, data.test
is_cifar = not data.is_fallback
source = f"CIFAR-10 ({data.test_split} split)" if is_cifar else "the digits (upsampled)"
# sphinx_gallery_start_ignore
if deepkit.datasets.lectures.fast_mode():  # the documentation build's fast mode
    (x_train, y_train), (x_test, y_test) = (x_train[:2000], y_train[:2000]), (x_test[:1000], y_test[:1000])
# sphinx_gallery_end_ignore
mean, std = x_train.mean(axis=(0, 1, 2)), x_train.std(axis=(0, 1, 2))
x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

model = deepkit.models.cifar_resnet20(input_shape=x_train.shape[1:])
epochs = 30
# sphinx_gallery_start_ignore
if deepkit.datasets.lectures.fast_mode():  # the documentation build's fast mode
    epochs = 4 if is_cifar else 6
# sphinx_gallery_end_ignore
steps = epochs * int(np.ceil(len(x_train) / 128))
schedule = keras.optimizers.schedules.PiecewiseConstantDecay([steps // 2, 3 * steps // 4], [0.1, 0.01, 0.001])
model.compile(optimizer=keras.optimizers.SGD(schedule, momentum=0.9, weight_decay=1e-4),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
augment = deepkit.train.Augment(flip=is_cifar, pad_crop=4 if is_cifar else 1, seed=0)
history = model.fit(x_train, y_train, epochs=epochs, batch_size=128, validation_data=(x_test, y_test),
                    augment=augment, seed=0, verbose=2)
print(f"ResNet-20 on {source}: test accuracy {history.history['val_accuracy'][-1]:.3f} after {epochs} epochs")
fig = plot_history(history, metrics=["loss", "accuracy"], title=f"ResNet-20 on {source}")

# %%
# Digits are not flipped (a mirrored 3 is no 3), so on the fallback digits only a 1-pixel crop is on. On
# CIFAR-10 the curves show the two drops of the learning rate as steps down in the training loss; the
# paper's full schedule (the recipe above) reaches 91 % test accuracy.
