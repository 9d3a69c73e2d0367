"""results.csv and results.json: one row per method x data set x band.

Per-band metrics (RMSE, MAE, bias, CC, PSNR, SSIM, UIQI, APA's EDGE and LBP) hold that band's
value; the image-wide ones (SAM in degrees, RASE, ERGAS with the row's ``h_over_l``, Q2n)
repeat on every band row of a run. A failed run has one row with band "-" and its error.
``variant_of`` names the method of a variant run (its ``method`` is the variant's label);
``region_rmse`` is a JSON object of the RMSE in the set's named regions (the STSF change patch).
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any, Sequence

from ..metrics.evaluate import GLOBAL, PER_BAND
from .atomic import write_text

ID_COLUMNS = ("dataset", "kind", "method", "family", "pairs", "band", "h_over_l", "data_range", "n_valid")
RUN_COLUMNS = ("seconds", "peak_mb", "status", "error", "cached", "params", "variant_of", "region_rmse", "stfusion",
               "numpy", "torch", "key")
COLUMNS = ID_COLUMNS + PER_BAND + GLOBAL + RUN_COLUMNS


def _number(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def band_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of one run record."""
    common = {k: record.get(k) for k in ID_COLUMNS if k not in ("band", "n_valid")}
    common.update(n_valid=record.get("n_valid"), seconds=record.get("seconds"), peak_mb=record.get("peak_mb"),
                  status=record["status"], error=record.get("error", ""), cached=record.get("cached", False),
                  params=json.dumps(record.get("params", {}), sort_keys=True), variant_of=record.get("variant_of"),
                  region_rmse=json.dumps(record["region_rmse"], sort_keys=True) if record.get("region_rmse") else "",
                  key=record.get("key", ""))
    versions = record.get("versions", {})
    common.update({k: versions.get(k, "") for k in ("stfusion", "numpy", "torch")})
    if record["status"] != "ok":
        return [{**common, "band": "-"}]
    values, per_band = record["values"], record["per_band"]
    rows = []
    for i, band in enumerate(record["bands"]):
        row = {**common, "band": band}
        row.update({m: per_band[m][i] for m in PER_BAND if m in per_band})
        row.update({m: values.get(m) for m in GLOBAL})
        rows.append(row)
    return rows


def all_rows(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for r in records for row in band_rows(r)]


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in COLUMNS})
    return buf.getvalue()


def to_json(rows: Sequence[dict[str, Any]], meta: dict[str, Any]) -> str:
    clean = [{k: _number(row.get(k)) for k in COLUMNS} for row in rows]
    return json.dumps({"meta": meta, "columns": list(COLUMNS), "rows": clean}, indent=1) + "\n"


def write_results(folder: Path, records: Sequence[dict[str, Any]], meta: dict[str, Any]) -> None:
    """Write ``results.csv`` and ``results.json`` into ``folder``."""
    rows = all_rows(records)
    write_text(folder / "results.csv", to_csv(rows))
    write_text(folder / "results.json", to_json(rows, meta))
