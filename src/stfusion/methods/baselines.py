"""Baselines every fusion method is compared against.

- ``nochange``: the fine image of the base date nearest the target date.
- ``delta``: the fine image plus the coarse change, ``F_i + (C_t - C_i)``, averaged over pairs with
  weights ``1 / |t - t_i|**power`` (days). With one pair this is the "fine + coarse change"
  baseline of the STF literature (e.g. Emelyanova et al. 2013). Pixels are predicted from the
  pairs valid there; a pixel where the target coarse image or every pair is invalid is masked.
"""

from __future__ import annotations

import numpy as np

from ..core.params import DeltaParams, NoChangeParams
from ..core.scene import Scene
from ..core.task import FusionTask


def _time_weights(task: FusionTask, power: float) -> np.ndarray:
    """Inverse-time-distance weights of the pairs (equal when dates are unknown or power is 0)."""
    t = task.target.date
    dates = [p.date for p in task.pairs]
    if power == 0 or t is None or any(d is None for d in dates):
        return np.ones(len(dates))
    days = np.array([abs((t - d).days) for d in dates], dtype=float)
    if (days == 0).any():
        return (days == 0).astype(float)
    return days ** -float(power)


def _output(task: FusionTask, data: np.ndarray, mask: np.ndarray) -> Scene:
    fine = task.fine_grid
    return fine.replace(data=np.where(mask, data, np.nan).astype(np.float32), mask=mask,
                        date=task.target.date, name="")


def nochange(task: FusionTask) -> Scene:
    """The fine image of the base date nearest the target (the first pair when dates are unknown)."""
    w = _time_weights(task, 1.0)
    pair = task.pairs[int(np.argmax(w))]
    mask = np.asarray(pair.fine.mask)
    return _output(task, np.asarray(pair.fine.data, dtype=np.float32), mask)


def delta(task: FusionTask, *, power: float = 1.0) -> Scene:
    """Fine + coarse change, inverse-time-distance weighted over the pairs (see module docstring)."""
    task.require_fine_grid("delta")
    if power < 0:
        from ..core.errors import UnknownParameterError

        raise UnknownParameterError(f"delta: power must be >= 0, got {power:g}")
    weights = _time_weights(task, power)
    target = np.asarray(task.target.data, dtype=np.float64)
    total = np.zeros(target.shape, dtype=np.float64)
    wsum = np.zeros(target.shape[1:], dtype=np.float64)
    for w, pair in zip(weights, task.pairs):
        valid = np.asarray(pair.fine.mask) & np.asarray(pair.coarse.mask)
        pred = np.asarray(pair.fine.data, np.float64) + target - np.asarray(pair.coarse.data, np.float64)
        total += np.where(valid, w * pred, 0.0)
        wsum += np.where(valid, w, 0.0)
    mask = (wsum > 0) & np.asarray(task.target.mask)
    data = np.divide(total, wsum, out=np.zeros_like(total), where=wsum > 0)
    return _output(task, data, mask)


def predict(task: FusionTask, params: NoChangeParams | DeltaParams) -> Scene:
    """Registry entry point: dispatch on the parameter type."""
    if isinstance(params, DeltaParams):
        return delta(task, power=params.power)
    return nochange(task)
