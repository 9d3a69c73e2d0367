"""Responses estimated from the blind STSF pairs against the simulated ones (docs/methods/stsf.md).

Run: python benchmarks/stsf_responses.py   (needs ../shared/data)
"""

from __future__ import annotations

import numpy as np

from stfusion.core.observation import spatial_degrade
from stfusion.data import load_dataset
from stfusion.data.stsf_blind import draw_sensor
from stfusion.data.stsf_sim import wavelengths
from stfusion.methods.classical.stsf_response import estimate_psf, estimate_srf

for name in ("stsf_samson_blind", "stsf_jasper_blind"):
    task = load_dataset(name).task
    hs, ms = np.asarray(task.hs.data, float), np.asarray(task.ms.data, float)
    true = draw_sensor(wavelengths(task.hs), 3, np.random.default_rng(7919))
    psf = estimate_psf(hs, ms, 3)
    srf = estimate_srf(hs, spatial_degrade(ms, 3, psf.kernels(3)), wavelengths=wavelengths(task.hs),
                       ms_bands=task.ms.bands)
    print(f"{name}: PSF fwhm {psf.fwhm:.3f} (true {true.psf_fwhm:.3f}), shift ({psf.dy:.3f}, {psf.dx:.3f}) "
          f"(true {true.shift[0]:.3f}, {true.shift[1]:.3f})")
    print(f"  gain {np.round(srf.gain, 3)} (true {np.round(true.gain, 3)}); offset {np.round(srf.offset, 4)} "
          f"(true {np.round(true.offset, 4)}); R² {np.round(srf.r2, 4)}")
