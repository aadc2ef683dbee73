"""The example scripts: well-formed gallery files (fast checks), and each runs in fast mode and draws
its figures (slow: one subprocess per example)."""

import ast
import os
import re
import subprocess
import sys

import keras
import pytest

from tests import ROOT

EXAMPLES = os.path.join(ROOT, "examples")
SCRIPTS = sorted(f for f in os.listdir(EXAMPLES) if re.match(r"plot_\d\d_\w+\.py$", f))
# Calls that may download (keras.datasets or deepkit's keras wrappers without path=); only allowed
# outside fast mode, i.e. in a branch guarded by FAST.
DOWNLOADERS = re.compile(r"keras\.datasets\.|datasets\.(mnist|cifar10|cifar100|fashion_mnist)\(|"
                         r"datasets\.resolve\(\"(mnist|cifar10|cifar100|fashion_mnist)\"")

RUNNER = r"""
import os, runpy, sys
import matplotlib
matplotlib.use("Agg")
from matplotlib.figure import Figure
import matplotlib.pyplot as plt
ns = runpy.run_path(sys.argv[1], run_name="__main__")
figures = {id(plt.figure(n)) for n in plt.get_fignums()}
figures |= {id(v) for v in ns.values() if isinstance(v, Figure)}
print("FIGURES", len(figures))
"""


@pytest.mark.backend_independent
def test_there_are_ten_chapters():
    numbers = sorted({int(s[5:7]) for s in SCRIPTS})
    assert numbers == list(range(1, 11)), f"tutorial chapters present: {numbers}"


@pytest.mark.backend_independent
@pytest.mark.parametrize("script", SCRIPTS)
def test_example_is_a_gallery_script(script):
    source = open(os.path.join(EXAMPLES, script), encoding="utf-8").read()
    tree = ast.parse(source)
    doc = ast.get_docstring(tree)
    assert doc, f"{script}: no docstring header"
    title, underline = doc.splitlines()[:2]
    assert title.strip() and set(underline.strip()) == {"="} and len(underline) >= len(title), \
        f"{script}: the docstring must start with a reST title underlined by '='"
    # The documentation build's fast mode: DEEPKIT_EXAMPLES_FAST, read by the library
    # (deepkit.datasets.lecture) or in blocks the rendered pages leave out, never in the code a reader sees.
    assert "DEEPKIT_EXAMPLES_FAST" in source or "fast_mode()" in source, f"{script}: no fast mode"
    shown = re.sub(r"# sphinx_gallery_start_ignore[\s\S]*?# sphinx_gallery_end_ignore\n?", "", source)
    if "fast_mode()" in source:
        assert "fast_mode" not in shown and "DEEPKIT_EXAMPLES_FAST" not in shown, f"{script}: fast mode shown"
    assert "# %%" in source, f"{script}: no sphinx-gallery cells"


@pytest.mark.backend_independent
@pytest.mark.parametrize("script", SCRIPTS)
def test_example_does_not_download_in_fast_mode(script):
    source = open(os.path.join(EXAMPLES, script), encoding="utf-8").read()
    for number, line in enumerate(source.splitlines(), 1):
        if DOWNLOADERS.search(line) and "path=" not in line:
            window = "\n".join(source.splitlines()[max(0, number - 8):number])
            assert "FAST" in window, f"{script}:{number}: a download outside a FAST guard: {line.strip()}"


# On the other backends, the chapters whose calls take backend-specific paths beyond what the unit tests
# cover on every backend: fit and decision boundaries (1), the fast fit path and LeNet-5 (3),
# feature visualization and embeddings of a trained network (5), data parallelism (8). The others'
# deepkit calls (zoo, attribution, report, conversion) are unit-tested on every backend, and all nine
# run in the docs build on tensorflow.
OTHER_BACKENDS = ("plot_01_", "plot_03_", "plot_05_", "plot_08_")


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() == "tensorflow",
                    reason="on tensorflow the docs build (tests/docs/test_build.py) runs every example already")
@pytest.mark.parametrize("script", [s if s.startswith(OTHER_BACKENDS) else pytest.param(s, marks=pytest.mark.skip(
    reason="its calls are unit-tested on this backend; the docs build runs it on tensorflow")) for s in SCRIPTS])
def test_example_runs_in_fast_mode(script, tmp_path):
    env = dict(os.environ, DEEPKIT_EXAMPLES_FAST="1", MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", RUNNER, os.path.join(EXAMPLES, script)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    figures = int(re.search(r"FIGURES (\d+)", proc.stdout).group(1))
    assert figures >= 1, f"{script} drew no figure"
    assert not os.listdir(tmp_path), f"{script} left files in the working directory: {os.listdir(tmp_path)}"
