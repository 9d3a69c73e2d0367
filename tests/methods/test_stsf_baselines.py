"""The STSF baselines (bicubic, GSA, CNMF, two-step cascade) on a tiny simulated task and on Samson."""

from __future__ import annotations

import numpy as np
import pytest

from stfusion.core import predict, predict_stsf
from stfusion.core.errors import UnknownParameterError
from stfusion.core.observation import psf_kernel, spatial_degrade
from stfusion.methods.classical.cnmf import vca
from stfusion.methods.classical.stsf_ops import upsample
from stfusion.methods.classical.stsf_response import estimate_srf
from stfusion.metrics import evaluate

from stsf_fixtures import tiny_stsf

BASELINES = ("bicubic", "gsa", "cnmf", "cascade")


def _rmse(a, b) -> float:
    return float(np.sqrt(np.mean((np.asarray(a.data, float) - np.asarray(b.data, float)) ** 2)))


@pytest.mark.parametrize("method", BASELINES)
def test_shapes_bands_and_grid(method):
    sim = tiny_stsf()
    for task, truth in ((sim.task_t1, sim.t1), (sim.task, sim.t2)):
        out = predict_stsf(method, task)
        assert out.shape == truth.shape and out.bands == truth.bands
        assert out.transform == task.ms.transform and out.mask.all()
        assert np.isfinite(out.data).all()


def test_fusion_beats_bicubic_and_the_cascade_sees_the_change():
    sim = tiny_stsf()
    t1 = {m: _rmse(predict_stsf(m, sim.task_t1), sim.t1) for m in BASELINES}
    assert max(t1["gsa"], t1["cnmf"]) < 0.7 * t1["bicubic"]
    t2 = {m: _rmse(predict_stsf(m, sim.task), sim.t2) for m in BASELINES}
    assert t2["cascade"] < t2["bicubic"] and t2["cascade"] < t2["gsa"]


def test_cubic_upsampling_keeps_constants_and_samples():
    x = np.full((2, 4, 5), 0.3)
    assert np.allclose(upsample(x, 3), 0.3)
    ramp = np.tile(np.arange(6, dtype=float), (6, 1))[None]
    up = upsample(ramp, 3)
    assert np.allclose(up[0, 1::3, 1::3], ramp[0])  # coarse centres are interpolated exactly
    assert np.allclose(up[0, 4, 4:13], (np.arange(4, 13) - 1) / 3)  # and linear ramps inside the image


def test_estimated_srf_is_close_to_the_true_one():
    sim = tiny_stsf()
    hs = np.asarray(sim.task.hs.data, float)
    ms_low = spatial_degrade(np.asarray(sim.task.ms.data, float), 3, psf_kernel(3))
    est = estimate_srf(hs, ms_low)
    assert (est.r2 > 0.999).all() and (est.srf >= 0).all()
    assert np.allclose(est.srf @ hs.reshape(hs.shape[0], -1) + est.offset[:, None], ms_low.reshape(4, -1), atol=5e-3)


def test_vca_finds_the_pure_pixels():
    rng = np.random.default_rng(0)
    e = rng.random((10, 3))
    ab = rng.dirichlet(np.ones(3) * 0.5, 500).T
    ab[:, :3] = np.eye(3)  # pure pixels 0, 1, 2
    idx = vca(e @ ab, 3, rng)
    assert sorted(idx) == [0, 1, 2]


def test_errors():
    sim = tiny_stsf()
    with pytest.raises(UnknownParameterError, match="fuser"):
        predict_stsf("cascade", sim.task, fuser="pca")
    with pytest.raises(UnknownParameterError, match="STSF method"):
        predict("gsa", sim.task)
    with pytest.raises(UnknownParameterError, match="STF method"):
        predict_stsf("starfm", sim.task)
    with pytest.raises(UnknownParameterError, match="no parameter"):
        predict_stsf("gsa", sim.task, ratio=3)


@pytest.mark.realdata
def test_on_samson(shared_data):
    from stfusion.data.catalog import load_dataset
    from stfusion.data.stsf_sim import simulate_stsf

    sim = simulate_stsf(load_dataset("hs_samson", shared_data))
    score = {m: evaluate(sim.t2, predict_stsf(m, sim.task), ratio=1 / 3, metrics=("rmse", "sam")).values
             for m in BASELINES}
    assert score["cascade"]["rmse"] < score["cnmf"]["rmse"] < score["gsa"]["rmse"] < score["bicubic"]["rmse"]
    assert score["cascade"]["sam"] < score["bicubic"]["sam"]


@pytest.mark.parametrize("method", BASELINES)
def test_invalid_pixels_are_invalid_in_the_output(method):
    sim = tiny_stsf()
    ms_mask = np.ones(sim.task.ms.shape[1:], bool)
    ms_mask[5, 7] = False
    hs_mask = np.ones(sim.task.hs.shape[1:], bool)
    hs_mask[2, 3] = False
    hs_data = np.array(sim.task.hs.data)
    hs_data[:, 2, 3] = np.nan  # invalid pixels may hold anything
    task = type(sim.task)(hs=sim.task.hs.replace(data=hs_data, mask=hs_mask), ms=sim.task.ms.replace(mask=ms_mask),
                          ms_target=sim.task.ms_target, ratio=3.0, srf=sim.task.srf)
    out = predict_stsf(method, task)
    expected = ms_mask.copy()
    expected[6:9, 9:12] = False
    assert np.array_equal(out.mask, expected)
    assert np.isfinite(np.asarray(out.data)[:, out.mask]).all()
