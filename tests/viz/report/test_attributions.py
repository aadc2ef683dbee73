"""One way to call an attribution method, with the registry's defaults, on every page."""

import inspect
import json

import keras
import numpy as np
import pytest

import deepkit.viz
from deepkit.viz.attribution.registry import get_method, list_methods, report_methods, report_options
from deepkit.viz.report import build_report
from deepkit.viz.report.attributions import attribution_options, check_methods


@pytest.mark.backend_independent
def test_the_options_are_the_registry_report_defaults():
    images = np.zeros((1, 32, 32, 3), "float32")
    for method in list_methods():
        expected = report_options(method, images, layer="c")
        del expected["batch_size"]
        assert attribution_options(method, images, "c") == expected, method
    assert attribution_options("saliency", images) == {}
    assert attribution_options("score_cam", np.zeros((1, 8, 8, 1)), "c") == {"layer": "c"}
    assert attribution_options("occlusion", np.zeros((1, 8, 8, 1))) == {"patch_size": 2, "stride": 1}
    assert check_methods(["occlusion"]) == ("occlusion",)
    with pytest.raises(ValueError, match=r"unknown attribution methods \['nope'\]"):
        check_methods(["nope"])


@pytest.mark.parametrize("single_file", [False, True])
def test_integrated_gradients_runs_with_the_registry_default_everywhere(tmp_path, monkeypatch, single_file):
    """Before: the single page passed ``steps=32``, the class pages used the function's 50; now both
    use the registry's report default."""
    seen = []
    original = deepkit.viz.integrated_gradients

    def spy(model, images, *args, **kwargs):
        seen.append(kwargs.get("steps", inspect.signature(original).parameters["steps"].default))
        return original(model, images, *args, **kwargs)

    monkeypatch.setattr(deepkit.viz, "integrated_gradients", spy)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c"),
                              keras.layers.Flatten(), keras.layers.Dense(2, name="d")])
    x = np.random.default_rng(0).random((10, 8, 8, 1)).astype("float32")
    build_report(model, (x, np.arange(10) % 2), tmp_path, featurevis=False, embedding=False,
                 attributions=("integrated_gradients",), layers=["c"], unit_pages=0, max_classes=1,
                 single_file=single_file, progress=False)
    assert json.loads((tmp_path / "report.json").read_text())["errors"] == []
    default = get_method("integrated_gradients").report_options()["steps"]
    assert seen and set(seen) == {default}


@pytest.mark.backend_independent
def test_report_help_lists_every_method_the_report_draws():
    """Before, ``deepkit report --help`` listed 4 of the 7 methods (its default set); it lists every
    registered method and, as the default, those the report draws (the registry's ``in_report``)."""
    import argparse
    import re

    from deepkit.cli import add_report_arguments
    from deepkit.viz.report import ATTRIBUTION_METHODS

    text = " ".join(add_report_arguments(argparse.ArgumentParser(prog="report")).format_help().split())
    listed = re.search(r"--attributions ATTRIBUTIONS comma-separated attribution methods, of: ([a-z_, ]+)", text)
    assert listed and listed.group(1).strip().rstrip(",").split(", ") == list(report_methods(False))
    assert f"(default: {', '.join(ATTRIBUTION_METHODS)};" in text
