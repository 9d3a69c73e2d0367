"""`cnmf`: coupled non-negative matrix factorisation (Yokoya, Yairi & Iwasaki 2012, IEEE TGRS 50(2):528-537).

Written from the paper. The fine HS image is ``Z = W_h H_m``: endmember spectra W_h (B x M) from
the HS image and fine abundances H_m (M x N) from the MS image, coupled by the observation model
``H_h = H_m S`` (PSF and decimation, `stfusion.core.observation`) and ``W_m = R W_h`` (the spectral
response). Steps:

1. W_h by VCA (Nascimento & Bioucas-Dias 2005) on the HS pixels; HS unmixing: H_h updated alone
   (``init_inner`` Lee-Seung multiplicative updates), then W_h and H_h together.
2. MS unmixing: W_m = R W_h, H_m from the cubic-upsampled H_h, updated alone, then with W_m.
3. Coupled iterations (at most ``outer``): HS side ``H_h = H_m S`` fixed, W_h updated; MS side
   ``W_m = R W_h`` fixed, H_m updated (``inner`` updates each); stop when both residuals change
   by less than ``tol`` (relative).

Abundances sum to one softly through an extra row of weight ``delta`` appended to the data and
the endmembers, as in the paper. R is the task's SRF, or estimated from the data when unknown.
Given an MS image of another date, the abundances come from it: the endmembers are those of t1.

In memory the factorisation runs on the whole image (M x N floats for the abundances). Streamed
(``--chunk N``), CNMF is *local*: each block is factorised on its own, on its HS pixels plus a
halo of `CNMF_HALO` HS pixels (whose output is dropped), with the responses estimated once for
the scene (`stsf_ops.responses`). So a streamed output equals, block by block, the in-memory CNMF
of that block's window, and a block that covers the scene gives the in-memory result. The
endmembers then adapt to each block, as when CNMF is run on image subsets; an exact image-wide
factorisation would need one pass over the scene per multiplicative update.
"""

from __future__ import annotations

import numpy as np

from stfusion.core.params.stsf import CnmfParams
from stfusion.core.scene import Scene
from stfusion.core.stsf_block import StsfBlock, StsfSource
from stfusion.core.task import STSFTask

from .stsf_blocks import StsfStats, out_mask, predict_whole
from .stsf_ops import Inputs, responses, upsample

EPS = 1e-9


