"""The API reference covers every public module, and every documented object has a docstring with a
runnable example (the acceptance rule of the docs). Fast: imports only, nothing is built."""

import importlib
import inspect
import os
import sys

import pytest

from tests import ROOT

sys.path.insert(0, os.path.join(ROOT, "docs", "_tools"))

import apigen  # noqa: E402

pytestmark = pytest.mark.backend_independent

# Modules the docs must document (the layout of CONTRIBUTING.md); more may exist.
REQUIRED = ["deepkit", "deepkit.spec", "deepkit.summary", "deepkit.errors", "deepkit.datasets",
            "deepkit.datasets.toy", "deepkit.models", "deepkit.train", "deepkit.viz", "deepkit.layers"]


@pytest.fixture(scope="module")
def api_plan():
    return apigen.plan(apigen.discover())


def test_every_public_module_imports(api_plan):
    _, _, failed = api_plan
    assert not failed, f"public modules that do not import (so are missing from the API docs): {failed}"


@pytest.mark.parametrize("name", REQUIRED)
def test_required_module_is_documented(api_plan, name):
    pages, _, _ = api_plan
    assert name in pages, (f"{name} is not in the API reference: it does not exist yet, or is a folder "
                           "without __init__.py (a namespace package, which the docs do not walk)")


def _documented(api_plan):
    pages, _, _ = api_plan
    out = {}
    for modname, entries in pages.items():
        for name, obj, canonical in entries:
            if canonical == f"{modname}.{name}":
                out[canonical] = obj
    return out


def test_every_public_object_has_docstring_with_example(api_plan):
    missing = []
    for name, obj in sorted(_documented(api_plan).items()):
        doc = inspect.getdoc(obj) or ""
        if not doc.strip():
            missing.append(f"{name}: no docstring")
        elif ">>>" not in doc:
            missing.append(f"{name}: no '>>>' example")
    assert not missing, "public objects without a runnable example:\n" + "\n".join(missing)


def test_every_public_method_has_docstring(api_plan):
    missing = []
    for name, obj in sorted(_documented(api_plan).items()):
        if not inspect.isclass(obj):
            continue
        for attr, member in vars(obj).items():
            if attr.startswith("_") or not inspect.isfunction(member):
                continue
            if attr in ("build", "call", "get_config", "from_config", "compute_output_shape",
                        "compute_output_spec", "compute_macs"):
                continue  # the Keras layer protocol, documented by Keras
            if not (inspect.getdoc(member) or "").strip():
                missing.append(f"{name}.{attr}")
    assert not missing, "public methods without a docstring:\n" + "\n".join(missing)


def test_canonical_names_are_the_shortest_public_path(api_plan):
    import deepkit

    documented = _documented(api_plan)
    assert documented["deepkit.Sequential"] is deepkit.Sequential
    assert "deepkit.core.sequential.Sequential" not in documented
    aliases = apigen.canonical_names(["deepkit", "deepkit.core"])
    assert aliases["deepkit.core.from_spec"] == "deepkit.from_spec"


def test_api_pages_render(tmp_path):
    written, failed = apigen.write(str(tmp_path), ["deepkit", "deepkit.spec", "deepkit.errors"])
    assert sorted(written) == ["deepkit", "deepkit.errors", "deepkit.spec"] and not failed
    top = (tmp_path / "deepkit.rst").read_text()
    assert ".. autofunction:: from_spec" in top and ".. autoclass:: Model" in top
    spec_page = (tmp_path / "deepkit.spec.rst").read_text()
    # re-exported objects are linked to their documented place, not documented twice
    assert "~deepkit.Residual" in spec_page and ".. autoclass:: Residual" not in spec_page
    assert ".. autofunction:: format_spec" in spec_page


def test_docs_tools_doctests():
    import doctest

    for module in ("apigen", "inventories", "check_links", "gallery_helpers"):
        result = doctest.testmod(importlib.import_module(module), verbose=False)
        assert result.failed == 0, module
