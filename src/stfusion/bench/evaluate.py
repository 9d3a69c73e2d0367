"""Evaluate a prediction file against a truth file, optionally writing JSON and the APA diagram."""

from __future__ import annotations

import json
from pathlib import Path

from ..core.errors import OutputExistsError
from ..io import read_scene
from ..metrics import EvaluationReport, apa, apa_diagram, evaluate
from .atomic import write_text


def evaluate_files(
    truth: str | Path,
    pred: str | Path,
    *,
    ratio: float,
    data_range: float = 1.0,
    json_out: str | Path | None = None,
    apa_out: str | Path | None = None,
    overwrite: bool = False,
) -> EvaluationReport:
    """Read both rasters, compute every metric over the pixels valid in both, write the requested outputs."""
    for path in (json_out, apa_out):
        if path is not None and Path(path).exists() and not overwrite:
            raise OutputExistsError(f"output {path} exists; pass overwrite=True to replace it")
    t = read_scene(truth)
    p = read_scene(pred)
    report = evaluate(t, p, ratio=ratio, data_range=data_range)
    if json_out is not None:
        doc = {"truth": str(truth), "pred": str(pred), **report.to_dict()}
        write_text(json_out, json.dumps(doc, indent=2) + "\n")
    if apa_out is not None:
        apa_diagram({Path(pred).stem: apa(t.data, p.data, mask=t.mask & p.mask)}, apa_out)
    return report
