"""The report's HTML: the page templates and the blocks a section is made of.

Sections describe their content with the small blocks below (:class:`Figure`, :class:`Note`,
:class:`Facts`, :class:`Table`, :class:`Problems`) inside a :class:`Section`; only this module
writes HTML. Templates are ``string.Template`` constants and every piece of text is passed
through ``html.escape`` on its way in, so a model, layer, file or class name can never
break the page.
"""

import dataclasses
import html
from string import Template

from deepkit.viz.plotting import png_data_uri

__all__ = ["Figure", "Note", "Facts", "Table", "Problems", "Section", "render_page", "escape"]

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

PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">\
<meta name="viewport" content="width=device-width, initial-scale=1">\
<link rel="icon" href="data:,"><title>$title</title><style>$css</style></head><body>\
<header><h1>$title</h1><p>$subtitle</p></header>\
<nav>$nav</nav><main>$body</main><footer>$footer</footer></body></html>
""")
NAV_LINK = Template('<a href="#$id">$title</a>')
SECTION = Template('<section id="$id"><h2>$heading$detail</h2>$body</section>')
DETAIL = Template(" <small>$text</small>")
GRID = Template('<div class="grid">$items</div>')
FIGURE = Template('<figure><img$cls src="$uri"$lazy alt="$alt"><figcaption>$caption</figcaption></figure>')
NOTE = Template('<p class="note">$text</p>')
FACTS = Template('<dl class="kv">$items</dl>')
FACT = Template("<dt>$key</dt><dd>$value</dd>")
TABLE = Template("$title<table><thead><tr>$head</tr></thead><tbody>$rows</tbody></table>")
ROW = Template("<tr>$cells</tr>")
CELL = Template("<$tag$cls>$value</$tag>")
TABLE_TITLE = Template("<h3>$text</h3>")
PROBLEMS = Template("<ul>$items</ul>")
PROBLEM = Template("<li><b>$step</b>: $error</li>")


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


@dataclasses.dataclass
class Figure:
    """An inlined PNG with a caption.

    Build it with :meth:`of`, which encodes the figure at once and frees it,
    so a long report does not hold every matplotlib figure in memory.

    Attributes:
        uri: the ``data:image/png;base64,...`` URI.
        caption: the caption text (plain text).
        alt: the alternative text (default: the caption).
        pixelated: draw without smoothing (small images, filters).

    Example:
        >>> import numpy as np
        >>> Figure.of(np.zeros((4, 4)), "a <black> square").html()[:44]
        '<figure><img src="data:image/png;base64,iVBO'
    """

    uri: str
    caption: str
    alt: str = None
    pixelated: bool = False

    @classmethod
    def of(cls, image, caption, pixelated=False, alt=None):
        """Encode a matplotlib figure or an image array.

        Args:
            image: a ``Figure`` or an array accepted by ``png_data_uri``.
            caption: plain-text caption.
            pixelated: draw without smoothing.
            alt: alternative text (default: the caption).

        Returns:
            The :class:`Figure`.
        """
        uri = png_data_uri(image)
        if hasattr(image, "savefig"):
            image.clf()  # release the artists now; the PNG is all the page needs
        return cls(uri, caption, alt, pixelated)

    def html(self, images=None):
        """The ``<figure>`` element.

        Args:
            images: where images go: ``None`` inlines the data URI; an object with
                ``src(uri)`` (e.g. :class:`~deepkit.viz.report.site_render.ImageStore`)
                writes the PNG as a file and links it, lazy-loaded.
        """
        src, lazy = (self.uri, "") if images is None else (images.src(self.uri), ' loading="lazy"')
        return FIGURE.substitute(cls=' class="px"' if self.pixelated else "", uri=escape(src),
                                 lazy=lazy, alt=escape(self.alt or self.caption),
                                 caption=escape(self.caption))


@dataclasses.dataclass
class Note:
    """A highlighted remark, e.g. a part of the page that could not be drawn.

    Example:
        >>> Note("no <data>").html()
        '<p class="note">no &lt;data&gt;</p>'
    """

    text: str

    def html(self, images=None):
        """The note's paragraph."""
        return NOTE.substitute(text=escape(self.text))


