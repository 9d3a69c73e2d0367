"""Metamorphic checks of DESIGN.md, run on every registered STF method that needs no training."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from stfusion.core import FusionTask, Pair, Scene, get_spec, list_methods, predict
from stfusion.parallel import predict_tiled

METHODS = [s.name for s in list_methods("stf") if not s.needs_training]
D0, D1 = dt.date(2021, 5, 1), dt.date(2021, 6, 10)
RATIO = 4
GRID = dict(transform=(30.0, 0.0, 500000.0, 0.0, -30.0, 5000000.0), crs="EPSG:32633")


def _blocky(fine: np.ndarray) -> np.ndarray:
    b, h, w = fine.shape
    blocks = fine.reshape(b, h // RATIO, RATIO, w // RATIO, RATIO).mean(axis=(2, 4))
    return np.repeat(np.repeat(blocks, RATIO, axis=1), RATIO, axis=2)


def _pairs(method: str, fine0: np.ndarray, coarse0: np.ndarray, fine_mask: np.ndarray | None = None) -> list[Pair]:
    """The D0 pair, plus the later pairs a method needs (``min_pairs``): their fine images are a
    band-wise affine change of ``fine0``, so a constant scene stays constant and band order is kept."""
    bands = tuple(f"b{i}" for i in range(fine0.shape[0]))
    pairs = [Pair(Scene(fine0, mask=fine_mask, date=D0, bands=bands, **GRID), Scene(coarse0, date=D0, bands=bands, **GRID))]
    for k in range(1, get_spec(method).min_pairs):
        fine_k = (fine0 * (1 + 0.1 * k) + 0.02 * k).astype(np.float32)
        day = D1 + dt.timedelta(days=40 * k)
        pairs.append(Pair(Scene(fine_k, date=day, bands=bands, **GRID), Scene(_blocky(fine_k), date=day, bands=bands, **GRID)))
    return pairs


def _task(method: str, fine0: np.ndarray, coarse0: np.ndarray, coarse1: np.ndarray) -> FusionTask:
    bands = tuple(f"b{i}" for i in range(fine0.shape[0]))
    return FusionTask(_pairs(method, fine0, coarse0), Scene(coarse1, date=D1, bands=bands, **GRID), ratio=RATIO)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(42)
    fine0 = (0.1 + 0.3 * rng.random((3, 32, 32))).astype(np.float32)
    change = np.linspace(0.0, 0.05, 3)[:, None, None] * (1 + rng.random((1, 32, 32)))
    return fine0, _blocky(fine0), _blocky(fine0 + change)


@pytest.mark.parametrize("method", METHODS)
def test_unchanged_coarse_returns_the_fine_image(method, images):
    fine0, coarse0, _ = images
    out = predict(method, _task(method, fine0, coarse0, coarse0.copy()))
    assert out.mask.all()
    np.testing.assert_allclose(out.data, fine0, atol=1e-5)


@pytest.mark.parametrize("method", METHODS)
def test_constant_scene_gives_constant_prediction(method):
    const = np.full((3, 32, 32), 0.2, np.float32)
    out = predict(method, _task(method, const, const, const + 0.03))
    values = out.data[:, out.mask]
    assert np.ptp(values, axis=1).max() < 1e-6


@pytest.mark.parametrize("method", METHODS)
def test_permuting_bands_permutes_the_output(method, images):
    fine0, coarse0, coarse1 = images
    order = [2, 0, 1]
    out = predict(method, _task(method, fine0, coarse0, coarse1))
    out_p = predict(method, _task(method, fine0[order], coarse0[order], coarse1[order]))
    np.testing.assert_allclose(out_p.data[:, out_p.mask], out.data[order][:, out.mask], atol=1e-6)
    assert np.array_equal(out.mask, out_p.mask)


@pytest.mark.parametrize("method", METHODS)
def test_output_keeps_grid_and_takes_target_date(method, images):
    fine0, coarse0, coarse1 = images
    out = predict(method, _task(method, fine0, coarse0, coarse1))
    assert out.shape == fine0.shape and out.date == D1


@pytest.mark.parametrize("method", METHODS)
def test_invalid_target_pixels_are_masked_not_filled(method, images):
    fine0, coarse0, coarse1 = images
    mask = np.ones(fine0.shape[1:], bool)
    mask[:8, :8] = False
    bands = ("b0", "b1", "b2")
    task = FusionTask(_pairs(method, fine0, coarse0), Scene(coarse1, mask=mask, date=D1, bands=bands, **GRID), ratio=RATIO)
    out = predict(method, task)
    if method != "nochange":
        assert not out.mask[:8, :8].any()
    assert np.isfinite(out.data[:, out.mask]).all()


BLOCKWISE = [s.name for s in list_methods("stf") if s.blockwise and not s.needs_training]


@pytest.mark.parametrize("method", BLOCKWISE)
@pytest.mark.parametrize("chunk", [7, 16])
def test_tiled_output_equals_in_memory_output(method, chunk, images):

    fine0, coarse0, coarse1 = images
    mask = np.ones(fine0.shape[1:], bool)
    mask[3:9, 20:30] = False
    bands = ("b0", "b1", "b2")
    task = FusionTask(_pairs(method, fine0, coarse0, fine_mask=mask), Scene(coarse1, date=D1, bands=bands, **GRID), ratio=RATIO)
    whole = predict(method, task)
    tiled = predict_tiled(method, task, chunk=chunk, scheduler="threads")
    assert np.array_equal(whole.mask, tiled.mask)
    assert np.array_equal(whole.data[:, whole.mask], tiled.data[:, tiled.mask])


def test_tiled_chunks_know_their_origin(monkeypatch):
    """Each Dask chunk's Block carries the scene position of its first pixel (halo included)."""
    import stfusion.methods.baselines as baselines

    seen: list[tuple[tuple[int, int], tuple[int, int]]] = []
    original = baselines.predict_block

    def spy(block, stats, params):
        seen.append((block.origin, block.target_mask.shape))
        return original(block, stats, params)

    monkeypatch.setattr(baselines, "predict_block", spy)
    rng = np.random.default_rng(1)
    img = rng.random((2, 20, 24)).astype(np.float32)
    predict_tiled("delta", _task("delta", img, img, img), chunk=8)
    assert sorted(o for o, shape in seen if min(shape) > 0) == [(r, c) for r in (0, 8, 16) for c in (0, 8, 16)]
