"""Land-use classification on ts_eolearn_ndvi from self-supervised embeddings and three baselines.

Protocol (issue 8): the 101 x 100 scene is split spatially by a checkerboard of 10 x 10-pixel
blocks (train / test); the no-data class 0 and classes with fewer than 50 pixels on either side
are dropped. For each seed the tiny model (``--samples`` observations per view, default 32 of the
68 dates) trains self-supervised on every pixel's d-pixels (NDVI only, with cloud masks; no
labels), each pixel's embedding averages ``--draws`` sample draws (default 8), then a linear probe
and an MLP are trained on
100 %, 5 % and 1 % (stratified) of the training labels, and scored by macro-F1 and overall
accuracy on the test blocks. The same heads run on (a) hand-made temporal features (NDVI mean,
std, min, max, 10/25/50/75/90 % quantiles over the valid dates), (b) the raw series with invalid
dates linearly interpolated, and (c) the embeddings of the same encoder untrained. Prints a
Markdown table of means ± std over seeds; ``--write`` fills docs/embed.md.

    python benchmarks/embed_eolearn.py [--seeds 0 1 2] [--steps 300] [--samples 32] [--draws 8] [--write docs/embed.md]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch
from embed_tables import seed_table, write_block
from sklearn.metrics import accuracy_score, f1_score

from stfusion.data import load_dataset
from stfusion.data.ts_sets import image_series_dpixels
from stfusion.embed.config import config
from stfusion.embed.features import hand_features, interpolated_series
from stfusion.embed.heads import Head, checkerboard, stratified_subset
from stfusion.embed.nets.model import EmbeddingModel
from stfusion.embed.nets.train import Standardiser, embed, fit_embedding

FRACTIONS = (1.0, 0.05, 0.01)
HEADS = ("linear", "mlp")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--draws", type=int, default=8)
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args()
    series = load_dataset("ts_eolearn_ndvi")
    dp = image_series_dpixels(series)
    s2 = dp.sensors["s2"]
    labels = np.asarray(series.layers["LULC"]).reshape(-1)
    train_side = checkerboard(dp.shape, 10).ravel()
    keep = np.zeros(labels.size, bool)
    for k in np.unique(labels):
        on = labels == k
        if k != 0 and (on & train_side).sum() >= 50 and (on & ~train_side).sum() >= 50:
            keep |= on
    tr_all, te = np.flatnonzero(keep & train_side), np.flatnonzero(keep & ~train_side)
    print(f"classes {sorted(set(labels[keep]))}; {tr_all.size} train / {te.size} test pixels; torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    cfg = dataclasses.replace(config("tiny").with_sensors(s2=1), samples=args.samples)
    fixed = {"(a) hand features": hand_features(s2), "(b) raw series (interpolated)": interpolated_series(s2)}
    scores: dict[tuple[str, str, float], list[tuple[float, float]]] = {}
    for seed in args.seeds:
        start = time.perf_counter()
        model, std, hist = fit_embedding(dp, cfg, steps=args.steps, batch=256, seed=seed, progress=False)
        trained, _ = embed(model, std, dp, seed=seed, draws=args.draws, progress=False)
        torch.manual_seed(seed)
        untrained, _ = embed(EmbeddingModel(cfg), Standardiser.fit(dp), dp, seed=seed, draws=args.draws,
                             progress=False)
        print(f"seed {seed}: self-supervised training {time.perf_counter() - start:.0f} s, "
              f"loss {hist[0]['loss']:.0f} -> {hist[-1]['loss']:.0f}", flush=True)
        inputs = {"TESSERA-style embeddings (trained)": trained, **fixed, "(c) untrained encoder": untrained}
        for frac in FRACTIONS:
            tr = stratified_subset(labels[tr_all], frac, np.random.default_rng(seed))
            tr = tr_all[tr]
            for name, x in inputs.items():
                for head in HEADS:
                    pred = Head(head, seed=seed).fit(x[tr], labels[tr]).predict(x[te])
                    scores.setdefault((name, head, frac), []).append(
                        (f1_score(labels[te], pred, average="macro"), accuracy_score(labels[te], pred)))
    text = seed_table(scores, ("macro-F1", "OA")) + (
        f"\n\nSeeds {args.seeds}; {args.steps} self-supervised steps of the tiny model, "
        f"{args.samples} samples per view, embeddings averaged over {args.draws} draws.")
    print(text)
    if args.write is not None:
        write_block(args.write, "embed-eolearn", text)


if __name__ == "__main__":
    main()
