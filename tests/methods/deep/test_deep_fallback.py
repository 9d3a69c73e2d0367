"""No silent failure of a fitted STF network: divergence stops a run, a diverged run restarts once,
and a network that ends worse than delta on validation says so and returns delta's prediction."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stfusion.core import predict  # noqa: E402
from stfusion.core.errors import FitReport, ResponseWarning, UnknownParameterError  # noqa: E402
from stfusion.core.params.deep import DeepParams  # noqa: E402
from stfusion.data import SyntheticConfig, make_series  # noqa: E402
from stfusion.methods.baselines import delta  # noqa: E402
from stfusion.methods.deep import run  # noqa: E402
from stfusion.methods.deep.nets import fit as fit_module  # noqa: E402
from stfusion.methods.deep.nets.fit import FitResult, train_loop  # noqa: E402

TINY = {"steps": 2, "batch": 2, "patch": 32, "val_every": 1}


def _task():
    return make_series(SyntheticConfig(size=(64, 64), ratio=8, seed=3)).task([1, 4], 3)[0]


def _stub_net(parts):
    net = run.build("dcstfn", 3, DeepParams(), 8)
    steps = iter(parts)
    net.training_step = lambda batch, opts, precision: next(steps)  # no optimisation: the loop's logic only
    return net


@pytest.mark.parametrize("parts, vals, why", [
    ([{"loss": 0.1}, {"loss": float("nan")}] + [{"loss": 0.1}] * 8, [1.0] * 10, "non-finite loss at step 2"),
    ([{"loss": 0.1}] * 10, [1.0, 0.5, 0.6, 2.6, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4], "validation MSE 2.6 at step 4"),
])
def test_train_loop_stops_a_diverging_run_and_keeps_the_best_weights(parts, vals, why):
    values = iter(vals)
    result = train_loop(_stub_net(parts), lambda: None, lambda: next(values), DeepParams(val_every=1, patience=9),
                        steps=10, log=None, progress=False, desc="")
    assert result.diverged.startswith(why) and result.steps < 10 and result.best_val_mse <= 1.0


def test_a_diverged_run_restarts_once_with_a_lower_rate_and_another_seed(monkeypatch):
    calls = []

    def fake_fit(net, stacks, params, **kw):
        calls.append((params.lr, params.seed))
        first = len(calls) == 1
        return FitResult(1, 9.0 if first else 1.0, 1, "strip", 0.0, diverged="non-finite loss at step 1" if first else "",
                         baseline_mse=2.0)

    monkeypatch.setattr(fit_module, "fit", fake_fit)
    stacks = run._training_stacks(_task(), 0)
    _, card = run.train_net("dcstfn", stacks, DeepParams(lr=1e-3, seed=5), progress=False)
    assert calls == [(1e-3, 5), (2.5e-4, 6)]
    assert card["restart"]["kept"] == "restart" and card["validation"]["val_mse"] == 1.0
    assert card["restart"]["reason"] == "non-finite loss at step 1" and card["validation"]["beats_delta"] is True


def test_a_network_worse_than_delta_on_validation_says_so_and_returns_delta():
    task = _task()
    with pytest.warns(ResponseWarning, match=r"dcstfn loses to delta: validation RMSE .* returning delta's prediction"):
        out = predict("dcstfn", task, fit=True, **TINY)
    assert np.array_equal(out.data, delta(task).data, equal_nan=True)
    with pytest.warns(ResponseWarning, match="returning network's prediction"):
        kept = predict("dcstfn", task, fit=True, fallback="none", **TINY)
    assert not np.allclose(kept.data, out.data, equal_nan=True)
    with pytest.raises(UnknownParameterError, match="fallback='classical' is unknown"):
        predict("dcstfn", task, fit=True, fallback="classical")


def test_a_network_better_than_delta_reports_it(monkeypatch):
    real = run.train_net

    def better(*args, **kw):  # the real network and a card whose scores favour it
        net, _ = real(*args, **kw)
        return net, {"validation": {"val_mse": 1e-6, "delta_val_mse": 1e-4, "validation": "strip"}}

    monkeypatch.setattr(run, "train_net", better)
    with pytest.warns(FitReport, match=r"dcstfn validation RMSE 0.001 against delta's 0.01 \(strip\); returning the network"):
        predict("dcstfn", _task(), fit=True, **TINY)
