"""The atlas (``deepkit report`` without ``--single-file``): its pages, links, assets, and a real
headless-Chromium check of an index, a layer, a unit and a class page.

Screenshots go to $DEEPKIT_TEST_ARTIFACTS when set, else to pytest's tmp folder; their paths
are printed. Without Chromium the browser test is skipped locally and fails in CI (CI=true).
"""

import html.parser
import json
import os
import re

import numpy as np
import pytest
from PIL import Image

from deepkit.viz import report
from deepkit.viz.report_browser import check_page, find_chromium
from tests.viz.digits import trained_digits_cnn

# End-to-end report builds (tens of seconds each): slow, run once in CI (tools/test-all.sh).
pytestmark = pytest.mark.slow


class _Refs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.imgs, self.tags = [], [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        for key in ("href", "src"):
            if key in attrs:
                self.refs.append(attrs[key])
        if tag == "img":
            self.imgs.append(attrs)


@pytest.fixture(scope="module")
def atlas(tmp_path_factory):
    model, hist, x, y = trained_digits_cnn()
    out = tmp_path_factory.mktemp("atlas")
    path = report.build_report(model, (x[1500:], y[1500:]), out, history=hist, num_samples=4,
                               featurevis_steps=4, top_k=4, max_units=8, unit_pages=2,
                               class_names=[f"digit {i}" for i in range(10)], progress=False)
    meta = json.loads((out / "report.json").read_text())
    return out, path, meta


def test_atlas_has_index_layer_unit_and_class_pages(atlas):
    out, path, meta = atlas
    assert path == str(out / "index.html")
    assert meta["errors"] == []
    assert meta["layers"] == ["conv1", "conv2", "logits"]  # every layer with weights
    assert meta["units"] == {"conv1": [0, 1], "conv2": [0, 1], "logits": [0, 1]}
    assert meta["classes"] == list(range(10))
    expected = ({"index.html", "layer-conv1.html", "layer-conv2.html", "layer-logits.html"}
                | {f"unit-{p}-{u}.html" for p in ("conv1", "conv2", "logits") for u in (0, 1)}
                | {f"class-{c}.html" for c in range(10)})
    assert set(meta["pages"]) == expected
    assert {f for f in os.listdir(out) if f.endswith(".html")} == expected
    assert os.listdir(out / "assets") == ["atlas.css"]
    assert len(os.listdir(out / "img")) == meta["images"] > 40


def test_every_link_resolves_and_nothing_is_remote(atlas):
    out, _, meta = atlas
    for name in meta["pages"]:
        page = (out / name).read_text(encoding="utf-8")
        parser = _Refs()
        parser.feed(page)
        assert "script" not in parser.tags, name  # usable with JavaScript off
        for ref in parser.refs:
            assert not re.match(r"[a-z]+:|//", ref) or ref == "data:,", (name, ref)  # no remote asset
            assert (out / ref.split("#")[0]).is_file() or ref == "data:,", (name, ref)
        assert parser.imgs and all(im.get("loading") == "lazy" for im in parser.imgs), name
        assert all(im["src"].startswith("img/") for im in parser.imgs), name
        assert "@import" not in page and "url(" not in page
        for bad in ("could not be drawn", "Traceback", "Error"):
            assert bad not in page, (name, bad)
    css = (out / "assets" / "atlas.css").read_text()
    assert "url(" not in css and "@import" not in css


def test_index_layer_table_and_links(atlas):
    out, _, _ = atlas
    index = (out / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr>(.*?)</tr>", index)
    conv2 = next(r for r in rows if 'href="layer-conv2.html"' in r)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", conv2)
    # conv2: 3x3 kernel over 8 channels, 16 filters, 4x4 outputs: 4*4*16*3*3*8 multiply-adds;
    # receptive field 8x8 pixels (3 + (2-1) + (3-1)*2), stride 2 (the pooling)
    assert cells[3:] == ["1,168", f"{4 * 4 * 16 * 3 * 3 * 8:,}", "8x8 / 2"]
    pool = next(r for r in rows if ">pool1<" in r)
    assert "href" not in pool  # no weights, no page
    for c in range(10):
        assert f'href="class-{c}.html">digit {c}</a>' in index
    unit_links = re.findall(r'href="(unit-conv2-\d+\.html)"',
                            (out / "layer-conv2.html").read_text(encoding="utf-8"))
    assert sorted(set(unit_links)) == ["unit-conv2-0.html", "unit-conv2-1.html"]


def test_layer_unit_and_class_pages_have_their_parts(atlas):
    out, _, _ = atlas
    layer = (out / "layer-conv2.html").read_text(encoding="utf-8")
    for part in ("Learned filters", "Feature maps for sample", "Top 4 data-set patches",
                 "Grad-CAM at this layer", "Units: 8 of 16 units", "5-NN accuracy",
                 "Activation atlas of conv2"):  # the deepest shown layer with maps of at least 2x2
        assert part in layer, part
    assert "Activation atlas" not in (out / "layer-conv1.html").read_text(encoding="utf-8")
    for name in ("layer-conv1.html", "layer-conv2.html"):  # Zeiler & Fergus' figure 2 on conv layers
        assert "Deconvnet projections (Zeiler &amp; Fergus 2014, figure 2)" in \
            (out / name).read_text(encoding="utf-8"), name
    assert "Deconvnet" not in (out / "layer-logits.html").read_text(encoding="utf-8")
    unit = (out / "unit-conv2-1.html").read_text(encoding="utf-8")
    for part in ("channel mean, seed 0", "channel mean, seed 1", "centre neuron",
                 "Strongest 4", "Most negative 4", "Incoming weights",
                 "Their deconvnet projections"):
        assert part in unit, part
    klass = (out / "class-3.html").read_text(encoding="utf-8")
    assert "Class-logit visualization" in klass and "Most confident" in klass
    assert "Grad-CAM" in klass or "Most confused" in klass


def test_atlas_pages_open_in_headless_chromium(atlas, tmp_path):
    if find_chromium() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is required in CI (Debian package 'chromium') but was not found.")
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    out, _, _ = atlas
    keep = os.environ.get("DEEPKIT_TEST_ARTIFACTS") or str(tmp_path)
    for name in ("index.html", "layer-conv2.html", "unit-conv2-1.html", "class-3.html"):
        shot = os.path.join(keep, f"atlas_{name.replace('.html', '')}.png")
        result = check_page(out / name, screenshot=shot)
        print(f"screenshot of {name}: {shot}")
        assert result.console_errors == [], name
        bad = [im["alt"] for im in result.images if not (im["decoded"] and im["natural_width"] > 0)]
        assert result.images and not bad, (name, bad)
        pixels = np.asarray(Image.open(shot).convert("L"), np.float32)
        assert pixels.std() > 20  # a rendered page, not a blank one


def test_cli_writes_the_atlas_by_default(tmp_path, capsys):
    from deepkit import cli

    model, _, x, y = trained_digits_cnn()
    model.save(tmp_path / "digits.keras")
    np.savez(tmp_path / "data.npz", x_test=x[1500:1560], y_test=y[1500:1560])
    status = cli.main(["report", str(tmp_path / "digits.keras"), "--data", str(tmp_path / "data.npz"),
                       "--out", str(tmp_path / "out"), "--no-featurevis", "--attributions", "saliency",
                       "--layers", "conv2", "--unit-pages", "1", "--max-classes", "3", "--quiet"])
    assert status == 0
    assert capsys.readouterr().out.strip().endswith("index.html")
    meta = json.loads((tmp_path / "out" / "report.json").read_text())
    assert meta["errors"] == [] and meta["mode"] == "atlas"
    assert sorted(meta["pages"])[-3:] == ["index.html", "layer-conv2.html", "unit-conv2-0.html"]
    assert len(meta["classes"]) == 3 == len([p for p in meta["pages"] if p.startswith("class-")])
