"""Data checks run by ``deepkit.Model.fit`` / ``evaluate`` before Keras sees the data.

Keras reports most data mistakes late and far from their cause (a shape error deep inside a
compiled step, a NaN loss after an epoch, labels out of range silently producing garbage on some
backends). ``check_fit_data`` looks at NumPy-like data once, with vectorised NumPy, and raises a
``deepkit.errors.DataError`` that names the argument, says what the model expects, and quotes what
it received: empty data, mismatched lengths, wrong rank or shape, non-numeric dtypes, NaN/inf
values (with their count and first position), labels out of range for a sparse categorical loss,
one-hot labels of the wrong width, labels of the wrong rank.

Only arrays and array-likes (NumPy arrays, lists, pandas objects, backend tensors; or lists/dicts
of them for multi-input / multi-output models) are checked. ``tf.data`` datasets,
``keras.utils.PyDataset`` objects, generators and other iterables are passed through unchecked:
reading them would consume or duplicate the stream. Backend tensors get the shape and dtype checks
but not the NaN scan (it would copy device memory to the host).

The module is over 600 lines as one cohesive thing: the data checks of ``fit``/``evaluate``, one
walk over the model's inputs and outputs that shares its shape, dtype and label helpers.

Example:
    >>> import numpy as np, keras
    >>> from deepkit.train.checks import check_fit_data
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> model.compile(loss="sparse_categorical_crossentropy")
    >>> check_fit_data(model, np.zeros((8, 4)), np.array([0, 1, 2, 0, 1, 2, 0, 3]))
    Traceback (most recent call last):
    ...
    deepkit.errors.DataError: y: labels must be integers in [0, 3) for loss 'sparse_categorical_crossentropy' and the model's 3 output units; found 1 label out of range (the first, 3, at y[7]). The labels need 4 classes: give the last layer 4 units, or fix the labels.
"""

import inspect

import keras
import numpy as np

from deepkit.errors import DataError
from deepkit.naming import to_snake_case

__all__ = ["check_fit_data", "check_labels_fit", "loss_kind"]

_SPARSE = {"sparse_categorical_crossentropy"}
_ONE_HOT = {"categorical_crossentropy", "categorical_focal_crossentropy", "categorical_hinge",
            "kl_divergence"}
_BINARY = {"binary_crossentropy", "binary_focal_crossentropy"}
_ELEMENTWISE = _BINARY | {
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "huber", "log_cosh", "poisson", "hinge", "squared_hinge",
    "cosine_similarity",
}

_MAX_SHOWN = 6  # dims / values quoted in a message


