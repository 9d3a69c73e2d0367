import datetime as dt

import numpy as np
import pytest

from stfusion.core import FusionTask, Pair, Scene, UnknownParameterError, predict

DATES = [dt.date(2020, 1, 1), dt.date(2020, 1, 31)]
TARGET = dt.date(2020, 1, 11)


def _task(rng, fine_masks=(None, None)):
    pairs = []
    for d, m in zip(DATES, fine_masks):
        pairs.append(Pair(Scene(rng.random((2, 6, 6)), mask=m, date=d), Scene(rng.random((2, 6, 6)), date=d)))
    return FusionTask(pairs, Scene(rng.random((2, 6, 6)), date=TARGET))


def test_delta_two_pairs_is_inverse_time_weighted():
    task = _task(np.random.default_rng(1))
    t = task.target.data.astype(float)
    preds = [p.fine.data + t - p.coarse.data for p in task.pairs]
    w = np.array([1 / 10, 1 / 20])
    expected = (w[0] * preds[0] + w[1] * preds[1]) / w.sum()
    np.testing.assert_allclose(predict("delta", task).data, expected, atol=1e-6)
    equal = (preds[0] + preds[1]) / 2
    np.testing.assert_allclose(predict("delta", task, power=0).data, equal, atol=1e-6)


def test_delta_uses_the_pairs_valid_at_each_pixel():
    m = np.ones((6, 6), bool)
    m[0, 0] = False
    task = _task(np.random.default_rng(2), fine_masks=(m, m.copy()))
    out = predict("delta", task)
    assert not out.mask[0, 0] and out.mask.sum() == 35
    m2 = np.ones((6, 6), bool)
    m2[1, 1] = False
    task = _task(np.random.default_rng(2), fine_masks=(m, m2))
    out = predict("delta", task)
    p2 = task.pairs[1]
    np.testing.assert_allclose(out.data[:, 0, 0], (p2.fine.data + task.target.data - p2.coarse.data)[:, 0, 0], atol=1e-6)


def test_nochange_takes_the_nearest_date():
    task = _task(np.random.default_rng(3))
    np.testing.assert_array_equal(predict("nochange", task).data, task.pairs[0].fine.data)


def test_delta_rejects_negative_power():
    with pytest.raises(UnknownParameterError, match="power"):
        predict("delta", _task(np.random.default_rng(4)), power=-1)
