"""The deep STF networks with tiny inputs: shapes, learning, checkpoints, seeds, tiling."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stfusion.core.errors import CheckpointError, DateError, ShapeMismatchError  # noqa: E402
from stfusion.core.registry import get_spec  # noqa: E402
from stfusion.core.params.deep import DeepParams, StfdcnnParams  # noqa: E402
from stfusion.core.training import DatedStack, simulate_change  # noqa: E402
from stfusion.methods.deep.nets.base import Batch, Precision  # noqa: E402
from stfusion.methods.deep.nets.checkpoint import check_fits, load_checkpoint, save_checkpoint  # noqa: E402
from stfusion.methods.deep.nets.fit import fit  # noqa: E402
from stfusion.methods.deep.nets.tiling import predict_tiled  # noqa: E402
from stfusion.methods.deep.run import build, builders  # noqa: E402

METHODS = ("stfdcnn", "dcstfn", "edcstfn", "ganstfm")
BANDS = 3


def _net(method: str):
    torch.manual_seed(0)
    return build(method, BANDS, StfdcnnParams(lsr_factor=4) if method == "stfdcnn" else DeepParams(), 16)


def _batch(n: int = 2, size: int = 32, refs: int = 1, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(n, BANDS, size, size, generator=g) * 0.3
    change = 0.05 * torch.rand(n, BANDS, 1, 1, generator=g)
    fine_refs = [base + 0.01 * i for i in range(refs)]
    coarse_refs = [torch.nn.functional.avg_pool2d(f, 8).repeat_interleave(8, 2).repeat_interleave(8, 3) for f in fine_refs]
    fine = base + change
    coarse = torch.nn.functional.avg_pool2d(fine, 8).repeat_interleave(8, 2).repeat_interleave(8, 3)
    return Batch(coarse, fine, fine_refs, coarse_refs, torch.ones(n, 1, size, size))


@pytest.mark.parametrize("method", METHODS)
def test_prediction_shapes_for_each_accepted_number_of_references(method):
    net = _net(method).eval()
    for refs in net.info.refs:
        b = _batch(refs=refs)
        with torch.no_grad():
            out = net(b.coarse, b.fine_refs, b.coarse_refs)
        assert out.shape == b.fine.shape and torch.isfinite(out).all()
    too_many = max(net.info.refs) + 1
    b = _batch(refs=too_many)
    with pytest.raises(ShapeMismatchError, match="reference"):
        net(b.coarse, b.fine_refs, b.coarse_refs)


@pytest.mark.parametrize("method", METHODS)
def test_the_loss_decreases_on_a_fixed_batch(method):
    net = _net(method).train()
    b = _batch()
    opts = net.optimisers(get_spec(method).params().lr)  # each method's default (GAN-STFM: 2e-4)
    precision = Precision(torch.device("cpu"))
    first, _ = net.loss(b)
    for _ in range(15):
        net.training_step(b, opts, precision)
    last, _ = net.loss(b)
    assert float(last.detach()) < float(first.detach())


def _stack(dates: int = 2, size: int = 48) -> DatedStack:
    rng = np.random.default_rng(1)
    fine = rng.uniform(0.05, 0.4, (dates, BANDS, size, size)).astype(np.float32)
    coarse = fine.reshape(dates, BANDS, size // 8, 8, size // 8, 8).mean((3, 5)).repeat(8, 2).repeat(8, 3)
    return DatedStack(fine, coarse.astype(np.float32), np.ones((dates, size, size), bool),
                      tuple(np.datetime64("2020-01-01") + np.arange(dates) * 16 for _ in [0])[0].tolist(),
                      ("green", "red", "nir"), 8.0, 1e-4, "tiny")


@pytest.mark.parametrize("method", METHODS)
def test_checkpoint_round_trip_gives_identical_outputs(method, tmp_path):
    net = _net(method)
    params = DeepParams(steps=2, batch=2, patch=32, val_every=1, pretrain_steps=1)
    result = fit(net, [_stack(size=64)], params, progress=False, log=tmp_path / "log.csv")
    save_checkpoint(net, {"bands": ["green", "red", "nir"], "ratio": 8.0, "fine_mean": [0.2] * 3,
                          "validation": result.card()}, tmp_path / "net.pt")
    again, card = load_checkpoint(tmp_path / "net.pt", builders(), method)
    b = _batch()
    with torch.no_grad():
        a = net.eval()(b.coarse, b.fine_refs, b.coarse_refs)
        c = again(b.coarse, b.fine_refs, b.coarse_refs)
    assert torch.equal(a, c)
    assert card["validation"]["steps_run"] == 2 and (tmp_path / "net.pt.json").is_file()
    assert (tmp_path / "log.csv").read_text().startswith("step,")


def test_checkpoints_that_do_not_fit_are_refused(tmp_path):
    net = _net("stfdcnn")
    save_checkpoint(net, {"bands": ["green", "red", "nir"], "ratio": 8.0, "fine_mean": [0.2] * 3}, tmp_path / "a.pt")
    _, card = load_checkpoint(tmp_path / "a.pt", builders())
    with pytest.raises(CheckpointError, match="3 bands"):
        check_fits(card, bands=None, n_bands=4, ratio=8.0, fine_mean=None, where="t")
    with pytest.raises(CheckpointError, match="bands are"):
        check_fits(card, bands=("red", "green", "nir"), n_bands=3, ratio=8.0, fine_mean=None, where="t")
    with pytest.raises(CheckpointError, match="ratio"):
        check_fits(card, bands=None, n_bands=3, ratio=16.0, fine_mean=None, where="t")
    with pytest.raises(CheckpointError, match="scale"):
        check_fits(card, bands=None, n_bands=3, ratio=8.0, fine_mean=np.full(3, 2000.0), where="t")
    check_fits(card, bands=("green", "red", "nir"), n_bands=3, ratio=9.0, fine_mean=np.full(3, 0.25), where="t")
    with pytest.raises(CheckpointError, match="holds a stfdcnn"):
        load_checkpoint(tmp_path / "a.pt", builders(), "dcstfn")
    (tmp_path / "cut.pt").write_bytes((tmp_path / "a.pt").read_bytes()[:500])
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(tmp_path / "cut.pt", builders())
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt", builders())


def test_training_is_deterministic_for_a_seed():
    params = DeepParams(steps=3, batch=2, patch=32, val_every=3, seed=5)
    outs = []
    for _ in range(2):
        net = _net("edcstfn")
        fit(net, [_stack(size=64)], params, progress=False)
        b = _batch()
        with torch.no_grad():
            outs.append(net(b.coarse, b.fine_refs, b.coarse_refs))
    assert torch.equal(outs[0], outs[1])


def test_one_date_cannot_train_but_a_simulated_change_can():
    one = DatedStack(*(x[:1] for x in (_stack().fine, _stack().coarse, _stack().mask)), (None,), None, None)
    with pytest.raises(DateError, match="one date"):
        fit(_net("stfdcnn"), [one], DeepParams(steps=1, patch=32), progress=False)
    two = simulate_change(one, seed=3)
    assert two.fine.shape[0] == 2 and not np.allclose(two.fine[0], two.fine[1])
    np.testing.assert_array_equal(simulate_change(one, seed=3).fine, two.fine)


@pytest.mark.parametrize("method", METHODS)
def test_tiled_inference_equals_whole_image_inference(method):
    net = _net(method).eval()
    rng = np.random.default_rng(2)
    h, w = 150, 170
    fine = rng.uniform(0.05, 0.4, (BANDS, h, w)).astype(np.float32)
    coarse = (fine + 0.02).astype(np.float32)
    refs = max(net.info.refs)
    args = (coarse, [fine] * refs, [coarse - 0.01] * refs)
    whole = predict_tiled(net, *args, tile=4096, blend=8, device=torch.device("cpu"))
    tiled = predict_tiled(net, *args, tile=net.info.multiple * 2 + 2 * net.info.halo + 16, blend=8,
                          device=torch.device("cpu"))
    assert whole.shape == (BANDS, h, w)
    np.testing.assert_allclose(tiled, whole, atol=1e-4)