# ----------------------------------------------------------------------------- helpers
def _shape_str(shape):
    shape = tuple(None if d is None else int(d) for d in shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _index_str(name, index):
    return f"{name}[{', '.join(str(int(i)) for i in index)}]"


def loss_name(loss):
    """The canonical Keras function name of a loss given as a string, function or Loss object.

    Args:
        loss: e.g. ``"mse"``, ``keras.losses.SparseCategoricalCrossentropy()``,
            ``keras.losses.binary_crossentropy``.

    Returns:
        A lower-case name such as ``"mean_squared_error"``, or None when unknown (custom losses).

    Example:
        >>> loss_name("mse"), loss_name(keras.losses.CategoricalCrossentropy())
        ('mean_squared_error', 'categorical_crossentropy')
    """
    if loss is None:
        return None
    if isinstance(loss, str):
        try:
            loss = keras.losses.get(loss)
        except (ValueError, TypeError):
            return loss.lower()
    fn = getattr(loss, "fn", None)
    if fn is not None and hasattr(fn, "__name__"):
        return fn.__name__
    if isinstance(loss, keras.losses.Loss):
        return to_snake_case(type(loss).__name__)
    name = getattr(loss, "__name__", None)
    return name.lower() if isinstance(name, str) else None


def loss_kind(loss):
    """Classify a loss by the labels it expects.

    Args:
        loss: a loss as given to ``compile`` (string, function or ``keras.losses.Loss``).

    Returns:
        ``"sparse"`` (integer class ids), ``"one_hot"`` (one column per class), ``"binary"``
        (values in [0, 1], same shape as the output), ``"elementwise"`` (same shape as the output)
        or None (unknown or custom loss: only lengths and finiteness are checked).

    Example:
        >>> loss_kind("sparse_categorical_crossentropy"), loss_kind("mse"), loss_kind(lambda t, p: t)
        ('sparse', 'elementwise', None)
    """
    name = loss_name(loss)
    if name in _SPARSE:
        return "sparse"
    if name in _ONE_HOT:
        return "one_hot"
    if name in _BINARY:
        return "binary"
    if name in _ELEMENTWISE:
        return "elementwise"
    return None


def _is_stream(data):
    """Datasets, PyDatasets, generators, iterators: data we must not read here."""
    if isinstance(data, keras.utils.PyDataset) or inspect.isgenerator(data):
        return True
    if isinstance(data, (np.ndarray, list, tuple, dict)) or keras.ops.is_tensor(data):
        return False
    module = type(data).__module__ or ""
    if module.startswith(("tensorflow", "torch.utils.data", "jax")):
        # tf.data.Dataset, DataLoader... (tensors were handled above)
        return True
    if hasattr(data, "__array__") or hasattr(data, "__array_interface__"):
        return False  # pandas, array-likes
    return hasattr(data, "__iter__") or hasattr(data, "__next__")


class _Array:
    """An argument converted for checking: a numpy array (scan values) or a tensor (shape/dtype only)."""

    def __init__(self, name, value):
        self.name = name
        if keras.ops.is_tensor(value) and not isinstance(value, np.ndarray):
            self.array = None
            self.shape = tuple(value.shape)
            self.dtype = keras.backend.standardize_dtype(value.dtype)
            return
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as e:
            raise DataError(
                f"{name}: could not be turned into one numeric array (are the nested lists of "
                f"unequal lengths?). NumPy said: {e}"
            ) from None
        self.array = array
        self.shape = array.shape
        self.dtype = str(array.dtype)

    @property
    def kind(self):
        if self.dtype == "string":
            return "U"
        if self.dtype == "bfloat16":
            return "f"
        return self.array.dtype.kind if self.array is not None else np.dtype(self.dtype).kind

    def __len__(self):
        return self.shape[0]


def _flatten_named(data, name, keys=None):
    """[(name, value)] for one array or a list/tuple/dict of arrays (multi-input/output)."""
    if isinstance(data, dict):
        return [(f"{name}[{k!r}]", v, k) for k, v in data.items()]
    if isinstance(data, (list, tuple)) and keys is not None and len(data) == len(keys):
        arrays = all(isinstance(v, np.ndarray) or keras.ops.is_tensor(v) for v in data)
        if len(keys) > 1 or arrays:  # [x] for a one-input model is a structure, not one sample
            if len(keys) == 1:
                return [(name, data[0], None)]
            return [(f"{name}[{i}]", v, i) for i, v in enumerate(data)]
    return [(name, data, None)]


def _model_tensors(model, attr):
    try:
        tensors = getattr(model, attr)
    except (AttributeError, ValueError):
        return None
    if tensors is None:
        return None
    if not isinstance(tensors, (list, tuple)):
        tensors = [tensors]
    return list(tensors)


def _match_tensor(tensors, key, names):
    if tensors is None:
        return None
    if key is None:
        return tensors[0] if len(tensors) == 1 else None
    if isinstance(key, int):
        return tensors[key] if key < len(tensors) else None
    if names is not None and key in names:
        return tensors[list(names).index(key)]
    for tensor in tensors:
        if getattr(tensor, "name", None) == key:
            return tensor
    return None


# ----------------------------------------------------------------------------- checks
def _check_basic(arr, role, accepts_strings=False):
    """Non-empty, rank >= 1, numeric dtype (or strings for a string input)."""
    if len(arr.shape) == 0:
        raise DataError(
            f"{arr.name}: expected an array with one entry per sample; received a scalar "
            f"({arr.array!r})."
        )
    if arr.shape[0] == 0:
        raise DataError(
            f"{arr.name} is empty: received an array of shape {_shape_str(arr.shape)}; "
            f"{role} needs at least one sample."
        )
    kind = arr.kind
    if kind in "biuf" or (accepts_strings and kind in "USO"):
        return
    if kind == "O":
        first = arr.array.ravel()[0] if arr.array is not None and arr.array.size else None
        raise DataError(
            f"{arr.name}: expected numeric data (float or int); received dtype object "
            f"(the first element is a {type(first).__name__}: {first!r:.60}). Convert it with "
            f"np.asarray({arr.name.split('[')[0]}, dtype='float32') or fix the ragged/mixed entries."
        )
    described = {"U": "str", "S": "bytes", "c": "complex", "M": "datetime", "m": "timedelta",
                 "V": "void"}.get(kind, str(arr.dtype))
    raise DataError(
        f"{arr.name}: expected numeric data (float or int); received dtype {arr.dtype} "
        f"({described}). Encode it as numbers first."
    )


def _check_finite(arr):
    if arr.array is None or arr.kind != "f":
        return
    a = arr.array
    # One fast pass without a temporary: any NaN/inf makes the sum NaN/inf. Only when it is not
    # finite (rare; or a float overflow) do we locate the bad values exactly.
    with np.errstate(all="ignore"):
        total = np.add.reduce(a, axis=None)
    if np.isfinite(total):
        return
    nan = np.isnan(a)
    n_nan = int(np.count_nonzero(nan))
    n_inf = int(np.count_nonzero(np.isinf(a)))
    if n_nan + n_inf == 0:
        return  # the sum overflowed; the values themselves are finite
    first = np.argwhere(nan | np.isinf(a))[0]
    parts = []
    if n_nan:
        parts.append(f"{n_nan} NaN")
    if n_inf:
        parts.append(f"{n_inf} inf")
    samples = int(np.count_nonzero(~np.isfinite(a.reshape(len(a), -1)).all(axis=1))) if a.ndim > 1 else n_nan + n_inf
    raise DataError(
        f"{arr.name} contains {' and '.join(parts)} value{'s' if n_nan + n_inf > 1 else ''} in "
        f"{samples} of {len(a)} samples; the first is {_index_str(arr.name, first)} = {a[tuple(first)]}. "
        "Training on them makes the loss NaN: drop or impute those samples "
        f"(e.g. {arr.name.split('[')[0]} = np.nan_to_num(...) or a mask with np.isfinite)."
    )


def _check_float_range(arr, target="float32"):
    """Values that are finite in a wide float (float64) but overflow the dtype the model computes in."""
    if arr.array is None or arr.kind != "f" or arr.array.size == 0:
        return
    try:
        target = np.dtype(keras.backend.standardize_dtype(target))
    except TypeError:
        return  # bfloat16 or a dtype numpy does not know: nothing wider to compare with
    a = arr.array
    if target.kind != "f" or a.dtype.itemsize <= target.itemsize:
        return
    limit = float(np.finfo(target).max)
    if float(a.max()) <= limit and float(a.min()) >= -limit:
        return
    bad = np.abs(a) > limit
    count = int(np.count_nonzero(bad))
    first = np.argwhere(bad)[0]
    samples = int(np.count_nonzero(bad.reshape(len(a), -1).any(axis=1))) if a.ndim > 1 else count
    raise DataError(
        f"{arr.name} contains {count} value{'s' if count > 1 else ''} outside the {target.name} range "
        f"(|v| > {limit:.4g}) in {samples} of {len(a)} samples; the first is {_index_str(arr.name, first)} "
        f"= {a[tuple(first)].item()!r}. They are finite in {a.dtype.name} but become inf in {target.name}, the dtype "
        "the model computes in, and the loss turns NaN: rescale or clip the data "
        f"(e.g. {arr.name.split('[')[0]} / {arr.name.split('[')[0]}.std()) or build the model in float64."
    )


def _check_input_shape(arr, tensor):
    if tensor is None:
        return
    expected = tuple(tensor.shape)
    got = arr.shape
    ok = len(expected) == len(got) and all(e is None or e == g for e, g in zip(expected[1:], got[1:]))
    if ok:
        return
    hint = ""
    exp_tail, got_tail = expected[1:], tuple(got[1:])
    if len(expected) == len(got) + 1 and exp_tail[-1] == 1 and exp_tail[:-1] == got_tail:
        hint = f" Add a channel axis: {arr.name.split('[')[0]}[..., None]."
    elif len(expected) == len(got) + 1 and exp_tail[0] == 1 and exp_tail[1:] == got_tail:
        hint = f" Add a channel axis: {arr.name.split('[')[0]}[:, None]."
    elif len(got) == len(expected) + 1 and got_tail[-1] == 1 and got_tail[:-1] == exp_tail:
        hint = f" Drop the trailing axis of size 1: {arr.name.split('[')[0]}[..., 0]."
    elif (len(expected) == len(got) == 4 and exp_tail[-1] is not None
          and exp_tail[-1] == got_tail[0] and exp_tail[:2] == got_tail[1:]):
        hint = (" The data looks channels-first: transpose with "
                f"{arr.name.split('[')[0]}.transpose(0, 2, 3, 1).")
    elif None not in exp_tail and int(np.prod(exp_tail)) == int(np.prod(got_tail)):
        hint = (f" The sizes agree: reshape with {arr.name.split('[')[0]}.reshape(-1, "
                f"{', '.join(str(d) for d in exp_tail)}).")
    raise DataError(
        f"{arr.name}: the model expects input of shape {_shape_str(expected)} (rank {len(expected)}) "
        f"but {arr.name} has shape {_shape_str(got)} (rank {len(got)}).{hint}"
    )


def _label_scan(y, name, n_units, ignore_class):
    """Integer class labels: integral values in [0, n_units)."""
    a = y.array
    if a is None:
        return
    if a.dtype.kind == "b":
        a = a.astype("int8")
    if a.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            fractional = a != np.round(a)
        if fractional.any():
            first = np.argwhere(fractional)[0]
            raise DataError(
                f"{name}: class labels must be whole numbers for a sparse categorical loss; "
                f"{_index_str(name, first)} = {a[tuple(first)]}. If these are probabilities or "
                "one-hot rows use loss='categorical_crossentropy'."
            )
    if ignore_class is not None:
        valid = a != ignore_class
        bad = valid & ((a < 0) | (a >= n_units))
    else:
        lo, hi = a.min(), a.max()
        if lo >= 0 and hi < n_units:
            return
        bad = (a < 0) | (a >= n_units)
    count = int(np.count_nonzero(bad))
    if count == 0:
        return
    first = np.argwhere(bad)[0]
    value = a[tuple(first)]
    value = int(value) if float(value).is_integer() else value
    hint = ""
    if n_units == 1:
        hint = (" A model with 1 output unit suits loss='binary_crossentropy' (labels 0/1); for "
                "sparse categorical labels give the last layer one unit per class.")
    elif a.min() >= 1 and a.max() == n_units:
        hint = " The labels look 1-based: subtract 1."
    elif a.min() >= 0:
        hint = (f" The labels need {int(a.max()) + 1} classes: give the last layer "
                f"{int(a.max()) + 1} units, or fix the labels.")
    extra = f" (ignore_class={ignore_class} is allowed)" if ignore_class is not None else ""
    raise DataError(
        f"{name}: labels must be integers in [0, {n_units}){extra} for loss "
        f"'sparse_categorical_crossentropy' and the model's {n_units} output units; found {count} "
        f"label{'s' if count > 1 else ''} out of range (the first, {value}, at "
        f"{_index_str(name, first)}).{hint}"
    )


def _check_labels(y, tensor, loss):
    kind = loss_kind(loss)
    if tensor is None or kind is None:
        return
    out = tuple(tensor.shape)
    n_units = out[-1]
    got = tuple(y.shape)
    lname = loss_name(loss)
    if kind == "sparse":
        if n_units is None:
            return
        expected_rank = len(out) - 1
        if len(got) == len(out) and got[-1] == n_units and n_units > 1:
            raise DataError(
                f"{y.name}: the loss 'sparse_categorical_crossentropy' expects integer class ids of "
                f"shape {_shape_str((got[0],) + out[1:-1])}, but {y.name} has shape {_shape_str(got)}: "
                f"it looks one-hot. Use loss='categorical_crossentropy', or pass "
                f"np.argmax({y.name}, axis=-1)."
            )
        rank_ok = len(got) == expected_rank or (len(got) == expected_rank + 1 and got[-1] == 1)
        spatial_ok = all(e is None or e == g for e, g in zip(out[1:-1], got[1:expected_rank]))
        if not (rank_ok and spatial_ok):
            want = _shape_str((got[0],) + out[1:-1])
            want1 = _shape_str((got[0],) + out[1:-1] + (1,))
            per = "sample" if len(out) == 2 else "position"
            raise DataError(
                f"{y.name}: the loss 'sparse_categorical_crossentropy' with model output "
                f"{_shape_str(out)} expects one integer class id per {per}: shape {want} "
                f"(or {want1}); received {y.name} of shape {_shape_str(got)}."
            )
        _label_scan(y, y.name, int(n_units), getattr(loss, "ignore_class", None))
        return
    if kind == "one_hot":
        if n_units is None:
            return
        if len(got) == len(out) - 1 or (len(got) == len(out) and got[-1] == 1 and n_units > 1):
            raise DataError(
                f"{y.name}: the loss '{lname}' expects one-hot labels of shape "
                f"{_shape_str((got[0],) + out[1:])} (one column per output unit), but {y.name} has "
                f"shape {_shape_str(got)}: integer class ids. Use "
                f"loss='sparse_categorical_crossentropy', or keras.utils.to_categorical({y.name}, {n_units})."
            )
        if len(got) != len(out):
            raise DataError(
                f"{y.name}: the loss '{lname}' with model output {_shape_str(out)} expects labels "
                f"of rank {len(out)}, shape {_shape_str((got[0],) + out[1:])}; received {y.name} of "
                f"shape {_shape_str(got)}."
            )
        if got[-1] != n_units or not all(e is None or e == g for e, g in zip(out[1:], got[1:])):
            raise DataError(
                f"{y.name}: one-hot labels have width {got[-1]} but the model has {n_units} output "
                f"units (output shape {_shape_str(out)}); received {y.name} of shape "
                f"{_shape_str(got)}. Make the last layer {got[-1]} units wide, or one-hot encode "
                f"with {n_units} classes."
            )
        return
    # Binary / elementwise: y must have the output's shape (Keras squeezes or expands a trailing 1).
    tail_out, tail_got = out[1:], got[1:]
    if len(tail_got) == len(tail_out) - 1 and tail_out and tail_out[-1] == 1:
        tail_got = tail_got + (1,)
    elif len(tail_got) == len(tail_out) + 1 and tail_got and tail_got[-1] == 1:
        tail_got = tail_got[:-1]
    if len(tail_got) != len(tail_out) or not all(e is None or e == g for e, g in zip(tail_out, tail_got)):
        raise DataError(
            f"{y.name}: the loss '{lname}' compares {y.name} with the model output element by "
            f"element, so it needs shape {_shape_str((got[0],) + out[1:])} (the output is "
            f"{_shape_str(out)}); received {y.name} of shape {_shape_str(got)}."
        )
    if kind == "binary" and y.array is not None and y.kind in "biuf" and y.array.size:
        lo, hi = y.array.min(), y.array.max()
        if lo < 0 or hi > 1:
            bad = (y.array < 0) | (y.array > 1)
            first = np.argwhere(bad)[0]
            hint = (f" For {int(hi) + 1} classes use {int(hi) + 1} output units and "
                    "loss='sparse_categorical_crossentropy'." if lo >= 0 and float(hi).is_integer() else "")
            raise DataError(
                f"{y.name}: the loss '{lname}' expects targets in [0, 1]; found "
                f"{int(np.count_nonzero(bad))} outside (the first, {y.array[tuple(first)]}, at "
                f"{_index_str(y.name, first)}).{hint}"
            )


def _resolve_loss(loss, key, index, output_names):
    if isinstance(loss, dict):
        if key in loss:
            return loss[key]
        if output_names is not None and index is not None and index < len(output_names):
            return loss.get(output_names[index])
        return None
    if isinstance(loss, (list, tuple)):
        if index is not None and index < len(loss):
            return loss[index]
        return None
    return loss


def _check_set(model, x, y, sample_weight, names, role, loss, require_y):
    x_name, y_name, sw_name = names
    inputs = _model_tensors(model, "inputs")
    outputs = _model_tensors(model, "outputs")
    input_names = [getattr(t, "name", None) for t in inputs] if inputs else None
    output_names = getattr(model, "output_names", None)
    if output_names is None and outputs is not None:
        output_names = [getattr(t, "name", None) for t in outputs]

    xs, x_tensors = [], []
    for name, value, key in _flatten_named(x, x_name, inputs):
        arr = _Array(name, value)
        tensor = _match_tensor(inputs, key, input_names)
        strings = tensor is not None and keras.backend.standardize_dtype(tensor.dtype) == "string"
        _check_basic(arr, role, accepts_strings=strings)
        _check_input_shape(arr, tensor)
        xs.append(arr)
        x_tensors.append(tensor)
    n = len(xs[0])
    for arr in xs[1:]:
        if len(arr) != n:
            raise DataError(
                f"{arr.name} has {len(arr)} samples but {xs[0].name} has {n}; every input needs "
                "the same number of samples."
            )

    if y is None:
        if require_y and loss is not None:
            raise DataError(
                f"{y_name} is missing: the model was compiled with loss={loss_name(loss) or loss!r}, "
                f"which needs labels. Pass {y_name}= with {n} labels."
            )
    else:
        ys = []
        for index, (name, value, key) in enumerate(_flatten_named(y, y_name, outputs)):
            arr = _Array(name, value)
            _check_basic(arr, role)
            if len(arr) != n:
                raise DataError(
                    f"{x_name} and {y_name} have different lengths: {xs[0].name} has {n} samples "
                    f"but {arr.name} has {len(arr)}. Every sample needs exactly one label."
                )
            ys.append((arr, key, index if key is not None else 0))
        for arr, key, index in ys:
            # Finite first: NaN/inf labels would otherwise reach the label scans (int(inf) raises).
            tensor = _match_tensor(outputs, key, output_names)
            _check_finite(arr)
            _check_float_range(arr, getattr(tensor, "dtype", None) or keras.backend.floatx())
            _check_labels(arr, tensor, _resolve_loss(loss, key, index, output_names))

    if sample_weight is not None and not isinstance(sample_weight, dict):
        sw = _Array(sw_name, sample_weight)
        _check_basic(sw, role)
        if len(sw) != n:
            raise DataError(
                f"{sw_name} has {len(sw)} entries but {x_name} has {n} samples; give one weight "
                "per sample."
            )
        _check_finite(sw)
        _check_float_range(sw, keras.backend.floatx())
        if sw.array is not None and sw.array.size and sw.array.min() < 0:
            first = np.argwhere(sw.array < 0)[0]
            raise DataError(
                f"{sw_name}: sample weights must be >= 0; {_index_str(sw_name, first)} = "
                f"{sw.array[tuple(first)]}."
            )

    for arr, tensor in zip(xs, x_tensors):
        _check_finite(arr)
        _check_float_range(arr, getattr(tensor, "dtype", None) or keras.backend.floatx())


def check_fit_data(model, x, y=None, *, argument_prefix="", sample_weight=None,
                   validation_data=None, loss=None, require_y=True):
    """Check training/evaluation data against a model before Keras sees it.

    Args:
        model: a built ``keras.Model`` (functional or Sequential with an ``Input``); its input
            shapes, output shapes and compiled loss define what is expected.
        x: the inputs: a NumPy array or array-like, a backend tensor, or a list/dict of them for
            a multi-input model. Datasets, PyDatasets and generators are not checked.
        y: the targets, same forms (a list/dict for a multi-output model), or None.
        argument_prefix: prepended to the argument names in messages, e.g. ``"evaluate "`` gives
            ``"evaluate x"`` and ``"evaluate y"``.
        sample_weight: optional per-sample weights (checked for length, NaN/inf and sign).
        validation_data: optional ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight)``,
            checked the same way under the names ``validation_data[0]`` ... .
        loss: the loss to check labels against; defaults to the loss given to ``model.compile``
            (a string, function, ``keras.losses.Loss``, or a list/dict per output).
        require_y: raise when y is None but the model was compiled with a loss.

    Returns:
        None. Raises on the first problem found.

    Raises:
        DataError: (a ``ValueError``) naming the argument, what the model expects and what was
            received.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(10)])
        >>> model.compile(loss="sparse_categorical_crossentropy")
        >>> check_fit_data(model, np.zeros((5, 28, 28, 1)), np.arange(5))  # fine: returns None
        >>> check_fit_data(model, np.zeros((5, 28, 28)), np.arange(5))
        Traceback (most recent call last):
        ...
        deepkit.errors.DataError: x: the model expects input of shape (None, 28, 28, 1) (rank 4) but x has shape (5, 28, 28) (rank 3). Add a channel axis: x[..., None].
    """
    if loss is None:
        loss = getattr(model, "loss", None)
    role = "evaluation" if argument_prefix.strip().startswith("evaluate") else "training"
    if x is not None and not _is_stream(x):
        if y is not None and _is_stream(y):
            return
        _check_set(
            model, x, y, sample_weight,
            (f"{argument_prefix}x", f"{argument_prefix}y", f"{argument_prefix}sample_weight"),
            role, loss, require_y,
        )
    if validation_data is None or _is_stream(validation_data):
        return
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise DataError(
            f"{argument_prefix}validation_data: expected a tuple (x_val, y_val) or "
            f"(x_val, y_val, sample_weight_val), or a dataset; received "
            f"{type(validation_data).__name__}"
            + (f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list)) else "")
            + "."
        )
    xv, yv = validation_data[0], validation_data[1]
    swv = validation_data[2] if len(validation_data) == 3 else None
    if _is_stream(xv) or (yv is not None and _is_stream(yv)):
        return
    base = f"{argument_prefix}validation_data"
    _check_set(model, xv, yv, swv, (f"{base}[0]", f"{base}[1]", f"{base}[2]"), "validation", loss,
               require_y)


