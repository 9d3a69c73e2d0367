"""The deep methods' entry points: `predict` (from a checkpoint, or after ``fit=True`` training on
the task's own pairs) and `train` (from training stacks, to a checkpoint).

Torch is imported inside the functions (the networks are in `nets/`), so the registry and the
CLI work without the ``torch`` extra and say how to install it.
"""

from __future__ import annotations

import datetime as _dt
import os
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from stfusion.core.errors import FitReport, MissingDependencyError, ResponseWarning, UnknownParameterError
from stfusion.core.params.deep import DcstfnParams, DeepParams, EdcstfnParams, GanstfmParams, StfdcnnParams
from stfusion.core.scene import Scene
from stfusion.core.task import FusionTask
from stfusion.core.training import DatedStack, simulate_change, stack_from_pairs


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
        raise UnknownParameterError("no training scenes given")
    first = stacks[0]
    for s in list(stacks[1:]) + list(pretrain_stacks):
        if s.n_bands != first.n_bands:
            raise UnknownParameterError(f"training scenes {first.name!r} and {s.name!r} have different band counts")
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


def _training_stacks(task: FusionTask, seed: int) -> list[DatedStack]:
    stack = stack_from_pairs(task.pairs, ratio=task.ratio)
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


def predict(task: FusionTask, params: DeepParams, *, progress: bool = True) -> Scene:
    """Registry entry point: predict the task's target with the method of ``params``' type."""
    from .nets.checkpoint import check_fits, load_checkpoint
    from .nets.fit import device_of
    from .nets.tiling import predict_tiled

    require_torch()
    method = METHOD_OF[type(params)]
    task.require_fine_grid(method)
    grid = task.fine_grid
    if params.checkpoint:
        net, card = load_checkpoint(params.checkpoint, builders(), method)
        valid = [p.fine.data[:, p.fine.mask] for p in task.pairs]
        check_fits(card, bands=grid.bands, n_bands=grid.count, ratio=task.ratio,
                   fine_mean=np.mean(np.concatenate(valid, 1), 1) if all(v.size for v in valid) else None,
                   where=f"{method} checkpoint {params.checkpoint}")
    elif params.fit:
        net, card = train_net(method, _training_stacks(task, params.seed), params, progress=progress)
        if _verdict(method, card, params.fallback) == "delta":
            from ..baselines import delta

            return delta(task)
    else:
        raise UnknownParameterError(f"{method} needs trained weights: give checkpoint=CKPT (from `stfusion train "
                                    f"{method}`) or fit=true to train on the given pairs (CLI: --checkpoint or --fit)")
    n = max(r for r in net.info.refs if r <= len(task.pairs))
    if params.refs:
        if params.refs not in net.info.refs:
            raise UnknownParameterError(f"{method} takes {' or '.join(map(str, net.info.refs))} references, not refs={params.refs}")
        n = min(params.refs, len(task.pairs))
    chosen = [task.pairs[i] for i in _choose_refs(task, n)]
    target = task.target

    def filled(scene: Scene, fallback: Scene) -> np.ndarray:
        return np.where(scene.mask, scene.data, np.where(fallback.mask, fallback.data, 0)).astype(np.float32)

    pred = predict_tiled(net, filled(target, target), [filled(p.fine, p.coarse) for p in chosen],
                         [filled(p.coarse, p.coarse) for p in chosen], tile=params.tile, blend=params.blend,
                         device=device_of(params.device), progress=progress)
    mask = target.mask & np.logical_and.reduce([p.fine.mask & p.coarse.mask for p in chosen])
    return grid.replace(data=np.where(mask, pred, np.nan).astype(np.float32), mask=mask, date=target.date, name="")
