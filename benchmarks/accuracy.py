"""Accuracy of every classical STF method on every real STF scene, next to the baselines.

The table of ``docs/methods/accuracy.md`` is written by the bench command:

    stfusion bench --datasets cia_2date estarfm_3date estarfm_3date_1pair lgc_flood_simcoarse \
        ifsdaf_ndvi_series --out bench-accuracy --write-docs docs/methods/accuracy.md

This script runs the same bench (`stfusion.bench`: every registered STF method that needs no
training on each protocol's own pairs, the reference programs' outputs in
``../shared/reference/peers`` scored alike) and prints the table, or fills the page with ``--write``.

    python benchmarks/accuracy.py [--write docs/methods/accuracy.md] [--sets NAME ...] [--methods NAME ...] [--out DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from stfusion.bench.datasets import REAL_STF
from stfusion.bench.docs_tables import accuracy_table, write_docs
from stfusion.bench.runner import Selection, iter_bench
from stfusion.core.registry import list_methods

SETS = REAL_STF


def records(names: list[str], chosen: list[str] | None, out: Path) -> list[dict[str, object]]:
    """The bench records of ``names`` (cache in ``out/cache``)."""
    methods = tuple(chosen) if chosen else tuple(s.name for s in list_methods("stf") if not s.needs_training)
    return [r for runs in iter_bench(names, out, Selection(methods=methods), progress=False) for r in runs.records]


def score(name: str, chosen: list[str] | None = None) -> list[dict[str, object]]:
    """One row per method (with all of the set's pairs) and per reference program on the protocol ``name``."""
    with tempfile.TemporaryDirectory() as tmp:
        recs = records([name], chosen, Path(tmp))
    full = max(r["pairs"] for r in recs)
    return [{"set": r["dataset"], "pairs": r["pairs"], "bands": len(r["bands"]), "method": r["method"],
             "seconds": r["seconds"], **r["values"]} for r in recs if r["pairs"] == full and r["status"] == "ok"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, default=None, help="Fill the table of this page.")
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS), help="Protocols to run.")
    parser.add_argument("--methods", nargs="+", default=None, help="Methods to run (default: all without training).")
    parser.add_argument("--out", type=Path, default=None, help="Keep the run cache here (default: a temporary folder).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        recs = records(args.sets, args.methods, args.out or Path(tmp))
    print(accuracy_table(recs))
    if args.write is not None:
        print(f"wrote {write_docs(args.write, recs)}")


if __name__ == "__main__":
    main()
