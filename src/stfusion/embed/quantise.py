"""int8 embedding maps with one float32 scale per pixel, as the released TESSERA maps store them.

``scale = max|e| / 127`` over the pixel's channels (clamped at 1e-8), ``q = clip(round(e / scale),
-128, 127)`` as int8, and ``e ≈ q * scale``; the rounding error is at most ``scale / 2`` per value.
No-data pixels get q = 0 and a NaN scale (the Zarr convention: a 0.0 scale is a true zero vector).
"""

from __future__ import annotations

import numpy as np

from stfusion.core.errors import ShapeMismatchError


def quantise(embedding: np.ndarray, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(int8 values (..., D), float32 scales (...)) of a float embedding map (..., D)."""
    e = np.asarray(embedding, dtype=np.float32)
    if e.ndim < 2:
        raise ShapeMismatchError(f"embedding has shape {e.shape}; expected (..., channels)")
    top = np.abs(e).max(axis=-1)
    scale = np.maximum(top / 127.0, 1e-8).astype(np.float32)
    scale = np.where(top == 0, np.float32(0.0), scale)
    q = np.clip(np.rint(e / np.where(scale > 0, scale, 1.0)[..., None]), -128, 127).astype(np.int8)
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != e.shape[:-1]:
            raise ShapeMismatchError(f"valid has shape {valid.shape}; expected {e.shape[:-1]}")
        q[~valid] = 0
        scale = np.where(valid, scale, np.float32(np.nan))
    return q, scale.astype(np.float32)


def dequantise(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """float32 embeddings ``q * scale``; NaN where the scale is NaN (no data)."""
    q, scale = np.asarray(q), np.asarray(scale, dtype=np.float32)
    if q.shape[:-1] != scale.shape and q.shape != scale.shape:
        raise ShapeMismatchError(f"scales of shape {scale.shape} do not fit values of shape {q.shape}")
    s = scale[..., None] if scale.shape != q.shape else scale
    return q.astype(np.float32) * s
