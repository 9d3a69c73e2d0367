"""DC-STSF: shapes, the physics start, the loss, checkpoints, and --fit on a tiny cube."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stsf_fixtures import tiny_stsf  # noqa: E402

from stfusion.core import predict_stsf  # noqa: E402
from stfusion.core.errors import (  # noqa: E402
    CheckpointError, FitReport, MissingWeightsError, ResponseWarning, UnknownParameterError)
from stfusion.core.params.stsf import DcstsfParams  # noqa: E402
from stfusion.methods.classical.stsf_ops import prepare, regress_bands  # noqa: E402
from stfusion.methods.deep.stsf_run import build, train, train_dcstsf  # noqa: E402
from stfusion.methods.deep.nets.stsf_wald import WaldSet, random_change  # noqa: E402

TINY = {"steps": 12, "batch": 2, "patch": 16, "width": 8, "blocks": 1, "stages": 2, "val_every": 4}


def _net(sim, **over):
    params = DcstsfParams(**{**TINY, **over})
    x = prepare(sim.task, None)
    net = build(x, params)
    net.initialise(x.srf, x.kernel, regress_bands(x.hs, x.degrade(x.ms)), x.response.offset)
    return net, x, params


@pytest.mark.parametrize("over", [{}, {"seu": False}, {"ecu": False}, {"sftn": False, "insertion": False}, {"stages": 1}])
def test_shapes_and_switches(over):
    sim = tiny_stsf()
    net, x, _ = _net(sim, **over)
    hs, ms = torch.tensor(x.hs[None], dtype=torch.float32), torch.tensor(x.ms[None], dtype=torch.float32)
    z1, z2 = net(hs, ms, ms + 0.01)
    assert z1.shape == z2.shape == (1, x.hs.shape[0], *x.ms.shape[1:])
    z1, none = net(hs, ms)
    assert none is None
    with pytest.raises(ValueError, match="must be hs"):
        net(hs, ms[..., :-3])


def test_untrained_network_is_alternating_back_projection_plus_the_linear_change():
    sim = tiny_stsf()
    net, x, _ = _net(sim)
    hs, ms1, ms2 = (torch.tensor(a[None], dtype=torch.float32) for a in (x.hs, x.ms, x.ms_target))
    with torch.no_grad():
        z1, z2 = net(hs, ms1, ms2)
        # the back-projection reduces both observation residuals from the bicubic start
        z0 = net.upsample(hs)
        err = lambda z: (float((ms1 - net.spectral(z)).abs().mean()), float((hs - net.degrade(z)).abs().mean()))  # noqa: E731
        assert err(z1)[0] < 0.5 * err(z0)[0]
        # with the change-attention near zero, TVE starts as Z1 + S (M2 - M1)
        linear = z1 + net.change(ms2 - ms1)
        assert float((z2 - linear).abs().max()) < 0.1 * float(linear.abs().max())


def test_random_change_is_seeded_and_changes_the_cube():
    z = tiny_stsf().t1.data.astype(np.float64)
    pool = z.reshape(z.shape[0], -1)
    a = random_change(z, np.random.default_rng(1), pool)
    b = random_change(z, np.random.default_rng(1), pool)
    assert np.array_equal(a, b) and not np.allclose(a, z) and (a >= 0).all()


def test_loss_decreases_on_a_fixed_batch():
    sim = tiny_stsf()
    torch.manual_seed(0)
    net, x, _ = _net(sim)
    data = WaldSet.from_inputs(x, x.srf, start="bicubic")
    batch = data.sample(2, 16, np.random.default_rng(0))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    first = None
    for _ in range(80):
        opt.zero_grad()
        loss, _ = net.loss(batch)
        loss.backward()
        opt.step()
        first = float(loss.detach()) if first is None else first
    assert float(net.loss(batch)[0].detach()) < 0.7 * first


def test_checkpoint_round_trip_and_refusals(tmp_path):
    sim = tiny_stsf()
    ckpt = tmp_path / "dc.pt"
    card = train(sim.task, DcstsfParams(**TINY), ckpt, progress=False)
    assert card["ratio"] == 3 and card["validation"]["steps_run"] >= 1 and (tmp_path / "dc.pt.json").is_file()
    a = predict_stsf("dcstsf", sim.task, checkpoint=str(ckpt))
    b = predict_stsf("dcstsf", sim.task, checkpoint=str(ckpt))
    assert np.array_equal(a.data, b.data) and a.shape == sim.t2.shape
    t1 = predict_stsf("dcstsf", sim.task_t1, checkpoint=str(ckpt))
    assert t1.shape == sim.t1.shape and not np.allclose(t1.data, a.data)
    other = tiny_stsf()
    fewer = type(sim.task)(hs=other.task.hs.select_bands(range(12)), ms=other.task.ms, ratio=3.0)
    with pytest.raises(CheckpointError, match="16 HS bands but the input has 12"):
        predict_stsf("dcstsf", fewer, checkpoint=str(ckpt))
    with pytest.raises(MissingWeightsError, match="fit=True"):
        predict_stsf("dcstsf", sim.task)


def test_fit_is_seeded():
    sim = tiny_stsf()
    a = predict_stsf("dcstsf", sim.task, fit=True, **TINY)
    b = predict_stsf("dcstsf", sim.task, fit=True, **TINY)
    assert np.allclose(a.data, b.data, atol=1e-6)


def test_wald_set_holds_rows_out_and_scores_the_classical_estimates_there():
    sim = tiny_stsf()
    x = prepare(sim.task, None)
    data = WaldSet.from_inputs(x, x.srf)
    rows = data.z1.shape[1]
    assert data.split % 3 == 0 and 6 <= data.split < rows
    batch = data.sample(3, 999, np.random.default_rng(0))
    assert batch.z1.shape[-1] <= data.split and batch.z0 is not None  # patches fit above the held-out rows
    val, gsa, cascade = data.validation(2, 0)
    assert val.z1.shape[-2] == gsa.shape[-2] == rows - data.split and cascade.shape == val.z2.shape
    assert np.allclose(val.z0.numpy(), gsa.numpy())  # the default start is the classical t1 estimate
    assert WaldSet.from_inputs(x, x.srf, start="bicubic").sample(1, 16, np.random.default_rng(0)).z0 is None


@pytest.mark.parametrize("task", ["task", "task_t1"])
def test_untrained_gsa_start_is_the_classical_estimate(task):
    """With the GSA start and no training, validation scores the network exactly as its rival."""
    sim = tiny_stsf()
    _, card = train_dcstsf(getattr(sim, task), DcstsfParams(**{**TINY, "steps": 1, "val_every": 100, "start": "gsa"}),
                           progress=False)
    c = card["competition"]
    assert c["rival"] == ("cascade" if task == "task" else "gsa") and c["held_out_rows"] == 3
    assert c["network"]["rmse"] == pytest.approx(c[c["rival"]]["rmse"], rel=1e-3, abs=1e-7)


def test_fit_reports_the_competition_and_falls_back_when_the_network_loses():
    sim = tiny_stsf()
    paper = {**TINY, "start": "bicubic"}  # on this linear cube GSA is exact at t1: the network loses
    with pytest.warns(ResponseWarning, match=r"dcstsf loses to gsa .*returning the classical estimate"):
        out = predict_stsf("dcstsf", sim.task_t1, fit=True, **paper)
    assert np.array_equal(out.data, predict_stsf("gsa", sim.task_t1).data, equal_nan=True)
    with pytest.warns(ResponseWarning, match="returning the network estimate"):
        kept = predict_stsf("dcstsf", sim.task_t1, fit=True, fallback="none", **paper)
    assert not np.allclose(kept.data, out.data, equal_nan=True)
    with pytest.warns(FitReport, match="returning (the network's estimate|their average)"):  # GSA start: at least its start
        predict_stsf("dcstsf", sim.task, fit=True, **{**TINY, "start": "gsa"})
    with pytest.raises(UnknownParameterError, match="start 'cubic' is unknown"):
        predict_stsf("dcstsf", sim.task, fit=True, start="cubic")


def test_auto_start_averages_the_networks_of_both_starts(tmp_path):
    from stfusion.methods.deep.nets.checkpoint import load_checkpoint, save_checkpoint
    from stfusion.methods.deep.nets.dcstsf import DcstsfEnsemble, dcstsf

    sim = tiny_stsf()
    net, card = train_dcstsf(sim.task, DcstsfParams(**TINY), progress=False)
    assert isinstance(net, DcstsfEnsemble) and net.starts == ["gsa", "bicubic"] and card["start"] == "auto"
    assert set(card["starts"]) == {"gsa", "bicubic"} and card["competition"]["network"]["rmse"] > 0
    x = prepare(sim.task, None)
    hs, ms = torch.tensor(x.hs[None], dtype=torch.float32), torch.tensor(x.ms[None], dtype=torch.float32)
    z0 = ms.new_full((1, x.hs.shape[0], *x.ms.shape[1:]), 0.2)
    with torch.no_grad():
        _, z2 = net(hs, ms, ms + 0.01, z0)
        members = [m(hs, ms, ms + 0.01, z0 if s == "gsa" else None)[1] for m, s in zip(net.members, net.starts)]
        torch.testing.assert_close(z2, (members[0] + members[1]) / 2)
        save_checkpoint(net, card, tmp_path / "ens.pt")
        loaded, _ = load_checkpoint(tmp_path / "ens.pt", {"dcstsf": dcstsf}, "dcstsf")
        torch.testing.assert_close(loaded(hs, ms, ms + 0.01, z0)[1], z2)


def test_auto_start_keeps_one_network_when_the_other_start_is_clearly_worse(monkeypatch):
    from stfusion.methods.deep import stsf_run
    from stfusion.methods.deep.nets.dcstsf import Dcstsf

    monkeypatch.setattr(stsf_run, "CLEAR_MARGIN", -1.0)  # any difference counts as clear
    net, card = train_dcstsf(tiny_stsf().task, DcstsfParams(**TINY), progress=False)
    assert isinstance(net, Dcstsf) and card["start"] == min(card["starts"], key=lambda k: card["starts"][k]["rmse"])
    assert card["competition"]["network"] == card["starts"][card["start"]]


def test_verdict_averages_estimates_that_validation_cannot_tell_apart():
    from stfusion.methods.deep.stsf_run import CLEAR_MARGIN, _verdict

    close, clear = 1 + CLEAR_MARGIN / 2, 1 + 2 * CLEAR_MARGIN
    for simulated in (False, True):
        assert _verdict(1.0, 1.0, "gsa", simulated=simulated) == "network"  # a float32 tie: the network is its start
        assert _verdict(1.0, close, "gsa", simulated=simulated) == _verdict(close, 1.0, "gsa", simulated=simulated) \
            == "average"
        assert _verdict(clear, 1.0, "cascade", simulated=simulated) == "cascade"
    assert _verdict(1.0, clear, "gsa", simulated=False) == "network"  # a real held-out truth (t1)
    assert _verdict(1.0, clear, "cascade", simulated=True) == "average"  # simulated changes (t2)


def test_close_competition_returns_the_average_of_network_and_classical(monkeypatch):
    from stfusion.methods.deep import stsf_run

    monkeypatch.setattr(stsf_run, "CLEAR_MARGIN", 1e6)  # every difference is within the noise
    sim, paper = tiny_stsf(), {**TINY, "start": "bicubic"}
    with pytest.warns(FitReport, match=r"within .* of each other, so returning their average \(RMSE"):
        both = predict_stsf("dcstsf", sim.task, fit=True, **paper)
    with pytest.warns(FitReport, match="returning the network's estimate \\(fallback=none\\)"):
        net = predict_stsf("dcstsf", sim.task, fit=True, fallback="none", **paper)
    classical = predict_stsf("cascade", sim.task)
    assert np.allclose(both.data, (net.data + classical.data) / 2, atol=1e-6, equal_nan=True)
    assert not np.allclose(both.data, net.data, atol=1e-6, equal_nan=True)


def test_report_says_why_a_clear_t2_win_is_averaged():
    from stfusion.methods.deep.stsf_run import _report

    competition = {"rival": "cascade", "network": {"rmse": 0.01, "sam": 1.0}, "cascade": {"rmse": 0.02, "sam": 2.0},
                   "average": {"rmse": 0.012, "sam": 1.2}, "winner": "average", "held_out_rows": 6}
    with pytest.warns(FitReport, match=r"a win on simulated changes \(t2\) is not trusted alone, so returning their"):
        assert _report(competition, "classical") == "average"
    with pytest.warns(FitReport, match=r"returning the network's estimate \(fallback=none\)"):
        assert _report(competition, "none") == "network"
