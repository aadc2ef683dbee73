"""deepkit.train.checks.check_fit_data: each bad input gives a DataError naming the argument."""

import time

import keras
import numpy as np
import pytest

from deepkit.errors import DataError
from deepkit.train.checks import check_fit_data, loss_kind


def image_model(units=10, loss="sparse_categorical_crossentropy", shape=(28, 28, 1)):
    model = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(units)])
    if loss is not None:
        model.compile(optimizer="sgd", loss=loss, jit_compile=False)
    return model


def dense_model(units=3, loss="sparse_categorical_crossentropy", features=4):
    model = keras.Sequential([keras.Input((features,)), keras.layers.Dense(units)])
    if loss is not None:
        model.compile(optimizer="sgd", loss=loss, jit_compile=False)
    return model


def segmentation_model(classes=5):
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(classes, 1)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=False)
    return model


X4 = np.zeros((6, 4), "float32")
Y3 = np.array([0, 1, 2, 0, 1, 2])


def raises(match, fn, *args, **kwargs):
    with pytest.raises(DataError, match=match) as info:
        fn(*args, **kwargs)
    assert isinstance(info.value, ValueError)
    return str(info.value)


# ----------------------------------------------------------------------------- valid data passes
VALID = [
    ("sparse 1-D", lambda: dense_model(), X4, Y3),
    ("sparse (n, 1)", lambda: dense_model(), X4, Y3[:, None]),
    ("sparse float ids", lambda: dense_model(), X4, Y3.astype("float32")),
    ("sparse uint8", lambda: dense_model(), X4, Y3.astype("uint8")),
    ("sparse list", lambda: dense_model(), X4.tolist(), Y3.tolist()),
    ("one-hot", lambda: dense_model(loss="categorical_crossentropy"), X4, np.eye(3)[Y3]),
    ("binary 1 unit", lambda: dense_model(1, "binary_crossentropy"), X4, np.array([0, 1, 1, 0, 1, 0])),
    ("binary multi-label", lambda: dense_model(3, keras.losses.BinaryCrossentropy()), X4, np.eye(3)[Y3]),
    ("mse (n,)", lambda: dense_model(1, "mse"), X4, np.arange(6.0)),
    ("mse (n, 3)", lambda: dense_model(3, keras.losses.mean_squared_error), X4, np.ones((6, 3))),
    ("int x", lambda: dense_model(), X4.astype("int64"), Y3),
    ("bool x", lambda: dense_model(), X4.astype(bool), Y3),
    ("segmentation (n,h,w)", segmentation_model, np.zeros((2, 8, 8, 3)), np.zeros((2, 8, 8), "int32")),
    ("segmentation (n,h,w,1)", segmentation_model, np.zeros((2, 8, 8, 3)), np.ones((2, 8, 8, 1), "int32")),
    ("ignore_class", lambda: dense_model(loss=keras.losses.SparseCategoricalCrossentropy(ignore_class=-1)),
     X4, np.array([0, 1, -1, 2, -1, 0])),
    ("custom loss", lambda: dense_model(loss=lambda t, p: keras.ops.mean(p)), X4, np.full((6, 7), 99.0)),
]


@pytest.mark.parametrize("make, x, y", [v[1:] for v in VALID], ids=[v[0] for v in VALID])
def test_valid_data_passes_and_keras_agrees(make, x, y):
    model = make()
    assert check_fit_data(model, x, y) is None
    # Keras trains on it too: the checks reject nothing Keras accepts.
    model.fit(np.asarray(x), np.asarray(y), epochs=1, batch_size=6, verbose=0)


def test_uncompiled_model_only_checks_x_and_lengths():
    model = dense_model(loss=None)
    check_fit_data(model, X4, None)
    check_fit_data(model, X4, np.full(6, 42))
    raises(r"x and y have different lengths", check_fit_data, model, X4, np.zeros(5))


