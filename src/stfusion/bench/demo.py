"""`stfusion demo`: every family of methods on built-in synthetic scenes, scored against the known truth.

- STF: every method that needs no training, on a synthetic Landsat/MODIS-like scene: a one-pair
  task (1 June -> 10 August) and, for the methods that take two pairs, a two-pair task (1 June
  and 25 September -> 10 August). The flood (20 July) and the harvest (1 August) happen between
  the first pair and the target, so the scene has both gradual phenology and abrupt change.
- Deep STF (with PyTorch): the networks of `DemoSettings.deep`, each fitted briefly on the
  two-pair task's own pairs.
- STSF: every STSF method that needs no training, and DC-STSF after a short fit (with PyTorch),
  on the built-in hyperspectral scene of `stfusion.bench.demo_stsf` (second date SIMULATED).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable

from tqdm import tqdm

from ..core.errors import FitReport, OutputExistsError, ResponseWarning
from ..core.registry import MethodSpec, list_methods
from ..core.run import predict, predict_stsf
from ..core.scene import Scene
from ..core.task import FusionTask
from ..data import SyntheticConfig, make_series
from ..io import write_scene
from ..metrics import evaluate
from .atomic import staging_dir, write_text
from .datasets import synthetic_ratio
from .demo_stsf import HS_RATIO, WAVELENGTHS_NM, stsf_task
from .quicklook import QuickRow, header_panels, page_names, quicklook_pages, run_label

COLUMNS = ("rmse", "mae", "bias", "cc", "ssim", "sam", "ergas", "psnr")
DEEP_STF = ("stfdcnn", "edcstfn")
"""The deep STF networks the demo fits: the two fastest. DCSTFN and GAN-STFM fit more slowly (GAN-STFM
about three times as long as STFDCNN) and would take the demo past 2 minutes on 2 cores."""
DEEP_FIT = {"fit": True, "steps": 100, "patch": 32, "val_every": 25, "pretrain_steps": 50, "fallback": "none"}
"""A short fit of a deep STF network on the two-pair task (the feature autoencoder of EDCSTFN and GAN-STFM too)."""
DCSTSF_FIT = {"fit": True, "steps": 60, "batch": 4, "patch": 24, "width": 16, "blocks": 1, "stages": 2,
              "val_every": 15, "start": "gsa", "fallback": "none"}
"""A short fit of a small DC-STSF (one SSJE start) on the hyperspectral scene."""
TORCH_HINT = "pip install -e '.[torch]' on Python 3.11; see the README for 3.12 and 3.13"


@dataclass(frozen=True)
class DemoSettings:
    """The demo's scenes and training budgets; the defaults run in under 2 minutes on 2 cores.

    ``stf_size``: fine pixels per side of the STF scene (ratio 16 from 128 pixels, else 8);
    ``hs_size`` (a multiple of 3) and ``hs_bands``: the hyperspectral scene; ``deep``: the STF
    networks run when PyTorch is installed (DC-STSF runs then too); ``params``: parameters by
    method, over the networks' short fits `DEEP_FIT` and `DCSTSF_FIT`. The fits keep the
    networks' own predictions (``fallback="none"``), so the table shows what a short fit gives;
    the one-line verdicts say what ``--fit`` would return.
    """

    stf_size: int = 240
    hs_size: int = 96
    hs_bands: int = 48
    deep: tuple[str, ...] = DEEP_STF
    params: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoResult:
    """The demo's metric rows (one per method, task and pair count), the printable tables, the
    files written (relative to ``out``) and the notes of `summary.md` (fit verdicts, skipped parts)."""

    rows: list[dict[str, Any]]
    table: str
    out: Path
    files: list[str]
    notes: list[str]


@dataclass(frozen=True)
class _Run:
    task: str  # "stf" or "stsf"
    method: str
    pairs: int | None
    params: dict[str, Any]
    trained: bool


def _admits(spec: MethodSpec, n: int) -> bool:
    return spec.min_pairs <= n and (spec.max_pairs is None or n <= spec.max_pairs)


def _torch_missing() -> bool:
    return importlib.util.find_spec("torch") is None


def _plan(settings: DemoSettings, torch: bool) -> list[_Run]:
    def run(task: str, name: str, pairs: int | None, fit: dict[str, Any] | None = None) -> _Run:
        return _Run(task, name, pairs, {**(fit or {}), **settings.params.get(name, {})}, fit is not None)

    runs = [run("stf", s.name, n) for n in (1, 2) for s in list_methods("stf")
            if not s.needs_training and _admits(s, n)]
    if torch:
        runs += [run("stf", name, 2, DEEP_FIT) for name in settings.deep]
    runs += [run("stsf", s.name, None) for s in list_methods("stsf") if not s.needs_training]
    if torch:
        runs.append(run("stsf", "dcstsf", None, DCSTSF_FIT))
    return runs


def _with_verdict(call: Callable[[], Scene]) -> tuple[Scene, str]:
    """Run ``call``; its prediction and the one-line fit verdicts it warned (`FitReport`,
    `ResponseWarning`). Other warnings are shown as usual."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pred = call()
    verdicts = []
    for w in caught:
        if issubclass(w.category, (FitReport, ResponseWarning)):
            verdicts.append(str(w.message))
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return pred, "; ".join(verdicts)


