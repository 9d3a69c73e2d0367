"""Writing a `Scene` to GeoTIFF or Cloud-Optimized GeoTIFF, atomically and with the input's encoding."""

from __future__ import annotations

import os
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.errors import CRSError, NotGeoreferencedWarning
from rasterio.transform import Affine

from stfusion.core.errors import (
    CRSMismatchError,
    DTypeError,
    FileFormatError,
    InvalidValueError,
    OutputExistsError,
    UnknownParameterError,
)
from stfusion.core.scene import RasterEncoding, Scene

from .read import DEFAULT_INT_SCALE, GDAL_ERRORS, gdal_reason

DRIVERS = ("GTiff", "COG")
_GTIFF_BLOCK = 256
_COG_BLOCK = 512
_DTYPES = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"}


def _check_encoding(enc: RasterEncoding) -> np.dtype:
    if str(enc.dtype) not in _DTYPES:
        raise DTypeError(f"cannot write dtype '{enc.dtype}'; use one of: {', '.join(sorted(_DTYPES))}")
    if not (np.isfinite(enc.scale) and enc.scale != 0 and np.isfinite(enc.offset)):
        raise InvalidValueError(
            f"encoding scale {enc.scale} / offset {enc.offset} cannot be inverted; give a finite non-zero scale"
        )
    dtype = np.dtype(enc.dtype)
    if dtype.kind in "iu" and enc.nodata is not None:
        info = np.iinfo(dtype)
        if not (np.isfinite(enc.nodata) and enc.nodata == int(enc.nodata) and info.min <= enc.nodata <= info.max):
            raise InvalidValueError(
                f"nodata {enc.nodata} does not fit dtype {dtype}; give an integer in {info.min}..{info.max}"
            )
    return dtype


def encode(data: Any, mask: Any, encoding: RasterEncoding) -> tuple[np.ndarray, RasterEncoding]:
    """Physical values (bands, rows, cols) -> stored values, and the encoding with its nodata value.

    Integers: ``round((physical - offset) / scale)`` clipped to the dtype range. Invalid pixels
    (``mask`` False) get ``nodata``; an integer encoding without nodata gets the dtype minimum
    (signed) or maximum (unsigned) when there are invalid pixels, a float one gets NaN. A valid
    value that would equal nodata moves one step away from it, so it stays valid on reading.
    """
    dtype = _check_encoding(encoding)
    valid = np.asarray(mask, dtype=bool)
    phys = np.asarray(data, dtype=np.float64)
    values = np.where(valid, phys, 0.0)
    if (encoding.scale, encoding.offset) != (1.0, 0.0):
        values = (values - encoding.offset) / encoding.scale
    nodata = encoding.nodata
    has_invalid = not valid.all()
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if nodata is None and has_invalid:
            nodata = float(info.min if dtype.kind == "i" else info.max)
        values = np.clip(np.rint(values), info.min, info.max)
        if nodata is not None:
            step = 1.0 if nodata < info.max else -1.0
            values[(values == nodata) & valid] = nodata + step
        stored = values.astype(dtype)
    else:
        if nodata is None and has_invalid:
            nodata = float("nan")
        stored = values.astype(dtype)
        if nodata is not None and not np.isnan(nodata):
            hit = (stored == nodata) & valid
            stored[hit] = np.nextafter(dtype.type(nodata), dtype.type(np.inf))
    if has_invalid:
        stored[:, ~valid] = nodata
    return stored, RasterEncoding(str(dtype), encoding.scale, encoding.offset, nodata)


def _writes_scale(enc: RasterEncoding) -> bool:
    """Scale/offset tags are written unless they are 1/0 or the default x10000 integer convention."""
    default = (DEFAULT_INT_SCALE, 0.0) if np.dtype(enc.dtype).kind in "iu" else (1.0, 0.0)
    return (enc.scale, enc.offset) not in {(1.0, 0.0), default}


def _profile(scene: Scene, enc: RasterEncoding, shape: tuple[int, int, int]) -> dict[str, Any]:
    count, rows, cols = shape
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": count,
        "dtype": enc.dtype,
        "nodata": enc.nodata,
        "tiled": True,
        "blockxsize": _GTIFF_BLOCK,
        "blockysize": _GTIFF_BLOCK,
        "compress": "deflate",
        "predictor": 3 if np.dtype(enc.dtype).kind == "f" else 2,
        "BIGTIFF": "IF_SAFER",
    }
    if scene.georeferenced:
        profile["transform"] = Affine(*scene.transform)
        if scene.crs is not None:
            try:
                profile["crs"] = rasterio.crs.CRS.from_user_input(scene.crs)
            except (CRSError, ValueError) as exc:
                raise CRSMismatchError(
                    f"scene {scene.label} has a CRS GDAL cannot parse ({scene.crs!r}); give an EPSG code or WKT"
                ) from exc
    return profile