# ----------------------------------------------------------------------------- x
def test_missing_channel_axis_says_what_model_expects():
    message = raises(
        r"^x: the model expects input of shape \(None, 28, 28, 1\) \(rank 4\) but x has shape "
        r"\(5, 28, 28\) \(rank 3\)\. Add a channel axis: x\[\.\.\., None\]\.$",
        check_fit_data, image_model(), np.zeros((5, 28, 28)), np.arange(5))
    assert "28, 28, 1" in message


def test_flat_vs_image_suggests_reshape():
    raises(r"model expects input of shape \(None, 28, 28, 1\).*x has shape \(3, 784\).*"
           r"reshape with x\.reshape\(-1, 28, 28, 1\)",
           check_fit_data, image_model(), np.zeros((3, 784)), np.arange(3))


def test_channels_first_data_is_recognised():
    raises(r"shape \(None, 32, 32, 3\).*\(2, 3, 32, 32\).*looks channels-first: transpose",
           check_fit_data, image_model(shape=(32, 32, 3)), np.zeros((2, 3, 32, 32)), np.arange(2))


def test_wrong_image_size():
    msg = raises(r"expects input of shape \(None, 32, 32, 3\) \(rank 4\) but x has shape \(2, 28, 28, 1\)",
                 check_fit_data, image_model(shape=(32, 32, 3)), np.zeros((2, 28, 28, 1)), np.arange(2))
    assert "reshape" not in msg


def test_extra_trailing_axis():
    raises(r"\(None, 4\).*\(6, 4, 1\).*Drop the trailing axis of size 1: x\[\.\.\., 0\]",
           check_fit_data, dense_model(), np.zeros((6, 4, 1)), Y3)


def test_empty_x_and_empty_y():
    raises(r"^x is empty: received an array of shape \(0, 4\); training needs at least one sample\.$",
           check_fit_data, dense_model(), np.zeros((0, 4)), np.zeros(0))
    raises(r"^evaluate x is empty: .* evaluation needs", check_fit_data, dense_model(),
           np.zeros((0, 4)), np.zeros(0), argument_prefix="evaluate ")
    raises(r"^y is empty: received an array of shape \(0,\)", check_fit_data, dense_model(), X4, [])
    raises(r"^x: expected an array with one entry per sample; received a scalar",
           check_fit_data, dense_model(), np.float32(3.0), Y3)


def test_mismatched_lengths():
    raises(r"^x and y have different lengths: x has 6 samples but y has 5\. Every sample needs exactly one label\.$",
           check_fit_data, dense_model(), X4, Y3[:5])
    raises(r"^sample_weight has 4 entries but x has 6 samples", check_fit_data, dense_model(), X4, Y3,
           sample_weight=np.ones(4))


@pytest.mark.parametrize(
    "x, match",
    [
        (np.array([["a", "b", "c", "d"]] * 6), r"^x: expected numeric data \(float or int\); received dtype <U1 \(str\)"),
        (np.zeros((6, 4), complex), r"received dtype complex128 \(complex\)"),
        (np.array([[object()] * 4] * 6), r"received dtype object \(the first element is a object"),
        (np.zeros((6, 4), "datetime64[s]"), r"\(datetime\)"),
    ],
)
def test_non_numeric_x(x, match):
    raises(match, check_fit_data, dense_model(), x, Y3)


def test_ragged_lists():
    raises(r"^x: could not be turned into one numeric array \(are the nested lists of unequal lengths\?\)",
           check_fit_data, dense_model(), [[1, 2, 3, 4], [1, 2]], [0, 1])


def test_nan_and_inf_in_x_counted_and_located():
    x = np.zeros((10, 28, 28, 1), "float32")
    x[3, 5, 7, 0] = np.nan
    x[3, 6, 7, 0] = np.nan
    x[8, 0, 0, 0] = np.inf
    msg = raises(r"^x contains 2 NaN and 1 inf values in 2 of 10 samples; the first is x\[3, 5, 7, 0\] = nan\.",
                 check_fit_data, image_model(), x, np.arange(10))
    assert "np.nan_to_num" in msg
    x = np.ones((6, 4))
    x[4, 1] = -np.inf
    raises(r"^x contains 1 inf value in 1 of 6 samples; the first is x\[4, 1\] = -inf",
           check_fit_data, dense_model(), x, Y3)


