"""`gsa`: Gram-Schmidt adaptive (GSA) hypersharpening of the HS image with the MS image.

GSA (Aiazzi, Baronti & Selva 2007, IEEE TGRS 45(10)) injects the detail of a high-resolution
image P into each upsampled band: ``Z_b = up(H_b) + g_b (P - P_L)`` with the gain
``g_b = cov(up(H_b), P_L) / var(P_L)``. Hypersharpening (Selva, Aiazzi, Butera, Chiarantini &
Baronti 2015, IEEE JSTSP 9(6)) makes a synthetic P for every HS band b from the MS bands:
``P_b = sum_k beta_bk M_k + beta_b0``, with beta the least-squares regression of H_b on the MS
bands degraded to the HS grid by the observation model, and ``P_L = up(sum_k beta_bk m_k +
beta_b0)`` its low-pass version. Given an MS image of another date (``ms_target``), the detail
and the regression come from that image: single-date fusion across dates.

Block-wise (`stsf_blocks`): beta and g are image-wide statistics, so it streams with ``--chunk``.
"""

from __future__ import annotations

import numpy as np

from stfusion.core.params.stsf import GsaParams
from stfusion.core.scene import Scene
from stfusion.core.stsf_block import ArrayReader, StsfBlock, StsfSource
from stfusion.core.task import STSFTask

from .stsf_blocks import StsfStats, gsa_block, gsa_method_stats, gsa_stats, out_mask, predict_whole
from .stsf_ops import Inputs


def _which(has_target: bool) -> str:
    return "ms_target" if has_target else "ms"


def stats(source: StsfSource, params: GsaParams) -> StsfStats:
    """The responses and GSA's regression and gains for the MS image of the prediction date."""
    return gsa_method_stats(source, params.psf_fwhm, _which(source.ms_target is not None))


def predict_block(block: StsfBlock, stats: StsfStats, params: GsaParams) -> tuple[np.ndarray, np.ndarray]:
    """GSA at the block's output pixels, and their validity."""
    assert stats.gsa is not None and stats.kernels is not None
    return gsa_block(block, stats.gsa, stats.kernels, _which(block.ms_target is not None)), out_mask(block)


def hypersharpen(x: Inputs, ms: np.ndarray) -> np.ndarray:
    """The GSA-fused fine HS cube from the inputs' (filled) HS image and the fine MS image ``ms``."""
    shape = x.hs.shape[1:]
    source = StsfSource(ArrayReader(x.hs, np.ones(shape, bool)), ArrayReader(ms, x.mask), None,
                        ratio=x.ratio, shape=shape, fill=False)
    return gsa_block(source.read_all(), gsa_stats(source, x.kernel), x.kernel, "ms")


def predict(task: STSFTask, params: GsaParams) -> Scene:
    """GSA hypersharpening of ``task.hs`` with ``task.ms_target`` (when given) or ``task.ms``."""
    source = StsfSource.from_task(task)
    return predict_whole(task, source, predict_block, stats(source, params), params, "gsa")
