"""Landsat–MODIS spatiotemporal-fusion test sets with their evaluation protocols (README of the data).

Each loader returns an `STFCase`: the `FusionTask` (pairs + coarse target), the fine truth at
the target date, the coarse/fine ratio, and the citation to report with results.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stfusion.core.scene import Scene
from stfusion.core.task import FusionTask, Pair
from stfusion.io import read_array, read_scene

from .data_root import dataset_dir

EMELYANOVA_2013 = (
    "Emelyanova, I.V., McVicar, T.R., Van Niel, T.G., Li, L.T., van Dijk, A.I.J.M. (2013). Assessing the "
    "accuracy of blending Landsat-MODIS surface reflectances in two landscapes with contrasting spatial and "
    "temporal dynamics: a framework for algorithm selection. Remote Sensing of Environment 133, 193-209."
)
ZHU_2010_ESTARFM = (
    "Zhu, X., Chen, J., Gao, F., Chen, X., Masek, J.G. (2010). An enhanced spatial and temporal adaptive "
    "reflectance fusion model for complex heterogeneous regions. Remote Sensing of Environment 114, 2610-2623."
)
ZHU_2016_FSDAF = (
    "Zhu, X., Helmer, E.H., Gao, F., Liu, D., Chen, J., Lefsky, M.A. (2016). A flexible spatiotemporal method "
    "for fusing satellite images with different resolutions. Remote Sensing of Environment 172, 165-177."
)

LANDSAT6 = ("blue", "green", "red", "nir", "swir1", "swir2")
GREEN_RED_NIR = ("green", "red", "nir")

CIA_RATIO = 9.3
"""MODIS blocks on the ~50 m CIA lattice are 9-10 pixels wide (463 m MODIS / 50 m): the README's 9.3."""

ESTARFM_RATIO = 15.16
"""Measured, not nominal. The ESTARFM "MODIS" images are not blocky: MOD09GA was smoothly
resampled to 30 m. Along rows they are piecewise linear with kinks (the interpolation nodes)
every 15.16 fine pixels (455 m, close to the 463 m MOD09GA cell) in all three dates; columns
show no regular lattice. The nominal 500 m / 30 m = 16.7 overstates the cell, so 15.16 is used."""

LGC_RATIO = 16.0
"""The LGC "MODIS" images are exact 16x16 block means of Landsat (simulated coarse)."""


@dataclass(frozen=True, eq=False)
class STFCase:
    """One evaluation protocol: predict ``truth`` (fine, at the target date) from ``task``.

    ``ratio`` is the native coarse/fine pixel-size ratio (also in ``task.ratio``); ``classes`` is
    a land-cover map on the fine grid when the set ships one.
    """

    name: str
    task: FusionTask
    truth: Scene
    ratio: float
    description: str
    citation: str
    classes: np.ndarray | None = None


def _case(name: str, pairs: list[Pair], target: Scene, truth: Scene, ratio: float, description: str,
          citation: str, classes: np.ndarray | None = None) -> STFCase:
    return STFCase(name, FusionTask(pairs, target, ratio=ratio), truth, ratio, description, citation, classes)


def load_cia_2date(root: Path) -> STFCase:
    """Coleambally Irrigation Area (Emelyanova et al. 2013): predict Landsat-7 2002-01-12 from the
    2001-11-25 pair and MODIS (MOD09GA, on the fine grid) of 2002-01-12. Six bands, ~50 m pixels,
    no georeference; ratio 9.3 (`CIA_RATIO`)."""
    d = dataset_dir(root, "cia_2date")

    def scene(kind: str, day: str) -> Scene:
        return read_scene(d / f"CIA_{kind}_{day}.tif", bands=LANDSAT6)

    return _case(
        "cia_2date",
        [Pair(scene("L7", "20011125"), scene("MOD09GA", "20011125"))],
        target=scene("MOD09GA", "20020112"),
        truth=scene("L7", "20020112"),
        ratio=CIA_RATIO,
        description="Coleambally irrigated crops, 6 bands: predict Landsat-7 2002-01-12 from the 2001-11-25 pair",
        citation=EMELYANOVA_2013 + " Data: CSIRO, doi:10.4225/08/5111AC0BF1229.",
    )


_ESTARFM_DATES = {"0524": _dt.date(2001, 5, 24), "0711": _dt.date(2001, 7, 11), "0812": _dt.date(2001, 8, 12)}


def _estarfm_scene(d: Path, sensor: str, mmdd: str) -> Scene:
    return read_scene(d / f"{sensor}{mmdd}", date=_ESTARFM_DATES[mmdd], bands=GREEN_RED_NIR)


def _estarfm(root: Path, name: str, base: tuple[str, ...], description: str) -> STFCase:
    d = dataset_dir(root, "estarfm_3date")
    pairs = [Pair(_estarfm_scene(d, "tm", m), _estarfm_scene(d, "modis", m)) for m in base]
    return _case(name, pairs, _estarfm_scene(d, "modis", "0711"), _estarfm_scene(d, "tm", "0711"),
                 ESTARFM_RATIO, description, ZHU_2010_ESTARFM)


def load_estarfm_3date(root: Path) -> STFCase:
    """ESTARFM test scene (Zhu et al. 2010; boreal forest, Saskatchewan; 30 m, bands most likely
    green, red, NIR): predict Landsat-7 2001-07-11 from the 2001-05-24 and 2001-08-12 pairs.
    MODIS is on the fine grid; ratio 15.16 (`ESTARFM_RATIO`, measured)."""
    return _estarfm(root, "estarfm_3date", ("0524", "0812"),
                    "ESTARFM boreal scene, 3 bands: predict 2001-07-11 from the 05-24 and 08-12 pairs")


def load_estarfm_3date_1pair(root: Path) -> STFCase:
    """The one-pair protocol of the ESTARFM scene: predict 2001-07-11 from the 2001-05-24 pair."""
    return _estarfm(root, "estarfm_3date_1pair", ("0524",),
                    "ESTARFM boreal scene, 3 bands: predict 2001-07-11 from the 05-24 pair")


def load_lgc_flood_simcoarse(root: Path) -> STFCase:
    """Lower Gwydir Catchment flood (Emelyanova et al. 2013), the FSDAF test case (Zhu et al. 2016):
    predict Landsat 2004-12-28 from the 2004-11-26 pair. The "MODIS" images are exact 16x16 block
    means of Landsat (ratio 16, on the fine grid). Bands are green, red, NIR, inferred from the
    spectra (vegetation: green >= red with a high third band; flood water: third band lowest).
    ``classes`` is the SVM map of 2004-11-26 (uint8 classes 1-4)."""
    d = dataset_dir(root, "lgc_flood_simcoarse")

    def scene(kind: str, day: str) -> Scene:
        return read_scene(d / f"{kind}{day}", bands=GREEN_RED_NIR)

    classes, _ = read_array(d / "Landsat20041126_SVM_classification")
    return _case(
        "lgc_flood_simcoarse",
        [Pair(scene("Landsat", "20041126"), scene("MODIS", "20041126"))],
        target=scene("MODIS", "20041228"),
        truth=scene("Landsat", "20041228"),
        ratio=LGC_RATIO,
        description="Lower Gwydir flood, 3 bands, simulated coarse (16x16 means): "
        "predict 2004-12-28 from the 2004-11-26 pair",
        citation=f"{EMELYANOVA_2013} Data: CSIRO, doi:10.4225/08/5111AD2B7FEE6. Test case of {ZHU_2016_FSDAF}",
        classes=classes[0],
    )
