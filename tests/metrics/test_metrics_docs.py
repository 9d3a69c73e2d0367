"""The example in docs/metrics.md runs and prints the documented values."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAIR = ROOT.parent / "shared" / "reference" / "metrics" / "pair.npz"


def test_docs_example_runs(tmp_path, monkeypatch, capsys):
    if not PAIR.is_file():
        pytest.skip(f"reference pair not found at {PAIR}")
    text = (ROOT / "docs" / "metrics.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code.replace("../shared/reference/metrics/pair.npz", str(PAIR)), "metrics.md", "exec"), {})
    out = capsys.readouterr().out
    assert "2.77347" in out and "0.46459" in out and "ratio h/l = 0.0625" in out
    png = Path(out.strip().splitlines()[-1])
    assert png.read_bytes()[:4] == b"\x89PNG"
    shutil.rmtree(png.parent)
