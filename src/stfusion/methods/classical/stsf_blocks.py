"""Block kernels and image-wide statistics of the block-wise STSF methods (bicubic, GSA, cascade).

Each method is ``stats(source, params)`` (computed once from a `stfusion.core.stsf_block.StsfSource`)
and ``predict_block(block, stats, params)`` on a block of coarse pixels read with `CUBIC_HALO`
coarse pixels of halo and `context` coarse pixels of MS context. The in-memory methods run the
whole task as one block; the streamed runner (`stfusion.parallel.stsf_stream`) runs many. Both
use the same statistics, so their outputs agree to float rounding.

Statistics, all computed over the fixed tiles of `StsfSource.tiles` (memory set by the tile):

- the responses (`stsf_ops.responses`): estimated on a central sample window;
- GSA's regression of the HS bands on the MS bands degraded to the HS grid: normal equations
  summed over tiles (``X X^T`` and ``X Y^T``, float64), then solved;
- GSA's injection gains ``cov(up(H_b), P_L,b) / var(P_L,b)`` over valid fine pixels, from
  per-tile co-moments merged with Chan's formula.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from stfusion.core.errors import ShapeMismatchError
from stfusion.core.moments import CoMoments
from stfusion.core.observation import degrade_window
from stfusion.core.params.stsf import CUBIC_HALO
from stfusion.core.scene import Scene
from stfusion.core.stsf_block import StsfBlock, StsfSource
from stfusion.core.task import STSFTask

from .stsf_ops import apply_regression, cubic_matrix, output_scene, responses
from .stsf_response import Psf, SpectralResponse



def context(kernels: tuple[np.ndarray, np.ndarray], ratio: int) -> int:
    """Coarse pixels of MS beyond an HS window needed to degrade the MS image onto that window."""
    half = max(k.size // 2 for k in kernels)
    return -(-(half + ratio) // ratio)


@functools.lru_cache(maxsize=8)
def _cubic(n_coarse: int, ratio: int) -> sp.csr_matrix:
    return cubic_matrix(n_coarse, ratio)


def _axis_matrix(n_coarse: int, ratio: int, part: slice, out: slice) -> sp.csr_matrix:
    """The rows of fine pixels of coarse ``out`` of the cubic matrix, restricted to the coarse ``part``."""
    m = _cubic(n_coarse, ratio)[out.start * ratio:out.stop * ratio]
    sub = m[:, part.start:part.stop]
    if np.count_nonzero(sub.data) != np.count_nonzero(m.data):
        raise ShapeMismatchError(f"a block lacks the cubic kernel's reach; read it with a halo of {CUBIC_HALO}")
    return sub


def upsample_window(x: np.ndarray, blk: StsfBlock, rows: slice, cols: slice) -> np.ndarray:
    """Cubic upsampling (as `stsf_ops.upsample` of the whole image) of ``x`` (k, on the block's HS
    pixels) at the fine pixels of coarse ``rows`` x ``cols``."""
    mr = _axis_matrix(blk.shape[0], blk.ratio, blk.rows, rows)
    mc = _axis_matrix(blk.shape[1], blk.ratio, blk.cols, cols)
    out = np.empty((x.shape[0], mr.shape[0], mc.shape[0]), dtype=np.float64)
    for k in range(x.shape[0]):
        out[k] = (mc @ (mr @ x[k]).T).T
    return out


def _image(blk: StsfBlock, which: str) -> np.ndarray:
    image = blk.ms_target if which == "ms_target" else blk.ms
    if image is None:
        raise ShapeMismatchError("this step needs the MS image at the prediction date; give ms_target")
    return image


def degrade_part(blk: StsfBlock, image: np.ndarray, kernels: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The fine ``image`` of the block degraded onto the block's HS pixels (the observation model)."""
    r = blk.ratio
    return degrade_window(image, r, kernels, origin=(blk.ms_rows.start * r, blk.ms_cols.start * r),
                          full=blk.fine_shape, rows=blk.rows, cols=blk.cols)


@dataclass(frozen=True)
class GsaStats:
    """GSA's image-wide statistics for one MS image: the regression ``coef`` (HS bands x MS bands + 1)
    of the HS image on the degraded MS image, and the injection ``gain`` per HS band."""

    coef: np.ndarray
    gain: np.ndarray


