"""The atlas's HTML beyond one page: the page frame, links, thumbnail galleries, the image folder.

The blocks here follow :mod:`deepkit.viz.report.render`'s protocol (``html(images)``), so a page
mixes them with that module's :class:`~deepkit.viz.report.render.Figure`, ``Table``... Templates
are ``string.Template`` constants and every text goes through ``escape``. Pages are plain HTML
and CSS (no script), so they work with JavaScript off; images are PNG files under ``img/``
(named by their content, so an image shown on two pages is stored once), lazy-loaded.
"""

import base64
import dataclasses
import hashlib
import os
from string import Template

from deepkit.viz.plotting import png_data_uri
from deepkit.viz.report.render import CSS, escape

__all__ = ["ImageStore", "Link", "Links", "Gallery", "render_site_page", "SITE_CSS", "page_name"]

SITE_CSS = CSS + """
nav a.here { font-weight:bold; color:var(--fg); }
.crumbs { font-size:13px; color:var(--muted); margin:10px 0 0; }
.crumbs a { color:var(--accent); }
ul.links { columns:4 220px; padding-left:18px; font-size:14px; }
ul.links small { color:var(--muted); }
.gallery { display:flex; flex-wrap:wrap; gap:8px; }
.gallery figure { padding:3px; width:104px; }
.gallery img { width:96px; height:96px; max-width:none; object-fit:contain; image-rendering:pixelated; }
.gallery figcaption { text-align:center; margin-top:2px; overflow:hidden; text-overflow:ellipsis;
                      white-space:nowrap; }
.gallery a { text-decoration:none; color:inherit; }
.gallery a figure { border-color:var(--accent); }
td a { color:var(--accent); }
"""

