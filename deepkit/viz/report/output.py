"""Writing a collected report: the output folder, its files, and what an earlier run left there.

The folder must be new, empty, or one a previous ``deepkit report`` wrote (its ``report.json``
says so): :func:`check_out_dir` refuses anything else before any work is done, so a user's own
``index.html`` is never overwritten. ``report.json`` lists every file written; on a rerun the
files of the previous report that the new one does not write (pages of layers or classes no longer
shown, images no longer used) are removed, so no stale page stays behind.
"""

import hashlib
import json
import os

from deepkit.viz.report.html import SITE_CSS, render_single_page, render_site_page

__all__ = ["GENERATOR", "check_out_dir", "ImageFiles", "write_report"]

#: What ``report.json`` says wrote the folder.
GENERATOR = "deepkit report"

# the files of a report written before report.json listed them
_OLD_PAGES = ("index.html", "layer-", "unit-", "class-")


def _previous(out_dir):
    """The files of the report in ``out_dir`` (``None``: not a report's folder)."""
    try:
        with open(os.path.join(out_dir, "report.json"), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict):
        return None
    if meta.get("generator") == GENERATOR and isinstance(meta.get("files"), list):
        return [f for f in meta["files"] if isinstance(f, str)]
    if {"model", "data", "errors", "timings_s"} <= set(meta):  # written before the file list
        files = [f for f in os.listdir(out_dir) if f.endswith(".html") and f.startswith(_OLD_PAGES)]
        img = os.path.join(out_dir, "img")
        files += [f"img/{f}" for f in os.listdir(img) if f.endswith(".png")] if os.path.isdir(img) else []
        return files + ["assets/atlas.css", "report.json"]
    return None


def check_out_dir(out_dir):
    """Check that the report may write into ``out_dir``.

    Args:
        out_dir: the output folder.

    Returns:
        The files a previous report wrote there (``[]`` for a new or empty folder).

    Raises:
        ValueError: ``out_dir`` is a file, or a folder holding files no deepkit report wrote.

    Example:
        >>> import tempfile, os
        >>> d = tempfile.mkdtemp()
        >>> check_out_dir(os.path.join(d, "new"))
        []
        >>> _ = open(os.path.join(d, "index.html"), "w").write("<p>mine</p>")
        >>> check_out_dir(d)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: report: the output folder '...' holds files that no deepkit report wrote (index.html); ...
    """
    out_dir = os.fspath(out_dir)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError(f"report: the output folder {out_dir!r} is a file; give a new or empty folder.")
    if not os.path.isdir(out_dir) or not os.listdir(out_dir):
        return []
    previous = _previous(out_dir)
    if previous is None:
        held = sorted(os.listdir(out_dir))
        shown = ", ".join(held[:5]) + (", ..." if len(held) > 5 else "")
        raise ValueError(f"report: the output folder {out_dir!r} holds files that no deepkit report wrote "
                         f"({shown}); give a new or empty folder (or the folder of an earlier report, "
                         "which is then replaced).")
    return previous


class ImageFiles:
    """The atlas's images as ``img/<content hash>.png`` files, each written once.

    Args:
        out_dir: the site folder.

    Attributes:
        files: the files written (relative paths).
        bytes: their total size.
        lazy: ``True``: pages load them lazily.

    Example:
        >>> import tempfile
        >>> store = ImageFiles(tempfile.mkdtemp())
        >>> a = store.src(b"png")
        >>> a == store.src(b"png"), a.startswith("img/"), len(store.files)
        (True, True, 1)
    """

    lazy = True

    def __init__(self, out_dir):
        self.dir = os.path.join(os.fspath(out_dir), "img")
        self.files = []
        self.bytes = 0

    def src(self, png):
        """Write PNG bytes (once) and return the file's path relative to the site folder."""
        name = "img/" + hashlib.sha1(png).hexdigest()[:20] + ".png"
        if name not in self.files:
            os.makedirs(self.dir, exist_ok=True)
            with open(os.path.join(os.path.dirname(self.dir), name), "wb") as f:
                f.write(png)
            self.files.append(name)
            self.bytes += len(png)
        return name


def _write_text(out_dir, name, text):
    with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
        f.write(text)
    return len(text.encode())


def _remove_stale(out_dir, previous, written):
    root = os.path.abspath(out_dir)
    for name in set(previous) - set(written):
        path = os.path.abspath(os.path.join(root, name))
        if os.path.commonpath([root, path]) == root and os.path.isfile(path):  # never outside the folder
            os.remove(path)
    for folder in ("img", "assets"):
        path = os.path.join(out_dir, folder)
        if os.path.isdir(path) and not os.listdir(path):
            os.rmdir(path)


def write_report(report, out_dir, single_file=False, previous=()):
    """Write a collected report: the atlas's pages, stylesheet and images, or the single page.

    Args:
        report: the :class:`~deepkit.viz.report.document.Report`.
        out_dir: the folder (created; checked before by :func:`check_out_dir`).
        single_file: write one self-contained ``index.html``.
        previous: the files of the report the folder held (removed when not written again).

    Returns:
        ``(index path, summary)``: the summary says what was written (``pages``, ``files``,
        ``images``: image files, or ``<img>`` elements of the single page; ``bytes``) and is added
        to ``report.json``.

    Example:
        >>> import tempfile, os
        >>> from deepkit.viz.report.document import Page, Report
        >>> d = tempfile.mkdtemp()
        >>> path, summary = write_report(Report("t", "s", "f", [Page("index.html", "t", [])]), d, True)
        >>> sorted(os.listdir(d)), summary["files"]
        (['index.html', 'report.json'], ['index.html', 'report.json'])
    """
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    if single_file:
        text = render_single_page(report)
        size = _write_text(out_dir, "index.html", text)
        pages, images, written = ["index.html"], text.count("<img "), ["index.html"]
    else:
        os.makedirs(os.path.join(out_dir, "assets"), exist_ok=True)
        size = _write_text(out_dir, os.path.join("assets", "atlas.css"), SITE_CSS)
        store = ImageFiles(out_dir)
        pages = []
        for page in report.pages:
            size += _write_text(out_dir, page.name, render_site_page(report, page, store))
            pages.append(page.name)
        images, written = len(store.files), pages + ["assets/atlas.css"] + store.files
        size += store.bytes
    summary = {"pages": pages, "files": written + ["report.json"], "images": images, "bytes": size}
    meta = {"generator": GENERATOR, **report.meta, **summary}
    with open(os.path.join(out_dir, "report.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    _remove_stale(out_dir, previous, summary["files"])
    return os.path.join(out_dir, "index.html"), summary
