"""DC-STSF's entry points: `predict` (from a checkpoint, or after ``fit=True`` training on the task
itself by Wald's protocol) and `train_dcstsf` / `train` (to a checkpoint).

The network (`nets.dcstsf`) starts from the task's physics: the SRF (known, or estimated from
the data), the Gaussian PSF of the observation model, and the regression of the HS image on the
MS image; training then runs the shared loop (`nets.fit.train_loop`) on `nets.stsf_wald` samples.
Inference runs on the whole scene (STSF scenes are small: one HS acquisition).
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from stfusion import __version__
from stfusion.core.errors import CheckpointError, FitReport, ResponseWarning, UnknownParameterError
from stfusion.core.params.stsf import DCSTSF_STARTS, DcstsfParams
from stfusion.core.scene import Scene
from stfusion.core.task import STSFTask

from ..classical.gsa import hypersharpen
from ..classical.stsf_cascade import add_change
from ..classical.stsf_ops import Inputs, output_scene, prepare, regress_bands
from .run import require_torch

VALIDATION_SAMPLES = 4


def build(x: Inputs, params: DcstsfParams) -> Any:
    from .nets.dcstsf import dcstsf

    return dcstsf(x.hs.shape[0], x.ms.shape[0], x.ratio, max(k.size for k in x.kernel), stages=params.stages, width=params.width,
                  blocks=params.blocks, seu=params.seu, ecu=params.ecu, sftn=params.sftn, insertion=params.insertion,
                  lambda_t1=params.lambda_t1, lambda_sam=params.lambda_sam, lambda_ms=params.lambda_ms)


def _check(params: DcstsfParams) -> None:
    if params.start not in DCSTSF_STARTS:
        raise UnknownParameterError(f"dcstsf start {params.start!r} is unknown; use one of: {', '.join(DCSTSF_STARTS)}")


def _scores(z: Any, truth: Any) -> dict[str, float]:
    """RMSE and mean SAM (degrees) of a (N, B, H, W) estimate."""
    from .nets.dcstsf import spectral_angle

    return {"rmse": float(((z - truth) ** 2).mean().sqrt()), "sam": float(spectral_angle(z, truth)) * 180 / np.pi}


def _fit_start(x: Inputs, data: Any, params: DcstsfParams, start: str, *, progress: bool,
               log: str | os.PathLike[str] | None) -> tuple[Any, Any, dict[str, float], dict[str, float]]:
    """Train from one SSJE ``start``: the network, its `FitResult`, and its and the classical
    estimate's validation scores (`_scores`) on the held-out rows."""
    import dataclasses
    from pathlib import Path

    torch = require_torch()
    from .nets.fit import device_of, seed_everything, train_loop

    data = data if start == "gsa" else dataclasses.replace(data, start=None)
    seed_everything(params.seed)
    net = build(x, params)
    net.initialise(x.srf, x.kernel, regress_bands(x.hs, x.degrade(x.ms)), x.response.offset,
                   back_projection=start == "bicubic")
    device = device_of(params.device)
    net.to(device)
    rng = np.random.default_rng(params.seed)
    val, classical_z1, classical_z2 = data.validation(VALIDATION_SAMPLES, params.seed + 1_000_003)
    val = val.to(device)
    at_t2 = x.ms_target is not None
    truth, classical = ((val.z2, classical_z2) if at_t2 else (val.z1, classical_z1))
    truth = truth.cpu()

    @torch.no_grad()
    def estimate() -> Any:
        net.eval()
        z1, z2 = net(val.hs, val.ms1, val.ms2, val.z0)
        net.train()
        return (z2 if at_t2 else z1).cpu()

    def validation() -> float:
        return float(torch.mean((estimate() - truth) ** 2))

    net.train()
    result = train_loop(net, lambda: data.sample(params.batch, params.patch, rng).to(device), validation, params,
                        steps=params.steps, log=Path(log) if log else None, progress=progress,
                        desc=f"dcstsf training (start {start})", validate_first=True,
                        validation_kind="held-out rows of the reduced pair, simulated second dates")
    return net, result, _scores(estimate(), truth), _scores(classical, truth)


TIE = 1e-6
"""Relative RMSE difference below float32 resolution: a tie, which the network keeps (it then
equals its classical start, computed in float32 instead of float64)."""


