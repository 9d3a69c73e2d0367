"""The deep methods' entry points: `predict` (from a checkpoint, or after ``fit=True`` training on
the task's own pairs), `train` (from training stacks, to a checkpoint), and the block-wise pair
`stats` / `predict_block` that the shared runner streams (``stfusion predict METHOD --chunk N``).

``fit=True`` trains on the central window of at most `TRAIN_FINE` pixels a side (the whole task
when it is smaller), so a whole scene trains in bounded memory. Each block is predicted with the
network's halo (rounded up to its input multiple) as context, which is dropped; in memory the
task is one block, tiled inside with overlap and blending.

Torch is imported inside the functions (the networks are in `nets/`), so the registry and the
CLI work without the ``torch`` extra and say how to install it.
"""

from __future__ import annotations

import datetime as _dt
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from stfusion.core.block import Block
from stfusion.core.errors import (
    FitReport,
    InvalidParameterError,
    MissingDependencyError,
    MissingInputError,
    MissingWeightsError,
    ResponseWarning,
)
from stfusion.core.params import DeltaParams
from stfusion.core.params.deep import DcstfnParams, DeepParams, EdcstfnParams, GanstfmParams, StfdcnnParams
from stfusion.core.scene import Scene
from stfusion.core.task import FusionTask, Pair
from stfusion.core.training import DatedStack, simulate_change, stack_from_pairs


TRAIN_FINE = 4096
"""``fit=True`` trains on the central window of at most this many fine pixels a side."""

METHOD_OF = {StfdcnnParams: "stfdcnn", DcstfnParams: "dcstfn", EdcstfnParams: "edcstfn", GanstfmParams: "ganstfm"}


def require_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError(
            f"the deep methods need PyTorch ({exc.name} is missing); install it with: pip install -e '.[torch]'"
        ) from None
    return torch


def builders() -> dict[str, Callable[..., Any]]:
    """Network builders by method name (imports torch)."""
    require_torch()
    from .nets.dcstfn import dcstfn
    from .nets.edcstfn import edcstfn
    from .nets.ganstfm import ganstfm
    from .nets.stfdcnn import stfdcnn

    return {"stfdcnn": stfdcnn, "dcstfn": dcstfn, "edcstfn": edcstfn, "ganstfm": ganstfm}


def build(method: str, bands: int, params: DeepParams, ratio: float | None) -> Any:
    """A new network for ``method`` with the parameters' architecture options."""
    make = builders()[method]
    if isinstance(params, StfdcnnParams):
        lsr = params.lsr_factor or max(1, int(round((ratio or 16) / 2)))
        return make(bands, lsr_factor=lsr)
    if isinstance(params, EdcstfnParams):
        return make(bands, alpha=params.alpha)
    if isinstance(params, GanstfmParams):
        return make(bands, adv_weight=params.adv_weight)
    return make(bands)


