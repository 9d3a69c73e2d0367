"""UBDF: exact unmixing on pure-class scenes, tiling, masks, class maps, windows, parameters, errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from stfusion.core import (
    DTypeError, FusionTask, NoDataError, Pair, RatioError, Scene, ShapeMismatchError, UnknownParameterError,
    get_spec, predict,
)
from stfusion.core.params.ubdf import UbdfParams
from stfusion.methods.classical import ubdf as ubdf_module
from stfusion.methods.classical.ubdf import ubdf
from stfusion.parallel import predict_tiled

D1, D2 = dt.date(2020, 6, 1), dt.date(2020, 7, 1)
SCALE = 4


def _block_mean(img: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """Coarse image on the fine grid: the mean of each scale x scale block (partial blocks too)."""
    out = np.empty_like(img, dtype=np.float64)
    rows, cols = img.shape[1:]
    for r in range(0, rows, scale):
        for c in range(0, cols, scale):
            blk = img[:, r:r + scale, c:c + scale]
            out[:, r:r + scale, c:c + scale] = blk.mean(axis=(1, 2), keepdims=True)
    return out


def _scene(rows=42, cols=50, k=3, bands=3, texture=0.0, seed=0):
    """Pure classes (plus optional texture unchanged between dates) and known class changes."""
    rng = np.random.default_rng(seed)
    field = gaussian_filter(rng.standard_normal((rows, cols)), 1.5)
    classes = np.digitize(field, np.quantile(field, np.linspace(0, 1, k + 1)[1:-1])).astype(np.int32)
    r1 = 0.1 + 0.5 * rng.random((k, bands))
    delta = np.clip(r1 + 0.1 * rng.standard_normal((k, bands)), 0.05, 0.7) - r1
    tex = texture * rng.standard_normal((bands, rows, cols))
    fine1 = r1[classes].transpose(2, 0, 1) + tex
    fine2 = (r1 + delta)[classes].transpose(2, 0, 1) + tex
    return classes, fine1, fine2


def _task(fine1, coarse1, coarse2, fine_mask=None, coarse_mask=None, target_mask=None, ratio=SCALE):
    f = lambda a: np.asarray(a, np.float32)  # noqa: E731
    pair = Pair(Scene(f(fine1), mask=fine_mask, date=D1), Scene(f(coarse1), mask=coarse_mask, date=D1))
    return FusionTask([pair], Scene(f(coarse2), mask=target_mask, date=D2), ratio=ratio)


@pytest.fixture(scope="module")
def pure():
    classes, fine1, fine2 = _scene()
    return classes, fine1, fine2, _task(fine1, _block_mean(fine1), _block_mean(fine2))


def test_registered_with_class_maps_and_no_halo():
    spec = get_spec("ubdf")
    assert spec.family == "unmixing" and spec.blockwise and spec.takes_classes
    assert spec.min_pairs == 1 and spec.max_pairs is None
    assert spec.halo(spec.make_params({"window": 7}), 30.0) == 0
    assert spec.defaults()["window"] == 3 and spec.defaults()["add_residual"] is True


def test_unmixing_recovers_pure_class_reflectances_exactly(pure):
    """Plain UBDF (no residual) on a scene of pure classes returns the target image exactly."""
    classes, fine1, fine2, task = pure
    for given in (classes, None):  # the class map, or k-means of the fine image (pure classes)
        out = ubdf(task, add_residual=False, num_classes=3, classes=given, lower=0.0, upper=1.0)
        assert out.mask.all()
        np.testing.assert_allclose(out.data, fine2, atol=1e-6)


def test_unmixing_recovers_known_class_changes_exactly():
    """With texture, the unmixed residual form F1 + r2 - r1 recovers F1 + class change exactly."""
    classes, fine1, fine2 = _scene(texture=0.02, seed=1)
    task = _task(fine1, _block_mean(fine1), _block_mean(fine2))
    out = ubdf(task, classes=classes, lower=-1.0, upper=2.0)
    np.testing.assert_allclose(out.data, fine2, atol=1e-6)
    # the fine-mean residual is exact on pure classes (the class mean is the class value)
    classes, fine1, fine2 = _scene(seed=2)
    task = _task(fine1, _block_mean(fine1), _block_mean(fine2))
    out = ubdf(task, classes=classes, residual_base="fine", lower=0.0, upper=1.0)
    np.testing.assert_allclose(out.data, fine2, atol=1e-6)


def test_unchanged_coarse_returns_fine_with_masks():
    classes, fine1, _ = _scene(texture=0.03, seed=3)
    fmask = np.ones(classes.shape, bool)
    fmask[5:15, 20:33] = False
    c = _block_mean(fine1)
    out = predict("ubdf", _task(fine1, c, c.copy(), fine_mask=fmask))
    assert np.array_equal(out.mask, fmask)
    assert np.array_equal(out.data[:, fmask], fine1.astype(np.float32)[:, fmask])


def test_stats_hold_fractions_and_solutions(pure):
    classes, _, _, task = pure
    st = ubdf_module.stats(task, UbdfParams(), classes)
    nrc, ncc = -(-42 // SCALE), -(-50 // SCALE)
    assert st.scale == SCALE and st.fractions.shape == (nrc, ncc, 3)
    assert st.values.shape == st.base_values.shape == st.table.shape == (nrc, ncc, 3, 3)
    np.testing.assert_allclose(st.fractions.sum(-1), 1.0)
    assert np.array_equal(st.classes, classes) and st.centres is None and (st.half_used == 1).all()


CONFIGS = [
    {},
    {"add_residual": False},
    {"residual_base": "fine", "window": 5},
    {"window": 1, "num_classes": 5},
]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("chunk", [5, 16, 23])
def test_tiled_equals_in_memory(config, chunk):
    classes, fine1, fine2 = _scene(rows=45, cols=51, texture=0.02, seed=4)
    rng = np.random.default_rng(0)
    fmask = rng.random(classes.shape) > 0.05
    fmask[10:20, 30:45] = False
    tmask = np.ones(classes.shape, bool)
    tmask[:8, :8] = False
    c2 = _block_mean(fine2) + 0.003 * rng.standard_normal(fine2.shape)
    task = _task(fine1, _block_mean(fine1), c2, fine_mask=fmask, target_mask=tmask)
    whole = predict("ubdf", task, **config)
    tiled = predict_tiled("ubdf", task, chunk=chunk, params=config)
    assert np.array_equal(whole.mask, tiled.mask)
    assert np.array_equal(whole.data[:, whole.mask], tiled.data[:, tiled.mask])
    given = np.where(classes == 2, 7, classes)  # labels need not be 0..K-1
    whole = predict("ubdf", task, classes=given, **config)
    tiled = predict_tiled("ubdf", task, chunk=chunk, params=config, classes=given)
    assert np.array_equal(whole.mask, tiled.mask)
    assert np.array_equal(whole.data[:, whole.mask], tiled.data[:, tiled.mask])


def test_result_does_not_depend_on_threads():
    classes, fine1, fine2 = _scene(rows=64, cols=64, texture=0.02, seed=5)
    c2 = _block_mean(fine2) + 0.01 * np.random.default_rng(1).standard_normal(fine2.shape)
    task = _task(fine1, _block_mean(fine1), c2)
    one = ubdf(task, num_classes=5, threads=1)
    two = ubdf(task, num_classes=5, threads=2)
    assert np.array_equal(one.data, two.data) and np.array_equal(one.mask, two.mask)


def test_masked_values_are_never_used():
    classes, fine1, fine2 = _scene(texture=0.02, seed=6)
    fmask = np.ones(classes.shape, bool)
    fmask[3:12, 4:19] = False
    cmask = np.ones(classes.shape, bool)
    cmask[20:28, 8:16] = False  # two whole coarse pixels of the base coarse image
    tmask = np.ones(classes.shape, bool)
    tmask[32:40, 40:48] = False
    c1, c2 = _block_mean(fine1), _block_mean(fine2)
    base = predict("ubdf", _task(fine1, c1, c2, fmask, cmask, tmask))
    junk = [a.copy() for a in (fine1, c1, c2)]
    junk[0][:, ~fmask] = 50.0
    junk[1][:, ~cmask] = -50.0
    junk[2][:, ~tmask] = np.nan
    other = predict("ubdf", _task(*junk, fmask, cmask, tmask))
    assert np.array_equal(base.mask, other.mask) and np.array_equal(base.data, other.data, equal_nan=True)
    assert not base.mask[~fmask].any() and not base.mask[~tmask].any()
    assert base.mask[fmask & tmask].all()
    assert np.isnan(base.data[:, ~base.mask]).all()


def test_user_class_map_predicts_cloudy_fine_pixels_without_residual(pure):
    classes, fine1, fine2, _ = pure
    fmask = np.ones(classes.shape, bool)
    fmask[10:20, 10:20] = False
    task = _task(fine1, _block_mean(fine1), _block_mean(fine2), fine_mask=fmask)
    out = ubdf(task, classes=classes, add_residual=False, lower=0.0, upper=1.0)
    assert out.mask.all()
    np.testing.assert_allclose(out.data, fine2, atol=1e-6)
    with_residual = ubdf(task, classes=classes, lower=0.0, upper=1.0)
    assert np.array_equal(with_residual.mask, fmask)
    masked_classes = np.where(fmask, classes, -1)
    out = ubdf(task, classes=masked_classes, add_residual=False)
    assert np.array_equal(out.mask, fmask)


def test_underdetermined_windows_are_enlarged_and_capped():
    classes, fine1, fine2 = _scene(k=4, texture=0.01, seed=7)
    task = _task(fine1, _block_mean(fine1), _block_mean(fine2))
    st = ubdf_module.stats(task, UbdfParams(window=1), classes)
    nclass = (st.fractions > 0).sum(-1)
    assert (st.half_used[nclass > 1] >= 1).all() and (st.half_used[nclass == 1] == 0).all()
    capped = ubdf_module.stats(task, UbdfParams(window=1, max_window=1), classes)
    assert (capped.half_used == 0).all()
    out = ubdf(task, classes=classes, window=1, max_window=1)
    assert out.mask.all() and np.isfinite(out.data).all()


def test_window_enlarged_where_the_target_coarse_pixel_is_invalid():
    classes, fine1, fine2 = _scene(rows=48, cols=48, seed=8)
    tmask = np.ones(classes.shape, bool)
    tmask[12:36, 12:36] = False  # 6 x 6 coarse pixels without a target value
    task = _task(fine1, _block_mean(fine1), _block_mean(fine2), target_mask=tmask)
    st = ubdf_module.stats(task, UbdfParams(), classes)
    assert st.half_used[6, 6] >= 1 and st.half_used[5, 5] >= 3
    assert np.isfinite(st.values[5, 5][st.fractions[5, 5] > 0]).all()


def test_bounds_default_to_the_data_range_and_can_be_set(pure):
    classes, fine1, _, task = pure
    st = ubdf_module.stats(task, UbdfParams(), classes)
    values = [np.asarray(s.data) for s in (task.pairs[0].fine, task.pairs[0].coarse, task.target)]
    np.testing.assert_allclose(st.lower, np.min([v.min(axis=(1, 2)) for v in values], axis=0))
    np.testing.assert_allclose(st.upper, np.max([v.max(axis=(1, 2)) for v in values], axis=0))
    st = ubdf_module.stats(task, UbdfParams(lower=0.2, upper=0.3, add_residual=False), classes)
    good = st.values[np.isfinite(st.values)]
    assert good.min() >= 0.2 and good.max() <= 0.3


def test_nearest_pair_gives_the_classes_and_residual():
    classes, fine1, fine2 = _scene(texture=0.02, seed=9)
    c1, c2 = _block_mean(fine1), _block_mean(fine2)
    f = lambda a: np.asarray(a, np.float32)  # noqa: E731
    far = Pair(Scene(f(fine1 + 0.3), date=dt.date(2020, 1, 1)), Scene(f(c1 + 0.3), date=dt.date(2020, 1, 1)))
    near = Pair(Scene(f(fine1), date=D1), Scene(f(c1), date=D1))
    task = FusionTask([far, near], Scene(f(c2), date=D2), ratio=SCALE)
    assert ubdf_module.base_pair(task) == 1
    single = ubdf(_task(fine1, c1, c2), classes=classes)
    both = ubdf(task, classes=classes)
    assert np.array_equal(single.data, both.data)


def test_scale_factor_overrides_the_ratio(pure):
    classes, fine1, fine2, _ = pure
    task = _task(fine1, _block_mean(fine1), _block_mean(fine2), ratio=4.4)
    assert ubdf_module.scale_factor(task, UbdfParams()) == 4
    assert ubdf_module.scale_factor(task, UbdfParams(scale_factor=6)) == 6
    no_ratio = _task(fine1, _block_mean(fine1), _block_mean(fine2), ratio=None)
    with pytest.raises(RatioError):
        ubdf(no_ratio)
    assert ubdf(no_ratio, scale_factor=4, classes=classes).mask.all()


@pytest.mark.parametrize("bad", [
    {"window": 2}, {"window": 0}, {"num_classes": 0}, {"num_classes": 2.5}, {"scale_factor": 0},
    {"max_window": 1, "window": 3}, {"max_window": 4}, {"lower": 0.5, "upper": 0.5}, {"lower": float("nan")},
    {"residual_base": "coarse"}, {"seed": -1}, {"max_iter": 0}, {"add_residual": 2}, {"nope": 1},
])
def test_bad_parameters(bad, pure):
    with pytest.raises(UnknownParameterError):
        predict("ubdf", pure[3], **bad)


def test_bad_parameter_strings_from_the_command_line():
    spec = get_spec("ubdf")
    assert spec.make_params({"window": "5", "add_residual": "false", "lower": "none"}).window == 5
    with pytest.raises(UnknownParameterError):
        spec.make_params({"window": "three"})


def test_bounds_that_exclude_the_data_are_refused(pure):
    with pytest.raises(UnknownParameterError):
        ubdf(pure[3], lower=5.0)
    with pytest.raises(UnknownParameterError):
        ubdf(pure[3], threads=0)


def test_bad_class_maps(pure):
    classes, _, _, task = pure
    with pytest.raises(ShapeMismatchError):
        ubdf(task, classes=classes[:-1])
    with pytest.raises(DTypeError):
        ubdf(task, classes=classes.astype(float))
    with pytest.raises(NoDataError):
        ubdf(task, classes=np.full(classes.shape, -1))
    with pytest.raises(UnknownParameterError):
        predict("delta", task, classes=classes)


def test_no_valid_data(pure):
    classes, fine1, fine2, _ = pure
    none = np.zeros(classes.shape, bool)
    with pytest.raises(NoDataError):
        ubdf(_task(fine1, _block_mean(fine1), _block_mean(fine2), fine_mask=none))
    with pytest.raises(NoDataError):
        ubdf(_task(fine1, _block_mean(fine1), _block_mean(fine2), target_mask=none), classes=classes)
