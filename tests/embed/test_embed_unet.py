"""The regression heads of the probe: the UNet learns a blurred linear function of the embedding on
held-out blocks, never reads labels outside the mask, is seeded, and predicts maps of any shape;
the per-pixel regressors; the checkerboard split."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
ndimage = pytest.importorskip("scipy.ndimage")

from stfusion.core.errors import NoDataError, ShapeMismatchError, UnknownParameterError  # noqa: E402
from stfusion.embed.heads import RegressionHead, checkerboard  # noqa: E402
from stfusion.embed.nets.unet import UNet, UNetRegressor  # noqa: E402

FAST = {"width": 8, "patch": 16, "batch": 4, "lr": 5e-3}


def _scene(rows: int = 32, cols: int = 32, dim: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """iid embeddings and a target that is a linear function of them blurred over ~1.5 px."""
    rng = np.random.default_rng(seed)
    emb = rng.standard_normal((rows, cols, dim)).astype(np.float32)
    target = ndimage.gaussian_filter(emb @ rng.standard_normal(dim), 1.5) * 10 + 50
    return emb, target


def test_unet_shapes_for_any_size():
    torch = pytest.importorskip("torch")
    net = UNet(5, 2, width=4).eval()
    assert net(torch.zeros(1, 5, 12, 20)).shape == (1, 2, 12, 20)


def test_unet_learns_a_blurred_linear_target_on_held_out_blocks():
    emb, target = _scene()
    train = checkerboard(target.shape, 8)
    head = UNetRegressor(steps=60, seed=0, **FAST).fit(emb, target, train)
    pred = head.predict(emb)
    test = ~train
    rmse = np.sqrt(np.mean((pred[test] - target[test]) ** 2))
    mean_rmse = np.sqrt(np.mean((target[train].mean() - target[test]) ** 2))
    assert pred.shape == target.shape and pred.dtype == np.float32
    assert rmse < 0.5 * mean_rmse, (rmse, mean_rmse)
    assert np.mean(head.history[-10:]) < 0.5 * np.mean(head.history[:5])


def test_masked_labels_are_never_used_and_nan_labels_are_ignored():
    emb, target = _scene(24, 28)
    train = checkerboard(target.shape, 6)
    a = UNetRegressor(steps=15, seed=3, **FAST).fit(emb, target, train).predict(emb)
    huge = np.where(train, target, 1e12)
    assert np.array_equal(a, UNetRegressor(steps=15, seed=3, **FAST).fit(emb, huge, train).predict(emb))
    gaps = train.copy()
    gaps[::3] = False
    b = UNetRegressor(steps=15, seed=3, **FAST).fit(emb, target, gaps).predict(emb)
    nan = np.where(gaps, target, np.nan)
    assert np.array_equal(b, UNetRegressor(steps=15, seed=3, **FAST).fit(emb, nan, train).predict(emb))
    c = UNetRegressor(steps=15, seed=4, **FAST).fit(emb, target, train).predict(emb)
    assert not np.array_equal(a, c)  # another seed


def test_tiled_prediction_equals_the_whole_map(monkeypatch):
    import stfusion.embed.nets.unet as unet

    emb, target = _scene(90, 77, dim=4)
    emb[40:43, 50] = np.nan
    head = UNetRegressor(steps=2, seed=0, **FAST).fit(emb, target)
    whole = head.predict(emb, tile=10**6)  # one window: the whole padded map
    tiled = head.predict(emb, tile=21)  # 20-pixel tiles with 32-pixel halos
    assert np.array_equal(np.isnan(whole), np.isnan(tiled)) and np.isnan(whole[40:43, 50]).all()
    assert np.nanmax(np.abs(tiled - whole)) < 1e-6 * np.nanmax(np.abs(whole))
    monkeypatch.setattr(unet, "HALO", 4)  # a halo smaller than the receptive field shows the seams
    assert np.nanmax(np.abs(head.predict(emb, tile=21) - whole)) > 1e-5 * np.nanmax(np.abs(whole))


def test_multi_target_odd_shapes_and_no_data():
    emb, target = _scene(13, 18, dim=4)
    emb[0, 0] = np.nan
    both = np.stack([target, -target], axis=-1)
    head = UNetRegressor(steps=5, seed=0, **FAST).fit(emb, both)
    pred = head.predict(emb)
    assert pred.shape == (13, 18, 2) and np.isnan(pred[0, 0]).all() and np.isfinite(pred.reshape(-1, 2)[1:]).all()
    assert head.predict(emb[:7, :5]).shape == (7, 5, 2)
    with pytest.raises(ShapeMismatchError, match="target has shape"):
        UNetRegressor(steps=1).fit(emb, target[:5])
    with pytest.raises(ShapeMismatchError, match=r"expected \(rows, cols, 4\)"):
        head.predict(emb[..., :3])
    with pytest.raises(NoDataError, match="no pixel is labelled"):
        UNetRegressor(steps=1).fit(emb, target, np.zeros(target.shape, bool))
    with pytest.raises(UnknownParameterError, match="unknown UNet loss"):
        UNetRegressor(loss="huber")
    l1 = UNetRegressor(steps=3, loss="l1", **FAST).fit(emb[:3, :3], target[:3, :3])  # smaller than one pooling
    assert l1.predict(emb[:3, :3]).shape == (3, 3)


def test_checkerboard_split():
    train = checkerboard((101, 100), 10)
    r, c = np.mgrid[:101, :100]
    assert train.shape == (101, 100) and np.array_equal(train, ((r // 10) + (c // 10)) % 2 == 0)  # the benchmark's
    assert train[0, 0] and not train[0, 10] and not train[10, 0] and train[10, 10]
    assert abs(train.mean() - 0.5) < 0.01
    with pytest.raises(UnknownParameterError, match="block must be >= 1"):
        checkerboard((4, 4), 0)


@pytest.mark.parametrize("kind", ["linear", "rf", "mlp"])
def test_regression_heads_learn_a_linear_target(kind):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 5))
    y = np.stack([x @ [3.0, -1.0, 0.5, 0.0, 0.0] + 100, x[:, 0] * 0.01], axis=1)
    head = RegressionHead(kind, seed=1, epochs=40).fit(x[:200], y[:200])
    pred = head.predict(x[200:])
    r2 = 1 - ((pred - y[200:]) ** 2).sum(0) / ((y[200:] - y[200:].mean(0)) ** 2).sum(0)
    assert pred.shape == (100, 2) and (r2 > 0.7).all(), r2
    one = RegressionHead(kind, seed=1, epochs=40).fit(x[:200], y[:200, 0]).predict(x[200:])
    assert one.shape == (100,)
    again = RegressionHead(kind, seed=1, epochs=40).fit(x[:200], y[:200, 0]).predict(x[200:])
    assert np.allclose(one, again, rtol=0, atol=1e-9)  # seeded (the forest sums its trees in thread order)
