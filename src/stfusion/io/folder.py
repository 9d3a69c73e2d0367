"""User folders of dated rasters: find them (`scan_folder`, `scan_images` with cloud-mask sidecars),
read them with their masks (`read_masked`) and pair fine with coarse dates (`load_series`)."""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Sequence

import numpy as np

from stfusion.core.errors import DateError, FileFormatError, ShapeMismatchError
from stfusion.core.scene import Scene
from stfusion.core.task import Pair

from .dates import parse_date
from .products.base import Product
from .read import read_array, read_scene
from .sensors import sensor_role

RASTER_SUFFIXES = frozenset({".tif", ".tiff", ".img", ".vrt", ".jp2", ".nc", ".hdf", ".h5", ".bsq", ".bil", ".bip", ".dat"})
"""File endings read as rasters; any other file counts only when it has an ENVI ``.hdr`` sidecar."""

_SIDECARS = (".hdr", ".aux.xml", ".ovr", ".msk")

MASK_SUFFIX = "_mask"
"""A raster whose name (without its extension) ends with this is a cloud mask, not an image."""

CFMASK_CLEAR = (0, 1)
"""Mask values read as clear by default: cfmask 0 clear land and 1 clear water (2 shadow, 3 snow,
4 cloud and 255 fill are not). For a plain valid mask (1 valid, 0 invalid) use ``(1,)``."""


def _is_raster(path: Path) -> bool:
    name = path.name.lower()
    if name.startswith(".") or name.endswith(_SIDECARS):
        return False
    if path.suffix.lower() in RASTER_SUFFIXES:
        return True
    siblings = (path.with_name(path.name + ".hdr"), path.with_name(path.stem + ".hdr"))
    return any(s.is_file() or s.with_suffix(".HDR").is_file() for s in siblings)


