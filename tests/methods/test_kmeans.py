"""k-means clustering of a fine image: recovery, determinism, masks, degenerate images, errors."""

from __future__ import annotations

import numpy as np
import pytest

from stfusion.core import NoDataError, ShapeMismatchError, UnknownParameterError
from stfusion.methods.classical.kmeans import CHUNK, kmeans, kmeans_pixels


def _blobs(rows=60, cols=70, bands=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, (rows, cols))
    centres = np.array([[0.05] * bands, [0.2] * bands, [0.45] * bands])[:k]
    centres = centres + 0.02 * rng.random((k, bands))
    img = centres[truth].transpose(2, 0, 1) + 0.005 * rng.standard_normal((bands, rows, cols))
    return img.astype(np.float32), truth, centres


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = set(zip(a.ravel().tolist(), b.ravel().tolist()))
    return len(pairs) == len(set(a.ravel().tolist())) == len(set(b.ravel().tolist()))


def test_recovers_well_separated_clusters_in_brightness_order():
    img, truth, centres = _blobs()
    res = kmeans(img, 3)
    assert res.converged
    assert _same_partition(res.labels, truth)
    # labels are ordered by brightness: here the true classes are already in that order
    assert np.array_equal(res.labels, truth)
    np.testing.assert_allclose(res.centres, centres, atol=2e-3)


def test_matches_scikit_learn_on_blobs():
    sklearn = pytest.importorskip("sklearn.cluster")
    img, truth, _ = _blobs(seed=3)
    x = img.reshape(img.shape[0], -1).T
    ref = sklearn.KMeans(3, n_init=1, random_state=0).fit(x)
    ours = kmeans(img, 3)
    assert _same_partition(ours.labels.ravel(), ref.labels_)
    inertia = ((x - ours.centres[ours.labels.ravel()]) ** 2).sum()
    assert inertia <= ref.inertia_ * (1 + 1e-5)


def test_seeded_and_independent_of_thread_count():
    rng = np.random.default_rng(7)
    x = rng.random((3 * CHUNK + 123, 3)).astype(np.float32)  # several chunks, no clear clusters
    one = kmeans_pixels(x, 5, seed=11, threads=1)
    two = kmeans_pixels(x, 5, seed=11, threads=2)
    again = kmeans_pixels(x, 5, seed=11, threads=2)
    assert np.array_equal(one[0], two[0]) and np.array_equal(one[1], two[1])
    assert np.array_equal(two[0], again[0]) and np.array_equal(two[1], again[1])
    other = kmeans_pixels(x, 5, seed=12, threads=1)
    assert other[0].shape == one[0].shape  # a different seed is allowed to differ


def test_masked_pixels_get_no_label_and_do_not_matter():
    img, truth, _ = _blobs()
    mask = np.ones(truth.shape, bool)
    mask[10:20, 5:40] = False
    a = kmeans(img, 3, mask)
    junk = img.copy()
    junk[:, ~mask] = 1e6
    b = kmeans(junk, 3, mask)
    assert (a.labels[~mask] == -1).all() and (a.labels[mask] >= 0).all()
    assert np.array_equal(a.labels, b.labels) and np.array_equal(a.centres, b.centres)


def test_constant_image_gives_one_cluster():
    res = kmeans(np.full((2, 9, 8), 0.3, np.float32), 4)
    assert res.centres.shape == (1, 2) and (res.labels == 0).all()


def test_fewer_distinct_values_than_clusters():
    img = np.zeros((1, 10, 10), np.float32)
    img[0, :, 5:] = 0.5
    res = kmeans(img, 6)
    assert res.centres.shape[0] == 2
    assert np.array_equal(res.labels, (img[0] > 0).astype(np.int32))


def test_max_iter_limits_the_iterations():
    rng = np.random.default_rng(0)
    x = rng.random((5000, 2)).astype(np.float32)
    labels, centres, it, converged = kmeans_pixels(x, 8, max_iter=1)
    assert it == 1 and not converged
    # the labels are those of the returned centres
    d = ((x[:, None, :].astype(np.float64) - centres[None]) ** 2).sum(-1)
    assert np.array_equal(labels, d.argmin(1))


def test_errors():
    img, _, _ = _blobs()
    with pytest.raises(UnknownParameterError):
        kmeans(img, 0)
    with pytest.raises(ShapeMismatchError):
        kmeans(img, 2, np.ones((3, 3), bool))
    with pytest.raises(NoDataError):
        kmeans(img, 2, np.zeros(img.shape[1:], bool))
    bad = img.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(NoDataError):
        kmeans(bad, 2)
    with pytest.raises(ShapeMismatchError):
        kmeans(np.zeros((2, 3, 4, 5)), 2)
