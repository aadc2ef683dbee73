"""The HTML renderers: one report, as atlas pages or as one page; every text escaped."""

import re

import numpy as np
import pytest

from deepkit.viz.report.document import Facts, Figure, Gallery, Link, Links, Note, Page, Problems, Report, Section, Table
from deepkit.viz.report.html import InlineImages, render_single_page, render_site_page

EVIL = '<script>alert("x")</script>'


def _report():
    blocks = [Facts([("model", EVIL)]), Table(["layer"], [(Link("layer-a.html", EVIL),), (EVIL,)]),
              Note(EVIL), Problems([{"step": EVIL, "error": EVIL}]), Links([("class-0.html", EVIL, EVIL)], EVIL),
              Gallery.of([(np.zeros((2, 2)), EVIL, "unit-a-0.html")], EVIL), Figure.of(np.ones((2, 2)), EVIL)]
    index = Page("index.html", EVIL, [Section("overview", EVIL, EVIL, blocks, detail=EVIL)])
    layer = Page("layer-a.html", EVIL, [Section("layer-a", "a", "a", [Note("n")])], [("index.html", EVIL)])
    return Report(EVIL, EVIL, EVIL, [index, layer], nav=[("index.html", EVIL), ("layer-a.html", EVIL)])


class _Files:
    lazy = True

    def src(self, png):
        return "img/x.png"


@pytest.mark.backend_independent
def test_both_renderers_escape_every_text():
    report = _report()
    pages = [render_single_page(report)] + [render_site_page(report, p, _Files()) for p in report.pages]
    for page in pages:
        assert "<script" not in page and "&lt;script&gt;" in page
    single, index, layer = pages
    assert single.count("data:image/png;base64,") == 2 and 'loading="lazy"' not in single
    assert '<a href="#overview">' in single and "<style>" in single
    assert index.count('src="img/x.png" loading="lazy"') == 2 and '<a class="here" href="index.html">' in index
    assert '<p class="crumbs"><a href="index.html">' in layer and '<a class="here" href="layer-a.html">' in layer
    assert re.search(r"<footer>&lt;script", layer)  # other pages' footer: the title
    assert InlineImages().src(b"\x89PNG").startswith("data:image/png;base64,iVBORw")
