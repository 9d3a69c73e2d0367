"""ISODATA (FSDAF's classification): clusters, class-count limits, minimum class size, determinism, errors."""

from __future__ import annotations

import numpy as np
import pytest

from stfusion.core import NoDataError, UnknownParameterError
from stfusion.methods.classical.isodata import classify_image, isodata


def _blobs(seed: int = 0, n: int = 500, spread: float = 0.01):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.05, 0.08, 0.30], [0.15, 0.12, 0.20], [0.30, 0.35, 0.40]])
    x = np.concatenate([c + spread * rng.standard_normal((n, 3)) for c in centres])
    truth = np.repeat(np.arange(3), n)
    return x, truth


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Labels ``a`` and ``b`` partition the items identically (up to renaming)."""
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_separated_clusters_are_found_exactly():
    x, truth = _blobs()
    labels, means = isodata(x, min_classes=2, max_classes=6)
    assert means.shape == (3, 3)
    assert _same_partition(labels, truth)
    # labels are ordered by brightness (sum of the band means)
    assert (np.diff(means.sum(axis=1)) > 0).all()
    np.testing.assert_array_equal(labels, truth)


def test_min_classes_splits_without_mixing_clusters():
    x, truth = _blobs(1)
    labels, means = isodata(x, min_classes=4, max_classes=6, min_pixels=100)
    assert len(means) == 4
    for c in range(4):  # each class inside one cluster
        assert len(set(truth[labels == c].tolist())) == 1


def test_wide_classes_are_split_up_to_max_classes_and_small_ones_deleted():
    rng = np.random.default_rng(2)
    x = rng.random((5000, 2))  # uniform: every class is wider than the split threshold
    labels, means = isodata(x, min_classes=2, max_classes=5, min_pixels=200, split_std=0.05)
    assert 2 <= len(means) <= 5
    assert np.bincount(labels).min() >= 200
    labels, means = isodata(x, min_classes=1, max_classes=8, min_pixels=1500)
    assert np.bincount(labels).min() >= 1500 and len(means) <= 3


def test_close_classes_are_merged():
    x, truth = _blobs(3)
    x = np.concatenate([x, x[:500] + 0.02])  # a fourth cluster 0.035 from the first: merged (< 0.05)
    labels, means = isodata(x, min_classes=2, max_classes=6, merge_distance=0.05)
    assert len(means) == 3
    labels, means = isodata(x, min_classes=2, max_classes=6, merge_distance=0.01)
    assert len(means) == 4


def test_deterministic_and_independent_of_band_order():
    x, _ = _blobs(4, spread=0.04)
    a, _ = isodata(x)
    b, _ = isodata(x)
    c, _ = isodata(x[:, [2, 0, 1]])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_constant_data_is_one_class():
    labels, means = isodata(np.full((300, 4), 0.2))
    assert (labels == 0).all() and means.shape == (1, 4)


def test_fewer_pixels_than_the_minimum_is_one_class():
    x, _ = _blobs(5, n=30)
    labels, means = isodata(x, min_pixels=200)
    assert (labels == 0).all() and len(means) == 1


def test_classify_image_labels_valid_pixels_only():
    x, truth = _blobs(6, n=400)
    img = x.T.reshape(3, 30, 40)
    mask = np.ones((30, 40), bool)
    mask[:2] = False
    img = img.copy()
    img[:, ~mask] = np.nan
    labels = classify_image(img, mask, min_classes=2, max_classes=4, min_pixels=50)
    assert (labels[~mask] == -1).all() and (labels[mask] >= 0).all()
    with pytest.raises(NoDataError):
        classify_image(img, np.zeros((30, 40), bool))


def test_bad_input_is_refused():
    with pytest.raises(NoDataError):
        isodata(np.zeros((0, 3)))
    with pytest.raises(NoDataError):
        isodata(np.array([[0.1, np.nan]]))
    with pytest.raises(UnknownParameterError):
        isodata(np.ones((10, 2)), min_classes=5, max_classes=4)
    with pytest.raises(UnknownParameterError):
        isodata(np.ones((10, 2)), iterations=0)
