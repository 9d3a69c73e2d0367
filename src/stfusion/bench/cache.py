"""The bench's resume cache: one JSON record and one prediction per run, keyed by what determines the run.

A run's key is the SHA-256 of its inputs' fingerprint, the method, its resolved parameters (a
checkpoint by its content), the number of pairs and the stfusion version with its code digest. A run whose key is
already in ``<out>/cache`` is read back instead of recomputed, so a killed bench resumes where
it stopped. Each file is written through a temporary file and a rename; the record is written
after the prediction, so a record always has its prediction.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from stfusion.core.atomic import atomic_write

from .atomic import write_text

CACHE_DIR = "cache"


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def params_dict(params: Any) -> dict[str, Any]:
    """A method's parameter dataclass as a JSON-ready dict."""
    return json.loads(json.dumps(dataclasses.asdict(params), default=str))


def run_key(*, inputs: str, method: str, params: dict[str, Any], pairs: int, version: str) -> str:
    """The cache key of one run; a checkpoint parameter counts by its file's content."""
    ident = dict(params)
    if ident.get("checkpoint"):
        ident["checkpoint"] = file_digest(ident["checkpoint"])
    doc = {"inputs": inputs, "method": method, "params": ident, "pairs": pairs, "stfusion": version}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]


class RunCache:
    """The records and predictions of a bench folder's earlier runs."""

    def __init__(self, out: str | os.PathLike[str]) -> None:
        self.dir = Path(out) / CACHE_DIR

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.dir / f"{key}.json", self.dir / f"{key}.npz"

    def get(self, key: str) -> tuple[dict[str, Any], tuple[np.ndarray, np.ndarray] | None] | None:
        """(record, (data, mask) or None for a failed run), or None when the run is not recorded."""
        record_path, pred_path = self._paths(key)
        if not record_path.is_file():
            return None
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if record.get("status") != "ok":
            return record, None
        try:
            with np.load(pred_path) as arrays:
                return record, (arrays["data"], arrays["mask"])
        except (OSError, ValueError, KeyError):
            return None

    def put(self, key: str, record: dict[str, Any], prediction: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Store a run: its prediction first (when it has one), then its record."""
        record_path, pred_path = self._paths(key)
        self.dir.mkdir(parents=True, exist_ok=True)
        if prediction is not None:
            with atomic_write(pred_path) as fh:
                np.savez(fh, data=prediction[0].astype(np.float32, copy=False), mask=prediction[1])
        write_text(record_path, json.dumps(record, indent=1, sort_keys=True) + "\n")