def test_large_finite_values_are_not_flagged():
    x = np.full((6, 4), 3e38, "float32")  # the sum overflows to inf; the values are finite
    check_fit_data(dense_model(), x, Y3)


def test_nan_in_y_and_sample_weight():
    y = np.arange(6.0)
    y[2] = np.nan
    raises(r"^y contains 1 NaN value in 1 of 6 samples; the first is y\[2\] = nan",
           check_fit_data, dense_model(1, "mse"), X4, y)
    w = np.ones(6)
    w[5] = np.inf
    raises(r"^sample_weight contains 1 inf value", check_fit_data, dense_model(), X4, Y3, sample_weight=w)
    raises(r"^sample_weight: sample weights must be >= 0; sample_weight\[1\] = -1\.0",
           check_fit_data, dense_model(), X4, Y3, sample_weight=np.array([1, -1.0, 1, 1, 1, 1]))


# ----------------------------------------------------------------------------- labels
def test_sparse_labels_out_of_range():
    msg = raises(
        r"^y: labels must be integers in \[0, 10\) for loss 'sparse_categorical_crossentropy' and the "
        r"model's 10 output units; found 2 labels out of range \(the first, 10, at y\[1\]\)\. "
        r"The labels look 1-based: subtract 1\.$",
        check_fit_data, image_model(), np.zeros((4, 28, 28, 1)), np.array([1, 10, 5, 10]))
    assert "10 output units" in msg


def test_negative_label_and_too_few_units():
    raises(r"found 1 label out of range \(the first, -1, at y\[2\]\)", check_fit_data, dense_model(),
           X4, np.array([0, 1, -1, 2, 0, 1]))
    raises(r"found 1 label out of range \(the first, 7, at y\[1\]\)\. The labels need 8 classes: "
           r"give the last layer 8 units", check_fit_data, dense_model(), X4, np.array([0, 7, 1, 2, 0, 1]))


def test_single_unit_with_sparse_loss_suggests_binary():
    raises(r"labels must be integers in \[0, 1\).*model with 1 output unit suits loss='binary_crossentropy'",
           check_fit_data, dense_model(1), X4, np.array([0, 1, 1, 0, 0, 1]))


def test_sparse_fractional_labels():
    raises(r"^y: class labels must be whole numbers for a sparse categorical loss; y\[1\] = 0\.5",
           check_fit_data, dense_model(), X4, np.array([0, 0.5, 1, 2, 0, 1]))


def test_ignore_class_still_checks_other_labels():
    loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=-1)
    raises(r"labels must be integers in \[0, 3\) \(ignore_class=-1 is allowed\).*the first, 3, at y\[3\]",
           check_fit_data, dense_model(loss=loss), X4, np.array([0, -1, 1, 3, 0, 1]))


def test_one_hot_labels_with_sparse_loss():
    raises(r"^y: the loss 'sparse_categorical_crossentropy' expects integer class ids of shape \(6,\), but y "
           r"has shape \(6, 3\): it looks one-hot\. Use loss='categorical_crossentropy', or pass "
           r"np\.argmax\(y, axis=-1\)\.$",
           check_fit_data, dense_model(), X4, np.eye(3)[Y3])


def test_sparse_labels_of_wrong_rank():
    raises(r"expects one integer class id per sample: shape \(6,\) \(or \(6, 1\)\); received y of shape \(6, 1, 1\)",
           check_fit_data, dense_model(), X4, Y3[:, None, None])
    raises(r"model output \(None, 8, 8, 5\) expects one integer class id per position: shape \(2, 8, 8\) "
           r"\(or \(2, 8, 8, 1\)\); received y of shape \(2,\)",
           check_fit_data, segmentation_model(), np.zeros((2, 8, 8, 3)), np.array([0, 1]))
    raises(r"found 1 label out of range \(the first, 5, at y\[1, 2, 3\]\)",
           check_fit_data, segmentation_model(), np.zeros((2, 8, 8, 3)),
           np.pad(np.array([[[5]]]), ((1, 0), (2, 5), (3, 4))))


