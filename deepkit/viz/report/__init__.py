"""An offline atlas, or one self-contained HTML page, of what every layer of a model has learned.

``build_report(model, data, out_dir)`` (and ``deepkit report MODEL.keras --data NAME|PATH
--out DIR``) writes the atlas: a static site with ``index.html`` (overview, layer table with
shapes, parameters, multiply-adds and receptive fields, training curves, confusion matrix,
links), a page per layer (weights, feature maps, top-k patches, Grad-CAM where the maps are
at least 2x2, every shown unit's feature visualization, embedding with k-NN accuracy), a page
per shown unit (visualizations at several objectives and seeds, strongest and most negative
patches, weights) and a page per class (class-logit visualization, most confident and most
confused examples with attribution maps); one stylesheet, PNGs under ``img/``, no script, no
network (:mod:`~deepkit.viz.report.site`; the default choice of layers and units is in
:func:`~deepkit.viz.report.builder.build_report`).

``single_file=True`` (``--single-file``) writes ``DIR/index.html`` with every image inlined
as a PNG data URI instead, so the page can be mailed or archived. It contains:

* an overview (model, data, accuracy) and a layer table;
* training curves (when a History is given) and the confusion matrix on the data;
* sample predictions with attribution maps (saliency, SmoothGrad, Integrated
  Gradients, Grad-CAM, Grad-CAM++, Score-CAM, occlusion);
* per layer: filters, feature maps for sample inputs, the receptive field and top-k
  activating patches (Zeiler & Fergus), Grad-CAM at that layer for the samples, and
  feature visualizations (Lucid-style);
* PCA of layer outputs coloured by class;
* a ``report.json`` next to the page with the sections, timings and any section that
  failed (a failing section is shown as a note; it does not stop the report).

A progress bar on stderr says what is being computed.

The package, one job per module: :mod:`~deepkit.viz.report.builder` (which sections, in which
order; writing the files), :mod:`~deepkit.viz.report.sections` and
:mod:`~deepkit.viz.report.layer_section` (each section computes its figures from the model and
data), :mod:`~deepkit.viz.report.figures` (the report's own plots),
:mod:`~deepkit.viz.report.render` (all HTML: templates and escaping),
:mod:`~deepkit.viz.report.data` (data, history and class names, checked up front),
:mod:`~deepkit.viz.report.context` (shared state, the step runner) and
:mod:`~deepkit.viz.report.progress` (the progress bar); the atlas:
:mod:`~deepkit.viz.report.site` (writing the site), :mod:`~deepkit.viz.report.pages` and
:mod:`~deepkit.viz.report.class_pages` (its pages' sections), :mod:`~deepkit.viz.report.units`
(layer and unit choice, unit computations), :mod:`~deepkit.viz.report.site_render` (its HTML).
The command line lives in
:mod:`deepkit.cli`.
"""

from deepkit.viz.report.builder import build_report
from deepkit.viz.report.data import load_data
from deepkit.viz.report.sections import ATTRIBUTION_METHODS, METHOD_TITLES

__all__ = ["build_report", "load_data", "add_cli_arguments", "run_from_args", "ATTRIBUTION_METHODS",
           "METHOD_TITLES"]


def add_cli_arguments(parser):
    """Add the ``deepkit report`` arguments to an ``argparse`` parser (see ``deepkit.cli``).

    Kept for existing callers; the arguments are defined by
    ``deepkit.cli.add_report_arguments``.

    Args:
        parser: an ``argparse.ArgumentParser`` (the ``report`` sub-command's).

    Returns:
        The parser.

    Example:
        >>> import argparse
        >>> p = add_cli_arguments(argparse.ArgumentParser())
        >>> a = p.parse_args(["m.keras", "--data", "digits", "--out", "r"])
        >>> a.model, a.data, a.out, a.num_samples
        ('m.keras', 'digits', 'r', 8)
    """
    from deepkit.cli import add_report_arguments

    return add_report_arguments(parser)


def run_from_args(args):
    """Run ``deepkit report`` with parsed arguments (see :func:`add_cli_arguments`).

    Kept for existing callers; the command is ``deepkit.cli.run_report``.

    Args:
        args: the ``argparse.Namespace``.

    Returns:
        0 on success.

    Example:
        >>> import argparse
        >>> callable(run_from_args)
        True
    """
    from deepkit.cli import run_report

    return run_report(args)