def train_dcstsf(task: STSFTask, params: DcstsfParams, *, progress: bool = True,
                 log: str | os.PathLike[str] | None = None) -> tuple[Any, dict]:
    """A DC-STSF network trained on ``task`` at reduced scale (`nets.stsf_wald`), and its card.

    ``start="auto"`` trains from both SSJE starts and keeps the one better on validation (the
    card's ``start`` and ``starts``). The card's ``competition`` holds the network's and the
    classical estimate's validation scores on the held-out rows (GSA for a task without
    ``ms_target``, the cascade with one) and the winner.
    """
    from .nets.stsf_wald import WaldSet

    _check(params)
    x = prepare(task, params.psf_fwhm)
    data = WaldSet.from_inputs(x, x.srf)
    starts = ("gsa", "bicubic") if params.start == "auto" else (params.start,)
    fits = {start: _fit_start(x, data, params, start, progress=progress, log=log) for start in starts}
    start = min(fits, key=lambda k: fits[k][2]["rmse"])
    net, result, mine, theirs = fits[start]
    rival = "cascade" if x.ms_target is not None else "gsa"
    competition = {"network": mine, rival: theirs, "rival": rival,
                   "winner": "network" if mine["rmse"] <= theirs["rmse"] * (1 + TIE) else rival,
                   "held_out_rows": int(data.z1.shape[1] - data.split) if data.split < data.z1.shape[1] else 0}
    card = {
        "hs_bands": list(task.hs.bands or ()), "ms_bands": list(task.ms.bands or ()), "ratio": x.ratio,
        "hs_mean": [float(v) for v in x.hs.mean(axis=(1, 2))],
        "trained_on": {"hs": task.hs.label, "ms": task.ms.label, "protocol": "Wald reduced scale",
                       "reduced_hs_shape": list(data.hs.shape), "srf": "given" if task.srf is not None else "estimated",
                       "srf_r2": [float(v) for v in x.response.r2], "ms_gain": [float(v) for v in x.response.gain],
                       "ms_offset": [float(v) for v in x.response.offset],
                       "psf": {"fwhm": x.psf.fwhm, "dy": x.psf.dy, "dx": x.psf.dx}},
        "params": {k: v for k, v in vars(params).items() if k not in ("checkpoint", "fit")},
        "validation": result.card(), "competition": competition, "start": start,
        "starts": {k: v[2] for k, v in fits.items()}, "version": __version__,
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


def _report(competition: dict, fallback: str) -> str:
    """The one-line verdict of the validation competition; the name of the estimate returned."""
    rival, mine = competition["rival"], competition["network"]
    theirs = competition[rival]
    where = "held-out rows of the reduced pair" if competition["held_out_rows"] else "reduced pair (too small to hold rows out)"
    scores = (f"network RMSE {mine['rmse']:.4g}, SAM {mine['sam']:.3g} deg; {rival} RMSE {theirs['rmse']:.4g}, "
              f"SAM {theirs['sam']:.3g} deg")
    if competition["winner"] == "network":
        warnings.warn(f"dcstsf validation on the {where}: {scores}; returning the network's estimate", FitReport,
                      stacklevel=3)
        return "network"
    returned = rival if fallback == "classical" else "network"
    advice = "set fallback=none to keep the network's" if returned == rival else "set fallback=classical to get it"
    warnings.warn(f"dcstsf loses to {rival} on the {where} ({scores}); returning the "
                  f"{'classical' if returned == rival else 'network'} estimate ({advice})", ResponseWarning, stacklevel=3)
    return returned


def predict(task: STSFTask, params: DcstsfParams, *, progress: bool = True) -> Scene:
    """Registry entry point: the fine HS image at the task's MS target date (t1 without one).

    With ``fit=True`` the network competes with the classical estimate on validation, and
    ``params.fallback`` decides what a loss returns (see `DcstsfParams`).
    """
    torch = require_torch()
    from .nets.checkpoint import load_checkpoint
    from .nets.dcstsf import dcstsf
    from .nets.fit import device_of

    _check(params)
    x = prepare(task, params.psf_fwhm)
    returned = "network"
    if params.checkpoint:
        net, card = load_checkpoint(params.checkpoint, {"dcstsf": dcstsf}, "dcstsf")
        _check_card(card, task, x, f"dcstsf checkpoint {params.checkpoint}")
    elif params.fit:
        net, card = train_dcstsf(task, params, progress=progress)
        returned = _report(card["competition"], params.fallback)
    else:
        raise UnknownParameterError("dcstsf needs trained weights: give checkpoint=CKPT (from `stfusion train dcstsf`) "
                                    "or fit=true to train on the given images (CLI: --checkpoint or --fit)")
    start = card.get("start", "bicubic")  # the start it was trained from (older checkpoints: the paper's)
    gsa = hypersharpen(x, x.ms) if returned != "network" or start == "gsa" else None
    if returned != "network":
        out = add_change(x, gsa, x.ms_target)
    else:
        device = device_of(params.device)
        net.to(device).eval()

        def t(a: np.ndarray | None) -> Any:
            return None if a is None else torch.from_numpy(a[None].astype(np.float32)).to(device)

        with torch.no_grad():
            z1, z2 = net(t(x.hs), t(x.ms), t(x.ms_target), t(gsa))
        out = (z1 if z2 is None else z2)[0].cpu().numpy()
    return output_scene(task, np.where(x.mask, out, np.nan), x.mask, "dcstsf")
