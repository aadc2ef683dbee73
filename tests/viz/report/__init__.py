"""Tests of deepkit.viz.report, one file per module."""
