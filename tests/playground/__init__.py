"""Tests of deepkit/playground/."""
