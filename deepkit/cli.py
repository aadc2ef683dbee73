"""The ``deepkit`` command: train, summary, models, report.

``deepkit train`` with no arguments trains LeNet-5 on scikit-learn's offline digits (upsampled to
32x32, as LeCun padded MNIST) and prints the test accuracy.

Example:
    >>> from deepkit.cli import main
    >>> main(["models", "--filter", "lenet*", "--names"])
    lenet5
    lenet5_paper
    0
"""

import argparse
import os
import re
import sys
import time
import zipfile
import zlib

from deepkit.naming import did_you_mean


def _positive(kind, what="the value"):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a positive {kind.__name__}. Received: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{what} must be positive. Received: {text}")
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


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class ModelFileError(ValueError):
    """A saved model file that cannot be read: missing, damaged, or naming classes nobody registered.

    The message is one line that names the file and the problem.

    Example:
        >>> str(ModelFileError("net.keras", "not a zip archive"))
        'net.keras: not a zip archive'
    """

    def __init__(self, path, problem):
        self.path, self.problem = path, problem
        super().__init__(f"{path}: {problem}")


def _one_line(text):
    return " ".join(_ANSI.sub("", str(text)).split())


def _check_model_file(path):
    """Look at a .keras (zip) or .h5 (HDF5) file before Keras does: damage gets a plain message."""
    if not os.path.exists(path):
        raise ModelFileError(path, "model file not found")
    if not os.path.isfile(path):
        raise ModelFileError(path, "is a folder, not a model file")
    if path.lower().endswith((".h5", ".hdf5")):
        with open(path, "rb") as fh:
            head = fh.read(8)
        if head != _HDF5_SIGNATURE:
            raise ModelFileError(path, f"not an HDF5 file: it lacks the HDF5 signature (starts with {head[:8]!r}); "
                                       "the file is damaged or is not a Keras .h5 model")
        return
    if not zipfile.is_zipfile(path):
        raise ModelFileError(path, f"not a valid .keras file: no zip archive found ({os.path.getsize(path):,} "
                                   "bytes; truncated or not a .keras file)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            damaged = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        raise ModelFileError(path, f"damaged .keras archive: {_one_line(exc)}") from None
    if damaged is not None:
        raise ModelFileError(path, f"damaged .keras archive: member '{damaged}' fails its CRC check")
    if "config.json" not in names:
        raise ModelFileError(path, f"not a .keras model: the archive has no config.json (members: "
                                   f"{', '.join(names[:5])}{'...' if len(names) > 5 else ''})")


def load_model_file(path, compile=True):
    """Load a saved ``.keras`` or ``.h5`` model in Keras' safe mode, with a one-line error for bad files.

    Args:
        path: the file.
        compile: as in ``keras.saving.load_model``.

    Returns:
        The ``keras.Model``.

    Raises:
        ModelFileError: (a ``ValueError``) the file is missing, truncated, fails its CRC check, is not
            HDF5, or names a class that is not registered; the message names the file and the problem.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
        >>> _ = open(path, "wb").write(b"not a zip archive")
        >>> load_model_file(path)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        deepkit.cli.ModelFileError: /.../m.keras: not a valid .keras file: no zip archive found (17 bytes; truncated or not a .keras file)
    """
    import keras

    import deepkit  # noqa: F401  (registers deepkit's classes for deserialization)

    _check_model_file(path)
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as exc:  # Keras' messages span lines and carry tracebacks of the config
        message = _one_line(exc)
        if len(message) > 300:
            message = message[:297] + "..."
        raise ModelFileError(path, f"cannot be loaded in safe mode (nothing in a model file may run code): "
                                   f"{message}") from exc


def _load_model(spec, input_shape=None, num_classes=None):
    """A model from a zoo name, a spec file (.yaml/.yml/.json) or a saved .keras / .h5 file."""
    from deepkit import models

    if spec.lower().endswith((".keras", ".h5", ".hdf5")):
        return load_model_file(spec)
    if spec.lower().endswith((".yaml", ".yml", ".json")):
        from deepkit.core import build_document
        from deepkit.spec import load_document

        document = load_document(spec)  # the spec's own input shape wins over the data's
        return build_document(document, input_shape=document.input_shape or input_shape)
    kwargs = {}
    if input_shape is not None:
        kwargs["input_shape"] = input_shape
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    return models.create(spec, **kwargs)


def _load_data(name, data_path=None, image_size=None):
    import numpy as np

    from deepkit import datasets

    if name.endswith(".npz") and os.path.isfile(name):
        with np.load(name, allow_pickle=False) as d:
            missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in d]
            if missing:
                raise SystemExit(f"deepkit: {name} lacks arrays {missing}; expected x_train, y_train, x_test, y_test.")
            return (d["x_train"], d["y_train"]), (d["x_test"], d["y_test"]), int(d["y_train"].max()) + 1
    kwargs = {}
    if data_path:
        kwargs["path"] = data_path
    key = name.lower().replace("-", "_")
    if key == "digits":
        kwargs["image_size"] = image_size or 32
    splits = datasets.load(name, **kwargs)
    return splits[0], splits[1], datasets.info(name).num_classes


