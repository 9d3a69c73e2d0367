"""Embedding training and inference on tiny synthetic d-pixels: the loss falls, a checkpoint round trip."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stfusion.core.dpixel import DPixels, SensorSeries  # noqa: E402
from stfusion.core.errors import CheckpointError, ShapeMismatchError  # noqa: E402
from stfusion.embed.config import config  # noqa: E402
from stfusion.embed.nets.train import embed, fit_embedding, load_model, save_model  # noqa: E402
from stfusion.embed.quantise import dequantise, quantise  # noqa: E402

CFG = config("tiny").with_sensors(s2=1)
CFG = type(CFG)(**{**CFG.__dict__, "d_model": 16, "ff": 32, "layers": 1, "projector": 64, "samples": 8})


def _dpixels(n: int = 96, t: int = 24, seed: int = 0) -> DPixels:
    """Two classes with different seasonal NDVI curves, 30 % clouds."""
    rng = np.random.default_rng(seed)
    doy = np.sort(rng.choice(np.arange(1, 366), t, replace=False))
    cls = rng.integers(0, 2, n)
    curve = np.where(cls[:, None] == 0, 0.2 + 0.6 * np.exp(-((doy - 180) / 40) ** 2), 0.3 + 0.1 * np.sin(doy / 58))
    values = (curve + 0.02 * rng.standard_normal((n, t)))[..., None]
    valid = rng.random((n, t)) > 0.3
    valid[0] = False  # a pixel with no clear observation
    return DPixels({"s2": SensorSeries(values, valid, doy, ("NDVI",))}, (8, 12))


def test_dpixels_validation():
    dp = _dpixels()
    assert dp.pixels == 96 and not dp.any_valid[0] and dp.any_valid[1:].all()
    with pytest.raises(ShapeMismatchError, match="grid"):
        DPixels(dp.sensors, (5, 5))
    with pytest.raises(ShapeMismatchError, match="doy"):
        SensorSeries(np.zeros((4, 3, 1)), np.ones((4, 3)), np.arange(5), ("NDVI",))


def test_training_lowers_the_loss_and_the_checkpoint_round_trips(tmp_path):
    dp = _dpixels()
    model, std, hist = fit_embedding(dp, CFG, steps=40, batch=32, lr=5e-2, progress=False)
    first = np.mean([h["bt"] for h in hist[:5]])
    last = np.mean([h["bt"] for h in hist[-5:]])
    assert last < 0.8 * first and all(np.isfinite(h["loss"]) for h in hist)
    e, ok = embed(model, std, dp, progress=False)
    assert e.shape == (96, 128) and not ok[0] and (e[0] == 0).all()
    save_model(model, std, tmp_path / "emb.pt", {"trained_on": "tiny"})
    again, std2, card = load_model(tmp_path / "emb.pt")
    e2, _ = embed(again, std2, dp, progress=False)
    assert np.array_equal(e, e2) and card == {"trained_on": "tiny"}
    q, s = quantise(e, ok)
    assert np.isnan(s[0]) and np.nanmax(np.abs(dequantise(q, s)[ok] - e[ok]) - s[ok][:, None] / 2) <= 1e-7
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_model(tmp_path / "bad.pt")


def test_qat_and_seeded_runs():
    dp = _dpixels()
    a = fit_embedding(dp, CFG, steps=3, batch=16, qat=True, progress=False)[2]
    b = fit_embedding(dp, CFG, steps=3, batch=16, qat=True, progress=False)[2]
    assert [h["loss"] for h in a] == pytest.approx([h["loss"] for h in b], rel=1e-5)


def test_a_killed_training_resumes_to_the_same_weights(tmp_path, monkeypatch):
    import stfusion.embed.nets.train as train

    dp, state = _dpixels(), tmp_path / "emb.pt.state"
    whole, _, hist = fit_embedding(dp, CFG, steps=7, batch=16, progress=False)
    calls, real = [0], train.barlow_twins

    def dies_at_step_6(z1, z2):
        calls[0] += 1
        if calls[0] == 6:
            raise KeyboardInterrupt
        return real(z1, z2)

    monkeypatch.setattr(train, "barlow_twins", dies_at_step_6)
    with pytest.raises(KeyboardInterrupt):
        fit_embedding(dp, CFG, steps=7, batch=16, progress=False, state=state, every=2)
    assert torch.load(state, weights_only=True)["step"] == 4  # the last state before the kill
    monkeypatch.setattr(train, "barlow_twins", real)
    resumed, _, hist2 = fit_embedding(dp, CFG, steps=7, batch=16, progress=False, state=state, every=2)
    assert [h["loss"] for h in hist2] == [h["loss"] for h in hist]
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    with pytest.raises(CheckpointError, match="other data or options"):
        fit_embedding(dp, CFG, steps=8, batch=16, progress=False, state=state)
    state.write_bytes(b"truncated")
    with pytest.raises(CheckpointError, match="not readable"):
        fit_embedding(dp, CFG, steps=7, batch=16, progress=False, state=state)