def test_integer_labels_with_categorical_loss():
    raises(r"^y: the loss 'categorical_crossentropy' expects one-hot labels of shape \(6, 3\) \(one column "
           r"per output unit\), but y has shape \(6,\): integer class ids\. Use "
           r"loss='sparse_categorical_crossentropy', or keras\.utils\.to_categorical\(y, 3\)\.$",
           check_fit_data, dense_model(loss="categorical_crossentropy"), X4, Y3)


def test_one_hot_width_differs_from_output_units():
    raises(r"^y: one-hot labels have width 5 but the model has 3 output units \(output shape \(None, 3\)\); "
           r"received y of shape \(6, 5\)",
           check_fit_data, dense_model(loss=keras.losses.CategoricalCrossentropy()), X4, np.eye(5)[Y3])


def test_binary_targets_out_of_range():
    raises(r"^y: the loss 'binary_crossentropy' expects targets in \[0, 1\]; found 2 outside \(the first, 2, "
           r"at y\[2\]\)\. For 3 classes use 3 output units and loss='sparse_categorical_crossentropy'",
           check_fit_data, dense_model(1, "binary_crossentropy"), X4, np.array([0, 1, 2, 2, 0, 1]))


def test_regression_target_shape():
    raises(r"^y: the loss 'mean_squared_error' compares y with the model output element by element, so it "
           r"needs shape \(6, 3\) \(the output is \(None, 3\)\); received y of shape \(6,\)",
           check_fit_data, dense_model(3, "mse"), X4, np.zeros(6))
    raises(r"needs shape \(6, 1\).*received y of shape \(6, 2\)",
           check_fit_data, dense_model(1, "mae"), X4, np.zeros((6, 2)))


def test_y_missing_for_compiled_loss():
    raises(r"^y is missing: the model was compiled with loss='sparse_categorical_crossentropy', which needs "
           r"labels\. Pass y= with 6 labels\.$", check_fit_data, dense_model(), X4)


@pytest.mark.parametrize(
    "loss, kind",
    [("sparse_categorical_crossentropy", "sparse"), (keras.losses.SparseCategoricalCrossentropy(), "sparse"),
     (keras.losses.sparse_categorical_crossentropy, "sparse"), ("categorical_crossentropy", "one_hot"),
     ("kld", "one_hot"), ("bce", "binary"), (keras.losses.BinaryFocalCrossentropy(), "binary"),
     ("mse", "elementwise"), (keras.losses.Huber(), "elementwise"), ("my_loss", None), (None, None)],
)
def test_loss_kind(loss, kind):
    assert loss_kind(loss) == kind


