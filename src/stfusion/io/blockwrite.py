"""Writing a scene block by block into a GeoTIFF or COG, atomically, with the fine input's encoding.

The blocks go into a temporary tiled GeoTIFF beside the output; `BlockWriter.commit` converts it
to a COG when asked and renames it onto the output path, so the output path only ever holds a
complete file. Each block is encoded with `encode`, given the nodata value the whole-scene writer
would choose, so the file equals what `write_scene` writes for the same scene.
"""

from __future__ import annotations

import contextlib
import os
import uuid
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any, Iterator

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window

from stfusion.core.errors import FileFormatError
from stfusion.core.scene import RasterEncoding, Scene

from .read import GDAL_ERRORS, gdal_reason
from .write import _profile, _to_cog, _writes_scale, check_complete, encode


def output_encoding(encoding: RasterEncoding, has_invalid: bool) -> RasterEncoding:
    """The encoding `encode` uses for a scene with (or without) invalid pixels: the nodata value
    it picks when ``encoding`` has none."""
    if not has_invalid:
        return encoding
    return encode(np.zeros((1, 1, 1)), np.zeros((1, 1), bool), encoding)[1]


class BlockWriter:
    """``with BlockWriter(out, grid, encoding, driver) as w: w.write(rows, cols, data, mask); w.commit()``.

    ``grid`` gives the output's shape, transform, CRS and band names; ``encoding`` must already
    hold the final nodata value (`output_encoding`). Leaving the block without `commit` removes
    the temporary file and leaves ``out`` as it was.
    """

    def __init__(self, out: Path, grid: Scene, encoding: RasterEncoding, driver: str = "GTiff") -> None:
        self.out, self.grid, self.encoding, self.driver = Path(out), grid, encoding, driver
        stem = self.out.parent / f".{self.out.name}.{uuid.uuid4().hex}"
        self._tiff, self._cog = Path(f"{stem}.tmp.tif"), Path(f"{stem}.cog.tmp.tif")
        self._dst: Any = None

    def __enter__(self) -> "BlockWriter":
        profile = {**_profile(self.grid, self.encoding, self.grid.shape), "NUM_THREADS": "ALL_CPUS"}
        self.out.parent.mkdir(parents=True, exist_ok=True)
        with self._errors():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                self._dst = rasterio.open(self._tiff, "w", **profile)
            if self.grid.bands is not None:
                self._dst.descriptions = tuple(self.grid.bands)
            if _writes_scale(self.encoding):
                self._dst.scales = (self.encoding.scale,) * self._dst.count
                self._dst.offsets = (self.encoding.offset,) * self._dst.count
        return self

    def write(self, rows: slice, cols: slice, data: np.ndarray, mask: np.ndarray) -> None:
        """Encode and write the block ``[rows, cols]`` (physical ``data`` (bands, h, w), valid ``mask``)."""
        stored, _ = encode(data, mask, self.encoding)
        window = Window(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)
        with self._errors():
            self._dst.write(stored, window=window)

    def commit(self) -> Path:
        """Finish the file, check that it is complete (`check_complete`) and move it onto the output path."""
        with self._errors():
            self._dst.close()
            self._dst = None
            check_complete(self._tiff)
            if self.driver == "COG":
                _to_cog(self._tiff, self._cog)
                check_complete(self._cog)
                os.replace(self._cog, self.out)
            else:
                os.replace(self._tiff, self.out)
        return self.out

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._dst is not None:
            self._dst.close()
        for tmp in (self._tiff, self._cog):
            tmp.unlink(missing_ok=True)

    def _errors(self) -> contextlib.AbstractContextManager[None]:
        return _write_errors(self.out)


@contextlib.contextmanager
def _write_errors(out: Path) -> Iterator[None]:
    """GDAL and OS write failures become a one-line `FileFormatError` naming the output."""
    try:
        yield
    except GDAL_ERRORS as exc:
        reason = gdal_reason(exc)
        raise FileFormatError(
            f"cannot write {out} ({reason}); check that its directory is writable and has free space"
        ) from exc