def _training(run: _Run) -> str:
    return f"fit {run.params['steps']} steps" if run.trained else "-"


def _format(rows: list[dict[str, Any]], title: str, pairs: bool) -> str:
    head = (f"{'method':<10}" + (f"{'pairs':>6}" if pairs else "") + f"{'training':>16}"
            + "".join(f"{c:>9}" for c in COLUMNS))
    lines = [title, head]
    for r in rows:
        lines.append(f"{r['method']:<10}" + (f"{r['pairs']:>6}" if pairs else "") + f"{r['training']:>16}"
                     + "".join(f"{float(r[c]):>9.4f}" for c in COLUMNS))
    return "\n".join(lines)


def _best(rows: list[dict[str, Any]], key: str = "rmse") -> dict[str, Any]:
    return min(rows, key=lambda r: float(r[key]))


def _next_steps(stf: list[dict[str, Any]], stsf: list[dict[str, Any]], deep: str) -> str:
    """The commands to try on one's own files, with this run's best methods."""
    classical = _best([r for r in stf if r["training"] == "-"])
    pairs = " ".join(f"--pair FINE_{d}.tif COARSE_{d}.tif" for d in ("T1", "T3")[: int(classical["pairs"])])
    hs = _best([r for r in stsf if r["training"] == "-"])
    return (
        "## Next: your own files\n\n"
        "```bash\n"
        f"stfusion predict {classical['method']} {pairs} --target COARSE_T2.tif --out fine_T2.tif\n"
        "    # coarse files already on the fine grid: add --ratio R; whole scenes: --chunk 1024\n"
        f"stfusion predict {deep} --fit --pair FINE_T1.tif COARSE_T1.tif --pair FINE_T3.tif COARSE_T3.tif \\\n"
        "    --target COARSE_T2.tif --out deep_T2.tif      # needs PyTorch; longer: stfusion train\n"
        f"stfusion stsf {hs['method']} --hs HS_T1.tif --ms MS_T1.tif --ms-target MS_T2.tif --out hs_T2.tif\n"
        "stfusion stsf dcstsf --fit --hs HS_T1.tif --ms MS_T1.tif --ms-target MS_T2.tif --out hs_T2_dcstsf.tif\n"
        "stfusion bench --datasets MY_SCENE/ --out bench/  # MY_SCENE/fine/ and MY_SCENE/coarse/: dated rasters\n"
        "stfusion methods                                  # every method, its pairs and parameters\n"
        "```\n"
    )


def _verdict_lines(rows: list[dict[str, Any]], rival: str) -> str:
    notes = [f"- {r['verdict']}" for r in rows if r["verdict"]]
    return ("What the fits found on held-out validation data. The table scores each network's own prediction "
            f"(fallback=none); by default `--fit` returns {rival} instead where the network loses:\n\n"
            + "\n".join(notes) + "\n\n") if notes else ""


