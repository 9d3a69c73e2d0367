"""Bad arguments raise the library's typed errors, on one line, naming the Python argument."""

from __future__ import annotations

import numpy as np
import pytest
from xr_cases import as_array

from stfusion.core.errors import (
    CRSMismatchError,
    DateError,
    DTypeError,
    NoDataError,
    ShapeMismatchError,
    UnknownMethodError,
    UnknownParameterError,
)
from stfusion.xarray import fuse_cube, predict


@pytest.fixture(scope="module")
def args(series):
    """fine, coarse (own grid) of date 1 and the coarse target of date 3, as (band, y, x) arrays."""
    fine, coarse = as_array([series.fine[1]]).isel(time=0), as_array(series.coarse)
    return fine, coarse.isel(time=1), coarse.isel(time=3)


def _message(error: type[Exception], call, *a, **kw) -> str:
    with pytest.raises(error) as err:
        call(*a, **kw)
    text = str(err.value)
    assert "\n" not in text and "--" not in text, text
    return text


def test_missing_dims_name_the_argument(args):
    fine, coarse, target = args
    text = _message(ShapeMismatchError, predict, "starfm", fine, coarse.isel(band=0), target)
    assert text.startswith("coarse has dims ('y', 'x')") and "(band, y, x)" in text
    assert "target" in _message(ShapeMismatchError, predict, "starfm", fine, coarse, target.rename(x="lon"))
    assert "fine" in _message(DTypeError, predict, "starfm", fine.values, coarse, target)


def test_crs_mismatch_names_both_arguments(args):
    fine, coarse, target = args
    text = _message(CRSMismatchError, predict, "starfm", fine, coarse, target.assign_attrs(crs="EPSG:32634"))
    assert text.startswith("target is in EPSG:32634 but fine is in EPSG:32633")


def test_unknown_method_or_parameter(args):
    assert "starfn" in _message(UnknownMethodError, predict, "starfn", *args)
    assert "'windw'" in _message(UnknownParameterError, predict, "starfm", *args, windw=3)
    assert "STSF" in _message(UnknownParameterError, predict, "gsa", *args)
    assert "min_clear" in _message(UnknownParameterError, fuse_cube, "starfm", args[0], args[1], min_clear=2)


@pytest.mark.parametrize("lazy", [False, True])
def test_nan_only_input_is_refused_at_call_time(args, lazy):
    fine, coarse, target = args
    empty = target.where(False)
    if lazy:
        fine, empty = fine.chunk({"y": 16}), empty.chunk()
    assert _message(NoDataError, predict, "starfm", fine, coarse, empty).startswith("target has no valid pixel")


def test_pairs_must_match_in_number_and_dates(series, args):
    fine, coarse, target = args
    pairs = as_array([series.fine[0], series.fine[2]])
    text = _message(ShapeMismatchError, predict, "starfm", pairs, coarse, target)
    assert "fine holds 2 image(s) along time but coarse 1" in text
    other = as_array([series.coarse[0], series.coarse[4]])
    assert "fine and coarse times differ" in _message(DateError, predict, "starfm", pairs, other, target)
    assert "fitfc takes 1 pair(s) but fine holds 2" in _message(
        ShapeMismatchError, predict, "fitfc", pairs, as_array([series.coarse[0], series.coarse[2]]), target)
    assert "target holds 2 images" in _message(ShapeMismatchError, predict, "starfm", fine, coarse, other)


def test_cubes_need_dates(series):
    fine, coarse = as_array(series.fine[:2], time=False), as_array(series.coarse)
    assert _message(DateError, fuse_cube, "starfm", fine, coarse).startswith("fine_cube has no time coordinate")
    bad = coarse.assign_coords(time=np.arange(5))
    text = _message(DateError, fuse_cube, "starfm", as_array(series.fine[:2]), bad)
    assert text.startswith("coarse_cube's time coordinate holds int64")
