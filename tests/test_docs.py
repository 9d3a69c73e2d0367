"""Every Python example in docs/ and the README runs (the blocks of one page run in order, in one namespace)."""

from __future__ import annotations

import importlib.util
import re
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
# What an example needs ../shared for: a path into it, or a loader of the sample sets.
NEEDS_SHARED = re.compile(r"shared/|load_case\(|load_dataset\(|data_root\(")
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# What an example needs torch for: training or loading a deep network.
NEEDS_TORCH = re.compile(r"fit=True|checkpoint=|import torch")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    text = page.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    if not blocks:
        pytest.skip("no Python example on this page")
    if NEEDS_SHARED.search("\n".join(blocks)) and not SHARED.is_dir():
        pytest.skip(f"the example reads {SHARED}, which is missing")
    code = re.sub(r"#.*", "", "\n".join(blocks))  # comments may name what the example does not run
    if NEEDS_TORCH.search(code) and importlib.util.find_spec("torch") is None:
        pytest.skip("the example runs a deep network, which needs torch (pip install -e '.[torch]')")
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("STFUSION_DOCS_TMP", str(tmp_path))
    module = types.ModuleType("__docs__")  # a real module, as a script's __main__ is (dataclasses look it up)
    monkeypatch.setitem(sys.modules, "__docs__", module)
    exec(compile("\n".join(blocks), str(page), "exec"), module.__dict__)
