"""Demo settings for tests: tiny scenes, fits of a few steps, a small SPSTFM dictionary (seconds, not minutes)."""

from __future__ import annotations

from stfusion.bench.demo import DemoSettings

TINY = DemoSettings(stf_size=64, hs_size=36, hs_bands=16, deep=("stfdcnn",), params={
    "stfdcnn": {"steps": 4, "batch": 2, "val_every": 2},
    "dcstsf": {"steps": 4, "batch": 2, "patch": 16, "width": 8, "stages": 1, "val_every": 2},
    "spstfm": {"dict_size": 16, "training_samples": 100, "min_train_iter": 1, "max_train_iter": 2},
})
