"""Multiply-add counting and the summary table, against hand formulas and published numbers."""

import keras
import numpy as np
import pytest

import deepkit
from deepkit.summary import layer_macs


def test_conv_dense_depthwise_macs_match_formulas():
    model = deepkit.Sequential([
        keras.layers.Conv2D(8, 3, padding="same"),               # 16*16*8 * 3*3*3
        keras.layers.Conv2D(8, 3, strides=2, groups=2),          # 7*7*8 * 3*3*4
        keras.layers.DepthwiseConv2D(3, padding="same"),         # 7*7*8 * 9
        keras.layers.SeparableConv2D(4, 1),                      # 7*7*8*1 + 7*7*4*8
        keras.layers.Flatten(),
        keras.layers.Dense(10),                                  # 196 * 10
    ], input_shape=(16, 16, 3))
    rows = deepkit.summary(model, print_fn=lambda line: None)
    expected = [16 * 16 * 8 * 27, 7 * 7 * 8 * 36, 7 * 7 * 8 * 9, 7 * 7 * 8 + 7 * 7 * 4 * 8, 0, 196 * 10]
    assert [r["macs"] for r in rows] == expected
    assert deepkit.count_macs(model) == sum(expected)
    assert [r["params"] for r in rows] == [layer.count_params() for layer in model.layers]


def test_transposed_conv_and_custom_hook():
    assert layer_macs(keras.layers.Conv2DTranspose(4, 3, strides=2), (5, 5, 2), (11, 11, 4)) == 5 * 5 * 2 * 9 * 4

    class Costly(keras.layers.Layer):
        def compute_macs(self, input_shape, output_shape):
            return 7

    assert layer_macs(Costly(), (3,), (3,)) == 7


def test_keras_applications_resnet50_macs_near_published():
    model = keras.applications.ResNet50(weights=None)
    macs = deepkit.count_macs(model)
    assert 3.8e9 <= macs <= 4.1e9, macs


def test_summary_prints_shapes_params_and_totals():
    lines = []
    model = deepkit.from_spec([{"Conv2D": [2, 3]}, "Flatten", {"Dense": 3}], input_shape=(5, 5, 1), name="tiny")
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Model: tiny" in text and "conv2d (Conv2D)" in text and "(3, 3, 2)" in text
    assert f"Total params: {model.count_params():,}" in text
    assert f"Multiply-adds per example: {deepkit.count_macs(model):,}" in text


def test_summary_counts_nested_models():
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    outer = deepkit.Sequential([inner, keras.layers.Dense(2)], input_shape=(4,))
    assert deepkit.count_macs(outer) == 4 * 3 + 3 * 2


