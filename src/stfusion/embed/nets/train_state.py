"""The resumable state of an embedding training run: written every few steps, so a killed
`stfusion embed train` continues where it stopped and ends with the same weights as an
uninterrupted run (model, AdamW moments, both random generators, the epoch's shuffle and the
loss history are all kept)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stfusion.core.atomic import atomic_write
from stfusion.core.dpixel import DPixels
from stfusion.core.errors import CheckpointError


def run_key(dp: DPixels, settings: dict[str, Any]) -> str:
    """A digest of the d-pixels and the run's settings: a state is resumed only by the same run."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for name in sorted(dp.sensors):
        s = dp.sensors[name]
        for a in (s.values, s.valid, s.doy):
            h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def save_state(path: str | os.PathLike[str], key: str, step: int, model: torch.nn.Module,
               opt: torch.optim.Optimizer, rng: np.random.Generator, order: np.ndarray, cursor: int,
               history: list[dict[str, float]]) -> None:
    """Write the state after ``step`` steps atomically (plain types and tensors: loads with weights_only)."""
    blob = {"key": key, "step": step, "model": model.state_dict(), "opt": opt.state_dict(),
            "rng": json.dumps(rng.bit_generator.state), "torch_rng": torch.get_rng_state(),
            "order": torch.from_numpy(np.asarray(order, dtype=np.int64)), "cursor": int(cursor),
            "history": history}
    with atomic_write(path) as f:
        torch.save(blob, f)


def load_state(path: str | os.PathLike[str], key: str) -> dict[str, Any] | None:
    """The state at ``path`` if there is one (None otherwise); it must have been written by the same run."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        found = blob["key"]
    except Exception as exc:  # truncated or foreign files raise many types
        raise CheckpointError(f"training state {path} is not readable ({type(exc).__name__}); delete it to "
                              "start the training again") from None
    if found != key:
        raise CheckpointError(f"training state {path} was written by a run with other data or options; rerun "
                              "with the same options to resume it, or delete it to start again")
    return blob


def restore(blob: dict[str, Any], model: torch.nn.Module, opt: torch.optim.Optimizer,
            rng: np.random.Generator) -> tuple[int, np.ndarray, int, list[dict[str, float]]]:
    """Load ``blob`` into the model, optimiser and generators; returns (step, order, cursor, history)."""
    model.load_state_dict(blob["model"])
    opt.load_state_dict(blob["opt"])
    rng.bit_generator.state = json.loads(blob["rng"])
    torch.set_rng_state(blob["torch_rng"])
    return int(blob["step"]), blob["order"].numpy(), int(blob["cursor"]), list(blob["history"])