@dataclasses.dataclass
class Facts:
    """A key/value list (``<dl>``).

    Example:
        >>> Facts([("model", "m<1>")]).html()
        '<dl class="kv"><dt>model</dt><dd>m&lt;1&gt;</dd></dl>'
    """

    items: list

    def html(self, images=None):
        """The definition list."""
        return FACTS.substitute(items="".join(FACT.substitute(key=escape(k), value=escape(v))
                                              for k, v in self.items))


@dataclasses.dataclass
class Table:
    """A table of plain values; columns listed in ``numeric`` are right-aligned.

    Example:
        >>> Table(["layer", "parameters"], [("c", "80")], numeric=(1,)).html().split("<tbody>")[1]
        '<tr><td>c</td><td class=num>80</td></tr></tbody></table>'
    """

    columns: list
    rows: list
    numeric: tuple = ()
    title: str = None

    def html(self, images=None):
        """The table, under an ``<h3>`` title when there is one (cells with ``html()`` are
        blocks, e.g. links; all other cells are text)."""
        def cell(tag, i, value):
            text = value.html() if hasattr(value, "html") else escape(value)
            return CELL.substitute(tag=tag, cls=" class=num" if i in self.numeric else "",
                                   value=text)

        head = "".join(cell("th", i, c) for i, c in enumerate(self.columns))
        rows = "".join(ROW.substitute(cells="".join(cell("td", i, v) for i, v in enumerate(row)))
                       for row in self.rows)
        title = TABLE_TITLE.substitute(text=escape(self.title)) if self.title else ""
        return TABLE.substitute(title=title, head=head, rows=rows)


@dataclasses.dataclass
class Problems:
    """The list of steps that failed, each with its error message.

    Example:
        >>> Problems([{"step": "filters", "error": "ValueError: x < 0"}]).html()
        '<ul><li><b>filters</b>: ValueError: x &lt; 0</li></ul>'
    """

    errors: list

    def html(self, images=None):
        """The bullet list."""
        return PROBLEMS.substitute(items="".join(
            PROBLEM.substitute(step=escape(e["step"]), error=escape(e["error"])) for e in self.errors))


@dataclasses.dataclass
class Section:
    """One ``<section>`` of the page: an anchor, a navigation title, a heading and blocks.

    Attributes:
        id: the anchor (``#id``).
        title: the navigation link's text.
        heading: the ``<h2>`` text.
        blocks: :class:`Figure`, :class:`Note`, :class:`Facts`, :class:`Table`,
            :class:`Problems`.
        detail: small text after the heading.
        grid: lay the blocks out side by side (figures) instead of stacked.

    Example:
        >>> Section("s", "S", "Samples", [Note("empty")], grid=False).html()
        '<section id="s"><h2>Samples</h2><p class="note">empty</p></section>'
    """

    id: str
    title: str
    heading: str
    blocks: list
    detail: str = None
    grid: bool = True

    def html(self, images=None):
        """The section element (``images`` as in :meth:`Figure.html`)."""
        body = "".join(block.html(images) for block in self.blocks)
        if self.grid:
            body = GRID.substitute(items=body)
        detail = DETAIL.substitute(text=escape(self.detail)) if self.detail else ""
        return SECTION.substitute(id=escape(self.id), heading=escape(self.heading), detail=detail,
                                  body=body)


def render_page(title, subtitle, sections, footer):
    """The whole self-contained page.

    Args:
        title: page and header title.
        subtitle: the header's second line.
        sections: the :class:`Section` objects, in page order.
        footer: the footer's text.

    Returns:
        The HTML text.

    Example:
        >>> page = render_page("R & D", "sub", [Section("a", "A", "A", [])], "end")
        >>> "<title>R &amp; D</title>" in page, '<a href="#a">A</a>' in page
        (True, True)
    """
    nav = "".join(NAV_LINK.substitute(id=escape(s.id), title=escape(s.title)) for s in sections)
    return PAGE.substitute(title=escape(title), subtitle=escape(subtitle), css=CSS, nav=nav,
                           body="".join(s.html() for s in sections), footer=escape(footer))
