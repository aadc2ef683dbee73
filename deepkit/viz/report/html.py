"""The report's HTML: the same :class:`~deepkit.viz.report.document.Report` as the atlas's pages or
as one self-contained page.

Templates are ``string.Template`` constants and every piece of text goes through :func:`escape`, so
a model, layer, file or class name can never break a page. Where an image goes is the caller's
choice: an ``images`` object with ``src(png_bytes) -> str`` (:class:`InlineImages` for the single
page; :class:`~deepkit.viz.report.output.ImageFiles` for the atlas). No page has a script or
fetches anything from the network.
"""

import base64
import html
from string import Template

from deepkit.viz.report.document import (Facts, Figure, Gallery, Link, Links, Note, Problems, Section,
                                         Table)

__all__ = ["escape", "InlineImages", "section_html", "render_single_page", "render_site_page", "CSS", "SITE_CSS"]

CSS = """
:root { --fg:#1d232a; --muted:#5b6672; --line:#d8dee4; --bg:#fbfcfd; --accent:#2f6fb0; --warn:#a04000; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg);
       background:var(--bg); }
header { padding:18px 28px; background:#16324f; color:#fff; }
header h1 { margin:0 0 4px; font-size:22px; }
header p { margin:0; color:#c9d6e3; font-size:13px; }
nav { position:sticky; top:0; z-index:2; background:#fff; border-bottom:1px solid var(--line);
      padding:6px 28px; font-size:13px; white-space:nowrap; overflow-x:auto; }
nav a { color:var(--accent); text-decoration:none; margin-right:14px; }
main { padding:8px 28px 40px; max-width:1400px; }
section { border-bottom:1px solid var(--line); padding:14px 0 18px; }
h2 { font-size:19px; margin:6px 0 10px; }
h2 small, h3 small { color:var(--muted); font-weight:normal; font-size:13px; }
h3 { font-size:15px; margin:14px 0 6px; }
.grid { display:flex; flex-wrap:wrap; gap:14px; align-items:flex-start; }
figure { margin:0; background:#fff; border:1px solid var(--line); border-radius:6px; padding:6px; }
figure img { display:block; max-width:100%; height:auto; image-rendering:auto; }
figure img.px { image-rendering:pixelated; }
figcaption { font-size:12px; color:var(--muted); margin-top:4px; max-width:640px; }
table { border-collapse:collapse; font-size:13px; }
th, td { border-bottom:1px solid var(--line); padding:3px 10px 3px 0; text-align:left; }
td.num, th.num { text-align:right; }
.note { color:var(--warn); font-size:13px; background:#fff4ec; border-left:3px solid var(--warn);
        padding:4px 8px; margin:6px 0; }
.kv { display:grid; grid-template-columns:max-content auto; gap:2px 14px; font-size:14px; }
.kv dt { color:var(--muted); } .kv dd { margin:0; }
footer { color:var(--muted); font-size:12px; padding:12px 28px 30px; }
"""

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
_HEAD = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
         '<meta name="viewport" content="width=device-width, initial-scale=1">'
         '<link rel="icon" href="data:,">')
PAGE = Template(_HEAD + "<title>$title</title><style>$css</style></head><body>"
                "<header><h1>$title</h1><p>$subtitle</p></header>"
                "<nav>$nav</nav><main>$body</main><footer>$footer</footer></body></html>\n")
SITE_PAGE = Template(_HEAD + '<link rel="stylesheet" href="assets/atlas.css"><title>$title</title>'
                     "</head><body><header><h1>$title</h1><p>$subtitle</p></header>"
                     "<nav>$nav</nav><main>$crumbs$body</main><footer>$footer</footer></body></html>\n")
NAV_LINK = Template('<a$cls href="$href">$title</a>')
CRUMBS = Template('<p class="crumbs">$items</p>')
SECTION = Template('<section id="$id"><h2>$heading$detail</h2>$body</section>')
SMALL = Template(" <small>$text</small>")
GRID = Template('<div class="grid">$items</div>')
FIGURE = Template('<figure><img$cls src="$src"$lazy alt="$alt"><figcaption>$caption</figcaption></figure>')
NOTE = Template('<p class="note">$text</p>')
FACTS = Template('<dl class="kv">$items</dl>')
FACT = Template("<dt>$key</dt><dd>$value</dd>")
TABLE = Template("$title<table><thead><tr>$head</tr></thead><tbody>$rows</tbody></table>")
ROW = Template("<tr>$cells</tr>")
CELL = Template("<$tag$cls>$value</$tag>")
TITLE = Template("<h3>$text</h3>")
PROBLEMS = Template("<ul>$items</ul>")
PROBLEM = Template("<li><b>$step</b>: $error</li>")
LINK = Template('<a href="$href">$text</a>')
LINKS = Template('$title<ul class="links">$items</ul>')
LINK_ITEM = Template("<li>$link$detail</li>")
GALLERY = Template('$title<div class="gallery">$items</div>')
THUMB = Template('<figure><img src="$src"$lazy alt="$alt"><figcaption>$caption</figcaption></figure>')
LINKED = Template('<a href="$href">$inner</a>')


def escape(text):
    """HTML-escape any value's text, quotes included.

    Args:
        text: anything; ``str()`` is taken.

    Returns:
        The escaped string.

    Example:
        >>> escape('<b title="x">')
        '&lt;b title=&quot;x&quot;&gt;'
    """
    return html.escape(str(text), quote=True)


