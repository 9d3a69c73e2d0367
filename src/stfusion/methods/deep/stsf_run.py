"""DC-STSF's entry points: `predict` (from a checkpoint, or after ``fit=True`` training on the task
itself by Wald's protocol), `train_dcstsf` / `train` (to a checkpoint), and the block-wise pair
`stats` / `predict_block` that streams whole scenes (`stfusion stsf dcstsf --chunk N`).

The network (`nets.dcstsf`) starts from the task's physics: the SRF (known, or estimated from
the data), the Gaussian PSF of the observation model, and the regression of the HS image on the
MS image; training then runs the shared loop (`nets.fit.train_loop`) on `nets.stsf_wald` samples
of the central training window (`TRAIN_FINE`; the whole task when it is smaller). Inference runs
block by block: each block gives the network context beyond GSA's halo (`dcstsf_halo`), whose
output is dropped; the whole task in memory is one block.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from stfusion import __version__
from dataclasses import dataclass

from stfusion.core.errors import CheckpointError, FitReport, MissingWeightsError, ResponseWarning, UnknownParameterError
from stfusion.core.params.stsf import CUBIC_HALO, DCSTSF_STARTS, DcstsfParams
from stfusion.core.scene import Scene
from stfusion.core.stsf_block import StsfBlock, StsfSource
from stfusion.core.task import STSFTask

from ..classical.stsf_blocks import StsfStats, cascade_block, context, gsa_block, gsa_stats, out_mask, predict_whole
from ..classical.stsf_ops import Inputs, regress_bands, responses, sample_window, window_inputs
from .run import require_torch

VALIDATION_SAMPLES = 4
TRAIN_FINE = 1536
"""DC-STSF trains on the central window of about this many MS pixels a side (the whole task when
it is smaller), so a whole scene trains as fast as a crop and streamed and in-memory runs agree."""


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
               log: str | os.PathLike[str] | None) -> tuple[Any, Any, Any, Any, Any]:
    """Train from one SSJE ``start``: the network, its `FitResult`, and its validation estimate,
    the classical estimate and the truth on the held-out rows (tensors, for `_scores`)."""
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
    return net, result, estimate(), classical, truth


CLEAR_MARGIN = 0.1
"""Two estimates whose validation RMSEs are within this fraction of each other are averaged
rather than ranked (both starts of ``start=auto``; the network and its classical rival): smaller
differences are within the noise of a few held-out rows."""

TIE = 1e-6
"""Relative RMSE difference below float32 resolution: the network equals its classical start
(computed in float32 instead of float64), and is returned as it is."""


def _verdict(mine: float, theirs: float, rival: str, *, simulated: bool) -> str:
    """Which estimate the validation RMSEs favour: "network", the ``rival``, or "average".

    The rival when it is clearly (`CLEAR_MARGIN`) better; the network when it equals its classical
    start to a float32 `TIE`; else the network when it is clearly better on a real held-out truth
    (t1); else the average. With a ``simulated`` held-out truth (t2: simulated changes of the
    held-out rows) the network is never returned alone, since a clear win there need not carry
    over to the scene's real change."""
    if mine <= theirs * (1 + TIE) and theirs <= mine * (1 + TIE):
        return "network"
    if mine > theirs * (1 + CLEAR_MARGIN):
        return rival
    return "network" if theirs > mine * (1 + CLEAR_MARGIN) and not simulated else "average"


def train_dcstsf(task: STSFTask, params: DcstsfParams, *, progress: bool = True,
                 log: str | os.PathLike[str] | None = None) -> tuple[Any, dict]:
    """A DC-STSF network trained on ``task`` at reduced scale (`nets.stsf_wald`), and its card.

    ``start="auto"`` trains from both SSJE starts and averages the two networks (`DcstsfEnsemble`;
    the card's ``start`` is then "auto"): the held-out rows are too few to rank starts whose
    validation RMSEs are within `CLEAR_MARGIN` of each other. A start clearly worse than that is
    dropped, and the card names the start kept. The card's ``starts`` holds each start's validation scores,
    ``competition`` the returned estimate's and the classical estimate's on the held-out rows
    (GSA for a task without ``ms_target``, the cascade with one), and the winner.
    """
    _check(params)
    source = StsfSource.from_task(task)
    psf, response = responses(source, params.psf_fwhm)
    return _train(task, _training_inputs(source, psf, response), params, progress=progress, log=log)


def _training_inputs(source: StsfSource, psf: Any, response: Any) -> Inputs:
    """The `Inputs` of the central training window (`TRAIN_FINE`)."""
    return window_inputs(source, sample_window(source.shape, source.ratio, TRAIN_FINE), psf, response)


