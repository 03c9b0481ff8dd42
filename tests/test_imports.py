"""The package has no import circles: every module imports on its own in a fresh interpreter,
and no two modules import each other (at module level or inside a function)."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "behaviorbench"


def module_files() -> dict[str, object]:
    """Dotted module name -> path, for every module of the package."""
    mods = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def imported_modules(name: str, path, known) -> set[str]:
    """Package modules that module ``name`` imports anywhere in its body."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                head = package.split(".")
                head = head[:len(head) - node.level + 1]
                base = ".".join(head + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m in known and m != name}


def test_no_two_modules_import_each_other():
    mods = module_files()
    graph = {name: imported_modules(name, path, mods) for name, path in mods.items()}
    pairs = sorted(
        f"{a} <-> {b}" for a in graph for b in graph[a]
        if a < b and a in graph[b]
        # a package's __init__ re-exporting its own submodules is not a circle
        and not (b.startswith(a + ".") or a.startswith(b + ".")))
    assert not pairs, "modules that import each other:\n" + "\n".join(pairs)


def test_the_graph_finds_a_planted_circle(tmp_path):
    """The check above can fail: two files that import each other are reported."""
    (tmp_path / "a.py").write_text("from pkg import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from pkg.a import x\n")
    known = {"pkg.a", "pkg.b"}
    assert imported_modules("pkg.a", tmp_path / "a.py", known) == {"pkg.b"}
    assert imported_modules("pkg.b", tmp_path / "b.py", known) == {"pkg.a"}


# Imports each named module in a child forked from an interpreter that has loaded the heavy
# third-party libraries but no module of the package, so each module starts from an empty
# package namespace without paying torch's import once per module.
ISOLATED_IMPORTS = """
import importlib, importlib.util, os, sys, traceback
for lib in ("numpy", "torch", "mujoco", "zarr", "sklearn", "scipy", "gymnasium"):
    if importlib.util.find_spec(lib) is not None:
        importlib.import_module(lib)
assert not [m for m in sys.modules if m.split(".")[0] == "behaviorbench"]
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException as exc:
            print(f"{name}: {type(exc).__name__}: {exc}", flush=True)
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0 and os.WEXITSTATUS(status) != 1:
        print(f"{name}: child ended with status {status}", flush=True)
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_every_module_imports_alone():
    names = list(module_files())
    proc = subprocess.run([sys.executable, "-c", ISOLATED_IMPORTS, *names], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not proc.stdout.strip(), "modules that do not import on their own:\n" + proc.stdout