# ----------------------------------------------------------------------------- structure
def two_input_model():
    a = keras.Input((3,), name="a")
    b = keras.Input((2, 2), name="b")
    h = keras.layers.Concatenate()([a, keras.layers.Flatten()(b)])
    out1 = keras.layers.Dense(4, name="cls")(h)
    out2 = keras.layers.Dense(1, name="reg")(h)
    model = keras.Model([a, b], [out1, out2])
    model.compile(optimizer="sgd", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"}, jit_compile=False)
    return model


def test_multi_input_multi_output():
    model = two_input_model()
    xa, xb = np.zeros((5, 3)), np.zeros((5, 2, 2))
    good_y = {"cls": np.array([0, 1, 2, 3, 0]), "reg": np.zeros((5, 1))}
    check_fit_data(model, {"a": xa, "b": xb}, good_y)
    check_fit_data(model, [xa, xb], [good_y["cls"], good_y["reg"]])
    model.fit([xa, xb], good_y, epochs=1, verbose=0)  # Keras agrees
    raises(r"^x\['b'\]: the model expects input of shape \(None, 2, 2\) \(rank 3\) but x\['b'\] has shape \(5, 4\)",
           check_fit_data, model, {"a": xa, "b": np.zeros((5, 4))}, good_y)
    raises(r"^x\[1\] has 4 samples but x\[0\] has 5", check_fit_data, model, [xa, xb[:4]], good_y)
    raises(r"^y\['cls'\]: labels must be integers in \[0, 4\)", check_fit_data, model, [xa, xb],
           {"cls": np.array([0, 1, 2, 4, 0]), "reg": np.zeros((5, 1))})
    raises(r"^y\[1\]: the loss 'mean_squared_error'.*needs shape \(5, 1\)", check_fit_data, model, [xa, xb],
           [good_y["cls"], np.zeros((5, 3))])


def test_single_input_given_as_a_one_element_list():
    model = dense_model()
    check_fit_data(model, [X4], [Y3])
    model.fit([X4], [Y3], epochs=1, verbose=0)  # Keras accepts it too
    raises(r"^x: the model expects input of shape \(None, 4\) \(rank 2\) but x has shape \(6, 5\)",
           check_fit_data, model, [np.zeros((6, 5))], [Y3])


def test_validation_data_is_checked_under_its_own_name():
    model = dense_model()
    xv = np.ones((3, 4))
    xv[1, 2] = np.nan
    raises(r"^validation_data\[0\] contains 1 NaN value in 1 of 3 samples; the first is "
           r"validation_data\[0\]\[1, 2\] = nan", check_fit_data, model, X4, Y3,
           validation_data=(xv, np.array([0, 1, 2])))
    raises(r"^validation_data\[0\] and validation_data\[1\] have different lengths: validation_data\[0\] has 3 "
           r"samples but validation_data\[1\] has 2", check_fit_data, model, X4, Y3,
           validation_data=(np.ones((3, 4)), np.array([0, 1])))
    raises(r"^validation_data: expected a tuple \(x_val, y_val\) or \(x_val, y_val, sample_weight_val\), or a "
           r"dataset; received tuple of length 1", check_fit_data, model, X4, Y3, validation_data=(X4,))
    raises(r"^validation_data\[2\]: sample weights must be >= 0", check_fit_data, model, X4, Y3,
           validation_data=(X4, Y3, -np.ones(6)))


def test_argument_prefix_names_the_call():
    raises(r"^evaluate x and evaluate y have different lengths: evaluate x has 6 samples but evaluate y has 2",
           check_fit_data, dense_model(), X4, Y3[:2], argument_prefix="evaluate ")


# ----------------------------------------------------------------------------- what is skipped
class Batches(keras.utils.PyDataset):
    def __len__(self):
        return 1

    def __getitem__(self, i):
        return np.full((2, 4), np.nan), np.array([99, 99])


def test_streams_are_passed_through_unread():
    model = dense_model()

    def generator():
        raise AssertionError("the generator must not be consumed")
        yield  # pragma: no cover

    check_fit_data(model, Batches())
    check_fit_data(model, generator())
    check_fit_data(model, X4, Y3, validation_data=Batches())
    check_fit_data(model, iter([X4]))


def test_tf_data_is_passed_through():
    tf = pytest.importorskip("tensorflow")
    ds = tf.data.Dataset.from_tensor_slices((np.full((4, 4), np.nan), np.array([9, 9, 9, 9]))).batch(2)
    check_fit_data(dense_model(), ds)


def test_backend_tensors_get_shape_checks():
    model = image_model()
    x = keras.ops.zeros((3, 28, 28))
    raises(r"^x: the model expects input of shape \(None, 28, 28, 1\).*\(3, 28, 28\)",
           check_fit_data, model, x, keras.ops.convert_to_tensor(np.arange(3)))
    check_fit_data(model, keras.ops.zeros((3, 28, 28, 1)), keras.ops.convert_to_tensor(np.arange(3)))


def test_deepkit_model_fit_uses_the_checks():
    import deepkit

    model = deepkit.from_spec([{"Dense": 3}], input_shape=(4,))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    raises(r"^y: labels must be integers in \[0, 3\)", model.fit, X4, np.array([0, 1, 2, 3, 0, 1]), verbose=0)
    raises(r"^evaluate x and evaluate y have different lengths", model.evaluate, X4, Y3[:3], verbose=0)


# ----------------------------------------------------------------------------- speed
def test_checks_are_fast_on_mnist_sized_data():
    x = np.random.default_rng(0).random((60000, 28, 28, 1), dtype="float32")
    y = np.random.default_rng(0).integers(0, 10, 60000)
    model = image_model()
    check_fit_data(model, x, y)  # warm up
    start = time.perf_counter()
    check_fit_data(model, x, y, validation_data=(x[:10000], y[:10000]))
    elapsed = time.perf_counter() - start
    # One summing pass over 188 MB: tens of milliseconds; generous bound for a loaded CI machine.
    assert elapsed < 1.0, elapsed


# ----------------------------------------------------------------------------- bad numbers through fit
def _deepkit_classifier():
    import deepkit

    model = deepkit.from_spec([{"Dense": 3}], input_shape=(4,))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def test_float64_values_that_overflow_float32_are_refused_by_fit():
    x = np.full((32, 4), 1e39)  # finite in float64, inf once Keras casts to float32
    y = np.zeros(32, "int64")
    with np.errstate(over="ignore"):
        assert np.isfinite(x).all() and not np.isfinite(x.astype("float32")).all()
    msg = raises(r"^x contains 128 values outside the float32 range \(\|v\| > 3\.403e\+38\) in 32 of 32 "
                 r"samples; the first is x\[0, 0\] = 1e\+39\.", _deepkit_classifier().fit, x, y, verbose=0)
    assert "rescale" in msg
    x = np.zeros((6, 4))
    x[4, 2] = -1e300
    raises(r"^x contains 1 value outside the float32 range .* in 1 of 6 samples; the first is x\[4, 2\] = -1e\+300",
           check_fit_data, dense_model(), x, Y3)
    check_fit_data(dense_model(), np.full((6, 4), 3e38), Y3)  # large but representable: fine


def test_nan_and_inf_sample_weight_are_refused_by_fit():
    x, y = np.zeros((8, 4), "float32"), np.zeros(8, "int64")
    for bad, word in ((np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "inf")):
        w = np.ones(8)
        w[6] = bad
        raises(rf"^sample_weight contains 1 {word} value in 1 of 8 samples; the first is sample_weight\[6\] = ",
               _deepkit_classifier().fit, x, y, sample_weight=w, verbose=0)
    w = np.ones(8)
    w[1] = 1e40
    raises(r"^sample_weight contains 1 value outside the float32 range .*sample_weight\[1\] = 1e\+40",
           _deepkit_classifier().fit, x, y, sample_weight=w, verbose=0)
    w = np.ones(8)
    w[3] = np.nan
    raises(r"^evaluate sample_weight contains 1 NaN value", _deepkit_classifier().evaluate, x, y,
           sample_weight=w, verbose=0)


@pytest.mark.parametrize("loss, units", [("sparse_categorical_crossentropy", 3), ("binary_crossentropy", 1),
                                         ("mse", 1), ("categorical_crossentropy", 3)])
def test_inf_in_y_is_a_data_error_not_a_crash(loss, units):
    y = np.zeros((6, units)) if loss != "sparse_categorical_crossentropy" else np.zeros(6)
    y[(4, 0) if y.ndim == 2 else 4] = np.inf
    y[(5, 0) if y.ndim == 2 else 5] = -np.inf
    first = r"y\[4, 0\]" if y.ndim == 2 else r"y\[4\]"
    raises(rf"^y contains 2 inf values in 2 of 6 samples; the first is {first} = inf",
           check_fit_data, dense_model(units, loss), X4, y)
    y = np.zeros(6)
    y[0] = np.nan
    raises(r"^y contains 1 NaN value in 1 of 6 samples; the first is y\[0\] = nan",
           check_fit_data, dense_model(3), X4, y)
