"""ESTARFM: accuracy and agreement on the ESTARFM scene, tiling, masks, block scope, parameters."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from stfusion.core import (
    FusionTask, NoDataError, Pair, Scene, ShapeMismatchError, UnknownParameterError, get_spec, predict,
)
from stfusion.io import read_scene
from stfusion.methods.classical.estarfm import estarfm
from stfusion.parallel import predict_tiled

DATES = {"0524": dt.date(2001, 5, 24), "0711": dt.date(2001, 7, 11), "0812": dt.date(2001, 8, 12)}
PORT_RMSE = 0.0076  # the public Python port of ESTARFM.pro on this protocol (shared/reference/peers)
DELTA_RMSE = 0.0085  # two-pair "fine + coarse change" baseline (shared/data/README.md)


def _rmse(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean over bands of the per-band RMSE."""
    return float(np.sqrt(((pred.astype(np.float64) - truth) ** 2).mean(axis=(1, 2))).mean())


@pytest.fixture(scope="module")
def scene(shared_data):
    """Task (05-24 and 08-12 pairs → 07-11) and truth of the ESTARFM scene."""
    d = shared_data / "estarfm_3date"

    def read(name, mmdd):
        return read_scene(d / f"{name}{mmdd}", date=DATES[mmdd])

    pairs = [Pair(read("tm", m), read("modis", m)) for m in ("0524", "0812")]
    return FusionTask(pairs, read("modis", "0711")), read("tm", "0711")


@pytest.fixture(scope="module")
def full_prediction(scene):
    return predict("estarfm", scene[0])


def _crop(task: FusionTask, rows: slice, cols: slice, masks: np.ndarray | None = None) -> FusionTask:
    """A crop of ``task``; ``masks`` (5, h, w) optionally masks F1, F2, C1, C2, C0 (masked values set to NaN)."""
    scenes = [task.pairs[0].fine, task.pairs[1].fine, task.pairs[0].coarse, task.pairs[1].coarse, task.target]
    cut = []
    for i, s in enumerate(scenes):
        data = np.array(s.data[:, rows, cols])
        mask = None if masks is None else masks[i]
        if mask is not None:
            data[:, ~mask] = np.nan
        cut.append(Scene(data, mask=mask, date=s.date))
    return FusionTask([Pair(cut[0], cut[2]), Pair(cut[1], cut[3])], cut[4])


