"""The IFSDAF NDVI time series (Liu et al. 2019): 9 cloudy Landsat-8 NDVI dates and 23 MODIS
16-day NDVI composites of 2015, with the DOY 287 prediction protocol."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from stfusion.core.errors import DateError, NoDataError
from stfusion.core.scene import Scene
from stfusion.core.task import FusionTask, Pair
from stfusion.io import align_to_fine, read_array, read_scene

from .data_root import dataset_dir
from .stf_sets import STFCase

LIU_2019_IFSDAF = (
    "Liu, M., Yang, W., Zhu, X., Chen, J., Chen, X., Yang, L., Helmer, E.H. (2019). An Improved Flexible "
    "Spatiotemporal DAta Fusion (IFSDAF) method for producing high spatiotemporal resolution normalized "
    "difference vegetation index time series. Remote Sensing of Environment 227, 74-89."
)

YEAR = 2015
COMPOSITE_DAYS = 16
IFSDAF_RATIO = 8.0
"""240 m MODIS NDVI over 30 m Landsat (the 'map info' pixel sizes of the headers)."""

LANDSAT_SCENES = (
    "LC81250382015104LGN00", "LC81260382015191LGN00", "LC81250382015200LGN00",
    "LC81250382015216LGN00", "LC81260382015239LGN00", "LC81250382015248LGN00",
    "LC81260382015287LGN00", "LC81250382015344LGN00", "LC81250382015360LGN00",
)
"""Landsat-8 scene IDs (path/row 125038 and 126038, both cut to the same 552 x 576 grid), by date."""

CFMASK_VALID = (0, 1)
"""cfmask codes kept as valid: 0 clear land, 1 clear water (2 shadow, 3 snow, 4 cloud and 255 fill are not)."""

TARGET_DATE = _dt.date(2015, 10, 14)
"""DOY 287: the cloud-free image to predict (it has no mask file: every pixel is valid)."""


def composite_start(index: int) -> _dt.date:
    """First day of MODIS composite ``index`` (0-based): DOY 1 + 16 * index of 2015."""
    return _dt.date(YEAR, 1, 1) + _dt.timedelta(days=COMPOSITE_DAYS * index)


@dataclass(frozen=True, eq=False)
class NDVISeries:
    """Fine and coarse NDVI series on one extent.

    ``fine``: Landsat-8 NDVI scenes (30 m) by date; mask = cfmask clear or water (`CFMASK_VALID`).
    ``cfmask``: the raw cfmask codes per fine date (None where no mask file exists).
    ``coarse``: the 23 MODIS composites (240 m, own grid); each dated by its first day.
    ``landcover``: 4-class map (uint8, classes 1-4) on the fine grid.
    """

    name: str
    fine: tuple[Scene, ...]
    cfmask: tuple[np.ndarray | None, ...]
    coarse: tuple[Scene, ...]
    landcover: np.ndarray
    ratio: float
    description: str
    citation: str

    @property
    def dates(self) -> tuple[_dt.date, ...]:
        """The Landsat dates."""
        return tuple(s.date for s in self.fine)  # type: ignore[misc]

    def fine_at(self, date: _dt.date) -> Scene:
        """The Landsat scene of ``date``."""
        if date not in self.dates:
            raise DateError(
                f"no Landsat image on {date.isoformat()}; use one of: {', '.join(d.isoformat() for d in self.dates)}"
            )
        return self.fine[self.dates.index(date)]

    def clear_fraction(self, date: _dt.date) -> float:
        """Fraction of valid (clear or water) pixels of the Landsat scene of ``date``."""
        return float(np.mean(self.fine_at(date).mask))

    def composite_for(self, date: _dt.date) -> Scene:
        """The MODIS composite whose 16-day period contains ``date``, dated ``date``."""
        index = (date - composite_start(0)).days // COMPOSITE_DAYS
        if not 0 <= index < len(self.coarse):
            raise DateError(
                f"{date.isoformat()} is outside the MODIS composites ({composite_start(0).isoformat()} to "
                f"{(composite_start(len(self.coarse)) - _dt.timedelta(days=1)).isoformat()}); give a date in {YEAR}"
            )
        return self.coarse[index].replace(date=date)

    def case(
        self, target: _dt.date = TARGET_DATE, *, pairs: Sequence[_dt.date] | None = None, min_clear: float = 0.8,
        align: bool = True,
    ) -> STFCase:
        """The STF protocol: predict the Landsat NDVI of ``target`` from Landsat/MODIS pairs and the
        MODIS composite containing ``target``.

        Default pair: the nearest Landsat date before ``target`` whose clear fraction is at least
        ``min_clear`` (for DOY 287: DOY 248, 2015-09-05, 84 % clear, which is also the nearest
        earlier date). Only earlier dates qualify, as when the prediction is made in near real
        time. Each coarse image is the composite whose period contains the date (`composite_for`).
        Cloudy pixels stay masked in the pair; the truth keeps its own mask. With ``align`` (the
        default) the composites are put on the Landsat grid by area averaging (`align_to_fine`:
        each 240 m pixel covers 8 x 8 fine pixels), so every method runs on the task as it is;
        ``align=False`` keeps them on their own grid.
        """
        truth = self.fine_at(target)
        if pairs is None:
            earlier = [d for d in self.dates if d < target and self.clear_fraction(d) >= min_clear]
            if not earlier:
                raise NoDataError(
                    f"no Landsat date before {target.isoformat()} is at least {min_clear:.0%} clear; lower min_clear"
                )
            pairs = [max(earlier)]
        if target in pairs:
            raise DateError(f"the target date {target.isoformat()} is also a pair date; choose other pair dates")
        grid = self.fine_at(pairs[0])

        def coarse(d: _dt.date) -> Scene:
            return align_to_fine(self.composite_for(d), grid) if align else self.composite_for(d)

        task = FusionTask([Pair(self.fine_at(d), coarse(d)) for d in pairs], coarse(target), ratio=self.ratio)
        used = ", ".join(d.isoformat() for d in pairs)
        return STFCase(
            self.name,
            task,
            truth,
            self.ratio,
            f"IFSDAF NDVI series: predict Landsat-8 NDVI of {target.isoformat()} from the {used} pair(s) "
            "and MODIS 16-day composites",
            self.citation,
            classes=self.landcover,
        )


def load_ifsdaf_ndvi_series(root: Path) -> NDVISeries:
    """The IFSDAF test series (Liu et al. 2019): Landsat-8 NDVI (ENVI int16, NDVI x 10000, date from
    the scene ID's day of year) with cfmask cloud masks, MODIS 16-day NDVI composites at 240 m
    (ratio 8; band i starts on DOY 1 + 16 i) and a 4-class land-cover map.

    Both path/rows (125038, 126038) were cut to one 552 x 576 grid. The headers' 'map info'
    (30 m and 240 m pixels, same corner) gives the fine and coarse transforms.
    """
    d = dataset_dir(root, "ifsdaf_ndvi_series")
    fine, masks = [], []
    for scene_id in LANDSAT_SCENES:
        ndvi = read_scene(d / f"{scene_id}_ndvi", bands=("ndvi",), name=scene_id)
        mask_file = d / f"{scene_id}_mask"
        if mask_file.is_file():
            codes = read_array(mask_file)[0][0]
            ndvi = ndvi.replace(mask=np.asarray(ndvi.mask) & np.isin(codes, CFMASK_VALID))
            masks.append(codes)
        else:
            masks.append(None)
        fine.append(ndvi)
    modis = read_scene(d / "MOD_16Day_ndvi", name="MOD_16Day_ndvi")
    coarse = tuple(
        modis.select_bands([i]).replace(bands=("ndvi",), date=composite_start(i), name=f"MOD_16Day_ndvi[{i + 1}]")
        for i in range(modis.count)
    )
    return NDVISeries(
        name="ifsdaf_ndvi_series",
        fine=tuple(fine),
        cfmask=tuple(masks),
        coarse=coarse,
        landcover=read_array(d / "landcover")[0][0],
        ratio=IFSDAF_RATIO,
        description="IFSDAF 2015 NDVI: 9 cloudy Landsat-8 dates (30 m) and 23 MODIS 16-day composites (240 m)",
        citation=LIU_2019_IFSDAF,
    )
