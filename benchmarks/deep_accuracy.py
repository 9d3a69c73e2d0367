"""Accuracy of the deep STF networks on the real sample sets, next to delta, STARFM and FSDAF.

Protocols (issue 6): on ``estarfm_3date`` each network learns from the 2001-05-24 and 2001-08-12
pairs (each predicts the other; rows at the bottom are held out for validation) and predicts
2001-07-11; on ``cia_2date`` it learns from the one real pair plus a simulated change and
predicts 2002-01-12. Both start with ``--synthetic-steps`` of pretraining on synthetic scenes.
Every network uses its default (small CPU) configuration and seed 0; the classical methods run
with their defaults on the same pairs in the same run. Prints a Markdown table (and training
times); ``--write`` writes the page docs/methods/deep.md.

    python benchmarks/deep_accuracy.py [--sets cia_2date estarfm_3date] [--methods stfdcnn ...] [--write docs/methods/deep.md]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from stfusion.bench.atomic import write_text
from stfusion.core import predict
from stfusion.core.registry import get_spec
from stfusion.core.task import FusionTask
from stfusion.data import load_case
from stfusion.data.training import shared_training_set, synthetic_stacks
from stfusion.metrics import evaluate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import _params  # noqa: E402  (STARFM's search window per set)

NETS = ("stfdcnn", "dcstfn", "edcstfn", "ganstfm")
# ablation rows: EDCSTFN without its MS-SSIM term, and with another seed (see docs/methods/deep.md)
VARIANTS = {"edcstfn": {"edcstfn, alpha=0": {"alpha": "0"}, "edcstfn, seed=1": {"seed": "1"}}}
CLASSICAL = ("delta", "starfm", "fsdaf")
SETS = ("estarfm_3date", "cia_2date")
COLUMNS = ("rmse", "ssim", "sam", "ergas")


def run(name: str, nets: list[str], synthetic_steps: int) -> list[dict[str, object]]:
    from stfusion.methods.deep.run import train_net

    case = load_case(name)
    rows = []
    for method in CLASSICAL:
        task, note = case.task, ""
        spec = get_spec(method)
        if spec.max_pairs is not None and len(task.pairs) > spec.max_pairs:
            nearest = min(task.pairs, key=lambda p: abs((p.date - task.target.date).days))
            task, note = FusionTask([nearest], task.target, ratio=task.ratio), f"nearest pair {nearest.date}"
        start = time.perf_counter()
        pred = predict(method, task, **_params(method, name))
        rows.append(_row(name, method, case, pred, time.perf_counter() - start, note))
    stacks = shared_training_set(name)
    first = stacks[0]
    runs = [(m, m, {}) for m in nets]
    runs += [(m, label, over) for m in nets for label, over in VARIANTS.get(m, {}).items()]
    for method, label, over in runs:
        spec = get_spec(method)
        params = spec.make_params(over)
        start = time.perf_counter()
        pre = synthetic_stacks(first.bands, first.n_bands, ratio=first.ratio, seed=params.seed)
        net, card = train_net(method, stacks, params, pretrain_stacks=pre, pretrain_steps=synthetic_steps,
                              progress=False)
        seconds = time.perf_counter() - start
        path = Path(f"/tmp/stfusion-deep-{name}-{label.replace(', ', '-').replace('=', '')}.pt")
        from stfusion.methods.deep.nets.checkpoint import save_checkpoint

        save_checkpoint(net, card, path)
        pred = predict(method, case.task, checkpoint=str(path))
        v = card["validation"]
        rows.append(_row(name, label, case, pred, seconds,
                         f"{v['steps_run']} steps, best val MSE {v['val_mse']:.3g} at {v['best_step']}"))
    return rows


def _row(name, method, case, pred, seconds, note) -> dict[str, object]:
    report = evaluate(case.truth, pred, ratio=1 / case.ratio, metrics=COLUMNS)
    row = {"set": name, "pairs": len(case.task.pairs), "method": method, "seconds": seconds, "note": note,
           **report.values}
    print(f"  {name:14s} {method:8s} rmse {row['rmse']:.5f} ssim {row['ssim']:.4f} {seconds:7.1f} s {note}",
          flush=True)
    return row


def table(rows: list[dict[str, object]]) -> str:
    lines = ["| set | pairs | method | RMSE | SSIM | SAM (deg) | ERGAS | RMSE vs delta | time (s) | training |",
             "|" + "---|" * 10]
    for r in rows:
        delta = next(x["rmse"] for x in rows if x["set"] == r["set"] and x["method"] == "delta")
        change = (float(r["rmse"]) - float(delta)) / float(delta)
        verdict = "baseline" if r["method"] == "delta" else f"{100 * change:+.1f} %" + (" (loses to delta)" if change > 0 else "")
        lines.append(f"| {r['set']} | {r['pairs']} | {r['method']} | {r['rmse']:.4f} | {r['ssim']:.4f} | "
                     f"{r['sam']:.3f} | {r['ergas']:.3f} | {verdict} | {r['seconds']:.1f} | {r['note']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--methods", nargs="+", choices=NETS, default=list(NETS))
    parser.add_argument("--synthetic-steps", type=int, default=100)
    parser.add_argument("--write", type=Path, default=None, help="Write the table into this page (docs/methods/deep.md).")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    rows = [r for name in args.sets for r in run(name, args.methods, args.synthetic_steps)]
    text = table(rows)
    print(text)
    if args.write is not None:
        page = args.write.read_text(encoding="utf-8")
        start, end = "<!-- deep-accuracy -->", "<!-- /deep-accuracy -->"
        head, _, rest = page.partition(start)
        _, _, tail = rest.partition(end)
        write_text(args.write, f"{head}{start}\n{text}\n{end}{tail}")
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
