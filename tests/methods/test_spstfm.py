"""SPSTFM: learned dictionaries, tiling, worker processes, masks, weights, parameters, real data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from stfusion.core import (
    FusionTask, NoDataError, Pair, Scene, ShapeMismatchError, UnknownParameterError, get_spec, predict,
)
from stfusion.core.params.spstfm import SpstfmParams
from stfusion.methods.classical import spstfm as S
from stfusion.methods.classical.ksvd import omp, reconstruct
from stfusion.parallel import predict_tiled

SMALL = dict(dict_size=32, training_samples=300, min_train_iter=2, max_train_iter=4)
DATES = (dt.date(2020, 5, 1), dt.date(2020, 6, 10), dt.date(2020, 7, 20))


def _images(shape=(48, 45), bands=2, seed=0):
    """Fine images at three dates (smooth base, textured change that is not linear in time, an
    abrupt change in one corner) and coarse images that are Gaussian blurs of them."""
    rng = np.random.default_rng(seed)
    base = 0.2 + 0.05 * gaussian_filter(rng.standard_normal((bands, *shape)), (0, 2, 2)) / 0.1
    change = gaussian_filter(rng.standard_normal((bands, *shape)), (0, 2.5, 2.5))
    change = 0.04 * change / np.abs(change).max()
    fine = [base, base + 0.3 * change, base + change]
    fine[1][:, :12, :12] += 0.05  # abrupt change at the target date only
    coarse = [gaussian_filter(f, (0, 3, 3), mode="nearest") for f in fine]
    return [f.astype(np.float32) for f in fine], [c.astype(np.float32) for c in coarse]


def _task(fine, coarse, masks=None) -> FusionTask:
    """Pairs at dates 0 and 2, target coarse at date 1; ``masks`` = (F1, F3, C1, C3, C2) or None."""
    m = masks or [None] * 5

    def scene(data, mask, day):
        data = np.array(data)
        if mask is not None:
            data[:, ~mask] = np.nan
        return Scene(data, mask=mask, date=day)

    pairs = [Pair(scene(fine[t], m[i], DATES[t]), scene(coarse[t], m[2 + i], DATES[t])) for i, t in enumerate((0, 2))]
    return FusionTask(pairs, scene(coarse[1], m[4], DATES[1]))


@pytest.fixture(scope="module")
def images():
    return _images()


@pytest.fixture(scope="module")
def masks():
    rng = np.random.default_rng(7)
    out = [rng.random((48, 45)) > 0.01 for _ in range(5)]
    out[0][20:26, 30:40] = False  # a cloud in the first fine image
    out[4][40:, :5] = False  # and in the target
    return out


def test_registry_entry():
    spec = get_spec("spstfm")
    assert (spec.min_pairs, spec.max_pairs, spec.blockwise, spec.task) == (2, 2, True, "stf")
    assert spec.halo(SpstfmParams(), None) == 6 and spec.halo(SpstfmParams(patch_size=5, patch_overlap=1), 30.0) == 4
    assert spec.defaults()["dict_size"] == 256 and spec.defaults()["training_samples"] == 2000


def test_reconstructs_a_training_patch_from_its_own_dictionary(images):
    """A training patch's fine change is predicted from its coarse change by the learned pair far
    better than by the coarse patch mean alone (measured: median relative error 0.2 vs 0.8)."""
    fine, coarse = images
    params = SpstfmParams(**SMALL)
    st = S.stats(_task(fine, coarse), params)
    assert len(st.positions) == 300 and st.high.shape == (2, 49, 32) and st.low.shape == (2, 49, 32)
    np.testing.assert_allclose(np.linalg.norm(st.low, axis=1), 1.0)
    for band in range(2):
        y = S._patches_at((fine[2][band] - fine[0][band]).astype(np.float64), st.positions, 7)
        x = S._patches_at((coarse[2][band] - coarse[0][band]).astype(np.float64), st.positions, 7)
        mean, x_c = S._split_mean(x, np.ones(x.shape, bool))
        codes = omp(st.low[band], (x_c / st.scale[band]).T, params.sparsity)
        pred = mean[:, None] + reconstruct(st.high[band], codes) * st.scale[band]
        rel = np.linalg.norm(pred - y, axis=1) / np.linalg.norm(y, axis=1)
        rel_mean_only = np.linalg.norm(mean[:, None] - y, axis=1) / np.linalg.norm(y, axis=1)
        assert np.median(rel) < 0.4 and np.median(rel) < 0.5 * np.median(rel_mean_only)
        assert st.history[band][st.best[band]] == min(st.history[band])


@pytest.mark.parametrize("chunk", [11, 20])
def test_tiled_equals_in_memory_bit_for_bit(images, masks, chunk):
    task = _task(*images, masks=masks)
    whole = predict("spstfm", task, **SMALL)
    tiled = predict_tiled("spstfm", task, chunk=chunk, params=SMALL)
    assert np.array_equal(whole.mask, tiled.mask)
    assert np.array_equal(whole.data[:, whole.mask], tiled.data[:, tiled.mask])


def test_worker_processes_give_the_same_result(images, monkeypatch):
    task = _task(*images)
    params = SpstfmParams(**SMALL)
    one = S.predict(task, params, threads=1)
    monkeypatch.setattr(S, "PARALLEL_MIN_CODES", 0)  # force the process pool on this small scene
    two = S.predict(task, params, threads=2)
    assert np.array_equal(one.mask, two.mask) and np.array_equal(one.data[:, one.mask], two.data[:, two.mask])


def test_training_is_deterministic_given_the_seed(images):
    task = _task(*images)
    a, b = S.stats(task, SpstfmParams(**SMALL)), S.stats(task, SpstfmParams(**SMALL))
    assert np.array_equal(a.high, b.high) and np.array_equal(a.low, b.low) and np.array_equal(a.positions, b.positions)
    c = S.stats(task, SpstfmParams(**SMALL, seed=1))
    assert not np.array_equal(a.positions, c.positions) and not np.array_equal(a.low, c.low)


def test_training_positions_are_random_valid_and_sorted():
    valid = np.ones((30, 40), bool)
    valid[10, 15] = False
    pos = S.training_positions(valid, 7, 200, seed=3)
    assert pos.shape == (200, 2) and len({tuple(p) for p in pos}) == 200
    assert (np.diff(pos[:, 0] * 100 + pos[:, 1]) > 0).all()
    assert not (((pos[:, 0] <= 10) & (10 < pos[:, 0] + 7)) & ((pos[:, 1] <= 15) & (15 < pos[:, 1] + 7))).any()
    assert len(S.training_positions(valid, 7, 10_000, seed=3)) == 24 * 34 - 49
    assert np.array_equal(pos, S.training_positions(valid, 7, 200, seed=3))


def test_masks_training_and_output(images, masks):
    task = _task(*images, masks=masks)
    st = S.stats(task, SpstfmParams(**SMALL))
    usable = masks[0] & masks[1] & masks[2] & masks[3]
    for r, c in st.positions:
        assert usable[r : r + 7, c : c + 7].all()
    out = predict("spstfm", task, **SMALL)
    all_five = np.logical_and.reduce(masks)
    assert np.array_equal(out.mask, all_five)  # predicted exactly where all five images are valid
    assert np.isfinite(out.data[:, out.mask]).all() and np.isnan(out.data[:, ~out.mask]).all()


def test_more_accurate_than_the_mean_change_on_the_synthetic_scene(images):
    fine, coarse = images
    out = predict("spstfm", _task(fine, coarse), **SMALL)
    truth = fine[1].astype(np.float64)
    delta = 0.5 * (fine[0] + coarse[1] - coarse[0]) + 0.5 * (fine[2] + coarse[1] - coarse[2])
    rmse = np.sqrt(((out.data - truth) ** 2).mean())
    assert rmse < np.sqrt(((delta - truth) ** 2).mean())


def test_temporal_weights():
    v1 = np.array([0.0, 0.1, 0.1, 0.0, 0.5, 0.1])
    v3 = np.array([0.1, 0.1, 0.3, 0.0, 0.1, 0.35])
    w1, w3 = S._weights(v1, v3, 0.2)
    np.testing.assert_allclose(w1, [1.0, 0.5, 0.75, 0.5, 0.0, 1.0])
    np.testing.assert_allclose(w3, [0.0, 0.5, 0.25, 0.5, 1.0, 0.0])


def test_all_masked_target_raises(images):
    fine, coarse = images
    masks = [None] * 4 + [np.zeros((48, 45), bool)]
    with pytest.raises(NoDataError):
        predict("spstfm", _task(fine, coarse, masks=masks), **SMALL)


def test_no_valid_training_patch_raises(images):
    fine, coarse = images
    checker = (np.indices((48, 45)).sum(axis=0) % 5) != 0  # an invalid pixel in every 7 x 7 patch
    with pytest.raises(NoDataError, match="training"):
        predict("spstfm", _task(fine, coarse, masks=[checker] + [None] * 4), **SMALL)


@pytest.mark.parametrize("bad", [
    {"patch_size": 1}, {"patch_size": 7.0}, {"patch_overlap": 4}, {"patch_overlap": -1}, {"dict_size": 0},
    {"training_samples": 0}, {"sparsity": 0}, {"sparsity": 50}, {"dict_size": 2, "sparsity": 3},
    {"min_train_iter": 5, "max_train_iter": 4}, {"min_train_iter": -1}, {"weights_diff_tol": -0.1},
    {"weights_diff_tol": float("nan")}, {"seed": -1}, {"seed": True}, {"no_such_parameter": 1},
])
def test_bad_parameters_are_refused(images, bad):
    with pytest.raises(UnknownParameterError):
        predict("spstfm", _task(*images), **bad)


def test_wrong_pair_count_class_map_and_threads_are_refused(images):
    fine, coarse = images
    task = _task(fine, coarse)
    one_pair = FusionTask([task.pairs[0]], task.target)
    with pytest.raises(ShapeMismatchError):
        predict("spstfm", one_pair)
    with pytest.raises(ShapeMismatchError):
        S.predict(one_pair, SpstfmParams())
    with pytest.raises(UnknownParameterError):
        predict("spstfm", task, classes=np.zeros((48, 45), int))
    with pytest.raises(UnknownParameterError):
        S.predict(task, SpstfmParams(**SMALL), threads=0)


@pytest.mark.realdata
def test_estarfm_scene_accuracy(shared_data):
    """Reference defaults on the ESTARFM scene (two pairs): measured RMSE 0.00808, next to delta
    0.00816 (1/days weights) / 0.00849 (equal weights) and ESTARFM 0.00757 (docs/methods/spstfm.md)."""
    from stfusion.data import load_case
    from stfusion.metrics import evaluate

    case = load_case("estarfm_3date")
    out = predict("spstfm", case.task)
    assert out.mask.all()
    rmse = evaluate(case.truth, out, ratio=1 / case.ratio).values["rmse"]
    delta = evaluate(case.truth, predict("delta", case.task), ratio=1 / case.ratio).values["rmse"]
    assert rmse < delta, (rmse, delta)
