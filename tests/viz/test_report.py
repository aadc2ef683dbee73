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

# End-to-end report builds (tens of seconds each): slow, run once in CI (tools/test-all.sh).
pytestmark = pytest.mark.slow


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
                               class_names=[f"digit {i}" for i in range(10)], progress=False,
                               single_file=True)
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
        assert f"attribution: {report.METHOD_TITLES[name]}" in meta["timings_s"]
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


@pytest.mark.backend_independent
def test_check_page_decodes_a_lazy_image_below_the_first_screen(tmp_path):
    """A lazy image far below the window never loads in headless Chromium; the check switches it to
    eager loading (before, its decode() never settled and the check timed out on an atlas index
    whose confusion matrix sat below a long layer table)."""
    _need_chromium()
    import base64
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buffer, format="PNG")
    page = tmp_path / "lazy.html"
    page.write_text('<title>lazy</title><div style="height:30000px"></div><img alt="below" loading="lazy" '
                    f'src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">')
    result = check_page(page, timeout=60)
    assert result.images == [{"alt": "below", "natural_width": 4, "natural_height": 3, "decoded": True}]


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
                       "--num-samples", "3", "--single-file"])
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
                               embedding=False, progress=False, single_file=True)
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
    with pytest.raises(ValueError, match=r"do not fit model 'digits_cnn': the data are points of 3 values"):
        report.build_report(model, np.zeros((4, 3), "float32"), tmp_path / "r", progress=False)
    fitted, _, name = report.load_data(raw, model=model)  # colour 4x4 raw pixels for a grey 8x8 model
    assert fitted.shape == (2, 8, 8, 1) and fitted.max() <= 1.0 and "resized 4x4 -> 8x8" in name
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


# ----------------------------------------------------------------------------- defects fixed


def _shrinking_cnn():
    """8x8 -> 4x4 -> 2x2 -> 1x1 maps: one layer with 2x2 maps, one with 1x1 maps."""
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c8"),
        keras.layers.MaxPooling2D(2, name="p4"),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c4"),
        keras.layers.MaxPooling2D(2, name="p2"),
        keras.layers.Conv2D(6, 2, padding="same", activation="relu", name="c2x2"),
        keras.layers.Conv2D(5, 2, activation="relu", name="c1x1"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(10, name="logits"),
    ], name="shrinking_cnn")


def _section(page, section_id):
    start = page.index(f'<section id="{section_id}">')
    return page[start:page.index("</section>", start)]


def test_gradcam_only_on_maps_of_at_least_2x2_and_1x1_maps_drawn_as_bars(tmp_path, monkeypatch):
    import deepkit.viz
    from deepkit.viz.report.layer_section import gradcam_layer

    model = _shrinking_cnn()
    assert gradcam_layer(model) == "c2x2"
    layers_used = []
    original = deepkit.viz.grad_cam

    def spy(model, images, *args, **kwargs):
        layers_used.append(kwargs.get("layer"))
        return original(model, images, *args, **kwargs)

    monkeypatch.setattr(deepkit.viz, "grad_cam", spy)
    x, y = digits()
    path = report.build_report(model, (x[:40], y[:40]), tmp_path, layers=["c2x2", "c1x1"],
                               num_samples=2, attributions=["grad_cam"], featurevis=False,
                               embedding=False, top_k=2, max_channels=4, progress=False,
                               single_file=True)
    meta = json.loads((tmp_path / "report.json").read_text())
    page = open(path, encoding="utf-8").read()
    assert meta["errors"] == []
    assert "c2x2: Grad-CAM" in meta["timings_s"] and "c1x1: Grad-CAM" not in meta["timings_s"]
    # the attribution table's Grad-CAM uses the deepest maps of at least 2x2, not the 1x1 ones
    assert layers_used == ["c2x2", "c2x2"]
    one_by_one = _section(page, "layer-c1x1")
    assert "Grad-CAM at this layer" not in one_by_one
    assert "Feature maps for sample" not in one_by_one
    assert one_by_one.count("<figcaption>Channel activations for sample") == 2
    assert "Grad-CAM at this layer" in _section(page, "layer-c2x2")


def test_channel_bars_show_each_channel_value():
    from deepkit.viz.report.figures import channel_values_figure

    values = np.array([[[0.25, 1.5, 0.0, 3.0]]], np.float32)  # one sample's (1, 1, 4) maps
    fig = channel_values_figure(values, "sample 0")
    heights = [float(p.get_height()) for p in fig.axes[0].patches]
    np.testing.assert_allclose(heights, [0.25, 1.5, 0.0, 3.0])


