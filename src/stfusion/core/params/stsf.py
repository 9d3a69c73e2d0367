"""Parameters of the spatial-temporal-spectral fusion (STSF) methods."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .deep import DeepParams

FUSERS = ("gsa", "cnmf")
CUBIC_HALO = 2
"""Coarse pixels on each side of a block that cubic convolution reaches: the halo of the
block-wise STSF methods (on the HS grid)."""




def stsf_halo(params: object, resolution: float | None) -> int:
    """The halo in coarse (HS) pixels of the block-wise classical STSF methods."""
    return CUBIC_HALO


CNMF_HALO = 16
"""HS pixels on each side of a streamed CNMF block that are factorised with it and dropped: the
abundances near a block's edge then see the same neighbourhood as in a whole-image run."""


def cnmf_halo(params: object, resolution: float | None) -> int:
    """The halo in coarse (HS) pixels of streamed CNMF blocks."""
    return CNMF_HALO


def cascade_halo(params: object, resolution: float | None) -> int:
    """The halo in coarse (HS) pixels of the cascade: CNMF's with the CNMF fuser, else cubic's."""
    return CNMF_HALO if getattr(params, "fuser", "gsa") == "cnmf" else CUBIC_HALO


def dcstsf_halo(params: object, resolution: float | None) -> int:
    """The halo in coarse (HS) pixels of DC-STSF's blocks: GSA's, plus the network's context (4 HS
    pixels per SSJE stage and 2 for TVE: its convolutions and projections see past a block's edge,
    and the halo's output is dropped). With it, blocks equal the whole-image run to float32 rounding."""
    return CUBIC_HALO + 4 * int(getattr(params, "stages", 3)) + 2

DCSTSF_STARTS = ("auto", "gsa", "bicubic")


@dataclass(frozen=True)
class BicubicParams:
    """`bicubic`: the coarse HS image upsampled by cubic convolution (Keys 1981, a = -0.5); no parameters."""


@dataclass(frozen=True)
class GsaParams:
    """`gsa`: Gram-Schmidt adaptive hypersharpening (Aiazzi et al. 2007; Selva et al. 2015).

    ``psf_fwhm``: FWHM in fine pixels of the Gaussian PSF that degrades MS to the HS grid
    (default: the ratio, as in the simulator).
    """

    psf_fwhm: float | None = None


@dataclass(frozen=True)
class CnmfParams:
    """`cnmf`: coupled non-negative matrix factorisation (Yokoya, Yairi & Iwasaki 2012).

    ``endmembers``: number of endmembers (VCA initialisation); ``inner``: multiplicative-update
    iterations per unmixing step (``init_inner`` for the first HS and MS steps); ``outer``: coupled
    iterations at most, stopping when the relative change of both residuals is below ``tol``;
    ``delta``: weight of the sum-to-one row; ``psf_fwhm`` as for `gsa`.
    """

    endmembers: int = 20
    init_inner: int = 200
    inner: int = 100
    outer: int = 5
    tol: float = 1e-2
    delta: float = 0.15
    psf_fwhm: float | None = None
    seed: int = 0


@dataclass(frozen=True)
class CascadeParams:
    """`cascade`: fuse at t1 with ``fuser`` ("gsa" or "cnmf", default parameters), then add the
    MS change regressed onto the HS bands (least squares with an intercept on the HS grid)."""

    fuser: str = "gsa"
    psf_fwhm: float | None = None


@dataclass(frozen=True)
class DcstsfParams(DeepParams):
    """`dcstsf`: DC-STSF (Meng et al. 2025) as documented in docs/methods/stsf.md.

    ``stages`` K of alternating projection; ``width`` feature channels; ``blocks`` residual blocks
    per unit; ``seu`` / ``ecu`` / ``sftn`` / ``insertion`` switch the units and the difference-image insertion (ablation); ``lambda_t1``, ``lambda_sam``,
    ``lambda_ms``: weights of the t1 L1 loss, the t2 SAM loss and the MS-consistency loss;
    ``psf_fwhm`` as for `gsa`.

    ``start``: the SSJE start, ``"gsa"`` (the network learns a correction of the GSA fusion),
    ``"bicubic"`` (the paper), or ``"auto"`` (default: train from both and average them, unless
    one is clearly worse on validation). ``fallback``: with ``fit=True`` the network competes on a
    held-out strip of Wald's reduced-scale pair with the classical estimate (GSA at t1, cascade at
    t2); ``"classical"`` (default) returns the classical estimate when it is clearly better, the
    network when it is clearly better at t1, and otherwise the average of the two (at t2 the
    held-out truth is simulated, so the network is never returned alone); ``"none"`` always
    returns the network's. Either way a one-line report says which is returned.
    """

    steps: int = 300
    batch: int = 4
    patch: int = 24
    lr: float = 1e-3
    val_every: int = 50
    patience: int = 6
    stages: int = 3
    width: int = 32
    blocks: int = 2
    seu: bool = True
    ecu: bool = True
    sftn: bool = True
    insertion: bool = True
    lambda_t1: float = 0.5
    lambda_sam: float = 0.1
    lambda_ms: float = 0.1
    psf_fwhm: float | None = None
    start: str = "auto"
    fallback: str = "classical"

    FALLBACKS: ClassVar[tuple[str, ...]] = ("classical", "none")
