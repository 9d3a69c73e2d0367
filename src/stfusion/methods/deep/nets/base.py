"""The interface every deep STF network implements, and the training batch.

All tensors are (N, C, H, W) float reflectance on the fine grid: coarse images are given
already resampled onto it (as the CIA/LGC distributions ship MODIS), so one network runs on
any coarse/fine ratio. A network that works at lower internal resolutions states the multiple
its input sides must have (`FusionNet.multiple`); the tiler pads to it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn


@dataclass
class Batch:
    """One training batch: the target-date coarse image and fine truth, the references, a mask.

    ``mask`` is (N, 1, H, W), 1 where every input and the truth are valid.
    """

    coarse: Tensor
    fine: Tensor
    fine_refs: list[Tensor]
    coarse_refs: list[Tensor]
    mask: Tensor

    def to(self, device: torch.device | str) -> "Batch":
        return Batch(self.coarse.to(device), self.fine.to(device), [t.to(device) for t in self.fine_refs],
                     [t.to(device) for t in self.coarse_refs], self.mask.to(device))


def masked_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared error over the valid pixels (``mask`` (N, 1, H, W) of 0/1)."""
    w = mask.expand_as(pred)
    return ((pred - target) ** 2 * w).sum() / w.sum().clamp_min(1.0)


@dataclass
class NetInfo:
    """What the tiler, the sampler and the checkpoint need to know about a network.

    ``refs``: numbers of references the network accepts; ``coarse_refs``: whether it uses the
    coarse images of the reference dates; ``halo``: fine pixels of context a prediction needs
    on each side (tiles overlap by twice this); ``multiple``: input sides must be multiples of it.
    """

    refs: tuple[int, ...] = (1,)
    coarse_refs: bool = True
    halo: int = 16
    multiple: int = 1
    random_reference: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class TrainableNet(nn.Module, ABC):
    """What the training loop (`fit.train_loop`) and checkpoints need of a network: ``name``,
    ``config`` (the builder's keyword arguments, so a checkpoint can rebuild it), `loss`,
    `optimisers` and `training_step`."""

    name = "net"

    def __init__(self, **config: Any) -> None:
        super().__init__()
        self.config = dict(config)

    @abstractmethod
    def loss(self, batch: Any) -> tuple[Tensor, dict[str, float]]:
        """The training loss on ``batch`` and its named parts (floats, for the log)."""

    def optimisers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        """The optimisers `training_step` uses; "net" is the one the learning-rate schedule follows."""
        return {"net": torch.optim.Adam(self.fusion_parameters(), lr=lr, weight_decay=1e-6)}

    def training_step(self, batch: Any, opts: dict[str, torch.optim.Optimizer], precision: "Precision") -> dict[str, float]:
        """One optimiser step on ``batch``; returns the named loss parts."""
        opt = opts["net"]
        opt.zero_grad(set_to_none=True)
        with precision.autocast():
            loss, parts = self.loss(batch)
        precision.step(loss, opt)
        return parts

    def fusion_parameters(self) -> list[nn.Parameter]:
        """The parameters the main optimiser trains (frozen loss networks and discriminators excluded)."""
        skip = {id(p) for m in self.frozen_modules() for p in m.parameters()}
        return [p for p in self.parameters() if id(p) not in skip and p.requires_grad]

    def frozen_modules(self) -> list[nn.Module]:
        """Sub-modules not trained by the main optimiser (loss networks, discriminators)."""
        return []


class FusionNet(TrainableNet):
    """Base class of the STF networks: ``forward(coarse, fine_refs, coarse_refs) -> fine prediction``.

    Subclasses implement ``forward``, set ``info`` and ``config``, and may override `loss` (default: masked MSE of
    one-reference predictions) and `pretrain` (for a frozen feature network trained before the
    fusion net).
    """

    info = NetInfo()

    def loss(self, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        """The training loss on ``batch`` and its named parts (floats, for the log)."""
        pred = self(batch.coarse, batch.fine_refs, batch.coarse_refs)
        mse = masked_mse(pred, batch.fine, batch.mask)
        return mse, {"mse": float(mse.detach())}

    def pretrain(self, sample: Any, steps: int, *, seed: int, progress: bool) -> None:
        """Train what the loss needs before the fusion net (nothing by default).

        ``sample(batch_size)`` returns fine patches (N, C, P, P) and masks (N, 1, P, P).
        """


class Precision:
    """Mixed precision on CUDA (float16 autocast with gradient scaling), plain float32 elsewhere."""

    def __init__(self, device: torch.device) -> None:
        self.enabled = device.type == "cuda"
        self.device_type = device.type
        self.scaler = torch.amp.GradScaler("cuda") if self.enabled else None

    def autocast(self) -> Any:
        return torch.autocast(self.device_type, dtype=torch.float16, enabled=self.enabled)

    def step(self, loss: Tensor, opt: torch.optim.Optimizer) -> None:
        if self.scaler is None:
            loss.backward()
            opt.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(opt)
            self.scaler.update()


def n_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
