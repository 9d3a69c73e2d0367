"""Atomic writes of small text outputs (JSON, CSV, Markdown) and of output folders."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
