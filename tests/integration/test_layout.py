"""The package's layout rules, checked on the source (by its syntax tree, not by text search).

- tensorflow / jax / torch are imported only under ``deepkit/backend/`` (``import``, ``from ... import``,
  ``importlib.import_module("...")``, ``__import__("...")``);
- ``keras.src`` is named only in ``deepkit/backend/keras_internals.py``;
- the Keras private attributes deepkit relies on are reached only under ``deepkit/backend/``;
- data flows one way: the spec language (``deepkit/spec/``) imports nothing from the models that train
  (``deepkit/core/``), ``deepkit/train/``, ``deepkit/models/`` or ``deepkit/viz/``; ``deepkit/models/``
  imports nothing from ``deepkit/viz/``. Every route counts: import statements at module level and inside
  functions, ``importlib.import_module("...")`` strings, and imports through other deepkit modules
  (``deepkit/spec/build.py`` -> ``deepkit/summary.py`` -> ``deepkit/core/...``), each with the packages it
  runs on the way (the root ``deepkit/__init__.py``, which loads the public API, excepted);
- no module outside ``deepkit/backend/`` compares against a backend's name (``name == "jax"``,
  ``name in ("jax", "tensorflow")``, ``match name: case "torch"``, a dict keyed by backend names): it asks
  ``deepkit.backend.capabilities()`` instead. Naming a framework otherwise is fine: a logger
  (``logging.getLogger("tensorflow")``), a module-name prefix (``module.startswith(("tensorflow", "jax"))``),
  a comparison with a ``__module__``/``__name__``;
- no module imports another module's private name (``from deepkit.a import _b``, ``from . import _b``,
  ``mod._b`` where ``mod`` is another deepkit module). A private *module* used inside its own package
  (``deepkit/datasets/_common.py`` by ``deepkit/datasets/images.py``) and a public module imported under
  a private alias (``from deepkit.datasets import toy as _toy``) are fine.

Each violation is reported as ``file:line: what``.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = "deepkit"
FRAMEWORKS = ("tensorflow", "jax", "jaxlib", "torch")
BACKEND_DIR = ("deepkit", "backend")
KERAS_INTERNALS = ("deepkit", "backend", "keras_internals.py")
#: Keras private attributes deepkit relies on; outside deepkit/backend/ they are reached through
#: deepkit.backend.keras_internals.
KERAS_PRIVATE_ATTRIBUTES = frozenset({
    "_keras_history", "_inbound_nodes", "_outbound_nodes", "_jax_state", "_jax_state_synced",
    "_get_jax_state", "_distribute_strategy", "_initial_epoch", "_symbolic_build", "_flatten_layers",
    "_compile_loss", "_compile_metrics", "_get_metrics_result_or_logs", "_should_eval",
    "_assert_compile_called", "_maybe_rebuild", "_deferred_initialize", "_record_training_state_sharding_spec",
})
#: Keras backend names: compared against only under deepkit/backend/ (everything else asks for capabilities).
BACKEND_NAMES = frozenset({"tensorflow", "jax", "torch", "numpy"})
#: Packages that must not import others (data flows spec -> models -> train -> viz).
MUST_NOT_IMPORT = {
    "deepkit.spec": ("deepkit.core", "deepkit.train", "deepkit.models", "deepkit.viz"),
    "deepkit.models": ("deepkit.viz",),
}


def _private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _backend_names_in(node):
    """The backend-name string constants ``node`` is, or holds as a tuple/list/set of literals."""
    elements = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    return [e.value for e in elements if isinstance(e, ast.Constant) and e.value in BACKEND_NAMES]


def _names_a_module(node):
    """Whether ``node`` reads a ``__module__`` or ``__name__`` (a module-name check, not a backend's)."""
    return any(isinstance(n, ast.Attribute) and n.attr in ("__module__", "__name__")
               or isinstance(n, ast.Name) and n.id == "__name__" for n in ast.walk(node))


def _backend_comparisons(tree):
    """``(node, names)`` for each comparison against backend names in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            names = [n for o in operands for n in _backend_names_in(o)]
            if names and not any(_names_a_module(o) for o in operands):
                yield node, names
        elif isinstance(node, ast.match_case):
            names = [n for p in ast.walk(node.pattern) if isinstance(p, ast.MatchValue)
                     for n in _backend_names_in(p.value)]
            if names:
                yield node.pattern, names
        elif isinstance(node, ast.Dict):
            names = [n for k in node.keys if k is not None for n in _backend_names_in(k)]
            if len(names) >= 2:
                yield node, names


def _module_name(path, root):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


class _Package:
    """The modules of the package under ``root``: which dotted names are modules."""

    def __init__(self, root, package=PACKAGE):
        self.root = pathlib.Path(root)
        self.files = sorted(p for p in (self.root / package).rglob("*.py") if "__pycache__" not in p.parts)
        self.modules = {_module_name(p, self.root) for p in self.files}

    def is_module(self, dotted):
        return dotted in self.modules


def _resolve_relative(module, is_package, level, target):
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _crosses_privacy(importer, dotted):
    """Whether ``importer`` may not use ``dotted``: a private part outside the importer's own package."""
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if _private(part):
            owner = ".".join(parts[:i])  # the package holding the private part
            return not (importer == owner or importer.startswith(owner + "."))
    return False


def check_file(path, package):
    """The layout violations of one file.

    Args:
        path: a ``.py`` file of the package.
        package: the :class:`_Package` it belongs to.

    Returns:
        A list of ``"file:line: what"`` strings.
    """
    rel = path.relative_to(package.root)
    in_backend = rel.parts[:2] == BACKEND_DIR
    is_internals = rel.parts == KERAS_INTERNALS
    module = _module_name(path, package.root)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(rel))
    found = []
    aliases = {}  # local name -> deepkit module it is bound to

    def report(node, what):
        found.append(f"{rel.as_posix()}:{node.lineno}: {what}")

    owner, forbidden = next(((owner, banned) for owner, banned in MUST_NOT_IMPORT.items()
                             if module == owner or module.startswith(owner + ".")), (None, ()))

    def check_import_target(node, dotted, how):
        for banned in forbidden:
            if dotted == banned or dotted.startswith(banned + "."):
                report(node, f"imports '{dotted}' ({how}); {owner} must not depend on {banned}")
        top = dotted.split(".")[0]
        if top in FRAMEWORKS and not in_backend:
            report(node, f"imports the framework '{dotted}' ({how}) outside deepkit/backend/")
        if (dotted == "keras.src" or dotted.startswith("keras.src.")) and not is_internals:
            report(node, f"imports Keras internals '{dotted}' ({how}) outside deepkit/backend/keras_internals.py")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check_import_target(node, alias.name, "import")
                if alias.name.split(".")[0] == PACKAGE:
                    if _crosses_privacy(module, alias.name):
                        report(node, f"imports the private module '{alias.name}'")
                    if alias.asname:
                        aliases[alias.asname] = alias.name
                    else:
                        aliases.setdefault(PACKAGE, PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            source = (_resolve_relative(module, is_package, node.level, node.module) if node.level
                      else node.module or "")
            for alias in node.names:
                full = f"{source}.{alias.name}" if source else alias.name
                check_import_target(node, full if package.is_module(full) else source, "from-import")
                if source == "keras" and alias.name == "src":
                    check_import_target(node, "keras.src", "from-import")
                if source.split(".")[0] == PACKAGE:
                    if package.is_module(full):
                        aliases[alias.asname or alias.name] = full
                        if _crosses_privacy(module, full):
                            report(node, f"imports the private module '{full}'")
                    elif _private(alias.name):
                        report(node, f"imports the private name '{alias.name}' from '{source}'")
                    elif _crosses_privacy(module, source):
                        report(node, f"imports '{alias.name}' from the private module '{source}'")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                check_import_target(node, node.args[0].value, f"{name}()")
            if name in ("getattr", "hasattr", "setattr", "delattr") and len(node.args) >= 2 \
                    and isinstance(node.args[1], ast.Constant) and node.args[1].value in KERAS_PRIVATE_ATTRIBUTES \
                    and not in_backend:
                report(node, f"reaches the Keras private attribute '{node.args[1].value}' ({name}()) "
                             "outside deepkit/backend/")

    if not in_backend:
        for node, names in _backend_comparisons(tree):
            report(node, f"compares against the backend name(s) {sorted(set(names))} outside deepkit/backend/ "
                         "(ask deepkit.backend.capabilities())")

    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        if node.attr in KERAS_PRIVATE_ATTRIBUTES and not in_backend:
            report(node, f"reaches the Keras private attribute '{node.attr}' outside deepkit/backend/")
        chain, inner = [node.attr], node.value
        while isinstance(inner, ast.Attribute):
            chain.append(inner.attr)
            inner = inner.value
        if not isinstance(inner, ast.Name):
            continue
        chain.append(inner.id)
        chain.reverse()  # e.g. ["keras", "src", "ops"] or ["mod", "_helper"]
        if chain[:2] == ["keras", "src"] and len(chain) == 2 and not is_internals:
            report(node, "uses Keras internals 'keras.src' outside deepkit/backend/keras_internals.py")
        if inner.id not in aliases or node.attr != chain[-1] or not _private(node.attr):
            continue
        # ``mod.sub._name``: resolve the module prefix, then judge the first private part after it.
        dotted = aliases[inner.id]
        for part in chain[1:]:
            if package.is_module(f"{dotted}.{part}"):
                dotted = f"{dotted}.{part}"
                continue
            if _private(part) and dotted != module and _crosses_privacy(module, f"{dotted}.{part}"):
                report(node, f"uses the private name '{part}' of the module '{dotted}'")
            break
    return sorted(set(found), key=lambda s: (s.split(":")[0], int(s.split(":")[1]), s))


def module_imports(path, package):
    """The deepkit modules one file imports, by any route: ``{module: (line, how)}``.

    Import statements at module level and in functions, and ``import_module("...")`` / ``__import__("...")``
    strings; ``from a import b`` is module ``a.b`` when that is a module, else ``a``. A module's parent
    packages run when it is imported, so they count too (the root package excepted).
    """
    module = _module_name(path, package.root)
    is_package = path.name == "__init__.py"
    found = {}

    def add(dotted, node, how):
        parts = dotted.split(".")
        while parts and not package.is_module(".".join(parts)):
            parts.pop()
        for end in range(len(parts), 1, -1):  # the module and its parent packages, not the root
            found.setdefault(".".join(parts[:end]), (node.lineno, how))

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node, "import")
        elif isinstance(node, ast.ImportFrom):
            source = (_resolve_relative(module, is_package, node.level, node.module) if node.level
                      else node.module or "")
            for alias in node.names:
                full = f"{source}.{alias.name}"
                add(full if package.is_module(full) else source, node, "from-import")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                add(node.args[0].value, node, f"{name}()")
    found.pop(module, None)
    return found