def test_header_layer_count_equals_the_table(built_report):
    _, page, meta, model = built_report
    header = re.search(r"<header>.*?</header>", page, re.S).group(0)
    count, shown = map(int, re.search(r"(\d+) layers, (\d+) shown in detail", header).groups())
    table = _section(page, "overview").split("<tbody>")[1].split("</tbody>")[0]
    assert count == table.count("<tr>") == 5  # conv1, pool1, conv2, gap, logits
    assert shown == len(meta["layers"]) == 3


def test_epoch_ticks_are_whole_epochs_and_user_text_is_escaped(tmp_path, monkeypatch):
    from deepkit.viz import plotting

    ticks = []
    original = plotting.to_png_bytes

    def spy(image, *args, **kwargs):  # every figure of the report is encoded here
        ticks.extend(t for ax in getattr(image, "axes", []) if ax.get_xlabel() == "epoch"
                     for t in ax.get_xticks())
        return original(image, *args, **kwargs)

    monkeypatch.setattr(plotting, "to_png_bytes", spy)
    x, y = digits()
    keras.utils.set_random_seed(0)
    mlp = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                            keras.layers.Dense(10, name="out")], name="mlp")
    history = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7]}  # 3 epochs: 1.25 etc. by default
    names = ["<script>alert(1)</script>"] + [f"d{i}" for i in range(1, 10)]
    path = report.build_report(mlp, (x[:30], y[:30]), tmp_path, history=history, class_names=names,
                               title='A <b>"report"</b>', attributions=[], featurevis=False,
                               embedding=False, progress=False, single_file=True)
    assert ticks and all(float(t).is_integer() for t in ticks)
    page = open(path, encoding="utf-8").read()
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<title>A &lt;b&gt;&quot;report&quot;&lt;/b&gt;</title>" in page


def test_bad_history_or_class_names_raise_before_any_work(tmp_path):
    model, _, x, y = trained_digits_cnn()
    with pytest.raises(ValueError, match=r"history file '.*missing\.json' not found"):
        report.build_report(model, (x[:20], y[:20]), tmp_path / "r", history=str(tmp_path / "missing.json"),
                            progress=False)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"history file '.*broken\.json' is unusable"):
        report.build_report(model, (x[:20], y[:20]), tmp_path / "r", history=str(tmp_path / "broken.json"),
                            progress=False)
    with pytest.raises(ValueError, match=r"3 class names \(a, b, c\) but model 'digits_cnn' predicts 10"):
        report.build_report(model, (x[:20], y[:20]), tmp_path / "r", class_names=["a", "b", "c"],
                            progress=False)
    assert not (tmp_path / "r").exists()


def test_cli_bad_history_or_class_names_is_one_line_and_exit_2(tmp_path):
    """``python -m deepkit.cli report ...`` in a subprocess; both cases in one interpreter (runpy runs
    the module as ``__main__``, as ``python -m`` does) to pay the framework import once."""
    import subprocess
    import sys

    import deepkit

    root = os.path.dirname(os.path.dirname(os.path.abspath(deepkit.__file__)))  # wherever this file lives
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c"),
                              keras.layers.Flatten(), keras.layers.Dense(3)], name="tiny")
    model.save(tmp_path / "tiny.keras")
    x, y = digits()
    np.savez(tmp_path / "data.npz", x=x[:12], y=y[:12] % 3)
    out = tmp_path / "out"
    base = ["report", str(tmp_path / "tiny.keras"), "--data", str(tmp_path / "data.npz"),
            "--out", str(out), "--quiet", "--no-featurevis"]
    cases = [(["--history", str(tmp_path / "none.json")], "none.json' not found"),
             (["--class-names", "a,b"], "2 class names (a, b) but model 'tiny' predicts 3 classes")]
    script = (
        "import json, runpy, sys\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    sys.argv = ['deepkit'] + argv\n"
        "    try:\n"
        "        runpy.run_module('deepkit.cli', run_name='__main__')\n"
        "    except SystemExit as exc:\n"
        "        print('exit status', exc.code, flush=True)\n"
        "    print('=' * 10, file=sys.stderr, flush=True)\n"
    )
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""),
               TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", script, json.dumps([base + e for e, _ in cases])],
                          capture_output=True, text=True, env=env, timeout=300, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert [line for line in proc.stdout.splitlines() if line.startswith("exit status")] == \
        ["exit status 2"] * 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    runs = proc.stderr.split("=" * 10 + "\n")[:2]
    for run, (_, expected) in zip(runs, cases):
        lines = [line for line in run.splitlines() if line.startswith("deepkit")]
        assert len(lines) == 1 and lines[0].startswith("deepkit report: error: "), run
        assert expected in lines[0]
    assert not out.exists()  # no page with a traceback in it
