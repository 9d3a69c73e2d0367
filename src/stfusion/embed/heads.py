"""Downstream heads on embeddings (or any per-pixel features): a linear probe, an MLP
(D -> 512 -> 256 -> C, as TESSERA's classification head) and a random forest, as classifiers
(`Head`) and as regressors (`RegressionHead`: ridge, MLP with an MSE loss, random forest); and
the spatial checkerboard split of the benchmarks (`checkerboard`).

Every head standardises its inputs with the training features' mean and std, is seeded, and
exposes ``fit(x, y)`` / ``predict(x)``. The MLP needs torch (imported when it is fitted). The
dense UNet regressor is `stfusion.embed.nets.unet`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stfusion.core.errors import InvalidParameterError, UnknownParameterError

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


def _fit_mlp(x: np.ndarray, y: np.ndarray, classes: int, seed: int, epochs: int, regress: bool = False) -> Any:
    """Cross-entropy over ``classes`` of integer ``y``, or (``regress``) MSE on float ``y`` (n, classes)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(x.shape[1], 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 256), nn.ReLU(),
                        nn.Dropout(0.2), nn.Linear(256, classes))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y.astype(np.float32)) if regress else torch.from_numpy(y.astype(np.int64))
    loss = nn.functional.mse_loss if regress else nn.functional.cross_entropy
    gen = torch.Generator().manual_seed(seed)
    batch = min(256, len(y))
    for _ in range(epochs):
        for idx in torch.randperm(len(y), generator=gen).split(batch):
            opt.zero_grad()
            loss(net(xt[idx]), yt[idx]).backward()
            opt.step()
    return net.eval()


@dataclass
class RegressionHead:
    """A regression head of kind ``kind``: "linear" (ridge, alpha 1 on standardised inputs), "mlp"
    (D -> 512 -> 256 -> K, MSE on standardised targets) or "rf" (200 trees). ``y`` is (n,) or (n, K)."""

    kind: str
    seed: int = 0
    epochs: int = 200
    _mean: np.ndarray | None = None
    _std: np.ndarray | None = None
    _ymean: np.ndarray | None = None
    _ystd: np.ndarray | None = None
    _model: Any = None
    _shape: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in HEADS:
            raise UnknownParameterError(f"unknown head {self.kind!r}; use one of: {', '.join(HEADS)}")

    def fit(self, x: np.ndarray, y: np.ndarray) -> "RegressionHead":
        x = np.asarray(x, dtype=np.float32)
        y = np.asarray(y, dtype=np.float64)
        y2 = y.reshape(len(y), -1)
        self._mean, self._std = x.mean(0), np.maximum(x.std(0), 1e-6)
        self._ymean, self._ystd = y2.mean(0), np.maximum(y2.std(0), 1e-12)
        xs, ys = ((x - self._mean) / self._std).astype(np.float32), (y2 - self._ymean) / self._ystd
        if self.kind == "linear":
            from sklearn.linear_model import Ridge

            self._model = Ridge(alpha=1.0).fit(xs, ys)
        elif self.kind == "rf":
            from sklearn.ensemble import RandomForestRegressor

            self._model = RandomForestRegressor(n_estimators=200, random_state=self.seed, n_jobs=-1).fit(
                xs, ys[:, 0] if ys.shape[1] == 1 else ys)
        else:
            self._model = _fit_mlp(xs, ys, ys.shape[1], self.seed, self.epochs, regress=True)
        self._shape = y.shape[1:]
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        xs = ((np.asarray(x, dtype=np.float32) - self._mean) / self._std).astype(np.float32)
        if self.kind == "mlp":
            import torch

            with torch.no_grad():
                out = self._model(torch.from_numpy(xs)).numpy().astype(np.float64)
        else:
            out = np.asarray(self._model.predict(xs), dtype=np.float64)
        out = out.reshape(len(xs), -1) * self._ystd + self._ymean
        return out.reshape(len(xs), *self._shape)


def checkerboard(shape: tuple[int, int], block: int) -> np.ndarray:
    """(rows, cols) boolean train mask of a spatial checkerboard of ``block`` x ``block``-pixel
    blocks: True where ``(row // block + col // block)`` is even (the top-left block trains);
    the test pixels are its complement."""
    if block < 1:
        raise InvalidParameterError(f"the checkerboard block must be >= 1 pixel, got {block}; e.g. block=10")
    r = np.arange(shape[0])[:, None] // block
    c = np.arange(shape[1])[None, :] // block
    return (r + c) % 2 == 0


def stratified_subset(y: np.ndarray, fraction: float, rng: np.random.Generator, minimum: int = 2) -> np.ndarray:
    """Indices of a stratified ``fraction`` of ``y`` (at least ``minimum`` per class)."""
    out = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        out.append(rng.choice(idx, min(idx.size, max(minimum, int(round(fraction * idx.size)))), replace=False))
    return np.sort(np.concatenate(out))


PROBE_HEADS = (*HEADS, "unet")
TASKS = ("classify", "regress")


def _subset(y: np.ndarray, fraction: float, classify: bool, rng: np.random.Generator) -> np.ndarray:
    if fraction >= 1.0:
        return np.arange(y.size)
    if classify:
        return stratified_subset(y, fraction, rng)
    return np.sort(rng.choice(y.size, max(1, int(round(fraction * y.size))), replace=False))


