"""`cascade`: the two-step STSF baseline: fuse at t1, then add the MS change mapped to the HS bands.

1. ``Z1 = fuser(H1, M1)`` with `gsa` or `cnmf` (their defaults);
2. ``Z2 = Z1 + C (M2 - M1)``, where C (HS bands x MS bands) is the least-squares regression of
   the HS image on the MS image degraded to the HS grid at t1 (with an intercept, which cancels
   in the difference). A linear, per-pixel mapping of the MS change: it cannot see a change that
   the MS bands do not resolve spectrally.

Without ``ms_target`` the result is ``Z1``. With the GSA fuser it is block-wise (`stsf_blocks`:
C is GSA's regression at t1) and streams with ``--chunk``; with CNMF it runs in memory.
"""

from __future__ import annotations

import numpy as np

from stfusion.core.errors import InvalidParameterError, UnknownParameterError
from stfusion.core.params.stsf import FUSERS, CascadeParams, CnmfParams
from stfusion.core.scene import Scene
from stfusion.core.stsf_block import StsfBlock, StsfSource
from stfusion.core.task import STSFTask

from .cnmf import factorise
from .stsf_blocks import StsfStats, cascade_block, gsa_method_stats, out_mask, predict_whole
from .stsf_ops import Inputs, apply_regression, output_scene, prepare, regress_bands


def add_change(x: Inputs, z1: np.ndarray, ms2: np.ndarray | None) -> np.ndarray:
    """Step 2: ``Z1 + C (M2 - M1)`` with C regressed at t1 on the HS grid (``z1`` itself without ``ms2``)."""
    if ms2 is None:
        return z1
    coef = regress_bands(x.hs, x.degrade(x.ms))
    return z1 + apply_regression(coef, ms2 - x.ms, intercept=False)


def _check(params: CascadeParams) -> None:
    if params.fuser not in FUSERS:
        raise UnknownParameterError(f"cascade fuser {params.fuser!r} is unknown; use one of: {', '.join(FUSERS)}")


def stats(source: StsfSource, params: CascadeParams) -> StsfStats:
    """The responses and GSA's statistics at t1 (the GSA fuser only)."""
    _check(params)
    if params.fuser != "gsa":
        raise InvalidParameterError("cascade with fuser=cnmf cannot run block by block; use fuser=gsa or run without chunk=N")
    return gsa_method_stats(source, params.psf_fwhm, "ms")


def predict_block(block: StsfBlock, stats: StsfStats, params: CascadeParams) -> tuple[np.ndarray, np.ndarray]:
    """GSA at t1 plus the regressed MS change at the block's output pixels, and their validity."""
    assert stats.gsa is not None and stats.kernels is not None
    return cascade_block(block, stats.gsa, stats.kernels), out_mask(block)


def predict(task: STSFTask, params: CascadeParams) -> Scene:
    """Two-step fusion of ``task`` (see the module docstring)."""
    _check(params)
    if params.fuser == "gsa":
        source = StsfSource.from_task(task)
        return predict_whole(task, source, predict_block, stats(source, params), params, "cascade")
    x = prepare(task, params.psf_fwhm)
    z1 = factorise(x, x.ms, CnmfParams(psf_fwhm=params.psf_fwhm))
    return output_scene(task, add_change(x, z1, x.ms_target), x.mask, "cascade")
