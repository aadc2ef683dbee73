"""What the report shows, as plain data: pages of sections of blocks, images as PNG bytes.

Collecting (:mod:`deepkit.viz.report.plan`) fills these; rendering (:mod:`deepkit.viz.report.html`)
turns the same objects into the atlas's pages or into the single page. Nothing here writes HTML or
files, and nothing here runs the model.
"""

import dataclasses

import numpy as np

__all__ = ["png_bytes", "Figure", "Note", "Facts", "Table", "Problems", "Link", "Links", "Gallery",
           "Section", "Page", "Report"]


def png_bytes(image):
    """A matplotlib figure or an image array as PNG bytes (a figure is cleared afterwards).

    Args:
        image: a ``Figure``, an image array (``deepkit.viz.plotting.to_png_bytes``), or bytes
            (returned unchanged).

    Returns:
        The PNG file's bytes.

    Example:
        >>> png_bytes(np.zeros((2, 2)))[:4]
        b'\\x89PNG'
    """
    from deepkit.viz.plotting import to_png_bytes

    if isinstance(image, (bytes, bytearray)):
        return bytes(image)
    data = to_png_bytes(image)
    if hasattr(image, "savefig"):
        image.clf()  # release the artists now; the PNG is all the report keeps
    return data


@dataclasses.dataclass
class Figure:
    """An image with a caption.

    Attributes:
        png: the PNG bytes.
        caption: the caption (plain text).
        alt: the alternative text (default: the caption).
        pixelated: draw without smoothing (small images, filters).

    Example:
        >>> Figure.of(np.zeros((4, 4)), "a square").png[:4]
        b'\\x89PNG'
    """

    png: bytes
    caption: str
    alt: str = None
    pixelated: bool = False

    @classmethod
    def of(cls, image, caption, pixelated=False, alt=None):
        """The figure of a matplotlib ``Figure``, an image array or PNG bytes (see :func:`png_bytes`)."""
        return cls(png_bytes(image), caption, alt, pixelated)


@dataclasses.dataclass
class Note:
    """A highlighted remark, e.g. a part that could not be drawn.

    Example:
        >>> Note("no data").text
        'no data'
    """

    text: str


@dataclasses.dataclass
class Facts:
    """Key/value pairs: ``[(key, value)]``.

    Example:
        >>> Facts([("model", "m")]).items
        [('model', 'm')]
    """

    items: list


@dataclasses.dataclass
class Table:
    """A table of plain values (or :class:`Link` cells); columns in ``numeric`` are right-aligned.

    Example:
        >>> Table(["layer", "parameters"], [("c", "80")], numeric=(1,)).rows
        [('c', '80')]
    """

    columns: list
    rows: list
    numeric: tuple = ()
    title: str = None


@dataclasses.dataclass
class Problems:
    """The steps that failed: ``[{"step", "error", ...}]``.

    Example:
        >>> len(Problems([{"step": "a", "error": "b"}]).errors)
        1
    """

    errors: list


@dataclasses.dataclass
class Link:
    """A link to another page of the atlas.

    Example:
        >>> Link("layer-c.html", "c").href
        'layer-c.html'
    """

    href: str
    text: str


@dataclasses.dataclass
class Links:
    """A list of links, each with an optional remark: ``[(href, text, detail or None)]``.

    Example:
        >>> Links([("class-0.html", "cat", None)], title="Classes").title
        'Classes'
    """

    items: list
    title: str = None


@dataclasses.dataclass
class Gallery:
    """Small images side by side: ``[(png bytes, caption, href or None)]``.

    Build it with :meth:`of` from arrays.

    Example:
        >>> g = Gallery.of([(np.zeros((4, 4)), "unit 0", "unit-c-0.html")])
        >>> g.items[0][1:], g.items[0][0][:4]
        (('unit 0', 'unit-c-0.html'), b'\\x89PNG')
    """

    items: list
    title: str = None

    @classmethod
    def of(cls, items, title=None):
        """A gallery of ``(image array or PNG bytes, caption, href or None)``."""
        return cls([(png_bytes(np.asarray(im) if not isinstance(im, bytes) else im), caption, href)
                    for im, caption, href in items], title)


@dataclasses.dataclass
class Section:
    """A titled part of a page.

    Attributes:
        id: the anchor.
        title: the navigation text (single page).
        heading: the ``<h2>`` text.
        blocks: :class:`Figure`, :class:`Note`, :class:`Facts`, :class:`Table`,
            :class:`Problems`, :class:`Links`, :class:`Gallery`.
        detail: small text after the heading.
        grid: lay the blocks side by side (figures) instead of stacked.

    Example:
        >>> Section("s", "S", "Samples", [Note("empty")], grid=False).heading
        'Samples'
    """

    id: str
    title: str
    heading: str
    blocks: list
    detail: str = None
    grid: bool = True


@dataclasses.dataclass
class Page:
    """One page of the atlas (the single page is a report with one page).

    Attributes:
        name: the file name (``index.html``, ``layer-conv1.html``...).
        heading: the page's title.
        sections: its :class:`Section` objects.
        crumbs: ``(href, text)`` of the way back to the index.

    Example:
        >>> Page("index.html", "Atlas", []).name
        'index.html'
    """

    name: str
    heading: str
    sections: list
    crumbs: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Report:
    """Everything the report shows: the pages and what describes them.

    Attributes:
        title: the index's title.
        subtitle: the header's second line (model, data, versions).
        footer: the index's footer.
        pages: the :class:`Page` objects (the index first).
        nav: ``(href, text)`` of the navigation bar (the atlas's pages; the single page links
            its sections instead).
        meta: what ``report.json`` records (sections, layers, timings, errors...).

    Example:
        >>> Report("t", "s", "f", [Page("index.html", "t", [])]).pages[0].name
        'index.html'
    """

    title: str
    subtitle: str
    footer: str
    pages: list
    nav: list = dataclasses.field(default_factory=list)
    meta: dict = dataclasses.field(default_factory=dict)
