"""`cascade`: the two-step STSF baseline: fuse at t1, then add the MS change mapped to the HS bands.

1. ``Z1 = fuser(H1, M1)`` with `gsa` or `cnmf` (their defaults);
2. ``Z2 = Z1 + C (M2 - M1)``, where C (HS bands x MS bands) is the least-squares regression of
   the HS image on the MS image degraded to the HS grid at t1 (with an intercept, which cancels
   in the difference). A linear, per-pixel mapping of the MS change: it cannot see a change that
   the MS bands do not resolve spectrally.

Without ``ms_target`` the result is ``Z1``. Block-wise (`stsf_blocks`: C is GSA's regression at
t1, an image-wide statistic), so it streams with ``--chunk``; with the CNMF fuser, ``Z1`` is the
local CNMF of each block (see `cnmf`).
"""

from __future__ import annotations

import numpy as np

from stfusion.core.errors import UnknownParameterError
from stfusion.core.params.stsf import FUSERS, CascadeParams, CnmfParams
from stfusion.core.scene import Scene
from stfusion.core.stsf_block import StsfBlock, StsfSource
from stfusion.core.task import STSFTask

from . import cnmf
from .stsf_blocks import StsfStats, cascade_block, gsa_method_stats, out_mask, predict_whole
from .stsf_ops import apply_regression


def _check(params: CascadeParams) -> None:
    if params.fuser not in FUSERS:
        raise UnknownParameterError(f"cascade fuser {params.fuser!r} is unknown; use one of: {', '.join(FUSERS)}")


def stats(source: StsfSource, params: CascadeParams) -> StsfStats:
    """The responses and GSA's statistics at t1 (its regression is C)."""
    _check(params)
    return gsa_method_stats(source, params.psf_fwhm, "ms")


def _cnmf_block(block: StsfBlock, stats: StsfStats, params: CascadeParams) -> np.ndarray:
    """Step 1 with the CNMF fuser (its defaults) at t1, plus C (M2 - M1), at the block's output pixels."""
    assert stats.gsa is not None
    z1 = cnmf.block_cube(block, stats, CnmfParams(psf_fwhm=params.psf_fwhm), target=False)
    if block.ms_target is None:
        return z1
    fr, fc = block.fine(block.out_rows, block.out_cols)
    return z1 + apply_regression(stats.gsa.coef, block.ms_target[:, fr, fc] - block.ms[:, fr, fc], intercept=False)


def predict_block(block: StsfBlock, stats: StsfStats, params: CascadeParams) -> tuple[np.ndarray, np.ndarray]:
    """The fusion at t1 plus the regressed MS change at the block's output pixels, and their validity."""
    assert stats.gsa is not None and stats.kernels is not None
    z = cascade_block(block, stats.gsa, stats.kernels) if params.fuser == "gsa" else _cnmf_block(block, stats, params)
    return z, out_mask(block)


def predict(task: STSFTask, params: CascadeParams) -> Scene:
    """Two-step fusion of ``task`` (see the module docstring)."""
    source = StsfSource.from_task(task)
    return predict_whole(task, source, predict_block, stats(source, params), params, "cascade")