def _summary(rows: list[dict[str, Any]], tables: dict[str, str], scenes: dict[str, str], files: list[str],
             skipped: str, left_out: list[str], deep: str) -> str:
    stf = [r for r in rows if r["task"] == "stf"]
    stsf = [r for r in rows if r["task"] == "stsf"]
    best, best_sam = _best(stf), _best(stsf, "sam")
    quicklooks = ", ".join(f"`{f}`" for f in files if f.startswith("quicklook"))
    text = [
        "# stfusion demo\n\n"
        "Every family of methods on built-in synthetic scenes with a known truth. Metrics are computed "
        "against the truth over valid pixels: RMSE, MAE and bias in reflectance, SAM in degrees.\n\n",
        f"## Spatiotemporal fusion (STF)\n\n{scenes['stf']}\n\n```\n{tables['stf']}\n```\n\n"
        f"Lowest RMSE: **{run_label(best['method'], int(best['pairs']))}**, RMSE {float(best['rmse']):.4f}.\n\n"
        + _verdict_lines(stf, "delta's prediction")
        + (f"Not run, to keep the demo under 2 minutes on 2 cores: {', '.join(left_out)} (`stfusion predict NAME "
           "--fit` runs them on your files).\n\n" if left_out and not skipped else ""),
        f"## Spatial-temporal-spectral fusion (STSF)\n\n{scenes['stsf']}\n\n```\n{tables['stsf']}\n```\n\n"
        f"Lowest RMSE: **{_best(stsf)['method']}** ({float(_best(stsf)['rmse']):.4f}); lowest SAM: "
        f"**{best_sam['method']}** ({float(best_sam['sam']):.2f} deg).\n\n"
        + _verdict_lines(stsf, "the classical estimate (the cascade at t2)"),
    ]
    if skipped:
        text.append(f"{skipped}\n\n")
    text.append(f"Files: `metrics.csv`, {quicklooks} (each method's prediction and |error| map, best RMSE first), "
                "`predictions/*.tif`.\n\n")
    text.append(_next_steps(stf, stsf, deep))
    return "".join(text)


def _remove_stale(out: Path, files: list[str]) -> None:
    """Delete quick-look pages and predictions of an earlier demo in ``out`` that this one did not write."""
    keep = {out / f for f in files}
    for old in [*out.glob("quicklook*.png"), *(out / "predictions").glob("*.tif")]:
        if old not in keep:
            old.unlink()


def _metrics_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["task", "method", "pairs", "training", *COLUMNS], extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _descriptions(settings: DemoSettings, truth: Scene, ratio: int) -> dict[str, str]:
    """The summary's paragraph on each scene."""
    return {
        "stf": f"A synthetic {settings.stf_size}x{settings.stf_size} scene with {truth.count} bands (30 m fine "
               f"pixels, coarse/fine ratio {ratio}), fused to {truth.date} from pairs before (and after) a flood and a "
               "harvest. Every method that needs no training runs on one pair and, where it takes two, on two; with "
               "PyTorch, the deep networks are fitted briefly on the two pairs (the training column).",
        "stsf": f"A built-in hyperspectral scene ({settings.hs_size}x{settings.hs_size} pixels, {settings.hs_bands} "
                f"bands {WAVELENGTHS_NM[0]:g}-{WAVELENGTHS_NM[1]:g} nm: the STF landscape as mixtures of vegetation, "
                f"soil and water spectra): the coarse HS image (ratio {HS_RATIO}) at t1 and Sentinel-2 10 m MS images "
                "at t1 and t2 give the fine HS image at t2. The second date is SIMULATED (senescence and a flood "
                "patch).",
    }


