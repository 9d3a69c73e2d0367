"""Parameters of the deep STF networks (STFDCNN, DCSTFN, EDCSTFN, GAN-STFM).

A deep method predicts either from a trained checkpoint (``checkpoint``, written by
``stfusion train``) or after training on the task's own pairs (``fit=True``, the CLI's
``--fit``). The training settings are the small CPU configuration: 64-pixel patches and a few
hundred steps, so a network trains in minutes on 2 cores; raise ``steps``, ``patch`` and
``batch`` on a GPU (``device="cuda"`` also turns on mixed precision). The papers' own budgets
(hundreds of epochs of 256-pixel patches) are listed in docs/methods/deep.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import InvalidParameterError, UnknownParameterError


@dataclass(frozen=True)
class DeepParams:
    """Settings shared by the deep methods.

    - ``checkpoint``: path of a checkpoint from ``stfusion train``; None with ``fit=True``.
    - ``fit``: train on the task's pairs (two or more: learn from one pair to another) first.
    - ``steps``, ``batch``, ``patch``, ``lr``: optimiser steps, patches per step, patch size in
      fine pixels, Adam learning rate.
    - ``pretrain_steps``: steps of the feature autoencoder that the perceptual losses use
      (EDCSTFN, GAN-STFM), trained on the same fine images; 0 for the others.
    - ``val_every``, ``patience``: validation interval in steps and early-stopping patience in
      validations; the best weights by validation MSE are kept.
    - ``seed``: seeds the weights, the patches and the augmentations.
    - ``device``: "cpu", "cuda" or "cuda:N"; mixed precision (bfloat16/float16 autocast) on CUDA only.
    - ``tile``, ``blend``: inference tile size and blending ramp, in fine pixels; tiles overlap
      by twice the network's halo plus ``blend``.
    - ``refs``: references used at prediction: 0 = all the task's pairs the network takes.
    - ``fallback``: with ``fit=True`` the network's validation MSE is compared with the delta
      baseline's on the same held-out data; when the network loses, ``"delta"`` (default)
      returns the delta baseline's prediction and ``"none"`` the network's. A one-line report
      says which.
    """

    FALLBACKS: ClassVar[tuple[str, ...]] = ("delta", "none")

    checkpoint: str | None = None
    fit: bool = False
    steps: int = 400
    batch: int = 8
    patch: int = 64
    lr: float = 1e-3
    pretrain_steps: int = 0
    val_every: int = 50
    patience: int = 4
    seed: int = 0
    device: str = "cpu"
    tile: int = 512
    blend: int = 16
    refs: int = 0
    fallback: str = "delta"

    def __post_init__(self) -> None:
        if self.fallback not in self.FALLBACKS:
            raise UnknownParameterError(f"fallback={self.fallback!r} is unknown; use one of: {', '.join(self.FALLBACKS)}")
        for key in ("steps", "batch", "patch", "tile"):
            if getattr(self, key) < 1:
                raise InvalidParameterError(f"{key}={getattr(self, key)} must be a positive integer")
        for key in ("pretrain_steps", "blend", "refs"):
            if getattr(self, key) < 0:
                raise InvalidParameterError(f"{key}={getattr(self, key)} must be >= 0")
        if self.patch < 16:
            raise InvalidParameterError(f"patch={self.patch} is too small; give patch=32 or more")
        if not self.lr > 0:
            raise InvalidParameterError(f"lr={self.lr} must be > 0")
        if self.val_every < 1 or self.patience < 1:
            raise InvalidParameterError("val_every and patience must be positive integers")
        if not (self.device == "cpu" or self.device.startswith("cuda") or self.device == "mps"):
            raise UnknownParameterError(f"device={self.device!r}; give cpu, cuda or cuda:N")

    def training(self) -> dict[str, Any]:
        """The training settings, for the checkpoint card."""
        return {k: getattr(self, k) for k in ("steps", "batch", "patch", "lr", "pretrain_steps",
                                              "val_every", "patience", "seed")}


@dataclass(frozen=True)
class StfdcnnParams(DeepParams):
    """STFDCNN (Song et al. 2018): ``lsr_factor`` is the block size of the low-spatial-resolution
    fine image between the two stages (None = half the coarse/fine ratio, rounded); SGD is
    replaced by Adam at ``lr`` (see docs/methods/deep.md)."""

    lsr_factor: int | None = None


@dataclass(frozen=True)
class DcstfnParams(DeepParams):
    """DCSTFN (Tan et al. 2018): Adam 1e-3 as in the paper's code; 4 patches of 64 pixels per
    step and 300 steps by default (its per-band networks are the slowest per patch on a CPU)."""

    steps: int = 300
    batch: int = 4


@dataclass(frozen=True)
class EdcstfnParams(DeepParams):
    """EDCSTFN (Tan et al. 2019): ``alpha`` weighs the MS-SSIM term of the compound loss (0.8 in
    the official code); ``pretrain_steps`` trains the frozen feature encoder of the loss."""

    alpha: float = 0.8
    pretrain_steps: int = 150


@dataclass(frozen=True)
class GanstfmParams(DeepParams):
    """GAN-STFM (Tan et al. 2022): Adam 2e-4 for generator and discriminator, adversarial weight
    ``adv_weight`` = 1e-3; the reference fine image is drawn from any other date. Its generator
    runs at full resolution, so the CPU default is 200 steps of 4 patches."""

    lr: float = 2e-4
    adv_weight: float = 1e-3
    pretrain_steps: int = 150
    steps: int = 200
    batch: int = 4
