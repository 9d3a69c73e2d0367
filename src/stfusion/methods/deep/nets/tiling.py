"""Tiled inference with overlap and linear blending, so a scene of any size fits in memory.

Windows of ``tile`` pixels (a multiple of the network's ``multiple``) step across the image
padded to that multiple; neighbouring windows overlap by ``2 * halo + blend`` pixels. Each
window's prediction gets weight 0 in the ``halo`` pixels along its inner edges (they lack
context), a linear ramp over the next ``blend`` pixels and 1 inside; the weighted sum is
normalised. Because every prediction that counts has its full context, and windows start on
multiples of ``multiple`` (block-wise layers see the same blocks), tiled and whole-image
predictions agree to float rounding.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from .base import FusionNet


def _round_up(n: int, m: int) -> int:
    return -(-n // m) * m


def _starts(length: int, tile: int, step: int) -> list[int]:
    if length <= tile:
        return [0]
    out = list(range(0, length - tile, step))
    return out + [length - tile]


def _ramp(start: int, size: int, total: int, halo: int, blend: int) -> np.ndarray:
    """1-D weights of a window at ``start`` of ``size`` pixels in an axis of ``total`` pixels."""
    x = np.arange(size, dtype=np.float64) + 0.5
    w = np.ones(size)
    if start > 0:
        w *= np.clip((x - halo) / max(blend, 1), 0, 1) if blend else (x >= halo + 0.5)
    if start + size < total:
        y = size - x
        w *= np.clip((y - halo) / max(blend, 1), 0, 1) if blend else (y >= halo + 0.5)
    return w


def _window(x: np.ndarray, win: tuple[slice, ...], device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x[win]))[None].to(device)


@torch.no_grad()
def predict_tiled(net: FusionNet, coarse: np.ndarray, fine_refs: Sequence[np.ndarray],
                  coarse_refs: Sequence[np.ndarray], *, tile: int, blend: int, device: torch.device,
                  progress: bool = False) -> np.ndarray:
    """The network's (C, H, W) prediction from (C, H, W) inputs, over tiles; see the module docstring."""
    from tqdm.auto import tqdm

    net.eval()
    m, halo = net.info.multiple, net.info.halo
    _, h, w = coarse.shape
    H, W = _round_up(h, m), _round_up(w, m)
    overlap = _round_up(2 * halo + blend, m)
    tile = max(_round_up(tile, m), overlap + m)
    step = tile - overlap

    def pad(x: np.ndarray) -> np.ndarray:
        return np.pad(x, ((0, 0), (0, H - h), (0, W - w)), mode="edge")

    c, frs, crs = pad(coarse), [pad(x) for x in fine_refs], [pad(x) for x in coarse_refs]
    out = np.zeros((coarse.shape[0], H, W))
    weight = np.zeros((H, W))
    rows, cols = _starts(H, tile, step), _starts(W, tile, step)
    windows = [(r, q) for r in rows for q in cols]
    for r, q in tqdm(windows, desc=f"{net.name} tiles", disable=not progress or len(windows) < 2, leave=False):
        th, tw = min(tile, H), min(tile, W)
        win = (slice(None), slice(r, r + th), slice(q, q + tw))
        pred = net(_window(c, win, device), [_window(x, win, device) for x in frs],
                   [_window(x, win, device) for x in crs])[0].float().cpu().numpy()
        wgt = np.outer(_ramp(r, th, H, halo, blend), _ramp(q, tw, W, halo, blend))
        out[win] += pred * wgt
        weight[r:r + th, q:q + tw] += wgt
    return (out / weight)[:, :h, :w].astype(np.float32)
