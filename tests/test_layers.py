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
    "cli": {"core", "io", "data", "metrics", "methods", "embed", "parallel", "bench"},
}
HEAVY = {"torch", "matplotlib", "distributed"}


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(absolute stfusion module, line, at module level) for every import in ``path``."""
    tree = ast.parse(path.read_text())
    rel = path.relative_to(PACKAGE.parent).with_suffix("").parts
    found = []
    top_level = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(rel[: len(rel) - node.level])
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            names = [name] + [f"{name}.{a.name}" for a in node.names] if not node.module else [name]
            for n in names:
                found.append((n, node.lineno, id(node) in top_level))
        elif isinstance(node, ast.Import):
            for a in node.names:
                found.append((a.name, node.lineno, id(node) in top_level))
    return found


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layer_imports(path: Path):
    part = path.relative_to(PACKAGE).parts[0]
    if part not in ALLOWED:
        return
    for name, line, top in _imports(path):
        parts = name.split(".")
        if parts[0] == "stfusion" and len(parts) > 1 and parts[1] in ALLOWED and parts[1] != part:
            assert parts[1] in ALLOWED[part], f"{path.name}:{line} ({part}) imports stfusion.{parts[1]}"
        if top:
            assert parts[0] not in HEAVY, f"{path.name}:{line} imports {parts[0]} at module level"


def test_nothing_imports_cli():
    for path in _modules():
        if path.relative_to(PACKAGE).parts[0] == "cli":
            continue
        for name, line, _ in _imports(path):
            assert not name.startswith("stfusion.cli"), f"{path}:{line} imports the cli"
