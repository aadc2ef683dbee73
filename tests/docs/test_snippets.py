"""The code in the hand-written documentation pages runs: Python blocks execute, YAML spec blocks
build into models. (The tutorials are checked by test_examples.py, docstrings by the doctests.)"""

import os
import re

import pytest
import yaml

import deepkit
from tests import ROOT

DOCS = os.path.join(ROOT, "docs")
# Pages whose Python blocks are self-contained (speed.rst and scaling.rst show fragments that need
# the reader's data or several devices).
RUNNABLE_PAGES = ["index.rst", "getting_started.rst", "user_guide/specs.rst", "user_guide/from_keras.rst"]


def _blocks(page, language):
    text = open(os.path.join(DOCS, page), encoding="utf-8").read()
    out = []
    for match in re.finditer(rf"^( *)\.\. code-block:: {language}\n\n((?:\1   .*\n|\n)+)", text, re.M):
        indent = len(match.group(1)) + 3
        lines = [line[indent:] for line in match.group(2).splitlines()]
        out.append("\n".join(lines).strip() + "\n")
    return out


PY_BLOCKS = [(page, i, code) for page in RUNNABLE_PAGES for i, code in enumerate(_blocks(page, "python"))]
YAML_BLOCKS = [(i, code) for i, code in enumerate(_blocks("user_guide/specs.rst", "yaml"))]


@pytest.mark.backend_independent
def test_pages_have_code():
    assert len(PY_BLOCKS) >= 3 and len(YAML_BLOCKS) >= 4


@pytest.mark.parametrize("page,index,code", PY_BLOCKS, ids=[f"{p}:{i}" for p, i, _ in PY_BLOCKS])
def test_python_block_runs(page, index, code, capsys):
    code = code.replace("epochs=20", "epochs=1")  # the same call, shorter
    exec(compile(code, f"{page}[{index}]", "exec"), {"__name__": "__docs__"})


@pytest.mark.parametrize("index,code", YAML_BLOCKS, ids=[f"specs.rst:yaml{i}" for i, _ in YAML_BLOCKS])
def test_yaml_block_builds(index, code):
    data = yaml.safe_load(code)
    if isinstance(data, dict):  # a whole document
        model = deepkit.from_spec(code)
    else:  # a fragment of a layers list: give it an input that suits it
        shape = (16, 16, 32) if "Conv2D" in code or "Pooling2D" in code else (8,)
        model = deepkit.from_spec(data, input_shape=shape)
    assert model.count_params() > 0
    # and it writes itself back as the same kind of data
    assert deepkit.from_spec(model.to_spec()).count_params() == model.count_params()