SITE_PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">\
<meta name="viewport" content="width=device-width, initial-scale=1">\
<link rel="icon" href="data:,"><link rel="stylesheet" href="assets/atlas.css"><title>$title</title>\
</head><body><header><h1>$title</h1><p>$subtitle</p></header>\
<nav>$nav</nav><main>$crumbs$body</main><footer>$footer</footer></body></html>
""")
NAV_LINK = Template('<a$cls href="$href">$title</a>')
CRUMBS = Template('<p class="crumbs">$items</p>')
LINK = Template('<a href="$href">$text</a>')
LINKS = Template('$title<ul class="links">$items</ul>')
LINK_ITEM = Template('<li>$link$detail</li>')
SMALL = Template(" <small>$text</small>")
TITLE = Template("<h3>$text</h3>")
GALLERY = Template('$title<div class="gallery">$items</div>')
THUMB = Template('<figure><img src="$src" loading="lazy" alt="$alt"><figcaption>$caption</figcaption>'
                 '</figure>')
LINKED = Template('<a href="$href">$inner</a>')


def page_name(kind, key=""):
    """The file name of an atlas page: ``index.html``, ``layer-conv1.html``, ``unit-conv1-3.html``...

    Args:
        kind: ``"index"``, ``"layer"``, ``"unit"`` or ``"class"``.
        key: the layer path, ``(path, unit)`` or class index.

    Returns:
        A file name (letters, digits and ``-`` only).

    Example:
        >>> page_name("unit", ("block1/conv 2", 7)), page_name("index")
        ('unit-block1-conv-2-7.html', 'index.html')
    """
    if kind == "index":
        return "index.html"
    parts = key if isinstance(key, tuple) else (key,)
    slug = "-".join("".join(c if c.isalnum() else "-" for c in str(p)) for p in parts)
    return f"{kind}-{slug}.html"


class ImageStore:
    """Writes the site's PNGs once each, as ``img/<content hash>.png``.

    Args:
        out_dir: the site folder.

    Attributes:
        files: number of PNG files written.
        bytes: their total size.

    Example:
        >>> import tempfile, numpy as np
        >>> store = ImageStore(tempfile.mkdtemp())
        >>> a = store.src(png_data_uri(np.zeros((4, 4))))
        >>> a == store.src(png_data_uri(np.zeros((4, 4)))), a.startswith("img/"), store.files
        (True, True, 1)
    """

    def __init__(self, out_dir):
        self.dir = os.path.join(os.fspath(out_dir), "img")
        os.makedirs(self.dir, exist_ok=True)
        self.files = 0
        self.bytes = 0
        self._seen = set()

    def src(self, uri):
        """Write a ``data:image/png;base64,`` URI as a file.

        Args:
            uri: the data URI (anything else is returned unchanged).

        Returns:
            The file's path relative to the site folder.
        """
        prefix = "data:image/png;base64,"
        if not uri.startswith(prefix):
            return uri
        data = base64.b64decode(uri[len(prefix):])
        name = hashlib.sha1(data).hexdigest()[:20] + ".png"
        if name not in self._seen:
            self._seen.add(name)
            with open(os.path.join(self.dir, name), "wb") as f:
                f.write(data)
            self.files += 1
            self.bytes += len(data)
        return "img/" + name


@dataclasses.dataclass
class Link:
    """A link to another page of the atlas.

    Example:
        >>> Link("layer-c.html", "c <1>").html()
        '<a href="layer-c.html">c &lt;1&gt;</a>'
    """

    href: str
    text: str

    def html(self, images=None):
        """The ``<a>`` element."""
        return LINK.substitute(href=escape(self.href), text=escape(self.text))


@dataclasses.dataclass
class Links:
    """A list of links, each with an optional remark: ``[(href, text, detail)]``.

    Example:
        >>> Links([("class-0.html", "cat", "12 samples")]).html()
        '<ul class="links"><li><a href="class-0.html">cat</a> <small>12 samples</small></li></ul>'
    """

    items: list
    title: str = None

    def html(self, images=None):
        """The list, under an ``<h3>`` title when there is one."""
        items = "".join(LINK_ITEM.substitute(link=Link(h, t).html(),
                                             detail=SMALL.substitute(text=escape(d)) if d else "")
                        for h, t, d in self.items)
        title = TITLE.substitute(text=escape(self.title)) if self.title else ""
        return LINKS.substitute(title=title, items=items)


@dataclasses.dataclass
class Gallery:
    """Small images side by side, each captioned and optionally linking to a page.

    Attributes:
        items: ``(image, caption, href or None)``; the image an array or a PNG
            data URI.
        title: an ``<h3>`` above the gallery.

    Example:
        >>> import numpy as np
        >>> Gallery([(np.zeros((4, 4)), "unit 0", "unit-c-0.html")]).html()[:47]
        '<div class="gallery"><a href="unit-c-0.html"><f'
    """

    items: list
    title: str = None

    def html(self, images=None):
        """The gallery (``images`` as in :meth:`deepkit.viz.report.render.Figure.html`)."""
        thumbs = []
        for image, caption, href in self.items:
            uri = image if isinstance(image, str) else png_data_uri(image)
            src = images.src(uri) if images is not None else uri
            thumb = THUMB.substitute(src=escape(src), alt=escape(caption), caption=escape(caption))
            thumbs.append(LINKED.substitute(href=escape(href), inner=thumb) if href else thumb)
        title = TITLE.substitute(text=escape(self.title)) if self.title else ""
        return GALLERY.substitute(title=title, items="".join(thumbs))


def render_site_page(title, subtitle, nav, sections, footer, images, here=None, crumbs=()):
    """One page of the atlas.

    Args:
        title: page and header title.
        subtitle: the header's second line.
        nav: ``(href, text)`` of the navigation bar.
        sections: the page's :class:`~deepkit.viz.report.render.Section` objects.
        footer: the footer's text.
        images: the :class:`ImageStore` (``None`` inlines images).
        here: the ``href`` of this page (highlighted in the navigation).
        crumbs: ``(href, text)`` of the path to this page, shown above the content.

    Returns:
        The HTML text.

    Example:
        >>> page = render_site_page("R & D", "sub", [("index.html", "Atlas")], [], "end", None,
        ...                         here="index.html")
        >>> '<a class="here" href="index.html">Atlas</a>' in page, 'href="assets/atlas.css"' in page
        (True, True)
    """
    nav_html = "".join(NAV_LINK.substitute(cls=' class="here"' if h == here else "", href=escape(h),
                                           title=escape(t)) for h, t in nav)
    crumb_html = CRUMBS.substitute(items=" / ".join(Link(h, t).html() for h, t in crumbs)) \
        if crumbs else ""
    return SITE_PAGE.substitute(title=escape(title), subtitle=escape(subtitle), nav=nav_html,
                                crumbs=crumb_html, body="".join(s.html(images) for s in sections),
                                footer=escape(footer))
