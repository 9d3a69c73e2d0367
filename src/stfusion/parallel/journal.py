"""The journal of a streamed run: what lets a killed run resume where it stopped.

It lives in a hidden folder beside the output, ``.<output name>.run/``:

- ``run.json``: the run's fingerprint (method, parameters, block size, and each input's path,
  size and modification time). A journal with another fingerprint is discarded: its blocks
  belong to another computation.
- ``parts/<row>_<col>.npy``: each finished block's result (float32, NaN where invalid), written
  to a temporary name, flushed to disk and renamed, so a part is either complete or absent.
- ``done.txt``: one line ``row col valid_pixels`` per finished block, appended after its part is
  in place. A torn last line (the process killed while writing it) is ignored.

The folder is removed when the output has been written.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np


class RunJournal:
    """Finished blocks of one streamed run of ``fingerprint`` writing ``out``."""

    def __init__(self, out: Path, fingerprint: dict[str, Any]) -> None:
        self.dir = out.parent / f".{out.name}.run"
        self.fingerprint = fingerprint
        self._lock = threading.Lock()

    def open(self) -> dict[tuple[int, int], int]:
        """Start or resume: the finished blocks ``(row, col) -> valid pixels`` of an earlier run with
        the same fingerprint (empty for a new run)."""
        done: dict[tuple[int, int], int] = {}
        run = self.dir / "run.json"
        if run.is_file() and _read_json(run) == self.fingerprint:
            for line in (self.dir / "done.txt").read_text().splitlines() if (self.dir / "done.txt").is_file() else []:
                fields = line.split()
                if len(fields) == 3 and all(f.isdigit() for f in fields) and self._part(*map(int, fields[:2])).is_file():
                    done[(int(fields[0]), int(fields[1]))] = int(fields[2])
            return done
        shutil.rmtree(self.dir, ignore_errors=True)
        (self.dir / "parts").mkdir(parents=True)
        tmp = run.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.fingerprint, indent=1, sort_keys=True))
        os.replace(tmp, run)
        return done

    def save(self, row: int, col: int, data: np.ndarray, valid: int) -> None:
        """Store a finished block durably, then record it."""
        part = self._part(row, col)
        tmp = part.with_name(f".{part.name}.{threading.get_ident()}.tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, data, allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, part)
        with self._lock, open(self.dir / "done.txt", "a") as fh:
            fh.write(f"{row} {col} {valid}\n")
            fh.flush()
            os.fsync(fh.fileno())

    def load(self, row: int, col: int) -> np.ndarray:
        """The stored result of block ``(row, col)``."""
        return np.load(self._part(row, col), allow_pickle=False)

    def remove(self) -> None:
        """Delete the journal (the run is finished, or its inputs were wrong)."""
        shutil.rmtree(self.dir, ignore_errors=True)

    def _part(self, row: int, col: int) -> Path:
        return self.dir / "parts" / f"{row}_{col}.npy"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
