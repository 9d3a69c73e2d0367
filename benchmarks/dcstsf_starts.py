"""DC-STSF's two SSJE starts and their average (the default, ``start=auto``) on the test truth.

For each set, trains DC-STSF (defaults, ``fit=True``, Wald's protocol on the task itself) from
the GSA start and from the paper's bicubic start, and prints RMSE and SAM against the truth for
the classical rival (GSA at t1, the cascade at t2), each start, and their mean, which is what
``start=auto`` returns (it trains the same two networks, with the same seed, and averages them).
It also prints each start's validation RMSE on the held-out rows: the rule that picked one start
by it chose the worse start on both default sets. About five minutes per set on 2 cores.

    OMP_NUM_THREADS=1 python benchmarks/dcstsf_starts.py [--datasets stsf_samson stsf_jasper_blind]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["stsf_samson", "stsf_jasper_blind"])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from stfusion.core.params.stsf import DcstsfParams
    from stfusion.core.run import predict_stsf
    from stfusion.core.stsf_block import StsfSource
    from stfusion.data.catalog import load_dataset
    from stfusion.methods.deep.stsf_run import predict_block, stats
    from stfusion.metrics import evaluate

    print(f"{'set':<22}{'estimate':<22}{'RMSE':>9}{'SAM':>8}{'validation RMSE':>17}")
    for name in args.datasets:
        sim = load_dataset(name)
        t1 = name.endswith("_t1")
        task, truth = (sim.task_t1, sim.t1) if t1 else (sim.task, sim.t2)

        def score(scene, truth=truth):
            r = evaluate(truth, scene, ratio=1 / 3, data_range=1.0, metrics=("rmse", "sam"))
            return f"{r.values['rmse']:9.5f}{r.values['sam']:8.3f}"

        rival = "gsa" if t1 else "cascade"
        print(f"{name:<22}{rival:<22}{score(predict_stsf(rival, task))}")
        outs = []
        for start in ("gsa", "bicubic"):
            source = StsfSource.from_task(task)
            st = stats(source, DcstsfParams(fit=True, start=start, fallback="none"), progress=False)
            data, mask = predict_block(source.read_all(), st, DcstsfParams())
            outs.append(truth.replace(data=data.astype(np.float32), mask=mask))
            val = st.card["competition"]["network"]["rmse"]
            print(f"{'':<22}{'dcstsf start=' + start:<22}{score(outs[-1])}{val:17.5f}")
        mean = outs[0].replace(data=(outs[0].data + outs[1].data) / 2)
        print(f"{'':<22}{'dcstsf start=auto':<22}{score(mean)}")


if __name__ == "__main__":
    main()
