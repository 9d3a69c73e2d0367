"""Operations shared by the STSF methods: cubic upsampling, the task's arrays with the responses
between the sensors (known or estimated, `stsf_response`), regression, and the output scene.

Grid convention (`stfusion.core.observation`): coarse pixel i is centred on fine pixel
``i * ratio + ratio // 2``. Inputs are cropped to whole coarse blocks; the output covers the
cropped MS grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from stfusion.core.observation import spatial_degrade
from stfusion.core.scene import Scene
from stfusion.core.stsf_block import StsfSource
from stfusion.core.task import STSFTask

from .stsf_response import Psf, SpectralResponse, estimate_psf, estimate_srf


def _keys(t: np.ndarray, a: float = -0.5) -> np.ndarray:
    t = np.abs(t)
    return np.where(t <= 1, (a + 2) * t**3 - (a + 3) * t**2 + 1,
                    np.where(t < 2, a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a, 0.0))


def cubic_matrix(n_coarse: int, ratio: int) -> sp.csr_matrix:
    """(n_coarse * ratio, n_coarse) sparse cubic-convolution interpolation (Keys, a = -0.5), reflected borders."""
    n_fine = n_coarse * ratio
    pos = (np.arange(n_fine) - ratio // 2) / ratio  # fine pixel centres in coarse pixel units
    base = np.floor(pos).astype(int)
    rows, cols, vals = [], [], []
    for off in (-1, 0, 1, 2):
        j = base + off
        w = _keys(pos - j)
        j = np.abs(j)
        j = np.where(j >= n_coarse, 2 * n_coarse - 2 - j, j) if n_coarse > 1 else np.zeros_like(j)
        rows.append(np.arange(n_fine))
        cols.append(np.clip(j, 0, n_coarse - 1))
        vals.append(w)
    m = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_fine, n_coarse))
    m.sum_duplicates()
    return m


def upsample(cube: np.ndarray, ratio: int) -> np.ndarray:
    """Cubic-convolution upsampling of a (bands, rows, cols) cube by ``ratio`` (rows then columns)."""
    b, r, c = cube.shape
    mr, mc = cubic_matrix(r, ratio), cubic_matrix(c, ratio)
    out = np.empty((b, r * ratio, c * ratio), dtype=np.float64)
    for k in range(b):
        out[k] = (mc @ (mr @ cube[k]).T).T
    return out


@dataclass(frozen=True)
class Inputs:
    """The arrays of an STSF task on whole coarse blocks (float64, invalid pixels filled by band
    means), with the responses between the sensors (given, or estimated by `stsf_response`)."""

    hs: np.ndarray  # (B, r, c)
    ms: np.ndarray  # (b, r * ratio, c * ratio)
    ms_target: np.ndarray | None
    mask: np.ndarray  # fine-grid validity of the output
    ratio: int
    psf: Psf
    response: SpectralResponse

    @property
    def kernel(self) -> tuple[np.ndarray, np.ndarray]:
        """The (rows, columns) 1-D PSF kernels."""
        return self.psf.kernels(self.ratio)

    @property
    def srf(self) -> np.ndarray:
        """The (ms bands, hs bands) spectral response (row sums: the gains between the sensors)."""
        return self.response.srf

    def degrade(self, fine: np.ndarray) -> np.ndarray:
        """A fine-grid cube seen by the HS sensor (the observation model)."""
        return spatial_degrade(fine, self.ratio, self.kernel)


SAMPLE_FINE = 768
"""The responses are estimated on a central window of about this many fine pixels per side..."""
SAMPLE_MIN = 48
"""...and of at least this many coarse pixels per side (the whole task when it is smaller)."""


def sample_window(shape: tuple[int, int], ratio: int, fine: int = SAMPLE_FINE) -> tuple[slice, slice]:
    """The central window of a coarse ``shape``, about ``fine`` fine pixels a side, on which the
    responses are estimated (the whole grid for small tasks), so a scene of any size costs the
    same and in-memory and streamed runs agree."""
    side = max(SAMPLE_MIN, fine // ratio)
    rows, cols = (min(n, side) for n in shape)
    r0, c0 = (shape[0] - rows) // 2, (shape[1] - cols) // 2
    return slice(r0, r0 + rows), slice(c0, c0 + cols)


def _wavelengths(scene: Scene) -> np.ndarray | None:
    try:
        wl = np.array([float(str(b).removesuffix("nm")) for b in scene.bands or ()], dtype=np.float64)
    except ValueError:
        return None
    return wl if wl.size == scene.count else None


def responses(source: StsfSource, psf_fwhm: float | None, *, warn: bool = True) -> tuple[Psf, SpectralResponse]:
    """The PSF of FWHM ``psf_fwhm`` (estimated with its shift when None) and the SRF of the source's
    task (estimated with gains and offsets when None; see `stsf_response`), from the `sample_window`."""
    task, ratio = source.task, source.ratio
    assert task is not None, "the responses need the task's band names and SRF"
    blk = source.read(*sample_window(source.shape, ratio))
    psf = estimate_psf(blk.hs, blk.ms, ratio, blk.valid) if psf_fwhm is None else Psf(float(psf_fwhm))
    if task.srf is not None:
        srf = np.asarray(task.srf, dtype=np.float64)
        return psf, SpectralResponse(srf, np.zeros(srf.shape[0]), np.full(srf.shape[0], np.nan))
    low = spatial_degrade(blk.ms, ratio, psf.kernels(ratio))
    response = estimate_srf(blk.hs, low, wavelengths=_wavelengths(task.hs), ms_bands=tuple(task.ms.bands or ()),
                            valid=blk.valid, warn=warn)
    return psf, response


def prepare(task: STSFTask, psf_fwhm: float | None, *, warn: bool = True) -> Inputs:
    """The task's arrays cropped to whole coarse blocks, with invalid pixels filled by band means,
    the output mask, and the responses (`responses`)."""
    source = StsfSource.from_task(task)
    psf, response = responses(source, psf_fwhm, warn=warn)
    return window_inputs(source, (slice(0, source.shape[0]), slice(0, source.shape[1])), psf, response)


def window_inputs(source: StsfSource, window: tuple[slice, slice], psf: Psf, response: SpectralResponse) -> Inputs:
    """The `Inputs` of the coarse ``window`` of ``source``, with the given responses."""
    blk = source.read(*window)
    return Inputs(blk.hs, blk.ms, blk.ms_target, blk.mask, source.ratio, psf, response)


def regress_bands(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Least-squares coefficients (y bands, x bands + 1) of ``y ≈ C [x; 1]`` over pixels."""
    xs = np.vstack([x.reshape(x.shape[0], -1), np.ones((1, x[0].size))])
    coef, *_ = np.linalg.lstsq(xs.T, y.reshape(y.shape[0], -1).T, rcond=None)
    return coef.T


def apply_regression(coef: np.ndarray, x: np.ndarray, *, intercept: bool = True) -> np.ndarray:
    """``C [x; 1]`` (or ``C[:, :-1] x`` without the intercept) for a (bands, rows, cols) ``x``."""
    out = np.einsum("kb,brc->krc", coef[:, :-1], x)
    return out + coef[:, -1][:, None, None] if intercept else out


def output_scene(task: STSFTask, data: np.ndarray, mask: np.ndarray, name: str) -> Scene:
    """The fused fine HS image on the (cropped) MS grid of the prediction date, with the HS band names
    (the wavelengths, when the HS image has them)."""
    ref = task.ms_target if task.ms_target is not None else task.ms
    rows, cols = data.shape[1:]
    return ref.replace(data=data[:, :rows, :cols].astype(np.float32), mask=mask, bands=task.hs.bands, name=name)
