"""Self-supervised training of the embedding model on d-pixels, and inference to embedding maps.

Training follows TESSERA's recipe (our notes §1.7-1.11): two sparse temporal samples per pixel
(`stfusion.embed.sampling`) are the two views; the loss is Barlow Twins (λ = 5e-3) plus the
mixing regulariser L_MIX (α ~ Beta(1, 1), both sensors mixed, the day channel kept from view A,
unlike the reference code that mixes it too); AdamW (weight decay 1e-6) with weights at 0.2 ×
and biases/norms at 0.0048 × the base rate, linear warm-up over 10 % of the steps then cosine
decay to 0, gradients clipped at norm 2. The d-pixels are shuffled globally by one seeded
permutation per epoch, so no batch holds one neighbourhood. ``qat=True`` fake-quantises the
embedding per pixel (int8, straight-through) before the projector. Inputs are standardised per
band with statistics of the training d-pixels, stored with the model.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from stfusion.core.atomic import atomic_write
from stfusion.core.dpixel import DPixels

from ..config import EmbedConfig
from ..sampling import sample_indices
from .model import EmbeddingModel, barlow_twins, mix_regulariser


@dataclass
class Standardiser:
    """Per-sensor, per-band mean and std of the valid observations."""

    stats: dict[str, tuple[list[float], list[float]]]

    @classmethod
    def fit(cls, dp: DPixels) -> "Standardiser":
        out = {}
        for name, s in dp.sensors.items():
            obs = s.values[s.valid]
            out[name] = (obs.mean(0).tolist(), np.maximum(obs.std(0), 1e-6).tolist())
        return cls(out)

    def apply(self, name: str, values: np.ndarray) -> np.ndarray:
        mean, std = (np.asarray(v, dtype=np.float32) for v in self.stats[name])
        return (values - mean) / std


def views(dp: DPixels, pixels: np.ndarray, std: Standardiser, samples: int, rng: np.random.Generator,
          device: torch.device) -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor]], np.ndarray]:
    """One sparse temporal sample of each sensor for ``pixels``, as model inputs, and the any-valid flag."""
    out, ok = {}, np.ones(pixels.size, bool)
    for name, s in dp.sensors.items():
        idx, has = sample_indices(s.valid[pixels], samples, rng)
        x = np.take_along_axis(s.values[pixels], idx[..., None], axis=1)
        d = np.take_along_axis(s.doy_of(pixels), idx, axis=1)
        out[name] = (torch.from_numpy(std.apply(name, x)).to(device), torch.from_numpy(d).to(device))
        ok &= has
    return out, ok


class FakeQuantise(torch.autograd.Function):
    """Symmetric int8 quantisation with one scale per row; gradients pass straight through."""

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor) -> torch.Tensor:
        scale = z.detach().abs().amax(dim=1, keepdim=True).clamp_min(1e-8) / 127
        return torch.clamp(torch.round(z / scale), -128, 127) * scale

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad


def _optimiser(model: EmbeddingModel, lr: float) -> torch.optim.Optimizer:
    weights = [p for p in model.parameters() if p.ndim > 1]
    others = [p for p in model.parameters() if p.ndim <= 1]
    return torch.optim.AdamW([{"params": weights, "lr": 0.2 * lr}, {"params": others, "lr": 0.0048 * lr}],
                             weight_decay=1e-6)


def _schedule(step: int, steps: int, warmup: float = 0.1) -> float:
    w = max(1, int(warmup * steps))
    return (step + 1) / w if step < w else 0.5 * (1 + math.cos(math.pi * (step - w) / max(1, steps - w)))


def fit_embedding(dp: DPixels, cfg: EmbedConfig, *, steps: int, batch: int = 256, lr: float = 1e-2, seed: int = 0,
                  mix: bool = True, qat: bool = False, device: str = "cpu", progress: bool = True,
                  state: Any = None, every: int = 100
                  ) -> tuple[EmbeddingModel, Standardiser, list[dict[str, float]]]:
    """Train a new model of shape ``cfg`` on ``dp`` for ``steps`` steps; returns it, its input
    standardiser and the per-step losses. With ``state`` (a path) the training state is written
    there every ``every`` steps, and a run started with the same data and options resumes from it
    (`stfusion.embed.nets.train_state`); the caller deletes it once the model is saved."""
    from tqdm.auto import tqdm

    from .train_state import load_state, restore, run_key, save_state

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dev = torch.device(device)
    std = Standardiser.fit(dp)
    model = EmbeddingModel(cfg).to(dev)
    opt = _optimiser(model, lr)
    base = [g["lr"] for g in opt.param_groups]
    usable = np.flatnonzero(dp.any_valid)
    order, cursor = rng.permutation(usable), 0
    history: list[dict[str, float]] = []
    start = 0
    if state is not None:
        key = run_key(dp, {"cfg": asdict(cfg), "steps": steps, "batch": batch, "lr": lr, "seed": seed, "mix": mix,
                           "qat": qat})
        blob = load_state(state, key)
        if blob is not None:
            start, order, cursor, history = restore(blob, model, opt, rng)
    model.train()
    for step in tqdm(range(start, steps), desc="embedding training", initial=start, total=steps,
                     disable=not progress):
        if cursor + batch > order.size:
            order, cursor = rng.permutation(usable), 0
        pix = order[cursor:cursor + batch]
        cursor += batch
        a, _ = views(dp, pix, std, cfg.samples, rng, dev)
        b, _ = views(dp, pix, std, cfg.samples, rng, dev)
        quant = FakeQuantise.apply if qat else (lambda z: z)
        z1, z2 = model.projector(quant(model(a))), model.projector(quant(model(b)))
        loss_bt = barlow_twins(z1, z2)
        loss = loss_bt
        row = {"step": step + 1, "bt": float(loss_bt.detach())}
        if mix:
            alpha = float(rng.beta(1.0, 1.0))
            perm = torch.from_numpy(rng.permutation(pix.size)).to(dev)
            mixed = {k: (alpha * a[k][0] + (1 - alpha) * b[k][0][perm], a[k][1]) for k in a}
            zm = model.projector(quant(model(mixed)))
            loss_mix = mix_regulariser(zm, z1, z2, alpha, perm)
            loss = loss + loss_mix
            row["mix"] = float(loss_mix.detach())
        for g, lr0 in zip(opt.param_groups, base):
            g["lr"] = lr0 * _schedule(step, steps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        opt.step()
        row["loss"] = float(loss.detach())
        history.append(row)
        if state is not None and (step + 1) % every == 0 and step + 1 < steps:
            save_state(state, key, step + 1, model, opt, rng, order, cursor, history)
    model.eval()
    return model, std, history


def embed(model: EmbeddingModel, std: Standardiser, dp: DPixels, *, batch: int = 4096, seed: int = 0,
          draws: int = 1, device: str = "cpu", progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(N, latent) float32 embeddings of every pixel (the mean of ``draws`` seeded sample draws; TESSERA's
    released maps use one), and the (N,) valid flag;
    pixels without a valid observation of every sensor get zeros and False. Each grid row is sampled
    by its own generator seeded by (seed, row) and the model reads whole rows, so the tiled inference
    of `stfusion.embed.tiles` gives the same values (see there)."""
    from tqdm.auto import tqdm

    from ..tiles import embed_rows, n_rows

    rows = n_rows(dp)
    with tqdm(total=rows, desc="embedding", unit="row", disable=not progress) as bar:
        return embed_rows(model, std, dp, 0, rows, batch=batch, seed=seed, draws=draws, device=device,
                          bar=bar)


