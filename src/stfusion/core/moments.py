"""Image-wide moments computed strip by strip, so that a scene of any size (NumPy or Dask) is read
one strip of rows at a time and in-memory and streamed runs give bit-identical statistics.

Strips are fixed blocks of `STRIP_ROWS` rows counted from the top of the scene: the result does
not depend on how a runner tiles the scene. Each strip's count, mean and sum of squared
deviations (two-pass, float64) are merged with the pairwise formula of Chan, Golub & LeVeque
(1979), which is as accurate as a two-pass computation over the whole image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np

STRIP_ROWS = 512


@dataclass(frozen=True)
class Moments:
    """Count, mean and sum of squared deviations (M2) of a set of values."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def merge(self, other: "Moments") -> "Moments":
        """The moments of the union of both sets (Chan et al. 1979)."""
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        delta = other.mean - self.mean
        return Moments(n, self.mean + delta * other.n / n, self.m2 + other.m2 + delta * delta * self.n * other.n / n)

    @classmethod
    def of(cls, values: np.ndarray) -> "Moments":
        """The moments of ``values`` (two-pass, float64)."""
        v = np.asarray(values, dtype=np.float64).ravel()
        if not v.size:
            return cls()
        mean = float(v.mean())
        return cls(int(v.size), mean, float(np.sum((v - mean) ** 2)))

    @property
    def std(self) -> float:
        """Population standard deviation (0 for an empty set)."""
        return math.sqrt(self.m2 / self.n) if self.n else 0.0


def strips(rows: int) -> Iterator[slice]:
    """The row slices of the fixed strips of a scene with ``rows`` rows."""
    for r in range(0, rows, STRIP_ROWS):
        yield slice(r, min(rows, r + STRIP_ROWS))
