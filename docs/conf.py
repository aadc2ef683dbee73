"""Sphinx configuration of the deepkit documentation.

Build (from the repository root, no network needed)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The example gallery runs every ``examples/plot_*.py`` in fast mode (``DEEPKIT_EXAMPLES_FAST=1``, set
here unless the environment says otherwise): small data, few epochs, seconds per example. Set
``DEEPKIT_EXAMPLES_FAST=0`` to render the gallery with the full runs, ``DEEPKIT_DOCS_GALLERY=0`` to skip
running the examples altogether (pages then show code without output).

The tutorials read MNIST and CIFAR-10 through ``deepkit.datasets.resolve``, which takes local copies
from the folder named by ``DEEPKIT_DATA_DIR``; unless the environment says otherwise it is set here to
the project's data folder (``../shared/data`` next to the repository: the training splits, whose
held-out 10 % the tutorials evaluate on) when that folder exists. Without it the tutorials use
keras.datasets (a download), and scikit-learn's offline 8x8 digits when that fails.
"""

import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(HERE, "_tools"))

# Before anything imports Keras, matplotlib or TensorFlow.
os.environ.setdefault("DEEPKIT_EXAMPLES_FAST", "1")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
_SHARED_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data")
if "DEEPKIT_DATA_DIR" not in os.environ and os.path.isdir(_SHARED_DATA):
    os.environ["DEEPKIT_DATA_DIR"] = _SHARED_DATA

import logging  # noqa: E402

# The gallery trains many small models in one process; TensorFlow's notes about retracing its
# functions for each new model are noise in the rendered output.
logging.getLogger("tensorflow").setLevel(logging.ERROR)

import apigen  # noqa: E402
import inventories  # noqa: E402

import deepkit  # noqa: E402

# -- Project -------------------------------------------------------------------------------------
project = "deepkit"
author = "the deepkit authors"
copyright = f"{time.strftime('%Y')}, {author}"
release = deepkit.__version__
version = ".".join(release.split(".")[:2])

# -- General -------------------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
]
exclude_patterns = ["_build", "_tools", "Thumbs.db", ".DS_Store", "**/GALLERY_HEADER.rst",
                    "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip"]
templates_path = ["_templates"]
default_role = "py:obj"
root_doc = "index"

# Every cross-reference to deepkit must resolve; references to other projects resolve through the
# offline inventories when they are listed there, and are plain text otherwise.
nitpicky = True
nitpick_ignore_regex = [(r"py:.*", r"^(?!deepkit\b).*"), (r"py:.*", r".*\._\w+$")]

# -- API reference ---------------------------------------------------------------------------------
API_DIR = os.path.join(HERE, "api", "generated")
API_MODULES, API_FAILED = apigen.write(API_DIR)
for _name, _error in API_FAILED.items():
    print(f"[deepkit docs] not documented, import failed: {_name}: {_error}", file=sys.stderr)

API_ALIASES = apigen.canonical_names(API_MODULES)

autosummary_generate = False
autodoc_inherit_docstrings = False  # Keras' own docstrings are not reST
autodoc_member_order = "bysource"
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "description"
autoclass_content = "class"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_use_param = True
napoleon_custom_sections = [("Example", "example"), ("Examples", "example")]

# -- Intersphinx (offline by default) -----------------------------------------------------------------
intersphinx_mapping = inventories.intersphinx_mapping(
    os.path.join(HERE, "_build", "inventories"), online=os.environ.get("DEEPKIT_DOCS_ONLINE") == "1")
intersphinx_timeout = 5

# -- Gallery -------------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": os.path.join(ROOT, "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|_helpers)\.py",
    "plot_gallery": "True" if os.environ.get("DEEPKIT_DOCS_GALLERY", "1") != "0" else "False",
    "within_subsection_order": "FileNameSortKey",
    "reset_modules": ("matplotlib", "gallery_helpers.reset_keras"),
    "reset_modules_order": "before",
    "doc_module": ("deepkit",),
    "backreferences_dir": os.path.join("api", "generated", "backrefs"),
    "reference_url": {"deepkit": None},
    # gallery_helpers first: it must see pyplot's figures before the matplotlib scraper closes them.
    "image_scrapers": ("gallery_helpers", "matplotlib"),
    "matplotlib_animations": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "show_memory": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "show_api_usage": False,
}

# -- HTML ----------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"deepkit {release}"
html_static_path = ["_static"]
html_css_files = ["deepkit.css"]
html_show_sourcelink = False
html_theme_options = {"navigation_with_keys": True}


# -- Hooks -------------------------------------------------------------------------------------------
_STARRED_ARGS = re.compile(r"^(\s+)((?:\*{0,2}\w+, )+\*{0,2}\w+)(\s*(?:\(.*?\))?:)")


def _escape_starred_arguments(app, what, name, obj, options, lines):
    """``*args, **kwargs:`` as one Args item: escape the stars napoleon leaves bare (it escapes only a
    name that starts with them), so docutils does not read them as emphasis."""
    for i, line in enumerate(lines):
        m = _STARRED_ARGS.match(line)
        if m and "*" in m.group(2):
            lines[i] = m.group(1) + m.group(2).replace("*", "\\*") + m.group(3) + line[m.end():]


def _resolve_alias(app, env, node, contnode):
    """A reference to another public name of a documented object (``deepkit.spec.register_layer``)
    resolves to the place it is documented (``deepkit.register_layer``)."""
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    module = node.get("py:module")
    for candidate in (target, f"{module}.{target}" if module else None):
        canonical = API_ALIASES.get(candidate)
        if canonical and canonical != target:
            domain = env.get_domain("py")
            return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], canonical,
                                       node, contnode)
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _escape_starred_arguments, priority=100)
    app.connect("missing-reference", _resolve_alias)