def check_labels_fit(model, y, *, name="y", loss=None):
    """Check class labels against a classifier's output, as ``fit`` does (the CLI's evaluate and report too).

    A model with one output unit takes 0/1 targets (``binary_crossentropy``); one with ``C`` units
    takes class ids in ``[0, C)`` (``sparse_categorical_crossentropy``).

    Args:
        model: a built single-output ``keras.Model``.
        y: class ids, one per sample (or 0/1 targets for a one-unit model).
        name: what ``y`` is called in the message.
        loss: the loss to check against (default: chosen from the output width as above).

    Returns:
        None. Raises on the first problem found.

    Raises:
        DataError: labels the model's outputs cannot express, naming the first one and where it is.

    Example:
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> check_labels_fit(model, np.array([0, 2, 1]))  # fine: returns None
        >>> check_labels_fit(model, np.array([0, 9, 1]), name="test labels")
        Traceback (most recent call last):
        ...
        deepkit.errors.DataError: test labels: labels must be integers in [0, 3) for loss 'sparse_categorical_crossentropy' and the model's 3 output units; found 1 label out of range (the first, 9, at test labels[1]). The labels need 10 classes: give the last layer 10 units, or fix the labels.
    """
    output = _model_tensors(model, "outputs")[0]
    if loss is None:
        loss = "binary_crossentropy" if output.shape[-1] == 1 else "sparse_categorical_crossentropy"
    arr = _Array(name, np.asarray(y))
    _check_basic(arr, "evaluation")
    _check_labels(arr, output, loss)
