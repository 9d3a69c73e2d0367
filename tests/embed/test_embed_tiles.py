"""Tiled inference: the same int8 values and scales as the in-memory path for any tile, written
atomically into .npy memmaps, with memory set by the tile."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stfusion.core.dpixel import DPixels, SensorSeries  # noqa: E402
from stfusion.core.errors import ShapeMismatchError, UnknownParameterError  # noqa: E402
from stfusion.embed.config import config  # noqa: E402
from stfusion.embed.maps import load_npy_pair, save_npy_pair, to_grid  # noqa: E402
from stfusion.embed.nets.model import EmbeddingModel  # noqa: E402
from stfusion.embed.nets.train import Standardiser, embed  # noqa: E402
from stfusion.embed.tiles import (  # noqa: E402
    NpyPairWriter,
    embed_rows,
    embed_tiled,
    iter_tiles,
    iter_tiles_from,
    tile_rows,
)

CFG = config("tiny").with_sensors(s2=2, s1=1)
CFG = type(CFG)(**{**CFG.__dict__, "d_model": 16, "ff": 32, "layers": 1, "projector": 64, "samples": 6})


def _dpixels(shape: tuple[int, int] | None = (7, 5), n: int = 35, seed: int = 0) -> DPixels:
    """Two sensors (one with per-pixel days), clouds, a pixel without data and one with 3 clear dates."""
    rng = np.random.default_rng(seed)
    t2, t1 = 14, 9
    valid2 = rng.random((n, t2)) > 0.3
    valid2[0] = False
    valid2[1] = False
    valid2[1, [2, 5, 9]] = True  # fewer than `samples`: drawn with replacement
    s2 = SensorSeries(rng.random((n, t2, 2)), valid2, np.sort(rng.choice(365, t2, replace=False)) + 1, ("B4", "B8"))
    doy1 = np.sort(rng.integers(1, 366, (n, t1)), axis=1)
    s1 = SensorSeries(rng.standard_normal((n, t1, 1)), rng.random((n, t1)) > 0.2, doy1, ("VV",))
    return DPixels({"s2": s2, "s1": s1}, shape)


@pytest.fixture(scope="module")
def model_std():
    torch.manual_seed(0)
    model = EmbeddingModel(CFG).eval()
    return model, Standardiser.fit(_dpixels())


def _read(prefix):
    q = np.load(prefix.with_suffix(".npy"), mmap_mode="r")
    s = np.load(prefix.with_name(prefix.name + "_scales.npy"))
    return np.asarray(q), s


def test_tiles_equal_the_in_memory_path_for_any_tile(tmp_path, model_std):
    model, std = model_std
    dp = _dpixels()
    e, ok = embed(model, std, dp, batch=10, seed=3, progress=False)  # 2 rows of 5 pixels per forward pass
    q0, s0 = to_grid(e, ok, dp.shape)
    assert np.isnan(s0.ravel()[0]) and (q0.reshape(35, -1)[0] == 0).all()
    assert tile_rows(dp, 3, 10) == 2 and tile_rows(dp, 1, 10) == 2 and tile_rows(dp, 5, 4096) == 7
    for tile in (1, 3, 4, 100):
        prefix = tmp_path / f"t{tile}"
        paths = embed_tiled(model, std, dp, prefix, tile=tile, batch=10, seed=3, progress=False)
        q, s = _read(prefix)
        assert q.dtype == np.int8 and s.dtype == np.float32 and q.shape == (7, 5, 128)
        assert np.array_equal(q, q0) and np.array_equal(s, s0, equal_nan=True), tile
        assert [p.name for p in paths] == [f"t{tile}.npy", f"t{tile}_scales.npy"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"t{t}{x}" for t in (1, 3, 4, 100)
                                                                for x in (".npy", "_scales.npy"))
    # the same as the whole-map writer, and readable by load_npy_pair
    save_npy_pair(q0, s0, tmp_path / "mem" / "m")
    assert np.array_equal(load_npy_pair(tmp_path / "t3"), load_npy_pair(tmp_path / "mem" / "m"), equal_nan=True)
    # another seed draws other samples
    other = np.concatenate([q for _, q, _ in iter_tiles(model, std, dp, tile=4, batch=10, seed=4, progress=False)])
    assert not np.array_equal(other, q0)


def test_a_failed_run_leaves_no_file_and_keeps_the_old_output(tmp_path, model_std):
    model, std = model_std
    dp = _dpixels()
    prefix = tmp_path / "out"
    embed_tiled(model, std, dp, prefix, tile=2, batch=10, seed=0, progress=False)
    before = _read(prefix)
    calls = {"n": 0}
    forward = model.forward

    def failing(views):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return forward(views)

    model.forward = failing
    try:
        with pytest.raises(RuntimeError, match="disk on fire"):
            embed_tiled(model, std, dp, prefix, tile=2, batch=10, seed=1, progress=False)
    finally:
        del model.forward
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npy", "out_scales.npy"]  # no .part left
    after = _read(prefix)
    assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1], equal_nan=True)
    with NpyPairWriter(tmp_path / "half", (4, 3), 8) as w:
        w.write(slice(0, 2), np.zeros((2, 3, 8), np.int8), np.ones((2, 3), np.float32))
        with pytest.raises(ShapeMismatchError, match="rows 2..3 .* never written"):
            w.commit()
        with pytest.raises(ShapeMismatchError, match="needs values"):
            w.write(slice(2, 4), np.zeros((2, 3, 7), np.int8), np.ones((2, 3), np.float32))
    assert not any(p.name.startswith((".half", "half")) for p in tmp_path.iterdir())


def _peak(fn) -> int:
    """Peak traced allocation (bytes) while ``fn`` runs."""
    tracemalloc.start()
    fn()
    out = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out


def test_memory_is_set_by_the_tile(model_std):
    """numpy allocations during a tiled pass stay a small fraction of the whole-scene path's."""
    model, std = model_std
    dp = _dpixels((160, 8), 1280, seed=1)

    def tiled():
        for _ in iter_tiles(model, std, dp, tile=8, batch=64, progress=False):
            pass

    whole = _peak(lambda: to_grid(*embed(model, std, dp, batch=64, progress=False), dp.shape))
    assert _peak(tiled) < 0.2 * whole  # 1/20 of the rows; the rest is fixed overhead


