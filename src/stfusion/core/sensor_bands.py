"""Nominal band centres and widths of the MS sensors stfusion knows by name (Sentinel-2A MSI, Landsat-8 OLI)."""

from __future__ import annotations

SENTINEL2_BANDS: dict[str, tuple[str, float, float]] = {
    "blue": ("2", 492.4, 66.0),
    "green": ("3", 559.8, 36.0),
    "red": ("4", 664.6, 31.0),
    "rededge1": ("5", 704.1, 15.0),
    "rededge2": ("6", 740.5, 15.0),
    "rededge3": ("7", 782.8, 20.0),
    "nir": ("8", 832.8, 106.0),
    "nir08": ("8A", 864.7, 21.0),
    "swir1": ("11", 1613.7, 91.0),
    "swir2": ("12", 2202.4, 175.0),
}
"""Sentinel-2A MSI bands B2-B8, B8A, B11, B12: (pyrsr band key, centre nm, FWHM nm)."""

LANDSAT8_BANDS: dict[str, tuple[str, float, float]] = {
    "coastal": ("1", 443.0, 16.0),
    "blue": ("2", 482.0, 60.0),
    "green": ("3", 561.4, 57.0),
    "red": ("4", 654.6, 37.0),
    "nir": ("5", 864.7, 28.0),
    "swir1": ("6", 1608.9, 85.0),
    "swir2": ("7", 2200.7, 187.0),
}
"""Landsat-8 OLI reflective bands 1-7: (pyrsr band key, centre nm, FWHM nm)."""
