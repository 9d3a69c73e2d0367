"""A simulated STSF pair that imitates a real one: responses the methods are not told.

`simulate_stsf` gives the methods the exact SRF and uses the PSF they assume. A real pair (Hyperion
with ALI, PRISMA or EnMAP with Sentinel-2) has neither: `simulate_blind_stsf` builds the MS and
HS sensors from a seeded draw of

* per MS band (the four 10 m Sentinel-2 bands by name): a Gaussian SRF with its centre shifted by
  up to +-15 nm and its FWHM widened 1.2-1.6 times, a gain of 0.9-1.1 and an offset of +-0.02;
* the MS band nearest an end of the HS range moved so that about a quarter of its response lies
  outside the range; the reflectance there is the end band's times a smooth spatial field of
  0.8-1.2 that the HS cube does not see (so no linear response of the HS bands explains it);
* an HS PSF 1.5 times wider than the default (FWHM 1.5 ``ratio`` fine pixels) shifted by 0.3 HS
  pixels down and 0.3 HS pixels left;
* Gaussian noise of 1 % of each band's mean in the HS image and 0.5 % in the MS images.

The task carries no SRF (``task.srf`` is None); the truths are noise-free. t2 is SIMULATED by
`stfusion.data.stsf_sim.simulate_change`, as in `simulate_stsf`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stfusion.core.observation import FWHM_TO_SIGMA, psf_kernel, spatial_degrade
from stfusion.core.scene import Scene
from stfusion.core.task import STSFTask

from .srf import SENTINEL2_BANDS
from .stsf_sim import TEN_METRE_BANDS, SimulatedSTSF, _smooth_field, simulate_change, wavelengths


@dataclass(frozen=True)
class BlindSensor:
    """The drawn sensor pair: per MS band ``centre``/``fwhm`` (nm), ``gain``, ``offset`` and the
    fraction ``outside`` of its response beyond the HS range; the HS ``psf_fwhm`` and ``shift``
    (dy, dx) in fine pixels."""

    bands: tuple[str, ...]
    centre: np.ndarray
    fwhm: np.ndarray
    gain: np.ndarray
    offset: np.ndarray
    outside: np.ndarray
    psf_fwhm: float
    shift: tuple[float, float]


def draw_sensor(wl: np.ndarray, ratio: int, rng: np.random.Generator,
                bands: tuple[str, ...] = TEN_METRE_BANDS) -> BlindSensor:
    """A seeded `BlindSensor` for HS band centres ``wl`` (nm); see the module docstring."""
    nominal = np.array([SENTINEL2_BANDS[b][1] for b in bands])
    centre = nominal + rng.uniform(-15.0, 15.0, len(bands))
    fwhm = np.array([SENTINEL2_BANDS[b][2] for b in bands]) * rng.uniform(1.2, 1.6, len(bands))
    lo, hi = float(wl.min()), float(wl.max())
    edge = int(np.argmin(np.minimum(centre - lo, hi - centre)))
    sigma = fwhm[edge] * FWHM_TO_SIGMA
    centre[edge] = lo + 0.67 * sigma if centre[edge] - lo < hi - centre[edge] else hi - 0.67 * sigma
    grid = np.arange(lo - 400.0, hi + 400.0, 1.0)
    outside = np.empty(len(bands))
    for k in range(len(bands)):
        g = np.exp(-0.5 * ((grid - centre[k]) / (fwhm[k] * FWHM_TO_SIGMA)) ** 2)
        outside[k] = g[(grid < lo) | (grid > hi)].sum() / g.sum()
    return BlindSensor(tuple(bands), centre, fwhm, rng.uniform(0.9, 1.1, len(bands)),
                       rng.uniform(-0.02, 0.02, len(bands)), outside, 1.5 * ratio, (0.3 * ratio, -0.3 * ratio))


def _in_range_srf(wl: np.ndarray, sensor: BlindSensor) -> np.ndarray:
    """(ms, hs) Gaussian weights at the HS band centres (times the band spacing), rows summing to one."""
    spacing = np.gradient(wl) if wl.size > 1 else np.ones(1)
    rows = [np.exp(-0.5 * ((wl - c) / (f * FWHM_TO_SIGMA)) ** 2) * spacing for c, f in zip(sensor.centre, sensor.fwhm)]
    return np.array([r / r.sum() for r in rows])


def observe_ms(cube: np.ndarray, wl: np.ndarray, sensor: BlindSensor, field: np.ndarray) -> np.ndarray:
    """The noise-free MS image of a fine HS cube; ``field`` (rows, cols) scales the reflectance
    beyond the HS range (see the module docstring)."""
    srf = _in_range_srf(wl, sensor)
    inside = np.einsum("kb,brc->krc", srf, cube)
    out = np.empty_like(inside)
    for k in range(len(sensor.bands)):
        end = cube[0] if sensor.centre[k] - wl.min() < wl.max() - sensor.centre[k] else cube[-1]
        p = sensor.outside[k]
        out[k] = sensor.gain[k] * ((1 - p) * inside[k] + p * end * field) + sensor.offset[k]
    return out


def simulate_blind_stsf(cube: Scene, *, ratio: int = 3, change: str = "senescence", seed: int = 0) -> SimulatedSTSF:
    """A simulated STSF experiment with unknown responses, gains, PSF, shift and noise (module docstring)."""
    wl = wavelengths(cube)
    rng = np.random.default_rng(seed + 7919)
    sensor = draw_sensor(wl, ratio, rng)
    rows, cols = cube.height - cube.height % ratio, cube.width - cube.width % ratio
    fine = cube.replace(data=np.asarray(cube.data)[:, :rows, :cols], mask=np.asarray(cube.mask)[:rows, :cols])
    t1 = np.asarray(fine.masked(0.0), dtype=np.float64)
    t2, patch = simulate_change(t1, wl, change=change, seed=seed)
    dy, dx = sensor.shift
    kernels = psf_kernel(ratio, sensor.psf_fwhm, dy), psf_kernel(ratio, sensor.psf_fwhm, dx)
    coarse = spatial_degrade(t1, ratio, kernels)
    coarse += 0.01 * coarse.mean(axis=(1, 2))[:, None, None] * rng.standard_normal(coarse.shape)
    field = 0.8 + 0.4 * _smooth_field(rng, (rows, cols), max(rows, cols) / 6.0)
    a, b, c, d, e, f = fine.transform
    hs = fine.replace(data=coarse.astype(np.float32), mask=None, transform=(a * ratio, b * ratio, c, d * ratio, e * ratio, f),
                      resolution=None if fine.resolution is None else fine.resolution * ratio,
                      name=f"{cube.name} HS t1 (coarse, unknown PSF)")

    def ms(z: np.ndarray, label: str) -> Scene:
        clean = observe_ms(z, wl, sensor, field)
        noisy = clean + 0.005 * np.abs(clean.mean(axis=(1, 2)))[:, None, None] * rng.standard_normal(clean.shape)
        return fine.replace(data=noisy.astype(np.float32), bands=sensor.bands, name=f"{cube.name} MS {label} (unknown SRF)")

    task = STSFTask(hs=hs, ms=ms(t1, "t1"), ms_target=ms(t2, "t2 (simulated)"), ratio=float(ratio), srf=None)
    return SimulatedSTSF(task=task, t1=fine.replace(data=t1.astype(np.float32), name=f"{cube.name} HS t1"),
                         t2=fine.replace(data=t2.astype(np.float32), name=f"{cube.name} HS t2 (simulated)"),
                         patch=patch)