def _masks(shape: tuple[int, int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    masks = rng.random((5, *shape)) > 0.02
    masks[0, 5:12, 10:20] = False  # a cloud in the first fine image
    return masks


@pytest.mark.realdata
def test_beats_delta_and_matches_the_port_rmse(scene, full_prediction):
    task, truth = scene
    assert full_prediction.mask.all()
    rmse = _rmse(full_prediction.data, truth.data)
    assert rmse < DELTA_RMSE
    assert rmse <= 1.05 * PORT_RMSE, rmse


@pytest.mark.realdata
@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_agrees_pixelwise_with_the_python_port(shared_data, full_prediction):
    """Measured: 6 of 480 000 values differ by more than 1e-5 (all where the similar pixels' mean
    coarse change is exactly 200 DN, the regression gate, and float rounding decides)."""
    import rasterio

    with rasterio.open(shared_data.parent / "reference" / "peers" / "estarfm_port_estarfm_3date_2pair.tif") as src:
        port = src.read().astype(np.float64) / 10000.0
    ours = full_prediction.data.astype(np.float64)
    diff = np.abs(ours - port)
    assert (diff <= 1e-5).mean() >= 0.9999
    assert (diff <= 0.01 * np.abs(port)).mean() >= 0.9999
    for b in range(3):
        assert np.corrcoef(ours[b].ravel(), port[b].ravel())[0, 1] > 0.99999


@pytest.mark.realdata
@pytest.mark.parametrize("num_similar", [None, 20])
def test_tiled_output_equals_in_memory_output(scene, num_similar):
    task = _crop(scene[0], slice(40, 100), slice(150, 230), _masks((60, 80), 1))
    params = {"half_window": 5, "num_similar": num_similar}
    whole = predict("estarfm", task, **params)
    for chunk in (8, 13, 32):
        tiled = predict_tiled("estarfm", task, chunk=chunk, scheduler="threads", params=params)
        assert np.array_equal(whole.mask, tiled.mask)
        assert np.array_equal(whole.data[:, whole.mask], tiled.data[:, tiled.mask])


@pytest.mark.realdata
def test_masked_pixels_are_neither_similar_pixels_nor_predicted(scene):
    masks = _masks((40, 40), 2)
    task = _crop(scene[0], slice(200, 240), slice(300, 340), masks)
    out = predict("estarfm", task, half_window=6)
    assert np.array_equal(out.mask, masks.all(axis=0))
    assert np.isnan(out.data[:, ~out.mask]).all() and np.isfinite(out.data[:, out.mask]).all()
    # other values under the masks change nothing
    garbage = _crop(scene[0], slice(200, 240), slice(300, 340))
    scenes = [garbage.pairs[0].fine, garbage.pairs[1].fine, garbage.pairs[0].coarse, garbage.pairs[1].coarse,
              garbage.target]
    rng = np.random.default_rng(0)
    noisy = []
    for s, m in zip(scenes, masks):
        data = np.array(s.data)
        data[:, ~m] = rng.random((data.shape[0], int((~m).sum())))
        noisy.append(Scene(data, mask=m))
    task2 = FusionTask([Pair(noisy[0], noisy[2]), Pair(noisy[1], noisy[3])], noisy[4])
    out2 = predict("estarfm", task2, half_window=6)
    assert np.array_equal(out.data[:, out.mask], out2.data[:, out2.mask])


@pytest.mark.realdata
def test_block_scope_runs_each_block_on_its_own(scene):
    """``stats_scope="block"``: per-block thresholds and windows cut at block edges, as ESTARFM.pro."""
    task = _crop(scene[0], slice(0, 50), slice(100, 140))
    out = predict("estarfm", task, half_window=4, stats_scope="block", patch_size=25)
    for rows in (slice(0, 25), slice(25, 50)):
        for cols in (slice(0, 25), slice(25, 40)):
            alone = predict("estarfm", _crop(task, rows, cols), half_window=4)
            assert np.array_equal(out.data[:, rows, cols], alone.data)
    image = predict("estarfm", task, half_window=4)
    assert not np.array_equal(out.data, image.data)


@pytest.mark.realdata
def test_block_scope_refuses_tiling(scene):
    task = _crop(scene[0], slice(0, 20), slice(0, 20))
    with pytest.raises(UnknownParameterError, match="in memory only"):
        predict_tiled("estarfm", task, chunk=10, params={"stats_scope": "block"})


@pytest.mark.realdata
def test_public_function_and_thread_count_give_identical_results(scene):
    task = _crop(scene[0], slice(300, 340), slice(0, 30), _masks((40, 30), 3))
    ref = predict("estarfm", task, half_window=5, num_similar=20)
    for threads in (1, 2, 3):
        out = estarfm(task, half_window=5, num_similar=20, threads=threads)
        assert np.array_equal(out.mask, ref.mask) and np.array_equal(out.data[:, ref.mask], ref.data[:, ref.mask])
    with pytest.warns(FutureWarning, match="workers= is deprecated; use threads="):
        old = estarfm(task, half_window=5, num_similar=20, workers=2)
    assert np.array_equal(old.data[:, ref.mask], ref.data[:, ref.mask])


@pytest.mark.parametrize("key, value", [
    ("half_window", 0), ("half_window", 2.5), ("num_classes", 0), ("data_max", -1.0), ("num_similar", 5),
    ("num_similar", 20.0), ("stats_scope", "tile"), ("patch_size", 0), ("window", 3),
])
def test_bad_parameters_are_refused(key, value):
    with pytest.raises(UnknownParameterError, match=key if key != "window" else "valid parameters"):
        get_spec("estarfm").make_params({key: value})


def test_cli_strings_are_parsed():
    p = get_spec("estarfm").make_params({"half_window": "10", "num_similar": "20", "stats_scope": "block"})
    assert (p.half_window, p.num_similar, p.stats_scope) == (10, 20, "block")
    assert get_spec("estarfm").make_params({"num_similar": "none"}).num_similar is None


@pytest.mark.realdata
def test_needs_two_pairs_with_coarse_on_the_fine_grid(scene):
    task = _crop(scene[0], slice(0, 16), slice(0, 16))
    one = FusionTask(task.pairs[:1], task.target)
    with pytest.raises(ShapeMismatchError, match="2 pair"):
        predict("estarfm", one)
    with pytest.raises(ShapeMismatchError, match="exactly 2 pairs"):
        estarfm(one)
    grid = dict(transform=(30.0, 0.0, 0.0, 0.0, -30.0, 480.0))
    fine = [Scene(p.fine.data, **grid) for p in task.pairs]
    coarse_grid = dict(transform=(240.0, 0.0, 0.0, 0.0, -240.0, 480.0))
    coarse = [Scene(np.asarray(p.coarse.data)[:, ::8, ::8], **coarse_grid) for p in task.pairs]
    own_grid = FusionTask([Pair(f, c) for f, c in zip(fine, coarse)],
                          Scene(np.asarray(task.target.data)[:, ::8, ::8], **coarse_grid))
    with pytest.raises(ShapeMismatchError, match="fine grid"):
        predict("estarfm", own_grid)


def test_no_pixel_valid_in_all_five_images_is_an_input_error():
    rng = np.random.default_rng(0)
    left = np.zeros((12, 12), bool)
    left[:, :6] = True
    pairs = [Pair(Scene(rng.random((2, 12, 12)), mask=m), Scene(rng.random((2, 12, 12)))) for m in (left, ~left)]
    with pytest.raises(NoDataError, match="valid in all five"):
        predict("estarfm", FusionTask(pairs, Scene(rng.random((2, 12, 12)))), half_window=2)
