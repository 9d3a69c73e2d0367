"""Accuracy of the STSF methods on the Samson and Jasper Ridge cubes; the second date is SIMULATED.

Each cube gives an experiment with `stfusion.data.stsf_sim.simulate_stsf` (defaults: ratio 3,
Gaussian PSF of FWHM 3 then decimation, the Sentinel-2 10 m bands B2/B3/B4/B8 from pyrsr's
measured responses, the per-class + illumination + abrupt-patch change model, seed 0). Every
baseline runs with its defaults at t1 (HS t1 + MS t1 -> HS t1) and at t2 (+ MS t2 -> HS t2);
DC-STSF is trained once per cube on the task itself by Wald's reduced-scale protocol (`--fit`,
seed 0; it never sees the truth) and predicts both dates. Metrics: PSNR (L = 1), RMSE, SAM
(degrees), ERGAS (h/l = 1/3), SSIM, CC, Q2n, and the RMSE inside the abrupt-change patch. The
ablation retrains DC-STSF without SEU, without ECU, without SFTN, without the difference-image
insertion, and with K = 1 stage. Prints Markdown tables; ``--write`` fills docs/methods/stsf.md.

    python benchmarks/stsf_accuracy.py [--cubes hs_samson hs_jasper] [--no-ablation] [--write docs/methods/stsf.md]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from stfusion.bench.atomic import write_text
from stfusion.core import predict_stsf
from stfusion.core.registry import get_spec
from stfusion.data import data_root, load_dataset
from stfusion.data.stsf_sim import simulate_stsf
from stfusion.metrics import evaluate

CUBES = ("hs_samson", "hs_jasper")
BASELINES = ("bicubic", "gsa", "cnmf", "cascade")
COLUMNS = ("psnr", "rmse", "sam", "ergas", "ssim", "cc", "q2n")
ABLATIONS = {"DC-STSF (K = 3)": {}, "without SEU": {"seu": False}, "without ECU": {"ecu": False},
             "without SFTN": {"sftn": False}, "without insertion": {"insertion": False}, "K = 1": {"stages": 1}}


def _score(truth, pred, patch: np.ndarray) -> dict[str, float]:
    values = dict(evaluate(truth, pred, ratio=1 / 3, metrics=COLUMNS, data_range=1.0).values)
    diff = np.asarray(pred.data, np.float64)[:, patch] - np.asarray(truth.data, np.float64)[:, patch]
    values["patch_rmse"] = float(np.sqrt(np.mean(diff**2)))
    return values


def _dcstsf(sim, over: dict, name: str) -> tuple[dict, dict, float]:
    from stfusion.methods.deep.stsf_run import train

    start = time.perf_counter()
    path = Path(f"/tmp/stfusion-dcstsf-{name}-{'-'.join(f'{k}{v}' for k, v in over.items()) or 'default'}.pt")
    card = train(sim.task, get_spec("dcstsf").make_params(over), path, progress=False)
    seconds = time.perf_counter() - start
    t1 = _score(sim.t1, predict_stsf("dcstsf", sim.task_t1, checkpoint=str(path)), sim.patch)
    t2 = _score(sim.t2, predict_stsf("dcstsf", sim.task, checkpoint=str(path)), sim.patch)
    v = card["validation"]
    print(f"  dcstsf {over or 'default'}: {seconds:.0f} s, {v['steps_run']} steps, best at {v['best_step']}", flush=True)
    return t1, t2, seconds


def run(name: str, ablation: bool) -> tuple[list[dict], list[dict]]:
    sim = simulate_stsf(load_dataset(name, data_root()))
    rows, ablations = [], []
    for method in BASELINES:
        start = time.perf_counter()
        for when, task, truth in (("t1", sim.task_t1, sim.t1), ("t2", sim.task, sim.t2)):
            rows.append({"cube": name, "date": when, "method": method,
                         **_score(truth, predict_stsf(method, task), sim.patch),
                         "seconds": time.perf_counter() - start})
        print(f"  {name} {method} done", flush=True)
    for label, over in ABLATIONS.items() if ablation else [("DC-STSF (K = 3)", {})]:
        t1, t2, seconds = _dcstsf(sim, over, name)
        if not over:
            rows += [{"cube": name, "date": "t1", "method": "dcstsf", **t1, "seconds": seconds},
                     {"cube": name, "date": "t2", "method": "dcstsf", **t2, "seconds": seconds}]
        ablations.append({"cube": name, "variant": label, **t2, "seconds": seconds})
    return rows, ablations


def _fmt(r: dict) -> str:
    return (f"{r['psnr']:.2f} | {r['rmse']:.4f} | {r['sam']:.3f} | {r['ergas']:.3f} | {r['ssim']:.4f} | "
            f"{r['cc']:.4f} | {r['q2n']:.4f} | {r['patch_rmse']:.4f} | {r['seconds']:.0f}")


HEAD = "PSNR | RMSE | SAM (deg) | ERGAS | SSIM | CC | Q2n | RMSE in patch | time (s) |"


def tables(rows: list[dict], ablations: list[dict]) -> tuple[str, str]:
    main = [f"| cube | date | method | {HEAD}", "|" + "---|" * 13]
    main += [f"| {r['cube'].removeprefix('hs_')} | {r['date']} | {r['method']} | {_fmt(r)} |" for r in rows]
    abl = [f"| cube | variant (t2) | {HEAD}", "|" + "---|" * 12]
    abl += [f"| {r['cube'].removeprefix('hs_')} | {r['variant']} | {_fmt(r)} |" for r in ablations]
    return "\n".join(main), "\n".join(abl)


def verdicts(rows: list[dict]) -> str:
    lines = []
    for cube in sorted({r["cube"] for r in rows}):
        t2 = {r["method"]: r for r in rows if r["cube"] == cube and r["date"] == "t2"}
        best = {k: min((m for m in BASELINES), key=lambda m: t2[m][k]) for k in ("rmse", "sam")}
        for k in ("rmse", "sam"):
            ok = t2["dcstsf"][k] < t2[best[k]][k]
            lines.append(f"- {cube.removeprefix('hs_')}, t2 {k.upper()}: DC-STSF {t2['dcstsf'][k]:.4f} vs best baseline "
                         f"{best[k]} {t2[best[k]][k]:.4f}: {'beats every baseline' if ok else 'does NOT beat every baseline'}")
    return "\n".join(lines)


def _fill(page: str, tag: str, text: str) -> str:
    start, end = f"<!-- {tag} -->", f"<!-- /{tag} -->"
    head, _, rest = page.partition(start)
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{text}\n{end}{tail}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cubes", nargs="+", choices=CUBES, default=list(CUBES))
    parser.add_argument("--no-ablation", action="store_true")
    parser.add_argument("--write", type=Path, default=None, help="Fill the tables of this page (docs/methods/stsf.md).")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; the second date (t2) is SIMULATED")
    rows, ablations = [], []
    for name in args.cubes:
        r, a = run(name, not args.no_ablation)
        rows += r
        ablations += a
    main_table, ablation_table = tables(rows, ablations)
    summary = verdicts(rows)
    print(main_table, ablation_table, summary, sep="\n\n")
    if args.write is not None:
        page = args.write.read_text(encoding="utf-8")
        for tag, text in (("stsf-accuracy", main_table), ("stsf-ablation", ablation_table), ("stsf-verdict", summary)):
            page = _fill(page, tag, text)
        write_text(args.write, page)
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
