"""Embedding maps: per-pixel embeddings on the grid, their int8 ``.npy`` pair, and a PCA false colour.

The ``.npy`` pair follows the released TESSERA tiles: ``NAME.npy`` int8 (rows, cols, D) and
``NAME_scales.npy`` float32 (rows, cols), NaN scale = no data. Files are written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from stfusion.core.atomic import atomic_write
from stfusion.core.errors import FileFormatError, ShapeMismatchError

from .quantise import dequantise, quantise


def to_grid(embeddings: np.ndarray, valid: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols, D) int8 values and (rows, cols) scales of (N, D) pixel embeddings."""
    if embeddings.shape[0] != shape[0] * shape[1]:
        raise ShapeMismatchError(f"{embeddings.shape[0]} embeddings do not fill a {shape} grid")
    return quantise(embeddings.reshape(*shape, -1), np.asarray(valid).reshape(shape))


def _save_npy(path: Path, array: np.ndarray) -> None:
    with atomic_write(path) as f:
        np.save(f, array, allow_pickle=False)


def save_npy_pair(q: np.ndarray, scales: np.ndarray, path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``path`` (int8 values) and ``path``'s ``_scales.npy`` twin; returns both paths."""
    p = Path(path).with_suffix(".npy")
    p.parent.mkdir(parents=True, exist_ok=True)
    s = p.with_name(p.stem + "_scales.npy")
    _save_npy(p, np.asarray(q, dtype=np.int8))
    _save_npy(s, np.asarray(scales, dtype=np.float32))
    return p, s


def load_npy_pair(path: str | os.PathLike[str]) -> np.ndarray:
    """Dequantised (rows, cols, D) float32 embeddings of a pair written by `save_npy_pair`."""
    p = Path(path).with_suffix(".npy")
    s = p.with_name(p.stem + "_scales.npy")
    try:
        return dequantise(np.load(p, allow_pickle=False), np.load(s, allow_pickle=False))
    except (OSError, ValueError) as exc:
        raise FileFormatError(f"cannot read the embedding pair {p} / {s} ({exc}); write it with `stfusion embed infer`") from None


def pca_rgb(embedding: np.ndarray) -> np.ndarray:
    """(rows, cols, 3) floats in [0, 1]: the first three principal components, 2-98 % stretched; NaN stays NaN."""
    e = np.asarray(embedding, dtype=np.float64)
    flat = e.reshape(-1, e.shape[-1])
    ok = np.isfinite(flat).all(axis=1)
    x = flat[ok] - flat[ok].mean(0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    comp = x @ vt[:3].T
    lo, hi = np.percentile(comp, 2, axis=0), np.percentile(comp, 98, axis=0)
    rgb = np.full((flat.shape[0], 3), np.nan)
    rgb[ok] = np.clip((comp - lo) / np.where(hi > lo, hi - lo, 1.0), 0, 1)
    return rgb.reshape(*e.shape[:-1], 3)
