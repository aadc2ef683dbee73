"""The public API is the ``__all__`` of each public module, and no name leaves it by accident.

``tests/data/public_api.json`` records, per public module (every module of the package whose dotted name
has no ``_`` part, outside the per-backend packages ``deepkit/backend/<name>/``), the names of its
``__all__``. A new public name needs no change here; removing one fails
:func:`test_no_recorded_name_leaves_the_api` until the record is rewritten
(``python -m tests.integration.test_public_api``) and CHANGELOG.md says what was removed and what to use
instead (as the 0.2.0 entry does for the retired 0.1.0 shims).
"""

import importlib
import json
import os
import pkgutil

import pytest

from tests import ROOT

pytestmark = pytest.mark.backend_independent

RECORD = os.path.join(ROOT, "tests", "data", "public_api.json")
#: Packages that must say what they offer (``__all__``): every package of deepkit.
PACKAGES = ("deepkit", "deepkit.backend", "deepkit.core", "deepkit.datasets", "deepkit.layers", "deepkit.models",
            "deepkit.playground", "deepkit.spec", "deepkit.train", "deepkit.viz", "deepkit.viz.attribution",
            "deepkit.viz.featurevis", "deepkit.viz.graph", "deepkit.viz.report")


def _backend_implementation(name):
    parts = name.split(".")
    return len(parts) > 2 and parts[:2] == ["deepkit", "backend"] and \
        importlib.util.find_spec(".".join(parts[:3])).submodule_search_locations is not None


def public_modules():
    """The names of deepkit's public modules (see the module docstring), sorted."""
    import deepkit

    names = ["deepkit"]
    for info in pkgutil.walk_packages(deepkit.__path__, "deepkit."):
        if any(part.startswith("_") for part in info.name.split(".")) or _backend_implementation(info.name):
            continue
        names.append(info.name)
    return sorted(names)


def current_api():
    """``{module: sorted __all__}`` of the public modules that declare one."""
    api = {}
    for name in public_modules():
        module = importlib.import_module(name)
        if hasattr(module, "__all__"):
            api[name] = sorted(module.__all__)
    return api


with open(RECORD) as f:
    RECORDED = json.load(f)


@pytest.mark.parametrize("module_name", sorted(RECORDED))
def test_no_recorded_name_leaves_the_api(module_name):
    module = importlib.import_module(module_name)
    gone = sorted(set(RECORDED[module_name]) - set(getattr(module, "__all__", ())))
    assert not gone, (f"{module_name} dropped {gone} from __all__: if on purpose, list them in CHANGELOG.md and "
                      "rewrite the record with `python -m tests.integration.test_public_api`")


def test_every_name_in_every_all_resolves():
    unresolved = {name: [n for n in api if not hasattr(importlib.import_module(name), n)]
                  for name, api in current_api().items()}
    assert not {k: v for k, v in unresolved.items() if v}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_declares_its_api(package):
    assert hasattr(importlib.import_module(package), "__all__"), f"{package} has no __all__"


def test_the_record_covers_the_main_entry_points():
    assert {"Sequential", "Model", "from_spec", "to_spec"} <= set(RECORDED["deepkit"])
    assert {"saliency", "grad_cam", "occlusion", "build_report", "render"} <= set(RECORDED["deepkit.viz"])


if __name__ == "__main__":
    with open(RECORD, "w") as f:
        json.dump(current_api(), f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {RECORD}")