def vca(y: np.ndarray, p: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``p`` endmember pixels of ``y`` (bands x pixels) by vertex component analysis."""
    bands, n = y.shape
    p = min(p, bands, n)
    mean = y.mean(axis=1, keepdims=True)
    u, s, _ = np.linalg.svd((y - mean) @ (y - mean).T / n)
    p_signal = np.sum(y * y) / n
    p_proj = np.sum(s[:p]) + float(np.sum(mean * mean))
    snr = 10 * np.log10(max(p_proj - p / bands * p_signal, EPS) / max(p_signal - p_proj, EPS))
    if snr > 15 + 10 * np.log10(p):  # high SNR: projective projection onto p dimensions
        ud, _, _ = np.linalg.svd(y @ y.T / n)
        x = ud[:, :p].T @ y
        scale = x.mean(axis=1) @ x
        x = x / np.where(np.abs(scale) > EPS, scale, EPS)
    else:  # low SNR: PCA to p - 1 dimensions plus a constant
        x = u[:, :p - 1].T @ (y - mean)
        x = np.vstack([x, np.full((1, n), np.sqrt(np.max(np.sum(x * x, axis=0))))])
    a = np.zeros((p, p))
    a[-1, 0] = 1.0
    index = np.zeros(p, dtype=int)
    for i in range(p):
        w = rng.standard_normal(p)
        f = w - a @ np.linalg.pinv(a) @ w
        f /= np.linalg.norm(f) or 1.0
        index[i] = int(np.argmax(np.abs(f @ x)))
        a[:, i] = x[:, index[i]]
    return index


def _update_h(y: np.ndarray, w: np.ndarray, h: np.ndarray, iters: int, delta: float) -> np.ndarray:
    ya = np.vstack([y, np.full((1, y.shape[1]), delta)])
    wa = np.vstack([w, np.full((1, w.shape[1]), delta)])
    num = wa.T @ ya
    gram = wa.T @ wa
    for _ in range(iters):
        h *= num / (gram @ h + EPS)
    return h


def _update_w(y: np.ndarray, w: np.ndarray, h: np.ndarray, iters: int) -> np.ndarray:
    num = y @ h.T
    gram = h @ h.T
    for _ in range(iters):
        w *= num / (w @ gram + EPS)
    return w


def _update_both(y: np.ndarray, w: np.ndarray, h: np.ndarray, iters: int, delta: float) -> tuple[np.ndarray, np.ndarray]:
    for _ in range(iters):
        h = _update_h(y, w, h, 1, delta)
        w = _update_w(y, w, h, 1)
    return w, h


def _residual(y: np.ndarray, w: np.ndarray, h: np.ndarray) -> float:
    return float(np.linalg.norm(y - w @ h))


def factorise(x: Inputs, ms: np.ndarray, params: CnmfParams) -> np.ndarray:
    """The fine HS cube ``W_h H_m`` of CNMF from the inputs' HS image and the fine MS image ``ms``
    (less the MS offsets of the inputs' spectral response)."""
    bands, r, c = x.hs.shape
    rows, cols = ms.shape[1:]
    srf = x.srf
    yh = np.clip(x.hs.reshape(bands, -1), 0.0, None) + EPS
    ym = np.clip((ms - x.response.offset[:, None, None]).reshape(ms.shape[0], -1), 0.0, None) + EPS
    rng = np.random.default_rng(params.seed)
    m = min(params.endmembers, bands, yh.shape[1])
    wh = yh[:, vca(yh, m, rng)].copy() + EPS
    hh = np.full((m, yh.shape[1]), 1.0 / m)
    hh = _update_h(yh, wh, hh, params.init_inner, params.delta)
    wh, hh = _update_both(yh, wh, hh, params.init_inner, params.delta)
    wm = srf @ wh
    hm = np.clip(upsample(hh.reshape(m, r, c), x.ratio).reshape(m, -1), EPS, None)
    hm = _update_h(ym, wm, hm, params.init_inner, params.delta)
    wm, hm = _update_both(ym, wm, hm, params.init_inner, params.delta)
    last = (_residual(yh, wh, hh), _residual(ym, wm, hm))
    for _ in range(params.outer):
        hh = np.clip(x.degrade(hm.reshape(m, rows, cols)).reshape(m, -1), EPS, None)
        wh = _update_w(yh, wh, hh, params.inner)
        wm = srf @ wh
        hm = _update_h(ym, wm, hm, params.inner, params.delta)
        now = (_residual(yh, wh, hh), _residual(ym, wm, hm))
        if all(abs(a - b) <= params.tol * max(b, EPS) for a, b in zip(now, last)):
            break
        last = now
    return (wh @ hm).reshape(bands, rows, cols)


def stats(source: StsfSource, params: CnmfParams) -> StsfStats:
    """The responses (PSF and SRF), estimated once for the scene."""
    psf, response = responses(source, params.psf_fwhm)
    return StsfStats(psf, response, psf.kernels(source.ratio))


def block_cube(block: StsfBlock, stats: StsfStats, params: CnmfParams, *, target: bool) -> np.ndarray:
    """CNMF of the block's HS window (its MS context left out, the scene's responses) with the MS
    image of the prediction date (``target``) or of the HS date, at the block's output pixels."""
    assert stats.psf is not None and stats.response is not None
    fr, fc = block.fine(block.rows, block.cols)
    ms = block.ms_target if target and block.ms_target is not None else block.ms
    x = Inputs(block.hs, block.ms[:, fr, fc], None, block.mask[fr, fc], block.ratio, stats.psf, stats.response)
    z = factorise(x, ms[:, fr, fc], params)
    (rows, cols), r = block.local(block.out_rows, block.out_cols), block.ratio
    return z[:, rows.start * r:rows.stop * r, cols.start * r:cols.stop * r]


def predict_block(block: StsfBlock, stats: StsfStats, params: CnmfParams) -> tuple[np.ndarray, np.ndarray]:
    """CNMF of the block's window (see the module docstring) at its output pixels, and their validity."""
    return block_cube(block, stats, params, target=True), out_mask(block)


def predict(task: STSFTask, params: CnmfParams) -> Scene:
    """CNMF fusion of ``task.hs`` with ``task.ms_target`` (when given) or ``task.ms``."""
    source = StsfSource.from_task(task)
    return predict_whole(task, source, predict_block, stats(source, params), params, "cnmf")
