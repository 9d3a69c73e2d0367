"""Checkpoints: the weights plus a JSON card, written atomically and loaded with ``weights_only=True``.

The card records what the network was built with (method and builder arguments), what it was
trained on (bands, stored-value scale, coarse/fine ratio, the scenes and dates, the mean fine
reflectance per band), the training settings, the validation result and the package versions.
It is saved inside the checkpoint and beside it as ``CKPT.json``. `check_fits` refuses an input
whose bands, ratio or value scale do not fit the card.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import torch

from stfusion.core.atomic import atomic_write
from stfusion.core.errors import CheckpointError

from .base import TrainableNet

RATIO_TOLERANCE = 0.25
SCALE_TOLERANCE = 10.0


def save_checkpoint(net: TrainableNet, card: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``net``'s weights and ``card`` to ``path`` (and the card to ``path.json``), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # through JSON, so that the card holds only plain types (weights_only loading refuses others)
    card = json.loads(json.dumps({"method": net.name, "config": net.config, **card}, default=str))
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    side = path.with_name(path.name + ".json")
    for target, write in ((path, lambda f: torch.save({"state_dict": state, "card": card}, f)),
                          (side, lambda f: f.write(json.dumps(card, indent=2).encode()))):
        with atomic_write(target) as f:
            write(f)
    return path


def load_checkpoint(path: str | os.PathLike[str], builders: Mapping[str, Callable[..., TrainableNet]],
                    method: str | None = None) -> tuple[TrainableNet, dict[str, Any]]:
    """The network and card saved at ``path``; ``method`` (if given) must be the one it holds."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; train one with `stfusion train METHOD --out {path}`")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        card, state = blob["card"], blob["state_dict"]
    except Exception as exc:  # torch raises many types for truncated or foreign files
        raise CheckpointError(f"checkpoint {path} is not a readable stfusion checkpoint ({type(exc).__name__}); "
                              "retrain it or give the file `stfusion train` wrote") from None
    name = card.get("method")
    if method is not None and name != method:
        raise CheckpointError(f"checkpoint {path} holds a {name} network, not {method}; use `stfusion predict {name}`")
    if name not in builders:
        raise CheckpointError(f"checkpoint {path} holds an unknown network {name!r}")
    net = builders[name](**card["config"])
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(f"checkpoint {path}: weights do not fit the {name} network ({str(exc).splitlines()[0]})") from None
    net.eval()
    return net, card


def check_fits(card: Mapping[str, Any], *, bands: tuple[str, ...] | None, n_bands: int, ratio: float | None,
               fine_mean: np.ndarray | None, where: str) -> None:
    """`CheckpointError` when the input's bands, coarse/fine ratio or reflectance scale do not fit the card."""
    if card["config"].get("bands") != n_bands:
        raise CheckpointError(f"{where}: the checkpoint was trained on {card['config'].get('bands')} bands but the "
                              f"input has {n_bands}; give the bands it was trained on ({', '.join(card.get('bands') or [])})")
    trained = card.get("bands")
    if trained and bands and tuple(trained) != tuple(bands):
        raise CheckpointError(f"{where}: the checkpoint's bands are {', '.join(trained)} but the input's are "
                              f"{', '.join(bands)}; reorder or select the input bands to match")
    r0 = card.get("ratio")
    if r0 and ratio and abs(ratio - r0) > RATIO_TOLERANCE * r0:
        raise CheckpointError(f"{where}: the checkpoint was trained at coarse/fine ratio {r0:g} but the input's is "
                              f"{ratio:g}; train a checkpoint for this ratio (`stfusion train`) or use fit=True")
    m0 = card.get("fine_mean")
    if m0 and fine_mean is not None:
        a, b = float(np.mean(m0)), float(np.mean(fine_mean))
        if a > 0 and b > 0 and not 1 / SCALE_TOLERANCE <= b / a <= SCALE_TOLERANCE:
            raise CheckpointError(f"{where}: the input's mean reflectance {b:.4g} is far from the training data's "
                                  f"{a:.4g}, so its scale differs; give reflectance in the same units "
                                  "(e.g. integers x 1e-4 read with their scale)")
