"""Hostile specs are refused fast, with a SpecError naming the limit; the limits can be raised."""

import json
import time

import pytest

import deepkit
from deepkit.errors import SpecError
from deepkit.spec import LIMITS, spec_limits
from deepkit.spec.parse import DEFAULT_LIMITS, count_spec_layers, get_limit


def refused_fast(spec, match, seconds=1.0, **kwargs):  # typically 0.01-0.2 s; slack for a loaded machine
    start = time.perf_counter()
    with pytest.raises(SpecError, match=match) as info:
        deepkit.from_spec(spec, **kwargs)
    elapsed = time.perf_counter() - start
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    assert "spec_limits(" in str(info.value)
    return str(info.value)


def nested_sequential(levels):
    entry = {"Dense": 2}
    for _ in range(levels):
        entry = {"sequential": [entry]}
    return {"input_shape": [3], "layers": [entry]}


def nested_sequential_yaml(levels):
    lines, indent = ["input_shape: [3]", "layers:"], "  "
    for _ in range(levels):
        lines.append(indent + "- sequential:")
        indent += "    "
    lines.append(indent + "- Dense: 2")
    return "\n".join(lines) + "\n"


@pytest.mark.backend_independent
def test_defaults_are_documented_values():
    assert DEFAULT_LIMITS == {"max_bytes": 1_048_576, "max_depth": 100, "max_layers": 5_000,
                              "max_weight_bytes": "auto"}
    assert {name: get_limit(name) for name in DEFAULT_LIMITS} == LIMITS == DEFAULT_LIMITS


@pytest.mark.backend_independent
@pytest.mark.parametrize("text", ["[" * 100_000, "layers: " + "[" * 100_000, "{a: " * 50_000,
                                  "layers:\n" + "- " * 100_000 + "Dense\n"],
                         ids=["json-brackets", "yaml-flow", "yaml-mappings", "yaml-block-dashes"])
def test_100000_nested_brackets_are_refused_at_once(text, tmp_path):
    assert 100_000 <= len(text) <= 300_000  # about 200 KB
    message = refused_fast(text, r"nested more than 100 levels deep .*the limit is max_depth=100")
    assert message.startswith("<string>:")  # with line and column
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    refused_fast(path, r"^.*deep\.yaml:\d+:\d+: the spec is nested more than 100 levels deep")


@pytest.mark.parametrize("form", ["dict", "json", "yaml"])
def test_330_nested_sequential_is_a_spec_error_not_a_recursion_error(form):
    spec = {"dict": nested_sequential(330), "json": json.dumps(nested_sequential(330)),
            "yaml": nested_sequential_yaml(330)}[form]
    refused_fast(spec, r"nested more than 100 levels deep.*max_depth=100")


def test_depth_limit_off_still_gives_a_spec_error():
    with spec_limits(max_depth=None):
        with pytest.raises(SpecError, match=r"too deeply for Python's recursion limit.*max_depth=0"):
            deepkit.from_spec(nested_sequential(2000))


def test_raising_the_depth_limit_builds_deeper_specs():
    spec = nested_sequential(60)  # 2 levels each (a mapping and a list): about 120
    with pytest.raises(SpecError, match="max_depth=100"):
        deepkit.from_spec(spec)
    with pytest.raises(SpecError, match="max_depth=100"):
        deepkit.from_spec(nested_sequential_yaml(60))
    with spec_limits(max_depth=200):
        assert deepkit.from_spec(spec).count_params() == 8
        assert deepkit.from_spec(nested_sequential_yaml(60)).count_params() == 8
    assert get_limit("max_depth") == 100  # restored after the block


@pytest.mark.backend_independent
def test_50_mb_spec_with_476k_layers_is_refused_by_size(tmp_path):
    entry = "- {Conv2D: {filters: 64, kernel_size: 3, padding: same, use_bias: true, activation: relu, name: conv_%06d}}\n"
    text = "input_shape: [32, 32, 3]\nlayers:\n" + "".join(entry % i for i in range(476_000))
    assert len(text) > 50_000_000
    refused_fast(text, r"^<string>: the spec text is [\d,]+ characters \(at least as many bytes\); the limit is max_bytes=1,048,576")
    path = tmp_path / "huge.yaml"
    path.write_text(text)
    refused_fast(path, r"huge\.yaml: the spec file is [\d,]+ bytes; the limit is max_bytes=1,048,576")


def test_476k_layers_as_data_are_refused_by_count():
    refused_fast([{"Dense": 2}] * 476_000, r"more than 5,000 layers \(repeats expanded\).*max_layers=5,000",
                 input_shape=(3,))
    refused_fast([{"repeat": {"times": 10**12, "layers": [{"Dense": 2}]}}],
                 r"more than 5,000 layers", input_shape=(3,))
    with spec_limits(max_layers=5):
        with pytest.raises(SpecError, match="max_layers=5"):
            deepkit.Sequential([{"Dense": 2}] * 6, input_shape=(3,))
        assert len(deepkit.Sequential([{"Dense": 2}] * 5, input_shape=(3,)).layers) == 5  # Keras lists no InputLayer


def test_size_limit_can_be_raised_and_switched_off():
    text = "input_shape: [3]\n# " + "x" * 2000 + "\nlayers: [{Dense: 2}]\n"
    with spec_limits(max_bytes=1000):
        with pytest.raises(SpecError, match=r"max_bytes=1,000"):
            deepkit.from_spec(text)
    with spec_limits(max_bytes=None):
        assert deepkit.from_spec(text).count_params() == 8


