"""Images are handed over as PNG bytes: inlined or written as files, never decoded again."""

import base64
import os
import re

import numpy as np
import pytest

from deepkit.viz.report.document import Figure, Gallery, Page, Report, Section
from deepkit.viz.report.html import render_single_page
from deepkit.viz.report.output import write_report


@pytest.mark.backend_independent
def test_the_same_bytes_reach_the_page_and_the_files(tmp_path):
    figure = Figure.of(np.linspace(0, 1, 64).reshape(8, 8), "ramp <1>")
    gallery = Gallery.of([(np.zeros((4, 4, 3)), "zero", None), (figure.png, "again", "index.html")])
    assert figure.png.startswith(b"\x89PNG") and gallery.items[1][0] is figure.png
    report = Report("t", "s", "f", [Page("index.html", "t", [Section("a", "A", "A", [figure, gallery])])],
                    nav=[("index.html", "t")])
    page = render_single_page(report)
    srcs = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert [base64.b64decode(s) for s in srcs] == [figure.png, gallery.items[0][0], figure.png]
    assert "ramp &lt;1&gt;" in page
    index, summary = write_report(report, tmp_path)
    files = sorted(os.listdir(tmp_path / "img"))
    assert summary["images"] == len(files) == 2  # one file per distinct image
    stored = {(tmp_path / "img" / f).read_bytes() for f in files}
    assert stored == {figure.png, gallery.items[0][0]}