def _train(task: STSFTask, x: Inputs, params: DcstsfParams, *, progress: bool,
           log: str | os.PathLike[str] | None = None) -> tuple[Any, dict]:
    """`train_dcstsf` on the training inputs ``x`` of ``task``."""
    from .nets.stsf_wald import WaldSet

    data = WaldSet.from_inputs(x, x.srf)
    from .nets.dcstsf import DcstsfEnsemble

    starts = ("gsa", "bicubic") if params.start == "auto" else (params.start,)
    fits = {start: _fit_start(x, data, params, start, progress=progress, log=log) for start in starts}
    classical, truth = fits[starts[0]][3], fits[starts[0]][4]
    scores = {k: _scores(v[2], truth) for k, v in fits.items()}
    best = min(starts, key=lambda k: scores[k]["rmse"])
    if len(starts) > 1 and all(scores[k]["rmse"] <= scores[best]["rmse"] * (1 + CLEAR_MARGIN) for k in starts):
        start = "auto"
        net = DcstsfEnsemble([fits[k][0] for k in starts], list(starts))
        mine = _scores(sum(fits[k][2] for k in starts) / len(starts), truth)
    else:
        start = best
        net, mine = fits[best][0], scores[best]
    result = fits[best][1]
    theirs = _scores(classical, truth)
    estimate = (sum(fits[k][2] for k in starts) / len(starts)) if start == "auto" else fits[start][2]
    rival = "cascade" if x.ms_target is not None else "gsa"
    competition = {"network": mine, rival: theirs, "average": _scores((estimate + classical) / 2, truth),
                   "rival": rival, "winner": _verdict(mine["rmse"], theirs["rmse"], rival, simulated=x.ms_target is not None),
                   "held_out_rows": int(data.z1.shape[1] - data.split) if data.split < data.z1.shape[1] else 0}
    card = {
        "hs_bands": list(task.hs.bands or ()), "ms_bands": list(task.ms.bands or ()), "ratio": x.ratio,
        "hs_mean": [float(v) for v in x.hs.mean(axis=(1, 2))],
        "trained_on": {"hs": task.hs.label, "ms": task.ms.label, "protocol": "Wald reduced scale",
                       "hs_window": [int(v) for v in x.hs.shape[1:]],
                       "reduced_hs_shape": list(data.hs.shape), "srf": "given" if task.srf is not None else "estimated",
                       "srf_r2": [float(v) for v in x.response.r2], "ms_gain": [float(v) for v in x.response.gain],
                       "ms_offset": [float(v) for v in x.response.offset],
                       "psf": {"fwhm": x.psf.fwhm, "dy": x.psf.dy, "dx": x.psf.dx}},
        "params": {k: v for k, v in vars(params).items() if k not in ("checkpoint", "fit")},
        "validation": result.card(), "competition": competition, "start": start,
        "starts": scores, "version": __version__,
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
                                  "give the bands it was trained on, or use fit=True")
    if config["ratio"] != x.ratio:
        raise CheckpointError(f"{where}: trained at ratio {config['ratio']} but the input's is {x.ratio}; "
                              "train for this ratio or use fit=True")
    a, b = float(np.mean(card.get("hs_mean") or [0])), float(x.hs.mean())
    if a > 0 and b > 0 and not 0.1 <= b / a <= 10:
        raise CheckpointError(f"{where}: the input's mean HS reflectance {b:.4g} is far from the training data's {a:.4g}; "
                              "give reflectance in the same units")


def _report(competition: dict, fallback: str) -> str:
    """The one-line verdict of the validation competition; the name of the estimate returned
    ("network", the classical rival, or "average": the mean of the two)."""
    rival, mine, winner = competition["rival"], competition["network"], competition["winner"]
    theirs, both = competition[rival], competition["average"]
    where = "held-out rows of the reduced pair" if competition["held_out_rows"] else "reduced pair (too small to hold rows out)"
    scores = (f"network RMSE {mine['rmse']:.4g}, SAM {mine['sam']:.3g} deg; {rival} RMSE {theirs['rmse']:.4g}, "
              f"SAM {theirs['sam']:.3g} deg")
    if winner == "network":
        warnings.warn(f"dcstsf validation on the {where}: {scores}; returning the network's estimate", FitReport,
                      stacklevel=3)
        return "network"
    if winner == "average":
        returned = "average" if fallback == "classical" else "network"
        what = (f"returning their average (RMSE {both['rmse']:.4g}, SAM {both['sam']:.3g} deg; set fallback=none to "
                "keep the network's)" if returned == "average" else "returning the network's estimate (fallback=none)")
        close = max(mine["rmse"], theirs["rmse"]) <= min(mine["rmse"], theirs["rmse"]) * (1 + CLEAR_MARGIN)
        why = f"within {CLEAR_MARGIN:.0%} of each other" if close else "a win on simulated changes (t2) is not trusted alone"
        warnings.warn(f"dcstsf validation on the {where}: {scores}; {why}, so {what}", FitReport, stacklevel=3)
        return returned
    returned = rival if fallback == "classical" else "network"
    advice = "set fallback=none to keep the network's" if returned == rival else "set fallback=classical to get it"
    warnings.warn(f"dcstsf loses to {rival} on the {where} ({scores}); returning the "
                  f"{'classical' if returned == rival else 'network'} estimate ({advice})", ResponseWarning, stacklevel=3)
    return returned


