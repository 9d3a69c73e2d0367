"""APA (Zhu et al. 2022): Roberts edges, LBP codes, masks, and the APA diagram."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stfusion.core.errors import InputError, InvalidValueError, ShapeMismatchError
from stfusion.metrics import AD_CLASSES, APAResult, ad_class, apa, apa_diagram
from stfusion.metrics.apa import lbp_codes, roberts_edge


def pair(seed: int, shape=(2, 12, 11)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0.05, 0.5, shape)
    return truth, truth + rng.normal(0, 0.02, shape)


def contrast(f, r):
    return (f - r) / (abs(f + r) + 1e-5)


def reference_apa(t: np.ndarray, p: np.ndarray, keep: np.ndarray, tol: float = 0.005):
    """EDGE and LBP of one band, pixel by pixel over the interior positions where ``keep`` is True."""
    rows, cols = t.shape

    def edge(img, y, x):
        return abs(img[y, x] - img[y + 1, x + 1]) + abs(img[y, x + 1] - img[y + 1, x])

    def code(img, y, x):
        weights = {(-1, -1): 128, (-1, 0): 64, (-1, 1): 32, (0, 1): 16, (1, 1): 8, (1, 0): 4, (1, -1): 2, (0, -1): 1}
        return sum(w for (dy, dx), w in weights.items() if img[y + dy, x + dx] > img[y, x] + tol) / 255

    pos = [(y, x) for y in range(1, rows - 1) for x in range(1, cols - 1) if keep[y, x]]
    et = np.array([edge(t, y, x) for y, x in pos])
    ep = np.array([edge(p, y, x) for y, x in pos])
    threshold = sorted(et)[math.floor(0.9 * len(et))]
    strong = et >= threshold
    edge_value = np.mean([contrast(a, b) for a, b in zip(ep[strong], et[strong])])
    lbp_value = np.mean([contrast(code(p, y, x), code(t, y, x)) for y, x in pos])
    return edge_value, lbp_value


def test_matches_pixel_by_pixel_definition():
    truth, pred = pair(0)
    keep = np.ones(truth.shape[1:], dtype=bool)
    result = apa(truth, pred)
    for k in range(2):
        e, lbp = reference_apa(truth[k], pred[k], keep)
        assert result.edge[k] == pytest.approx(e, abs=1e-12)
        assert result.lbp[k] == pytest.approx(lbp, abs=1e-12)
    d = pred - truth
    np.testing.assert_allclose(result.ad, d.mean(axis=(1, 2)))
    np.testing.assert_allclose(result.rmse, np.sqrt((d**2).mean(axis=(1, 2))))


def test_masked_uses_pixels_with_valid_3x3_neighbourhood():
    truth, pred = pair(1)
    mask = np.ones(truth.shape[1:], dtype=bool)
    mask[4:6, 3] = False
    keep = np.zeros_like(mask)
    for y in range(1, mask.shape[0] - 1):
        for x in range(1, mask.shape[1] - 1):
            keep[y, x] = mask[y - 1 : y + 2, x - 1 : x + 2].all()
    result = apa(truth, pred, mask=mask)
    for k in range(2):
        e, lbp = reference_apa(truth[k], pred[k], keep)
        assert result.edge[k] == pytest.approx(e, abs=1e-12)
        assert result.lbp[k] == pytest.approx(lbp, abs=1e-12)
    d = (pred - truth)[:, mask]
    np.testing.assert_allclose(result.ad, d.mean(axis=1))


def test_all_valid_mask_is_the_reference_behaviour():
    truth, pred = pair(2)
    a, b = apa(truth, pred), apa(truth, pred, mask=np.ones(truth.shape[1:], dtype=bool))
    for name in ("ad", "rmse", "edge", "lbp"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_lbp_bit_weights_and_tolerance():
    img = np.zeros((1, 3, 3))
    img[0, 0, 0] = 0.01  # top-left neighbour above centre + tol: bit 128
    img[0, 1, 2] = 0.004  # right neighbour within the tolerance: no bit
    assert lbp_codes(img, 0.005)[0, 0, 0] == pytest.approx(128 / 255)
    assert lbp_codes(img, 0.001)[0, 0, 0] == pytest.approx((128 + 16) / 255)


def test_roberts_edge_of_a_step():
    img = np.zeros((1, 4, 4))
    img[0, :, 2:] = 1.0
    np.testing.assert_allclose(roberts_edge(img)[0], [[2.0, 0.0], [2.0, 0.0]])


def test_identity_and_blur_signs():
    truth, _ = pair(3, shape=(1, 20, 20))
    same = apa(truth, truth)
    assert same.edge[0] == 0 and same.lbp[0] == 0 and same.rmse[0] == 0
    blurred = truth.copy()
    blurred[0, 1:-1, 1:-1] = sum(
        truth[0, 1 + dy : 19 + dy, 1 + dx : 19 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)
    ) / 9
    assert apa(truth, blurred).edge[0] < 0


def test_band_average():
    result = APAResult(ad=np.array([1.0, 3.0]), rmse=np.array([2.0, 4.0]), edge=np.array([0.0, -1.0]), lbp=np.array([0.5, 0.5]))
    assert result.band_average == (2.0, 3.0, -0.5, 0.5)


@pytest.mark.parametrize(
    "ad, cls", [(-0.0021, 0), (-0.002, 1), (-0.0011, 1), (-0.001, 2), (0.0, 2), (0.001, 2), (0.0015, 3), (0.002, 3), (0.0021, 4)]
)
def test_ad_classes(ad, cls):
    assert ad_class(ad) == cls


def test_diagram_writes_png(tmp_path):
    truth, pred = pair(4)
    out = apa_diagram({"fused": apa(truth, pred), "CP": (0.037, -0.912, 0.0)}, tmp_path / "sub" / "apa.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert len(AD_CLASSES) == 5


@pytest.mark.parametrize(
    "results, error",
    [
        ({}, InputError),
        ({"m": (0.1, 0.2)}, ShapeMismatchError),
        ({"m": (0.1, 1.5, 0.0)}, InvalidValueError),
        ({"m": (-0.1, 0.5, 0.0)}, InvalidValueError),
        ({"m": (0.1, 0.5, float("nan"))}, InvalidValueError),
    ],
)
def test_diagram_rejects_bad_entries(tmp_path, results, error):
    with pytest.raises(error):
        apa_diagram(results, tmp_path / "apa.png")
    assert not (tmp_path / "apa.png").exists()
