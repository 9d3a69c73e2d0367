"""STARFM kernel vs an independent, deliberately simple implementation of the formulas.

`reference` loops over pixels and evaluates each window with NumPy: Eqs. 5-16 of Gao et al.
(2006) with the C program's rules. Differences, thresholds and the uncertainty shortcut are
evaluated in float32 like the kernel (so that decisions at exact ties agree on DN-quantised
data); weights and sums are float64. `reference_gao` follows the C program v1.2.1 in Python
integers (even window, truncated constants, (int)(x + 0.5)).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from stfusion.core import FusionTask, Pair, Scene
from stfusion.core.params.starfm import StarfmParams
from stfusion.io import read_scene
from stfusion.methods.classical.starfm import predict

F32 = np.float32
D0, D1, D2 = dt.date(2020, 5, 1), dt.date(2020, 6, 1), dt.date(2020, 7, 1)
GRID = dict(transform=(30.0, 0.0, 600000.0, 0.0, -30.0, 4000000.0), crs="EPSG:32612")


def _similar_threshold(values: np.ndarray, p: StarfmParams) -> float:
    return 2.0 * float(np.std(values.astype(np.float64))) / p.num_slice_pure_test


def reference(fine, fmask, coarse, cmask, target, tmask, p: StarfmParams, res: float, classes=None):
    """Default-mode STARFM. fine/coarse: lists over pairs of (bands, rows, cols) float32; masks bool.

    Returns (bands, rows, cols) float64 with NaN where there is no prediction.
    """
    npairs = len(fine)
    bands, rows, cols = target.shape
    h = int(p.search_distance / res + 1e-9) if p.use_spatial else 0
    lo = -np.inf if p.valid_min is None else p.valid_min
    hi = np.inf if p.valid_max is None else p.valid_max
    sl, sm, big_b = p.fine_uncertainty, p.coarse_uncertainty, p.scale_factor
    u_lm, u_mm = math.sqrt(sl**2 + sm**2), math.sqrt(2.0) * sm
    u_c = F32(math.sqrt(u_lm**2 + u_mm**2) * big_b)
    copy = True if p.copy_on_zero_diff is None else p.copy_on_zero_diff
    out = np.full((bands, rows, cols), np.nan)
    for b in range(bands):
        L = [f[b] for f in fine]
        M = [c[b] for c in coarse]
        Mt = target[b]
        slc = [_similar_threshold(L[k][fmask[k] & (L[k] > lo) & (L[k] < hi)], p) for k in range(npairs)]
        for i in range(rows):
            for j in range(cols):
                if not tmask[i, j]:
                    continue
                centre = [k for k in range(npairs) if fmask[k][i, j]]  # pairs searched
                both = [k for k in centre if cmask[k][i, j]]  # pairs giving the filter references
                s_c = [abs(M[k][i, j] - L[k][i, j]) for k in both]
                t_c = [abs(M[k][i, j] - Mt[i, j]) for k in both]
                if copy and 0 in t_c:
                    out[b, i, j] = np.mean([float(L[k][i, j]) for k, t in zip(both, t_c) if t == 0])
                    continue
                if copy and 0 in s_c:
                    out[b, i, j] = Mt[i, j]
                    continue
                agg, none = (max, -np.inf) if p.filter_rule == "paper" else (min, np.inf)
                a_ref, b_ref = (F32(agg(x) + F32(u)) if x else none for x, u in ((s_c, u_lm), (t_c, u_mm)))
                r = slice(max(0, i - h), min(rows, i + h + 1))
                c = slice(max(0, j - h), min(cols, j + h + 1))
                yy, xx = np.mgrid[r, c]
                dist = 1.0 + np.hypot(yy - i, xx - j) * res / p.search_distance
                weights, preds, zero = [], [], []
                for k in centre:
                    fl, m, mt = L[k][r, c], M[k][r, c], Mt[r, c]
                    ok = fmask[k][r, c] & cmask[k][r, c] & tmask[r, c]
                    if p.use_spatial:
                        ok &= (fl >= lo) & (fl <= hi) & (m >= lo) & (m <= hi) & (mt >= lo) & (mt <= hi)
                        if classes is not None:
                            ok &= classes[k][r, c] == classes[k][i, j]
                        else:
                            d = np.abs(fl - L[k][i, j])
                            ok &= (d < F32(slc[k])) | (d == 0)
                    s, t = np.abs(m - fl), np.abs(m - mt)
                    if p.filter_rule == "paper":
                        ok &= (s < a_ref) & (t < b_ref)
                    else:
                        ok &= ~((s > a_ref) & (t > b_ref))
                    pred = fl.astype(np.float64) + mt - m
                    if p.weighting == "logistic":
                        cost = np.log(s.astype(np.float64) * big_b + 1) * np.log(t.astype(np.float64) * big_b + 1)
                        zero += list(pred[ok & (cost == 0)])
                        ok &= cost > 0
                        w = 1.0 / np.where(ok, cost * dist, 1.0)
                    else:
                        ts = s * F32(big_b) + F32(1)
                        if npairs > 1:
                            ts = ts * (t * F32(big_b) + F32(1))
                        w = np.where(ts < u_c, 1.0, 1.0 / (ts.astype(np.float64) * dist))
                    weights += list(w[ok])
                    preds += list(pred[ok])
                if zero:
                    value = float(np.mean(zero))
                elif weights:
                    value = float(np.dot(weights, preds) / np.sum(weights))
                else:
                    continue
                if lo < value < hi:
                    out[b, i, j] = value
    out[:, np.isnan(out).any(axis=0)] = np.nan
    return out


def reference_gao(fine, coarse, target, *, res, dist_m=750, n_slice=40, unc=50, rng=(-2000, 10000)):
    """The C program v1.2.1 on int DN (lists over pairs of (rows, cols) int arrays, one band),
    with its float32 weights and sums."""
    npairs = len(fine)
    rows, cols = target.shape
    win = int(2 * dist_m / res)
    slices = []
    for f in fine:
        v = f[(f > rng[0]) & (f < rng[1])].astype(np.float64)
        std = int(math.sqrt(np.sum(v * v) / v.size - (np.sum(v) / v.size) ** 2))
        slices.append(int(std * 2.0 / n_slice + 0.5))
    u_msr = int(math.sqrt(2 * unc * unc))
    u_lsr = int(math.sqrt(2 * unc * unc))
    u_comb = int(math.sqrt(u_msr**2 + u_lsr**2))
    inside = lambda v: rng[0] <= v <= rng[1]  # noqa: E731
    out = np.full((rows, cols), -9999, np.int64)
    for i in range(rows):
        for j in range(cols):
            min_lsr = min([rng[1]] + [abs(int(coarse[k][i, j]) - int(fine[k][i, j])) for k in range(npairs)])
            min_msr = min([rng[1]] + [abs(int(coarse[k][i, j]) - int(target[i, j])) for k in range(npairs)])
            cands = []
            for k in range(npairs):
                for m in range(win):
                    for n in range(win):
                        y, x = i + m - win // 2, j + n - win // 2
                        if not (0 <= y < rows and 0 <= x < cols):
                            continue
                        lv, mv, tv = int(fine[k][y, x]), int(coarse[k][y, x]), int(target[y, x])
                        if not (inside(lv) and inside(mv)) or abs(lv - int(fine[k][i, j])) >= slices[k]:
                            continue
                        r_lsr, r_msr = mv - lv, mv - tv
                        if abs(r_lsr) > min_lsr + u_lsr and abs(r_msr) > min_msr + u_msr:
                            continue
                        t_dis = F32(abs(r_lsr) + 1 if npairs == 1 else (abs(r_msr) + 1) * (abs(r_lsr) + 1))
                        s_dis = F32(math.sqrt(float((x - j) ** 2 + (y - i) ** 2)))
                        d = 1.0 + float(s_dis * F32(res) / F32(dist_m))
                        cands.append((F32(1.0) if t_dis < u_comb else F32(1.0 / (float(t_dis) * d)), lv - r_msr))
            total = F32(0.0)  # the program's float sums of normalised weights
            for w, _ in cands:
                total = F32(total + w)
            fsr = F32(-9999.0) if not cands else F32(0.0)
            for w, v in cands:
                fsr = F32(fsr + F32(w / total) * F32(v))
            if rng[0] < fsr < rng[1]:
                out[i, j] = int(float(fsr) + 0.5)  # C truncates toward zero, as int() does
    return out


def _scenes(rng, shape=(2, 14, 15), npairs=1, holes=False):
    """A synthetic task: class-like fine images, half-smoothed coarse images, a per-class change,
    and (``holes``) random invalid pixels holding NaN."""
    bands, rows, cols = shape
    levels = rng.choice([0.05, 0.12, 0.2, 0.35], size=(rows, cols))
    gain = (1 + 0.2 * np.arange(bands))[:, None, None]
    noise = lambda sd: sd * rng.standard_normal(shape)  # noqa: E731
    blur = lambda x: 0.5 * x + 0.5 * x.mean(axis=(1, 2), keepdims=True)  # noqa: E731
    holes_mask = lambda frac: rng.random((rows, cols)) > frac if holes else np.ones((rows, cols), bool)  # noqa: E731
    pairs = []
    for n, d in enumerate([D0, D2][:npairs]):
        fine = levels * gain + 0.01 * n + noise(0.004)
        fmask, cmask = holes_mask(0.1), holes_mask(0.05)
        pairs.append(Pair(Scene(np.where(fmask, fine, np.nan).astype(F32), mask=fmask, date=d, **GRID),
                          Scene((blur(fine) + noise(0.003)).astype(F32), mask=cmask, date=d, **GRID)))
    target = blur(levels * gain) + 0.03 * (levels > 0.15) + 0.01 + noise(0.003)
    return FusionTask(pairs, Scene(target.astype(F32), mask=holes_mask(0.05), date=D1, **GRID)), levels


def _ref_of(task: FusionTask, p: StarfmParams, res: float, classes=None) -> np.ndarray:
    f = [np.asarray(x.fine.data) for x in task.pairs]
    c = [np.asarray(x.coarse.data) for x in task.pairs]
    return reference(f, [x.fine.mask for x in task.pairs], c, [x.coarse.mask for x in task.pairs],
                     np.asarray(task.target.data), task.target.mask, p, res, classes)


def _assert_agree(out: Scene, ref: np.ndarray) -> None:
    expected_mask = ~np.isnan(ref).any(axis=0)
    assert np.array_equal(out.mask, expected_mask)
    assert out.mask.any()
    np.testing.assert_allclose(out.data[:, out.mask], ref[:, expected_mask], rtol=0, atol=1e-6)


CASES = {
    "one pair": dict(npairs=1, params={}),
    "two pairs with holes": dict(npairs=2, holes=True, params={}),
    "paper filter": dict(npairs=2, params=dict(filter_rule="paper")),
    "logistic": dict(npairs=1, params=dict(weighting="logistic")),
    "logistic two pairs": dict(npairs=2, holes=True, params=dict(weighting="logistic")),
    "data range": dict(npairs=1, holes=True, params=dict(valid_min=0.06, valid_max=0.4)),
    "no spatial search": dict(npairs=2, params=dict(use_spatial=False)),
    "wide uncertainty, few slices": dict(npairs=1, params=dict(fine_uncertainty=0.02, num_slice_pure_test=4)),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_kernel_matches_reference_on_synthetic_scenes(case):
    spec = CASES[case]
    task, _ = _scenes(np.random.default_rng(len(case)), npairs=spec["npairs"], holes=spec.get("holes", False))
    p = StarfmParams(search_distance=120.0, **spec["params"])
    _assert_agree(predict(task, p), _ref_of(task, p, 30.0))


def test_kernel_matches_reference_with_a_class_map():
    task, levels = _scenes(np.random.default_rng(7), npairs=2, holes=True)
    classes = np.digitize(levels, [0.1, 0.15, 0.3]).astype(np.uint8)
    p = StarfmParams(search_distance=120.0)
    out = predict(task, p, classes=classes)
    _assert_agree(out, _ref_of(task, p, 30.0, classes=[classes, classes]))
    assert not np.allclose(out.data[:, out.mask], predict(task, p).data[:, out.mask])


@pytest.fixture(scope="module")
def cia_crop(shared_data):
    d = shared_data / "cia_2date"
    crop = (slice(None), slice(200, 222), slice(300, 323))
    read = lambda name: read_scene(d / name).data[crop]  # noqa: E731
    scene = lambda name, date: Scene(read(name), date=date)  # noqa: E731
    pair = Pair(scene("CIA_L7_20011125.tif", D0), scene("CIA_MOD09GA_20011125.tif", D0))
    return FusionTask([pair], scene("CIA_MOD09GA_20020112.tif", D1))


@pytest.mark.realdata
@pytest.mark.parametrize("params", [{}, dict(weighting="logistic"), dict(filter_rule="paper")], ids=str)
def test_kernel_matches_reference_on_a_real_crop(cia_crop, params):
    p = StarfmParams(search_distance=200.0, resolution=50.0, **params)
    _assert_agree(predict(cia_crop, p), _ref_of(cia_crop, p, 50.0))


@pytest.mark.realdata
def test_compat_gao_matches_the_programs_rules_on_a_real_crop(cia_crop):
    p = StarfmParams(search_distance=200.0, resolution=50.0, compat="gao", valid_min=-0.2, valid_max=1.0)
    out = predict(cia_crop, p)
    dn = lambda s: np.round(np.asarray(s) * 10000).astype(np.int64)  # noqa: E731
    for b in range(cia_crop.target.count):
        ref = reference_gao([dn(cia_crop.pairs[0].fine.data[b])], [dn(cia_crop.pairs[0].coarse.data[b])],
                            dn(cia_crop.target.data[b]), res=50.0, dist_m=200)
        got = np.where(out.mask, np.round(np.nan_to_num(out.data[b]) * 10000), -9999).astype(np.int64)
        diff = np.abs(got - ref)
        assert diff.max() <= 1 and np.mean(diff == 0) >= 0.99, (b, diff.max(), np.mean(diff == 0))
