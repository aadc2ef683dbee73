"""Training recipes as code: the papers' schedules for the zoo's models, runnable from the shell.

=========================  ==============  =================================================================
recipe                     target (test)   schedule
=========================  ==============  =================================================================
``lenet5_mnist``           >= 99.0 %       Adam 2e-3, cosine decay, batch 128, 20 epochs, random shifts of up
                                           to 2 pixels (LeCun et al. trained 20 passes; 99.05 % without and
                                           99.2 % with distortions)
``resnet20_cifar10``       >= 91 %         He et al. sec. 4.2: SGD momentum 0.9, weight decay 1e-4, batch 128,
``resnet56_cifar10``       >= 92.5 %       lr 0.1 divided by 10 at 32k and 48k iterations, 64k iterations,
                                           horizontal flip + 4-pixel pad-and-crop (paper: 91.25 % / 93.03 %)
``alexnet_small_cifar10``  (none)          SGD momentum 0.9, weight decay 5e-4 as AlexNet, lr 0.01 divided by
                                           10 at 50 % and 75 %, batch 128, 60 epochs, flip + pad-and-crop
``vgg16_cifar10``          (none)          CIFAR VGG-16 (BatchNorm): SGD momentum 0.9, weight decay 5e-4 as
                                           VGG, lr 0.01 divided by 10 at 50 % and 75 %, batch 128, 160
                                           epochs, flip + pad-and-crop
``googlenet_cifar10``      (none)          CIFAR GoogLeNet with both auxiliary classifiers, their losses
                                           weighted 0.3 (Szegedy et al. sec. 5); SGD momentum 0.9, weight
                                           decay 5e-4, lr 0.05 / 10 at 50 % and 75 %, batch 128, 100 epochs
=========================  ==============  =================================================================

A recipe with ``aux_weight`` builds its model with ``aux_logits=True`` and trains on ``{"fc": y, "aux1": y,
"aux2": y}`` with loss weights ``1, aux_weight, aux_weight``; the reported accuracy is the main output's.

The data are the training splits only (``mnist-train.npz``, ``cifar10-train-jpeg.npz`` in a directory
given by ``data_dir``); 10 % of them, chosen by a fixed seed, are held out for validation, and the recipe
reports the validation accuracy (the test splits are kept for acceptance). Training goes through
``deepkit.train.fit`` (data on the device, device-side augmentation, bfloat16 on a GPU).

``epochs=`` shortens a schedule: the learning-rate steps keep their place as fractions of training
(32k/64k = 1/2 and 48k/64k = 3/4 of the iterations).

Shell::

    python -m deepkit.recipes lenet5_mnist --data-dir ../shared/data
    python -m deepkit.recipes resnet20_cifar10 --data-dir ../shared/data --epochs 30 --json out.json

Example:
    >>> from deepkit.recipes import RECIPES
    >>> sorted(RECIPES)  # doctest: +NORMALIZE_WHITESPACE
    ['alexnet_small_cifar10', 'googlenet_cifar10', 'lenet5_mnist', 'resnet20_cifar10', 'resnet56_cifar10',
     'vgg16_cifar10']
    >>> RECIPES["resnet20_cifar10"].iterations
    64000
"""

import argparse
import dataclasses
import json
import math
import os
import sys
import time

import numpy as np

__all__ = ["Recipe", "load_data", "split", "standardize", "learning_rate_schedule", "add_weight_decay", "build",
           "run", "main"]

