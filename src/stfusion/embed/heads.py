"""Downstream heads on embeddings (or any per-pixel features): a linear probe, an MLP
(D -> 512 -> 256 -> C, as TESSERA's classification head) and a random forest.

Every head standardises its inputs with the training features' mean and std, is seeded, and
exposes ``fit(x, y)`` / ``predict(x)``. The MLP needs torch (imported when it is fitted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stfusion.core.errors import UnknownParameterError

HEADS = ("linear", "mlp", "rf")


@dataclass
class Head:
    """A classification head of kind ``kind`` ("linear", "mlp" or "rf")."""

    kind: str
    seed: int = 0
    epochs: int = 200
    _mean: np.ndarray | None = None
    _std: np.ndarray | None = None
    _model: Any = None
    _classes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        if self.kind not in HEADS:
            raise UnknownParameterError(f"unknown head {self.kind!r}; use one of: {', '.join(HEADS)}")

    def _scale(self, x: np.ndarray) -> np.ndarray:
        return ((x - self._mean) / self._std).astype(np.float32)

    def fit(self, x: np.ndarray, y: np.ndarray) -> "Head":
        x = np.asarray(x, dtype=np.float32)
        self._mean, self._std = x.mean(0), np.maximum(x.std(0), 1e-6)
        self._classes, yi = np.unique(np.asarray(y), return_inverse=True)
        xs = self._scale(x)
        if self.kind == "linear":
            from sklearn.linear_model import LogisticRegression

            self._model = LogisticRegression(max_iter=2000, random_state=self.seed).fit(xs, yi)
        elif self.kind == "rf":
            from sklearn.ensemble import RandomForestClassifier

            self._model = RandomForestClassifier(n_estimators=200, random_state=self.seed, n_jobs=-1).fit(xs, yi)
        else:
            self._model = _fit_mlp(xs, yi, self._classes.size, self.seed, self.epochs)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        xs = self._scale(np.asarray(x, dtype=np.float32))
        if self.kind == "mlp":
            import torch

            with torch.no_grad():
                out = self._model(torch.from_numpy(xs)).argmax(1).numpy()
        else:
            out = self._model.predict(xs)
        return self._classes[out]


def _fit_mlp(x: np.ndarray, y: np.ndarray, classes: int, seed: int, epochs: int) -> Any:
    import torch
    from torch import nn

    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(x.shape[1], 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 256), nn.ReLU(),
                        nn.Dropout(0.2), nn.Linear(256, classes))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    gen = torch.Generator().manual_seed(seed)
    batch = min(256, len(y))
    for _ in range(epochs):
        for idx in torch.randperm(len(y), generator=gen).split(batch):
            opt.zero_grad()
            nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
            opt.step()
    return net.eval()


def stratified_subset(y: np.ndarray, fraction: float, rng: np.random.Generator, minimum: int = 2) -> np.ndarray:
    """Indices of a stratified ``fraction`` of ``y`` (at least ``minimum`` per class)."""
    out = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        out.append(rng.choice(idx, min(idx.size, max(minimum, int(round(fraction * idx.size)))), replace=False))
    return np.sort(np.concatenate(out))