@pytest.mark.backend_independent
def test_package_summary_stays_the_function_after_the_module_loads():
    import subprocess
    import sys

    code = ("import deepkit, deepkit.summary, importlib\n"
            "importlib.import_module('deepkit.summary')\n"
            "print(callable(deepkit.summary), callable(deepkit.count_macs))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "True True", done.stderr[-2000:]


# ------------------------------------------------ layouts and multipliers the MAC count must follow (issue 27)
def conv_reference(out_positions, out_channels, kernel, in_channels_per_group):
    """Multiply-adds of a convolution, from its definition: each output value sums kernel x input channels products."""
    return int(np.prod(out_positions)) * out_channels * int(np.prod(kernel)) * in_channels_per_group


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv_macs_read_the_channels_where_the_data_format_puts_them(data_format):
    """Plant: channels read from the last axis whatever the layout (10 instead of 3 here): 17,280 instead of 5,184."""
    shape = (8, 10, 3) if data_format == "channels_last" else (3, 8, 10)
    conv = keras.layers.Conv2D(4, 3, data_format=data_format)
    model = keras.Sequential([keras.Input(shape), conv])
    assert deepkit.count_macs(model) == conv_reference((6, 8), 4, (3, 3), 3) == 5184
    grouped = keras.Sequential([keras.Input((6, 5, 5) if data_format == "channels_first" else (5, 5, 6)),
                                keras.layers.Conv2D(4, 3, groups=2, data_format=data_format)])
    assert deepkit.count_macs(grouped) == conv_reference((3, 3), 4, (3, 3), 3)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("depth_multiplier", [1, 2, 3])
def test_separable_conv_macs_count_the_depth_multiplier_in_both_steps(data_format, depth_multiplier):
    """Depthwise: each of C*m maps is one k x k filter over one channel; pointwise: a 1x1 conv from C*m to F.

    Plants caught: the multiplier dropped from the pointwise step (m=2: 3,024 -> 2,484) or the depthwise
    step (-> 2,052), and the spatial size read from the wrong axes under channels_first.
    """
    shape = (8, 8, 3) if data_format == "channels_last" else (3, 8, 8)
    layer = keras.layers.SeparableConv2D(5, 3, depth_multiplier=depth_multiplier, data_format=data_format)
    model = keras.Sequential([keras.Input(shape), layer])
    maps = 3 * depth_multiplier
    depthwise = conv_reference((6, 6), maps, (3, 3), 1)
    pointwise = conv_reference((6, 6), 5, (1, 1), maps)
    assert deepkit.count_macs(model) == depthwise + pointwise
    if depth_multiplier == 2:
        assert depthwise + pointwise == 3024
    one_d = keras.Sequential([keras.Input((9, 4) if data_format == "channels_last" else (4, 9)),
                              keras.layers.SeparableConv1D(2, 3, depth_multiplier=depth_multiplier,
                                                           data_format=data_format)])
    assert deepkit.count_macs(one_d) == (conv_reference((7,), 4 * depth_multiplier, (3,), 1)
                                         + conv_reference((7,), 2, (1,), 4 * depth_multiplier))


def test_merges_count_no_multiply_adds():
    """Mutation survivor (summary.py: the merge case returning 1 instead of 0): an Add counts nothing."""
    x = keras.Input((4,))
    y = keras.layers.Add()([keras.layers.Dense(4)(x), x])
    model = keras.Model(x, keras.layers.Concatenate()([y, x]))
    assert deepkit.count_macs(model) == 16
    assert [row["macs"] for row in deepkit.summary(model, print_fn=lambda line: None)] == [16, 0, 0]


def test_einsum_dense_macs_follow_the_contraction():
    """Mutation survivor (summary.py: EinsumDense's ``*`` -> ``/``): each output value sums the contracted axis."""
    flat = keras.Sequential([keras.Input((5,)), keras.layers.EinsumDense("ab,bc->ac", output_shape=6)])
    assert deepkit.count_macs(flat) == 6 * 5
    sequence = keras.Sequential([keras.Input((7, 5)), keras.layers.EinsumDense("abc,cd->abd", output_shape=(7, 6))])
    assert deepkit.count_macs(sequence) == (7 * 6) * 5


# ------------------------------------------------ weights' bytes, the memory check and the printed table (issue 27)
def test_human_bytes_switches_unit_at_each_power_of_1024():
    """Mutation survivors (summary.py: a unit's scale 1 << 20 -> 1 << 21 or 1 << 19, the bytes' return)."""
    from deepkit.summary import human_bytes

    assert human_bytes(1023) == "1023 B"
    assert [human_bytes(1 << k) for k in (10, 20, 30, 40)] == ["1.00 KiB", "1.00 MiB", "1.00 GiB", "1.00 TiB"]
    assert [human_bytes((1 << k) - 1) for k in (20, 30, 40)] == ["1024.00 KiB", "1024.00 MiB", "1024.00 GiB"]
    assert human_bytes(3 * (1 << 19)) == "1.50 MiB"


class _Weights(keras.layers.Layer):
    """A layer holding one weight of each given dtype (3 x 2 values each)."""

    def __init__(self, dtypes, **kwargs):
        super().__init__(**kwargs)
        self.dtypes = dtypes

    def build(self, input_shape):
        for d in self.dtypes:
            self.add_weight(shape=(3, 2), dtype=d, name=d, initializer="zeros", trainable=False)

    def call(self, x):
        return x


def test_weight_bytes_follow_each_dtype_width():
    """bytes = values x the dtype's item size (numpy's, or the bit width for bfloat16 / float8).

    Plants caught: the item size's bit divisor 8 -> 7 or 9, a layer's row dropped, bytes = values / size, and
    (fixed with this test) float8_e4m3fn counted as 105 bytes (the digits "843" of its name read as a width)
    and bool as 4.
    """
    from types import SimpleNamespace

    from deepkit.summary import weight_sizes

    dtypes = ["float64", "float16", "int8", "uint8", "bool", "complex64"]
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, name="fc"), _Weights(dtypes, name="w")])
    rows = weight_sizes(model)
    assert rows == [("fc", "Dense", 9, 9 * 4), ("w", "_Weights", 6 * len(dtypes),
                                                 sum(6 * np.dtype(d).itemsize for d in dtypes))]
    # dtypes numpy does not name (and not every backend can allocate): a model-like object is enough
    fake = SimpleNamespace(layers=[SimpleNamespace(name="q", weights=[
        SimpleNamespace(shape=(5,), dtype="bfloat16"), SimpleNamespace(shape=(5,), dtype="float8_e4m3fn")])])
    assert weight_sizes(fake) == [("q", "SimpleNamespace", 10, 5 * 2 + 5 * 1)]


