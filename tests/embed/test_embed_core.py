"""Temporal embeddings: sampling statistics, int8 quantisation, the model shapes and the losses."""

from __future__ import annotations

import numpy as np
import pytest

from stfusion.core.errors import MissingInputError, ShapeMismatchError, UnknownParameterError
from stfusion.embed.config import config
from stfusion.embed.quantise import dequantise, quantise
from stfusion.embed.sampling import sample_indices, two_views


def test_sampling_without_replacement_when_enough_and_sorted():
    rng = np.random.default_rng(0)
    valid = rng.random((300, 80)) < 0.7  # ~56 valid each, more than 40
    idx, ok = sample_indices(valid, 40, rng)
    assert ok.all() and idx.shape == (300, 40)
    assert (np.diff(idx, axis=1) > 0).all()  # sorted, no repeats
    assert np.take_along_axis(valid, idx, axis=1).all()  # only valid observations
    # every valid observation is equally likely: chosen fraction = 40 / count, per time step
    hits = np.zeros(80)
    for _ in range(20):
        i, _ = sample_indices(valid, 40, rng)
        np.add.at(hits, i.ravel(), 1)
    expected = (valid * (40 / valid.sum(1, keepdims=True))).sum(0) * 20
    assert np.allclose(hits, expected, rtol=0.15)


def test_sampling_with_replacement_when_short_and_no_data():
    rng = np.random.default_rng(1)
    valid = np.zeros((3, 30), bool)
    valid[0, [2, 7, 11]] = True
    valid[1, :] = True
    idx, ok = sample_indices(valid, 40, rng)
    assert list(ok) == [True, True, False]
    assert set(idx[0]) <= {2, 7, 11} and len(set(idx[0])) == 3  # all three drawn over 40 picks
    assert (np.diff(idx[0]) >= 0).all()
    assert (idx[2] == 0).all()
    a, b, _ = two_views(valid, 10, np.random.default_rng(2))
    assert not np.array_equal(a[1], b[1])  # independent views
    with pytest.raises(UnknownParameterError):
        sample_indices(valid, 0, rng)
    with pytest.raises(ShapeMismatchError):
        sample_indices(valid[0], 4, rng)


def test_quantise_dequantise_error_is_at_most_half_a_step():
    rng = np.random.default_rng(3)
    e = rng.standard_normal((6, 7, 128)).astype(np.float32) * rng.uniform(0.01, 5, (6, 7, 1)).astype(np.float32)
    valid = np.ones((6, 7), bool)
    valid[0, 0] = False
    e[1, 1] = 0.0
    q, s = quantise(e, valid)
    assert q.dtype == np.int8 and s.dtype == np.float32 and s.shape == (6, 7)
    assert np.isnan(s[0, 0]) and (q[0, 0] == 0).all()
    assert s[1, 1] == 0.0 and (q[1, 1] == 0).all()  # a true zero vector is not no-data
    back = dequantise(q, s)
    assert np.isnan(back[0, 0]).all()
    ok = valid
    assert (np.abs(back[ok] - e[ok]) <= s[ok][:, None] / 2 + 1e-7).all()
    assert np.allclose(np.abs(q[ok]).max(-1)[s[ok] > 0], 127)  # the largest value uses the full range


def test_model_sizes_and_losses():
    torch = pytest.importorskip("torch")
    from stfusion.embed.nets.model import EmbeddingModel, barlow_twins, mix_regulariser, n_parameters

    with torch.device("meta"):  # shapes only: the v1 projector alone would allocate 5 GB
        v1 = EmbeddingModel(config("v1").with_sensors(s2=10, s1=2))
    assert n_parameters(v1.encoders["s2"]) == pytest.approx(22.85e6, rel=0.002)  # the released checkpoint's branch
    del v1
    torch.manual_seed(0)
    tiny = EmbeddingModel(config("tiny").with_sensors(ndvi=1))
    x, doy = torch.randn(32, 16, 1), torch.sort(torch.randint(1, 366, (32, 16)), dim=1).values
    with torch.no_grad():
        z = tiny({"ndvi": (x, doy)})
        p = tiny.projector(z)
    assert z.shape == (32, 128)
    # identical views: the diagonal term vanishes, only lambda * off-diagonal remains
    c = ((p - p.mean(0)) / p.std(0, unbiased=False)).T @ ((p - p.mean(0)) / p.std(0, unbiased=False)) / 32
    off = float(c.pow(2).sum() - torch.diagonal(c).pow(2).sum())
    assert float(barlow_twins(p, p)) == pytest.approx(5e-3 * off, rel=1e-4)
    assert float(barlow_twins(p, torch.randn_like(p))) > float(barlow_twins(p, p))
    perm = torch.randperm(32)
    q = torch.randn_like(p)
    assert float(mix_regulariser(p, p, q, 1.0, perm)) == pytest.approx(0.0, abs=1e-6)  # alpha = 1: the mix is view A
    assert float(mix_regulariser(p, p, q, 0.5, perm)) > 0
    with pytest.raises(MissingInputError, match="missing ndvi"):
        tiny({"s2": (x, doy)})
