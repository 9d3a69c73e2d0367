"""Run a registered method by name on a task held in memory."""

from __future__ import annotations

from typing import Any

from .errors import ShapeMismatchError
from .registry import get_spec
from .scene import Scene
from .task import FusionTask


def predict(method: str, task: FusionTask, **params: Any) -> Scene:
    """Predict the fine image at ``task.target``'s date with method ``method`` and ``params``.

    Example: ``predict("delta", task, power=0)``.
    """
    spec = get_spec(method)
    p = spec.make_params(params)
    n = len(task.pairs)
    if n < spec.min_pairs or (spec.max_pairs is not None and n > spec.max_pairs):
        raise ShapeMismatchError(f"{spec.name} takes {spec.pairs_text()} pair(s), got {n}; adjust --pair")
    return spec.load().predict(task, p)
