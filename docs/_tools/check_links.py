"""Check the internal links of a built HTML site: every local ``href``/``src`` must name a file that
exists, and every ``#fragment`` an ``id`` (or ``name``) in that file.

Sphinx's own ``linkcheck`` builder needs the network for external links; this checks only what the
site itself must get right, offline. External links (``http:``, ``https:``, ``mailto:``...) are
skipped.

Usage::

    python docs/_tools/check_links.py docs/_build/html

Example:
    >>> import os, tempfile
    >>> site = tempfile.mkdtemp()
    >>> _ = open(os.path.join(site, "a.html"), "w").write('<a href="b.html#x">b</a><a href="#top">t</a>')
    >>> _ = open(os.path.join(site, "b.html"), "w").write('<h1 id="y">b</h1>')
    >>> sorted(str(p) for p in check_site(site))
    ['a.html: link to #top: no such anchor', 'a.html: link to b.html#x: no such anchor']
"""

import html.parser
import os
import sys
import urllib.parse

SKIPPED_FOLDERS = {"_sources", "_static", "_images", "_downloads", "_modules"}


class _Collector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])


class Problem:
    """A broken internal link.

    Args:
        page: the page that holds the link, relative to the site root.
        link: the link as written.
        reason: what is wrong.
    """

    def __init__(self, page, link, reason):
        self.page, self.link, self.reason = page, link, reason

    def __str__(self):
        return f"{self.page}: link to {self.link}: {self.reason}"


def _parse(path, cache):
    if path not in cache:
        collector = _Collector()
        with open(path, encoding="utf-8", errors="replace") as fh:
            collector.feed(fh.read())
        cache[path] = collector
    return cache[path]


def check_site(root):
    """Find the broken internal links of a built HTML site.

    Args:
        root: the folder of the built site (with ``index.html``).

    Returns:
        A list of :class:`Problem`, empty when every internal link resolves.
    """
    root = os.path.abspath(root)
    cache, problems = {}, []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not (folder == root and d in SKIPPED_FOLDERS)]
        for name in files:
            if not name.endswith(".html"):
                continue
            page = os.path.join(folder, name)
            relpage = os.path.relpath(page, root)
            for link in _parse(page, cache).links:
                parts = urllib.parse.urlsplit(link)
                if parts.scheme or parts.netloc or link.startswith(("javascript:", "data:")):
                    continue
                target = page if not parts.path else os.path.normpath(
                    os.path.join(folder, urllib.parse.unquote(parts.path)))
                if parts.path.endswith("/") or os.path.isdir(target):
                    target = os.path.join(target, "index.html")
                if not os.path.exists(target):
                    problems.append(Problem(relpage, link, "no such file"))
                    continue
                fragment = urllib.parse.unquote(parts.fragment)
                if fragment and target.endswith(".html") and fragment not in _parse(target, cache).ids:
                    problems.append(Problem(relpage, link, "no such anchor"))
    return problems


def main(argv=None):
    """Command-line entry: print the broken links and exit with 1 if there are any.

    Args:
        argv: ``[site_folder]``; ``sys.argv[1:]`` by default.

    Returns:
        The exit status.
    """
    argv = sys.argv[1:] if argv is None else argv
    root = argv[0] if argv else os.path.join("docs", "_build", "html")
    if not os.path.isfile(os.path.join(root, "index.html")):
        print(f"check_links: no built site at {root!r} (index.html missing); build the docs first.")
        return 2
    problems = check_site(root)
    for problem in problems:
        print(problem)
    pages = sum(1 for _, _, files in os.walk(root) for f in files if f.endswith(".html"))
    print(f"check_links: {pages} pages, {len(problems)} broken internal links")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
