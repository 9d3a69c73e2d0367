"""Run a registered method by name on a task held in memory."""

from __future__ import annotations

from typing import Any, Sequence

from .errors import InvalidParameterError, ShapeMismatchError, UnknownParameterError
from .registry import MethodSpec, get_spec, list_methods
from .scene import Scene
from .task import FusionTask, Pair, STSFTask


def _check_kind(spec: MethodSpec, kind: str) -> None:
    if spec.task != kind:
        others = ", ".join(s.name for s in list_methods(kind))
        how = "stfusion stsf / predict_stsf" if spec.task == "stsf" else "stfusion predict / predict"
        raise UnknownParameterError(
            f"{spec.name} is an {spec.task.upper()} method (run it with {how}); {kind.upper()} methods: {others}"
        )


def check_pairs(spec: MethodSpec, task: FusionTask) -> None:
    """`ShapeMismatchError` unless ``task`` has as many pairs as the method takes."""
    n = len(task.pairs)
    if n < spec.min_pairs or (spec.max_pairs is not None and n > spec.max_pairs):
        raise ShapeMismatchError(f"{spec.name} takes {spec.pairs_text()} pair(s), got {n}; add or remove pairs")


def check_classes(spec: MethodSpec, classes: Any) -> None:
    """`InvalidParameterError` when a class map is given to a method that takes none."""
    if classes is not None and not spec.takes_classes:
        takers = ", ".join(s.name for s in list_methods() if s.takes_classes)
        raise InvalidParameterError(f"{spec.name} takes no class map; drop classes=MAP, or use one of: {takers}")


def predict(method: str, task: FusionTask, *, classes: Any = None, **params: Any) -> Scene:
    """Predict the fine image at ``task.target``'s date with method ``method`` and ``params``.

    ``classes`` is a (rows, cols) integer class map on the fine grid, for the methods that take
    one (`MethodSpec.takes_classes`). Example: ``predict("delta", task, power=0)``.
    """
    spec = get_spec(method)
    _check_kind(spec, "stf")
    p = spec.make_params(params)
    check_pairs(spec, task)
    check_classes(spec, classes)
    if classes is None:
        return spec.load().predict(task, p)
    return spec.load().predict(task, p, classes=classes)


def predict_stsf(method: str, task: STSFTask, **params: Any) -> Scene:
    """The fine HS image at ``task.ms_target``'s date (at ``task.ms``'s without one) with STSF method ``method``.

    Example: ``predict_stsf("cascade", task, fuser="cnmf")``.
    """
    spec = get_spec(method)
    _check_kind(spec, "stsf")
    if not isinstance(task, STSFTask):
        raise InvalidParameterError(f"{spec.name} needs an STSFTask(hs, ms, ms_target), got {type(task).__name__}")
    return spec.load().predict(task, spec.make_params(params))


def predict_series(
    method: str, pairs: Sequence[Pair], targets: Sequence[Scene], *, ratio: float | None = None,
    classes: Any = None, **params: Any,
) -> list[Scene]:
    """One prediction per target coarse image from the same ``pairs``, in order.

    Methods whose module has ``predict_series(tasks, params, classes)`` compute what depends on
    the pairs only once (STARFM's statistics, ESTARFM's thresholds, the UBDF and FSDAF classes);
    each result equals `predict` on that target alone. Others run `predict` per target.
    """
    if not targets:
        raise ShapeMismatchError(f"{method}: give at least one target coarse image")
    spec = get_spec(method)
    p = spec.make_params(params)
    tasks = [FusionTask(pairs, t, ratio=ratio) for t in targets]
    check_pairs(spec, tasks[0])
    check_classes(spec, classes)
    module = spec.load()
    if hasattr(module, "predict_series"):
        return module.predict_series(tasks, p, classes)
    if classes is None:
        return [module.predict(t, p) for t in tasks]
    return [module.predict(t, p, classes=classes) for t in tasks]
