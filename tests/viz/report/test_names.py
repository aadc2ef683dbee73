"""Page names and anchors: one per layer, whatever the layer names (issue 27.9)."""

import json
import re

import keras
import numpy as np
import pytest

from deepkit.viz.report import build_report
from deepkit.viz.report.names import PageNames, slug


@pytest.mark.backend_independent
def test_paths_that_share_a_slug_get_distinct_names():
    paths = ["conv.a", "conv-a", "conv_a", "Conv-A", "conv-a-2", "block1/conv 2"]
    names = PageNames(paths)
    pages = [names.page("layer", p) for p in paths]
    assert len({p.lower() for p in pages}) == len(paths)  # distinct, even without case
    assert pages[0] == "layer-conv-a.html" and pages[4] == "layer-conv-a-2.html"  # readable where free
    assert pages[5] == "layer-block1-conv-2.html"
    units = {names.page("unit", (p, u)) for p in paths for u in (0, 1, 12)}
    assert len(units) == 3 * len(paths)
    assert len({names.anchor(p) for p in paths}) == len(paths)
    assert all(re.fullmatch(r"[A-Za-z0-9-]+", names.of(p)) for p in paths)
    assert slug("é/ü") == "---"  # ASCII only in file names


def _three_convs():
    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 1))
    h = inp
    for name in ("conv.a", "conv-a", "conv_a"):
        h = keras.layers.Conv2D(2, 3, padding="same", name=name)(h)
    out = keras.layers.Dense(2, name="out")(keras.layers.GlobalAveragePooling2D()(h))
    return keras.Model(inp, out, name="clash")


@pytest.mark.slow
def test_atlas_gives_each_colliding_layer_its_own_page(tmp_path):
    """Before: ``conv.a``, ``conv-a`` and ``conv_a`` all wrote ``layer-conv-a.html`` (the last one won)
    and the index linked the three rows to that one page."""
    x = np.random.default_rng(0).random((12, 8, 8, 1)).astype("float32")
    build_report(_three_convs(), (x, np.arange(12) % 2), tmp_path, layers=["conv.a", "conv-a", "conv_a"],
                 featurevis=False, embedding=False, attributions=(), unit_pages=1, max_classes=0,
                 progress=False)
    meta = json.loads((tmp_path / "report.json").read_text())
    layer_pages = [p for p in meta["pages"] if p.startswith("layer-")]
    unit_pages = [p for p in meta["pages"] if p.startswith("unit-")]
    assert len(set(layer_pages)) == 3 and len(set(unit_pages)) == 3
    headings = {re.search(r"<h1>(.*?)</h1>", (tmp_path / p).read_text()).group(1) for p in layer_pages}
    assert headings == {"Layer conv.a", "Layer conv-a", "Layer conv_a"}
    index = (tmp_path / "index.html").read_text()
    for page in layer_pages:
        assert index.count(f'href="{page}"') >= 2  # navigation, layer table and link list