def _write_bands(dst: Any, stored: np.ndarray) -> None:
    for i, band in enumerate(stored, start=1):
        dst.write(band, i)


def _write_gtiff(
    path: Path, scene: Scene, stored: np.ndarray, enc: RasterEncoding, profile: dict[str, Any]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path, "w", **profile) as dst:
            _write_bands(dst, stored)
            if scene.bands is not None:
                dst.descriptions = tuple(scene.bands)
            if _writes_scale(enc):
                dst.scales = (enc.scale,) * dst.count
                dst.offsets = (enc.offset,) * dst.count


def check_complete(path: Path) -> None:
    """Raise `OSError` unless the GeoTIFF at ``path`` is complete: every block stored inside the file
    and decodable.

    GDAL does not report a write that fails part-way (a full disk, a file-size limit): it leaves
    a file with missing or cut tiles, or without its directory, and returns normally. This
    catches that before the file is renamed onto the output path. It reads the file once, a
    block at a time.
    """
    size = path.stat().st_size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path) as src:
            for band in src.indexes:
                for (row, col), _ in src.block_windows(band):
                    offset = int(src.get_tag_item(f"BLOCK_OFFSET_{col}_{row}", "TIFF", bidx=band) or 0)
                    length = int(src.get_tag_item(f"BLOCK_SIZE_{col}_{row}", "TIFF", bidx=band) or 0)
                    if offset == 0 or length == 0 or offset + length > size:
                        raise OSError(f"the file written is incomplete: block ({row}, {col}) of band {band} is missing or cut")
            for _, window in src.block_windows(1):
                src.read(window=window)


def _to_cog(src: Path, dst: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        rasterio.shutil.copy(
            src,
            dst,
            driver="COG",
            COMPRESS="DEFLATE",
            PREDICTOR="YES",
            BLOCKSIZE=_COG_BLOCK,
            OVERVIEW_RESAMPLING="AVERAGE",
            BIGTIFF="IF_SAFER",
        )


def write_scene(
    scene: Scene,
    path: str | os.PathLike[str],
    *,
    encoding: RasterEncoding | None = None,
    driver: str = "GTiff",
    overwrite: bool = False,
    like: Scene | None = None,
) -> Path:
    """Write ``scene`` to ``path`` as a tiled, deflate-compressed GeoTIFF (``driver="GTiff"``) or COG.

    The encoding is ``encoding``, else ``like.encoding``, else ``scene.encoding``; see `encode`.
    Band names become band descriptions; CRS and transform are kept. The file is written to a
    temporary file beside ``path`` and renamed, so a failed write leaves nothing behind. A missing
    output directory is created. The file is read back before the rename, so a write that GDAL
    leaves incomplete without an error (a full disk) raises `FileFormatError` too. Returns the
    path written.
    """
    drivers = {d.lower(): d for d in DRIVERS}
    if driver.lower() not in drivers:
        raise UnknownParameterError(f"unknown output driver '{driver}'; use one of: {', '.join(DRIVERS)}")
    driver = drivers[driver.lower()]
    out = Path(path)
    if out.is_dir():
        raise FileFormatError(f"output path {out} is a directory; give a file name such as {out / 'out.tif'}")
    if out.exists() and not overwrite:
        raise OutputExistsError(f"output {out} exists; pass overwrite=True to replace it")
    enc = encoding if encoding is not None else like.encoding if like is not None else scene.encoding
    stored, enc = encode(scene.data, scene.mask, enc)
    profile = _profile(scene, enc, stored.shape)
    stem = out.parent / f".{out.name}.{uuid.uuid4().hex}"
    tiff, cog = Path(f"{stem}.tmp.tif"), Path(f"{stem}.cog.tmp.tif")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _write_gtiff(tiff, scene, stored, enc, profile)
        check_complete(tiff)
        if driver == "COG":
            _to_cog(tiff, cog)
            check_complete(cog)
            os.replace(cog, out)
        else:
            os.replace(tiff, out)
    except GDAL_ERRORS as exc:
        reason = gdal_reason(exc)
        raise FileFormatError(
            f"cannot write {out} ({reason}); check that its directory is writable and has free space"
        ) from exc
    finally:
        for tmp in (tiff, cog):
            if tmp.exists():
                tmp.unlink()
    return out