def scan_folder(directory: str | os.PathLike[str], *, pattern: str = "*", products: bool = True
                ) -> list[tuple[_dt.date, Path]]:
    """Every raster in ``directory`` matching the glob ``pattern`` whose name holds a date, sorted by date.

    Files without a date are skipped; sidecars (``.hdr``, ``.aux.xml``, ``.ovr``) are ignored and an
    ENVI data file is recognised by its ``.hdr``. With ``products``, a downloaded product
    (`stfusion.io.products`: a Landsat C2 L2, Sentinel-2 L2A, HLS, MODIS or Sentinel-3 folder, or
    its files lying loose) is one entry, dated by the product, whose path `read_scene` reads whole
    with its QA cloud mask; its band and QA files are not listed on their own.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise FileFormatError(f"folder not found: {folder}; check the path")
    found, grouped = [], {}
    for path in sorted(folder.glob(pattern)):
        product = _product_of(path) if products else None
        if product is not None:
            if product.date is not None:
                grouped.setdefault((product.kind, product.id.upper()), (product.date, path))
        elif path.is_file() and _is_raster(path):
            date = parse_date(path.name)
            if date is not None:
                found.append((date, path))
    return sorted(found + list(grouped.values()), key=lambda item: (item[0], item[1].name))


def _product_of(path: Path) -> Product | None:
    """The product ``path`` belongs to (None for a plain file, or a folder that is no product)."""
    from .products import find_product

    if path.name.startswith(".") or path.name.lower().endswith(_SIDECARS):
        return None
    return find_product(path)


def _by_date(
    directory: str | os.PathLike[str], pattern: str, role: str, skip: Collection[Path] = (), *, by_sensor: bool = False
) -> dict[_dt.date, Path]:
    """The ``role`` rasters of ``directory`` by date; ``by_sensor``: a flat folder of both roles,
    each file placed by `sensor_role` (a file it cannot place is an error)."""
    items = [(d, p) for d, p in scan_folder(directory, pattern=pattern) if p not in skip]
    if by_sensor:
        unplaced = [p.name for _, p in items if sensor_role(p.name) is None]
        if unplaced:
            more = f" and {len(unplaced) - 3} more" if len(unplaced) > 3 else ""
            raise FileFormatError(
                f"cannot tell fine from coarse for {', '.join(unplaced[:3])}{more} in {directory}: put a sensor code "
                "in the names (LC08, LE07, S2A, HLS.L30 / MOD09, MCD43, S3A, ...) or give the fine and coarse patterns"
            )
        items = [(d, p) for d, p in items if sensor_role(p.name) == role]
    if not items:
        raise DateError(
            f"no dated {role} raster matching '{pattern}' in {directory}; name files with YYYYMMDD or YYYYDDD dates"
        )
    by_date: dict[_dt.date, Path] = {}
    for date, path in items:
        if date in by_date:
            raise DateError(
                f"two {role} rasters in {directory} have the date {date.isoformat()} ({by_date[date].name}, {path.name}); "
                "narrow the file pattern so each date matches one file"
            )
        by_date[date] = path
    return by_date


def _stem(path: Path) -> str:
    """The file name without its raster ending (ENVI data files often have none)."""
    return path.name[: -len(path.suffix)] if path.suffix.lower() in RASTER_SUFFIXES else path.name


@dataclass(frozen=True)
class DatedRaster:
    """A dated raster of a folder and its cloud-mask sidecar (``mask`` is None when it has none)."""

    date: _dt.date
    path: Path
    mask: Path | None = None


def _match_mask(image: Path, date: _dt.date, masks: list[tuple[_dt.date, Path]], suffix: str) -> Path | None:
    own = [m for _, m in masks if _stem(m) == _stem(image) + suffix]
    if own:
        return own[0]
    same_day = [m for d, m in masks if d == date]
    if len(same_day) > 1:
        raise DateError(
            f"{len(same_day)} masks in {image.parent} have the date {date.isoformat()} "
            f"({', '.join(m.name for m in same_day)}); name the mask of {image.name} {_stem(image)}{suffix}"
        )
    return same_day[0] if same_day else None


def scan_images(
    directory: str | os.PathLike[str], *, pattern: str = "*", mask_suffix: str = MASK_SUFFIX, role: str = "image",
    by_sensor: bool = False,
) -> list[DatedRaster]:
    """The dated rasters of ``directory`` matching ``pattern``, one per date, each with its mask, sorted by date.

    A raster named ``<anything><mask_suffix>`` (e.g. ``L8_20200101_mask.tif``) is a mask, never
    an image. An image's mask is ``<stem><mask_suffix>`` when it exists, else the only mask of
    the same date (so ``LC81250382015104LGN00_ndvi`` gets ``LC81250382015104LGN00_mask``).
    No dated image, or two of one date, raises `DateError` (``role`` names the folder in it).
    ``by_sensor``: the folder is flat, and ``role`` ("fine" or "coarse") picks its images by `sensor_role`.
    """
    everything = scan_folder(directory)
    masks = [(d, p) for d, p in everything if _stem(p).endswith(mask_suffix)]
    images = _by_date(directory, pattern, role, skip={p for _, p in masks}, by_sensor=by_sensor)
    if by_sensor:  # a flat folder: a mask belongs to the images of its own sensor
        masks = [(d, p) for d, p in masks if sensor_role(p.name) == role]
    return [DatedRaster(d, p, _match_mask(p, d, masks, mask_suffix)) for d, p in sorted(images.items())]


def read_masked(
    path: str | os.PathLike[str],
    mask: str | os.PathLike[str] | None = None,
    *,
    clear_codes: Sequence[float] = CFMASK_CLEAR,
    sensor: str | None = None,
) -> Scene:
    """`read_scene` of ``path``, with the pixels whose ``mask`` value is not in ``clear_codes`` made invalid.

    ``mask`` is a single-band raster on the image's pixel grid (cfmask codes by default; a 0/1
    valid mask with ``clear_codes=(1,)``). Nodata in the image stays invalid as well.
    """
    scene = read_scene(path, sensor=sensor)
    if mask is None:
        return scene
    codes, _ = read_array(mask)
    if codes.shape[0] != 1 or codes.shape[1:] != scene.shape[1:]:
        raise ShapeMismatchError(
            f"mask {Path(mask).name} is {codes.shape[0]} band(s) of {codes.shape[1]}x{codes.shape[2]} pixels but "
            f"{scene.label} is {scene.height}x{scene.width}; give a single-band mask on the image's grid"
        )
    return scene.replace(mask=np.asarray(scene.mask) & np.isin(codes[0], np.asarray(clear_codes)))


def is_flat(fine_dir: str | os.PathLike[str], coarse_dir: str | os.PathLike[str]) -> bool:
    """Whether the fine and the coarse images share one folder."""
    return Path(fine_dir).resolve() == Path(coarse_dir).resolve()


@dataclass(frozen=True)
class SeriesData:
    """Fine/coarse pairs on common dates and coarse-only targets, all sorted by date."""

    pairs: list[Pair]
    targets: list[Scene]
    fine_dates: list[_dt.date]
    coarse_dates: list[_dt.date]


def load_series(
    fine_dir: str | os.PathLike[str],
    coarse_dir: str | os.PathLike[str],
    *,
    sensor_fine: str | None = None,
    sensor_coarse: str | None = None,
    pattern: str = "*",
    fine_pattern: str | None = None,
    coarse_pattern: str | None = None,
) -> SeriesData:
    """Read a fine and a coarse folder, or one flat folder of both: split by ``fine_pattern`` /
    ``coarse_pattern``, or else by the sensor code in each file name (`sensor_role`).

    Dates with both images become `Pair`s; coarse-only dates become targets; fine-only dates are
    only listed in ``fine_dates``. ``pattern`` is the glob for both unless a per-role one is given.
    """
    flat = is_flat(fine_dir, coarse_dir) and fine_pattern is None and coarse_pattern is None
    fine = _by_date(fine_dir, fine_pattern or pattern, "fine", by_sensor=flat)
    coarse = _by_date(coarse_dir, coarse_pattern or pattern, "coarse", by_sensor=flat)
    clash = set(fine.values()) & set(coarse.values())
    if clash:
        raise DateError(
            f"{sorted(p.name for p in clash)[0]} matches both the fine and the coarse pattern; "
            "give fine_pattern and coarse_pattern that split the folder"
        )
    from .products import to_fine_crs

    fines = {d: read_scene(fine[d], sensor=sensor_fine) for d in sorted(fine.keys() & coarse.keys())}
    like = next(iter(fines.values())) if fines else read_scene(fine[min(fine)], sensor=sensor_fine)

    def coarse_scene(d: _dt.date) -> Scene:  # a product in another CRS (MODIS sinusoidal) onto the fine CRS
        return to_fine_crs(coarse[d], read_scene(coarse[d], sensor=sensor_coarse), like)

    pairs = [Pair(f, coarse_scene(d)) for d, f in fines.items()]
    targets = [coarse_scene(d) for d in sorted(coarse.keys() - fine.keys())]
    return SeriesData(pairs=pairs, targets=targets, fine_dates=sorted(fine), coarse_dates=sorted(coarse))