def probe(emb: np.ndarray, labels: np.ndarray, *, head: str = "linear", task: str | None = None, block: int = 10,
          fraction: float = 1.0, ignore: tuple[float, ...] | None = None, seed: int = 0, steps: int = 300
          ) -> tuple[np.ndarray, dict[str, Any]]:
    """Train ``head`` on the labelled pixels of the train blocks of a `checkerboard` of ``block``
    pixels and score it on the test blocks. ``emb`` (rows, cols, D) (NaN = no data), ``labels``
    (rows, cols); labels that are NaN or in ``ignore`` (default: 0 for classification, none for
    regression) are dropped, and ``fraction`` of the training labels is kept (stratified by class
    when classifying). ``task`` defaults to "classify", and to "regress" for the "unet" head.
    Returns the predicted map (int32 classes with ``metrics["nodata"]`` where the embedding has no
    data, or float32 values with NaN) and the metrics: macro-F1 and overall accuracy, or RMSE, MAE
    and R², with the pixel counts; a classification adds the F1 of each class and the confusion
    matrix of the test pixels (rows: test label, columns: prediction)."""
    from stfusion.core.errors import NoDataError, ShapeMismatchError

    if head not in PROBE_HEADS:
        raise UnknownParameterError(f"unknown head {head!r}; use one of: {', '.join(PROBE_HEADS)}")
    if task is not None and task not in TASKS:
        raise UnknownParameterError(f"unknown task {task!r}; use one of: {', '.join(TASKS)}")
    if head == "unet" and task == "classify":
        raise InvalidParameterError("the unet head is a regression head; use task='regress' or a linear/mlp/rf head")
    task = "regress" if head == "unet" else task or "classify"
    classify = task == "classify"
    if not 0.0 < fraction <= 1.0:
        raise InvalidParameterError(f"the label fraction must be in (0, 1], got {fraction}; e.g. fraction=0.05")
    emb = np.asarray(emb, dtype=np.float32)
    labels = np.asarray(labels)
    if emb.ndim != 3:
        raise ShapeMismatchError(f"the embedding map has shape {emb.shape}; expected (rows, cols, channels)")
    if labels.shape != emb.shape[:2]:
        raise ShapeMismatchError(f"the labels have shape {labels.shape} but the embedding map is {emb.shape[:2]} "
                                 "(rows, cols); give labels on the embedding grid")
    if labels.dtype.kind not in "iuf" and labels.dtype.kind != "b":
        raise InvalidParameterError(f"the labels have dtype {labels.dtype}; give numbers")
    y = labels.astype(np.float64)
    ignore = (0.0,) if ignore is None and classify else tuple(ignore or ())
    finite = np.isfinite(y)
    if classify and not (y[finite] == np.round(y[finite])).all():
        raise InvalidParameterError("classification labels must be whole numbers; use task='regress' for "
                                    "continuous targets")
    ok = np.isfinite(emb).all(axis=-1)
    usable = finite & ok & ~np.isin(y, ignore)
    train_side = checkerboard(y.shape, block)
    tr_all, te = np.flatnonzero(usable & train_side), np.flatnonzero(usable & ~train_side)
    if tr_all.size == 0 or te.size == 0:
        side = "train" if tr_all.size == 0 else "test"
        raise NoDataError(f"no usable label falls in the {side} blocks of the checkerboard ({block}-px blocks); "
                          "check the labels and ignore, or use a smaller block")
    flat_y = y.ravel()
    rng = np.random.default_rng(seed)
    tr = tr_all[_subset(flat_y[tr_all], fraction, classify, rng)]
    if classify and np.unique(flat_y[tr]).size < 2:
        raise NoDataError(f"the training blocks hold a single class ({flat_y[tr][0]:g}); a classifier needs two or "
                          "more: use a smaller block or more labels")
    x = emb.reshape(-1, emb.shape[-1])
    okf = ok.ravel()
    metrics: dict[str, Any] = {"head": head, "task": task, "split": "checkerboard", "block": block,
                               "fraction": fraction, "seed": seed, "ignore": list(ignore),
                               "train_pixels": int(tr.size), "test_pixels": int(te.size)}
    if head == "unet":
        from .nets.unet import UNetRegressor

        mask = np.zeros(y.size, bool)
        mask[tr] = True
        pred = UNetRegressor(steps=steps, seed=seed).fit(emb, np.where(finite, y, np.nan),
                                                         mask.reshape(y.shape)).predict(emb)
        flat = pred.ravel().astype(np.float64)
    else:
        model: Any = Head(head, seed=seed) if classify else RegressionHead(head, seed=seed)
        model.fit(x[tr], flat_y[tr].astype(np.int64) if classify else flat_y[tr])
        flat = np.full(y.size, np.nan)
        flat[okf] = model.predict(x[okf])
    truth, got = flat_y[te], flat[te]
    if classify:
        from sklearn.metrics import confusion_matrix, f1_score

        classes = np.unique(flat_y[tr_all]).astype(np.int64)
        nodata = -1 if -1 not in classes else int(classes.min()) - 1
        t, g = truth.astype(np.int64), got.astype(np.int64)
        seen = np.union1d(t, g)
        metrics.update(classes=classes.tolist(), nodata=nodata, macro_f1=float(f1_score(t, g, average="macro")),
                       accuracy=float(np.mean(truth == got)),
                       f1_per_class=dict(zip(map(str, seen.tolist()),
                                             f1_score(t, g, labels=seen, average=None, zero_division=0).tolist())),
                       confusion={"classes": seen.tolist(), "rows": "test label", "columns": "predicted",
                                  "matrix": confusion_matrix(t, g, labels=seen).tolist()})
        out = np.where(okf, np.nan_to_num(flat, nan=nodata), nodata).astype(np.int32)
    else:
        err = got - truth
        sst = float(np.sum((truth - truth.mean()) ** 2))
        metrics.update(rmse=float(np.sqrt(np.mean(err ** 2))), mae=float(np.mean(np.abs(err))),
                       r2=float(1.0 - np.sum(err ** 2) / sst) if sst > 0 else float("nan"))
        out = flat.astype(np.float32)
    return out.reshape(y.shape), metrics
