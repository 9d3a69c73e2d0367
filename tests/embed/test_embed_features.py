"""Baseline features of d-pixel series: temporal statistics and the interpolated raw series."""

from __future__ import annotations

import numpy as np

from stfusion.core.dpixel import SensorSeries
from stfusion.embed.features import hand_features, interpolated_series


def _series() -> SensorSeries:
    values = np.array([[[0.0, 1], [9, 9], [10, 3], [9, 9]],    # invalid steps 1 and 3
                       [[9, 9], [4, 2], [9, 9], [9, 9]],      # one valid step
                       [[1, 1], [2, 2], [3, 3], [4, 4]]], np.float32)  # all invalid
    valid = np.array([[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]], bool)
    return SensorSeries(values, valid, np.array([1, 6, 11, 31]), ("a", "b"))


def test_interpolation_is_linear_in_days_and_held_at_the_ends():
    out = interpolated_series(_series()).reshape(3, 4, 2)
    np.testing.assert_allclose(out[0, :, 0], [0, 5, 10, 10])
    np.testing.assert_allclose(out[0, :, 1], [1, 2, 3, 3])
    np.testing.assert_allclose(out[1], [[4, 2]] * 4)
    assert (out[2] == 0).all()


def test_hand_features_use_only_valid_observations():
    f = hand_features(_series(), quantiles=(0.5,)).reshape(3, 2, 5)  # band-major: mean std min max median
    np.testing.assert_allclose(f[0, 0], [5, 5, 0, 10, 5])
    np.testing.assert_allclose(f[1, 1], [2, 0, 2, 2, 2])
    assert np.isnan(f[2]).all()
