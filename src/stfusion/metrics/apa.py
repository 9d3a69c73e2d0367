"""APA, the all-round performance assessment of fused images (Zhu et al. 2022, RSE 274:113002).

Four numbers per band: AD (mean pred − truth), RMSE, EDGE (Roberts-edge contrast on the
reference's strongest edges) and LBP (local-binary-pattern contrast), as in the authors'
``optimal_accuracy_metrics`` code on reflectance. Without a mask the result is exactly the
reference code's; with one, EDGE and LBP use only pixels whose 3×3 neighbourhood is valid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import InvalidParameterError
from .inputs import prepare, window_valid

EDGE_QUANTILE = 0.9
"""EDGE uses the pixels whose reference edge is at least this quantile of the reference edges."""
RATIO_EPS = 1e-5
LBP_WEIGHTS = (
    ((-1, -1), 128), ((-1, 0), 64), ((-1, 1), 32), ((0, 1), 16),
    ((1, 1), 8), ((1, 0), 4), ((1, -1), 2), ((0, -1), 1),
)
"""(row, col) offset of each neighbour from the centre and its bit weight."""


@dataclass(frozen=True)
class APAResult:
    """Per-band APA values, each an array of length ``bands``."""

    ad: np.ndarray
    rmse: np.ndarray
    edge: np.ndarray
    lbp: np.ndarray

    @property
    def band_average(self) -> tuple[float, float, float, float]:
        """(AD, RMSE, EDGE, LBP) averaged over bands: the reference code's "bandAverage" row."""
        return tuple(float(np.mean(v)) for v in (self.ad, self.rmse, self.edge, self.lbp))  # type: ignore[return-value]


def roberts_edge(image: np.ndarray) -> np.ndarray:
    """Roberts cross |I[y,x] − I[y+1,x+1]| + |I[y,x+1] − I[y+1,x]| at interior pixels: (bands, rows−2, cols−2)."""
    centre = image[:, 1:-1, 1:-1]
    return np.abs(centre - image[:, 2:, 2:]) + np.abs(image[:, 1:-1, 2:] - image[:, 2:, 1:-1])


def lbp_codes(image: np.ndarray, tol: float) -> np.ndarray:
    """3×3 local binary pattern / 255 at interior pixels; a bit is set where neighbour > centre + tol."""
    _, rows, cols = image.shape
    centre = image[:, 1:-1, 1:-1]
    code = np.zeros_like(centre)
    for (dy, dx), weight in LBP_WEIGHTS:
        neighbour = image[:, 1 + dy : rows - 1 + dy, 1 + dx : cols - 1 + dx]
        code += weight * (neighbour > centre + tol)
    return code / 255.0


def _contrast(fused: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return (fused - reference) / (np.abs(fused + reference) + RATIO_EPS)


def apa(truth: Any, pred: Any, *, mask: Any = None, lbp_tol: float = 0.005) -> APAResult:
    """AD, RMSE, EDGE and LBP per band (Zhu et al. 2022); images in reflectance units.

    EDGE is the mean of (E_F − E_R)/(|E_F + E_R| + 1e-5) over the interior pixels whose
    reference Roberts edge E_R is at least sorted(E_R)[⌊0.9·n⌋]; it is negative when the fused
    image is blurrier than the reference. LBP is the mean of the same contrast of LBP codes over
    all interior pixels. ``lbp_tol`` is the LBP noise tolerance in the images' units.
    """
    tol = float(lbp_tol)
    if not math.isfinite(tol) or tol < 0:
        raise InvalidParameterError(f"lbp_tol must be a number >= 0, got {lbp_tol!r}; the reference value is 0.005")
    t, p, valid = prepare(truth, pred, mask)
    inner = window_valid(valid, 3, "APA EDGE/LBP")
    d = p[:, valid] - t[:, valid]
    edge_t, edge_p = roberts_edge(t)[:, inner], roberts_edge(p)[:, inner]
    edge = np.empty(t.shape[0])
    for k in range(t.shape[0]):
        threshold = np.sort(edge_t[k])[int(math.floor(EDGE_QUANTILE * edge_t.shape[1]))]
        strong = edge_t[k] >= threshold
        edge[k] = np.mean(_contrast(edge_p[k][strong], edge_t[k][strong]))
    lbp = np.mean(_contrast(lbp_codes(p, tol)[:, inner], lbp_codes(t, tol)[:, inner]), axis=1)
    return APAResult(ad=d.mean(axis=1), rmse=np.sqrt(np.mean(d**2, axis=1)), edge=edge, lbp=lbp)