def run_demo(out: str | Path, *, seed: int = 0, overwrite: bool = False,
             settings: DemoSettings | None = None) -> DemoResult:
    """Run the demo and write ``metrics.csv``, the quick-look pages, ``summary.md`` and the predictions to ``out``.

    A folder ``out`` that already holds files is refused unless ``overwrite``."""
    out = Path(out)
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise OutputExistsError(f"output folder {out} is not empty; pass overwrite=True to replace its files")
    settings = settings or DemoSettings()
    ratio = synthetic_ratio(settings.stf_size)
    series = make_series(SyntheticConfig(size=(settings.stf_size,) * 2, ratio=ratio, seed=seed))
    tasks: dict[int, tuple[FusionTask, Scene]] = {1: series.task([1], 3), 2: series.task([1, 4], 3)}
    stf_truth = tasks[1][1]
    sim = stsf_task(settings.hs_size, settings.hs_bands, seed)
    torch = not _torch_missing()
    skipped = "" if torch else f"Deep networks and DC-STSF skipped: PyTorch is not installed ({TORCH_HINT})."
    titles = {"stf": f"STF: synthetic {settings.stf_size}x{settings.stf_size} scene, ratio {ratio}, target "
                     f"{stf_truth.date}",
              "stsf": f"STSF: built-in hyperspectral scene, {settings.hs_bands} bands, ratio {HS_RATIO}, t2 simulated"}
    rows: list[dict[str, Any]] = []
    quick: dict[str, list[QuickRow]] = {"stf": [], "stsf": []}
    files = ["metrics.csv", "summary.md"]
    with staging_dir(out) as tmp:
        (tmp / "predictions").mkdir()
        for run in tqdm(_plan(settings, torch), desc="demo", unit="method", leave=False):
            if run.task == "stf":
                task, truth = tasks[run.pairs]
                pred, verdict = _with_verdict(partial(predict, run.method, task, **run.params))
                h_over_l, like, name = 1.0 / ratio, task.fine_grid, f"{run.method}_{run.pairs}pair.tif"
            else:
                truth = sim.t2
                pred, verdict = _with_verdict(partial(predict_stsf, run.method, sim.task, **run.params))
                h_over_l, like, name = 1.0 / HS_RATIO, None, f"stsf_{run.method}.tif"
            report = evaluate(truth, pred, ratio=h_over_l, data_range=1.0, metrics=COLUMNS)
            rows.append({"task": run.task, "method": run.method, "pairs": run.pairs or "", "training": _training(run),
                         **{c: report.values[c] for c in COLUMNS}, "verdict": verdict})
            label = run_label(run.method, run.pairs, "short fit" if run.trained else "")
            quick[run.task].append(QuickRow(label, pred, report.values["rmse"]))
            write_scene(pred, tmp / "predictions" / name, like=like)
            files.append(f"predictions/{name}")
        for kind, stem, task, truth in (("stf", "quicklook", tasks[2][0], stf_truth),
                                        ("stsf", "quicklook-stsf", sim.task, sim.t2)):
            pages = quicklook_pages(truth, header_panels(task, truth), quick[kind], title=titles[kind])
            for page, png in zip(page_names(stem, len(pages)), pages):
                (tmp / f"{page}.png").write_bytes(png)
                files.append(f"{page}.png")
        tables = {
            "stf": _format([r for r in rows if r["task"] == "stf"],
                           f"{titles['stf']} (ERGAS h/l = 1/{ratio}, SSIM/PSNR data range 1)", pairs=True),
            "stsf": _format([r for r in rows if r["task"] == "stsf"],
                            f"{titles['stsf']} (ERGAS h/l = 1/{HS_RATIO})", pairs=False),
        }
        write_text(tmp / "metrics.csv", _metrics_csv(rows))
        fitted = [r for r in rows if r["task"] == "stf" and r["training"] != "-"]
        deep = _best(fitted)["method"] if fitted else DEEP_STF[0]
        left_out = [s.name for s in list_methods("stf") if s.needs_training and s.name not in settings.deep]
        write_text(tmp / "summary.md", _summary(rows, tables, _descriptions(settings, stf_truth, ratio), files,
                                                skipped, left_out, deep))
    _remove_stale(out, files)
    notes = [r["verdict"] for r in rows if r["verdict"]] + ([skipped] if skipped else [])
    return DemoResult(rows=rows, table=f"{tables['stf']}\n\n{tables['stsf']}", out=out, files=files, notes=notes)
