"""No public name disappears: every name deepkit exported before the package was reorganised still imports.

``tests/data/public_api_v0.json`` lists, per module, the names of ``__all__``, the lazy exports of
``deepkit.viz`` and the functions, classes and deepkit submodules defined there, as written by the code
before the reorganisation (the "house" redesign). A new public name needs no change here; removing one
fails this test.
"""

import importlib
import json
import os

import pytest

from tests import ROOT

pytestmark = pytest.mark.backend_independent

with open(os.path.join(ROOT, "tests", "data", "public_api_v0.json")) as f:
    PUBLIC_API = json.load(f)


@pytest.mark.parametrize("module_name", sorted(PUBLIC_API))
def test_every_public_name_still_imports(module_name):
    module = importlib.import_module(module_name)
    missing = [name for name in PUBLIC_API[module_name] if not hasattr(module, name)]
    assert not missing, f"{module_name} lost public names: {missing}"


def test_the_snapshot_covers_the_main_entry_points():
    assert {"Sequential", "Model", "from_spec", "to_spec"} <= set(PUBLIC_API["deepkit"])
    assert {"saliency", "grad_cam", "occlusion", "build_report", "render"} <= set(PUBLIC_API["deepkit.viz"])