def _cmd_train(args):
    """Train a model on a dataset, print the test accuracy, optionally save it."""
    import keras

    keras.utils.set_random_seed(args.seed)
    image_size = args.input_shape[0] if args.input_shape else None
    (x, y), (x_test, y_test), num_classes = _load_data(args.data, args.data_path, image_size)
    input_shape = args.input_shape or tuple(x.shape[1:])
    model = _load_model(args.model, input_shape=input_shape, num_classes=num_classes)
    optimizer = keras.optimizers.get({"class_name": args.optimizer, "config": {"learning_rate": args.lr}})
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=_outputs_logits(model)), metrics=["accuracy"])
    start = time.perf_counter()
    fit_kwargs = dict(batch_size=args.batch_size, epochs=args.epochs, validation_split=args.validation_split,
                      verbose=2 if args.verbose else 0)
    if args.fast:
        fit_kwargs["fast"] = True
    history = model.fit(x, y, **fit_kwargs)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"model: {model.name} ({model.count_params():,} parameters)  data: {args.data} "
          f"({len(x)} train / {len(x_test)} test)")
    print(f"trained {len(history.history['loss'])} epochs in {seconds:.1f} s; final train loss "
          f"{history.history['loss'][-1]:.4f}")
    print(f"test accuracy: {accuracy:.4f}")
    if args.out:
        model.save(args.out)
        print(f"saved to {args.out}")
    return 0


def _outputs_logits(model):
    activation = getattr(model.layers[-1], "activation", None)
    name = getattr(activation, "__name__", "")
    return name not in ("softmax", "sigmoid")


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


def _cmd_models(args):
    """List the zoo's models: name, trainable parameters, multiply-adds, default input and paper."""
    from deepkit import models

    names = models.list_models(args.filter) if args.filter else models.list_models()
    if args.names:
        for name in names:
            print(name)
        return 0
    rows = [("name", "trainable", "multiply-adds", "input", "paper")]
    for name in names:
        info = models.model_info(name)
        count = "-" if info.trainable_params is None else f"{info.trainable_params:,}"
        rows.append((name, count, _multiply_adds(info.macs), "x".join(str(d) for d in info.input_shape),
                     info.paper))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:<{widths[3]}}  {r[4]}")
    return 0


