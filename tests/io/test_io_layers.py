"""The io layer imports only stfusion.core (DESIGN.md "Layers") and no heavy optional package at module level."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import stfusion.io

IO_DIR = Path(stfusion.io.__file__).parent
HEAVY = {"torch", "matplotlib", "dask.distributed", "h5py"}


def _module_imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, at module level) for every import in ``path``; relative imports resolved."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            name = node.module or ""
            if node.level == 1:
                name = f"stfusion.io.{name}".rstrip(".")
            elif node.level > 1:
                name = f"stfusion.{name}"
            found.append((name, id(node) in top))
    return found


def test_io_imports_only_core():
    files = sorted(IO_DIR.glob("*.py"))
    assert files
    for path in files:
        for name, _ in _module_imports(path):
            if name.startswith("stfusion"):
                assert name.startswith(("stfusion.core", "stfusion.io")), f"{path.name} imports {name}"


def test_heavy_packages_are_imported_lazily():
    for path in sorted(IO_DIR.glob("*.py")):
        for name, module_level in _module_imports(path):
            heavy = any(name == h or name.startswith(h + ".") for h in HEAVY)
            assert not (module_level and heavy), f"{path.name} imports {name} at module level"


def test_importing_io_loads_no_heavy_package():
    code = "import sys, stfusion.io; print(sorted(m for m in {'torch', 'matplotlib', 'h5py'} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
