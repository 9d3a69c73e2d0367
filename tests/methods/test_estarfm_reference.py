"""ESTARFM kernel vs a deliberately plain transcription of X. Zhu's ESTARFM.pro (2018), pixel by pixel.

The transcription follows the IDL text: window slices, the program's correlation formula
(``2nb·mean(dx·dy)/(sdx·sdy)/(2nb - 1)`` with sample standard deviations), ``np.polyfit`` for the
slope, ``scipy.stats.f.sf`` for the p-value and a stable sort for the FAST variant. It runs on
small crops of the ESTARFM scene with a few masked pixels (holding NaN) in every image.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy.stats import f as f_dist

from stfusion.core import FusionTask, Pair, Scene, predict
from stfusion.io import read_scene

DATES = {"0524": dt.date(2001, 5, 24), "0711": dt.date(2001, 7, 11), "0812": dt.date(2001, 8, 12)}


def reference_thresholds(fine, fine_mask, num_classes):
    return np.array([[np.std(fine[k, b][fine_mask[k]].astype(np.float64), ddof=1) * 2.0 / num_classes
                      for b in range(fine.shape[1])] for k in range(2)])


def reference_pixel(fine, coarse, target, valid, th, r, c, w, data_min, data_max, num_similar):
    """(prediction (bands,), branch) of pixel (r, c); branch is 'fallback', 'fitted', 'revised' or 'plain'."""
    rows, cols = valid.shape
    nb = fine.shape[1]
    r0, r1, c0, c1 = max(0, r - w), min(rows, r + w + 1), max(0, c - w), min(cols, c + w + 1)
    win_valid = valid[r0:r1, c0:c1]
    similar = win_valid.copy()
    score = np.zeros(win_valid.shape)
    for k in range(2):
        for b in range(nb):
            diff = np.abs(fine[k, b, r0:r1, c0:c1] - fine[k, b, r, c])
            with np.errstate(invalid="ignore"):
                similar &= diff < th[k, b]
            score = score + diff / th[k, b]
    qq, pp = np.nonzero(similar)
    if num_similar is not None and len(qq) > num_similar:
        keep = np.argsort(score[qq, pp], kind="stable")[:num_similar]
        qq, pp = qq[keep], pp[keep]
    qq, pp = qq + r0, pp + c0
    n = len(qq)
    change = [np.array([target[b, r0:r1, c0:c1][win_valid].mean() - coarse[k, b, r0:r1, c0:c1][win_valid].mean()
                        for b in range(nb)]) for k in range(2)]
    if n <= 5:
        d1, d2 = change[0] + 1e-14, change[1] + 1e-14
        t1 = (1 / np.abs(d1)) / (1 / np.abs(d1) + 1 / np.abs(d2))
        t2 = (1 / np.abs(d2)) / (1 / np.abs(d1) + 1 / np.abs(d2))
        return t1 * (fine[0, :, r, c] + d1) + t2 * (fine[1, :, r, c] + d2), {"fallback"}
    fvec = np.concatenate([fine[0][:, qq, pp], fine[1][:, qq, pp]])  # (2 nb, n)
    cvec = np.concatenate([coarse[0][:, qq, pp], coarse[1][:, qq, pp]])
    with np.errstate(invalid="ignore", divide="ignore"):
        if nb == 1:
            R = 1 - 0.5 * (np.abs((fvec[0] - cvec[0]) / (fvec[0] + cvec[0]))
                           + np.abs((fvec[1] - cvec[1]) / (fvec[1] + cvec[1])))
        else:
            dx, dy = fvec - fvec.mean(axis=0), cvec - cvec.mean(axis=0)
            R = 2 * nb * np.mean(dx * dy, axis=0) / (fvec.std(axis=0, ddof=1) * cvec.std(axis=0, ddof=1)) / (2 * nb - 1)
    R = np.where(np.isfinite(R), R, 0.5)
    dist = 1 + np.sqrt((qq - r) ** 2 + (pp - c) ** 2) / w
    inv = 1 / ((1 - R) * dist + 1e-7)
    weight = inv / inv.sum()
    out = np.empty(nb)
    branches = set()
    for b in range(nb):
        x = np.concatenate([coarse[0, b, qq, pp], coarse[1, b, qq, pp]])
        y = np.concatenate([fine[0, b, qq, pp], fine[1, b, qq, pp]])
        v = 1.0
        if abs(coarse[0, b, qq, pp].mean() - coarse[1, b, qq, pp].mean()) >= 0.02 * data_max:
            slope = np.polyfit(x, y, 1)[0]
            rr = np.corrcoef(x, y)[0, 1]
            fstat = rr**2 / (1 - rr**2) * (2 * n - 2) if rr**2 < 1 else np.inf
            if f_dist.sf(fstat, 1, 2 * n - 2) <= 0.05 and 0 < slope <= 5:
                v = slope
                branches.add("fitted")
        d1 = abs(change[0][b]) + 1e-14
        d2 = abs(change[1][b]) + 1e-14
        t1, t2 = (1 / d1) / (1 / d1 + 1 / d2), (1 / d2) / (1 / d1 + 1 / d2)
        p1 = fine[0, b, r, c] + np.sum(weight * v * (target[b, qq, pp] - coarse[0, b, qq, pp]))
        p2 = fine[1, b, r, c] + np.sum(weight * v * (target[b, qq, pp] - coarse[1, b, qq, pp]))
        pred = t1 * p1 + t2 * p2
        if pred <= data_min or pred >= data_max:
            pred = t1 * np.sum(weight * fine[0, b, qq, pp]) + t2 * np.sum(weight * fine[1, b, qq, pp])
            branches.add("revised")
        out[b] = pred
    return out, branches or {"plain"}


@pytest.fixture(scope="module")
def scene(shared_data):
    """The ESTARFM scene as float64 arrays: fine/coarse (2, 3, 400, 400), target (3, 400, 400)."""
    d = shared_data / "estarfm_3date"

    def read(name, mmdd):
        return read_scene(d / f"{name}{mmdd}", date=DATES[mmdd]).data.astype(np.float64)

    fine = np.stack([read("tm", "0524"), read("tm", "0812")])
    coarse = np.stack([read("modis", "0524"), read("modis", "0812")])
    return fine, coarse, read("modis", "0711")


CASES = {
    # name: (crop rows, crop cols, bands, half_window, num_similar, (data_min, data_max), branches that must occur)
    "default": ((100, 124), (50, 74), [0, 1, 2], 4, None, (0.0, 1.0), {"fallback", "fitted", "plain"}),
    "fast": ((100, 124), (50, 74), [0, 1, 2], 4, 8, (0.0, 1.0), {"fallback", "fitted", "plain"}),
    "revision": ((300, 322), (200, 222), [0, 1, 2], 3, None, (0.03, 0.25), {"fitted", "revised"}),
    "one_band": ((100, 124), (50, 74), [2], 4, None, (0.0, 1.0), {"fallback", "fitted", "plain"}),
}


@pytest.mark.realdata
@pytest.mark.parametrize("case", sorted(CASES))
def test_kernel_matches_the_plain_transcription(scene, case):
    (r0, r1), (c0, c1), bands, w, num_similar, (data_min, data_max), must = CASES[case]
    fine, coarse, target = (a[..., bands, r0:r1, c0:c1].copy() for a in scene)
    rows, cols = target.shape[1:]
    rng = np.random.default_rng(7)
    masks = rng.random((5, rows, cols)) > 0.03  # F1, F2, C1, C2, C0
    for a, m in ((fine[0], masks[0]), (fine[1], masks[1]), (coarse[0], masks[2]), (coarse[1], masks[3]),
                 (target, masks[4])):
        a[:, ~m] = np.nan
    pairs = [Pair(Scene(fine[k], mask=masks[k]), Scene(coarse[k], mask=masks[2 + k])) for k in range(2)]
    task = FusionTask(pairs, Scene(target, mask=masks[4]))
    out = predict("estarfm", task, half_window=w, num_similar=num_similar, data_min=data_min, data_max=data_max)

    valid = masks.all(axis=0)
    f32 = [a.astype(np.float32).astype(np.float64) for a in (fine, coarse, target)]  # what the kernel sees
    th = reference_thresholds(f32[0], masks[:2], 4.0)
    expected = np.full(target.shape, np.nan)
    seen = set()
    for r, c in zip(*np.nonzero(valid)):
        expected[:, r, c], branches = reference_pixel(*f32, valid, th, r, c, w, data_min, data_max, num_similar)
        seen |= branches
    assert must <= seen, f"crop does not exercise {must - seen}"
    assert np.array_equal(out.mask, valid)
    np.testing.assert_allclose(out.data[:, valid], expected[:, valid], rtol=0, atol=1e-6)


def test_fast_variant_breaks_similarity_ties_in_window_order():
    """A four-class fine scene: many similar pixels tie on the similarity score, and which of them the
    FAST variant keeps (the first in window order, as a stable sort) changes the prediction."""
    rng = np.random.default_rng(3)
    classes = rng.integers(0, 4, (20, 20))
    levels = np.array([[0.05, 0.08, 0.3], [0.07, 0.05, 0.25], [0.04, 0.03, 0.2], [0.1, 0.12, 0.35]])
    fine = np.stack([levels[classes].transpose(2, 0, 1), 1.2 * levels[classes].transpose(2, 0, 1) + 0.01])
    coarse = fine + 0.03 * rng.random((2, 3, 20, 20))
    target = coarse[0] + 0.04 + 0.01 * rng.random((3, 20, 20))
    task = FusionTask([Pair(Scene(fine[k]), Scene(coarse[k])) for k in range(2)], Scene(target))
    out = predict("estarfm", task, half_window=3, num_similar=8)

    f32 = [a.astype(np.float32).astype(np.float64) for a in (fine, coarse, target)]
    valid = np.ones((20, 20), bool)
    th = reference_thresholds(f32[0], np.stack([valid, valid]), 4.0)
    expected = np.stack([reference_pixel(*f32, valid, th, r, c, 3, 0.0, 1.0, 8)[0]
                         for r in range(20) for c in range(20)], axis=1).reshape(3, 20, 20)
    np.testing.assert_allclose(out.data, expected, rtol=0, atol=1e-6)
