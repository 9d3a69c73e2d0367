"""FSDAF on synthetic scenes: unmixing, full recovery of pure-class change, TPS, masks, tiling, errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from stfusion.core import (
    DTypeError, FusionTask, NoDataError, Pair, RatioError, Scene, ShapeMismatchError, UnknownParameterError,
    get_spec, predict,
)
from stfusion.core.params.fsdaf import FsdafParams
from stfusion.methods.classical import fsdaf as mod
from stfusion.methods.classical import tps
from stfusion.parallel import predict_tiled

D1, D2 = dt.date(2020, 6, 1), dt.date(2020, 7, 1)
GRID = dict(transform=(30.0, 0.0, 300000.0, 0.0, -30.0, 4000000.0), crs="EPSG:32633")


def _blocks(img: np.ndarray, s: int) -> np.ndarray:
    """Block means of ``img`` (bands, rows, cols) over s x s blocks anchored at the top-left (partial
    last blocks allowed), repeated on the fine grid."""
    b, h, w = img.shape
    gr, gc = -(-h // s), -(-w // s)
    out = np.empty_like(img)
    for i in range(gr):
        for j in range(gc):
            blk = img[:, i * s : (i + 1) * s, j * s : (j + 1) * s]
            out[:, i * s : (i + 1) * s, j * s : (j + 1) * s] = blk.mean(axis=(1, 2), keepdims=True)
    return out


def _task(f1, c1, c2, ratio=4, fine_mask=None, coarse_mask=None, target_mask=None) -> FusionTask:
    bands = tuple(f"b{i}" for i in range(f1.shape[0]))
    return FusionTask(
        [Pair(Scene(f1, mask=fine_mask, date=D1, bands=bands, **GRID),
              Scene(c1, mask=coarse_mask, date=D1, bands=bands, **GRID))],
        Scene(c2, mask=target_mask, date=D2, bands=bands, **GRID), ratio=ratio)


def _pure_class_scene(seed: int = 0, s: int = 4, cells: int = 12):
    """Classes 10/20/30 with constant spectra (pure classes), random class fractions per coarse
    pixel (some coarse pixels pure), a known change per class and band, exact block-mean coarse images."""
    rng = np.random.default_rng(seed)
    size = s * cells
    labels = rng.choice([10, 20, 30], size=(size, size), p=[0.4, 0.35, 0.25])
    labels[:s, :s] = 10  # pure coarse pixels of every class
    labels[:s, s : 2 * s] = 20
    labels[:s, 2 * s : 3 * s] = 30
    spectra = {10: [0.05, 0.08, 0.30], 20: [0.12, 0.15, 0.20], 30: [0.25, 0.30, 0.35]}
    change = {10: [0.02, -0.01, 0.05], 20: [-0.03, 0.04, -0.02], 30: [0.01, 0.02, -0.06]}
    f1 = np.stack([np.vectorize(lambda c: spectra[c][b])(labels) for b in range(3)]).astype(np.float32)
    f2 = f1 + np.stack([np.vectorize(lambda c: change[c][b])(labels) for b in range(3)]).astype(np.float32)
    truth_change = np.array([change[c] for c in (10, 20, 30)])
    return labels, f1, f2, truth_change


def test_unmixing_recovers_known_class_changes_exactly():
    labels, f1, f2, truth_change = _pure_class_scene()
    task = _task(f1, _blocks(f1, 4), _blocks(f2, 4))
    st = mod.stats(task, FsdafParams(), classes=labels)
    assert st.num_classes == 3 and st.scale == 4
    # class_change rows follow the sorted class values 10, 20, 30; float32 inputs limit the precision
    np.testing.assert_allclose(st.class_change, truth_change, atol=1e-6)
    # the class changes explain the coarse change: residuals vanish
    assert np.nanmax(np.abs(st.residual)) < 1e-6


def test_pure_class_change_is_predicted_exactly():
    labels, f1, f2, _ = _pure_class_scene(seed=1)
    out = mod.fsdaf(_task(f1, _blocks(f1, 4), _blocks(f2, 4)), classes=labels, threads=1)
    assert out.mask.all()
    np.testing.assert_allclose(out.data, f2, atol=1e-6)


def test_isodata_classes_of_a_separable_scene_give_the_same_result():
    labels, f1, f2, truth_change = _pure_class_scene(seed=2)
    task = _task(f1, _blocks(f1, 4), _blocks(f2, 4))
    st = mod.stats(task, FsdafParams(min_classes=2, isodata_min_pixels=50))
    assert st.num_classes == 3
    # ISODATA labels are ordered by brightness, as are the classes 10 < 20 < 30 here
    np.testing.assert_allclose(st.class_change, truth_change, atol=1e-6)


def test_bounds_of_the_class_change_come_from_the_coarse_change():
    """A class whose own pure pixels say +0.5 while the coarse change never exceeds the bounds
    min(ΔC) - std .. max(ΔC) + std is clipped to them (bounded least squares)."""
    frac = np.zeros((2, 3, 3))
    frac[0] = 1.0
    usable = np.ones((3, 3), bool)
    change = np.full((1, 3, 3), 0.01)
    change[0, 0, 0] = 0.03
    out = mod._unmix(frac, usable, change, FsdafParams())
    lo, hi = change.min() - change.std(ddof=1), change.max() + change.std(ddof=1)
    assert lo <= out[0, 0] <= hi
    # the absent class (no fraction anywhere) gets a value within the bounds, not garbage
    assert lo <= out[1, 0] <= hi


def test_value_locate_matches_idl_quantile_indices():
    assert mod._locate(100, 0.1) == 10 and mod._locate(100, 0.9) == 90
    assert mod._locate(7, 0.1) == 0 and mod._locate(7, 0.9) == 6
    assert mod._locate(1, 0.9) == 0
    assert mod._locate(10000, 0.0001) == 1


def test_extremes_are_clipped_to_the_neighbouring_values():
    f1 = np.linspace(0.1, 0.5, 100, dtype=np.float32).reshape(1, 10, 10)
    f1[0, 0, 0] = -0.2
    f1[0, 9, 9] = 1.5
    valid = np.ones((10, 10), bool)
    out = mod._clip_extremes(f1, valid, FsdafParams())
    assert out[0, 0, 0] == pytest.approx(f1[0, 0, 1])
    assert out[0, 9, 9] == pytest.approx(f1[0, 9, 8])
    np.testing.assert_array_equal(out[0, 1:9], f1[0, 1:9])


def _textured(seed: int, size: int = 64, s: int = 8, bands: int = 3):
    rng = np.random.default_rng(seed)
    from scipy.ndimage import gaussian_filter

    field = gaussian_filter(rng.standard_normal((size, size)), 3.0)
    labels = np.digitize(field, np.quantile(field, [0.3, 0.6, 0.85]))
    spectra = 0.05 + 0.3 * rng.random((4, bands))
    f1 = (spectra[labels].transpose(2, 0, 1) + 0.01 * rng.standard_normal((bands, size, size))).astype(np.float32)
    f2 = f1 + (0.04 * rng.standard_normal((4, bands)))[labels].transpose(2, 0, 1).astype(np.float32)
    f2[:, 20:35, 30:50] = 0.04  # abrupt change
    return f1, _blocks(f1, s), _blocks(f2, s), f2, labels


@pytest.mark.parametrize("chunk", [23, 40])
def test_tiled_equals_in_memory_with_masks_and_a_class_map(chunk):
    f1, c1, c2, _, labels = _textured(3, size=72, s=8)
    fm = np.ones(f1.shape[1:], bool)
    fm[10:18, 40:52] = False
    tm = np.ones(f1.shape[1:], bool)
    tm[50:60, 5:9] = False
    task = _task(f1, c1, c2, ratio=8, fine_mask=fm, target_mask=tm)
    for classes in (None, labels):
        whole = predict("fsdaf", task, classes=classes, half_window=6)
        tiled = predict_tiled("fsdaf", task, chunk=chunk, params={"half_window": 6}, classes=classes)
        assert np.array_equal(whole.mask, tiled.mask)
        assert np.array_equal(whole.data[:, whole.mask], tiled.data[:, tiled.mask])


def test_thread_count_does_not_change_the_result():
    f1, c1, c2, _, _ = _textured(4)
    task = _task(f1, c1, c2, ratio=8)
    a = mod.fsdaf(task, threads=1, half_window=8)
    b = mod.fsdaf(task, threads=2, half_window=8)
    assert np.array_equal(a.data, b.data, equal_nan=True)


def test_prediction_beats_the_fine_plus_coarse_change_baseline():
    f1, c1, c2, f2, _ = _textured(5, size=96, s=8)
    task = _task(f1, c1, c2, ratio=8)
    out = mod.fsdaf(task, half_window=10, isodata_min_pixels=100)
    delta = predict("delta", task)
    rmse = lambda p: float(np.sqrt(((p.data - f2) ** 2).mean()))  # noqa: E731
    assert rmse(out) < rmse(delta)


def test_masked_pixels_are_never_used():
    """Values under masks (garbage or NaN) change nothing; masked pixels are not predicted."""
    f1, c1, c2, _, _ = _textured(6)
    fm = np.ones(f1.shape[1:], bool)
    fm[5:12, 20:30] = False
    cm = np.ones(f1.shape[1:], bool)
    cm[40:44, 0:16] = False
    tm = np.ones(f1.shape[1:], bool)
    tm[24:32, 48:56] = False  # one whole coarse pixel invalid at t2
    outs = []
    for fill in (np.nan, 7.5):
        g1, d1, d2 = f1.copy(), c1.copy(), c2.copy()
        g1[:, ~fm] = fill
        d1[:, ~cm] = fill
        d2[:, ~tm] = fill
        outs.append(mod.fsdaf(_task(g1, d1, d2, ratio=8, fine_mask=fm, coarse_mask=cm, target_mask=tm),
                              half_window=8))
    a, b = outs
    assert np.array_equal(a.mask, b.mask)
    assert np.array_equal(a.data[:, a.mask], b.data[:, b.mask])
    assert not a.mask[~fm].any() and not a.mask[~cm].any() and not a.mask[~tm].any()
    assert a.mask[fm & cm & tm].all()
    assert np.isfinite(a.data[:, a.mask]).all() and np.isnan(a.data[:, ~a.mask]).all()


def test_a_coarse_pixel_without_valid_target_has_no_residual():
    f1, c1, c2, _, _ = _textured(7)
    tm = np.ones(f1.shape[1:], bool)
    tm[24:32, 48:56] = False
    st = mod.stats(_task(f1, c1, c2, ratio=8, target_mask=tm), FsdafParams(half_window=8))
    assert np.isnan(st.residual[:, 3, 6]).all()
    assert np.isfinite(np.delete(st.residual.reshape(3, -1), 3 * 8 + 6, axis=1)).all()
    assert np.isnan(st.change[:, 24:32, 48:56]).all()


def test_partial_coarse_pixels_and_non_integer_ratio():
    f1, c1, c2, _, _ = _textured(8, size=70, s=9)
    out = predict("fsdaf", _task(f1, c1, c2, ratio=9.3), half_window=6)  # scale round(9.3) = 9
    assert out.mask.all() and np.isfinite(out.data).all()
    assert mod.stats(_task(f1, c1, c2, ratio=9.3), FsdafParams()).scale == 9


@pytest.mark.parametrize("shape", [(10, 10), (10, 40), (17, 33)])
def test_scenes_of_one_coarse_pixel_row_or_less(shape):
    """One coarse pixel (TPS: a constant), one row of them (collinear centres): a uniform change
    comes back exactly."""
    rng = np.random.default_rng(12)
    f1 = (0.1 + 0.2 * rng.random((2, *shape))).astype(np.float32)
    c1 = np.full_like(f1, 0.2)
    out = predict("fsdaf", _task(f1, c1, c1 + 0.03, ratio=16))
    assert out.mask.all()
    np.testing.assert_allclose(out.data, f1 + 0.03, atol=1e-6)


# --- thin-plate spline -------------------------------------------------------------------------


def test_tps_matches_scipy_thin_plate_rbf_and_interpolates_the_nodes():
    from scipy.interpolate import RBFInterpolator

    rng = np.random.default_rng(0)
    h, w, s = 61, 50, 9
    rc = np.array([(i * s + min((i + 1) * s, h) - 1) / 2 for i in range(-(-h // s))])
    cc = np.array([(j * s + min((j + 1) * s, w) - 1) / 2 for j in range(-(-w // s))])
    vals = rng.random((2, rc.size, cc.size))
    vals[:, 2, 3] = np.nan  # a missing node
    surf = tps.grid_surface(vals, rc, cc, (h, w), float(s))
    ii, jj = np.nonzero(np.isfinite(vals[0]))
    nodes = np.c_[rc[ii], cc[jj]]
    pts = np.stack(np.mgrid[0:h, 0:w], -1).reshape(-1, 2).astype(float)
    ref = RBFInterpolator(nodes, vals[:, ii, jj].T, kernel="thin_plate_spline", degree=1)(pts)
    np.testing.assert_allclose(surf.reshape(2, -1).T, ref, atol=1e-9)
    # s odd: node centres are pixels, where the surface equals the node value
    np.testing.assert_allclose(surf[:, rc[ii].astype(int), cc[jj].astype(int)], vals[:, ii, jj], atol=1e-9)


def test_tps_reproduces_a_plane_and_local_tiles_blend_without_seams(monkeypatch):
    s = 4
    n = 40  # 40 x 40 nodes
    rc = np.arange(n) * s + 1.5
    yy, xx = np.meshgrid(rc, rc, indexing="ij")
    plane = (0.1 + 0.001 * yy - 0.002 * xx)[None]
    smooth = (np.sin(yy / 30.0) * np.cos(xx / 40.0))[None]
    shape = (n * s, n * s)
    glob = tps.grid_surface(np.concatenate([plane, smooth]), rc, rc, shape, float(s))
    monkeypatch.setattr(tps, "MAX_GLOBAL_NODES", 100)
    monkeypatch.setattr(tps, "TILE", 12)
    local = tps.grid_surface(np.concatenate([plane, smooth]), rc, rc, shape, float(s))
    r, c = np.mgrid[0 : shape[0], 0 : shape[1]]
    exact = 0.1 + 0.001 * r - 0.002 * c
    np.testing.assert_allclose(glob[0], exact, atol=1e-10)
    np.testing.assert_allclose(local[0], exact, atol=1e-10)
    assert np.abs(local[1] - glob[1]).max() < 3e-3  # amplitude 1; largest where extrapolating at corners
    # no seam: the local surface is as smooth across tile boundaries as inside tiles
    step = np.abs(np.diff(local[1], axis=1)).max()
    assert step < 1.2 * np.abs(np.diff(glob[1], axis=1)).max()


def test_tps_with_collinear_nodes_falls_back_to_least_squares():
    rc = np.array([1.5])
    cc = np.arange(5) * 4 + 1.5
    vals = np.array([[[0.1, 0.2, 0.3, 0.4, 0.5]]])
    surf = tps.grid_surface(vals, rc, cc, (4, 20), 4.0)
    assert np.isfinite(surf).all()
    # the nodes lie on a line of slope 0.1 per 4 pixels: the surface is that line, constant across it
    cols = np.arange(20)
    np.testing.assert_allclose(surf[0], np.broadcast_to(0.1 + 0.025 * (cols - 1.5), (4, 20)), atol=1e-9)


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [
    {"half_window": 0}, {"half_window": 2.5}, {"num_similar": 0}, {"min_classes": 0}, {"max_classes": 0},
    {"min_classes": 7}, {"isodata_iterations": 0}, {"isodata_min_pixels": 0}, {"num_pure": 0},
    {"quantile_low": 0.9, "quantile_high": 0.1}, {"quantile_high": 1.5}, {"data_min": 1.0},
    {"scale_factor": 1}, {"scale_factor": 2.5}, {"half_window": True},
])
def test_bad_parameters_are_refused(bad):
    with pytest.raises(UnknownParameterError):
        FsdafParams(**bad)


def test_unknown_parameter_and_registry_entry():
    spec = get_spec("fsdaf")
    assert spec.blockwise and spec.takes_classes and spec.min_pairs == spec.max_pairs == 1
    assert spec.halo(spec.make_params({"half_window": "7"}), 30.0) == 7
    assert spec.defaults()["num_similar"] == 20 and spec.defaults()["isodata_min_pixels"] == 200
    f1, c1, c2, _, _ = _textured(9, size=32, s=4)
    with pytest.raises(UnknownParameterError):
        predict("fsdaf", _task(f1, c1, c2), window=3)


def test_bad_inputs_are_refused():
    f1, c1, c2, _, labels = _textured(10, size=32, s=4)
    task = _task(f1, c1, c2)
    with pytest.raises(ShapeMismatchError):
        predict("fsdaf", task, classes=labels[:16])
    with pytest.raises(DTypeError):
        predict("fsdaf", task, classes=labels.astype(float))
    with pytest.raises(UnknownParameterError):
        mod.fsdaf(task, threads=0)
    two = FusionTask([task.pairs[0], Pair(task.pairs[0].fine.replace(date=D2 + dt.timedelta(days=9)),
                                          task.pairs[0].coarse.replace(date=D2 + dt.timedelta(days=9)))],
                     task.target, ratio=4)
    with pytest.raises(ShapeMismatchError):
        predict("fsdaf", two)
    with pytest.raises(ShapeMismatchError):
        mod.stats(two, FsdafParams())
    no_ratio = FusionTask(task.pairs, task.target)
    with pytest.raises(RatioError):
        predict("fsdaf", no_ratio)
    assert predict("fsdaf", no_ratio, scale_factor=4).mask.all()
    with pytest.raises(RatioError):
        predict("fsdaf", FusionTask(task.pairs, task.target, ratio=1.2))


def test_no_overlap_of_valid_pixels_is_a_no_data_error():
    f1, c1, c2, _, _ = _textured(11, size=32, s=4)
    cm = np.zeros(f1.shape[1:], bool)
    cm[:16] = True
    tm = ~cm
    with pytest.raises(NoDataError):
        predict("fsdaf", _task(f1, c1, c2, coarse_mask=cm, target_mask=tm))
