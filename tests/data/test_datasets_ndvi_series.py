"""The IFSDAF NDVI series on the real sample data: dates, masks, grids and the DOY 287 protocol."""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pytest

from stfusion.core.errors import DateError, NoDataError
from stfusion.data.catalog import load_dataset
from stfusion.data.ndvi_series import NDVISeries

pytestmark = pytest.mark.realdata

DOYS = (104, 191, 200, 216, 239, 248, 287, 344, 360)


@pytest.fixture(scope="module")
def series(shared_data) -> NDVISeries:
    return load_dataset("ifsdaf_ndvi_series", shared_data)


def test_fine_dates_shapes_and_values(series):
    assert series.dates == tuple(_dt.date(2015, 1, 1) + _dt.timedelta(days=d - 1) for d in DOYS)
    for scene in series.fine:
        assert scene.shape == (1, 552, 576)
        assert scene.bands == ("ndvi",)
        assert scene.transform == pytest.approx((30.0, 0.0, 1.0, 0.0, -30.0, 1.0))
        valid = np.asarray(scene.data)[0][np.asarray(scene.mask)]
        assert -1.0 <= valid.min() and valid.max() <= 1.0  # the -9999 fill is masked


def test_cloud_masks(series):
    fractions = {d.timetuple().tm_yday: series.clear_fraction(d) for d in series.dates}
    for doy, fraction in fractions.items():
        assert 0.2 < fraction <= 1.0, doy
    assert fractions[287] == 1.0  # no mask file: all valid
    assert fractions[200] < 0.3 and fractions[104] > 0.99  # real clouds
    cfmask = dict(zip(DOYS, series.cfmask))
    assert cfmask[287] is None
    codes = cfmask[191]
    assert set(np.unique(codes)) <= {0, 1, 2, 3, 4, 255} and (codes == 255).any()
    scene = series.fine_at(series.dates[DOYS.index(191)])
    assert np.array_equal(np.asarray(scene.mask), np.isin(codes, (0, 1)))


def test_modis_composites(series):
    assert len(series.coarse) == 23
    assert series.coarse[0].date == _dt.date(2015, 1, 1)
    assert series.coarse[17].date == _dt.date(2015, 9, 30)  # DOY 273 = 1 + 16 * 17
    for scene in series.coarse:
        assert scene.shape == (1, 69, 72)
        assert scene.transform == pytest.approx((240.0, 0.0, 1.0, 0.0, -240.0, 1.0))
        assert scene.bounds == pytest.approx(series.fine[0].bounds)  # same extent
        assert 0.0 < np.asarray(scene.data).min() and np.asarray(scene.data).max() < 1.0
    # a summer peak in the MODIS NDVI profile
    means = [float(np.asarray(s.data).mean()) for s in series.coarse]
    assert 8 <= int(np.argmax(means)) <= 16
    assert np.array_equal(series.composite_for(_dt.date(2015, 10, 14)).data, series.coarse[17].data)
    assert series.composite_for(_dt.date(2015, 10, 14)).date == _dt.date(2015, 10, 14)
    with pytest.raises(DateError, match="outside the MODIS composites"):
        series.composite_for(_dt.date(2016, 1, 5))


def test_landcover(series):
    assert series.landcover.shape == (552, 576)
    assert set(np.unique(series.landcover)) == {1, 2, 3, 4}


def test_protocol_predicts_doy_287_from_the_nearest_clear_earlier_date(series):
    case = series.case()
    assert case.ratio == case.task.ratio == 8.0
    assert case.task.coarse_on_fine_grid and not series.case(align=False).task.coarse_on_fine_grid
    assert case.truth.date == case.task.target.date == _dt.date(2015, 10, 14)
    assert np.asarray(case.truth.mask).all()
    (pair,) = case.task.pairs
    assert pair.fine.date == pair.coarse.date == _dt.date(2015, 9, 5)  # DOY 248, 84 % clear
    native = series.case(align=False).task.pairs[0].coarse
    assert np.array_equal(native.data, series.coarse[15].data)  # composite of DOY 241-256
    assert np.array_equal(pair.coarse.data[:, ::8, ::8], native.data)  # 8 x 8 fine pixels per composite pixel
    assert case.classes is series.landcover
    # a stricter clear threshold moves the pair back to DOY 216 (97.5 % clear)
    assert series.case(min_clear=0.95).task.pairs[0].date == _dt.date(2015, 8, 4)


def test_protocol_errors(series):
    with pytest.raises(NoDataError, match="lower min_clear"):
        series.case(_dt.date(2015, 4, 14))
    with pytest.raises(DateError, match="no Landsat image"):
        series.case(_dt.date(2015, 10, 15))
    with pytest.raises(DateError, match="also a pair date"):
        series.case(pairs=[_dt.date(2015, 10, 14)])
