"""deepkit/spec/build.py: documents built into graphs, plain models written back as specs."""

import keras
import numpy as np
import pytest

import deepkit
from deepkit.errors import SpecError

TOKENS = {"layers": [{"Input": {"shape": [1], "dtype": "int32"}}, {"Embedding": [100, 2]}]}


# ------------------------------------------------------------------ an integer input (issue 27.6)
def test_an_input_dtype_is_kept_by_from_spec_and_written_back_by_to_spec():
    model = deepkit.from_spec(TOKENS)
    assert keras.backend.standardize_dtype(model.inputs[0].dtype) == "int32"
    spec = model.to_spec()
    assert spec["layers"][0] == {"Input": {"shape": [1], "dtype": "int32"}}
    assert keras.backend.standardize_dtype(deepkit.from_spec(spec).inputs[0].dtype) == "int32"
    sequential = deepkit.Sequential(TOKENS["layers"])
    assert keras.backend.standardize_dtype(sequential.inputs[0].dtype) == "int32"
    assert sequential.to_spec()["layers"][0] == {"Input": {"shape": [1], "dtype": "int32"}}
    plain = keras.Sequential([keras.Input((2,), dtype="int32"), keras.layers.Embedding(5, 2)])
    assert deepkit.to_spec(plain)["layers"][0] == {"Input": {"shape": [2], "dtype": "int32"}}
    assert "Input" not in str(deepkit.from_spec([{"Dense": 2}], input_shape=(3,)).to_spec())  # floats: as before


def test_ids_above_2_to_the_24_read_their_own_embedding_row():
    """A float32 input rounds 2**24 + 1 to 2**24: the row before it (the plant: no dtype, as before the fix)."""
    rows = 2**24 + 3
    model = deepkit.from_spec({"layers": [{"Input": {"shape": [1], "dtype": "int32"}}, {"Embedding": [rows, 1]}]})
    model.layers[-1].set_weights([(np.arange(rows) % 7).astype("float32")[:, None]])  # 2**24 % 7 == 1
    out = keras.ops.convert_to_numpy(model(np.array([[2**24 + 1]], "int32")))
    assert out.ravel().tolist() == [2.0]


def test_a_bad_input_dtype_says_where_and_what_is_expected():
    with pytest.raises(SpecError, match=r"layers\[0\]\.Input\.dtype: an Input's dtype must be a dtype name "
                                        r"such as 'int32'.*Received: dtype='int33'"):
        deepkit.from_spec({"layers": [{"Input": {"shape": [1], "dtype": "int33"}}, "Flatten"]})
    with pytest.raises(SpecError, match=r"Input has no key 'dtyp'\. Did you mean 'dtype'\?"):
        deepkit.from_spec({"layers": [{"Input": {"shape": [1], "dtyp": "int32"}}, "Flatten"]})


@pytest.mark.parametrize("shape", [(0, 3), (4, True), (2.5,), ()])
def test_an_input_shape_of_non_positive_or_non_integer_sizes_is_refused_by_the_builder(shape):
    """Written for mutation survivors of build.py (``d < 1`` -> ``d < 0``; ``or`` -> ``and`` in the size check)."""
    with pytest.raises(SpecError, match=r"input_shape must be positive integers .*Received: input_shape="):
        deepkit.from_spec([{"Dense": 2}], input_shape=shape)
