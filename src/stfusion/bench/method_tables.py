"""The deep-network and STSF tables of the method pages, written from bench records
(``stfusion bench --write-docs``; markers as in `stfusion.bench.docs_tables`):

- ``deep-accuracy`` (docs/methods/deep.md): on the real STF sets the deep networks were fitted
  on, every network and variant next to delta, STARFM and FSDAF from the same bench.
- ``stsf-accuracy`` (docs/methods/stsf.md): per cube, every STSF method at t1 and t2 with PSNR,
  RMSE, SAM, ERGAS, SSIM, CC, Q2n and the RMSE in the abrupt-change patch.
- ``stsf-ablation``: the DC-STSF variants at t2; ``stsf-verdict``: DC-STSF against the best
  other method at t2, on RMSE and SAM.
"""

from __future__ import annotations

from typing import Any, Sequence

from .datasets import REAL_STF, REAL_STSF

CLASSICAL = ("delta", "starfm", "fsdaf")
DEEP_FAMILY = "deep"
STSF_COLUMNS = "PSNR | RMSE | SAM (deg) | ERGAS | SSIM | CC | Q2n | RMSE in patch | time (s) |"


def _ok(records: Sequence[dict[str, Any]], dataset: str) -> list[dict[str, Any]]:
    return [r for r in records if r["dataset"] == dataset and r["status"] == "ok"]


def _seconds(r: dict[str, Any], fmt: str = ".1f") -> str:
    return "" if r.get("seconds") is None else format(r["seconds"], fmt)


def deep_table(records: Sequence[dict[str, Any]]) -> str:
    """Per real STF set with a deep run: delta, STARFM, FSDAF, then the networks and their variants."""
    lines = ["| set | pairs | method | RMSE | SSIM | SAM (deg) | ERGAS | RMSE vs delta | time (s) |", "|" + "---|" * 9]
    for name in REAL_STF:
        runs = _ok(records, name)
        deep = [r for r in runs if r["family"] == DEEP_FAMILY]
        if not deep:
            continue
        classical = sorted((r for r in runs if r["method"] in CLASSICAL), key=lambda r: CLASSICAL.index(r["method"]))
        delta = next((r["values"]["rmse"] for r in classical if r["method"] == "delta"), None)
        for r in classical + sorted(deep, key=lambda r: r.get("variant_of") is not None):
            v = r["values"]
            if r["method"] == "delta" or delta is None:
                verdict = "baseline" if r["method"] == "delta" else ""
            else:
                change = (v["rmse"] - delta) / delta
                verdict = f"{100 * change:+.1f} %" + (" (loses to delta)" if change > 0 else "")
            lines.append(f"| {name} | {r['pairs']} | {r['method']} | {v['rmse']:.4f} | {v['ssim']:.4f} | "
                         f"{v['sam']:.3f} | {v['ergas']:.3f} | {verdict} | {_seconds(r)} |")
    return "\n".join(lines)


def _cubes(records: Sequence[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(cube label, t1 set, t2 set) of the STSF cubes with runs."""
    seen = {r["dataset"] for r in records}
    return [(t2.removeprefix("stsf_"), f"{t2}_t1", t2) for t2 in REAL_STSF if not t2.endswith("_t1")
            and (t2 in seen or f"{t2}_t1" in seen)]


def _stsf_cells(r: dict[str, Any]) -> str:
    v, patch = r["values"], (r.get("region_rmse") or {}).get("patch")
    return (f"{v['psnr']:.2f} | {v['rmse']:.4f} | {v['sam']:.3f} | {v['ergas']:.3f} | {v['ssim']:.4f} | "
            f"{v['cc']:.4f} | {v['q2n']:.4f} | {'' if patch is None else f'{patch:.4f}'} | {_seconds(r, '.0f')}")


def stsf_table(records: Sequence[dict[str, Any]]) -> str:
    """Per cube and STSF method (variants aside): the t1 and the t2 row."""
    lines = [f"| cube | date | method | {STSF_COLUMNS}", "|" + "---|" * 12]
    for cube, t1, t2 in _cubes(records):
        runs = {when: {r["method"]: r for r in _ok(records, name) if r.get("variant_of") is None}
                for when, name in (("t1", t1), ("t2", t2))}
        for method in dict.fromkeys([*runs["t1"], *runs["t2"]]):
            for when in ("t1", "t2"):
                if method in runs[when]:
                    lines.append(f"| {cube} | {when} | {method} | {_stsf_cells(runs[when][method])} |")
    return "\n".join(lines)


def stsf_ablation_table(records: Sequence[dict[str, Any]]) -> str:
    """Per cube at t2: DC-STSF with its defaults, then each of its variants."""
    lines = [f"| cube | variant (t2) | {STSF_COLUMNS}", "|" + "---|" * 11]
    for cube, _, t2 in _cubes(records):
        runs = [r for r in _ok(records, t2) if "dcstsf" in (r["method"], r.get("variant_of"))]
        for r in sorted(runs, key=lambda r: r.get("variant_of") is not None):
            label = "dcstsf (defaults)" if r.get("variant_of") is None else r["method"]
            lines.append(f"| {cube} | {label} | {_stsf_cells(r)} |")
    return "\n".join(lines)


def stsf_verdict(records: Sequence[dict[str, Any]]) -> str:
    """One line per cube and metric (RMSE, SAM): DC-STSF at t2 against the best other method."""
    lines = []
    for cube, _, t2 in _cubes(records):
        runs = {r["method"]: r for r in _ok(records, t2) if r.get("variant_of") is None}
        others = [m for m in runs if m != "dcstsf"]
        if "dcstsf" not in runs or not others:
            continue
        for key in ("rmse", "sam"):
            best = min(others, key=lambda m: runs[m]["values"][key])
            mine, theirs = runs["dcstsf"]["values"][key], runs[best]["values"][key]
            lines.append(f"- {cube}, t2 {key.upper()}: DC-STSF {mine:.4f} vs best other method {best} {theirs:.4f}: "
                         + ("beats every other method" if mine < theirs else "does NOT beat every other method"))
    return "\n".join(lines)


TABLES = {"deep-accuracy": deep_table, "stsf-accuracy": stsf_table, "stsf-ablation": stsf_ablation_table,
          "stsf-verdict": stsf_verdict}
