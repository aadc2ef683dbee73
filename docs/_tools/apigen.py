"""Write the API reference pages (``docs/api/generated/*.rst``) from the package itself.

Every public module of deepkit gets one page. An object is documented once, under the shortest public
path that exports it (``deepkit.Sequential``, not ``deepkit.core.sequential.Sequential``); pages of modules
that re-export it list it in their summary table with a link to that place. A module that cannot be
imported (still being written, or an optional dependency missing) is skipped and reported, never
guessed at.

Run by ``docs/conf.py`` before Sphinx reads the sources; also usable alone::

    python docs/_tools/apigen.py docs/api/generated
"""

import importlib
import inspect
import os
import pkgutil
import sys

PACKAGE = "deepkit"

def _backend_packages():
    """The backend packages (their modules import a framework; with their submodules): backend-specific
    implementations of deepkit.backend.interface.Backend, reached through deepkit.backend, which wraps them."""
    from deepkit import backend

    return set(backend.PACKAGES.values())


def _is_public(name):
    return not any(part.startswith("_") for part in name.split("."))


def discover(package=PACKAGE):
    """Names of the public modules of ``package`` (itself included), shallowest first."""
    root = importlib.import_module(package)
    skip = _backend_packages() if package == PACKAGE else set()
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, prefix=package + ".", onerror=lambda name: None):
        if _is_public(info.name) and not any(info.name == s or info.name.startswith(s + ".") for s in skip):
            names.append(info.name)
    return sorted(set(names), key=lambda n: (n.count("."), n))


def _exported(module):
    """(name, object) pairs a module offers: its ``__all__``, else what it defines itself."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, obj in vars(module).items()
                 if not n.startswith("_") and getattr(obj, "__module__", None) == module.__name__
                 and (inspect.isclass(obj) or inspect.isfunction(obj))]
    out = []
    for name in names:
        try:
            obj = getattr(module, name)
        except Exception:  # a lazily imported member whose import fails
            continue
        if inspect.ismodule(obj):
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj) or callable(obj):
            out.append((name, obj))
    return out


def _directive(obj):
    if inspect.isclass(obj):
        return "autoexception" if issubclass(obj, BaseException) else "autoclass"
    return "autofunction"


def plan(module_names):
    """Import the modules and decide where each object is documented.

    Returns:
        ``(pages, canonical, failed)``: pages maps a module name to its list of
        ``(name, object, canonical_name)``; canonical maps ``id(object)`` to the documented full name;
        failed maps module names that would not import to the error text.
    """
    pages, canonical, failed = {}, {}, {}
    for modname in module_names:
        try:
            module = importlib.import_module(modname)
        except Exception as exc:  # report, do not guess
            failed[modname] = f"{type(exc).__name__}: {exc}"
            continue
        entries, seen = [], set()
        for name, obj in _exported(module):
            key = id(obj)
            if key in seen:  # a second name for the same object in this module (``LRN``)
                continue
            seen.add(key)
            if key not in canonical:
                canonical[key] = f"{modname}.{name}"
            entries.append((name, obj, canonical[key]))
        pages[modname] = entries
    return pages, canonical, failed


def _submodules(modname, pages):
    return [m for m in pages if m.startswith(modname + ".") and m.count(".") == modname.count(".") + 1]


def render(modname, entries, pages, documented=()):
    """The reST text of one module's page.

    Args:
        modname: the module's name.
        entries: ``(name, object, canonical_name)`` for each object it offers.
        pages: all pages being written (to list submodules).
        documented: canonical names of all documented objects; a module whose name is also an object's
            (``deepkit.summary`` the module and ``deepkit.summary`` the function) is not indexed, so
            the name refers to the object.

    Returns:
        The text.
    """
    title = f"``{modname}``"
    lines = [f".. _api-{modname}:", "", title, "=" * len(title), "",
             f".. automodule:: {modname}", "   :no-members:"]
    if modname in documented:
        lines.append("   :no-index:")
    lines += ["", f".. currentmodule:: {modname}", ""]
    own = [(n, o, c) for n, o, c in entries if c == f"{modname}.{n}"]
    if entries:
        lines += [".. rubric:: Summary", "", ".. autosummary::", "   :nosignatures:", ""]
        lines += [f"   {n}" if c == f"{modname}.{n}" else f"   ~{c}" for n, _, c in entries]
        lines.append("")
    subs = _submodules(modname, pages)
    if subs:
        lines += [".. rubric:: Submodules", ""]
        lines += [f"- :ref:`{s} <api-{s}>`" for s in subs]
        lines.append("")
    if own:
        lines += [".. rubric:: Reference", ""]
        for name, obj, _ in own:
            lines.append(f".. {_directive(obj)}:: {name}")
            if inspect.isclass(obj):
                lines += ["   :members:", "   :show-inheritance:"]
            lines.append("")
        # The tutorials that use this module's objects (sphinx-gallery's back-references; nothing is
        # shown for objects no tutorial uses).
        lines += [".. minigallery:: " + " ".join(f"{modname}.{name}" for name, _, _ in own),
                  "   :add-heading: Tutorials using this module", ""]
    return "\n".join(lines)


def write(outdir, module_names=None):
    """Write one page per importable public module, plus ``modules.txt`` listing them.

    Args:
        outdir: the folder to write into (created; old pages there are removed).
        module_names: modules to document; all public modules of deepkit by default.

    Returns:
        ``(written, failed)``: module names written, and a dict of those that failed to import.
    """
    os.makedirs(outdir, exist_ok=True)
    for old in os.listdir(outdir):
        if old.endswith(".rst"):
            os.remove(os.path.join(outdir, old))
    pages, canonical, failed = plan(module_names or discover())
    documented = set(canonical.values())
    for modname, entries in pages.items():
        text = render(modname, entries, pages, documented)
        path = os.path.join(outdir, modname + ".rst")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    with open(os.path.join(outdir, "modules.txt"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(pages) + "\n")
    return list(pages), failed


if __name__ == "__main__":
    written, failed = write(sys.argv[1] if len(sys.argv) > 1 else "docs/api/generated")
    print("\n".join(written))
    for name, error in failed.items():
        print(f"SKIPPED {name}: {error}", file=sys.stderr)


def canonical_names(module_names=None):
    """Map every public dotted name of an object (``deepkit.spec.register_layer``) to the name it is
    documented under (``deepkit.register_layer``).

    Args:
        module_names: modules to consider; all public modules by default.

    Returns:
        A dict from alias to canonical name (canonical names map to themselves).

    Example:
        >>> canonical_names(["deepkit", "deepkit.spec"])["deepkit.spec.register_layer"]
        'deepkit.register_layer'
    """
    pages, _, _ = plan(module_names or discover())
    out = {}
    for modname, entries in pages.items():
        for name, _, canon in entries:
            out[f"{modname}.{name}"] = canon
    return out
