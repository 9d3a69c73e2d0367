"""`fit`: the one training loop of every deep STF network.

Seeded patches (`sampling`), optional pretraining of the loss network, Adam with a
reduce-on-plateau schedule (halving after two validations without improvement), validation
MSE on fixed held-out patches every ``val_every`` steps, early stopping after ``patience``
validations without improvement, and the best weights restored at the end. A tqdm bar shows
progress; every step goes to a CSV log when ``log`` is given. On CUDA the steps run in mixed
precision.
"""

from __future__ import annotations

import copy
import csv
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from stfusion.core.errors import InputError
from stfusion.core.params.deep import DeepParams
from stfusion.core.training import DatedStack

from .base import FusionNet, Precision, TrainableNet, masked_mse
from .sampling import PatchSampler, split_stacks, validation_batches


DIVERGENCE = 5.0
"""A validation MSE this many times its best so far (or a non-finite loss) stops a run as diverged."""


@dataclass
class FitResult:
    """What a training run did: steps run, best validation MSE and its step, the validation kind,
    the delta baseline's MSE on the same validation data (None without held-out data), and
    why the run was stopped as diverged ("" if it was not)."""

    steps: int
    best_val_mse: float
    best_step: int
    validation: str
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    baseline_mse: float | None = None
    diverged: str = ""

    def card(self) -> dict[str, object]:
        return {"steps_run": self.steps, "best_step": self.best_step, "val_mse": self.best_val_mse,
                "delta_val_mse": self.baseline_mse, "diverged": self.diverged or None,
                "validation": self.validation, "seconds": round(self.seconds, 1)}


def device_of(name: str) -> torch.device:
    """The torch device ``name``; a clear error when CUDA is asked for and absent."""
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device={name!r} but this torch has no CUDA device; use device='cpu'")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"device={name!r} but MPS is not available; use device='cpu'")
    return dev


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)


@torch.no_grad()
def validate(net: FusionNet, batches: Sequence, device: torch.device) -> float:
    """Mean masked MSE of one-reference predictions over the validation batches."""
    net.eval()
    total, count = 0.0, 0.0
    for b in batches:
        b = b.to(device)
        pred = net(b.coarse, b.fine_refs, b.coarse_refs)
        n = float(b.mask.sum()) * pred.shape[1]
        total += float(masked_mse(pred, b.fine, b.mask)) * n
        count += n
    net.train()
    return total / max(count, 1.0)


@torch.no_grad()
def validate_delta(batches: Sequence, device: torch.device) -> float:
    """Mean masked MSE of the delta baseline (fine_ref + coarse - coarse_ref) on the validation batches."""
    total, count = 0.0, 0.0
    for b in batches:
        b = b.to(device)
        pred = b.fine_refs[0] + b.coarse - b.coarse_refs[0]
        n = float(b.mask.sum()) * pred.shape[1]
        total += float(masked_mse(pred, b.fine, b.mask)) * n
        count += n
    return total / max(count, 1.0)


def fit(net: FusionNet, stacks: Sequence[DatedStack], params: DeepParams, *, steps: int | None = None,
        pretrain: bool = True, log: Path | None = None, progress: bool = True, desc: str = "") -> FitResult:
    """Train ``net`` in place on ``stacks`` with ``params``; see the module docstring.

    ``steps`` overrides ``params.steps`` (for a pretraining phase); ``pretrain=False`` skips the
    loss network's pretraining (already done in an earlier phase).
    """
    steps = params.steps if steps is None else steps
    device = device_of(params.device)
    seed_everything(params.seed)
    m = net.info.multiple
    patch = max(m, (params.patch // m) * m)
    split = split_stacks(stacks, patch)
    sampler = PatchSampler(stacks, split.train, net.info, patch, params.seed)
    val = validation_batches(stacks, split.val, patch, params.batch)
    net.to(device)
    net.train()
    if pretrain and params.pretrain_steps:
        net.pretrain(lambda n: tuple(t.to(device) for t in sampler.fine(n)), params.pretrain_steps,
                     seed=params.seed, progress=progress)
    result = train_loop(net, lambda: sampler.draw(params.batch).to(device),
                        (lambda: validate(net, val, device)) if val else None, params, steps=steps, log=log,
                        progress=progress, desc=desc or f"training {net.name}", validation_kind=split.how)
    if val:
        result.baseline_mse = validate_delta(val, device)
    return result


def train_loop(net: TrainableNet, draw: Callable[[], object], validation: Callable[[], float] | None,
               params: DeepParams, *, steps: int, log: Path | None, progress: bool, desc: str,
               validation_kind: str = "", validate_first: bool = False) -> FitResult:
    """The optimisation loop shared by every deep method (see the module docstring).

    ``net`` has ``optimisers(lr)`` and ``training_step(batch, opts, precision) -> loss parts``;
    ``draw()`` gives the next training batch on the device; ``validation()`` the validation MSE
    (None: the training MSE of the step is used). ``validate_first`` also validates the starting
    weights (step 0), so that a start that training cannot improve on is what is kept. A
    non-finite loss, or a validation MSE `DIVERGENCE` times its best, stops the run as diverged
    (``FitResult.diverged`` says why; the best weights are still restored).
    """
    from tqdm.auto import tqdm

    device = device_of(params.device)
    opts = net.optimisers(params.lr)
    schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(opts["net"], factor=0.5, patience=2)
    precision = Precision(device)
    best, best_step, best_state, bad, diverged = float("inf"), 0, None, 0, ""
    history: list[dict[str, float]] = []
    start = time.perf_counter()
    writer, handle = None, None
    if log is not None:
        handle = open(log, "w", newline="")
    if validate_first and validation is not None:
        best = validation()
        best_state = copy.deepcopy({k: t.detach().cpu() for k, t in net.state_dict().items()})
        net.train()
    try:
        bar = tqdm(range(1, steps + 1), desc=desc, disable=not progress)
        for step in bar:
            parts = net.training_step(draw(), opts, precision)
            row: dict[str, float] = {"step": step, "lr": opts["net"].param_groups[0]["lr"], **parts}
            if not all(np.isfinite(float(v)) for v in parts.values()):
                diverged = f"non-finite loss at step {step}"
            elif step % params.val_every == 0 or step == steps:
                v = validation() if validation is not None else float(parts.get("mse", 0.0))
                row["val_mse"] = v
                if not np.isfinite(v) or (validation is not None and v > DIVERGENCE * best):
                    diverged = f"validation MSE {v:.3g} at step {step}, more than {DIVERGENCE:g} x its best {best:.3g}"
                schedule.step(v)
                if v < best:
                    best, best_step, bad = v, step, 0
                    best_state = copy.deepcopy({k: t.detach().cpu() for k, t in net.state_dict().items()})
                else:
                    bad += 1
                bar.set_postfix(val_mse=f"{v:.3g}")
            history.append(row)
            if handle is not None:
                if writer is None:
                    writer = csv.DictWriter(handle, fieldnames=list(row) + ["val_mse"] * ("val_mse" not in row),
                                            extrasaction="ignore")
                    writer.writeheader()
                writer.writerow(row)
            if bad >= params.patience or diverged:
                break
    finally:
        if handle is not None:
            handle.close()
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return FitResult(len(history), best, best_step, validation_kind, time.perf_counter() - start, history,
                     diverged=diverged)