@pytest.mark.backend_independent
def test_count_spec_layers_follows_the_grammar():
    spec = [{"Dense": 2}, "ReLU",
            {"residual": {"layers": [{"Dense": 2}], "shortcut": [{"Dense": 2}]}},  # 2 + merge
            {"parallel": [[{"Dense": 1}], [{"Dense": 1}, "ReLU"]]},  # 3 + merge
            {"repeat": {"times": 4, "layers": [{"sequential": ["ReLU", "ReLU"]}]}}]  # 8
    assert count_spec_layers(spec) == 2 + 3 + 4 + 8


@pytest.mark.backend_independent
def test_spec_limits_refuses_unknown_names_and_bad_values():
    with pytest.raises(ValueError, match="unknown spec limit 'max_dept'"):
        with spec_limits(max_dept=3):
            pass
    for bad in (0, -1, 2.5, True, "big"):
        with pytest.raises(ValueError, match=r"must be a positive int or None"):
            with spec_limits(max_layers=bad):
                pass


def test_brackets_inside_quotes_and_comments_do_not_count():
    text = ("input_shape: [3]\ndescription: '" + "[" * 300 + "'\n# " + "{" * 300 + "\n"
            'layers: [{Dense: {units: 2, name: "' + "[" * 300 + '"}}]\n')
    assert deepkit.from_spec(text).count_params() == 8


# ------------------------------------------------ where the limits and the reader point (issue 27, mutation survivors)
_NESTED = "input_shape: [3]\nlayers:\n  - sequential:\n      - sequential:\n          - Dense: 2\n"


@pytest.mark.backend_independent
@pytest.mark.parametrize("max_depth, where", [(3, "4:7"), (4, "4:9"), (5, "5:11")])
def test_a_block_style_spec_too_deep_points_at_the_first_node_past_the_limit(max_depth, where):
    """Levels: the document 1, ``layers`` 2, its first entry 3, the outer ``sequential`` list 4 (line 4, column 7),
    its entry 5 (line 4, column 9), the inner list 6 (line 5, column 11): the error names the first past the limit.

    Mutation survivor caught (limits.py): the line of the YAML mark + 2 instead of + 1.
    """
    with spec_limits(max_depth=max_depth):
        with pytest.raises(SpecError) as info:
            deepkit.from_spec(_NESTED)
    assert str(info.value).startswith(f"<string>:{where}: the spec is nested more than {max_depth} levels deep "
                                      "(lists and mappings)")


@pytest.mark.backend_independent
def test_a_duplicate_key_is_located_at_its_second_occurrence():
    """Line 3 is ``  - Dense: {units: 2, units: 3}``: the second ``units`` starts at column 23.

    Mutation survivors caught (source.py): the line or the column of the duplicate key + 0 instead of + 1.
    """
    text = "input_shape: [2]\nlayers:\n  - Dense: {units: 2, units: 3}\n"
    assert text.splitlines()[2].index("units", 15) + 1 == 23
    with pytest.raises(SpecError, match=r"^<string>:3:23: duplicate key 'units' \(first at line 3\)"):
        deepkit.from_spec(text)


@pytest.mark.backend_independent
def test_the_size_limit_counts_utf8_bytes_not_characters():
    """341 characters, 1,241 UTF-8 bytes (300 four-byte emoji in a comment): refused at max_bytes=1,100 though
    its characters fit (3 x 341 < 1,100 < 4 x 341); accepted at 1,241 (the limit is inclusive).

    Mutation survivor caught (limits.py): the characters' bound on the bytes ``len * 4`` written ``len * 3``.
    """
    text = "input_shape: [3]\n# " + "\U0001F600" * 300 + "\nlayers: [{Dense: 2}]\n"
    size = len(text.encode("utf-8"))
    assert (len(text), size) == (341, 1241)
    with spec_limits(max_bytes=1100):
        with pytest.raises(SpecError, match=r"^<string>: the spec text is 1,241 bytes; the limit is max_bytes=1,100"):
            deepkit.from_spec(text)
    with spec_limits(max_bytes=size):
        assert deepkit.from_spec(text).count_params() == 8


@pytest.mark.backend_independent
def test_flow_brackets_are_counted_one_level_each_way():
    """``[3]`` opens and closes one level; ``[{Dense: {units: 2}}]`` reaches 3: refused at max_depth=2 (at the
    third opening bracket, as brackets), built at max_depth=4 (the data is 4 deep: document, list, entry, mapping).

    Mutation survivors caught (limits.py): a bracket counted as 2 levels opening, or as 2 closing.
    """
    text = "input_shape: [3]\nlayers: [{Dense: {units: 2}}]\n"
    column = text.splitlines()[1].index("{units") + 1
    with spec_limits(max_depth=2):
        with pytest.raises(SpecError, match=rf"^<string>:2:{column}: the spec is nested more than 2 levels deep "
                                            r"\(brackets\)"):
            deepkit.from_spec(text)
    with spec_limits(max_depth=4):
        assert deepkit.from_spec(text).count_params() == 8


@pytest.mark.backend_independent
def test_malformed_yaml_names_where_the_unclosed_construct_began():
    """An unclosed flow list: the error is where the reader gave up (line 2, column 1) and says the list began at
    line 1, column 9 (its ``[``).

    Mutation survivors caught (source.py): the context's line or column off by one or two.
    """
    text = "layers: [Dense, {Dense: 2}\ninput_shape: [3]\n"
    assert text.index("[") + 1 == 9
    with pytest.raises(SpecError, match=r"^<string>:2:1: malformed YAML: .*\(while parsing a flow sequence at "
                                        r"line 1, column 9\)"):
        deepkit.from_spec(text)