class InlineImages:
    """Images as ``data:image/png;base64,`` URIs, for the single page.

    Attributes:
        lazy: ``False``: inlined images load with the page.

    Example:
        >>> InlineImages().src(b"abc")
        'data:image/png;base64,YWJj'
    """

    lazy = False

    def src(self, png):
        """The data URI of PNG bytes."""
        return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _title(text):
    return TITLE.substitute(text=escape(text)) if text else ""


def _link(link):
    return LINK.substitute(href=escape(link.href), text=escape(link.text))


def _figure(block, images):
    return FIGURE.substitute(cls=' class="px"' if block.pixelated else "", src=escape(images.src(block.png)),
                             lazy=' loading="lazy"' if images.lazy else "",
                             alt=escape(block.alt or block.caption), caption=escape(block.caption))


def _table(block, images):
    def cell(tag, i, value):
        text = _link(value) if isinstance(value, Link) else escape(value)
        return CELL.substitute(tag=tag, cls=" class=num" if i in block.numeric else "", value=text)

    head = "".join(cell("th", i, c) for i, c in enumerate(block.columns))
    rows = "".join(ROW.substitute(cells="".join(cell("td", i, v) for i, v in enumerate(row)))
                   for row in block.rows)
    return TABLE.substitute(title=_title(block.title), head=head, rows=rows)


def _gallery(block, images):
    thumbs = []
    for png, caption, href in block.items:
        thumb = THUMB.substitute(src=escape(images.src(png)), lazy=' loading="lazy"' if images.lazy else "",
                                 alt=escape(caption), caption=escape(caption))
        thumbs.append(LINKED.substitute(href=escape(href), inner=thumb) if href else thumb)
    return GALLERY.substitute(title=_title(block.title), items="".join(thumbs))


def _links(block, images):
    items = "".join(LINK_ITEM.substitute(link=_link(Link(h, t)),
                                         detail=SMALL.substitute(text=escape(d)) if d else "")
                    for h, t, d in block.items)
    return LINKS.substitute(title=_title(block.title), items=items)


_BLOCKS = {
    Figure: _figure,
    Note: lambda b, images: NOTE.substitute(text=escape(b.text)),
    Facts: lambda b, images: FACTS.substitute(items="".join(FACT.substitute(key=escape(k), value=escape(v))
                                                            for k, v in b.items)),
    Table: _table,
    Problems: lambda b, images: PROBLEMS.substitute(items="".join(
        PROBLEM.substitute(step=escape(e["step"]), error=escape(e["error"])) for e in b.errors)),
    Links: _links,
    Gallery: _gallery,
}


def section_html(section, images):
    """One ``<section>``.

    Args:
        section: a :class:`~deepkit.viz.report.document.Section`.
        images: where images go (``src(png) -> str``, ``lazy``).

    Returns:
        The HTML text.

    Example:
        >>> section_html(Section("s", "S", "Samples", [Note("<empty>")], grid=False), InlineImages())
        '<section id="s"><h2>Samples</h2><p class="note">&lt;empty&gt;</p></section>'
    """
    body = "".join(_BLOCKS[type(block)](block, images) for block in section.blocks)
    if section.grid:
        body = GRID.substitute(items=body)
    detail = SMALL.substitute(text=escape(section.detail)) if section.detail else ""
    return SECTION.substitute(id=escape(section.id), heading=escape(section.heading), detail=detail,
                              body=body)


def render_single_page(report):
    """The report's first page as one self-contained HTML page (images inlined, style inside).

    Args:
        report: a :class:`~deepkit.viz.report.document.Report`.

    Returns:
        The HTML text; its navigation links the page's sections.

    Example:
        >>> from deepkit.viz.report.document import Page, Report
        >>> page = render_single_page(Report("R & D", "sub", "end",
        ...                                  [Page("index.html", "R & D", [Section("a", "A", "A", [])])]))
        >>> "<title>R &amp; D</title>" in page, '<a href="#a">A</a>' in page
        (True, True)
    """
    sections = report.pages[0].sections
    images = InlineImages()
    nav = "".join(NAV_LINK.substitute(cls="", href="#" + escape(s.id), title=escape(s.title))
                  for s in sections)
    return PAGE.substitute(title=escape(report.title), subtitle=escape(report.subtitle), css=CSS, nav=nav,
                           body="".join(section_html(s, images) for s in sections),
                           footer=escape(report.footer))


def render_site_page(report, page, images):
    """One page of the atlas.

    Args:
        report: the :class:`~deepkit.viz.report.document.Report` (navigation, subtitle, footer).
        page: the :class:`~deepkit.viz.report.document.Page` to render.
        images: where images go (``src(png) -> str``, ``lazy``).

    Returns:
        The HTML text.

    Example:
        >>> from deepkit.viz.report.document import Page, Report
        >>> r = Report("R & D", "sub", "end", [Page("index.html", "R & D", [])], nav=[("index.html", "Atlas")])
        >>> html_text = render_site_page(r, r.pages[0], InlineImages())
        >>> '<a class="here" href="index.html">Atlas</a>' in html_text, 'href="assets/atlas.css"' in html_text
        (True, True)
    """
    nav = "".join(NAV_LINK.substitute(cls=' class="here"' if h == page.name else "", href=escape(h),
                                      title=escape(t)) for h, t in report.nav)
    crumbs = CRUMBS.substitute(items=" / ".join(_link(Link(h, t)) for h, t in page.crumbs)) \
        if page.crumbs else ""
    footer = report.footer if page.name == "index.html" else report.title
    return SITE_PAGE.substitute(title=escape(page.heading), subtitle=escape(report.subtitle), nav=nav,
                                crumbs=crumbs, body="".join(section_html(s, images) for s in page.sections),
                                footer=escape(footer))
