"""Helpers for the sphinx-gallery run of ``examples/``.

Example:
    >>> reset_keras({}, "plot_x.py")
"""


def reset_keras(gallery_conf, fname):
    """Start each example from a fresh Keras state: no old layers' names or models kept alive, seeded.

    Args:
        gallery_conf: sphinx-gallery's configuration (unused).
        fname: the example file about to run (unused).

    Returns:
        None.
    """
    import keras

    keras.utils.clear_session(free_memory=True)
    keras.utils.set_random_seed(0)


def deepkit_figures_scraper(block, block_vars, gallery_conf):
    """sphinx-gallery scraper for matplotlib figures made without pyplot.

    deepkit.viz draws on ``matplotlib.figure.Figure`` objects that pyplot does not know (no global
    state), so sphinx-gallery's own matplotlib scraper does not see them. This scraper looks at the
    example's global variables after each code block and saves every such figure it has not saved yet
    (a variable rebound to a new figure counts as new). List it before ``"matplotlib"`` in
    ``image_scrapers``.

    Args:
        block: the code block that just ran.
        block_vars: sphinx-gallery's per-example state (``example_globals``, ``image_path_iterator``).
        gallery_conf: sphinx-gallery's configuration.

    Returns:
        The reST that shows the saved images ('' when there are none).
    """
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    seen = block_vars.setdefault("deepkit_seen_figures", set())
    found = []

    def visit(value):
        if isinstance(value, Figure) and id(value) not in seen:
            seen.add(id(value))
            # An open pyplot figure has a manager and is saved by the matplotlib scraper, which runs
            # after this one and closes it; remembering it here keeps it from being saved twice.
            if value.canvas.manager is None:
                found.append(value)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, Figure):
                    visit(item)

    for name, value in list(block_vars.get("example_globals", {}).items()):
        if not name.startswith("__"):
            visit(value)
    paths = []
    for fig, path in zip(found, block_vars["image_path_iterator"]):
        fig.savefig(path, dpi=gallery_conf.get("deepkit_dpi", 100))
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])


def _get_sg_image_scraper():
    """Entry point sphinx-gallery calls for ``image_scrapers = ("gallery_helpers",)``."""
    return deepkit_figures_scraper
