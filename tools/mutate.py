"""Mutation testing for deepkit: plant small bugs in a module, run its tests, list the survivors.

A mutant is the module with ONE change to its syntax tree:

- ``cmp``: a comparison operator swapped (``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``,
  ``is`` <-> ``is not``, ``in`` <-> ``not in``);
- ``arith``: an arithmetic operator swapped (``+`` <-> ``-``, ``*`` <-> ``/``, ``//`` -> ``*``,
  ``%`` -> ``//``, ``**`` -> ``*``), also in ``x += ...``;
- ``const``: a number constant plus one and minus one (two mutants);
- ``bool``: ``True`` <-> ``False``, ``and`` <-> ``or``, ``not x`` -> ``x``;
- ``return``: ``return <expr>`` -> ``return None``;
- ``call``: a statement that is only a call (``f(x)``) removed (replaced by ``pass``).

Docstrings and other strings are never mutated; a line with ``# pragma: no mutate`` is skipped
(use it for equivalent mutants, and say why next to it). The mutated module is written with
``ast.unparse`` (same behaviour, comments and layout gone) and the test command runs; the mutant
is *killed* when the command fails or times out, and *survives* when it passes. Before the
mutants the command runs once on the unmutated tree: it must pass, and its time sets the
default timeout (3 x baseline + 10 s).

The module file is always restored: after each mutant, on Ctrl-C / SIGTERM (``finally`` and a
signal handler), and, if the tool itself was killed, at its next start (it leaves
``<file>.mutate-backup`` while a mutant is on disk). ``--copy`` runs every mutant in a temporary
copy of the tree instead, so the working tree is never written.

Usage::

    python tools/mutate.py FILE [FILE ...] --tests "COMMAND" [options]

Options:
    --tests CMD       shell command that runs the tests (required); run from the tree's root (or
                      the copy's), with ``PYTHONPATH`` set to it; exit status 0 = mutant survived.
    --timeout S       seconds per mutant (default: 3 x the baseline run + 10).
    --sample N        run a random sample of N mutants (default: all).
    --seed S          seed of the sample (default 0).
    --only IDS        comma-separated mutant ids to run (as printed by --list).
    --lines A-B       only mutants whose line is in A..B (repeatable).
    --list            print the mutants (id, file:line:col, kind, change) and exit.
    --copy            run in a temporary copy of the tree (ignores .git, .venv, caches).
    --json PATH       write every result as JSON (id, location, kind, change, status, seconds).
    --no-baseline     skip the baseline run (then --timeout is required).
    --pytest ARGS     instead of --tests: pytest arguments, run by ``pytest.main`` in a child forked
                      from a warm process that has already imported ``--preload`` (default
                      ``numpy,keras,pytest``; never deepkit, so each child imports the mutant). It
                      saves the import of Keras and its backend (5-15 s) per mutant.
    --preload MODS    comma-separated modules the warm process imports before forking.

Output: one line per mutant (``killed``, ``survived``, ``timeout``), then the score
``killed / run`` (timeouts count as killed) and the surviving mutants with their source lines.
Exit status 0, or 1 when the baseline fails.

Example (the numbers of ``deepkit/train/fast.py`` are in CONTRIBUTING.md, "Mutation testing")::

    PYTHONPATH=$PWD KERAS_BACKEND=tensorflow python tools/mutate.py deepkit/train/fast.py \\
        --tests "python -m pytest -x -q -p no:cacheprovider -n 0 tests/train/test_fast.py" \\
        --sample 60 --seed 1 --copy
"""

import argparse
import ast
import copy
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PRAGMA = "pragma: no mutate"

_CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
        ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
_ARITH = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
          ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult}
_SYMBOL = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
           ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in", ast.Add: "+",
           ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
           ast.And: "and", ast.Or: "or"}


