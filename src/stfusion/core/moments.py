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


@dataclass(frozen=True)
class CoMoments:
    """Per-band count, means and co-moments of paired values x, y (arrays over bands): ``cxy`` is
    the sum of (x - mean x)(y - mean y), ``m2y`` the sum of (y - mean y)^2. Merged like `Moments`."""

    n: int
    mx: np.ndarray
    my: np.ndarray
    cxy: np.ndarray
    m2y: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray) -> "CoMoments":
        """The co-moments of ``x`` and ``y`` (bands, values), two-pass, float64."""
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        n = x.shape[1]
        if not n:
            z = np.zeros(x.shape[0])
            return cls(0, z, z, z, z)
        mx, my = x.mean(axis=1), y.mean(axis=1)
        dx, dy = x - mx[:, None], y - my[:, None]
        return cls(n, mx, my, np.sum(dx * dy, axis=1), np.sum(dy * dy, axis=1))

    def merge(self, other: "CoMoments") -> "CoMoments":
        """The co-moments of the union of both sets (Chan et al. 1979)."""
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        dx, dy = other.mx - self.mx, other.my - self.my
        f = self.n * other.n / n
        return CoMoments(n, self.mx + dx * other.n / n, self.my + dy * other.n / n,
                         self.cxy + other.cxy + dx * dy * f, self.m2y + other.m2y + dy * dy * f)
