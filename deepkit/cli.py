"""The ``deepkit`` command: train, evaluate, report, summary, models.

``deepkit train`` with no arguments trains LeNet-5 on scikit-learn's offline digits and prints the test
accuracy; ``deepkit evaluate`` and ``deepkit report`` read what it saved. Every command resolves models
through ``deepkit.models.load`` and data through ``deepkit.datasets.resolve`` (``--data``, ``--data-path``),
so one reference means the same thing everywhere. Keras and its backend load only when a command needs
them (``deepkit --help`` and ``deepkit models`` answer at once), and TensorFlow's start-up messages are
hidden unless ``--verbose``.

The module is over 600 lines as one cohesive thing: one command whose sub-commands share the argument
types, the quiet start-up, the model and data resolution and the one-line errors; ``train``'s part
checks where its results go before any work, checkpoints every epoch and saves atomically.

Example:
    >>> from deepkit.cli import main
    >>> main(["models", "--filter", "lenet*", "--names"])
    lenet5
    lenet5_paper
    0
"""

import argparse
import contextlib
import json
import math
import os
import re
import signal
import sys
import tempfile
import time
import uuid

from deepkit.naming import did_you_mean

__all__ = ["main", "build_parser", "add_report_arguments", "run_report"]


def _positive(kind, what="the value"):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a positive {kind.__name__}. Received: {text!r}") from None
        if not value > 0 or not math.isfinite(value):  # NaN is not > 0
            raise argparse.ArgumentTypeError(f"{what} must be a positive, finite number. Received: {text}")
        return value
    return parse


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1). Received: {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1). Received: {text}")
    return value


