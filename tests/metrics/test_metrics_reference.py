"""Agreement with the cross-checked reference values of ../shared/reference/metrics (to 1e-5)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stfusion.metrics import apa, bias, cc, ergas, evaluate, mae, psnr, q2n, rase, rmse, sam, ssim, uiqi

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "metrics"
TOL = 1e-5


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    if not (REFERENCE / "pair.npz").is_file():
        pytest.skip(f"reference pair not found at {REFERENCE}")
    data = np.load(REFERENCE / "pair.npz")
    return data["truth"].transpose(2, 0, 1), data["pred"].transpose(2, 0, 1)


@pytest.fixture(scope="module")
def expected(pair) -> dict:
    return json.loads((REFERENCE / "expected.json").read_text())


def close(actual, wanted) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(wanted, dtype=float), rtol=0, atol=TOL)


def test_pixel_errors(pair, expected):
    t, p = pair
    close(rmse(t, p), expected["rmse_per_band"])
    close(np.mean(rmse(t, p)), expected["rmse_mean_of_bands"])
    close(rmse(t, p, pooled=True), expected["rmse_all_pixels_all_bands"])
    close(mae(t, p), expected["mae_per_band"])
    close(bias(t, p), expected["ad_bias_per_band_pred_minus_truth"])
    close(cc(t, p), expected["cc_per_band"])


def test_psnr(pair, expected):
    t, p = pair
    close(psnr(t, p, data_range=1.0, pooled=True), expected["psnr_all_L1"])
    close(psnr(t, p, data_range=1.0), expected["psnr_per_band_L1"])


def test_ssim_and_uiqi(pair, expected):
    t, p = pair
    s = ssim(t, p, data_range=1.0)
    close(s, expected["ssim_per_band_gauss11_sigma1.5_popcov_crop5_L1"])
    close(s.mean(), expected["ssim_mean"])
    q = uiqi(t, p)
    close(q, expected["uiqi_sliding8_per_band"])
    close(q.mean(), expected["uiqi_sliding8_mean"])


def test_spectral(pair, expected):
    t, p = pair
    close(sam(t, p), expected["sam_degrees"])
    close(sam(t, p, degrees=False), expected["sam_radians"])
    close(rase(t, p), expected["rase_global"])
    for ratio, value in expected["ergas_ratio_h_over_l"].items():
        close(ergas(t, p, ratio=float(ratio)), value)


def test_q2n(pair, expected):
    t, p = pair
    close(q2n(t, p), expected["q2n_block32"])


def test_apa(pair, expected):
    t, p = pair
    result = apa(t, p)
    close(np.stack([result.ad, result.rmse, result.edge, result.lbp], axis=1), expected["apa_per_band_AD_RMSE_EDGE_LBP"])
    close(result.band_average, expected["apa_band_average_AD_RMSE_EDGE_LBP"])


def test_evaluate_report_matches(pair, expected):
    t, p = pair
    report = evaluate(t, p, ratio=0.25)
    close(report.per_band["ssim"], expected["ssim_per_band_gauss11_sigma1.5_popcov_crop5_L1"])
    close(report.values["ssim"], expected["ssim_mean"])
    close(report.values["uiqi"], expected["uiqi_sliding8_mean"])
    close(report.values["rmse"], expected["rmse_mean_of_bands"])
    close(report.values["sam"], expected["sam_degrees"])
    close(report.values["ergas"], expected["ergas_ratio_h_over_l"]["0.25"])
    close(report.values["rase"], expected["rase_global"])
    close(report.values["q2n"], expected["q2n_block32"])
    close(report.per_band["edge"], [row[2] for row in expected["apa_per_band_AD_RMSE_EDGE_LBP"]])
    close(report.per_band["lbp"], [row[3] for row in expected["apa_per_band_AD_RMSE_EDGE_LBP"]])
    assert report.n_valid == 64 * 64

