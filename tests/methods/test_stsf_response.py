"""Responses estimated from the pair (`stsf_response`): the PSF width and shift, the SRF with
gains and offsets, the poor-fit warning, and the STSF methods on a pair whose responses are untold."""

from __future__ import annotations

import numpy as np
import pytest

from stfusion.core import predict_stsf
from stfusion.core.errors import ResponseWarning
from stfusion.core.observation import psf_kernel
from stfusion.data.stsf_blind import simulate_blind_stsf
from stfusion.methods.classical.stsf_ops import prepare
from stfusion.methods.classical.stsf_response import band_window, estimate_psf, estimate_srf

from stsf_fixtures import tiny_cube


def test_shifted_kernel_is_centred_on_the_shift():
    k = psf_kernel(3, 3.0, 0.9)
    x = np.arange(k.size) - k.size // 2
    assert k.sum() == pytest.approx(1.0) and float(k @ x) == pytest.approx(0.9, abs=1e-3)
    assert np.array_equal(psf_kernel(3, 3.0), psf_kernel(3, 3.0, 0.0))


def test_band_window_reads_sensor_names_and_numbers():
    assert band_window("red")[0] == pytest.approx(664.6)
    assert band_window("B8A")[0] == pytest.approx(864.7)
    assert band_window("705nm") == (705.0, 50.0)
    assert band_window("ms1") is None


@pytest.fixture(scope="module")
def blind():
    return simulate_blind_stsf(tiny_cube(size=48, bands=24), ratio=3)


def test_psf_width_and_shift_are_recovered(blind):
    task = blind.task
    psf = estimate_psf(np.asarray(task.hs.data, float), np.asarray(task.ms.data, float), 3)
    assert psf.fwhm == pytest.approx(4.5, abs=0.5)  # the simulated HS PSF: 1.5 x ratio
    assert psf.dy == pytest.approx(0.9, abs=0.3) and psf.dx == pytest.approx(-0.9, abs=0.3)


def test_gains_and_offsets_are_recovered():
    rng = np.random.default_rng(0)
    hs = 0.1 + 0.3 * rng.random((20, 12, 12))
    true = np.zeros((2, 20))
    true[0, 3:8], true[1, 12:18] = 0.2 * 1.08, 1 / 6 * 0.93
    low = np.einsum("kb,brc->krc", true, hs) + np.array([0.015, -0.01])[:, None, None]
    low += 1e-4 * rng.standard_normal(low.shape)
    est = estimate_srf(hs, low)
    assert np.allclose(est.gain, [1.08, 0.93], atol=0.02)
    assert np.allclose(est.offset, [0.015, -0.01], atol=3e-3)
    assert (est.r2 > 0.99).all()


def test_a_band_the_cube_cannot_explain_gets_one_warning():
    hs = tiny_cube(size=30, bands=20).data.astype(float)[:, ::3, ::3]
    noise = np.random.default_rng(1).random((1, 10, 10))
    low = np.concatenate([hs[:2].mean(0, keepdims=True), noise])
    with pytest.warns(ResponseWarning, match="MS band nir is poorly explained") as caught:
        est = estimate_srf(hs, low, ms_bands=("blue", "nir"))
    assert len(caught) == 1 and est.r2[0] > 0.99 > est.r2[1]


def test_given_srf_is_used_and_responses_are_estimated_otherwise(blind):
    x = prepare(blind.task, None)
    assert x.psf.fwhm > 3.5 and not np.allclose(x.response.offset, 0)
    assert x.srf.shape == (4, 24) and (x.srf >= 0).all()


@pytest.mark.parametrize("method", ["gsa", "cnmf", "cascade"])
def test_methods_beat_bicubic_with_untold_responses(blind, method):
    def rmse(task, truth, m):
        out = predict_stsf(m, task)
        t = truth.data[:, :out.height, :out.width]
        return float(np.sqrt(np.mean((out.data - t) ** 2)))

    for task, truth in ((blind.task_t1, blind.t1), (blind.task, blind.t2)):
        assert rmse(task, truth, method) < rmse(task, truth, "bicubic")