_FILES = {"mnist": "mnist-train.npz", "cifar10": "cifar10-train-jpeg.npz"}


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A training recipe: model, data, optimizer and schedule, augmentation.

    Args:
        name: recipe name.
        model: zoo model name.
        data: ``"mnist"`` or ``"cifar10"``.
        batch_size: examples per step.
        optimizer: ``"sgd"`` (momentum 0.9, Nesterov off) or ``"adam"``.
        learning_rate: initial learning rate.
        schedule: ``"steps"`` (divide by 10 at ``milestones``) or ``"cosine"``.
        milestones: fractions of training at which the learning rate is divided by 10.
        weight_decay: L2 weight decay on every trainable weight, as in the papers (the loss gains
            ``weight_decay / 2 * sum(w ** 2)``, so the gradient gains ``weight_decay * w``).
        epochs: training epochs (used when ``iterations`` is None).
        iterations: training steps, as the paper counts them (overrides ``epochs``).
        flip: random horizontal flips.
        pad_crop: pixels of zero padding before a random crop back to the image size.
        target: validation accuracy the recipe is tuned for (for reports; None when there is none).
        reference: where the schedule comes from.
        aux_weight: loss weight of the auxiliary classifiers (GoogLeNet's 0.3); None: a model without them.

    Example:
        >>> recipe = RECIPES["resnet20_cifar10"]
        >>> recipe.model, recipe.batch_size, recipe.pad_crop
        ('cifar_resnet20', 128, 4)
    """

    name: str
    model: str
    data: str
    batch_size: int
    optimizer: str
    learning_rate: float
    schedule: str = "steps"
    milestones: tuple = (0.5, 0.75)
    weight_decay: float = 0.0
    epochs: int = None
    iterations: int = None
    flip: bool = False
    pad_crop: int = 0
    target: float = None
    reference: str = ""
    aux_weight: float = None

    def epochs_for(self, num_train):
        """Epochs of this schedule on ``num_train`` training examples.

        Args:
            num_train: number of training examples.

        Returns:
            An int.

        Example:
            >>> RECIPES["resnet20_cifar10"].epochs_for(45000)  # 64k iterations of 352 steps
            182
        """
        if self.iterations is None:
            return self.epochs
        return max(1, round(self.iterations / math.ceil(num_train / self.batch_size)))


RECIPES = {r.name: r for r in [
    Recipe("lenet5_mnist", "lenet5", "mnist", batch_size=128, optimizer="adam", learning_rate=2e-3,
           schedule="cosine", epochs=20, pad_crop=2, target=0.99,
           reference="LeCun et al. 1998 (20 passes); Adam and random shifts instead of SDLM and distortions"),
    Recipe("resnet20_cifar10", "cifar_resnet20", "cifar10", batch_size=128, optimizer="sgd", learning_rate=0.1,
           milestones=(0.5, 0.75), weight_decay=1e-4, iterations=64_000, flip=True, pad_crop=4, target=0.91,
           reference="He et al. 2015, sec. 4.2"),
    Recipe("resnet56_cifar10", "cifar_resnet56", "cifar10", batch_size=128, optimizer="sgd", learning_rate=0.1,
           milestones=(0.5, 0.75), weight_decay=1e-4, iterations=64_000, flip=True, pad_crop=4, target=0.925,
           reference="He et al. 2015, sec. 4.2"),
    Recipe("alexnet_small_cifar10", "alexnet_small", "cifar10", batch_size=128, optimizer="sgd",
           learning_rate=0.01, milestones=(0.5, 0.75), weight_decay=5e-4, epochs=60, flip=True, pad_crop=4,
           reference="Krizhevsky et al. 2012 (SGD 0.9, weight decay 5e-4, lr 0.01 / 10)"),
    Recipe("vgg16_cifar10", "cifar_vgg16", "cifar10", batch_size=128, optimizer="sgd", learning_rate=0.01,
           milestones=(0.5, 0.75), weight_decay=5e-4, epochs=160, flip=True, pad_crop=4,
           reference="Simonyan & Zisserman 2015, sec. 3.1 (SGD 0.9, weight decay 5e-4, lr 0.01 divided by 10); "
                     "BatchNorm lets all 16 layers train from scratch (lr 0.05 diverges in the first steps)"),
    Recipe("googlenet_cifar10", "cifar_googlenet", "cifar10", batch_size=128, optimizer="sgd", learning_rate=0.05,
           milestones=(0.5, 0.75), weight_decay=5e-4, epochs=100, flip=True, pad_crop=4, aux_weight=0.3,
           reference="Szegedy et al. 2015, sec. 5 (auxiliary losses weighted 0.3); BatchNorm convolutions"),
]}

AUX_OUTPUTS = ("aux1", "aux2")


def load_data(data, data_dir):
    """Load a training split from the shared benchmark files.

    ``mnist-train.npz`` holds ``x_train`` (N, 28, 28) uint8 and ``y_train``; ``cifar10-train-jpeg.npz`` holds
    JPEG bytes (``jpeg``, ``offsets``) and ``y_train``, decoded here with Pillow. A file with plain
    ``x_train``/``y_train`` arrays works for either.

    Args:
        data: ``"mnist"`` or ``"cifar10"``.
        data_dir: the directory with the files.

    Returns:
        ``(x, y)``: uint8 images (N, H, W, C) and int labels (N,).

    Raises:
        FileNotFoundError: the file is not there (the message names the expected path).
        ValueError: unknown data name or unexpected file contents.

    Example:
        >>> import os, tempfile, numpy as np
        >>> d = tempfile.mkdtemp()
        >>> np.savez(os.path.join(d, "mnist-train.npz"), x_train=np.zeros((5, 28, 28), "uint8"),
        ...          y_train=np.arange(5, dtype="uint8"))
        >>> x, y = load_data("mnist", d)
        >>> x.shape, y.tolist()
        ((5, 28, 28, 1), [0, 1, 2, 3, 4])
    """
    if data not in _FILES:
        raise ValueError(f"load_data: unknown data {data!r}; expected one of {sorted(_FILES)}.")
    path = os.path.join(os.fspath(data_dir), _FILES[data])
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_data: {path} not found; pass the directory holding {_FILES[data]} "
                                f"(e.g. --data-dir ../shared/data). Received: data_dir={os.fspath(data_dir)!r}")
    from deepkit.datasets.resolver import read_npz

    train, _ = read_npz(path)
    if train is None or train[1] is None:
        raise ValueError(f"load_data: {path} has no x_train/y_train (or jpeg/offsets/y_train) arrays.")
    x, y = train
    if x.ndim == 3:
        x = x[..., None]
    return x, y.astype("int32")


def split(x, y, validation=0.1, seed=0):
    """Hold out a random ``validation`` fraction (fixed seed) of a training set.

    Args:
        x: inputs.
        y: labels.
        validation: fraction held out.
        seed: permutation seed.

    Returns:
        ``(x_train, y_train), (x_val, y_val)``.

    Example:
        >>> import numpy as np
        >>> (a, b), (c, d) = split(np.arange(20), np.arange(20))
        >>> len(a), len(c), sorted(np.concatenate([a, c]).tolist()) == list(range(20))
        (18, 2, True)
    """
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = int(round(len(x) * validation))
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def standardize(x_train, *others):
    """Scale uint8 images to [0, 1] and standardize each channel with the training mean and std.

    Args:
        x_train: training images (N, H, W, C); its statistics are used for all arrays.
        *others: more arrays to transform the same way.

    Returns:
        A tuple of float32 arrays (the training array first).

    Example:
        >>> import numpy as np
        >>> a, = standardize(np.array([[[[0]], [[255]]]], "uint8"))
        >>> [round(float(v), 4) for v in a.ravel()]
        [-1.0, 1.0]
    """
    xt = x_train.astype("float32") / 255.0
    mean = xt.mean(axis=(0, 1, 2), keepdims=True)
    std = xt.std(axis=(0, 1, 2), keepdims=True) + 1e-7
    return tuple(((a.astype("float32") / 255.0 - mean) / std).astype("float32") for a in (x_train, *others))


def learning_rate_schedule(recipe, total_steps):
    """The recipe's learning rate as a Keras schedule over ``total_steps`` optimizer steps.

    Args:
        recipe: a :class:`Recipe`.
        total_steps: number of training steps.

    Returns:
        A ``keras.optimizers.schedules.LearningRateSchedule``.

    Example:
        >>> s = learning_rate_schedule(RECIPES["resnet20_cifar10"], 64000)
        >>> [round(float(s(step)), 4) for step in (0, 31999, 32001, 48001)]
        [0.1, 0.1, 0.01, 0.001]
    """
    import keras

    if recipe.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(recipe.learning_rate, decay_steps=max(1, total_steps))
    boundaries = [int(round(m * total_steps)) for m in recipe.milestones]
    values = [recipe.learning_rate * 0.1 ** i for i in range(len(boundaries) + 1)]
    return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)


def add_weight_decay(model, weight_decay):
    """Add L2 weight decay to every trainable weight of a built model (as ``torch.optim.SGD(weight_decay=)``).

    The loss gains ``weight_decay / 2 * sum(w ** 2)`` per weight, so each gradient gains
    ``weight_decay * w`` and goes through momentum, as in the papers (Keras optimizers' own ``weight_decay``
    is decoupled, which is a different method).

    Args:
        model: a built Keras model.
        weight_decay: the coefficient (0 does nothing).

    Returns:
        The model.

    Example:
        >>> import keras, numpy as np
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="ones")])
        >>> _ = add_weight_decay(m, 0.1)
        >>> [round(float(v), 4) for v in m.losses]  # 0.05 * (1 + 1) for the kernel, 0 for the bias
        [0.1, 0.0]
    """
    import keras

    if weight_decay:
        for variable in model.trainable_weights:
            variable.regularizer = keras.regularizers.L2(weight_decay / 2.0)
    return model


def build(recipe, input_shape, num_classes, preprocessing=None):
    """The recipe's model, compiled with its optimizer and schedule (weight decay added).

    Args:
        recipe: a :class:`Recipe`.
        input_shape: (H, W, C).
        num_classes: number of classes.
        preprocessing: the model's first layers (``deepkit.models.create``'s ``preprocessing=``; the recipes
            pass the training split's statistics, so the model takes raw 0-255 pixels).

    Returns:
        A function ``steps -> compiled model``, since the schedule needs the number of steps.

    Example:
        >>> make = build(RECIPES["lenet5_mnist"], (28, 28, 1), 10)
        >>> type(make(100).optimizer).__name__
        'Adam'
    """
    import keras

    from deepkit import models

    def make(total_steps):
        aux = {"aux_logits": True} if recipe.aux_weight is not None else {}
        model = models.create(recipe.model, input_shape=input_shape, num_classes=num_classes,
                              classifier_activation=None, preprocessing=preprocessing, **aux)
        add_weight_decay(model, recipe.weight_decay)
        lr = learning_rate_schedule(recipe, total_steps)
        if recipe.optimizer == "sgd":
            optimizer = keras.optimizers.SGD(learning_rate=lr, momentum=0.9)
        else:
            optimizer = keras.optimizers.Adam(learning_rate=lr)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if aux:  # the main output is "fc"; each auxiliary classifier's loss counts aux_weight
            model.compile(optimizer=optimizer, loss={"fc": loss, **{k: loss for k in AUX_OUTPUTS}},
                          loss_weights={"fc": 1.0, **{k: recipe.aux_weight for k in AUX_OUTPUTS}},
                          metrics={"fc": ["accuracy"]})
        else:
            model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
        return model

    return make


def run(name, data_dir, epochs=None, limit=None, seed=0, verbose=2, out=None, fast="auto", print_fn=print,
        test=None, save_weights=None, command=None):
    """Train a recipe on its training split (10 % held out) and report the validation accuracy.

    Args:
        name: a key of :data:`RECIPES`.
        data_dir: directory of ``mnist-train.npz`` / ``cifar10-train-jpeg.npz``.
        epochs: shorten (or lengthen) the schedule to this many epochs; None keeps the recipe's.
        limit: use only a random subset of ``limit`` examples (for quick checks; fixed by ``seed``).
        seed: seed of the split, the initialisation, the shuffling and the augmentation.
        verbose: Keras verbosity of the training loop.
        out: optional path of a ``.keras`` file to save the trained model to.
        fast: passed to ``deepkit.train.fit`` (``"auto"``: the on-device loop where it applies).
        print_fn: where the summary lines go.
        test: optional held-out test data (an ``.npz`` file with ``x_test``/``y_test`` or ``x``/``y``, or
            anything ``deepkit.datasets.resolve`` reads): the trained model is evaluated on its raw images.
        save_weights: optional ``.weights.h5`` path: the weights, with a JSON record beside it (command,
            accuracy, wall time, input shape, preprocessing, SHA-256), as shipped in ``deepkit/models/weights``.
        command: the command line to write into that record.

    Returns:
        A dict: recipe, model, val_accuracy, val_loss, best_val_accuracy, epochs, train/val sizes, seconds,
        seconds_per_epoch, backend, fast path info, target, preprocessing, data (file and SHA-256), and
        test_accuracy when ``test`` is given.

    The model carries its preprocessing (``Rescaling(1/255)`` and ``Normalization`` with the training
    split's per-channel mean and std), so it is trained, evaluated and saved on raw 0-255 pixels.

    Raises:
        KeyError: unknown recipe (the message lists them).

    Example:
        >>> try:
        ...     run("lenet5_cifar", "../shared/data")
        ... except KeyError as err:
        ...     print(err.args[0])  # doctest: +ELLIPSIS
        run: unknown recipe 'lenet5_cifar'; available: alexnet_small_cifar10, googlenet_cifar10, lenet5_mnist, ...

        A real run (``tests/test_recipes.py`` runs one on a tiny generated file)::

            result = run("resnet20_cifar10", "../shared/data")
            result["val_accuracy"], result["seconds"]
    """
    import keras

    from deepkit import train
    from deepkit.datasets import prepare_for_model, resolve
    from deepkit.datasets.resolver import file_sha256
    from deepkit.models.preprocessing import channel_statistics

    if name not in RECIPES:
        raise KeyError(f"run: unknown recipe {name!r}; available: {', '.join(sorted(RECIPES))}.")
    recipe = RECIPES[name]
    keras.utils.set_random_seed(seed)
    x, y = load_data(recipe.data, data_dir)
    if limit and limit < len(x):  # a random subset: the CIFAR-10 file is sorted by class
        keep = np.sort(np.random.default_rng(seed + 1).permutation(len(x))[:limit])
        x, y = x[keep], y[keep]
    (x_train, y_train), (x_val, y_val) = split(x, y, 0.1, seed)
    stats = channel_statistics(x_train)
    x_train, x_val = x_train.astype("float32"), x_val.astype("float32")  # raw 0-255: the model scales
    num_classes = 10  # MNIST and CIFAR-10
    if y.min() < 0 or y.max() >= num_classes:
        raise ValueError(f"run: {recipe.data} labels must be 0..9. Received labels from {y.min()} to {y.max()}.")
    test_data = None if test is None else resolve(test, purpose="evaluate")  # a bad file fails before training
    n_epochs = epochs or recipe.epochs_for(len(x_train))
    steps = n_epochs * math.ceil(len(x_train) / recipe.batch_size)
    model = build(recipe, x_train.shape[1:], num_classes, preprocessing=stats)(steps)
    augment = train.Augment(flip=recipe.flip, pad_crop=recipe.pad_crop, seed=seed) \
        if (recipe.flip or recipe.pad_crop) else None
    print_fn(f"recipe {name}: {recipe.model} ({sum(int(np.prod(w.shape)) for w in model.trainable_weights):,} "
             f"trainable), {len(x_train)} train / {len(x_val)} validation, {n_epochs} epochs of "
             f"{math.ceil(len(x_train) / recipe.batch_size)} steps, backend {keras.backend.backend()}")
    targets = (lambda t: {"fc": t, **{k: t for k in AUX_OUTPUTS}}) if recipe.aux_weight is not None else (lambda t: t)
    start = time.perf_counter()
    history = train.fit(model, x_train, targets(y_train), batch_size=recipe.batch_size, epochs=n_epochs,
                        verbose=verbose, validation_data=(x_val, targets(y_val)), augment=augment, seed=seed,
                        fast=fast)
    seconds = time.perf_counter() - start
    scores = model.evaluate(x_val, targets(y_val), batch_size=500, verbose=0, return_dict=True)
    acc_key = "fc_accuracy" if recipe.aux_weight is not None else "accuracy"
    val_loss, val_accuracy = scores["loss"], scores[acc_key]
    val_hist = history.history.get("val_" + acc_key, [val_accuracy])
    result = {
        "recipe": name, "model": recipe.model, "val_accuracy": float(val_accuracy), "val_loss": float(val_loss),
        "best_val_accuracy": float(max(val_hist)), "epochs": n_epochs, "num_train": len(x_train),
        "num_val": len(x_val), "seconds": round(seconds, 1), "seconds_per_epoch": round(seconds / n_epochs, 2),
        "backend": keras.backend.backend(), "fast": getattr(history, "fast", None), "target": recipe.target,
        "val_accuracy_per_epoch": [round(float(v), 4) for v in val_hist],
        "preprocessing": stats, "input_shape": list(x_train.shape[1:]),
        "data": {"file": os.path.join(os.fspath(data_dir), _FILES[recipe.data]),
                 "sha256": file_sha256(os.path.join(os.fspath(data_dir), _FILES[recipe.data])),
                 "limit": limit, "split_seed": seed, "validation_fraction": 0.1},
    }
    if test_data is not None:
        if test_data.y_test is None:
            raise ValueError(f"run: the test data {test!r} have no labels.")
        x_test, notes = prepare_for_model(model, test_data.x_test, test_data.pixel_scale)
        test_scores = model.evaluate(x_test, targets(test_data.y_test), batch_size=500, verbose=0,
                                     return_dict=True)
        result["test_accuracy"] = float(test_scores[acc_key])
        result["test"] = {"file": test_data.source, "sha256": test_data.fingerprint,
                          "num_test": int(len(x_test)), "adapted": notes}
        print_fn(f"recipe {name}: test accuracy {result['test_accuracy']:.4f} on {len(x_test)} images of {test}")
    print_fn(f"recipe {name}: validation accuracy {val_accuracy:.4f} after {n_epochs} epochs "
             f"({seconds:.1f} s, {seconds / n_epochs:.2f} s/epoch)"
             + (f"; target {recipe.target:.3f}" if recipe.target else ""))
    if out:
        model.save(out)
        print_fn(f"recipe {name}: saved to {out}")
    if save_weights:
        # A fresh, uncompiled copy: the file holds the network's weights only, not the optimizer's state.
        from deepkit import models

        aux = {"aux_logits": True} if recipe.aux_weight is not None else {}
        inference = models.create(recipe.model, input_shape=x_train.shape[1:], num_classes=num_classes,
                                  classifier_activation=None, preprocessing=stats, **aux)
        inference.set_weights(model.get_weights())
        inference.save_weights(save_weights)
        record = {"model": recipe.model, "recipe": name, "command": command or f"deepkit.recipes.run({name!r})",
                  "sha256": file_sha256(save_weights), "input_shape": result["input_shape"],
                  "num_classes": num_classes, "preprocessing": stats, "val_accuracy": result["val_accuracy"],
                  "num_val": result["num_val"], "epochs": n_epochs, "seconds": result["seconds"],
                  "backend": result["backend"], "data": result["data"],
                  "keras": keras.__version__, "date": time.strftime("%Y-%m-%d")}
        record_path = save_weights[:-len(".weights.h5")] + ".json" if save_weights.endswith(".weights.h5") \
            else save_weights + ".json"
        with open(record_path, "w") as f:
            json.dump(record, f, indent=1)
        print_fn(f"recipe {name}: weights saved to {save_weights} (record {record_path})")
    return result


def main(argv=None):
    """``python -m deepkit.recipes NAME --data-dir DIR [--epochs N] [--limit N] [--seed S] [--json F] [--out F]``.

    Args:
        argv: command-line arguments (``sys.argv[1:]`` by default).

    Returns:
        The exit status.

    Example:
        >>> main(["--list"])  # doctest: +ELLIPSIS
        alexnet_small_cifar10: alexnet_small on cifar10...
        0
    """
    parser = argparse.ArgumentParser(prog="python -m deepkit.recipes", description=__doc__.split("\n")[0])
    parser.add_argument("recipe", nargs="?", choices=sorted(RECIPES))
    parser.add_argument("--list", action="store_true", help="list the recipes")
    parser.add_argument("--data-dir", default=os.path.join("..", "shared", "data"))
    parser.add_argument("--epochs", type=int, default=None, help="shorten/lengthen the schedule")
    parser.add_argument("--limit", type=int, default=None, help="use a random subset of N examples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    parser.add_argument("--json", default=None, help="write the result dict here")
    parser.add_argument("--out", default=None, help="save the trained model (.keras)")
    parser.add_argument("--test", default=None, help="held-out test file (.npz with x_test/y_test or x/y): "
                        "report the test accuracy at the end")
    parser.add_argument("--save-weights", default=None,
                        help="save the weights (.weights.h5) with a JSON record beside it")
    args = parser.parse_args(argv)
    if args.list or not args.recipe:
        for key in sorted(RECIPES):
            r = RECIPES[key]
            length = f"{r.iterations} iterations" if r.iterations else f"{r.epochs} epochs"
            print(f"{key}: {r.model} on {r.data}, {r.optimizer} lr {r.learning_rate}, {length}, batch "
                  f"{r.batch_size}" + (f", target {r.target}" if r.target else ""))
        return 0
    command = "python -m deepkit.recipes " + " ".join(sys.argv[1:] if argv is None else argv)
    result = run(args.recipe, args.data_dir, epochs=args.epochs, limit=args.limit, seed=args.seed,
                 verbose=args.verbose, out=args.out, test=args.test, save_weights=args.save_weights,
                 command=command)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
