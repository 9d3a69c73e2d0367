import datetime as dt

import numpy as np
import pytest

from stfusion.core import DTypeError, InvalidValueError, NoDataError, Scene, ShapeMismatchError


def test_scene_normalises_data_and_mask():
    s = Scene(np.ones((2, 4, 5), dtype=np.float64), transform=(30, 0, 500000, 0, -30, 4e6), crs="EPSG:32633")
    assert s.data.dtype == np.float32
    assert s.mask.dtype == bool and s.mask.all()
    assert s.resolution == 30.0
    assert s.bounds == (500000, 4e6 - 120, 500150, 4e6)


def test_scene_accepts_2d_as_one_band():
    assert Scene(np.zeros((3, 3), np.float32)).shape == (1, 3, 3)


def test_integer_data_is_refused_with_a_fix():
    with pytest.raises(DTypeError, match="read_scene"):
        Scene(np.ones((1, 2, 2), dtype=np.int16))


def test_complex_data_is_refused():
    with pytest.raises(DTypeError):
        Scene(np.ones((1, 2, 2), dtype=np.complex64))


def test_nan_at_valid_pixel_is_refused_but_allowed_when_masked():
    data = np.ones((1, 2, 2), np.float32)
    data[0, 0, 0] = np.nan
    with pytest.raises(InvalidValueError, match="1 valid pixel"):
        Scene(data)
    mask = np.ones((2, 2), bool)
    mask[0, 0] = False
    assert not Scene(data, mask=mask).mask[0, 0]


def test_all_nodata_is_refused():
    with pytest.raises(NoDataError):
        Scene(np.ones((1, 2, 2), np.float32), mask=np.zeros((2, 2), bool))


def test_wrong_mask_shape_and_band_names():
    with pytest.raises(ShapeMismatchError, match="mask"):
        Scene(np.ones((1, 2, 2), np.float32), mask=np.ones((3, 2), bool))
    with pytest.raises(ShapeMismatchError, match="band names"):
        Scene(np.ones((2, 2, 2), np.float32), bands=("red",))
    with pytest.raises(ShapeMismatchError, match="dimensions"):
        Scene(np.ones((2, 2, 2, 2), np.float32))


def test_select_bands_and_label():
    s = Scene(np.arange(8, dtype=np.float32).reshape(2, 2, 2), bands=("red", "nir"), date=dt.date(2020, 5, 1))
    t = s.select_bands([1, 0])
    assert t.bands == ("nir", "red")
    assert np.array_equal(t.data[0], s.data[1])
    assert "2020-05-01" in s.label
