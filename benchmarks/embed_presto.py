"""Algae-bloom severity on ts_presto from self-supervised embeddings and raw-feature baselines.

Protocol (issue 8): Presto's algae set (Tseng et al. 2023; Tick Tick Bloom severities 1-5), 1122
samples of 12 monthly Sentinel-1 (VV, VH) + Sentinel-2 (10 bands) steps, split by its own
``is_test`` flag (777 train / 345 test). For each seed the tiny model (sensors s2 = 10, s1 = 2
bands; 8 of the 12 steps sampled per view) trains self-supervised on the TRAINING d-pixels only
(no labels), the embedding of each sample averages ``--draws`` sample draws, and ridge, MLP and
random-forest regressors are trained on 100 % and 10 % of the training labels and scored by RMSE
and R^2 of the severity on the test samples. The same heads run on (a) hand-made temporal
features of S1 + S2 (per band: mean, std, min, max, 10/25/50/75/90 % quantiles), (b) the raw
S1 + S2 series, (b+) the raw series of all 18 Presto channels (adds ERA5 weather, elevation,
slope and NDVI, which the embeddings do not see), and (c) the same encoder untrained. The
training-label mean is the trivial baseline. Prints a Markdown table of means ± std over seeds;
``--write`` fills docs/embed.md.

    python benchmarks/embed_presto.py [--seeds 0 1 2] [--steps 300] [--draws 8] [--write docs/embed.md]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch
from embed_tables import seed_table, write_block
from sklearn.metrics import mean_squared_error, r2_score

from stfusion.data import load_dataset
from stfusion.data.dpixel_sources import presto_dpixels
from stfusion.embed.config import config
from stfusion.embed.features import hand_features, interpolated_series
from stfusion.embed.heads import RegressionHead
from stfusion.embed.nets.model import EmbeddingModel
from stfusion.embed.nets.train import Standardiser, embed, fit_embedding

FRACTIONS = (1.0, 0.1)
HEADS = ("linear", "mlp", "rf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--draws", type=int, default=8)
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args()
    series = load_dataset("ts_presto_algae")
    dp = presto_dpixels(series)
    y = dp.extra["target"].astype(np.float64)
    test = dp.extra["is_test"]
    tr_all, te = np.flatnonzero(~test), np.flatnonzero(test)
    print(f"{tr_all.size} train / {te.size} test samples; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads", flush=True)
    cfg = dataclasses.replace(config("tiny").with_sensors(s2=10, s1=2), samples=8)
    s1s2 = np.concatenate([interpolated_series(dp.sensors[s]) for s in ("s2", "s1")], axis=1)
    fixed = {"(a) hand features, S1 + S2": np.concatenate([hand_features(dp.sensors[s]) for s in ("s2", "s1")], 1),
             "(b) raw series, S1 + S2": s1s2,
             "(b+) raw series, all 18 channels": series.values.reshape(len(y), -1).astype(np.float32)}
    scores: dict[tuple[str, str, float], list[tuple[float, float]]] = {}
    for seed in args.seeds:
        start = time.perf_counter()
        train_dp = dp.subset(tr_all)
        model, std, hist = fit_embedding(train_dp, cfg, steps=args.steps, batch=256, seed=seed, progress=False)
        trained, _ = embed(model, std, dp, seed=seed, draws=args.draws, progress=False)
        torch.manual_seed(seed)
        untrained, _ = embed(EmbeddingModel(cfg), Standardiser.fit(train_dp), dp, seed=seed, draws=args.draws,
                             progress=False)
        print(f"seed {seed}: self-supervised training {time.perf_counter() - start:.0f} s, "
              f"loss {hist[0]['loss']:.0f} -> {hist[-1]['loss']:.0f}", flush=True)
        inputs = {"TESSERA-style embeddings (trained)": trained, **fixed, "(c) untrained encoder": untrained}
        for frac in FRACTIONS:
            rng = np.random.default_rng(seed)
            tr = np.sort(rng.choice(tr_all, int(round(frac * tr_all.size)), replace=False))
            mean = np.full(te.size, y[tr].mean())
            scores.setdefault(("training-label mean", "-", frac), []).append(
                (mean_squared_error(y[te], mean) ** 0.5, r2_score(y[te], mean)))
            for name, x in inputs.items():
                for head in HEADS:
                    pred = RegressionHead(head, seed=seed).fit(x[tr], y[tr]).predict(x[te]).reshape(-1)
                    scores.setdefault((name, head, frac), []).append(
                        (mean_squared_error(y[te], pred) ** 0.5, r2_score(y[te], pred)))
    text = seed_table(scores, ("RMSE (severity)", "R²")) + (
        f"\n\nSeeds {args.seeds}; {args.steps} self-supervised steps of the tiny model, "
        f"embeddings averaged over {args.draws} sample draws.")
    print(text)
    if args.write is not None:
        write_block(args.write, "embed-presto", text)


if __name__ == "__main__":
    main()