@dataclass(frozen=True)
class DcstsfStats:
    """What a DC-STSF run computes once: the network on its ``device``, its card, which estimate is
    ``returned`` ("network", the classical rival, or "average" of the two), the SSJE ``start``, and
    the classical statistics (responses, MS context, GSA's regression and gains: the start and the
    fallback)."""

    net: Any
    card: dict
    returned: str
    start: str
    classical: StsfStats
    device: Any

    @property
    def context(self) -> int:
        return self.classical.context


def stats(source: StsfSource, params: DcstsfParams, *, progress: bool = True) -> DcstsfStats:
    """Load or train (``fit=True``: on the central training window, competing with the classical
    estimate) the network, and compute the classical statistics its start and fallback need."""
    require_torch()
    from .nets.checkpoint import load_checkpoint
    from .nets.dcstsf import dcstsf
    from .nets.fit import device_of

    _check(params)
    task = source.task
    assert task is not None, "dcstsf needs the source's task (band names, SRF)"
    psf, response = responses(source, params.psf_fwhm)
    x = _training_inputs(source, psf, response)
    returned = "network"
    if params.checkpoint:
        net, card = load_checkpoint(params.checkpoint, {"dcstsf": dcstsf}, "dcstsf")
        _check_card(card, task, x, f"dcstsf checkpoint {params.checkpoint}")
    elif params.fit:
        net, card = _train(task, x, params, progress=progress)
        returned = _report(card["competition"], params.fallback)
    else:
        raise MissingWeightsError("dcstsf needs trained weights: give checkpoint=CKPT (from `stfusion train dcstsf`) "
                                  "or fit=True to train on the given images")
    start = card.get("start", "bicubic")  # the start it was trained from (older checkpoints: the paper's)
    kernels = psf.kernels(source.ratio)
    need_gsa = returned != "network" or start in ("gsa", "auto")
    classical = StsfStats(psf, response, kernels, context(kernels, source.ratio),
                          gsa_stats(source, kernels, "ms") if need_gsa else None)
    device = device_of(params.device)
    net.to(device).eval()
    return DcstsfStats(net, card, returned, start, classical, device)


def _net_window(blk: StsfBlock) -> tuple[slice, slice]:
    """The coarse window the network sees: the block less GSA's halo (where GSA can start it)."""
    (nr, nc), h = blk.shape, CUBIC_HALO
    return (slice(blk.rows.start + (h if blk.rows.start else 0), blk.rows.stop - (h if blk.rows.stop < nr else 0)),
            slice(blk.cols.start + (h if blk.cols.start else 0), blk.cols.stop - (h if blk.cols.stop < nc else 0)))


def predict_block(block: StsfBlock, stats: DcstsfStats, params: DcstsfParams) -> tuple[np.ndarray, np.ndarray]:
    """The block's output pixels from the network, the classical estimate it lost to, or their
    average (`DcstsfStats.returned`), NaN where invalid."""
    st, kernels = stats.classical, stats.classical.kernels
    assert kernels is not None
    mask = out_mask(block)
    if stats.returned == "network":
        return np.where(mask, _network_block(block, stats), np.nan), mask
    assert st.gsa is not None
    out = cascade_block(block, st.gsa, kernels)
    if stats.returned == "average":
        out = (out + _network_block(block, stats)) / 2
    return np.where(mask, out, np.nan), mask


def _network_block(block: StsfBlock, stats: DcstsfStats) -> np.ndarray:
    """The network's estimate of the block's output pixels."""
    st, kernels = stats.classical, stats.classical.kernels
    assert kernels is not None
    import torch

    rows, cols = _net_window(block)
    fr, fc = block.fine(rows, cols)
    hr, hc = block.local(rows, cols)
    z0 = gsa_block(block, st.gsa, kernels, "ms", rows, cols) if st.gsa is not None and stats.start != "bicubic" else None

    def t(a: np.ndarray | None) -> Any:
        return None if a is None else torch.from_numpy(np.ascontiguousarray(a[None], np.float32)).to(stats.device)

    target = None if block.ms_target is None else block.ms_target[:, fr, fc]
    with torch.no_grad():
        z1, z2 = stats.net(t(block.hs[:, hr, hc]), t(block.ms[:, fr, fc]), t(target), t(z0))
    r, (o_r, o_c) = block.ratio, (block.out_rows.start - rows.start, block.out_cols.start - cols.start)
    full = (z1 if z2 is None else z2)[0].cpu().numpy()
    return full[:, o_r * r:(o_r + block.out_rows.stop - block.out_rows.start) * r,
                o_c * r:(o_c + block.out_cols.stop - block.out_cols.start) * r]


def predict(task: STSFTask, params: DcstsfParams, *, progress: bool = True) -> Scene:
    """Registry entry point: the fine HS image at the task's MS target date (t1 without one).

    With ``fit=True`` the network competes with the classical estimate on validation, and
    ``params.fallback`` decides what a loss returns (see `DcstsfParams`).
    """
    source = StsfSource.from_task(task)
    return predict_whole(task, source, predict_block, stats(source, params, progress=progress), params, "dcstsf")
