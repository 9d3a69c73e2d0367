"""Seeded synthetic fine/coarse image time series with known truth, for demos and tests of STF methods.

`make_series` draws a land-cover map (Voronoi fields of up to 8 classes with per-class spectra,
double-logistic phenology and within-class texture), a flood patch and a harvested field, renders
the fine truth at every date, and degrades it into coarse images (PSF, block mean, sensor gain and
bias, noise, optional misregistration). Optional clouds mask the fine images.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import operator
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from stfusion.core.errors import DateError, InvalidParameterError, UnknownParameterError
from stfusion.core.scene import RasterEncoding, Scene, Transform
from stfusion.core.task import FusionTask, Pair

from .synthetic_config import SyntheticConfig
from .synthetic_landscape import make_landscape
from .synthetic_sensor import add_clouds, degrade, replicate
from .synthetic_spectra import BANDS, CLASS_NAMES

CRS = "EPSG:32633"
ORIGIN = (500000.0, 5000000.0)  # (x, y) of the upper-left corner, metres
PIXEL = 30.0  # fine pixel size, metres
ENCODING = RasterEncoding(dtype="int16", scale=1e-4, offset=0.0, nodata=-9999)

# independent random streams, so e.g. adding a date does not change the map
_MAP, _SENSOR, _NOISE, _CLOUDS = range(4)

__all__ = ["BANDS", "CLASS_NAMES", "SyntheticConfig", "SyntheticSeries", "make_demo_task", "make_series"]


def _rng(config: SyntheticConfig, stream: int, date: _dt.date | None = None) -> np.random.Generator:
    key = [config.seed, stream] + ([] if date is None else [date.toordinal()])
    return np.random.default_rng(np.random.SeedSequence(key))


def _transform(pixel: float) -> Transform:
    return (pixel, 0.0, ORIGIN[0], 0.0, -pixel, ORIGIN[1])


@dataclass(frozen=True, eq=False)
class SyntheticSeries:
    """A synthetic series: per date, the fine image, its cloud-free truth and the coarse image.

    ``fine`` are the fine images (cloudy pixels masked when ``config.cloud_fraction > 0``;
    otherwise the same scenes as ``truth``), ``coarse`` the coarse images on their own grid,
    ``coarse_on_fine`` the same replicated onto the fine grid. ``classes`` is the (rows, cols)
    uint8 class map (names in ``class_names``), ``flood_mask``/``harvest_mask`` the pixels that
    change, ``gain``/``bias`` the per-band coarse sensor calibration.
    """

    config: SyntheticConfig
    dates: tuple[_dt.date, ...]
    fine: list[Scene]
    truth: list[Scene]
    coarse: list[Scene]
    coarse_on_fine: list[Scene]
    classes: np.ndarray
    class_names: tuple[str, ...]
    flood_mask: np.ndarray
    harvest_mask: np.ndarray
    gain: np.ndarray
    bias: np.ndarray

    def _index(self, i: Any) -> int:
        n = len(self.dates)
        try:
            k = operator.index(i)
        except TypeError:
            raise DateError(f"date index must be an integer, got {i!r}; give a position in series.dates") from None
        if not -n <= k < n:
            raise DateError(f"date index {k} is out of range; the series has {n} dates (indexes 0 to {n - 1})")
        return k % n

    def task(
        self, base_indexes: Sequence[int] | int, target_index: int, *, on_fine_grid: bool = True
    ) -> tuple[FusionTask, Scene]:
        """The fusion task (pairs at the base dates, coarse target) and the fine truth at the target date.

        ``on_fine_grid`` chooses the coarse images replicated onto the fine grid (the ratio is set on
        the task) or on their own coarse grid (the ratio is implied by the transforms).
        """
        bases = [base_indexes] if isinstance(base_indexes, int) else list(base_indexes)
        bases = [self._index(i) for i in bases]
        target = self._index(target_index)
        coarse = self.coarse_on_fine if on_fine_grid else self.coarse
        pairs = [Pair(self.fine[i], coarse[i]) for i in bases]
        return FusionTask(pairs, coarse[target], ratio=float(self.config.ratio)), self.truth[target]


def _config(config: SyntheticConfig | None, overrides: dict[str, Any]) -> SyntheticConfig:
    if config is not None and not isinstance(config, SyntheticConfig):
        raise InvalidParameterError(
            f"config must be a SyntheticConfig, got {type(config).__name__}; pass options as keywords instead"
        )
    names = {f.name for f in dataclasses.fields(SyntheticConfig)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise UnknownParameterError(
            f"unknown synthetic option(s) {', '.join(unknown)}; valid options: {', '.join(sorted(names))}"
        )
    return dataclasses.replace(config or SyntheticConfig(), **overrides)


def make_series(config: SyntheticConfig | None = None, **overrides: Any) -> SyntheticSeries:
    """A synthetic series for ``config`` (default `SyntheticConfig()`) with ``overrides`` applied.

    Deterministic: the same configuration gives identical arrays.
    """
    cfg = _config(config, overrides)
    land = make_landscape(cfg, _rng(cfg, _MAP))
    sensor = _rng(cfg, _SENSOR)
    gain = sensor.uniform(*cfg.gain_range, len(BANDS))
    bias = sensor.uniform(*cfg.bias_range, len(BANDS))
    fine_res, coarse_res = PIXEL, PIXEL * cfg.ratio
    common = dict(crs=CRS, bands=BANDS, encoding=ENCODING)
    fine, truth, coarse, coarse_on_fine = [], [], [], []
    for date in cfg.dates:
        day = date.isoformat()
        clear = land.render(date, cfg)
        scene = Scene(clear, None, _transform(fine_res), date=date, resolution=fine_res,
                      name=f"synthetic-truth-{day}" if cfg.cloud_fraction else f"synthetic-fine-{day}", **common)
        truth.append(scene)
        if cfg.cloud_fraction:
            cloudy, mask = add_clouds(clear, cfg.cloud_fraction, _rng(cfg, _CLOUDS, date))
            scene = scene.replace(data=cloudy, mask=mask, name=f"synthetic-fine-{day}")
        fine.append(scene)
        low = degrade(clear, cfg, gain, bias, _rng(cfg, _NOISE, date))
        coarse.append(Scene(low, None, _transform(coarse_res), date=date, resolution=coarse_res,
                            name=f"synthetic-coarse-{day}", **common))
        coarse_on_fine.append(Scene(replicate(low, cfg.ratio), None, _transform(fine_res), date=date,
                                    resolution=fine_res, name=f"synthetic-coarse-on-fine-{day}", **common))
    return SyntheticSeries(
        config=cfg, dates=cfg.dates, fine=fine, truth=truth, coarse=coarse, coarse_on_fine=coarse_on_fine,
        classes=land.classes, class_names=CLASS_NAMES[: cfg.n_classes], flood_mask=land.flood,
        harvest_mask=land.harvest, gain=gain, bias=bias,
    )


def make_demo_task(seed: int = 0) -> tuple[FusionTask, Scene]:
    """The `stfusion demo` task: a 240x240 scene, ratio 16, one early-season pair (1 June) and the
    10 August target, after the flood (20 July) and the harvest (1 August); plus the target truth."""
    return make_series(seed=seed).task([1], 3)
