"""The HTML report: content, self-containment, the CLI, and a real headless-Chromium check.

The browser test opens the report in headless Chromium over the DevTools protocol, asserts no
console errors and that every <img> decoded (naturalWidth > 0), and keeps a full-page
screenshot (in $DEEPKIT_TEST_ARTIFACTS when set, else in pytest's tmp folder). Without
Chromium it is skipped locally and fails in CI (CI=true).
"""

import base64
import io
import json
import os
import re
import shutil

import keras
import numpy as np
import pytest
from PIL import Image

from deepkit.viz import report
from deepkit.viz.report_browser import check_page, find_chromium
from tests.viz.digits import digits, trained_digits_cnn


def _need_chromium():
    if find_chromium() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is required in CI (Debian package 'chromium') but was not found.")
        pytest.skip("headless Chromium not installed (apt-get install chromium); "
                    "this test is mandatory in CI")


@pytest.fixture(scope="module")
def built_report(tmp_path_factory):
    model, hist, x, y = trained_digits_cnn()
    out = tmp_path_factory.mktemp("report")
    path = report.build_report(model, (x[1500:], y[1500:]), out, history=hist, num_samples=6,
                               featurevis_steps=12, top_k=6, max_channels=8,
                               class_names=[f"digit {i}" for i in range(10)], progress=False)
    meta = json.loads((out / "report.json").read_text())
    with open(path, encoding="utf-8") as f:
        page = f.read()
    return path, page, meta, model


def test_report_has_every_section_and_no_errors(built_report):
    path, page, meta, model = built_report
    assert meta["errors"] == []
    assert meta["layers"] == ["conv1", "pool1", "conv2"]
    assert meta["sections"] == ["overview", "training", "predictions", "layer-conv1",
                                "layer-pool1", "layer-conv2", "embedding"]
    for name in report.ATTRIBUTION_METHODS:
        assert f"attribution: {report._TITLES[name]}" in meta["timings_s"]
    # curves, confusion matrix, samples, attribution table; per layer: 2 feature-map figures,
    # top patches, Grad-CAM, feature visualization (+ filters for the 2 conv layers); embedding
    assert meta["images"] == 2 + 2 + 3 * 5 + 2 + 1
    for layer in ("conv1", "pool1", "conv2"):
        assert f'<section id="layer-{layer}">' in page
    assert "receptive field 8x8 pixels, stride 2" in page  # conv2
    acc = float(np.mean(model.predict(digits()[0][1500:], verbose=0).argmax(1) == digits()[1][1500:]))
    assert f"<dd>{acc:.4f}</dd>" in page


def test_report_is_self_contained(built_report):
    path, page, meta, _ = built_report
    assert os.listdir(os.path.dirname(path)) == ["index.html", "report.json"] or \
        sorted(os.listdir(os.path.dirname(path))) == ["index.html", "report.json"]
    srcs = re.findall(r'<img[^>]* src="([^"]+)"', page)
    assert len(srcs) == meta["images"]
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        img = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        img.load()
        assert img.size[0] > 50 and img.size[1] > 50
    # nothing fetched from elsewhere: no external scripts, styles, fonts or links
    assert "<script" not in page
    assert not re.search(r'(src|href)="(?!data:|#)', page)
    assert "@import" not in page and "url(" not in page


def test_report_opens_in_headless_chromium(built_report, tmp_path):
    _need_chromium()
    path, _, meta, _ = built_report
    keep = os.environ.get("DEEPKIT_TEST_ARTIFACTS")
    shot = os.path.join(keep or str(tmp_path), "report_screenshot.png")
    result = check_page(path, screenshot=shot)
    assert result.console_errors == []
    assert len(result.images) == meta["images"]
    bad = [im["alt"] for im in result.images if not (im["decoded"] and im["natural_width"] > 0)]
    assert not bad, f"images that did not decode: {bad}"
    assert result.title == "deepkit report: digits_cnn"
    png = Image.open(shot)
    assert png.size[0] == 1280 and png.size[1] == min(result.page_height, 20000) > 3000
    pixels = np.asarray(png.convert("L"), np.float32)
    assert pixels.std() > 20  # a rendered page, not a blank one


@pytest.mark.backend_independent
def test_page_checker_catches_console_errors_and_broken_images(tmp_path):
    _need_chromium()
    page = tmp_path / "bad.html"
    page.write_text('<title>bad</title><script>console.error("boom")</script>'
                    '<img alt="broken" src="data:image/png;base64,iVBORw0KGgo=">'
                    '<script>undefinedFunction()</script>')
    result = check_page(page)
    assert not result.ok
    assert any("boom" in e for e in result.console_errors)
    assert any("undefinedFunction" in e for e in result.console_errors)
    assert result.images == [{"alt": "broken", "natural_width": 0, "natural_height": 0,
                              "decoded": False}]


