"""The layer boundaries of DESIGN.md, checked by reading every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "stfusion"

ALLOWED = {
    "core": set(),
    "metrics": {"core"},
    "methods": {"core"},
    "embed": {"core"},
    "io": {"core"},
    "data": {"core", "io"},
    "parallel": {"core", "io"},
    "bench": {"core", "io", "data", "metrics", "parallel"},
    "xarray": {"core", "io", "parallel"},
    "cli": {"core", "io", "data", "metrics", "methods", "embed", "parallel", "bench", "xarray"},
    "__init__.py": {"core"},
}
HEAVY = ("torch", "matplotlib", "distributed", "dask.distributed")
TORCH_PACKAGES = (("methods", "deep", "nets"), ("embed", "nets"))
"""The PyTorch networks: torch at module level is allowed here, and these packages are imported
only inside functions everywhere else (so the registry and CLI work without torch)."""


def _import_time_nodes(tree: ast.Module) -> set[int]:
    """Nodes that run when the module is imported: everything outside function bodies (class
    bodies, ``try``/``if`` blocks at module level included) except ``if TYPE_CHECKING:`` blocks."""
    found: set[int] = set()

    def visit(node: ast.AST) -> None:
        found.add(id(node))
        for child in ast.iter_child_nodes(node):
            typing_only = isinstance(child, ast.If) and isinstance(child.test, ast.Name) \
                and child.test.id == "TYPE_CHECKING"
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and not typing_only:
                visit(child)

    visit(tree)
    return found


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(absolute module, line, runs at import time) for every import in ``path``; ``from a import b``
    gives both ``a`` and ``a.b`` (b may be a submodule)."""
    tree = ast.parse(path.read_text())
    rel = path.relative_to(PACKAGE.parent).with_suffix("").parts
    found = []
    at_import = _import_time_nodes(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(rel[: len(rel) - node.level])
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            for n in [name] + [f"{name}.{a.name}" for a in node.names]:
                found.append((n, node.lineno, id(node) in at_import))
        elif isinstance(node, ast.Import):
            for a in node.names:
                found.append((a.name, node.lineno, id(node) in at_import))
    return found


def _heavy(name: str) -> bool:
    return any(name == h or name.startswith(h + ".") for h in HEAVY)


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layer_imports(path: Path):
    part = path.relative_to(PACKAGE).parts[0]
    assert part in ALLOWED, f"{part} is not a layer of DESIGN.md: add it there and to ALLOWED with what it may import"
    for name, line, top in _imports(path):
        parts = name.split(".")
        if parts[0] == "stfusion" and len(parts) > 1 and parts[1] in ALLOWED and parts[1] != part:
            assert parts[1] in ALLOWED[part], f"{path.name}:{line} ({part}) imports stfusion.{parts[1]}"
        rel = path.relative_to(PACKAGE).parts
        in_nets = any(rel[:len(t)] == t for t in TORCH_PACKAGES)
        if top and not (in_nets and (name == "torch" or name.startswith("torch."))):
            assert not _heavy(name), f"{path.name}:{line} imports {name} at module level"
        if top and not in_nets:
            assert not any(name.startswith("stfusion." + ".".join(t)) for t in TORCH_PACKAGES), \
                f"{path.name}:{line} imports the torch networks at module level"


def test_the_checker_sees_package_imports_nested_heavy_imports_and_submodules():
    probe = PACKAGE / "core" / "_probe_for_layer_test.py"
    source = "from stfusion import cli, metrics\ntry:\n    import torch\nexcept ImportError:\n    pass\n" \
             "from dask.distributed import Client\n\ndef f():\n    import matplotlib\n"
    found = {(n, top) for n, _, top in _imports_of(source, probe)}
    assert ("stfusion.cli", True) in found and ("stfusion.metrics", True) in found
    assert ("torch", True) in found and ("dask.distributed", True) in found and ("matplotlib", False) in found
    assert _heavy("dask.distributed") and _heavy("torch.nn") and not _heavy("dask.array")


def _imports_of(source: str, path: Path) -> list[tuple[str, int, bool]]:
    """`_imports` of ``source`` as if it were the module at ``path`` (nothing is written there)."""
    import unittest.mock

    with unittest.mock.patch.object(Path, "read_text", lambda self, *a, **k: source):
        return _imports(path)


def test_nothing_imports_cli():
    for path in _modules():
        if path.relative_to(PACKAGE).parts[0] == "cli":
            continue
        for name, line, _ in _imports(path):
            assert not name.startswith("stfusion.cli"), f"{path}:{line} imports the cli"
