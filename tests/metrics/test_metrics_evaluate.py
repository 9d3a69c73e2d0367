"""`evaluate` on Scenes and arrays: masks, checks, the report, its table and its JSON form."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from stfusion.core import Scene
from stfusion.core.errors import (
    BandMismatchError,
    ExtentMismatchError,
    InvalidValueError,
    NoDataError,
    RatioError,
    ShapeMismatchError,
    UnknownParameterError,
)
from stfusion.metrics import METRICS, EvaluationReport, evaluate, q2n, rmse, sam, ssim

RNG = np.random.default_rng(5)
TRUTH = RNG.uniform(0.05, 0.5, (3, 40, 36)).astype(np.float32)
PRED = (TRUTH + RNG.normal(0, 0.02, TRUTH.shape)).astype(np.float32)
BANDS = ("green", "red", "nir")


def scene(data, mask=None, **kw) -> Scene:
    return Scene(data, mask=mask, bands=BANDS, **kw)


def test_all_metrics_by_default():
    report = evaluate(TRUTH, PRED, ratio=0.0625)
    assert set(report.values) == set(METRICS)
    assert set(report.per_band) == {"rmse", "mae", "bias", "cc", "psnr", "ssim", "uiqi", "edge", "lbp"}
    assert report.values["rmse"] == pytest.approx(np.mean(rmse(TRUTH, PRED)))
    assert report.values["sam"] == pytest.approx(sam(TRUTH, PRED))
    assert report.values["q2n"] == pytest.approx(q2n(TRUTH, PRED))
    assert report.bands == ("b1", "b2", "b3") and report.ratio == 0.0625 and report.data_range == 1.0
    assert report.n_valid == 40 * 36


def test_scene_masks_are_combined():
    mt = np.ones((40, 36), dtype=bool)
    mt[:5] = False
    mp = np.ones((40, 36), dtype=bool)
    mp[:, -4:] = False
    extra = np.ones((40, 36), dtype=bool)
    extra[20, 20] = False
    report = evaluate(scene(TRUTH, mt), scene(PRED, mp), ratio=1.0, mask=extra, metrics=["rmse", "ssim"])
    valid = mt & mp & extra
    assert report.n_valid == int(valid.sum())
    np.testing.assert_allclose(report.per_band["rmse"], rmse(TRUTH, PRED, mask=valid), rtol=1e-12)
    np.testing.assert_allclose(report.per_band["ssim"], ssim(TRUTH, PRED, mask=valid, data_range=1.0), rtol=1e-12)
    assert report.bands == BANDS


def test_scene_and_array_mix():
    report = evaluate(scene(TRUTH), PRED, ratio=1.0, metrics=["mae"])
    assert report.bands == BANDS


def test_subset_and_order():
    report = evaluate(TRUTH, PRED, ratio=1.0, metrics=["ergas", "lbp", "rmse"])
    assert list(report.per_band) == ["rmse", "lbp"]
    assert set(report.values) == {"rmse", "lbp", "ergas"}


def test_table():
    report = evaluate(scene(TRUTH), scene(PRED), ratio=0.0625, data_range=1.0)
    lines = report.table().splitlines()
    assert "ratio h/l = 0.0625" in lines[0]
    assert lines[1].split()[0] == "band" and "ssim" in lines[1].split()
    assert [line.split()[0] for line in lines[2:6]] == ["green", "red", "nir", "mean"]
    assert float(lines[5].split()[1]) == pytest.approx(report.values["rmse"], abs=1e-6)
    assert "ERGAS (h/l=0.0625)" in lines[6] and "SAM (deg)" in lines[6]


def test_to_dict_is_strict_json_with_none_for_nan_and_inf():
    truth = TRUTH.copy()
    truth[2] = 0.3  # constant band: CC is NaN
    with pytest.warns(RuntimeWarning):
        report = evaluate(truth, truth.copy(), ratio=1.0, metrics=["cc", "psnr", "rmse"])
    d = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert d["per_band"]["cc"][:2] == [pytest.approx(1.0), pytest.approx(1.0)] and d["per_band"]["cc"][2] is None
    assert d["values"]["psnr"] is None and d["values"]["rmse"] == 0.0
    assert d["bands"] == ["b1", "b2", "b3"] and d["ratio"] == 1.0 and d["n_valid"] == 40 * 36
    assert math.isinf(report.values["psnr"])


def test_report_is_a_dataclass():
    report = evaluate(TRUTH, PRED, ratio=1.0, metrics=["bias"])
    assert isinstance(report, EvaluationReport)
    np.testing.assert_allclose(report.per_band["bias"], (PRED - TRUTH).astype(float).mean(axis=(1, 2)), rtol=1e-6)


def test_unknown_metric():
    with pytest.raises(UnknownParameterError, match="'ssmi'.*choose from"):
        evaluate(TRUTH, PRED, ratio=1.0, metrics=["rmse", "ssmi"])


def test_ratio_checked():
    with pytest.raises(RatioError, match="did you mean ratio=0.25"):
        evaluate(TRUTH, PRED, ratio=4)


def test_data_range_checked():
    with pytest.raises(UnknownParameterError):
        evaluate(TRUTH, PRED, ratio=1.0, data_range=0)


def test_band_mismatch():
    with pytest.raises(BandMismatchError, match="same bands"):
        evaluate(TRUTH, PRED[:2], ratio=1.0)
    with pytest.raises(BandMismatchError):
        evaluate(scene(TRUTH), Scene(PRED, bands=("blue", "red", "nir")), ratio=1.0)


def test_shape_mismatch():
    with pytest.raises(ShapeMismatchError, match="same grid"):
        evaluate(TRUTH, PRED[:, :30], ratio=1.0)
    with pytest.raises(ShapeMismatchError):
        evaluate(scene(TRUTH), scene(PRED[:, :30]), ratio=1.0)
    with pytest.raises(ShapeMismatchError, match="mask"):
        evaluate(TRUTH, PRED, ratio=1.0, mask=np.ones((3, 3), dtype=bool))
    with pytest.raises(ShapeMismatchError, match="dimensions"):
        evaluate(TRUTH[None], PRED[None], ratio=1.0)


def test_grid_mismatch_between_scenes():
    shifted = (30.0, 0.0, 300.0, 0.0, -30.0, 0.0)
    same = (30.0, 0.0, 0.0, 0.0, -30.0, 0.0)
    with pytest.raises(ExtentMismatchError):
        evaluate(scene(TRUTH, transform=same), scene(PRED, transform=shifted), ratio=1.0)


def test_nan_at_valid_pixel():
    pred = PRED.copy()
    pred[1, 3, 4] = np.nan
    with pytest.raises(InvalidValueError, match="1 valid pixel"):
        evaluate(TRUTH, pred, ratio=1.0)
    mask = np.ones((40, 36), dtype=bool)
    mask[3, 4] = False
    assert evaluate(TRUTH, pred, ratio=1.0, mask=mask, metrics=["rmse"]).n_valid == 40 * 36 - 1


def test_all_masked():
    mt = np.ones((40, 36), dtype=bool)
    mt[:20] = False
    mp = ~mt
    with pytest.raises(NoDataError, match="no valid pixel"):
        evaluate(scene(TRUTH, mt), scene(PRED, mp), ratio=1.0)
