"""STARFM: API, parameters, errors, masks, multi-date runs, threads and tiling (synthetic scenes)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from stfusion.core import (
    FusionTask,
    MissingInputError,
    NoDataError,
    Pair,
    Scene,
    ShapeMismatchError,
    UnknownParameterError,
    get_spec,
    predict,
)
from stfusion.core.block import Block
from stfusion.core.params.starfm import StarfmParams, starfm_halo, starfm_window
from stfusion.methods.classical import starfm as sf
from stfusion.parallel import predict_tiled

D0, D1, D2, D3 = dt.date(2020, 5, 1), dt.date(2020, 5, 20), dt.date(2020, 6, 9), dt.date(2020, 7, 1)
GRID = dict(transform=(30.0, 0.0, 600000.0, 0.0, -30.0, 4000000.0), crs="EPSG:32612")


def _smooth(x: np.ndarray, k: int = 5) -> np.ndarray:
    from scipy.ndimage import uniform_filter

    return uniform_filter(x, size=(1, k, k), mode="nearest")


def _images(seed: int, shape=(3, 40, 36)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    fine = (0.05 + 0.3 * _smooth(rng.random(shape), 3) + 0.01 * rng.standard_normal(shape)).astype(np.float32)
    return fine, _smooth(fine).astype(np.float32)


def _task(npairs=1, fine_mask=None, target_mask=None, seed=0, **grid) -> FusionTask:
    grid = grid or GRID
    pairs = []
    for n, d in enumerate([D0, D3][:npairs]):
        fine, coarse = _images(seed + n)
        pairs.append(Pair(Scene(fine, mask=fine_mask, date=d, **grid), Scene(coarse, date=d, **grid)))
    _, target = _images(seed + 10)
    return FusionTask(pairs, Scene(target, mask=target_mask, date=D1, **grid))


SMALL = StarfmParams(search_distance=120.0)  # 9x9 window at 30 m


def test_window_follows_the_program_and_the_default_is_symmetric():
    assert starfm_window(StarfmParams(), 30.0) == (-25, 25)
    assert starfm_window(StarfmParams(compat="gao"), 30.0) == (-25, 24)
    assert starfm_window(StarfmParams(compat="gao"), 50.0) == (-15, 14)
    assert starfm_window(StarfmParams(use_spatial=False), 30.0) == (0, 0)
    assert starfm_halo(StarfmParams(resolution=50.0), 30.0) == 15
    assert get_spec("starfm").halo(SMALL, 30.0) == 4


def test_missing_pixel_size_says_how_to_give_it():
    task = _task(transform=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0))
    with pytest.raises(MissingInputError, match="pass resolution=METRES"):
        predict("starfm", task)
    with pytest.raises(MissingInputError, match="pass resolution=METRES"):
        starfm_halo(StarfmParams(), None)
    assert predict("starfm", task, resolution=30, search_distance=120).mask.all()


@pytest.mark.parametrize("params, message", [
    (dict(num_slice_pure_test=0), "num_slice_pure_test"),
    (dict(fine_uncertainty=-0.01), "fine_uncertainty"),
    (dict(scale_factor=0), "scale_factor"),
    (dict(valid_min=0.5, valid_max=0.1), "valid_min"),
    (dict(search_distance=10.0), "search_distance"),
    (dict(resolution=-30.0), "resolution"),
    (dict(compat="gao", weighting="logistic"), "compat=gao"),
    (dict(compat="gao", copy_on_zero_diff=True), "compat=gao"),
    (dict(weighting="gaussian"), "weighting"),
    (dict(compat="c"), "compat"),
    (dict(window=31), "no parameter 'window'"),
])
def test_bad_parameters_raise_a_one_line_typed_error(params, message):
    with pytest.raises(UnknownParameterError, match=message) as err:
        predict("starfm", _task(), **params)
    assert "\n" not in str(err.value)


def test_cli_strings_are_parsed():
    p = get_spec("starfm").make_params({"compat": "gao", "use_spatial": "on", "resolution": "50",
                                        "copy_on_zero_diff": "none", "valid_min": "-0.2"})
    assert (p.compat, p.use_spatial, p.resolution, p.copy_on_zero_diff, p.valid_min) == ("gao", True, 50.0, None, -0.2)


def test_bad_class_maps_and_grids_are_refused():
    task = _task()
    with pytest.raises(ShapeMismatchError, match="classes"):
        sf.starfm(task, search_distance=120, classes=np.zeros((5, 5), np.uint8))
    with pytest.raises(UnknownParameterError, match="integer"):
        sf.starfm(task, search_distance=120, classes=np.zeros((40, 36)))
    fine, coarse = _images(0)
    own_grid = dict(transform=(120.0, 0.0, 600000.0, 0.0, -120.0, 4000000.0), crs="EPSG:32612")
    pair = Pair(Scene(fine, date=D0, **GRID), Scene(coarse[:, ::4, ::4], date=D0, **own_grid))
    with pytest.raises(ShapeMismatchError, match="fine grid"):
        sf.starfm(FusionTask([pair], Scene(coarse[:, ::4, ::4], date=D1, **own_grid)))


def test_no_prediction_at_all_and_bad_thread_counts_are_reported():
    tmask = np.zeros((40, 36), bool)
    tmask[0, 0] = True
    fmask = np.ones((40, 36), bool)
    fmask[0, 0] = False
    with pytest.raises(NoDataError, match="predicted no pixel"):
        sf.predict(_task(fine_mask=fmask, target_mask=tmask), SMALL)
    with pytest.raises(UnknownParameterError, match="threads"):
        sf.starfm(_task(), search_distance=120, threads=0)


def test_values_under_masks_do_not_matter_and_invalid_targets_are_masked():
    fmask = np.ones((40, 36), bool)
    fmask[10:14, 5:30] = False
    tmask = np.ones((40, 36), bool)
    tmask[30:, 30:] = False
    task = _task(fine_mask=fmask, target_mask=tmask)
    out = sf.predict(task, SMALL)
    garbage = task.pairs[0].fine.data.copy()
    garbage[:, ~fmask] = 7.0
    noisy = FusionTask([Pair(task.pairs[0].fine.replace(data=garbage), task.pairs[0].coarse)], task.target)
    out2 = sf.predict(noisy, SMALL)
    assert np.array_equal(out.mask, out2.mask)
    assert np.array_equal(out.data[:, out.mask], out2.data[:, out2.mask])
    assert not out.mask[~tmask].any() and not out.mask[~fmask].any()
    assert out.mask[tmask & fmask].all()
    assert np.isnan(out.data[:, ~out.mask]).all()


def test_a_pixel_is_predicted_while_one_pair_has_a_valid_fine_value():
    task = _task(npairs=2)
    holes = [np.ones((40, 36), bool), np.ones((40, 36), bool)]
    holes[0][20, 20] = holes[0][5, 5] = holes[1][5, 5] = False
    pairs = [Pair(p.fine.replace(mask=m), p.coarse) for p, m in zip(task.pairs, holes)]
    out = sf.predict(FusionTask(pairs, task.target), SMALL)
    assert out.mask[20, 20] and not out.mask[5, 5]
    assert out.mask.sum() == 40 * 36 - 1


def test_series_equals_one_run_per_date_and_computes_statistics_once(monkeypatch):
    task = _task(npairs=2)
    targets = [task.target, Scene(_images(11)[1], date=D2, **GRID), Scene(_images(12)[1], date=dt.date(2020, 8, 1),
                                                                         **GRID)]
    singles = [sf.predict(FusionTask(task.pairs, t), SMALL) for t in targets]
    calls = []
    real_stats = sf.stats
    monkeypatch.setattr(sf, "stats", lambda *a, **k: calls.append(1) or real_stats(*a, **k))
    series = sf.starfm_series(task.pairs, targets, search_distance=120.0)
    assert len(calls) == 1
    for one, many, t in zip(singles, series, targets):
        assert many.date == t.date
        assert np.array_equal(one.mask, many.mask)
        assert np.array_equal(one.data[:, one.mask], many.data[:, many.mask])


def test_threads_and_blocks_give_identical_output():
    task = _task(npairs=2)
    one = sf.predict(task, SMALL, threads=1)
    two = sf.predict(task, SMALL, threads=2)
    data, mask = sf.predict_block(Block.from_task(task), sf.stats(task, SMALL), SMALL)
    assert np.array_equal(one.data, two.data, equal_nan=True)
    assert np.array_equal(one.data, np.where(mask, data, np.nan), equal_nan=True)


@pytest.mark.parametrize("params", [dict(), dict(compat="gao", valid_min=0.0, valid_max=1.0),
                                    dict(weighting="logistic", filter_rule="paper")], ids=str)
@pytest.mark.parametrize("chunk", [6, 9, 16])
def test_tiled_output_is_bit_identical(params, chunk):
    fmask = np.ones((40, 36), bool)
    fmask[3:9, 20:30] = False
    task = _task(npairs=2, fine_mask=fmask)
    p = dict(search_distance=120.0, **params)
    whole = predict("starfm", task, **p)
    tiled = predict_tiled("starfm", task, chunk=chunk, params=p)
    assert np.array_equal(whole.mask, tiled.mask)
    assert np.array_equal(whole.data[:, whole.mask], tiled.data[:, tiled.mask])


def test_class_maps_follow_blocks():
    task = _task()
    classes = (task.pairs[0].fine.data[2] > np.median(task.pairs[0].fine.data[2])).astype(np.int32) * 7
    st = sf.stats(task, SMALL, classes=classes)
    whole, wmask = sf.predict_block(Block.from_task(task), st, SMALL)
    block = Block.from_task(task).window(slice(10, 30), slice(12, 36))
    part, pmask = sf.predict_block(block, st, SMALL)
    inner = (slice(4, 16), slice(4, 20))  # away from the block's own edges
    assert np.array_equal(part[:, inner[0], inner[1]], whole[:, 14:26, 16:32])
    assert np.array_equal(pmask[inner], wmask[14:26, 16:32])
    assert not np.array_equal(whole, sf.predict_block(Block.from_task(task), sf.stats(task, SMALL), SMALL)[0])


def test_unchanged_coarse_returns_the_fine_image_with_two_pairs_and_compat_does_not():
    task = _task(npairs=2)
    same = FusionTask(task.pairs, task.pairs[0].coarse.replace(date=D1))
    out = sf.predict(same, SMALL)
    np.testing.assert_array_equal(out.data, task.pairs[0].fine.data)
    gao = sf.predict(same, StarfmParams(search_distance=120.0, compat="gao"))
    assert np.abs(gao.data - task.pairs[0].fine.data).max() > 1e-3  # the program smooths instead
