"""RMSE and SAM of the classical STSF methods on the blind sets (responses untold), at t1 and t2.

Run: python benchmarks/stsf_blind.py   (needs ../shared/data; about a minute)
"""

from __future__ import annotations

import warnings

import numpy as np

from stfusion.core import predict_stsf
from stfusion.data import load_dataset

METHODS = ("bicubic", "gsa", "cnmf", "cascade")


def scores(out, truth) -> tuple[float, float]:
    p = np.asarray(out.data, float)
    t = np.asarray(truth.data, float)[:, :p.shape[1], :p.shape[2]]
    cos = (p * t).sum(0) / (np.linalg.norm(p, axis=0) * np.linalg.norm(t, axis=0))
    return float(np.sqrt(np.nanmean((p - t) ** 2))), float(np.degrees(np.nanmean(np.arccos(np.clip(cos, -1, 1)))))


warnings.simplefilter("ignore")
print("| set | date | " + " | ".join(METHODS) + " |")
print("|---|---|" + "---|" * len(METHODS))
for name in ("stsf_samson_blind", "stsf_jasper_blind"):
    sim = load_dataset(name)
    for date, task, truth in (("t1", sim.task_t1, sim.t1), ("t2", sim.task, sim.t2)):
        cells = ["%.4f / %.2f" % scores(predict_stsf(m, task), truth) for m in METHODS]
        print(f"| {name} | {date} | " + " | ".join(cells) + " |")
