"""Fit-FC: an independent NumPy transcription of the paper's formulas, the bicubic residual,
masks, tiling, threads and bad parameters (synthetic scenes; the real sets are in test_fitfc_real.py)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from stfusion.core import (
    FusionTask, NoDataError, Pair, RatioError, Scene, ShapeMismatchError, UnknownParameterError, get_spec, predict,
)
from stfusion.core.params.fitfc import FitfcParams
from stfusion.methods.classical.fitfc import fitfc, stats
from stfusion.methods.classical.fitfc_kernel import rm_values
from stfusion.parallel import predict_tiled

D1, D2 = dt.date(2020, 3, 1), dt.date(2020, 4, 2)


# --------------------------------------------------------------------------------------------
# The transcription: plain loops over the formulas of Wang & Atkinson (2018) as documented in
# docs/methods/fitfc.md, written independently of the Numba kernels (MATLAB imresize's bicubic
# contributions, np.polyfit for the regressions, a full sort of every window).
# --------------------------------------------------------------------------------------------

def _cubic(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    return np.where(ax <= 1, 1.5 * ax**3 - 2.5 * ax**2 + 1,
                    np.where(ax < 2, -0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2, 0.0))


def _contributions(out_len: int, in_len: int, s: int) -> tuple[np.ndarray, np.ndarray]:
    """MATLAB imresize(..., s, 'bicubic') along one axis, 1-based as in MATLAB: output pixel x maps to
    u = x/s + (1 - 1/s)/2; 6 taps from floor(u - 2); weights h(u - j) normalised; mirror ``[1:n, n:-1:1]``.
    Returned 0-based (out_len, 6) indices and weights."""
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / s + 0.5 * (1 - 1 / s)
    left = np.floor(u - 2)
    idx = left[:, None] + np.arange(6)[None, :]
    w = _cubic(u[:, None] - idx)
    w = w / w.sum(axis=1, keepdims=True)
    aux = np.concatenate([np.arange(1, in_len + 1), np.arange(in_len, 0, -1)])
    idx = aux[np.mod(idx.astype(np.int64) - 1, len(aux))] - 1
    return idx, w


def transcribe(f1, fm, c1, cm1, c2, cm2, s, W=1, w=20, n=20, filtering="change", sim=None):
    """Fit-FC on arrays (bands, rows, cols) with masks (rows, cols): (prediction, valid)."""
    nb, H, Wd = f1.shape
    nr, nc = -(-H // s), -(-Wd // s)
    C1 = np.full((nb, nr, nc), np.nan)
    C2 = np.full((nb, nr, nc), np.nan)
    for i in range(nr):
        for j in range(nc):
            rs, cs = slice(i * s, (i + 1) * s), slice(j * s, (j + 1) * s)
            for C, img, m in ((C1, c1, cm1), (C2, c2, cm2)):
                if m[rs, cs].any():
                    C[:, i, j] = img[:, rs, cs][:, m[rs, cs]].astype(np.float64).mean(axis=1)
    ok = np.isfinite(C1[0]) & np.isfinite(C2[0])
    a, b = np.ones((nb, nr, nc)), np.zeros((nb, nr, nc))
    for k in range(nb):
        for i in range(nr):
            for j in range(nc):
                win = (slice(max(0, i - W), i + W + 1), slice(max(0, j - W), j + W + 1))
                x, y = C1[k][win][ok[win]], C2[k][win][ok[win]]
                if len(x) >= 2 and x.var() > 1e-12:
                    a[k, i, j], b[k, i, j] = np.polyfit(x, y, 1)
    R = np.where(ok, C2 - a * C1 - b, np.nan)
    ri, rw = _contributions(H, nr, s)
    ci, cw = _contributions(Wd, nc, s)
    r = np.zeros((nb, H, Wd))
    for y in range(H):
        for x in range(Wd):
            wt = rw[y][:, None] * cw[x][None, :]
            good = ok[np.ix_(ri[y], ci[x])]
            if wt[good].sum() >= 0.5 * wt.sum():
                r[:, y, x] = (R[:, ri[y]][:, :, ci[x]] * wt)[:, good].sum(axis=1) / wt[good].sum()
            else:
                r[:, y, x] = R[:, y // s, x // s]
    X = np.arange(H)[:, None] // s, np.arange(Wd)[None, :] // s
    Z = a[:, X[0], X[1]] * f1 + b[:, X[0], X[1]] + r
    valid = fm & cm1 & cm2
    feat = f1 if sim is None else f1[list(sim)]
    out = np.full((nb, H, Wd), np.nan)
    A = (2 * w + 1) / 2
    for y in range(H):
        for x in range(Wd):
            if not valid[y, x]:
                continue
            cands = []
            for yy in range(max(0, y - w), min(H, y + w + 1)):
                for xx in range(max(0, x - w), min(Wd, x + w + 1)):
                    if valid[yy, xx]:
                        D = 0.0
                        for fb in range(feat.shape[0]):
                            D += (float(feat[fb, yy, xx]) - float(feat[fb, y, x])) ** 2
                        dy, dx = yy - y, xx - x
                        cands.append((D, dy * dy + dx * dx, dy, dx, yy, xx))
            cands.sort()
            chosen = cands[:n]
            wts = np.array([1 / (1 + math.sqrt(c[1]) / A) for c in chosen])
            ys, xs = [c[4] for c in chosen], [c[5] for c in chosen]
            if filtering == "change":
                out[:, y, x] = f1[:, y, x] + ((Z - f1)[:, ys, xs] * wts).sum(axis=1) / wts.sum()
            else:
                out[:, y, x] = (Z[:, ys, xs] * wts).sum(axis=1) / wts.sum()
    return out, valid


# --------------------------------------------------------------------------------------------

def _field(rng, shape, sigma=2.0):
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(rng.standard_normal(shape), sigma)


def make_arrays(shape=(30, 27), bands=3, s=4, seed=0):
    """Fine t1, coarse t1/t2 on the fine grid (block means of fine images plus noise; partial blocks)."""
    rng = np.random.default_rng(seed)
    h, w = shape
    f1 = np.stack([0.2 + 0.08 * _field(rng, shape) + 0.01 * rng.standard_normal(shape) for _ in range(bands)])
    f2 = f1 * (1.1 + 0.3 * _field(rng, shape, 5.0)) + 0.03 * _field(rng, shape, 4.0)

    def coarse(img):
        nr, nc = -(-h // s), -(-w // s)
        pad = np.pad(img, ((0, 0), (0, nr * s - h), (0, nc * s - w)), mode="edge")
        blocks = pad.reshape(bands, nr, s, nc, s).mean(axis=(2, 4)) + 0.003 * rng.standard_normal((bands, nr, nc))
        return np.repeat(np.repeat(blocks, s, 1), s, 2)[:, :h, :w]

    return [x.astype(np.float32) for x in (f1, coarse(f1), coarse(f2), f2)]


def make_masks(shape=(30, 27), seed=1):
    rng = np.random.default_rng(seed)
    fm = rng.random(shape) > 0.05
    fm[4:9, 12:20] = False             # a cloud in the fine image
    cm1 = np.ones(shape, bool)
    cm1[20:, 0:4] = False              # a whole coarse pixel missing at t1
    cm2 = np.ones(shape, bool)
    cm2[10:14, 22:27] = False          # a coarse cloud at t2
    cm2[0:2, 0:8] = False              # part of two coarse pixels
    cm2[12:28, 4:16] = False           # a coarse cloud around one clear coarse pixel (4, 2) ...
    cm2[16:20, 8:12] = True            # ... whose residual falls back to its own value
    return fm, cm1, cm2


def make_task(arrays, masks=None, ratio=4.0, garbage=None) -> FusionTask:
    f1, c1, c2 = arrays[:3]
    fm, cm1, cm2 = masks if masks is not None else (None, None, None)
    data = []
    for img, m in ((f1, fm), (c1, cm1), (c2, cm2)):
        img = img.copy()
        if m is not None:
            img[:, ~m] = np.nan if garbage is None else garbage.random((img.shape[0], int((~m).sum())))
        data.append(img)
    return FusionTask([Pair(Scene(data[0], mask=fm, date=D1), Scene(data[1], mask=cm1, date=D1))],
                      Scene(data[2], mask=cm2, date=D2), ratio=ratio)


@pytest.fixture(scope="module")
def arrays():
    return make_arrays()


@pytest.mark.parametrize("masked", [False, True], ids=["clear", "masked"])
@pytest.mark.parametrize("kw", [
    dict(),
    dict(filtering="prediction"),
    dict(rm_radius=2, half_window=4, num_similar=7, similarity_bands=(1, 2)),
    dict(rm_radius=0, half_window=3, num_similar=1, filtering="prediction"),
])
def test_kernel_matches_the_simple_transcription(arrays, masked, kw):
    masks = make_masks() if masked else tuple(np.ones(arrays[0].shape[1:], bool) for _ in range(3))
    out = predict("fitfc", make_task(arrays, masks if masked else None), **kw)
    p = FitfcParams(**kw)
    ref, valid = transcribe(*arrays[:1], masks[0], arrays[1], masks[1], arrays[2], masks[2], 4, p.rm_radius,
                            p.half_window, p.num_similar, p.filtering, p.similarity_bands)
    assert np.array_equal(out.mask, valid)
    np.testing.assert_allclose(out.data[:, valid], ref[:, valid], atol=1e-6, rtol=0)
    assert np.isnan(out.data[:, ~valid]).all()


def test_unchanged_coarse_gives_the_fine_image_back_bit_for_bit(arrays):
    f1, c1 = arrays[:2]
    task = make_task((f1, c1, c1.copy()))
    assert np.array_equal(predict("fitfc", task).data, f1)
    # the paper's form filters the fine image itself: smoothed, not returned
    smooth = predict("fitfc", task, filtering="prediction").data
    assert 1e-3 < np.abs(smooth - f1).max() < 0.1


def test_residual_is_keys_bicubic_with_mirrored_edges():
    """r alone (a = b = 0): a linear residual is reproduced wherever no tap is mirrored, a constant
    everywhere; with only the own coarse pixel valid, r = R(X)."""
    s, nr, nc = 5, 6, 7
    ii, jj = np.meshgrid(np.arange(nr), np.arange(nc), indexing="ij")
    resid = np.stack([2.0 * ii + 3.0 * jj, np.full((nr, nc), 0.25)])
    zeros = np.zeros_like(resid)
    rows, cols = nr * s, nc * s
    valid = np.ones((rows, cols), bool)
    f1 = np.zeros((rows, cols, 2), np.float32)
    out = np.empty((rows, cols, 2))
    rm_values(f1, valid, zeros, zeros, resid, np.ones((nr, nc), bool), s, 0, 0, False, 0, rows, out)
    u = (np.arange(rows) + 0.5) / s - 0.5
    v = (np.arange(cols) + 0.5) / s - 0.5
    inner = (slice(int(1.5 * s), rows - int(1.5 * s)), slice(int(1.5 * s), cols - int(1.5 * s)))
    np.testing.assert_allclose(out[..., 0][inner], (2 * u[:, None] + 3 * v[None, :])[inner], atol=1e-12)
    np.testing.assert_allclose(out[..., 1], 0.25, atol=1e-15)
    # only coarse pixel (2, 3) valid: its fine pixels take its residual
    only = np.zeros((nr, nc), bool)
    only[2, 3] = True
    rm_values(f1, valid, zeros, zeros, resid, only, s, 0, 0, False, 0, rows, out)
    np.testing.assert_allclose(out[2 * s:3 * s, 3 * s:4 * s, 0], resid[0, 2, 3], rtol=1e-15)
    # a block cut anywhere (origin) gives the same values as the whole grid
    part = np.empty((7, 9, 2))
    rm_values(f1[:7, :9], valid[:7, :9], zeros, zeros, resid, np.ones((nr, nc), bool), s, 11, 4, False, 0, 7, part)
    full = np.empty((rows, cols, 2))
    rm_values(f1, valid, zeros, zeros, resid, np.ones((nr, nc), bool), s, 0, 0, False, 0, rows, full)
    assert np.array_equal(part, full[11:18, 4:13])


@pytest.mark.parametrize("kw", [dict(), dict(filtering="prediction", rm_radius=2, half_window=5, num_similar=9)])
def test_tiled_output_equals_in_memory_output(arrays, kw):
    task = make_task(arrays, make_masks())
    whole = predict("fitfc", task, **kw)
    for chunk in (8, 13, 32):
        tiled = predict_tiled("fitfc", task, chunk=chunk, scheduler="threads", params=kw)
        assert np.array_equal(whole.mask, tiled.mask)
        assert np.array_equal(whole.data[:, whole.mask], tiled.data[:, tiled.mask])


def test_masked_values_change_nothing_and_are_not_predicted(arrays):
    masks = make_masks()
    out = predict("fitfc", make_task(arrays, masks))
    assert np.array_equal(out.mask, masks[0] & masks[1] & masks[2])
    assert np.isfinite(out.data[:, out.mask]).all() and np.isnan(out.data[:, ~out.mask]).all()
    noisy = predict("fitfc", make_task(arrays, masks, garbage=np.random.default_rng(5)))
    assert np.array_equal(out.data[:, out.mask], noisy.data[:, noisy.mask])


def test_thread_count_and_public_function_give_identical_results(arrays):
    task = make_task(arrays, make_masks())
    ref = predict("fitfc", task, half_window=6)
    for threads in (1, 2, 3):
        out = fitfc(task, half_window=6, threads=threads)
        assert np.array_equal(out.mask, ref.mask) and np.array_equal(out.data[:, ref.mask], ref.data[:, ref.mask])


def test_scale_factor_overrides_the_ratio(arrays):
    task = make_task(arrays, ratio=9.3)
    assert stats(task, FitfcParams()).scale == 9
    assert stats(task, FitfcParams(scale_factor=4)).a.shape == (3, 8, 7)
    no_ratio = FusionTask(task.pairs, task.target)
    with pytest.raises(RatioError):
        predict("fitfc", no_ratio)
    assert predict("fitfc", no_ratio, scale_factor=4).mask.all()


@pytest.mark.parametrize("bad", [
    dict(rm_radius=-1), dict(rm_radius=1.5), dict(rm_radius=True), dict(half_window=0), dict(num_similar=0),
    dict(half_window=1, num_similar=10), dict(similarity_bands=()), dict(similarity_bands=(0, 0)),
    dict(similarity_bands=(-1,)), dict(similarity_bands="red,nir"), dict(similarity_bands=(0.5,)),
    dict(filtering="both"), dict(scale_factor=0), dict(scale_factor=2.5), dict(rubbish=1),
])
def test_bad_parameters_raise_one_line_errors(arrays, bad):
    with pytest.raises(UnknownParameterError) as err:
        predict("fitfc", make_task(arrays), **bad)
    assert "\n" not in str(err.value)


def test_parameters_parse_from_cli_strings():
    p = get_spec("fitfc").make_params({"similarity_bands": "2,3", "rm_radius": "2", "filtering": "prediction",
                                       "scale_factor": "none"})
    assert p == FitfcParams(rm_radius=2, similarity_bands=(2, 3), filtering="prediction")
    assert get_spec("fitfc").make_params({"similarity_bands": "all"}).similarity_bands is None
    assert get_spec("fitfc").halo(p, 30.0) == 20


def test_input_errors(arrays):
    task = make_task(arrays)
    with pytest.raises(UnknownParameterError, match="beyond the 3 bands"):
        predict("fitfc", task, similarity_bands=(1, 3))
    two = FusionTask([task.pairs[0], Pair(Scene(arrays[3], date=D2), Scene(arrays[2], date=D2))],
                     Scene(arrays[2], date=dt.date(2020, 5, 1)), ratio=4.0)
    with pytest.raises(ShapeMismatchError, match="1 pair"):
        predict("fitfc", two)
    with pytest.raises(ShapeMismatchError, match="exactly 1 pair"):
        fitfc(two)
    with pytest.raises(UnknownParameterError, match="class map"):
        fitfc(task, classes=np.zeros(arrays[0].shape[1:], np.int32))
    masks = (np.ones(arrays[0].shape[1:], bool),) * 2 + (np.zeros(arrays[0].shape[1:], bool),)
    with pytest.raises(NoDataError):
        predict("fitfc", make_task(arrays, masks))
    coarse_grid = FusionTask(
        [Pair(Scene(arrays[0], date=D1, transform=(30.0, 0, 0, 0, -30.0, 900.0)),
              Scene(arrays[1][:, ::4, ::4], date=D1, transform=(120.0, 0, 0, 0, -120.0, 900.0)))],
        Scene(arrays[2][:, ::4, ::4], date=D2, transform=(120.0, 0, 0, 0, -120.0, 900.0)))
    with pytest.raises(ShapeMismatchError, match="fine grid"):
        predict("fitfc", coarse_grid)
