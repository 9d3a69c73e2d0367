"""scan_folder and load_series on generated folders and on the CIA sample set."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from stfusion.core.errors import DateError, FileFormatError
from stfusion.io import load_series, scan_folder
from stfusion.io.folder import sensor_role

D1, D2, D3 = dt.date(2020, 1, 1), dt.date(2020, 1, 17), dt.date(2020, 2, 2)


def _tif(make_tif, name, value=0.2, shape=(2, 4, 4)):
    return make_tif(name, np.full(shape, int(value * 10000), np.int16))


def _envi(folder, name):
    (folder / name).write_bytes(np.full((1, 2, 2), 1000, "<i2").tobytes())
    (folder / f"{name}.hdr").write_text(
        "ENVI\nsamples = 2\nlines = 2\nbands = 1\nheader offset = 0\ndata type = 2\ninterleave = bsq\nbyte order = 0\n"
    )


def test_scan_folder_finds_dated_rasters(make_tif, tmp_path):
    _tif(make_tif, "fine_20200117.tif")
    _tif(make_tif, "fine_20200101.tif")
    _tif(make_tif, "undated.tif")
    (tmp_path / "fine_20200101.tif.aux.xml").write_text("<PAMDataset/>")
    (tmp_path / "notes_20200101.txt").write_text("not a raster")
    _envi(tmp_path, "Landsat20200202")
    found = scan_folder(tmp_path)
    assert [(d, p.name) for d, p in found] == [
        (D1, "fine_20200101.tif"), (D2, "fine_20200117.tif"), (D3, "Landsat20200202"),
    ]
    assert [p.name for _, p in scan_folder(tmp_path, pattern="fine_*")] == ["fine_20200101.tif", "fine_20200117.tif"]


def test_load_series_two_folders(make_tif, tmp_path):
    (tmp_path / "fine").mkdir()
    (tmp_path / "coarse").mkdir()
    for d in ("20200101", "20200117"):
        _tif(make_tif, f"fine/L8_{d}.tif")
    for d in ("20200101", "20200202", "20200117"):
        _tif(make_tif, f"coarse/MOD_{d}.tif", value=0.3)
    _tif(make_tif, "fine/L8_20200301.tif")
    series = load_series(tmp_path / "fine", tmp_path / "coarse")
    assert [p.date for p in series.pairs] == [D1, D2]
    assert [t.date for t in series.targets] == [D3]
    assert series.fine_dates == [D1, D2, dt.date(2020, 3, 1)]
    assert series.coarse_dates == [D1, D2, D3]
    assert series.pairs[0].fine.name == "L8_20200101.tif" and series.pairs[0].coarse.name == "MOD_20200101.tif"
    np.testing.assert_allclose(series.targets[0].data, 0.3, rtol=1e-6)


def test_load_series_one_folder_split_by_patterns(make_tif, tmp_path):
    _tif(make_tif, "L7_20200101.tif", shape=(6, 4, 4))
    _tif(make_tif, "MOD_20200101.tif", shape=(6, 4, 4))
    series = load_series(tmp_path, tmp_path, fine_pattern="L7_*", coarse_pattern="MOD_*", sensor_fine="landsat7")
    assert len(series.pairs) == 1 and series.targets == []
    assert series.pairs[0].fine.bands == ("blue", "green", "red", "nir", "swir1", "swir2")
    (tmp_path / "one").mkdir()
    _tif(make_tif, "one/x_20200101.tif")
    with pytest.raises(DateError, match="matches both the fine and the coarse pattern"):
        load_series(tmp_path / "one", tmp_path / "one", fine_pattern="*", coarse_pattern="x_*")
    with pytest.raises(FileFormatError, match="cannot tell fine from coarse for x_20200101.tif"):
        load_series(tmp_path / "one", tmp_path / "one")  # a flat folder without sensor codes


def test_folder_without_dated_raster(make_tif, tmp_path):
    _tif(make_tif, "tm0524.tif")
    assert scan_folder(tmp_path) == []
    with pytest.raises(DateError, match="name files with YYYYMMDD or YYYYDDD dates"):
        load_series(tmp_path, tmp_path)


def test_two_files_with_one_date(make_tif, tmp_path):
    _tif(make_tif, "a_20200101.tif")
    _tif(make_tif, "b_20200101.tif")
    with pytest.raises(DateError, match="have the date 2020-01-01"):
        load_series(tmp_path, tmp_path, fine_pattern="*", coarse_pattern="b_*")


def test_missing_folder(tmp_path):
    with pytest.raises(FileFormatError, match="folder not found"):
        scan_folder(tmp_path / "nope")


@pytest.mark.realdata
def test_real_cia_folder(shared_data):
    folder = shared_data / "cia_2date"
    series = load_series(folder, folder, fine_pattern="*L7*", coarse_pattern="*MOD*")
    assert [p.date for p in series.pairs] == [dt.date(2001, 11, 25), dt.date(2002, 1, 12)]
    assert series.targets == []
    assert series.pairs[1].coarse.name == "CIA_MOD09GA_20020112.tif"


@pytest.mark.realdata
def test_real_envi_folder(shared_data):
    found = scan_folder(shared_data / "ifsdaf_ndvi_series", pattern="*_ndvi")
    assert len(found) == 9 and found[0][0] == dt.date(2015, 4, 14)
    assert all(p.name.endswith("_ndvi") for _, p in found)


def test_scan_images_pairs_each_image_with_its_cloud_mask(make_tif, tmp_path):
    from stfusion.io.folder import read_masked, scan_images

    _tif(make_tif, "L8_20200101.tif")
    make_tif("L8_20200101_mask.tif", np.array([[[0, 1, 4, 255]] * 4], np.uint8))
    _envi(tmp_path, "LC81250382020017LGN00_ndvi")  # Landsat scene IDs: the mask has the same date
    _envi(tmp_path, "LC81250382020017LGN00_mask")
    _tif(make_tif, "L8_20200202.tif")  # no mask: every pixel counts as clear
    found = scan_images(tmp_path)
    assert [(f.date, f.path.name, f.mask and f.mask.name) for f in found] == [
        (D1, "L8_20200101.tif", "L8_20200101_mask.tif"),
        (D2, "LC81250382020017LGN00_ndvi", "LC81250382020017LGN00_mask"),
        (D3, "L8_20200202.tif", None),
    ]
    scene = read_masked(found[0].path, found[0].mask)
    assert scene.mask[0].tolist() == [True, True, False, False]  # cfmask 0 and 1 are clear
    assert read_masked(found[0].path, found[0].mask, clear_codes=(4,)).mask[0].tolist() == [False, False, True, False]
    make_tif("L8_20200303.tif", np.zeros((2, 3, 3), np.int16))
    make_tif("L8_20200303_mask.tif", np.zeros((1, 4, 4), np.uint8))
    from stfusion.core.errors import ShapeMismatchError

    with pytest.raises(ShapeMismatchError, match="give a single-band mask on the image's grid"):
        read_masked(tmp_path / "L8_20200303.tif", tmp_path / "L8_20200303_mask.tif")
    make_tif("a_20200303_mask.tif", np.zeros((1, 3, 3), np.uint8))
    (tmp_path / "L8_20200303_mask.tif").rename(tmp_path / "b_20200303_mask.tif")
    with pytest.raises(DateError, match="2 masks .* have the date 2020-03-03"):
        scan_images(tmp_path)  # an image without a mask of its own name and two masks of its date


@pytest.mark.parametrize("name, role", [
    ("CIA_L7_20011008.tif", "fine"), ("CIA_MOD09GA_20011008.tif", "coarse"),
    ("LC08_L2SP_123032_20200601_20200610_02_T1_SR.tif", "fine"), ("LC81250382015104LGN00_sr.tif", "fine"),
    ("LT05_L2SP_044034_19900601.tif", "fine"), ("HLS.S30.T17SLU.2020153T160901.v2.0.tif", "fine"),
    ("hls.l30.t17slu.2020153.tif", "fine"), ("S2B_MSIL2A_20200601T101559.tif", "fine"),
    ("MCD43A4.A2020153.h10v05.061.tif", "coarse"), ("MYD09GA_20200601.tif", "coarse"),
    ("S3A_SY_2_SYN____20200601T095542.tif", "coarse"),
    ("LE07_L2SP_044034_20011008_20200917_02_T1_SR.tif", "fine"), ("LE71250382001281EDC00.tif", "fine"),
    ("MOD09GA.A2001281.h10v05.061.2020073203035.tif", "coarse"), ("Landsat20041126", "fine"),
    ("MODIS20041126", "coarse"), ("HLS_L30_2020153.tif", "fine"), ("s2c_msil2a_20250601.tif", "fine"),
    ("scene_20200601.tif", None), ("L8_on_MOD09_grid_20200601.tif", None),
    ("L7x_20200601.tif", None), ("XL7_20200601.tif", None), ("CL8_20200601.tif", None),  # L7, L8 inside other words
    ("S2AB_20200601.tif", None), ("HLSS30_2020153.tif", None), ("LandsatLook_20200601.tif", None),
])
def test_sensor_role_reads_common_product_names(name, role):
    assert sensor_role(name) == role


def test_load_series_splits_a_flat_folder_by_sensor(make_tif, tmp_path):
    for name in ("LC08_20200101.tif", "LC08_20200202.tif", "MOD09GA_20200101.tif", "MOD09GA_20200117.tif",
                 "MOD09GA_20200202.tif"):
        _tif(make_tif, name)
    series = load_series(tmp_path, tmp_path)
    assert [p.date for p in series.pairs] == [D1, D3] and [t.date for t in series.targets] == [D2]
    patterned = load_series(tmp_path, tmp_path, fine_pattern="LC08_*", coarse_pattern="MOD09GA_*")
    assert [p.date for p in patterned.pairs] == [D1, D3]


def test_flat_folder_of_product_ids(make_tif, tmp_path):
    """Landsat product IDs (YYYYMMDD after path/row) and MODIS IDs (AYYYYDDD) in one folder."""
    for day in ("20011008", "20011125"):
        _tif(make_tif, f"LE07_L2SP_044034_{day}_20200917_02_T1_SR.tif")
    for doy in ("2001281", "2001329", "2002012"):
        _tif(make_tif, f"MOD09GA.A{doy}.h10v05.061.2020073203035.tif", value=0.3)
    series = load_series(tmp_path, tmp_path)
    assert [p.date for p in series.pairs] == [dt.date(2001, 10, 8), dt.date(2001, 11, 25)]
    assert [t.date for t in series.targets] == [dt.date(2002, 1, 12)]
    assert series.pairs[0].fine.name.startswith("LE07") and series.pairs[0].coarse.name.startswith("MOD09GA")
    _tif(make_tif, "L7x_20011008.tif")
    _tif(make_tif, "notes_20011008.tif")
    with pytest.raises(FileFormatError, match=r"fine from coarse for L7x_20011008.tif, notes_20011008.tif in"):
        load_series(tmp_path, tmp_path)
    split = load_series(tmp_path, tmp_path, fine_pattern="LE07_*", coarse_pattern="MOD09GA.*")  # the patterns override
    assert len(split.pairs) == 2