def check_routes(package):
    """Dependencies against the flow reached through other deepkit modules (direct ones are check_file's).

    Returns:
        A list of ``"file:line: reaches 'x' through a -> b -> x; owner must not depend on banned"``.
    """
    files = {_module_name(p, package.root): p for p in package.files}
    graph = {name: module_imports(path, package) for name, path in files.items()}
    found = []
    for owner, banned in MUST_NOT_IMPORT.items():
        for start in sorted(m for m in graph if m == owner or m.startswith(owner + ".")):
            # Breadth first from each import of the module, so that the route reported is a shortest one.
            for first, (line, how) in sorted(graph[start].items(), key=lambda item: (-item[0].count("."), item[0])):
                route, seen, queue = None, {start, first}, [(first, [first])]
                while queue and route is None:
                    current, path = queue.pop(0)
                    if len(path) > 1 and any(current == b or current.startswith(b + ".") for b in banned):
                        route = path
                        break
                    for nxt in sorted(graph.get(current, {}), key=lambda m: (-m.count("."), m)):  # modules first
                        if nxt not in seen:
                            seen.add(nxt)
                            queue.append((nxt, path + [nxt]))
                if route:
                    target = route[-1]
                    hit = next(b for b in banned if target == b or target.startswith(b + "."))
                    rel = files[start].relative_to(package.root).as_posix()
                    found.append(f"{rel}:{line}: reaches '{target}' through {' -> '.join(route)} ({how} of "
                                 f"'{first}'); {owner} must not depend on {hit}")
    return found


