"""Tests of deepkit.viz.graph, one file per module."""