def test_bad_arguments(model_std):
    model, std = model_std
    with pytest.raises(UnknownParameterError, match="tile must be >= 1"):
        next(iter_tiles(model, std, _dpixels(), tile=0, progress=False))
    with pytest.raises(UnknownParameterError, match="seed must be >= 0"):
        next(iter_tiles(model, std, _dpixels(), seed=-1, progress=False))
    with pytest.raises(ShapeMismatchError, match="no grid"):
        next(iter_tiles(model, std, _dpixels(None), progress=False))
    e, ok = embed(model, std, _dpixels(None), progress=False)  # no grid: rows of 1024 pixels
    assert e.shape == (35, 128) and not ok[0] and (e[0] == 0).all() and np.isfinite(e).all()


def _stack_folder(root, rows: int = 7, cols: int = 5, dates: int = 4, seed: int = 0):
    """s2/ (2 bands uint16, nodata 0, an SCL raster) and s1/ (1 band dB, NaN gaps) sub-folders on one grid."""
    import rasterio
    from rasterio.transform import from_origin

    rng = np.random.default_rng(seed)

    def tif(path, data, nodata):
        with rasterio.open(path, "w", driver="GTiff", width=cols, height=rows, count=data.shape[0],
                           dtype=str(data.dtype), transform=from_origin(600000, 5000000, 10, 10), crs="EPSG:32633",
                           nodata=nodata) as dst:
            dst.write(data)

    for sub in ("s2", "s1"):
        (root / sub).mkdir(parents=True)
    for k in range(dates):
        x = rng.integers(100, 5000, (2, rows, cols)).astype(np.uint16)
        x[:, rng.random((rows, cols)) < 0.2] = 0
        tif(root / "s2" / f"S2_2021{k + 1:02d}05.tif", x, 0)
        vv = rng.uniform(-20, -5, (1, rows, cols)).astype(np.float32)
        vv[:, rng.random((rows, cols)) < 0.1] = np.nan
        tif(root / "s1" / f"S1_2021{k + 1:02d}20.tif", vv, None)
    scl = np.full((1, rows, cols), 4, np.uint8)
    scl[0, : rows // 2, : cols // 2] = 9  # a cloud on the first date
    tif(root / "s2" / "S2_20210105_SCL.tif", scl, None)
    return root


def test_streamed_tiles_equal_the_in_memory_tiles(tmp_path, model_std):
    from stfusion.data.dpixel_sources import dpixels_of, folder_grid

    model, std = model_std
    folder = _stack_folder(tmp_path / "scene")
    full = dpixels_of(folder)
    plan = folder_grid(folder)
    assert plan.shape == full.shape == (7, 5)
    calls = []

    def read_rows(r0, r1):
        calls.append((r0, r1))
        return dpixels_of(folder, rows=slice(r0, r1))

    for batch, tile, draws in ((10, 1, 1), (10, 3, 2), (10, 100, 1), (4, 1, 1), (4, 3, 1), (23, 3, 1)):
        mem = list(iter_tiles(model, std, full, tile=tile, batch=batch, seed=5, draws=draws, progress=False))
        calls.clear()
        streamed = list(iter_tiles_from(model, std, read_rows, plan.shape, tile=tile, batch=batch, seed=5,
                                        draws=draws, progress=False))
        assert [b for b, _, _ in streamed] == [b for b, _, _ in mem] == [slice(*c) for c in calls]
        assert len(calls) > 1 or tile == 100
        q, s = (np.concatenate([t[i] for t in streamed]) for i in (1, 2))
        q0, s0 = (np.concatenate([t[i] for t in mem]) for i in (1, 2))
        assert np.array_equal(q, q0) and np.array_equal(s, s0, equal_nan=True), (batch, tile, draws)
        assert np.isnan(s).any() and np.isfinite(s).any()
    # a block embedded alone at its global row gives those rows of the whole scene
    e0, ok0 = embed_rows(model, std, full, 0, 7, batch=10, seed=5)
    e, ok = embed_rows(model, std, dpixels_of(folder, rows=slice(2, 6)), 0, 4, batch=10, seed=5, row_offset=2,
                       scene_rows=7)
    assert np.array_equal(e, e0[10:30]) and np.array_equal(ok, ok0[10:30])
    with pytest.raises(UnknownParameterError, match="start a forward pass"):
        embed_rows(model, std, dpixels_of(folder, rows=slice(1, 3)), 0, 2, batch=10, row_offset=1, scene_rows=7)
    with pytest.raises(UnknownParameterError, match="not inside a scene"):
        embed_rows(model, std, full, 0, 7, row_offset=2, scene_rows=7)
    with pytest.raises(ShapeMismatchError, match="expected"):
        next(iter_tiles_from(model, std, lambda r0, r1: full, (7, 5), tile=2, batch=10, progress=False))


def test_streaming_a_folder_needs_memory_for_a_tile_only(tmp_path, model_std):
    """Reading each tile's rows from the files: the peak stays that of a tile when the scene grows
    4x, and far below reading the whole scene first (whose peak is its d-pixels)."""
    from stfusion.data.dpixel_sources import dpixels_of, folder_grid

    model, std = model_std
    small, big = (_stack_folder(tmp_path / f"r{rows}", rows=rows, cols=40, dates=12, seed=3) for rows in (32, 120))

    def streamed(folder):
        shape = folder_grid(folder).shape
        for _ in iter_tiles_from(model, std, lambda r0, r1: dpixels_of(folder, rows=slice(r0, r1)), shape, tile=8,
                                 batch=320, progress=False):
            pass

    def whole(folder):
        for _ in iter_tiles(model, std, dpixels_of(folder), tile=8, batch=320, progress=False):
            pass

    streamed(small)  # warm-up: first-call allocations are not the tile's
    tile_peak, stream_peak = _peak(lambda: streamed(small)), _peak(lambda: streamed(big))
    whole_peak = _peak(lambda: whole(big))
    assert stream_peak < 1.2 * tile_peak, (stream_peak, tile_peak)
    assert stream_peak < 0.5 * whole_peak, (stream_peak, whole_peak)
