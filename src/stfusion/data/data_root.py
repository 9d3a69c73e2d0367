"""Where the real sample data live: ``<repo>/../shared/data`` unless ``STFUSION_DATA`` says otherwise."""

from __future__ import annotations

import os
from pathlib import Path

from stfusion.core.errors import FileFormatError

DATA_ENV = "STFUSION_DATA"
"""Environment variable naming the sample-data folder (the one holding ``cia_2date/`` etc.)."""

DEFAULT_ROOT = Path(__file__).resolve().parents[3].parent / "shared" / "data"
"""``<repo>/../shared/data`` for the editable (src-layout) checkout."""


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """``root`` if given, else ``$STFUSION_DATA``, else `DEFAULT_ROOT` (not checked here)."""
    if root is not None:
        return Path(root)
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else DEFAULT_ROOT


def dataset_dir(root: Path, folder: str) -> Path:
    """``root / folder``, or `FileFormatError` saying where it looked and how to point elsewhere."""
    path = root / folder
    if not path.is_dir():
        raise FileFormatError(
            f"dataset folder not found: {path}; pass root=... or set {DATA_ENV} to the folder holding {folder}/"
        )
    return path


def dataset_file(folder: Path, name: str) -> Path:
    """``folder / name``, or `FileFormatError` naming the missing file."""
    path = folder / name
    if not path.is_file():
        raise FileFormatError(f"dataset file not found: {path}; restore it from the dataset's source")
    return path
