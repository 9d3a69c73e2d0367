"""`gsa`: Gram-Schmidt adaptive (GSA) hypersharpening of the HS image with the MS image.

GSA (Aiazzi, Baronti & Selva 2007, IEEE TGRS 45(10)) injects the detail of a high-resolution
image P into each upsampled band: ``Z_b = up(H_b) + g_b (P - P_L)`` with the gain
``g_b = cov(up(H_b), P_L) / var(P_L)``. Hypersharpening (Selva, Aiazzi, Butera, Chiarantini &
Baronti 2015, IEEE JSTSP 9(6)) makes a synthetic P for every HS band b from the MS bands:
``P_b = sum_k beta_bk M_k + beta_b0``, with beta the least-squares regression of H_b on the MS
bands degraded to the HS grid by the observation model, and ``P_L = up(sum_k beta_bk m_k +
beta_b0)`` its low-pass version. Given an MS image of another date (``ms_target``), the detail
and the regression come from that image: single-date fusion across dates.
"""

from __future__ import annotations

import numpy as np

from stfusion.core.params.stsf import GsaParams
from stfusion.core.scene import Scene
from stfusion.core.task import STSFTask

from .stsf_ops import Inputs, apply_regression, output_scene, prepare, regress_bands, upsample


def hypersharpen(x: Inputs, ms: np.ndarray) -> np.ndarray:
    """The GSA-fused fine HS cube from the inputs' HS image and the fine MS image ``ms``."""
    ms_low = x.degrade(ms)
    coef = regress_bands(x.hs, ms_low)
    up_hs = upsample(x.hs, x.ratio)
    pan = apply_regression(coef, ms)
    pan_low = upsample(apply_regression(coef, ms_low), x.ratio)
    valid = x.mask
    out = np.empty_like(up_hs)
    for b in range(up_hs.shape[0]):
        pl, hb = pan_low[b][valid], up_hs[b][valid]
        var = pl.var()
        gain = np.mean((hb - hb.mean()) * (pl - pl.mean())) / var if var > 0 else 0.0
        out[b] = up_hs[b] + gain * (pan[b] - pan_low[b])
    return out


def predict(task: STSFTask, params: GsaParams) -> Scene:
    """GSA hypersharpening of ``task.hs`` with ``task.ms_target`` (when given) or ``task.ms``."""
    x = prepare(task, params.psf_fwhm)
    ms = x.ms if x.ms_target is None else x.ms_target
    return output_scene(task, hypersharpen(x, ms), x.mask, "gsa")