def add_report_arguments(parser):
    """Add the ``deepkit report`` arguments to an ``argparse`` parser.

    Args:
        parser: an ``argparse.ArgumentParser`` (the ``report`` sub-command's).

    Returns:
        The parser.

    Example:
        >>> import argparse
        >>> p = add_report_arguments(argparse.ArgumentParser())
        >>> a = p.parse_args(["m.keras", "--data", "digits", "--out", "r"])
        >>> a.model, a.data, a.out, a.num_samples
        ('m.keras', 'digits', 'r', 8)
    """
    from deepkit.viz.report import ATTRIBUTION_METHODS

    parser.add_argument("model", help="saved model (.keras), spec file or zoo name")
    parser.add_argument("--data", required=True,
                        help="dataset name (e.g. digits, cifar10; its test split) or .npz/.npy file")
    parser.add_argument("--out", default="deepkit-report", help="output folder (default: deepkit-report)")
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
    parser.add_argument("--attributions", default=",".join(ATTRIBUTION_METHODS),
                        help="comma-separated subset of: " + ", ".join(ATTRIBUTION_METHODS))
    parser.add_argument("--single-file", action="store_true",
                        help="one self-contained index.html (images inlined) instead of the atlas")
    parser.add_argument("--max-units", type=int, default=64,
                        help="atlas: units in each layer page's gallery (default 64)")
    parser.add_argument("--unit-pages", type=int, default=8,
                        help="atlas: units per layer with a page of their own (default 8)")
    parser.add_argument("--max-classes", type=int, default=100, help="atlas: class pages at most (default 100)")
    parser.add_argument("--screenshot", action="store_true",
                        help="also open index.html in headless Chromium, check it and save screenshot.png")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
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
    from deepkit.viz.report import build_report

    out = args.out
    if out and os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"{out}: --out names an existing file; the report needs a folder (give a new or "
                         "existing folder name)")
    if args.model.lower().endswith((".keras", ".h5", ".hdf5")):
        model = load_model_file(args.model, compile=False)  # damaged files: one line naming file and problem
    else:
        model = _load_model(args.model)
    path = build_report(
        model, args.data, out, history=args.history, layers=_split(args.layers),
        num_samples=args.num_samples, class_names=_split(args.class_names), top_k=args.top_k,
        max_channels=args.max_channels, max_images=args.max_images,
        featurevis=not args.no_featurevis, featurevis_steps=args.featurevis_steps,
        attributions=_split(args.attributions) or [], progress=not args.quiet,
        single_file=getattr(args, "single_file", False), max_units=getattr(args, "max_units", 64),
        unit_pages=getattr(args, "unit_pages", 8), max_classes=getattr(args, "max_classes", 100))
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


def build_parser():
    """The argument parser of the ``deepkit`` command.

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
                       "(default: lenet5)")
    train.add_argument("--data", default="digits", help="dataset name or .npz file with x_train, y_train, "
                       "x_test, y_test (default: digits, offline)")
    train.add_argument("--data-path", help="local file or folder for mnist/cifar10/... (no download)")
    train.add_argument("--input-shape", type=_parse_shape, help="e.g. 32,32,1 (default: the data's shape)")
    train.add_argument("--epochs", type=_positive(int), default=30)
    train.add_argument("--batch-size", type=_positive(int), default=64)
    train.add_argument("--optimizer", default="adam")
    train.add_argument("--lr", type=_positive(float, "the learning rate"), default=1e-3, help="learning rate")
    train.add_argument("--validation-split", type=_fraction, default=0.0)
    train.add_argument("--fast", action="store_true", help="use deepkit's on-device fast fit path")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", help="save the trained model to this .keras file")
    train.add_argument("--verbose", action="store_true")
    train.set_defaults(func=_cmd_train)

    summ = sub.add_parser("summary", help="layers, output shapes, parameters and multiply-adds")
    summ.add_argument("model", help="zoo name, spec file or .keras file")
    summ.add_argument("--input-shape", type=_parse_shape)
    summ.add_argument("--num-classes", type=int)
    summ.add_argument("--spec", action="store_true", help="also print the model's spec as YAML")
    summ.set_defaults(func=_cmd_summary)

    mods = sub.add_parser("models", help="list the zoo's models")
    mods.add_argument("--filter", help="only names containing this (wildcards allowed: 'resnet*')")
    mods.add_argument("--names", action="store_true", help="only the names, one a line")
    mods.set_defaults(func=_cmd_models)

    rep = sub.add_parser("report", help="HTML atlas (or one self-contained page) of what each layer has learned")
    try:
        add_report_arguments(rep)
    except ImportError:  # pragma: no cover - viz extras missing
        rep.add_argument("model")
    rep.set_defaults(func=run_report)
    return parser


def main(argv=None):
    """Run the ``deepkit`` command.

    Args:
        argv: the arguments (``sys.argv[1:]`` by default).

    Returns:
        The exit status (0 on success).

    Example:
        >>> main(["models", "--filter", "cifar_resnet2*"])  # doctest: +NORMALIZE_WHITESPACE, +ELLIPSIS
        name            trainable  multiply-adds  input    paper
        cifar_resnet20    269,722       40.55 M  32x32x3  He, Zhang, Ren & Sun 2015, ... section 4.2
        0
    """
    from deepkit.errors import DeepkitError

    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error (or --help)
        return exc.code
    try:
        return args.func(args)
    except (DeepkitError, ValueError, OSError) as exc:
        print(f"deepkit {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
