"""Build the documentation as CI does (warnings are errors, gallery in fast mode) and check the site:
internal links resolve, every tutorial page shows its figures, every API page is there. Slow."""

import os
import re
import subprocess
import sys
import time

import pytest

from tests import ROOT

DOCS = os.path.join(ROOT, "docs")
EXAMPLES = os.path.join(ROOT, "examples")
sys.path.insert(0, os.path.join(DOCS, "_tools"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.backends("tensorflow", reason="the docs are built once, on the tensorflow backend"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("sphinx")
    pytest.importorskip("sphinx_gallery")
    pytest.importorskip("furo")
    out = tmp_path_factory.mktemp("html")
    doctrees = tmp_path_factory.mktemp("doctrees")
    env = dict(os.environ, KERAS_BACKEND="tensorflow", DEEPKIT_EXAMPLES_FAST="1", MPLBACKEND="Agg",
               TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("DEEPKIT_DOCS_GALLERY", None)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-b", "html", "-d", str(doctrees),
         DOCS, str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - start
    warnings = [line for line in proc.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    assert proc.returncode == 0, ("docs build failed:\n" + "\n".join(warnings[-40:]) + "\n"
                                  + proc.stderr[-3000:])
    print(f"docs built in {seconds:.0f} s")
    return out


def test_internal_links_resolve(site):
    import check_links

    problems = check_links.check_site(str(site))
    assert not problems, "\n".join(map(str, problems))


def _examples():
    return sorted(f[:-3] for f in os.listdir(EXAMPLES) if re.match(r"plot_.*\.py$", f))


def test_every_tutorial_page_shows_figures(site):
    examples = _examples()
    assert len(examples) >= 3
    for name in examples:
        page = (site / "auto_examples" / f"{name}.html").read_text(encoding="utf-8")
        images = set(re.findall(rf"sphx_glr_{name}_\d+\.png", page))
        assert images, f"{name}: no figure on the page"
        for image in images:
            assert (site / "_images" / image).exists(), f"{name}: {image} not in the site"
        assert "sphx-glr-script-out" in page or images, name


def test_api_pages_built(site):
    generated = site / "api" / "generated"
    pages = {p.stem for p in generated.glob("*.html")}
    for name in ("deepkit", "deepkit.spec", "deepkit.datasets", "deepkit.train"):
        assert name in pages, f"API page of {name} missing"
    top = (generated / "deepkit.html").read_text(encoding="utf-8")
    # autodoc and napoleon rendered the docstrings: an object anchor and a parameters list
    assert 'id="deepkit.from_spec"' in top and "Parameters" in top


def test_intersphinx_links_to_keras_offline(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "https://keras.io/api/models/model/" in index
