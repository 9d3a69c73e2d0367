"""Downstream heads: they learn separable classes, are seeded, and refuse unknown kinds."""

from __future__ import annotations

import numpy as np
import pytest

from stfusion.core.errors import UnknownParameterError
from stfusion.embed.heads import Head, stratified_subset


@pytest.mark.parametrize("kind", ["linear", "rf", "mlp"])
def test_heads_learn_separable_classes(kind):
    if kind == "mlp":
        pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300) * 10 + 2  # labels 2, 12, 22
    x = rng.standard_normal((300, 8)) + (y[:, None] == 12) * 3.0 - (y[:, None] == 22) * 3.0
    head = Head(kind, seed=1, epochs=30).fit(x[:200], y[:200])
    assert (head.predict(x[200:]) == y[200:]).mean() > 0.9
    again = Head(kind, seed=1, epochs=30).fit(x[:200], y[:200])
    assert np.array_equal(head.predict(x[200:]), again.predict(x[200:]))


def test_stratified_subset_keeps_every_class():
    y = np.array([0] * 500 + [1] * 40 + [2] * 5)
    idx = stratified_subset(y, 0.01, np.random.default_rng(0))
    assert set(y[idx]) == {0, 1, 2} and (y[idx] == 0).sum() == 5 and (y[idx] == 2).sum() == 2
    with pytest.raises(UnknownParameterError, match="unknown head"):
        Head("svm")
