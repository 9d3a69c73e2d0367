"""The fine-resolution truth: land-cover fields, texture, flood and harvest patches, rendering by date."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from .synthetic_config import SyntheticConfig
from .synthetic_spectra import GREEN, SOIL, WATER, class_weights, crop_classes, green_fraction

FIELD_AREA = 600  # mean field (Voronoi cell) area in fine pixels
PHENOLOGY_JITTER = 5.0  # standard deviation of a field's phenology shift, days
FLOOD_RADIUS = 0.1  # flood patch radius as a fraction of the shorter image side


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Spatially correlated Gaussian noise with zero mean and unit standard deviation."""
    z = ndimage.gaussian_filter(rng.standard_normal(shape, dtype=np.float32), sigma, mode="wrap")
    z -= z.mean()
    return z / (z.std() or 1.0)


@dataclass(frozen=True, eq=False)
class Landscape:
    """Static layers of the fine truth; `render` gives the reflectance at a date."""

    classes: np.ndarray  # (rows, cols) uint8 class index
    fields: np.ndarray  # (rows, cols) field (Voronoi cell) index
    field_class: np.ndarray  # (fields,) class of each field
    field_shift: np.ndarray  # (fields,) phenology delay in days
    texture: np.ndarray  # (rows, cols) multiplicative texture around 1
    flood: np.ndarray  # (rows, cols) bool: turns to water from flood_date on
    harvest: np.ndarray  # (rows, cols) bool: turns to bare soil from harvest_date on

    def render(self, date: _dt.date, config: SyntheticConfig) -> np.ndarray:
        """Reflectance (bands, rows, cols) float32 at ``date``."""
        doy = date.timetuple().tm_yday
        frac = green_fraction(doy - self.field_shift, self.field_class).astype(np.float32)[self.fields]
        soil = SOIL.T[:, self.classes]
        refl = soil + frac * (GREEN.T[:, self.classes] - soil)
        if config.harvest_date is not None and date >= config.harvest_date:
            refl[:, self.harvest] = soil[:, self.harvest]
        if config.flood_date is not None and date >= config.flood_date:
            refl[:, self.flood] = np.asarray(WATER, dtype=np.float32)[:, None]
        return np.clip(refl * self.texture, 0.0, 0.6)


def _voronoi_fields(rng: np.random.Generator, shape: tuple[int, int], n_fields: int) -> np.ndarray:
    """Field index per pixel: Voronoi cells of random seeds with slightly wavy borders."""
    rows, cols = shape
    seeds = rng.uniform((0.0, 0.0), (rows, cols), size=(n_fields, 2))
    spacing = np.sqrt(rows * cols / n_fields)
    warp = 0.15 * spacing
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    yy += warp * smooth_noise(rng, shape, spacing / 4)
    xx += warp * smooth_noise(rng, shape, spacing / 4)
    _, index = cKDTree(seeds).query(np.column_stack([yy.ravel(), xx.ravel()]))
    return index.reshape(shape).astype(np.int32)


def _harvest_field(config: SyntheticConfig, fields: np.ndarray, field_class: np.ndarray) -> np.ndarray:
    """The largest field of the crop class greenest at the harvest date (all False without harvest)."""
    if config.harvest_date is None:
        return np.zeros(fields.shape, dtype=bool)
    crops = crop_classes(config.n_classes)
    doy = config.harvest_date.timetuple().tm_yday
    crop = crops[np.argmax(green_fraction(doy, crops))]
    area = np.where(field_class == crop, np.bincount(fields.ravel(), minlength=field_class.size), -1)
    return fields == np.argmax(area)


def _flood_patch(
    rng: np.random.Generator, config: SyntheticConfig, classes: np.ndarray, harvest: np.ndarray
) -> np.ndarray:
    """A wavy disk away from the harvested field, excluding pixels already water."""
    shape = classes.shape
    if config.flood_date is None:
        return np.zeros(shape, dtype=bool)
    radius = max(FLOOD_RADIUS * min(shape), 1.0)
    away = ndimage.distance_transform_edt(~harvest) if harvest.any() else np.full(shape, np.inf)
    ok = away > 1.5 * radius
    margin = int(radius)
    ok[:margin], ok[shape[0] - margin:], ok[:, :margin], ok[:, shape[1] - margin:] = False, False, False, False
    candidates = np.flatnonzero(ok)
    centre = rng.choice(candidates) if candidates.size else int(np.argmax(away))
    cy, cx = np.unravel_index(centre, shape)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    dist = np.hypot(yy - cy, xx - cx) / radius + 0.15 * smooth_noise(rng, shape, radius / 2)
    return (dist < 1.0) & (classes != 0)


def make_landscape(config: SyntheticConfig, rng: np.random.Generator) -> Landscape:
    """Draw the static layers for ``config`` from ``rng``."""
    shape = config.size
    n = config.n_classes
    n_fields = max(n, round(shape[0] * shape[1] / FIELD_AREA))
    fields = _voronoi_fields(rng, shape, n_fields)
    extra = rng.choice(n, size=n_fields - n, p=class_weights(n))
    field_class = rng.permutation(np.concatenate([np.arange(n), extra])).astype(np.uint8)
    classes = field_class[fields]
    field_shift = rng.normal(0.0, PHENOLOGY_JITTER, n_fields)
    field_tone = rng.standard_normal(n_fields).astype(np.float32)
    texture = 1.0 + config.texture * (0.8 * smooth_noise(rng, shape, 1.5) + 0.6 * field_tone[fields])
    harvest = _harvest_field(config, fields, field_class)
    flood = _flood_patch(rng, config, classes, harvest)
    return Landscape(classes, fields, field_class, field_shift, texture.astype(np.float32), flood, harvest)
