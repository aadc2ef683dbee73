"""deepkit's test suite: ``tests/<package>/test_<module>.py`` mirrors ``deepkit/<package>/<module>.py``."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
"""The repository root (the folder holding ``deepkit/``, ``docs/`` and ``tests/``)."""