def _card(stacks: Sequence[DatedStack], pretrained: Sequence[DatedStack], params: DeepParams, result: Any) -> dict:
    from importlib.metadata import version

    import torch

    first = stacks[0]
    fine_mean = [float(np.mean([s.fine[:, b][s.mask].mean() for s in stacks])) for b in range(first.n_bands)]
    return {
        "bands": list(first.bands) if first.bands else None,
        "scale": first.scale,
        "ratio": first.ratio,
        "fine_mean": fine_mean,
        "training": params.training(),
        "scenes": [s.describe() for s in stacks],
        "pretrained_on": [s.describe() for s in pretrained],
        "validation": result.card(),
        "stfusion_version": version("stfusion"),
        "torch_version": str(torch.__version__),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _train_once(method: str, stacks: Sequence[DatedStack], params: DeepParams, *,
                pretrain_stacks: Sequence[DatedStack], pretrain_steps: int, log: Path | None,
                progress: bool) -> tuple[Any, Any, bool]:
    """One training run: the network, its `FitResult`, and whether the synthetic pretraining ran."""
    from .nets.fit import fit, seed_everything

    seed_everything(params.seed)  # the initial weights too
    net = build(method, stacks[0].n_bands, params, stacks[0].ratio)
    done_pretrain = False
    if pretrain_stacks and pretrain_steps:
        fit(net, pretrain_stacks, params, steps=pretrain_steps, progress=progress, desc=f"{method} synthetic")
        done_pretrain = True
    result = fit(net, stacks, params, pretrain=not done_pretrain, log=log, progress=progress,
                 desc=f"{method} training")
    return net, result, done_pretrain


def train_net(method: str, stacks: Sequence[DatedStack], params: DeepParams, *,
              pretrain_stacks: Sequence[DatedStack] = (), pretrain_steps: int = 0,
              log: str | os.PathLike[str] | None = None, progress: bool = True) -> tuple[Any, dict]:
    """Train a new ``method`` network: on ``pretrain_stacks`` for ``pretrain_steps`` (e.g. synthetic
    scenes), then on ``stacks``. Returns the network and its card.

    A run that diverges (`nets.fit.DIVERGENCE`) is restarted once with a quarter of the learning
    rate and the next seed; the better of the two runs on validation is kept, and the card's
    ``restart`` says why and with what.
    """
    import dataclasses

    if not stacks:
        raise MissingInputError("no training scenes given")
    first = stacks[0]
    for s in list(stacks[1:]) + list(pretrain_stacks):
        if s.n_bands != first.n_bands:
            raise InvalidParameterError(f"training scenes {first.name!r} and {s.name!r} have different band counts")
    kw = {"pretrain_stacks": pretrain_stacks, "pretrain_steps": pretrain_steps, "progress": progress,
          "log": Path(log) if log else None}
    net, result, done_pretrain = _train_once(method, stacks, params, **kw)
    restart = None
    if result.diverged:
        retry = dataclasses.replace(params, lr=params.lr / 4, seed=params.seed + 1)
        again = _train_once(method, stacks, retry, **kw)
        restart = {"reason": result.diverged, "lr": retry.lr, "seed": retry.seed, "val_mse": again[1].best_val_mse,
                   "diverged_again": again[1].diverged or None, "kept": "restart"}
        if again[1].best_val_mse <= result.best_val_mse or not np.isfinite(result.best_val_mse):
            net, result, done_pretrain = again
        else:
            restart["kept"] = "first run"
    card = _card(stacks, pretrain_stacks if done_pretrain else (), params, result)
    if result.baseline_mse is not None:
        card["validation"]["beats_delta"] = bool(result.best_val_mse <= result.baseline_mse)
    if restart is not None:
        card["restart"] = restart
    return net, card


def train(method: str, stacks: Sequence[DatedStack], params: DeepParams, out: str | os.PathLike[str], **kw: Any) -> dict:
    """`train_net`, then save the checkpoint at ``out`` (plus ``out.json``); returns the card."""
    from .nets.checkpoint import save_checkpoint

    net, card = train_net(method, stacks, params, **kw)
    save_checkpoint(net, card, out)
    return {"method": method, **card}


def _choose_refs(task: FusionTask, n: int) -> list[int]:
    """Indexes of the ``n`` pairs to use: nearest in time (for two, one on each side when possible)."""
    from stfusion.core.block import pair_days

    days = pair_days(task)
    order = list(range(len(task.pairs))) if days is None else sorted(range(len(days)), key=lambda i: abs(days[i]))
    if n == 2 and days is not None:
        before = [i for i in order if days[i] <= 0]
        after = [i for i in order if days[i] > 0]
        if before and after:
            return [before[0], after[0]]
    return order[:n]


def _central(scene: Scene, rows: slice, cols: slice) -> Scene:
    """``scene`` cut to ``[rows, cols]`` (in memory), with its transform moved to the window."""
    a, b, c, d, e, f = scene.transform
    transform = (a, b, c + a * cols.start + b * rows.start, d, e, f + d * cols.start + e * rows.start)
    return scene.replace(data=np.asarray(scene.data[:, rows, cols]), mask=np.asarray(scene.mask[rows, cols]),
                         transform=transform)


def _training_task(task: FusionTask) -> FusionTask:
    """The task's central window of at most `TRAIN_FINE` pixels a side, read into memory."""
    h, w = task.fine_grid.height, task.fine_grid.width
    rh, rw = min(h, TRAIN_FINE), min(w, TRAIN_FINE)
    rows, cols = slice((h - rh) // 2, (h - rh) // 2 + rh), slice((w - rw) // 2, (w - rw) // 2 + rw)
    pairs = [Pair(_central(p.fine, rows, cols), _central(p.coarse, rows, cols)) for p in task.pairs]
    return FusionTask(pairs, _central(task.target, rows, cols), ratio=task.ratio)


def _training_stacks(task: FusionTask, seed: int) -> list[DatedStack]:
    stack = stack_from_pairs(_training_task(task).pairs, ratio=task.ratio)
    return [stack if len(task.pairs) >= 2 else simulate_change(stack, seed=seed)]


def _verdict(method: str, card: dict, fallback: str) -> str:
    """Report in one line how the fitted network did against delta on validation; the estimate
    to return ("network" or "delta")."""
    v = card["validation"]
    restarted = f" (restarted once: {card['restart']['reason']})" if "restart" in card else ""
    if v["delta_val_mse"] is None:
        warnings.warn(f"{method}: no held-out validation data to compare with delta{restarted}; "
                      "returning the network's prediction unchecked", ResponseWarning, stacklevel=4)
        return "network"
    mine, theirs = float(np.sqrt(v["val_mse"])), float(np.sqrt(v["delta_val_mse"]))
    scores = f"validation RMSE {mine:.4g} against delta's {theirs:.4g} ({v['validation']}){restarted}"
    if mine <= theirs:
        warnings.warn(f"{method} {scores}; returning the network's prediction", FitReport, stacklevel=4)
        return "network"
    returned = "delta" if fallback == "delta" else "network"
    advice = "set fallback=none to keep the network's" if returned == "delta" else "set fallback=delta to get delta's"
    warnings.warn(f"{method} loses to delta: {scores}; returning {returned}'s prediction ({advice})",
                  ResponseWarning, stacklevel=4)
    return returned


@dataclass(frozen=True)
class DeepStats:
    """What a deep run computes once: the network (None when delta is ``returned``), the chosen
    reference pairs ``refs``, the block ``halo`` and input ``multiple`` of the network (fine
    pixels), the device, and delta's time weights (the fallback)."""

    net: Any
    returned: str
    refs: list[int]
    halo: int
    multiple: int
    device: Any
    delta: np.ndarray


def stats(task: FusionTask, params: DeepParams, *, progress: bool = True) -> DeepStats:
    """Load or train (``fit=True``, on the central training window, judged against delta on
    validation) the network, and choose its reference pairs."""
    from ..baselines import stats as delta_stats
    from .nets.checkpoint import check_fits, load_checkpoint
    from .nets.fit import device_of

    require_torch()
    method = METHOD_OF[type(params)]
    task.require_fine_grid(method)
    grid = task.fine_grid
    weights = delta_stats(task, DeltaParams())
    if params.checkpoint:
        net, card = load_checkpoint(params.checkpoint, builders(), method)
        window = _training_task(task)
        valid = [np.asarray(p.fine.data)[:, p.fine.mask] for p in window.pairs]
        check_fits(card, bands=grid.bands, n_bands=grid.count, ratio=task.ratio,
                   fine_mean=np.mean(np.concatenate(valid, 1), 1) if all(v.size for v in valid) else None,
                   where=f"{method} checkpoint {params.checkpoint}")
    elif params.fit:
        net, card = train_net(method, _training_stacks(task, params.seed), params, progress=progress)
        if _verdict(method, card, params.fallback) == "delta":
            return DeepStats(None, "delta", [], 0, 1, None, weights)
    else:
        raise MissingWeightsError(f"{method} needs trained weights: give checkpoint=CKPT (from `stfusion train "
                                  f"{method}`) or fit=True to train on the given pairs")
    n = max(r for r in net.info.refs if r <= len(task.pairs))
    if params.refs:
        if params.refs not in net.info.refs:
            raise InvalidParameterError(f"{method} takes {' or '.join(map(str, net.info.refs))} references, not refs={params.refs}")
        n = min(params.refs, len(task.pairs))
    m = net.info.multiple
    device = device_of(params.device)
    net.to(device).eval()
    return DeepStats(net, "network", _choose_refs(task, n), -(-net.info.halo // m) * m, m, device, weights)


def predict_block(block: Block, stats: DeepStats, params: DeepParams) -> tuple[np.ndarray, np.ndarray]:
    """The network's prediction over the block (or delta's, when the network lost), NaN where invalid."""
    from ..baselines import predict_block as delta_block
    from .nets.tiling import predict_tiled

    if stats.returned == "delta":
        data, mask = delta_block(block, stats.delta, DeltaParams())
        return np.where(mask, data, np.nan).astype(np.float32), mask

    def filled(data: np.ndarray, mask: np.ndarray, fallback: np.ndarray, fallback_mask: np.ndarray) -> np.ndarray:
        return np.where(mask, data, np.where(fallback_mask, fallback, 0)).astype(np.float32)

    i = stats.refs
    pred = predict_tiled(stats.net, filled(block.target, block.target_mask, block.target, block.target_mask),
                         [filled(block.fine[k], block.fine_mask[k], block.coarse[k], block.coarse_mask[k]) for k in i],
                         [filled(block.coarse[k], block.coarse_mask[k], block.coarse[k], block.coarse_mask[k]) for k in i],
                         tile=params.tile, blend=params.blend, device=stats.device)
    mask = block.target_mask & np.logical_and.reduce([block.fine_mask[k] & block.coarse_mask[k] for k in i])
    return np.where(mask, pred, np.nan).astype(np.float32), mask


def predict(task: FusionTask, params: DeepParams, *, progress: bool = True) -> Scene:
    """Registry entry point: predict the task's target with the method of ``params``' type (the
    whole task as one block)."""
    st = stats(task, params, progress=progress)
    data, mask = predict_block(Block.from_task(task), st, params)
    return task.fine_grid.replace(data=data, mask=mask, date=task.target.date, name="")
