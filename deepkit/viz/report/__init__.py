"""An offline atlas, or one self-contained HTML page, of what every layer of a model has learned.

``build_report(model, data, out_dir)`` (and ``deepkit report MODEL.keras --data NAME|PATH
--out DIR``) writes the atlas: a static site with ``index.html`` (overview, layer table with
shapes, parameters, multiply-adds and receptive fields, training curves, confusion matrix,
links), a page per layer (weights, feature maps, top-k patches, Grad-CAM where the maps are
at least 2x2, every shown unit's feature visualization, embedding with k-NN accuracy), a page
per shown unit (visualizations at several objectives and seeds, strongest and most negative
patches, weights) and a page per class (class-logit visualization, most confident and most
confused examples with attribution maps); one stylesheet, PNGs under ``img/``, no script, no
network (the default choice of layers and units is in
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

A progress bar on stderr counts the planned steps and says which one runs.

Both products are one pipeline, one job per module:

* check: :mod:`~deepkit.viz.report.data` (model, data, history, class names) and
  :mod:`~deepkit.viz.report.output` (the output folder), before anything is computed;
* plan: :mod:`~deepkit.viz.report.products` (what each product shows) from the parts in
  :mod:`~deepkit.viz.report.sections`, :mod:`~deepkit.viz.report.layer_section`,
  :mod:`~deepkit.viz.report.pages` and :mod:`~deepkit.viz.report.class_pages`, with
  :mod:`~deepkit.viz.report.units` (layer and unit choice, unit computations),
  :mod:`~deepkit.viz.report.attributions` (the one way to call an attribution method, with the
  registry's defaults), :mod:`~deepkit.viz.report.figures` (the report's own plots) and
  :mod:`~deepkit.viz.report.names` (distinct page names and anchors);
* collect: :mod:`~deepkit.viz.report.plan` runs the steps through the
  :mod:`~deepkit.viz.report.context` runner (a failing step becomes a note; progress:
  :mod:`~deepkit.viz.report.progress`) into the plain data of :mod:`~deepkit.viz.report.document`
  (images as PNG bytes);
* render and write: :mod:`~deepkit.viz.report.html` (all HTML) and
  :mod:`~deepkit.viz.report.output` (the files, ``report.json``, stale pages of an earlier run
  removed); :mod:`~deepkit.viz.report.builder` runs the whole.

The command line lives in :mod:`deepkit.cli`.
"""

from deepkit.viz.report.builder import build_report
from deepkit.viz.report.data import load_data
from deepkit.viz.report.attributions import ATTRIBUTION_METHODS, METHOD_TITLES

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
