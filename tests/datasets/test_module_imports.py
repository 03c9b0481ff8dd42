"""The dataset modules import each other without a circle: ``backends`` uses ``config``
(``ConfigError``, the terrain kinds), ``config`` does not use ``backends``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import behaviorbench.datasets as datasets

PKG = Path(datasets.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside functions."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_config_does_not_import_backends():
    assert "behaviorbench.datasets.config" in imported_modules(PKG / "backends.py")
    assert not any("backends" in m for m in imported_modules(PKG / "config.py"))


def test_each_module_imports_on_its_own():
    for name in ("config", "backends"):
        subprocess.run([sys.executable, "-c", f"import behaviorbench.datasets.{name}"],
                       check=True)