def check_package(root=ROOT):
    """All layout violations under ``root/deepkit``, sorted by file and line."""
    package = _Package(root)
    found = []
    for path in package.files:
        found.extend(check_file(path, package))
    found.extend(check_routes(package))
    return found


# ---------------------------------------------------------------------------------------- the rules


def test_the_package_keeps_its_layout():
    violations = check_package()
    assert not violations, "layout violations (see tests/integration/test_layout.py):\n" + "\n".join(violations)


# -------------------------------------------------------------------------------- the checker itself


def _tree(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for directory in {p.parent for p in tmp_path.rglob("*.py")}:
        init = directory / "__init__.py"
        if directory != tmp_path and not init.exists():
            init.write_text("")
    return check_package(tmp_path)


@pytest.mark.parametrize("source, what", [
    ("import tensorflow as tf\n", "imports the framework 'tensorflow' (import)"),
    ("import jax.numpy as jnp\n", "imports the framework 'jax.numpy' (import)"),
    ("from jax import lax\n", "imports the framework 'jax' (from-import)"),
    ("def f():\n    import torch\n", "imports the framework 'torch' (import)"),
    ("import importlib\ntf = importlib.import_module('tensorflow')\n",
     "imports the framework 'tensorflow' (import_module())"),
    ("tf = __import__('tensorflow')\n", "imports the framework 'tensorflow' (__import__())"),
    ("from keras.src import backend\n", "imports Keras internals 'keras.src' (from-import)"),
    ("import keras.src.ops\n", "imports Keras internals 'keras.src.ops' (import)"),
    ("from keras import src\n", "imports Keras internals 'keras.src' (from-import)"),
    ("import keras\nx = keras.src.ops\n", "uses Keras internals 'keras.src'"),
    ("def f(t):\n    return t._keras_history\n", "the Keras private attribute '_keras_history'"),
    ("def f(m):\n    return getattr(m, '_jax_state', None)\n", "the Keras private attribute '_jax_state' (getattr())"),
    ("from deepkit.b import _helper\n", "imports the private name '_helper' from 'deepkit.b'"),
    ("from . import _helper\n", "imports the private name '_helper' from 'deepkit'"),
    ("from deepkit import b\nb._helper()\n", "uses the private name '_helper' of the module 'deepkit.b'"),
    ("import deepkit.b as mod\nmod._helper()\n", "uses the private name '_helper' of the module 'deepkit.b'"),
    ("import deepkit.b\ndeepkit.b._helper()\n", "uses the private name '_helper' of the module 'deepkit.b'"),
    ("from deepkit.sub import _private\n", "imports the private module 'deepkit.sub._private'"),
    ("import keras\nok = keras.backend.backend() in ('jax', 'tensorflow')\n",
     "compares against the backend name(s) ['jax', 'tensorflow'] outside deepkit/backend/"),
    ("def f(name):\n    return name == 'torch'\n", "compares against the backend name(s) ['torch']"),
    ("def f(name):\n    return 'numpy' != name\n", "compares against the backend name(s) ['numpy']"),
    ("def f(name):\n    match name:\n        case 'jax':\n            return 1\n",
     "compares against the backend name(s) ['jax']"),
    ("def f(name):\n    return {'jax': 1, 'torch': 2}[name]\n", "compares against the backend name(s) ['jax', 'torch']"),
])
def test_the_checker_flags(tmp_path, source, what):
    found = _tree(tmp_path, {"deepkit/a.py": source, "deepkit/b.py": "def _helper():\n    pass\n",
                             "deepkit/sub/_private.py": ""})
    assert len(found) == 1 and found[0].startswith("deepkit/a.py:") and what in found[0], found


@pytest.mark.parametrize("source, what", [
    ("from deepkit.core import model\n", "imports 'deepkit.core.model' (from-import); deepkit.spec must not depend on deepkit.core"),
    ("def f():\n    from deepkit.train import fit\n", "deepkit.spec must not depend on deepkit.train"),
    ("import deepkit.viz.layers\n", "deepkit.spec must not depend on deepkit.viz"),
])
def test_the_checker_flags_a_dependency_against_the_flow(tmp_path, source, what):
    found = _tree(tmp_path, {"deepkit/spec/a.py": source, "deepkit/core/model.py": "", "deepkit/train/__init__.py": "",
                             "deepkit/viz/layers.py": ""})
    assert len(found) == 1 and found[0].startswith("deepkit/spec/a.py:") and what in found[0], found


@pytest.mark.parametrize("files, what", [
    ({"deepkit/spec/a.py": "import importlib\nm = importlib.import_module('deepkit.core.model')\n"},
     "deepkit/spec/a.py:2: imports 'deepkit.core.model' (import_module()); deepkit.spec must not depend on deepkit.core"),
    ({"deepkit/spec/a.py": "from deepkit import summary\n",
      "deepkit/summary.py": "def f():\n    from deepkit.core.model import build\n"},
     "deepkit/spec/a.py:1: reaches 'deepkit.core.model' through deepkit.summary -> deepkit.core.model (from-import of "
     "'deepkit.summary'); deepkit.spec must not depend on deepkit.core"),
    ({"deepkit/spec/a.py": "import deepkit.helpers.x\n",
      "deepkit/helpers/__init__.py": "import importlib\nimportlib.import_module('deepkit.viz.layers')\n"},
     "reaches 'deepkit.viz.layers' through deepkit.helpers -> deepkit.viz.layers"),
])
def test_the_checker_flags_a_route_against_the_flow(tmp_path, files, what):
    """Before: importlib strings and routes through other modules were not checked (spec -> summary -> core)."""
    found = _tree(tmp_path, {"deepkit/core/model.py": "", "deepkit/viz/layers.py": "", **files})
    assert len(found) == 1 and what in found[0], found


@pytest.mark.parametrize("files", [
    {"deepkit/a.py": "from deepkit.sub import toy as _toy\n_toy.make()\n", "deepkit/sub/toy.py": ""},
    {"deepkit/spec/a.py": "import deepkit.summary\n", "deepkit/summary.py": "from deepkit.spec import a\n",
     "deepkit/__init__.py": "from deepkit.core import model\n", "deepkit/core/model.py": "from deepkit.spec import a\n"},
    {"deepkit/sub/a.py": "from deepkit.sub import _common\nfrom deepkit.sub._common import helper\n",
     "deepkit/sub/_common.py": "def helper():\n    pass\n"},
    {"deepkit/backend/jax/loops.py": "import jax\n\ndef f(m):\n    return m._jax_state\n"},
    {"deepkit/backend/keras_internals.py": "import keras.src.backend\nfrom keras.src import ops\n"},
    {"deepkit/a.py": "class A:\n    def f(self):\n        return self._b()\n\n    def _b(self):\n        return __name__\n"},
    {"deepkit/a.py": "import deepkit\nprint(deepkit.__version__)\n"},
    {"deepkit/backend/a.py": "def f(name):\n    return name in ('jax', 'tensorflow')\n"},
    {"deepkit/a.py": "import logging\nlogging.getLogger('tensorflow').setLevel(40)\n"},
    {"deepkit/a.py": "def f(x):\n    return type(x).__module__.startswith(('tensorflow', 'jax'))\n"},
    {"deepkit/a.py": "def f(x):\n    return type(x).__module__.split('.')[0] in ('torch', 'jax')\n"},
    {"deepkit/a.py": "def f(name):\n    return name == 'resnet'\n"},
])
def test_the_checker_allows(tmp_path, files):
    assert _tree(tmp_path, files) == []