def _parse_shape(text):
    try:
        return tuple(int(v) for v in text.replace("x", ",").split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a shape like 32,32,3. Received: {text!r}") from None


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _one_line(text):
    return " ".join(_ANSI.sub("", str(text)).split())


@contextlib.contextmanager
def _quiet_startup(verbose, seeding=False):
    """Hide the backend's C++ start-up messages (TensorFlow's cuInit error on every CPU machine).

    TensorFlow writes them to file descriptor 2 from C++ before Python's ``sys.stderr`` sees anything,
    so they are captured at the descriptor while Keras imports, and shown only if the import fails.
    ``seeding``: the command seeds Keras' random generators, which imports TensorFlow when it is
    installed (any backend): it is imported here too.
    """
    if verbose:
        yield
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # later C++ messages (device set-up) below ERROR+1
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notes are not the user's business
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            from deepkit.backend.startup import preload  # its package imports Keras: inside the capture

            preload(seeding)
        except BaseException:
            os.dup2(saved, 2)
            capture.seek(0)
            sys.stderr.write(capture.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    yield


def _is_file_ref(ref):
    return ref.lower().endswith((".keras", ".h5", ".hdf5", ".yaml", ".yml", ".json"))


def _is_saved_model(ref):
    return ref.lower().endswith((".keras", ".h5", ".hdf5")) and not ref.lower().endswith(".weights.h5")


def _load_model(ref, input_shape=None, num_classes=None, weights=None, **options):
    """A model from a zoo name, a spec file or a saved file (``deepkit.models.load``, which refuses
    ``--weights`` for a saved model); the data's shape and classes only size zoo models and specs."""
    from deepkit import models

    if _is_saved_model(ref):
        input_shape = num_classes = None
    return models.load(ref, weights=weights, input_shape=input_shape, num_classes=num_classes, **options)


def _check_labels_fit(model, data, args):
    """The model's outputs can express the data's labels (the check ``deepkit.Model.fit`` runs)."""
    from deepkit.train.checks import check_labels_fit

    if data.y_test is None or len(model.outputs) != 1:
        return
    try:
        check_labels_fit(model, data.y_test, name=f"{data.test_split} labels")
    except ValueError as exc:
        raise type(exc)(f"--data {args.data!r}: model {model.name!r} does not fit these labels: {exc}") from None


def _check_writable(option, path, suffixes=None, what=None):
    """Before any work: ``path`` can be written, so a finished job is never lost to a bad name."""
    if os.path.isdir(path):
        raise ValueError(f"{option} {path!r}: is an existing folder; give a file name "
                         f"(e.g. {os.path.join(path, 'model' + (suffixes or ('.json',))[0])!r})")
    if suffixes and not path.lower().endswith(suffixes):
        ending = os.path.splitext(path)[1] or "no suffix"
        raise ValueError(f"{option} {path!r}: {what}; received a name ending in {ending!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"{option} {path!r}: the folder {folder!r} does not exist; create it first")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".deepkit-write-test-"):
            pass
    except OSError as exc:
        raise ValueError(f"{option} {path!r}: cannot write in {folder!r} ({exc.strerror or exc})") from None


_OUT_SUFFIXES = (".keras", ".weights.h5", ".h5")
_OUT_WHAT = ("a trained model is saved as a .keras file (the whole model: deepkit evaluate reads it), or as "
             "a .weights.h5 file (the weights, with the architecture beside them as a .yaml spec)")


def _save_trained(model, out):
    """Save atomically (temporary file, then rename): ``.keras``/``.h5`` the model, ``.weights.h5`` the weights."""
    from deepkit.train.checkpoint import save_model

    if out.lower().endswith(".keras"):
        save_model(model, out)
        return "model"
    folder, name = os.path.split(os.path.abspath(out))
    weights_only = out.lower().endswith(".weights.h5")
    tmp = os.path.join(folder, f".{name}.{uuid.uuid4().hex}.tmp" + (".weights.h5" if weights_only else ".h5"))
    try:
        (model.save_weights if weights_only else model.save)(tmp)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    if not weights_only:
        return "model"
    spec = _architecture_path(out)  # the weights alone do not say which layers (preprocessing included) hold them
    with open(spec, "w") as f:
        f.write(model.to_spec("yaml"))
    return spec


def _architecture_path(out):
    return out[:-len(".weights.h5")] + ".yaml"


def _checkpoint_folder(args):
    """Where ``train`` checkpoints every epoch: ``--resume``, ``--checkpoint``, or next to ``--out``."""
    from deepkit.train.checkpoint import list_checkpoints

    if args.resume:
        if not list_checkpoints(args.resume):
            raise ValueError(f"--resume {args.resume!r}: holds no checkpoint to continue from (a folder that "
                             "'deepkit train --checkpoint DIR' or '--out FILE' wrote while training)")
        return args.resume, False
    folder = args.checkpoint or (f"{args.out}-checkpoint" if args.out else None)
    if folder is None:
        return None, False
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ValueError(f"--checkpoint {folder!r}: is a file; checkpoints need a folder")
    done = list_checkpoints(folder) if os.path.isdir(folder) else []
    if done:
        raise ValueError(f"{folder!r} holds checkpoints of an earlier run (up to epoch "
                         f"{_checkpoint_epoch(done[-1])}): add --resume {folder} to continue it, or remove it")
    return folder, args.checkpoint is None  # the folder next to --out goes once the model is saved


def _checkpoint_epoch(path):
    return int(os.path.basename(os.path.normpath(path)).split("-")[-1])


def _divergence_guard():
    """A callback that stops at the end of the first epoch whose loss is NaN or infinite, before any
    later callback (the checkpoint) saves that epoch."""
    import keras

    from deepkit.train.checkpoint import TrainingDivergedError

    class StopWhenNotFinite(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                raise TrainingDivergedError(f"training diverged: the loss became {float(loss)} in epoch {epoch + 1}; "
                                            "--out was not written (lower --lr, or check the data)")

    return StopWhenNotFinite()


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (a scheduler's stop, ``kill``) ends training the way Ctrl-C does."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_LOSS_ALIASES = {"sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy", "mse",
                 "mean_squared_error", "mae", "mean_absolute_error", "huber", "kl_divergence", "hinge",
                 "categorical_hinge", "squared_hinge", "log_cosh", "poisson", "binary_focal_crossentropy",
                 "categorical_focal_crossentropy"}


def _optimizer(name, learning_rate):
    import keras

    known = sorted(n for n in dir(keras.optimizers) if not n.startswith("_") and n[0].isupper()
                   and n not in ("Optimizer", "LossScaleOptimizer"))
    by_key = {n.lower(): n for n in known}
    key = name.strip().lower().replace("_", "")
    if key not in by_key:
        raise ValueError(f"--optimizer: unknown optimizer {name!r}.{did_you_mean(key, list(by_key))} "
                         f"Available: {', '.join(k.lower() for k in known)}.")
    return keras.optimizers.get({"class_name": by_key[key], "config": {"learning_rate": learning_rate}})


def _loss(name, model):
    import keras

    key = name.strip().lower()
    if key not in _LOSS_ALIASES:
        raise ValueError(f"--loss: unknown loss {name!r}.{did_you_mean(key, sorted(_LOSS_ALIASES))} "
                         f"Available: {', '.join(sorted(_LOSS_ALIASES))}.")
    classes = {"sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
               "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
               "binary_crossentropy": keras.losses.BinaryCrossentropy}
    if key in classes:  # from the model's output layer, so Keras never warns about a softmax fed as logits
        from deepkit.probabilities import outputs_logits

        return classes[key](from_logits=model is None or outputs_logits(model) is not False)
    return keras.losses.get(key)


def _say(args, text):
    if not getattr(args, "quiet", False):
        print(text, file=sys.stderr, flush=True)


def _zoo_model_for(args, data):
    """A zoo model for the data: its default size, the data's channels and classes, raw pixels in."""
    from deepkit import models
    from deepkit.models.preprocessing import channel_statistics

    info = models.model_info(args.model)
    if args.input_shape:
        shape = tuple(args.input_shape)
    elif data.pixel_scale is None:
        shape = tuple(data.x_train.shape[1:])
    else:
        channels = data.x_train.shape[-1] if data.x_train.ndim == 4 else 1
        shape = (*info.input_shape[:2], channels)
    options = {}
    if args.weights is None and data.pixel_scale is not None:
        raw = data.x_train if data.pixel_scale == 255.0 else data.x_train * 255.0
        if raw.ndim == 4 and raw.shape[-1] != shape[-1]:
            raw = raw.mean(axis=-1, keepdims=True) if shape[-1] == 1 else raw.repeat(shape[-1], axis=-1)
        options["preprocessing"] = channel_statistics(raw)
    return _load_model(args.model, input_shape=shape if args.weights is None else None,
                       num_classes=data.num_classes if args.weights is None else None,
                       weights=args.weights, **options)


def _compile_for_training(model, args, saved):
    """Compile with --optimizer/--lr/--loss; a saved, compiled model keeps its optimizer and its state
    (moments, step count) unless another optimizer is asked for. Returns a note or None."""
    kept = getattr(model, "optimizer", None) if saved else None
    note = None
    if kept is not None and (args.optimizer is None or
                             args.optimizer.strip().lower().replace("_", "") == type(kept).__name__.lower()):
        optimizer = kept
        if args.lr is not None:
            try:
                optimizer.learning_rate = args.lr
            except (TypeError, ValueError) as exc:
                raise ValueError(f"--lr {args.lr}: the saved optimizer's learning rate is a schedule and cannot be "
                                 f"set ({_one_line(exc)}); leave --lr out, or give --optimizer to start afresh") \
                    from None
        note = (f"optimizer: the saved {type(kept).__name__} with its state (step {int(kept.iterations)})"
                + (f", learning rate {args.lr}" if args.lr is not None else ""))
    else:
        optimizer = _optimizer(args.optimizer or "adam", 1e-3 if args.lr is None else args.lr)
        if kept is not None:
            note = f"optimizer: a new {type(optimizer).__name__} (--optimizer); the saved optimizer state is not used"
    loss = getattr(model, "loss", None) if saved and args.loss is None else None
    loss = loss if loss is not None else _loss(args.loss or "sparse_categorical_crossentropy", model)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return note


def _cmd_train(args):
    """Train a model on a dataset, print the test accuracy, optionally save it."""
    from deepkit.datasets import prepare_for_model, resolve

    import keras

    _optimizer(args.optimizer or "adam", 1e-3 if args.lr is None else args.lr)  # a misspelt name fails at once
    _loss(args.loss or "sparse_categorical_crossentropy", None)
    if args.out:  # every check of where results go before any training
        _check_writable("--out", args.out, _OUT_SUFFIXES, _OUT_WHAT)
        if args.out.lower().endswith(".weights.h5"):
            _check_writable("--out (its architecture)", _architecture_path(args.out))
    if args.history:
        _check_writable("--history", args.history)
    checkpoints, temporary_checkpoints = _checkpoint_folder(args)
    data = resolve(args.data, args.data_path, purpose="train", seed=args.seed)
    keras.utils.set_random_seed(args.seed)
    saved = _is_saved_model(args.model)
    if _is_file_ref(args.model):
        model = _load_model(args.model, input_shape=args.input_shape or tuple(data.x_train.shape[1:]),
                            weights=args.weights, compile=saved)
    else:
        model = _zoo_model_for(args, data)
    x, notes = prepare_for_model(model, data.x_train, data.pixel_scale)
    x_test, _ = prepare_for_model(model, data.x_test, data.pixel_scale)
    _check_labels_fit(model, data, args)
    optimizer_note = _compile_for_training(model, args, saved)
    _say(args, f"data: {data.describe()}" + (f"; for the model: {', '.join(notes)}" if notes else ""))
    if optimizer_note:
        _say(args, optimizer_note)
    callbacks = [_divergence_guard()]
    checkpoint = None
    if checkpoints:
        from deepkit.train.checkpoint import Checkpoint

        checkpoint = Checkpoint(checkpoints, keep=1, restore=bool(args.resume))
        callbacks.append(checkpoint)
    start = time.perf_counter()
    fit_kwargs = dict(batch_size=args.batch_size, epochs=args.epochs, validation_split=args.validation_split,
                      verbose=0 if args.quiet else 2, callbacks=callbacks)
    if args.fast:
        fit_kwargs["fast"] = True
    try:
        with _sigterm_as_interrupt(), contextlib.redirect_stdout(sys.stderr):  # epoch lines are progress
            history = model.fit(x, data.y_train, **fit_kwargs)
    except KeyboardInterrupt:
        return _interrupted(args, checkpoints)
    seconds = time.perf_counter() - start
    losses = (checkpoint.history if checkpoint is not None else history.history).get("loss", [])
    loss, accuracy = model.evaluate(x_test, data.y_test, verbose=0)
    print(f"model: {model.name} ({model.count_params():,} parameters)  data: {args.data} "
          f"({len(x)} train / {len(x_test)} {data.test_split})")
    resumed = f", resumed after epoch {checkpoint.restored_epoch}" if checkpoint and checkpoint.restored_epoch else ""
    print(f"trained {len(history.history.get('loss', []))} epochs in {seconds:.1f} s{resumed}; final train loss "
          + (f"{losses[-1]:.4f}" if losses else "-"))
    print(f"{data.test_split} accuracy: {accuracy:.4f}")
    if args.out:
        kind = _save_trained(model, args.out)
        print(f"saved to {args.out}" if kind == "model" else
              f"weights saved to {args.out}, the architecture to {kind} (read them back with: deepkit evaluate "
              f"{kind} --weights {args.out})")
        if temporary_checkpoints:
            import shutil

            shutil.rmtree(checkpoints, ignore_errors=True)
    if args.history:
        with open(args.history, "w") as f:
            json.dump({k: [float(v) for v in vals] for k, vals in
                       (checkpoint.history if checkpoint is not None else history.history).items()}, f)
        print(f"history saved to {args.history}")
    return 0


def _interrupted(args, checkpoints):
    """Ctrl-C or SIGTERM during training: say what is on disk and how to go on; exit status 130."""
    from deepkit.train.checkpoint import latest_checkpoint

    latest = latest_checkpoint(checkpoints) if checkpoints and os.path.isdir(checkpoints) else None
    if latest is None:
        where = ("no epoch had finished, so nothing was saved" if checkpoints else
                 "nothing was saved (with --out or --checkpoint DIR every finished epoch is kept)")
        print(f"deepkit train: interrupted; {where}", file=sys.stderr)
    else:
        print(f"deepkit train: interrupted; epochs 1-{_checkpoint_epoch(latest)} of {args.epochs} are saved in "
              f"{checkpoints}: run the same command with --resume {checkpoints} to continue", file=sys.stderr)
    return 130


def _cmd_evaluate(args):
    """Accuracy, loss, per-class accuracy and the confusion matrix of a model on a dataset."""
    import numpy as np

    from deepkit.datasets import prepare_for_model, resolve

    data = resolve(args.data, args.data_path, purpose="evaluate", seed=args.seed)  # also refuses NaN pixels
    if data.y_test is None:
        raise ValueError(f"--data {args.data!r}: has no labels; evaluate needs them")
    model = _load_model(args.model, weights=args.weights)
    _check_labels_fit(model, data, args)
    x, notes = prepare_for_model(model, data.x_test, data.pixel_scale)
    _say(args, f"data: {data.describe()}" + (f"; for the model: {', '.join(notes)}" if notes else ""))
    from deepkit.probabilities import predict_proba
    from deepkit.viz.curves import confusion_matrix

    probs = predict_proba(model, x, batch_size=args.batch_size)
    y = data.y_test
    classes = max(probs.shape[1], int(y.max()) + 1)
    predicted = probs.argmax(axis=1)
    picked = probs[np.arange(len(y)), np.minimum(y, probs.shape[1] - 1)]
    loss = float(np.mean(-np.log(np.clip(picked, 1e-7, 1.0))))
    accuracy = float(np.mean(predicted == y))
    matrix = confusion_matrix(y, predicted, num_classes=classes)
    names = _class_names(args.class_names, classes)
    print(f"model: {model.name}  data: {args.data} ({len(y)} {data.test_split} images)")
    print(f"accuracy: {accuracy:.4f}")
    print(f"loss: {loss:.4f}")
    print("per-class accuracy:")
    width = max(len(n) for n in names)
    for c in range(classes):
        total = int(matrix[c].sum())
        value = f"{matrix[c, c] / total:.4f}" if total else "-"
        print(f"  {names[c]:<{width}}  {value}  ({int(matrix[c, c])}/{total})")
    print("confusion matrix (rows: true class, columns: predicted):")
    cell = max(len(str(int(matrix.max()))), 3)
    print("  " + " " * width + "".join(f" {str(c)[:cell]:>{cell}}" for c in range(classes)))
    for c in range(classes):
        print(f"  {names[c]:<{width}}" + "".join(f" {int(v):>{cell}}" for v in matrix[c]))
    if args.out:
        import matplotlib

        matplotlib.use("Agg")
        from deepkit.viz.curves import plot_confusion_matrix

        figure = plot_confusion_matrix(matrix=matrix, class_names=names)
        figure = getattr(figure, "figure", figure)
        figure.savefig(args.out, dpi=120, bbox_inches="tight")
        print(f"confusion matrix saved to {args.out}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": model.name, "data": args.data, "split": data.test_split, "accuracy": accuracy,
                       "loss": loss, "per_class_accuracy": [float(matrix[c, c] / max(1, matrix[c].sum()))
                                                            for c in range(classes)],
                       "confusion_matrix": matrix.tolist(), "fingerprint": data.fingerprint}, f, indent=1)
    return 0


def _class_names(text, classes):
    names = _split(text) if text else [str(c) for c in range(classes)]
    if len(names) != classes:
        raise ValueError(f"--class-names: {len(names)} names for {classes} classes; give one per class, in order")
    return names


def _cmd_summary(args):
    """Print a model's layers with output shapes, parameters and multiply-adds."""
    from deepkit.summary import summary

    if args.model.lower().endswith((".yaml", ".yml", ".json")) and not args.spec:
        summary(args.model, input_shape=args.input_shape)  # from shapes: the weights are never allocated
        return 0
    model = _load_model(args.model, input_shape=args.input_shape, num_classes=args.num_classes)
    summary(model)
    if args.spec:
        print(model.to_spec("yaml"))
    return 0


def _multiply_adds(n):
    if n is None:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


def _cmd_playground(args):
    """``deepkit playground``: serve the page until Ctrl-C (Keras is already loaded by main, quietly)."""
    from deepkit.playground.server import serve

    return serve(host=args.host, port=args.port, open_browser=not args.no_browser, verbose=args.verbose)


def _cmd_models(args):
    """List the zoo's models: name, parameters, multiply-adds, default input, shipped weights, paper."""
    from deepkit import models

    names = models.list_models(args.filter) if args.filter else models.list_models()
    if not names:
        print(f"deepkit models: no model matches {args.filter!r} (try 'deepkit models' for all "
              f"{len(models.list_models())})", file=sys.stderr)
        return 1
    if args.names:
        for name in names:
            print(name)
        return 0
    rows = [("name", "trainable", "multiply-adds", "input", "weights", "paper")]
    for name in names:
        info = models.model_info(name)
        count = "-" if info.trainable_params is None else f"{info.trainable_params:,}"
        rows.append((name, count, _multiply_adds(info.macs), "x".join(str(d) for d in info.input_shape),
                     models.describe_weights(name), info.paper))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:<{widths[3]}}  "
              f"{r[4]:<{widths[4]}}  {r[5]}")
    return 0


def _cmd_predict(args):
    """Top classes of each image, with the evaluation transform stated (``deepkit.models.predict``)."""
    from deepkit.models.predict import predict_files

    return predict_files(args.model, args.weights, args.images, top=args.top)


def _add_data_arguments(parser, default="digits", what="its test split"):
    parser.add_argument("--data", default=default,
                        help=f"dataset name (digits, mnist, cifar10, ...; {what}), .npz/.npy file or folder "
                             f"(default: {default})")
    parser.add_argument("--data-path", help="local file or folder for a dataset name (no download)")


def _attribution_methods():
    """The attribution registry's methods in display order, and those the report draws by default
    (importing the registry imports Keras)."""
    from deepkit.viz.attribution.registry import report_methods

    return report_methods(default_only=False), report_methods(default_only=True)


def add_report_arguments(parser, methods=None):
    """Add the ``deepkit report`` arguments to an ``argparse`` parser.

    Args:
        parser: an ``argparse.ArgumentParser`` (the ``report`` sub-command's).
        methods: the attribution methods ``--help`` lists; None reads them from the registry
            (``deepkit.viz.attribution.list_methods()``, which imports Keras), ``()`` leaves them out.

    Returns:
        The parser.

    Example:
        >>> import argparse
        >>> p = add_report_arguments(argparse.ArgumentParser())
        >>> a = p.parse_args(["m.keras", "--data", "digits", "--out", "r"])
        >>> a.model, a.data, a.out, a.num_samples
        ('m.keras', 'digits', 'r', 8)
    """
    methods, defaults = _attribution_methods() if methods is None else (tuple(methods), ())
    parser.add_argument("model", help="saved model (.keras), spec file or zoo name")
    _add_data_arguments(parser)
    parser.add_argument("--weights", help="for a zoo name or spec: shipped weights (e.g. mnist) or a weights file")
    parser.add_argument("--out", default="deepkit-report",
                        help="output folder: new, empty, or an earlier report's, which is replaced "
                             "(default: deepkit-report)")
    parser.add_argument("--history", help="JSON file of History.history, for training curves")
    parser.add_argument("--layers", help="comma-separated layer names or paths (default: automatic)")
    parser.add_argument("--num-samples", type=int, default=8, help="sample inputs (default 8)")
    parser.add_argument("--class-names", help="comma-separated class names, one per class")
    parser.add_argument("--top-k", type=int, default=9, help="patches per channel (default 9)")
    parser.add_argument("--max-channels", type=int, default=16)
    parser.add_argument("--max-images", type=int, default=2000,
                        help="data samples used at most (default 2000)")
    parser.add_argument("--featurevis-steps", type=int, default=128)
    parser.add_argument("--no-featurevis", action="store_true", help="skip feature visualization")
    parser.add_argument("--attributions",
                        help="comma-separated attribution methods, of: "
                             + (", ".join(methods) if methods else "deepkit.viz.attribution.list_methods()")
                             + " (default: " + (", ".join(defaults) or "the registry's report methods")
                             + "; '' for none)")
    parser.add_argument("--single-file", action="store_true",
                        help="one self-contained index.html (images inlined) instead of the atlas")
    parser.add_argument("--max-units", type=int, default=64,
                        help="atlas: units in each layer page's gallery (default 64)")
    parser.add_argument("--unit-pages", type=int, default=8,
                        help="atlas: units per layer with a page of their own (default 8)")
    parser.add_argument("--max-classes", type=int, default=100, help="atlas: class pages at most (default 100)")
    parser.add_argument("--no-activation-atlas", action="store_true",
                        help="atlas: leave out the activation atlas of the deepest spatial layer shown")
    parser.add_argument("--screenshot", action="store_true",
                        help="also open index.html in headless Chromium, check it and save screenshot.png")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--verbose", action="store_true", help="show the backend's start-up messages")
    return parser


def _split(text):
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def run_report(args):
    """Run ``deepkit report`` with parsed arguments (see :func:`add_report_arguments`).

    Args:
        args: the ``argparse.Namespace``.

    Returns:
        0 on success.

    Raises:
        ValueError: a bad model file, data, history file, class-name count or
            ``--out`` that names a file (``main`` prints it as one line and
            exits with status 2).

    Example:
        >>> import argparse, tempfile, os, numpy as np, keras
        >>> d = tempfile.mkdtemp()
        >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3),
        ...                       keras.layers.Flatten(), keras.layers.Dense(2)])
        >>> m.save(os.path.join(d, "m.keras"))
        >>> np.savez(os.path.join(d, "d.npz"), x=np.random.rand(6, 8, 8, 1), y=np.arange(6) % 2)
        >>> a = add_report_arguments(argparse.ArgumentParser()).parse_args(
        ...     [os.path.join(d, "m.keras"), "--data", os.path.join(d, "d.npz"), "--out",
        ...      os.path.join(d, "r"), "--no-featurevis", "--attributions", "saliency", "--quiet",
        ...      "--single-file"])
        >>> run_report(a), sorted(os.listdir(os.path.join(d, "r")))  # doctest: +ELLIPSIS
        /.../r/index.html
        (0, ['index.html', 'report.json'])
    """
    out = args.out
    if out and os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"{out}: --out names an existing file; the report needs a folder (give a new or "
                         "existing folder name)")
    with _quiet_startup(getattr(args, "verbose", False)):  # also when called from Python
        model = _load_model(args.model, weights=getattr(args, "weights", None))
        from deepkit.viz.report.data import is_regression

        # labels the model cannot express: refused before anything is written (a regression's targets are numbers)
        if isinstance(args.data, str) and not is_regression(model):
            from deepkit.datasets import resolve

            _check_labels_fit(model, resolve(args.data, getattr(args, "data_path", None), purpose="evaluate"), args)
    from deepkit.viz.report import ATTRIBUTION_METHODS, build_report

    path = build_report(
        model, args.data, out, history=args.history, layers=_split(args.layers),
        num_samples=args.num_samples, class_names=_split(args.class_names), top_k=args.top_k,
        max_channels=args.max_channels, max_images=args.max_images,
        featurevis=not args.no_featurevis, featurevis_steps=args.featurevis_steps,
        attributions=ATTRIBUTION_METHODS if args.attributions is None else _split(args.attributions) or [],
        progress=not args.quiet,
        single_file=getattr(args, "single_file", False), max_units=getattr(args, "max_units", 64),
        unit_pages=getattr(args, "unit_pages", 8), max_classes=getattr(args, "max_classes", 100),
        activation_atlas=not getattr(args, "no_activation_atlas", False),
        data_path=getattr(args, "data_path", None))
    if getattr(args, "screenshot", False):
        from deepkit.viz.report_browser import check_page

        result = check_page(path, screenshot=os.path.join(out, "screenshot.png"))
        print(f"chromium: {len(result.images)} images decoded, {len(result.console_errors)} "
              f"console errors; screenshot {result.screenshot}")
    print(path)
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line saying what was wrong, plus where to find help."""

    def error(self, message):
        bad = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if bad:  # argparse's own choice error, plus the package-wide "did you mean"
            message += did_you_mean(bad.group(1), re.findall(r"'([^']*)'", bad.group(2)))
        self.exit(2, f"{self.prog}: error: {message}\n(see '{self.prog} -h')\n")


def build_parser(report_methods=True):
    """The argument parser of the ``deepkit`` command.

    Args:
        report_methods: list the attribution registry's methods in ``report --help`` (imports Keras);
            ``deepkit`` passes False unless the command is ``report``, so other commands start at once.

    Returns:
        An ``argparse.ArgumentParser``.

    Example:
        >>> build_parser().parse_args(["train", "--epochs", "2"]).epochs
        2
    """
    parser = _Parser(prog="deepkit", description="Stack layers, train classic networks, "
                                     "and see what each layer has learned.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser("train", help="train a model and print its test accuracy")
    train.add_argument("--model", default="lenet5", help="zoo name, spec file (.yaml/.json) or .keras file "
                       "(default: lenet5; a zoo model is built at its default size for the data's channels and "
                       "classes, with the data's scaling inside: it takes raw pixels)")
    _add_data_arguments(train, what="a file without a test split gets a 10%% validation split")
    train.add_argument("--weights", help="start from these weights (zoo name or spec): shipped tag or file")
    train.add_argument("--input-shape", type=_parse_shape, help="e.g. 32,32,1 (default: the model's, with "
                       "the data's channels)")
    train.add_argument("--epochs", type=_positive(int), default=30)
    train.add_argument("--batch-size", type=_positive(int), default=64)
    train.add_argument("--optimizer", help="a keras.optimizers name (default: adam; a saved .keras model keeps "
                       "its own optimizer and its state)")
    train.add_argument("--loss", help="a keras.losses name (default: sparse_categorical_crossentropy, or a saved "
                       "model's own; from_logits follows the model's last layer)")
    train.add_argument("--lr", type=_positive(float, "the learning rate"),
                       help="learning rate (default: 1e-3, or a saved model's own)")
    train.add_argument("--validation-split", type=_fraction, default=0.0)
    train.add_argument("--fast", action="store_true", help="use deepkit's on-device fast fit path")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", help="save the trained model to this .keras file (or its weights to a .weights.h5 "
                       "file); checked before training. Every finished epoch is checkpointed in OUT-checkpoint "
                       "until the model is saved")
    train.add_argument("--checkpoint", metavar="DIR", help="keep a checkpoint of every finished epoch in this folder "
                       "(Ctrl-C or SIGTERM then loses at most the epoch under way)")
    train.add_argument("--resume", metavar="DIR", help="continue an interrupted run from the newest checkpoint in "
                       "DIR (same command otherwise)")
    train.add_argument("--history", help="save History.history to this JSON file (for deepkit report)")
    train.add_argument("--quiet", action="store_true", help="no progress lines")
    train.add_argument("--verbose", action="store_true", help="show the backend's start-up messages")
    train.set_defaults(func=_cmd_train)

    evaluate = sub.add_parser("evaluate", help="accuracy, loss, per-class accuracy and confusion matrix")
    evaluate.add_argument("model", help="saved model (.keras), spec file or zoo name (with --weights)")
    _add_data_arguments(evaluate, what="its test split, or the held-out validation split of a training file")
    evaluate.add_argument("--weights", help="for a zoo name or spec: shipped weights (e.g. mnist) or a file")
    evaluate.add_argument("--batch-size", type=_positive(int), default=256)
    evaluate.add_argument("--class-names", help="comma-separated class names, one per class")
    evaluate.add_argument("--out", help="save the confusion matrix as this PNG")
    evaluate.add_argument("--json", help="write the numbers to this JSON file")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the validation split of a training file")
    evaluate.add_argument("--quiet", action="store_true", help="no progress lines")
    evaluate.add_argument("--verbose", action="store_true", help="show the backend's start-up messages")
    evaluate.set_defaults(func=_cmd_evaluate)

    summ = sub.add_parser("summary", help="layers, output shapes, parameters and multiply-adds")
    summ.add_argument("model", help="zoo name, spec file or .keras file")
    summ.add_argument("--input-shape", type=_parse_shape)
    summ.add_argument("--num-classes", type=int)
    summ.add_argument("--spec", action="store_true", help="also print the model's spec as YAML")
    summ.add_argument("--verbose", action="store_true", help="show the backend's start-up messages")
    summ.set_defaults(func=_cmd_summary)

    mods = sub.add_parser("models", help="list the zoo's models")
    mods.add_argument("--filter", help="only names containing this (wildcards allowed: 'resnet*')")
    mods.add_argument("--names", action="store_true", help="only the names, one a line")
    mods.set_defaults(func=_cmd_models)

    pred = sub.add_parser("predict", help="top classes of images (files or folders of JPEG/PNG), with names")
    pred.add_argument("model", help="zoo name (e.g. resnet18), spec file or .keras file")
    pred.add_argument("images", nargs="+", help="JPEG/PNG files or folders of them")
    pred.add_argument("--weights", help="imagenet, a shipped tag, a .weights.h5 file or a PyTorch state dict "
                      "(.safetensors, .pth)")
    pred.add_argument("--top", type=_positive(int), default=5, help="classes per image (default 5)")
    pred.add_argument("--verbose", action="store_true", help="show the backend's start-up messages")
    pred.set_defaults(func=_cmd_predict)

    rep = sub.add_parser("report", help="HTML atlas (or one self-contained page) of what each layer has learned")
    add_report_arguments(rep, methods=None if report_methods else ())
    rep.set_defaults(func=run_report)

    play = sub.add_parser("playground", help="the TensorFlow Playground in the browser, on real Keras models")
    play.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free port)")
    play.add_argument("--host", default="127.0.0.1",
                      help="interface to listen on (default 127.0.0.1; any other warns: no authentication)")
    play.add_argument("--no-browser", action="store_true", help="print the address only, open no browser")
    play.add_argument("--verbose", action="store_true", help="log every request and the backend's start-up messages")
    play.set_defaults(func=_cmd_playground)
    return parser


def main(argv=None):
    """Run the ``deepkit`` command.

    Args:
        argv: the arguments (``sys.argv[1:]`` by default).

    Returns:
        The exit status (0 on success).

    Example:
        >>> main(["models", "--filter", "cifar_resnet2*"])  # doctest: +NORMALIZE_WHITESPACE, +ELLIPSIS
        name            trainable  multiply-adds  input    weights  paper
        cifar_resnet20    269,722       40.55 M  32x32x3  -        He, Zhang, Ren & Sun 2015, ... section 4.2
        0
    """
    from deepkit.errors import DeepkitError

    argv = sys.argv[1:] if argv is None else list(argv)
    report = argv[:1] == ["report"]
    try:
        with _quiet_startup("--verbose" in argv) if report else contextlib.nullcontext():  # the registry: Keras
            parser = build_parser(report_methods=report)
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error (or --help)
        return exc.code
    try:
        if args.command == "models":  # the registry alone: no Keras
            return args.func(args)
        with _quiet_startup(getattr(args, "verbose", False), seeding=args.command in ("train", "report")):
            return args.func(args)
    except (DeepkitError, ValueError, OSError) as exc:
        print(f"deepkit {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
