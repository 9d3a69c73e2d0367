"""The HS/MS observation model of spatial-temporal-spectral fusion, and its adjoint.

A fine hyperspectral cube Z (bands, rows, cols) is seen by

* the coarse HS sensor as ``H = S(k * Z)``: a separable Gaussian point-spread function k, then
  decimation S that keeps every ``ratio``-th pixel, starting at ``ratio // 2`` (the centre of each
  ``ratio`` x ``ratio`` block for odd ratios);
* the fine MS sensor as ``M = R Z`` with R the (ms bands, hs bands) spectral response matrix.

Borders are symmetric (``cba|abcd|dcb``). `spatial_adjoint` is the exact transpose of
`spatial_degrade` (including the reflected border), so <S k Z, Y> = <Z, (S k)^T Y>; back-projection
solvers (CNMF's HS step, DC-STSF's error correction unit) use it.
"""

from __future__ import annotations

import numpy as np

from .errors import RatioError, ShapeMismatchError

FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def psf_kernel(ratio: int, fwhm: float | None = None, shift: float = 0.0) -> np.ndarray:
    """The 1-D Gaussian PSF (sums to 1) of full width at half maximum ``fwhm`` fine pixels (default
    ``ratio``), centred ``shift`` fine pixels after the coarse pixel's nominal centre.

    The kernel is odd-sized and spans +-(3 sigma + |shift|), at least the ``ratio`` pixels of a
    block. ``fwhm=0`` without shift gives no blur; with a shift, linear interpolation.
    """
    _check_ratio(ratio)
    fwhm = float(ratio if fwhm is None else fwhm)
    if not fwhm >= 0:
        raise RatioError(f"psf fwhm must be >= 0 fine pixels, got {fwhm!r}; e.g. fwhm={ratio}")
    if not np.isfinite(shift):
        raise RatioError(f"psf shift must be a finite number of fine pixels, got {shift!r}; e.g. shift=0")
    if fwhm == 0 and shift == 0:
        return np.ones(1)
    sigma = fwhm * FWHM_TO_SIGMA
    half = max(int(np.ceil(3 * sigma + abs(shift))), ratio // 2, 1)
    x = np.arange(-half, half + 1, dtype=np.float64) - shift
    k = np.exp(-0.5 * (x / sigma) ** 2) if sigma > 0 else np.clip(1.0 - np.abs(x), 0.0, None)
    return k / k.sum()


def _axes(kernel: np.ndarray | tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(rows kernel, columns kernel) from one kernel for both axes or a pair."""
    if isinstance(kernel, tuple):
        return kernel
    return kernel, kernel


def _check_ratio(ratio: int) -> None:
    if isinstance(ratio, bool) or not isinstance(ratio, (int, np.integer)) or ratio < 1:
        raise RatioError(f"ratio must be a positive integer, got {ratio!r}; e.g. ratio=3")


def _reflect_index(n: int, half: int) -> np.ndarray:
    """Indices into an axis of length ``n`` padded by ``half`` symmetric (edge-repeating) pixels each side."""
    idx = np.arange(-half, n + half)
    period = 2 * n
    idx = np.mod(idx, period)
    return np.where(idx >= n, period - 1 - idx, idx)


def _blur_axis_adjoint(y: np.ndarray, kernel: np.ndarray, axis: int) -> np.ndarray:
    half = kernel.size // 2
    n = y.shape[axis]
    shape = list(y.shape)
    shape[axis] = n + 2 * half
    padded = np.zeros(shape, dtype=y.dtype)
    moved = np.moveaxis(padded, axis, 0)
    for t, w in enumerate(kernel):
        moved[t:t + n] += w * np.moveaxis(y, axis, 0)
    out = np.zeros(np.moveaxis(y, axis, 0).shape, dtype=y.dtype)
    np.add.at(out, _reflect_index(n, half), moved)
    return np.moveaxis(out, 0, axis)


def coarse_shape(rows: int, cols: int, ratio: int) -> tuple[int, int]:
    """The coarse grid of a fine grid (whole blocks only)."""
    return rows // ratio, cols // ratio


def spatial_degrade(cube: np.ndarray, ratio: int, kernel: np.ndarray | tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``S(k * cube)`` of a (bands, rows, cols) cube whose sides are multiples of ``ratio``; ``kernel``
    is one 1-D kernel for both axes or a (rows, columns) pair (`psf_kernel`)."""
    _check_ratio(ratio)
    if cube.ndim != 3 or cube.shape[1] % ratio or cube.shape[2] % ratio:
        raise ShapeMismatchError(
            f"cube of shape {cube.shape} is not (bands, rows, cols) with sides multiples of {ratio}; crop it"
        )
    rows, cols = cube.shape[1] // ratio, cube.shape[2] // ratio
    return degrade_window(cube, ratio, kernel, origin=(0, 0), full=cube.shape[1:], rows=slice(0, rows),
                          cols=slice(0, cols))


def _reflect(idx: np.ndarray, n: int) -> np.ndarray:
    """Symmetric (edge-repeating) reflection of indices into an axis of length ``n``."""
    idx = np.mod(idx, 2 * n)
    return np.where(idx >= n, 2 * n - 1 - idx, idx)


def _blur_at(x: np.ndarray, kernel: np.ndarray, axis: int, centres: np.ndarray, n: int, start: int) -> np.ndarray:
    """The blur along ``axis`` (symmetric borders) of an axis of length ``n``, evaluated only at the
    global ``centres``, from the part ``x`` that starts at global index ``start``."""
    half = kernel.size // 2
    shape = list(x.shape)
    shape[axis] = centres.size
    out = np.zeros(shape, dtype=x.dtype if x.dtype.kind == "f" else np.float64)
    for t, w in enumerate(kernel):
        idx = _reflect(centres - half + t, n) - start
        if idx.min() < 0 or idx.max() >= x.shape[axis]:
            raise ShapeMismatchError(f"the window lacks the PSF's reach on axis {axis}; read it with more context")
        out += w * np.take(x, idx, axis=axis)
    return out


def degrade_window(part: np.ndarray, ratio: int, kernel: np.ndarray | tuple[np.ndarray, np.ndarray], *,
                   origin: tuple[int, int], full: tuple[int, int], rows: slice, cols: slice) -> np.ndarray:
    """`spatial_degrade` of a whole fine image of shape ``full`` at coarse pixels ``rows`` x ``cols``,
    from ``part``, its fine pixels starting at ``origin`` (which must hold the PSF's reach, borders
    reflected as in `spatial_degrade`). Equal to cropping `spatial_degrade` of the whole image."""
    _check_ratio(ratio)
    kr, kc = _axes(kernel)
    o = ratio // 2
    centres_r = np.arange(rows.start, rows.stop) * ratio + o
    centres_c = np.arange(cols.start, cols.stop) * ratio + o
    blurred = _blur_at(part, kr, 1, centres_r, full[0], origin[0])
    return _blur_at(blurred, kc, 2, centres_c, full[1], origin[1])


def spatial_adjoint(coarse: np.ndarray, ratio: int, kernel: np.ndarray | tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The transpose of `spatial_degrade`: zero-filled upsampling by ``ratio``, then the adjoint blur."""
    _check_ratio(ratio)
    b, r, c = coarse.shape
    up = np.zeros((b, r * ratio, c * ratio), dtype=np.result_type(coarse, np.float64))
    o = ratio // 2
    up[:, o::ratio, o::ratio] = coarse
    kr, kc = _axes(kernel)
    return _blur_axis_adjoint(_blur_axis_adjoint(up, kc, 2), kr, 1)


def spectral_degrade(cube: np.ndarray, srf: np.ndarray) -> np.ndarray:
    """``R cube`` for a (ms bands, hs bands) response matrix ``srf``."""
    srf = np.asarray(srf)
    if srf.ndim != 2 or srf.shape[1] != cube.shape[0]:
        raise ShapeMismatchError(f"srf of shape {srf.shape} does not fit a cube of {cube.shape[0]} bands")
    return np.einsum("kb,brc->krc", srf, cube)
