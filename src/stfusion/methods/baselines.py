"""Baselines every fusion method is compared against.

- ``nochange``: the fine image of the base date nearest the target date.
- ``delta``: the fine image plus the coarse change, ``F_i + (C_t - C_i)``, averaged over pairs with
  weights ``1 / |t - t_i|**power`` (days). With one pair this is the "fine + coarse change"
  baseline of the STF literature (e.g. Emelyanova et al. 2013). Each pixel is predicted from the
  pairs valid there; a pixel where the target coarse image or every pair is invalid is masked.

Both are per-pixel (halo 0) and blockwise: ``stats`` gives the pair weights, ``predict_block``
does the arithmetic.
"""

from __future__ import annotations

import numpy as np

from ..core.block import Block
from ..core.errors import InvalidParameterError
from ..core.params import DeltaParams, NoChangeParams
from ..core.scene import Scene
from ..core.task import FusionTask


def _time_weights(days: tuple[int, ...] | None, n: int, power: float) -> np.ndarray:
    """Inverse-time-distance weights of the pairs (equal when dates are unknown or power is 0)."""
    if power == 0 or days is None:
        return np.ones(n)
    dist = np.abs(np.array(days, dtype=float))
    if (dist == 0).any():
        return (dist == 0).astype(float)
    return dist ** -float(power)


def stats(task: FusionTask, params: NoChangeParams | DeltaParams) -> np.ndarray:
    """The weight of each pair (for ``nochange``: 1 for the nearest date, 0 for the others)."""
    from ..core.block import pair_days

    days = pair_days(task)
    if isinstance(params, DeltaParams):
        if params.power < 0:
            raise InvalidParameterError(f"delta: power must be >= 0, got {params.power:g}")
        task.require_fine_grid("delta")
        return _time_weights(days, len(task.pairs), params.power)
    w = _time_weights(days, len(task.pairs), 1.0)
    return (np.arange(len(w)) == int(np.argmax(w))).astype(float)


def predict_block(block: Block, weights: np.ndarray, params: NoChangeParams | DeltaParams) -> tuple[np.ndarray, np.ndarray]:
    """(data, mask) of one block."""
    if isinstance(params, NoChangeParams):
        i = int(np.argmax(weights))
        return block.fine[i].copy(), block.fine_mask[i].copy()
    target = block.target.astype(np.float64)
    total = np.zeros(target.shape, dtype=np.float64)
    wsum = np.zeros(target.shape[1:], dtype=np.float64)
    for w, fine, coarse, fm, cm in zip(weights, block.fine, block.coarse, block.fine_mask, block.coarse_mask):
        valid = fm & cm
        total += np.where(valid, w * (fine.astype(np.float64) + target - coarse), 0.0)
        wsum += np.where(valid, w, 0.0)
    mask = (wsum > 0) & block.target_mask
    data = np.divide(total, wsum, out=np.zeros_like(total), where=wsum > 0)
    return data.astype(np.float32), mask


def predict(task: FusionTask, params: NoChangeParams | DeltaParams) -> Scene:
    """Registry entry point: the whole task as one block."""
    data, mask = predict_block(Block.from_task(task) if isinstance(params, DeltaParams) else _fine_block(task),
                               stats(task, params), params)
    return task.fine_grid.replace(data=np.where(mask, data, np.nan).astype(np.float32), mask=mask,
                                  date=task.target.date, name="")


def _fine_block(task: FusionTask) -> Block:
    """``nochange`` needs only the fine images, so it also works when the coarse grid differs."""
    fine = np.stack([np.asarray(p.fine.data, np.float32) for p in task.pairs])
    fmask = np.stack([np.asarray(p.fine.mask) for p in task.pairs])
    return Block(fine, fmask, fine, fmask, fine[0], fmask[0])


def nochange(task: FusionTask) -> Scene:
    """The fine image of the base date nearest the target (the first pair when dates are unknown)."""
    return predict(task, NoChangeParams())


def delta(task: FusionTask, *, power: float = 1.0) -> Scene:
    """Fine + coarse change, inverse-time-distance weighted over the pairs (see module docstring)."""
    return predict(task, DeltaParams(power=power))
