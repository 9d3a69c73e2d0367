"""DC-STSF's entry points: `predict` (from a checkpoint, or after ``fit=True`` training on the task
itself by Wald's protocol) and `train_dcstsf` / `train` (to a checkpoint).

The network (`nets.dcstsf`) starts from the task's physics: the SRF (known, or estimated from
the data), the Gaussian PSF of the observation model, and the regression of the HS image on the
MS image; training then runs the shared loop (`nets.fit.train_loop`) on `nets.stsf_wald` samples.
Inference runs on the whole scene (STSF scenes are small: one HS acquisition).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from stfusion import __version__
from stfusion.core.errors import CheckpointError, UnknownParameterError
from stfusion.core.params.stsf import DcstsfParams
from stfusion.core.scene import Scene
from stfusion.core.task import STSFTask

from ..classical.stsf_ops import Inputs, output_scene, prepare, regress_bands
from .run import require_torch

VALIDATION_SAMPLES = 4


def build(x: Inputs, params: DcstsfParams) -> Any:
    from .nets.dcstsf import dcstsf

    return dcstsf(x.hs.shape[0], x.ms.shape[0], x.ratio, max(k.size for k in x.kernel), stages=params.stages, width=params.width,
                  blocks=params.blocks, seu=params.seu, ecu=params.ecu, sftn=params.sftn, insertion=params.insertion,
                  lambda_t1=params.lambda_t1, lambda_sam=params.lambda_sam, lambda_ms=params.lambda_ms)


def train_dcstsf(task: STSFTask, params: DcstsfParams, *, progress: bool = True,
                 log: str | os.PathLike[str] | None = None) -> tuple[Any, dict]:
    """A DC-STSF network trained on ``task`` at reduced scale (`nets.stsf_wald`), and its card."""
    torch = require_torch()
    from pathlib import Path

    from .nets.fit import device_of, seed_everything, train_loop
    from .nets.stsf_wald import WaldSet

    x = prepare(task, params.psf_fwhm)
    srf = x.srf
    data = WaldSet.from_inputs(x, srf)
    seed_everything(params.seed)
    net = build(x, params)
    net.initialise(srf, x.kernel, regress_bands(x.hs, x.degrade(x.ms)), x.response.offset)
    device = device_of(params.device)
    net.to(device)
    rng = np.random.default_rng(params.seed)
    val = data.validation(VALIDATION_SAMPLES, params.seed + 1_000_003).to(device)

    @torch.no_grad()
    def validation() -> float:
        net.eval()
        _, z2 = net(val.hs, val.ms1, val.ms2)
        net.train()
        return float(torch.mean((z2 - val.z2) ** 2))

    net.train()
    result = train_loop(net, lambda: data.sample(params.batch, params.patch, rng).to(device), validation, params,
                        steps=params.steps, log=Path(log) if log else None, progress=progress,
                        desc="dcstsf training", validation_kind="simulated second dates on the training scene")
    card = {
        "hs_bands": list(task.hs.bands or ()), "ms_bands": list(task.ms.bands or ()), "ratio": x.ratio,
        "hs_mean": [float(v) for v in x.hs.mean(axis=(1, 2))],
        "trained_on": {"hs": task.hs.label, "ms": task.ms.label, "protocol": "Wald reduced scale",
                       "reduced_hs_shape": list(data.hs.shape), "srf": "given" if task.srf is not None else "estimated",
                       "srf_r2": [float(v) for v in x.response.r2], "ms_gain": [float(v) for v in x.response.gain],
                       "ms_offset": [float(v) for v in x.response.offset],
                       "psf": {"fwhm": x.psf.fwhm, "dy": x.psf.dy, "dx": x.psf.dx}},
        "params": {k: v for k, v in vars(params).items() if k not in ("checkpoint", "fit")},
        "validation": result.card(), "version": __version__,
    }
    return net, card


def train(task: STSFTask, params: DcstsfParams, out: str | os.PathLike[str], **kw: Any) -> dict:
    """`train_dcstsf`, then save the checkpoint at ``out`` (plus ``out.json``); returns the card."""
    from .nets.checkpoint import save_checkpoint

    net, card = train_dcstsf(task, params, **kw)
    save_checkpoint(net, card, out)
    return {"method": "dcstsf", **card}


def _check_card(card: dict, task: STSFTask, x: Inputs, where: str) -> None:
    config = card["config"]
    for what, have, want in (("HS", x.hs.shape[0], config["hs_bands"]), ("MS", x.ms.shape[0], config["ms_bands"])):
        if have != want:
            raise CheckpointError(f"{where}: trained on {want} {what} bands but the input has {have}; "
                                  "give the bands it was trained on, or use --fit")
    if config["ratio"] != x.ratio:
        raise CheckpointError(f"{where}: trained at ratio {config['ratio']} but the input's is {x.ratio}; "
                              "train for this ratio or use --fit")
    a, b = float(np.mean(card.get("hs_mean") or [0])), float(x.hs.mean())
    if a > 0 and b > 0 and not 0.1 <= b / a <= 10:
        raise CheckpointError(f"{where}: the input's mean HS reflectance {b:.4g} is far from the training data's {a:.4g}; "
                              "give reflectance in the same units")


def predict(task: STSFTask, params: DcstsfParams, *, progress: bool = True) -> Scene:
    """Registry entry point: the fine HS image at the task's MS target date (t1 without one)."""
    torch = require_torch()
    from .nets.checkpoint import load_checkpoint
    from .nets.dcstsf import dcstsf
    from .nets.fit import device_of

    x = prepare(task, params.psf_fwhm)
    if params.checkpoint:
        net, card = load_checkpoint(params.checkpoint, {"dcstsf": dcstsf}, "dcstsf")
        _check_card(card, task, x, f"dcstsf checkpoint {params.checkpoint}")
    elif params.fit:
        net, _ = train_dcstsf(task, params, progress=progress)
    else:
        raise UnknownParameterError("dcstsf needs trained weights: give checkpoint=CKPT (from `stfusion train dcstsf`) "
                                    "or fit=true to train on the given images (CLI: --checkpoint or --fit)")
    device = device_of(params.device)
    net.to(device).eval()

    def t(a: np.ndarray) -> Any:
        return torch.from_numpy(a[None].astype(np.float32)).to(device)

    with torch.no_grad():
        z1, z2 = net(t(x.hs), t(x.ms), None if x.ms_target is None else t(x.ms_target))
    out = (z1 if z2 is None else z2)[0].cpu().numpy()
    return output_scene(task, np.where(x.mask, out, np.nan), x.mask, "dcstsf")
