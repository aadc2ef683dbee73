"""File names of the atlas's pages and anchors of the single page's sections, one per layer.

Layer paths hold any character (``block1/conv 2``, ``conv.a``), file names and anchors only letters,
digits and ``-``; several paths can map to the same slug (``conv.a``, ``conv-a`` and ``conv_a`` all
give ``conv-a``). :class:`PageNames` hands each path its own slug: the readable one to the first
path that wants it, a numbered one (``conv-a-2``) to the others, never one another path has
(compared without case, so the pages also stay apart on case-insensitive file systems).
"""

__all__ = ["slug", "PageNames"]


def slug(text):
    """``text`` with anything but ASCII letters and digits as ``-``.

    Args:
        text: any value (its ``str``).

    Returns:
        A string of ``[A-Za-z0-9-]``.

    Example:
        >>> slug("block1/conv 2"), slug("conv.a")
        ('block1-conv-2', 'conv-a')
    """
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in str(text))


class PageNames:
    """One distinct slug per layer path, so no two layers share a page or an anchor.

    Args:
        paths: every layer path that gets a page or a section, in page order.

    Example:
        >>> names = PageNames(["conv.a", "conv-a", "conv_a", "conv-a-2"])
        >>> [names.page("layer", p) for p in ["conv.a", "conv-a", "conv_a", "conv-a-2"]]
        ['layer-conv-a.html', 'layer-conv-a-3.html', 'layer-conv-a-4.html', 'layer-conv-a-2.html']
        >>> names.page("unit", ("conv_a", 7)), names.page("class", 3), names.anchor("conv-a")
        ('unit-conv-a-4-7.html', 'class-3.html', 'layer-conv-a-3')
    """

    def __init__(self, paths=()):
        paths = list(dict.fromkeys(paths))
        self._slugs = {}
        taken = set()
        for path in paths:  # first claimant of each readable slug keeps it
            s = slug(path)
            if s.lower() not in taken:
                self._slugs[path] = s
                taken.add(s.lower())
        for path in paths:  # the others get the first free numbered one
            if path in self._slugs:
                continue
            base, n = slug(path), 2
            while f"{base}-{n}".lower() in taken:
                n += 1
            self._slugs[path] = f"{base}-{n}"
            taken.add(f"{base}-{n}".lower())

    def of(self, path):
        """The slug of a layer path (a path not given at construction: its readable slug)."""
        return self._slugs.get(path, slug(path))

    def anchor(self, path):
        """The single page's section id of a layer: ``layer-<slug>``."""
        return "layer-" + self.of(path)

    def page(self, kind, key=""):
        """The file name of an atlas page.

        Args:
            kind: ``"index"``, ``"layer"`` (key: the path), ``"unit"`` (key: ``(path, unit)``) or
                ``"class"`` (key: the class index).
            key: see ``kind``.

        Returns:
            A file name of letters, digits and ``-``, ending in ``.html``.
        """
        if kind == "index":
            return "index.html"
        if kind == "layer":
            return f"layer-{self.of(key)}.html"
        if kind == "unit":
            path, unit = key
            return f"unit-{self.of(path)}-{int(unit)}.html"
        return f"{kind}-{slug(key)}.html"
