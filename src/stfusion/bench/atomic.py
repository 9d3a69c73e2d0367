"""Atomic writes of small text outputs (JSON, CSV, Markdown) and of output folders."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from stfusion.core.atomic import atomic_write


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    with atomic_write(path, "w") as fh:
        fh.write(text)
    return Path(path)


@contextmanager
def staging_dir(final: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``final``; on success its files move into ``final``.

    On failure the temporary folder is removed and ``final`` is left as it was.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        yield tmp
        final.mkdir(parents=True, exist_ok=True)
        for item in sorted(tmp.rglob("*")):
            dest = final / item.relative_to(tmp)
            if item.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
            else:
                os.replace(item, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