# ----------------------------------------------------------------------------- finding mutants
def _docstring_nodes(tree):
    """The string constants that are docstrings (never mutated)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                found.add(id(body[0]))
    return found


def _sites(tree, lines):
    """Every (node index, kind, change, argument) of the tree, in walk order."""
    docstrings = _docstring_nodes(tree)
    sites = []
    for index, node in enumerate(ast.walk(tree)):
        line = getattr(node, "lineno", None)
        if line is not None and PRAGMA in lines[line - 1]:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _CMP:
                    change = f"{_SYMBOL[type(op)]} -> {_SYMBOL[_CMP[type(op)]]}"
                    sites.append((index, "cmp", change, i))
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _ARITH:
            change = f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[_ARITH[type(node.op)]]}"
            sites.append((index, "arith", change, None))
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
            for delta in (1, -1):
                sites.append((index, "const", f"{node.value!r} -> {node.value + delta!r}", delta))
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            sites.append((index, "bool", f"{node.value} -> {not node.value}", None))
        elif isinstance(node, ast.BoolOp):
            other = "or" if isinstance(node.op, ast.And) else "and"
            sites.append((index, "bool", f"{_SYMBOL[type(node.op)]} -> {other}", None))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            sites.append((index, "bool", "not x -> x", None))
        elif isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            sites.append((index, "return", "return ... -> return None", None))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and id(node) not in docstrings:
            sites.append((index, "call", f"remove {ast.unparse(node.value.func)}(...)", None))
    return sites


def _apply(tree, site):
    """A mutated deep copy of ``tree`` (the node is found again by its walk index)."""
    tree = copy.deepcopy(tree)
    index, kind, _, arg = site
    node = next(n for i, n in enumerate(ast.walk(tree)) if i == index)
    if kind == "cmp":
        node.ops[arg] = _CMP[type(node.ops[arg])]()
    elif kind == "arith":
        node.op = _ARITH[type(node.op)]()
    elif kind == "const":
        node.value = node.value + arg
    elif kind == "bool" and isinstance(node, ast.Constant):
        node.value = not node.value
    elif kind == "bool" and isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind == "bool":  # not x -> x: the UnaryOp's operand takes its place
        _replace(tree, node, node.operand)
    elif kind == "return":
        node.value = ast.Constant(value=None)
    elif kind == "call":
        _replace(tree, node, ast.Pass())
    return ast.fix_missing_locations(tree)


def _replace(tree, old, new):
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list) and any(v is old for v in value):
                value[[i for i, v in enumerate(value) if v is old][0]] = new
                return
    raise RuntimeError("mutate: node not found")


def mutants(path):
    """The mutants of one file: dicts with id, file, line, col, kind, change, site.

    Args:
        path: a Python file.

    Returns:
        A list of dicts (``id`` is ``<file>:<n>``, stable for an unchanged file).

    Example:
        >>> import tempfile, os
        >>> f = os.path.join(tempfile.mkdtemp(), "m.py")
        >>> _ = open(f, "w").write("def f(a):\\n    return a < 1\\n")
        >>> [(m["kind"], m["change"]) for m in mutants(f)]
        [('return', 'return ... -> return None'), ('cmp', '< -> <='), ('const', '1 -> 2'), ('const', '1 -> 0')]
    """
    source = open(path, encoding="utf-8").read()
    tree = ast.parse(source)
    lines = source.splitlines()
    nodes = list(ast.walk(tree))
    out = []
    for n, site in enumerate(_sites(tree, lines)):
        node = nodes[site[0]]
        out.append(dict(id=f"{path}:{n}", file=path, line=node.lineno, col=node.col_offset,
                        kind=site[1], change=site[2], site=site,
                        source=lines[node.lineno - 1].strip()))
    return out


# ----------------------------------------------------------------------------- running them
class _Restorer:
    """Keeps the original bytes of the files being mutated and puts them back, whatever happens."""

    def __init__(self, root, files):
        self.originals = {}
        for f in files:
            path = os.path.join(root, f)
            recover(path)
            with open(path, "rb") as fh:
                self.originals[path] = fh.read()

    def write(self, path, text):
        backup = path + ".mutate-backup"
        if not os.path.exists(backup):
            with open(backup, "wb") as fh:
                fh.write(self.originals[path])
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)

    def restore(self):
        for path, data in self.originals.items():
            with open(path, "rb") as fh:
                same = fh.read() == data
            if not same:
                with open(path, "wb") as fh:
                    fh.write(data)
            if os.path.exists(path + ".mutate-backup"):
                os.remove(path + ".mutate-backup")


def recover(path):
    """Put back ``path`` from the ``.mutate-backup`` a killed run left beside it (if any).

    Args:
        path: a file that may have been mutated.

    Returns:
        True when a backup was found and restored.

    Example:
        >>> recover("/nonexistent/file.py")
        False
    """
    backup = path + ".mutate-backup"
    if not os.path.exists(backup):
        return False
    shutil.copyfile(backup, path)
    os.remove(backup)
    print(f"mutate: restored {path} from {backup} (left by a killed run)", file=sys.stderr)
    return True


def _run(command, root, timeout):
    """Run the test command in its own process group; the whole group dies on timeout or Ctrl-C."""
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONDONTWRITEBYTECODE="1")
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, shell=True, cwd=root, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        status = "survived" if proc.wait(timeout=timeout) == 0 else "killed"
    except subprocess.TimeoutExpired:
        status = "timeout"
    finally:
        if proc.poll() is None or status == "timeout":
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    return status, time.perf_counter() - t0


class _Forker:
    """Runs ``pytest.main(args)`` in children forked from this warm process (``--pytest``)."""

    def __init__(self, pytest_args, preload):
        import importlib
        import shlex
        self.args = shlex.split(pytest_args)
        for name in filter(None, (p.strip() for p in preload.split(","))):
            importlib.import_module(name)
        loaded = sorted(m for m in sys.modules if m == "deepkit" or m.startswith("deepkit."))
        if loaded:
            raise SystemExit(f"mutate: --preload imported deepkit ({loaded[0]}); the mutants would not "
                             "be seen. Preload only third-party modules.")

    def run(self, root, timeout):
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # the child: run the tests on the tree at root, then leave without cleanup
            code = 3
            try:
                os.setsid()
                os.chdir(root)
                sys.path.insert(0, root)
                os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
                sys.dont_write_bytecode = True
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 1)
                os.dup2(null, 2)
                import pytest
                code = int(pytest.main(list(self.args)))
            finally:
                os._exit(code)
        status = None
        while status is None:
            done, wait_status = os.waitpid(pid, os.WNOHANG)
            if done:
                status = "survived" if os.waitstatus_to_exitcode(wait_status) == 0 else "killed"
            elif timeout is not None and time.perf_counter() - t0 > timeout:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                os.waitpid(pid, 0)
                status = "timeout"
            else:
                time.sleep(0.05)
        return status, time.perf_counter() - t0


def _copy_tree(root):
    target = tempfile.mkdtemp(prefix="mutate-")
    ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.pyc", ".pytest_cache",
                                    "node_modules", "*.mutate-backup", "build", "dist")
    shutil.copytree(root, os.path.join(target, "tree"), ignore=ignore, symlinks=True)
    return target, os.path.join(target, "tree")


def _parse_lines(specs):
    ranges = []
    for spec in specs or []:
        lo, _, hi = spec.partition("-")
        ranges.append((int(lo), int(hi or lo)))
    return ranges


def main(argv=None):
    """Run the mutants of the given files against a test command (see the module docstring).

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``).

    Returns:
        The exit status: 0, or 1 when the unmutated tree fails its tests.

    Example:
        >>> import tempfile, os
        >>> f = os.path.join(tempfile.mkdtemp(), "m.py")
        >>> _ = open(f, "w").write("def f(a):\\n    return a < 1\\n")
        >>> import contextlib, io
        >>> out = io.StringIO()
        >>> with contextlib.redirect_stdout(out):
        ...     status = main([f, "--tests", "true", "--list"])
        >>> status, out.getvalue().splitlines()[-1]
        (0, '4 of 4 mutants')
    """
    parser = argparse.ArgumentParser(description="Mutation testing (see tools/mutate.py's docstring).")
    parser.add_argument("files", nargs="+")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--tests")
    group.add_argument("--pytest")
    parser.add_argument("--preload", default="numpy,keras,pytest")
    parser.add_argument("--timeout", type=float)
    parser.add_argument("--sample", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only")
    parser.add_argument("--lines", action="append")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--copy", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)

    root = os.getcwd()
    files = [os.path.relpath(os.path.abspath(f), root) for f in args.files]
    for f in files:  # before reading them: a killed run may have left a mutant on disk
        recover(os.path.join(root, f))
    found = [m for f in files for m in mutants(f)]
    ranges = _parse_lines(args.lines)
    if ranges:
        found = [m for m in found if any(lo <= m["line"] <= hi for lo, hi in ranges)]
    if args.only:
        wanted = set(args.only.split(","))
        found = [m for m in found if m["id"] in wanted]
    total = len(found)
    if args.sample is not None and args.sample < len(found):
        found = sorted(random.Random(args.seed).sample(found, args.sample),
                       key=lambda m: (m["file"], m["line"], m["col"]))
    if args.list:
        for m in found:
            print(f"{m['id']:32} {m['file']}:{m['line']}:{m['col']}  {m['kind']:6} {m['change']}")
        print(f"{len(found)} of {total} mutants")
        return 0

    tmp = None
    if args.copy:
        tmp, run_root = _copy_tree(root)
    else:
        run_root = root
    restorer = _Restorer(run_root, files)

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, on_signal)
    results = []
    if args.pytest is not None:
        forker = _Forker(args.pytest, args.preload)

        def run_tests(timeout):
            return forker.run(run_root, timeout)
    else:
        def run_tests(timeout):
            return _run(args.tests, run_root, timeout)
    try:
        timeout = args.timeout
        if not args.no_baseline:
            status, seconds = run_tests(None)
            print(f"baseline: {status} in {seconds:.1f} s", flush=True)
            if status != "survived":
                print("mutate: the tests fail on the unmutated tree; fix that first.", file=sys.stderr)
                return 1
            timeout = timeout or 3 * seconds + 10
        elif timeout is None:
            parser.error("--no-baseline needs --timeout")
        trees = {f: ast.parse(open(os.path.join(run_root, f), encoding="utf-8").read()) for f in files}
        for i, m in enumerate(found, 1):
            path = os.path.join(run_root, m["file"])
            restorer.write(path, ast.unparse(_apply(trees[m["file"]], m["site"])) + "\n")
            try:
                status, seconds = run_tests(timeout)
            finally:
                restorer.restore()
            results.append(dict({k: v for k, v in m.items() if k != "site"}, status=status,
                                seconds=round(seconds, 1)))
            print(f"[{i}/{len(found)}] {status:8} {m['file']}:{m['line']}:{m['col']} {m['kind']:6} "
                  f"{m['change']}  ({seconds:.0f} s)", flush=True)
    except KeyboardInterrupt:
        print("mutate: interrupted; the files are restored.", file=sys.stderr)
    finally:
        restorer.restore()
        signal.signal(signal.SIGTERM, previous)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    _report(results, total, args)
    return 0


def _report(results, total, args):
    if not results:
        print("no mutant run")
        return
    killed = sum(r["status"] != "survived" for r in results)
    sample = f" (a sample of {len(results)} of {total}, seed {args.seed})" if len(results) < total else ""
    print(f"\nscore: {killed}/{len(results)} killed = {100 * killed / len(results):.1f}%{sample}")
    survivors = [r for r in results if r["status"] == "survived"]
    if survivors:
        print("surviving mutants:")
        for r in survivors:
            print(f"  {r['id']:30} {r['file']}:{r['line']}  {r['kind']:6} {r['change']:28} | {r['source']}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(dict(total=total, results=results), fh, indent=1)


if __name__ == "__main__":
    sys.exit(main())