def _regression(source: StsfSource, kernels: tuple[np.ndarray, np.ndarray], which: str) -> np.ndarray:
    extra = context(kernels, source.ratio)
    xtx = xty = None
    for w in source.tiles():
        blk = source.read(w.rows, w.cols, extra)
        low = degrade_part(blk, _image(blk, which), kernels)
        x = np.vstack([low.reshape(low.shape[0], -1), np.ones((1, low[0].size))])
        y = blk.hs.reshape(blk.hs.shape[0], -1)
        xtx = x @ x.T if xtx is None else xtx + x @ x.T
        xty = x @ y.T if xty is None else xty + x @ y.T
    coef, *_ = np.linalg.lstsq(xtx, xty, rcond=None)
    return coef.T


def _gsa_parts(blk: StsfBlock, coef: np.ndarray, kernels: tuple[np.ndarray, np.ndarray], which: str,
               rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``up(H)``, ``P`` and ``P_L`` at the fine pixels of coarse ``rows`` x ``cols``."""
    image = _image(blk, which)
    low = apply_regression(coef, degrade_part(blk, image, kernels))
    fr, fc = blk.fine(rows, cols)
    return upsample_window(blk.hs, blk, rows, cols), apply_regression(coef, image[:, fr, fc]), \
        upsample_window(low, blk, rows, cols)


def gsa_stats(source: StsfSource, kernels: tuple[np.ndarray, np.ndarray], which: str = "ms") -> GsaStats:
    """GSA's regression and gains for the MS image ``which`` ("ms" or "ms_target")."""
    coef = _regression(source, kernels, which)
    extra = context(kernels, source.ratio)
    acc: CoMoments | None = None
    for w in source.tiles(CUBIC_HALO):
        blk = source.read_window(w, extra)
        up, _, pan_low = _gsa_parts(blk, coef, kernels, which, blk.out_rows, blk.out_cols)
        valid = out_mask(blk)
        part = CoMoments.of(up[:, valid], pan_low[:, valid])
        acc = part if acc is None else acc.merge(part)
    assert acc is not None
    gain = np.divide(acc.cxy, acc.m2y, out=np.zeros_like(acc.cxy), where=acc.m2y > 0)
    return GsaStats(coef, gain)


def gsa_block(blk: StsfBlock, st: GsaStats, kernels: tuple[np.ndarray, np.ndarray], which: str,
              rows: slice | None = None, cols: slice | None = None) -> np.ndarray:
    """GSA fusion ``up(H_b) + g_b (P_b - P_L,b)`` at the fine pixels of coarse ``rows`` x ``cols``
    (default: the block's output pixels)."""
    rows, cols = rows or blk.out_rows, cols or blk.out_cols
    up, pan, pan_low = _gsa_parts(blk, st.coef, kernels, which, rows, cols)
    return up + st.gain[:, None, None] * (pan - pan_low)


def cascade_block(blk: StsfBlock, st: GsaStats, kernels: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The cascade at the block's output pixels: GSA at t1 plus the MS change mapped by GSA's
    regression at t1 (GSA at t1 alone without ``ms_target``)."""
    z1 = gsa_block(blk, st, kernels, "ms")
    if blk.ms_target is None:
        return z1
    fr, fc = blk.fine(blk.out_rows, blk.out_cols)
    return z1 + apply_regression(st.coef, blk.ms_target[:, fr, fc] - blk.ms[:, fr, fc], intercept=False)


def out_mask(blk: StsfBlock) -> np.ndarray:
    """The output validity at the block's output pixels."""
    return blk.mask[blk.fine(blk.out_rows, blk.out_cols)]


@dataclass(frozen=True)
class StsfStats:
    """What a block-wise STSF method computes once: the responses and PSF ``kernels`` (None for
    bicubic), the coarse pixels of MS ``context`` a block needs, and GSA's statistics."""

    psf: Psf | None = None
    response: SpectralResponse | None = None
    kernels: tuple[np.ndarray, np.ndarray] | None = None
    context: int = 0
    gsa: GsaStats | None = None


def gsa_method_stats(source: StsfSource, psf_fwhm: float | None, which: str) -> StsfStats:
    """The responses, the MS context and GSA's statistics for the MS image ``which``."""
    psf, response = responses(source, psf_fwhm)
    kernels = psf.kernels(source.ratio)
    return StsfStats(psf, response, kernels, context(kernels, source.ratio), gsa_stats(source, kernels, which))


BlockKernel = Callable[[StsfBlock, StsfStats, Any], tuple[np.ndarray, np.ndarray]]


def predict_whole(task: STSFTask, source: StsfSource, predict_block: BlockKernel, st: StsfStats, params: Any,
                  name: str) -> Scene:
    """An in-memory run: the whole task as one block through ``predict_block``."""
    data, mask = predict_block(source.read_all(), st, params)
    return output_scene(task, data, mask, name)