def test_check_weights_fit_names_the_largest_layer_by_bytes_and_the_limit():
    """The largest layer is the one with the most bytes (float64: fewer values, more bytes), limits are inclusive.

    Plants caught: the largest layer picked by parameters (``r[3] -> r[2]``), ``<=`` -> ``<``, the auto
    limit's source and setting dropped from the message.
    """
    from deepkit.errors import SpecError
    from deepkit.summary import check_weights_fit

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(40, name="many", dtype="float16"),
                              keras.layers.Dense(3, name="wide", dtype="float64")])
    many, wide = 2 * 40 + 40, 40 * 3 + 3            # parameters
    total = many * 2 + wide * 8                     # 240 + 984 bytes
    assert check_weights_fit(model, limit=total) == total
    assert check_weights_fit(model, limit=None) == total
    with pytest.raises(SpecError) as err:
        check_weights_fit(model, limit=total - 1)
    message = str(err.value)
    assert f"({total:,} bytes, {many + wide:,} parameters)" in message
    assert f"The largest layer is 'wide' (Dense): {wide:,} parameters" in message and "(984 bytes)" in message
    assert "max_weight_bytes=1,223" in message


def test_check_weights_fit_auto_uses_the_available_memory_and_its_source(monkeypatch):
    """Plants caught: the unknown-memory case returning None instead of the total, the source left out."""
    import importlib

    from deepkit.errors import SpecError
    from deepkit.summary import check_weights_fit

    module = importlib.import_module("deepkit.summary")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])  # 15 float32 values: 60 bytes
    monkeypatch.setattr(module, "available_memory", lambda: (None, "the platform does not say"))
    assert check_weights_fit(model) == 60
    monkeypatch.setattr(module, "available_memory", lambda: (60, "the test's probe"))
    assert check_weights_fit(model) == 60
    monkeypatch.setattr(module, "available_memory", lambda: (59, "the test's probe"))
    with pytest.raises(SpecError, match=r"\(59 bytes\) is available \(the test's probe; max_weight_bytes='auto'\)"):
        check_weights_fit(model)


def test_summary_of_a_spec_counts_weights_it_never_allocates():
    """A 10^12-parameter Dense (4 TB of float32) is counted from its shapes, never built in memory.

    Plant caught: the spec built with ``allocate=True`` (the memory check then refuses it).
    """
    lines = []
    rows = deepkit.summary([{"Dense": 10**6}], input_shape=(10**6,), print_fn=lines.append)
    assert [(r["params"], r["macs"], r["output_shape"]) for r in rows] == [(10**12 + 10**6, 10**12, (10**6,))]
    assert f"Total params: {10**12 + 10**6:,}" in "\n".join(lines)


def test_summary_table_lines_and_totals():
    """The rules are as wide as the header; the non-trainable count is total - trainable; MACs in K/M/G."""
    lines = []
    dense = keras.layers.Dense(1000, name="fc")
    model = keras.Sequential([keras.Input((3,)), dense, keras.layers.BatchNormalization(name="bn")])
    deepkit.summary(model, print_fn=lines.append)
    header = lines[2]
    assert lines[0] == f"Model: {model.name}" and header.startswith("Layer (type)") and header.endswith("MACs")
    assert lines[1] == "-" * len(header) and lines[3] == "=" * len(header) and lines[-3] == "=" * len(header)
    assert all(len(row) == len(header) for row in lines[4:-3])
    assert lines[-2] == "Total params: 8,000  (trainable 6,000, non-trainable 2,000)"
    assert lines[-1] == "Multiply-adds per example: 3,000 (3.00K)"