def save_model(model: EmbeddingModel, std: Standardiser, path: Any, card: dict | None = None) -> None:
    """Weights, shape, standardiser and ``card`` in one file (plain types: loads with weights_only=True)."""
    import json
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = json.loads(json.dumps({"config": asdict(model.cfg), "stats": std.stats, "card": card or {}}))
    with atomic_write(path) as f:
        torch.save({"state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "meta": meta}, f)


def load_model(path: Any) -> tuple[EmbeddingModel, Standardiser, dict]:
    """The model, standardiser and card saved by `save_model` (``weights_only=True``)."""
    from pathlib import Path

    from stfusion.core.errors import CheckpointError

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"embedding checkpoint {path} does not exist; train one with `stfusion embed train`")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        meta, state = blob["meta"], blob["state_dict"]
        c = meta["config"]
        cfg = EmbedConfig(**{**c, "sensors": tuple((s, int(b)) for s, b in c["sensors"])})
        model = EmbeddingModel(cfg)
        model.load_state_dict(state)
    except Exception as exc:  # truncated or foreign files raise many types
        raise CheckpointError(f"{path} is not a readable stfusion embedding checkpoint ({type(exc).__name__}); "
                              "retrain it") from None
    model.eval()
    return model, Standardiser({k: (list(m), list(s)) for k, (m, s) in meta["stats"].items()}), meta["card"]