def test_cli_report_from_saved_model_and_npz_with_progress(tmp_path, capsys):
    from deepkit import cli

    model, hist, x, y = trained_digits_cnn()
    model_path = str(tmp_path / "digits.keras")
    model.save(model_path)
    np.savez(tmp_path / "data.npz", x_test=x[1500:1600], y_test=y[1500:1600])
    (tmp_path / "history.json").write_text(json.dumps(hist))
    status = cli.main(["report", model_path, "--data", str(tmp_path / "data.npz"),
                       "--out", str(tmp_path / "out"), "--history", str(tmp_path / "history.json"),
                       "--layers", "conv2", "--no-featurevis", "--attributions", "grad_cam,occlusion",
                       "--num-samples", "3"])
    assert status == 0
    captured = capsys.readouterr()
    assert "index.html" in captured.out
    steps = [line for line in captured.err.splitlines() if line.startswith("[")]
    assert any("conv2: top-9 patches over 100 images" in s for s in steps)
    assert steps[-1].startswith("[" + "#" * 28 + "]") and "wrote" in steps[-1]
    meta = json.loads((tmp_path / "out" / "report.json").read_text())
    assert meta["errors"] == [] and meta["layers"] == ["conv2"]
    assert "training" in meta["sections"]


def test_failing_section_is_reported_not_raised(tmp_path):
    x, y = digits()
    keras.utils.set_random_seed(0)
    mlp = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(name="flat"),
                            keras.layers.Dense(16, activation="relu", name="hidden"),
                            keras.layers.Dense(10, name="out")], name="mlp")
    path = report.build_report(mlp, (x[:60], y[:60]), tmp_path, layers=["hidden"],
                               attributions=["saliency", "grad_cam"], featurevis=False,
                               embedding=False, progress=False)
    meta = json.loads((tmp_path / "report.json").read_text())
    failed = [e["step"] for e in meta["errors"]]
    assert failed == ["attribution: Grad-CAM"]  # no convolutional layer: Grad-CAM cannot run
    page = open(path, encoding="utf-8").read()
    assert "Grad-CAM could not be drawn" in page and '<section id="problems">' in page
    assert "every unit sees the whole input" in page  # dense layer's receptive field


def test_load_data_forms_and_errors(tmp_path):
    x, y, name = report.load_data("digits", max_images=50)
    assert x.shape == (50, 8, 8, 1) and name == "digits" and y.dtype == np.int64
    raw = (np.arange(2 * 4 * 4 * 3) % 256).astype(np.uint8).reshape(2, 4, 4, 3)
    np.savez(tmp_path / "a.npz", x=raw, y=np.eye(3)[[0, 2]])
    xa, ya, _ = report.load_data(str(tmp_path / "a.npz"))
    assert xa.dtype == np.float32 and xa.max() <= 1.0 and ya.tolist() == [0, 2]
    np.savez(tmp_path / "b.npz", images=raw)
    with pytest.raises(ValueError, match=r"holds arrays \['images'\]"):
        report.load_data(str(tmp_path / "b.npz"))
    with pytest.raises(ValueError, match="neither a file nor a dataset name"):
        report.load_data("no_such_set")
    with pytest.raises(ValueError, match="2 inputs but 3 labels"):
        report.load_data((raw, [0, 1, 2]))
    model, _, _, _ = trained_digits_cnn()
    with pytest.raises(ValueError, match=r"shape \(4, 4, 3\) but model 'digits_cnn' takes \(8, 8, 1\)"):
        report.build_report(model, raw, tmp_path / "r", progress=False)
    with pytest.raises(ValueError, match="unknown attribution methods \\['gradcam'\\]"):
        report.build_report(model, x, tmp_path / "r", attributions=["gradcam"], progress=False)


@pytest.mark.backend_independent
def test_find_chromium_respects_env(monkeypatch, tmp_path):
    fake = tmp_path / "mychrome"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("DEEPKIT_CHROMIUM", str(fake))
    assert find_chromium() == str(fake)
    monkeypatch.setenv("DEEPKIT_CHROMIUM", str(tmp_path / "missing"))
    assert find_chromium() is None
    monkeypatch.delenv("DEEPKIT_CHROMIUM")
    assert find_chromium() == (shutil.which("chromium") or shutil.which("chromium-browser")
                               or shutil.which("google-chrome") or
                               shutil.which("google-chrome-stable") or shutil.which("chrome"))
