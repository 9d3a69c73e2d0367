"""Fuzzing the readers: random bytes and random mutations of a valid GeoTIFF and ENVI pair either read as a
`Scene` or raise an `InputError` subclass, never any other exception."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from robust_rasters import write_tif

from stfusion.core import Scene
from stfusion.core.errors import InputError
from stfusion.io import read_scene
from stfusion.io.window import RasterSource

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, bytes | str]:
    tmp = tmp_path_factory.mktemp("fuzz_src")
    data = np.random.default_rng(0).integers(100, 4000, (2, 20, 20)).astype(np.int16)
    tif = write_tif(tmp / "a.tif", data, nodata=-9999, block=16)
    with rasterio.open(tmp / "e.img", "w", driver="ENVI", width=8, height=8, count=2, dtype="int16",
                       crs="EPSG:32633", transform=rasterio.Affine(30, 0, 500000, 0, -30, 5000000)) as dst:
        dst.write(data[:, :8, :8])
    return {"tif": tif.read_bytes(), "hdr": (tmp / "e.hdr").read_text(), "raw": (tmp / "e.img").read_bytes()}


def _read_or_refuse(path: Path) -> None:
    """What a user sees: read_scene, and the streaming reader over the whole file."""
    for read in (read_scene, _windowed):
        try:
            result = read(path)
        except InputError:
            continue
        assert isinstance(result, Scene)


def _windowed(path: Path) -> Scene:
    src = RasterSource(path)
    data, mask = src.read(slice(0, src.template.height), slice(0, src.template.width))
    return src.template.replace(data=data, mask=mask)


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    out = bytearray(data)
    for pos, value in edits:
        out[pos % len(out)] = value
    return bytes(out if cut is None else out[: cut % (len(out) + 1)])


@SETTINGS
@given(st.binary(max_size=600))
def test_random_bytes(tmp_path, blob):
    path = tmp_path / "random.tif"
    path.write_bytes(blob)
    _read_or_refuse(path)


@SETTINGS
@given(edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=12),
       cut=st.none() | st.integers(0, 10**6))
def test_mutated_geotiff(tmp_path, originals, edits, cut):
    path = tmp_path / "mutated.tif"
    path.write_bytes(_mutate(originals["tif"], edits, cut))
    _read_or_refuse(path)


TOKENS = ["", "-1", "0", "2", "99", "999999", "1e9", "x", "{", "}", "=", ",", " ", "\x00", "\n", "Arbitrary"]


@SETTINGS
@given(edits=st.lists(st.tuples(st.integers(0, 10**4), st.integers(0, 10**4), st.sampled_from(TOKENS), st.booleans()),
                      min_size=1, max_size=4),
       raw_cut=st.none() | st.integers(0, 10**4))
def test_mutated_envi_header_and_raw(tmp_path, originals, edits, raw_cut):
    lines = originals["hdr"].splitlines()
    for line, pos, token, drop in edits:
        i = line % len(lines)
        if drop:
            del lines[i]
            if not lines:
                lines = [""]
        else:
            k = pos % (len(lines[i]) + 1)
            lines[i] = lines[i][:k] + token + lines[i][k:]
    path = tmp_path / "e_20200601"
    path.with_suffix(".hdr").write_text("\n".join(lines) + "\n")
    raw = originals["raw"]
    path.write_bytes(raw if raw_cut is None else raw[: raw_cut % (len(raw) + 1)])
    _read_or_refuse(path)
    _read_or_refuse(path.with_suffix(".hdr"))
