"""SPSTFM: sparse-representation-based spatiotemporal reflectance fusion.

Huang, B., Song, H. (2012), "Spatiotemporal reflectance fusion via sparse representation",
IEEE Transactions on Geoscience and Remote Sensing 50(10), 3707-3716. Two pairs (t1, t3) and
the coarse image at the target date t2, coarse images on the fine grid. Per band:

1. **Training** (in `stats`, image-wide): the fine and coarse difference images between the two
   pair dates, Y = F3 - F1 and X = C3 - C1, are cut into ``patch_size`` x ``patch_size`` patches
   at ``training_samples`` positions drawn at random (``numpy.random.default_rng(seed)``) among
   the patches whose pixels are all valid in F1, F3, C1 and C3. Each patch loses the mean of its
   coarse patch; both are divided by one scale per band (the RMS of the mean-removed coarse
   patches). A coupled dictionary pair (Dh, Dl; ``dict_size`` atoms) sharing its sparse codes
   is learned by K-SVD (`stfusion.methods.classical.ksvd.coupled_ksvd`): codes by orthogonal
   matching pursuit on the coarse part (scikit-learn, at most ``sparsity`` atoms), Dl atoms by
   the K-SVD rank-1 SVD update, Dh by least squares on those codes; ``min_train_iter`` to
   ``max_train_iter`` iterations, keeping the pair that predicts the training fine patches from
   their coarse patches best.
2. **Reconstruction** (in `predict_block`): patches on a fixed grid anchored at the scene's
   top-left corner, step ``patch_size - patch_overlap``. For each patch and side k in {1, 3}, the
   coarse change C2 - Ck is split into its patch mean m and the rest; the rest is coded on Dl and
   the fine change is ΔF = m + Dh·code. The patch prediction is
   F2 = w1·(F1 + ΔF21) + w3·(F3 + ΔF23) (ΔF23 = -ΔF32 in the paper's notation; OMP codes are odd
   in their input, so this is the same).
3. **Temporal weights** per patch and band: v_k = mean |C2 - Ck| over the patch's valid pixels,
   divided by the largest |C2 - Ck| in the image (both k); w1 = v3 / (v1 + v3), w3 = v1 / (v1 + v3)
   (the paper's w_i = v1·v3 / (v_i·v1 + v_i·v3)); if |v1 - v3| > ``weights_diff_tol`` (delta) the
   side with the smaller change gets weight 1 and the other 0; v1 = v3 = 0 gives 1/2 each.
4. Overlapping patch predictions are averaged.

Deliberate differences from the reference programs (the paper as documented by imagefusion's
SPSTFM, and the public Python re-implementation in huang-he99/STF):

- Sparse codes by OMP with at most ``sparsity`` = 3 atoms (scikit-learn), as the Python
  re-implementation; imagefusion and the paper solve an l1-regularised problem (GPSR).
- The patch mean of the coarse change passes to the fine change unchanged and only the
  mean-removed patches are coded (as in the sparse-coding super-resolution of Yang et al. 2010
  that SPSTFM builds on). Without it, the near-constant coarse patches of smooth MODIS changes
  give almost collinear atoms and unstable codes. Zero coarse change gives zero fine change; a
  constant change passes as it is. imagefusion subtracts no mean; the Python re-implementation
  standardises each difference image by its mean and 8·std.
- One scale per band for fine and coarse differences (both in reflectance): the dictionaries
  learn the amplitude relation between them. imagefusion divides each resolution by its own
  standard deviation.
- Training codes come from the coarse patches, as at prediction (imagefusion's default); the
  fine dictionary is then the least-squares fit to those codes (as in Zeyde et al. 2010) rather
  than a K-SVD update of its own. Unused and near-duplicate atoms are replaced by the
  worst-represented training patches (standard K-SVD practice).
- The kept fine dictionary is refitted with a ridge chosen by 5-fold cross-validation on the
  training patches (`stfusion.methods.classical.ksvd.select_ridge`): without it, the tiny codes
  of flat coarse patches (inside one MODIS pixel) give huge fine atoms and absurd predictions
  elsewhere.
- Training samples are drawn uniformly at random among fully valid patches at any pixel offset;
  imagefusion's default takes the highest-variance patches and tolerates 15 % invalid pixels.
- The patch grid starts at the scene's top-left corner; the last row/column of patches may
  extend past the scene edge, and their missing pixels are treated like invalid ones.
- Masks: in a patch, coarse-change pixels that are invalid (in C2 or Ck) or outside the scene
  take the patch mean of the valid ones before coding (imagefusion: the image-wide mean), and
  the weights v_k use valid pixels only. A pixel is predicted (mask True) only where all five
  images are valid; elsewhere the output is masked and NaN. A patch with no such pixel is not
  coded.
- The build-up-index weights (an option of the paper and imagefusion) are not implemented; the
  weights come from the coarse change of each band.
- The two pairs may be in any order and on either side of the target date (the weights do not
  use dates).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ...core.block import Block
from ...core.errors import InvalidParameterError, NoDataError, ShapeMismatchError
from ...core.params.spstfm import SpstfmParams, spstfm_halo
from ...core.scene import Scene
from ...core.task import FusionTask
from .ksvd import CoupledDictionary, coupled_ksvd, omp, reconstruct

PARALLEL_MIN_CODES = 60_000
"""Below this many sparse codes a run stays in the calling process (worker start-up costs more)."""


@dataclass(frozen=True)
class SpstfmStats:
    """Image-wide results of training, shared by every block.

    - ``high``, ``low``: (bands, patch_size², dict_size) coupled dictionaries per band; the low
      atoms have unit norm; both act on mean-removed patches divided by ``scale``.
    - ``scale``: (bands,) RMS of the mean-removed coarse training patches (1 if they are all 0).
    - ``max_change``: (bands,) largest |C2 - Ck| over both pairs (normalises v1, v3).
    - ``positions``: (N, 2) top-left (row, col) of the training patches.
    - ``history``, ``best``: per band, the K-SVD training error after each coding step and the
      step whose dictionary was kept.
    """

    high: np.ndarray
    low: np.ndarray
    scale: np.ndarray
    max_change: np.ndarray
    positions: np.ndarray
    history: tuple[tuple[float, ...], ...]
    best: tuple[int, ...]


def _check(task: FusionTask) -> None:
    task.require_fine_grid("spstfm")
    if len(task.pairs) != 2:
        raise ShapeMismatchError(
            f"spstfm takes exactly 2 pairs (before and after the target date), got {len(task.pairs)}; "
            "give two fine/coarse pairs"
        )


def _threads(threads: int | None) -> int:
    if threads is None:
        return max(1, os.cpu_count() or 1)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InvalidParameterError(f"spstfm: threads must be a positive integer, got {threads!r}")
    return threads


def _map(fn: Callable[..., Any], items: Sequence[tuple], workers: int) -> list[Any]:
    """``[fn(*item) for item in items]``, in ``workers`` worker processes when more than one.

    scikit-learn's OMP codes one signal at a time in Python and holds the GIL, so threads do not
    help; joblib's process pool does. Every item's result is independent of where it runs.
    """
    if workers <= 1 or len(items) <= 1:
        return [fn(*item) for item in items]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=min(workers, len(items)), backend="loky")(delayed(fn)(*item) for item in items)


def training_positions(valid: np.ndarray, patch_size: int, count: int, seed: int) -> np.ndarray:
    """Top-left corners (N, 2) of up to ``count`` patches drawn at random without replacement
    (``numpy.random.default_rng(seed)``) among the patches whose pixels are all ``valid``; sorted."""
    rows, cols = valid.shape
    if rows < patch_size or cols < patch_size:
        return np.zeros((0, 2), np.intp)
    bad = np.pad(np.cumsum(np.cumsum(~valid, axis=0, dtype=np.int64), axis=1), ((1, 0), (1, 0)))
    p = patch_size
    n_bad = bad[p:, p:] - bad[:-p, p:] - bad[p:, :-p] + bad[:-p, :-p]
    candidates = np.flatnonzero(n_bad == 0)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(candidates.size, size=min(count, candidates.size), replace=False))
    return np.stack(np.unravel_index(candidates[pick], n_bad.shape), axis=1)


def _patches_at(image: np.ndarray, positions: np.ndarray, patch_size: int) -> np.ndarray:
    """(N, patch_size²) patches of a 2-D image at the given top-left positions."""
    from numpy.lib.stride_tricks import sliding_window_view

    win = sliding_window_view(image, (patch_size, patch_size))
    return win[positions[:, 0], positions[:, 1]].reshape(len(positions), -1)


def _sum_rows(a: np.ndarray) -> np.ndarray:
    """Sum over the last axis in a fixed order (the same for every patch, whatever the batch)."""
    out = np.zeros(a.shape[:-1])
    for j in range(a.shape[-1]):
        out += a[..., j]
    return out


def _split_mean(x: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Patch means over the valid pixels (N,) and the mean-removed patches (N, p²), 0 where invalid."""
    n = _sum_rows(valid.astype(np.float64))
    mean = _sum_rows(np.where(valid, x, 0.0)) / np.maximum(n, 1.0)
    return mean, np.where(valid, x - mean[:, None], 0.0)


def _train_band(y: np.ndarray, x: np.ndarray, params: SpstfmParams) -> tuple[CoupledDictionary, float]:
    """Coupled K-SVD of one band's training patches (N, p²): fine change ``y``, coarse change ``x``.

    Both lose the coarse patch's mean (which passes to the fine change as it is) and are divided
    by the RMS of the mean-removed coarse patches. Every band starts from the same random stream,
    so the result depends only on its own data and the seed."""
    mean, x_c = _split_mean(x, np.ones(x.shape, bool))
    y_c = y - mean[:, None]
    rms = float(np.sqrt((x_c**2).mean()))
    scale = rms if rms > 0 else 1.0
    rng = np.random.default_rng([params.seed, 1])
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # bit-identical training whatever the BLAS threads
        pair = coupled_ksvd((y_c / scale).T, (x_c / scale).T, params.dict_size, params.sparsity, rng=rng,
                            max_iter=params.max_train_iter, min_iter=params.min_train_iter)
    return pair, scale


def stats(task: FusionTask, params: SpstfmParams, classes: Any = None, *, threads: int = 1) -> SpstfmStats:
    """Train the coupled dictionaries (one pair per band) and the image-wide constants.

    Deterministic given ``params.seed``; ``threads`` > 1 trains bands in worker processes
    (same result)."""
    if classes is not None:
        raise InvalidParameterError("spstfm does not use a class map; run it without classes")
    _check(task)
    b = Block.from_task(task)
    p = params.patch_size
    train_ok = b.fine_mask.all(axis=0) & b.coarse_mask.all(axis=0)
    positions = training_positions(train_ok, p, params.training_samples, params.seed)
    if len(positions) == 0:
        raise NoDataError(
            f"spstfm: no {p}x{p} patch is valid in both fine and both coarse images, so no training sample; "
            "check the masks or use a smaller patch_size"
        )
    bands = b.target.shape[0]
    fine = b.fine.astype(np.float64)
    coarse = b.coarse.astype(np.float64)
    target = b.target.astype(np.float64)
    jobs = [(_patches_at(fine[1, i] - fine[0, i], positions, p), _patches_at(coarse[1, i] - coarse[0, i], positions, p),
             params) for i in range(bands)]
    codes = len(positions) * bands * (params.max_train_iter + 1)
    trained = _map(_train_band, jobs, threads if codes >= PARALLEL_MIN_CODES else 1)

    max_change = np.zeros(bands)
    for k in range(2):
        ok = b.coarse_mask[k] & b.target_mask
        if ok.any():
            max_change = np.maximum(max_change, np.abs(target[:, ok] - coarse[k][:, ok]).max(axis=1))
    dicts = [t[0] for t in trained]
    return SpstfmStats(
        high=np.stack([d.high for d in dicts]), low=np.stack([d.low for d in dicts]),
        scale=np.array([t[1] for t in trained]), max_change=max_change, positions=positions,
        history=tuple(d.history for d in dicts), best=tuple(d.best for d in dicts),
    )


def _weights(v1: np.ndarray, v3: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-patch temporal weights (w1, w3) from the normalised coarse changes (see module docstring)."""
    total = v1 + v3
    safe = np.where(total > 0, total, 1.0)
    w1 = np.where(total > 0, v3 / safe, 0.5)
    w3 = np.where(total > 0, v1 / safe, 0.5)
    far = np.abs(v1 - v3) > delta
    w1 = np.where(far, (v1 < v3).astype(np.float64), w1)
    w3 = np.where(far, (v3 < v1).astype(np.float64), w3)
    return w1, w3


def predict_block(block: Block, stats: SpstfmStats, params: SpstfmParams) -> tuple[np.ndarray, np.ndarray]:
    """(data, mask) of one block: code the grid patches that hold a predictable pixel, reconstruct
    their fine change, weight both sides and average overlapping patches.

    The patch grid is anchored at the scene origin (``block.origin``); with the halo of
    `spstfm_halo` every patch covering the block's interior lies inside the block, so tiles equal
    the in-memory result bit for bit."""
    from numpy.lib.stride_tricks import sliding_window_view

    if block.fine.shape[0] != 2:
        raise ShapeMismatchError(f"spstfm takes exactly 2 pairs, got {block.fine.shape[0]}")
    p = params.patch_size
    step = p - params.patch_overlap
    bands, rows, cols = block.target.shape
    data = np.full((bands, rows, cols), np.nan, np.float32)
    r0, c0 = block.origin
    sr, sc = (-r0) % step, (-c0) % step  # first grid patch inside the block
    starts_r, starts_c = np.arange(sr, rows, step), np.arange(sc, cols, step)
    ok = block.fine_mask.all(axis=0) & block.coarse_mask.all(axis=0) & block.target_mask
    if starts_r.size == 0 or starts_c.size == 0 or not ok.any():
        return data, np.zeros((rows, cols), bool)
    nr, nc = starts_r.size, starts_c.size
    hp, wp = int(starts_r[-1]) + p, int(starts_c[-1]) + p

    def windows(a: np.ndarray, fill: float) -> np.ndarray:
        """(n_patches_used, p*p) values of the grid patches of a 2-D array padded with ``fill``."""
        padded = np.pad(a, ((0, hp - rows), (0, wp - cols)), constant_values=fill)
        win = sliding_window_view(padded[sr:, sc:], (p, p))[::step, ::step]
        return win[used].reshape(-1, p * p)

    padded_ok = np.pad(ok, ((0, hp - rows), (0, wp - cols)))
    used = sliding_window_view(padded_ok[sr:, sc:], (p, p))[::step, ::step].any(axis=(2, 3))  # (nr, nc)
    coarse_ok = block.coarse_mask & block.target_mask[None]
    target = block.target.astype(np.float64)
    preds = []
    for band in range(bands):
        side_pred, side_v = [], []
        for k in range(2):
            x = windows(np.where(coarse_ok[k], target[band] - block.coarse[k, band], 0.0), 0.0)
            valid = windows(coarse_ok[k], False)
            mean, x_c = _split_mean(x, valid)
            n_valid = np.maximum(_sum_rows(valid.astype(np.float64)), 1.0)
            mean_abs = _sum_rows(np.where(valid, np.abs(x), 0.0)) / n_valid
            mc = stats.max_change[band]
            side_v.append(mean_abs / mc if mc > 0 else np.zeros_like(mean_abs))
            codes = omp(stats.low[band], (x_c / stats.scale[band]).T, params.sparsity)
            delta_fine = mean[:, None] + reconstruct(stats.high[band], codes) * stats.scale[band]
            fine = windows(np.where(block.fine_mask[k], block.fine[k, band], 0.0), 0.0)
            side_pred.append(fine + delta_fine)
        w1, w3 = _weights(side_v[0], side_v[1], params.weights_diff_tol)
        preds.append(w1[:, None] * side_pred[0] + w3[:, None] * side_pred[1])

    # average the overlapping patch predictions, patch offsets in a fixed order
    count = np.zeros((hp, wp))
    acc = np.zeros((bands, hp, wp))
    vals = np.zeros((bands, nr, nc, p, p))
    for band in range(bands):
        vals[band][used] = preds[band].reshape(-1, p, p)
    used_f = used.astype(np.float64)
    for di in range(p):
        rsl = slice(sr + di, sr + di + step * (nr - 1) + 1, step)
        for dj in range(p):
            csl = slice(sc + dj, sc + dj + step * (nc - 1) + 1, step)
            count[rsl, csl] += used_f
            acc[:, rsl, csl] += vals[:, :, :, di, dj]
    # pixels near the block's top/left edge that only patches starting before the block cover
    # (halo pixels of a tile) are left unpredicted
    ok &= count[:rows, :cols] > 0
    data[:, ok] = acc[:, :rows, :cols][:, ok] / count[:rows, :cols][ok]
    return data, ok


def _strips(rows: int, halo: int, n: int) -> list[tuple[int, int, int, int]]:
    """``n`` row strips (start, stop) with their halo window (lo, hi)."""
    step = max(1, -(-rows // n))
    out = []
    for a in range(0, rows, step):
        b = min(rows, a + step)
        out.append((a, b, max(0, a - halo), min(rows, b + halo)))
    return out


def predict(task: FusionTask, params: SpstfmParams, classes: Any = None, threads: int | None = None) -> Scene:
    """Registry entry point: train (`stats`), then reconstruct the whole task. With ``threads`` > 1
    (default: all cores) bands are trained and row strips reconstructed in worker processes; the
    result does not depend on the number of workers."""
    if classes is not None:
        raise InvalidParameterError("spstfm does not use a class map; run it without classes")
    _check(task)
    workers = _threads(threads)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # tiny BLAS calls: threads only add overhead
        st = stats(task, params, threads=workers)
        block = Block.from_task(task)
        rows, cols = block.target_mask.shape
        step = params.patch_size - params.patch_overlap
        codes = 2 * block.target.shape[0] * (-(-rows // step)) * (-(-cols // step))
        n = workers if codes >= PARALLEL_MIN_CODES else 1
        halo = spstfm_halo(params, None)
        parts = _strips(rows, halo, n)
        strips = [(block.window(slice(lo, hi), slice(None)), st, params) for _, _, lo, hi in parts]
        results = _map(predict_block, strips, n)
    data = np.full(block.target.shape, np.nan, np.float32)
    mask = np.zeros((rows, cols), bool)
    for (a, b, lo, _), (d, m) in zip(parts, results):
        data[:, a:b] = d[:, a - lo : b - lo]
        mask[a:b] = m[a - lo : b - lo]
    if not mask.any():
        raise NoDataError(
            "spstfm: no pixel is valid in all five images (both pairs and the target); check their masks and nodata"
        )
    return task.fine_grid.replace(data=np.where(mask, data, np.nan).astype(np.float32), mask=mask,
                                  date=task.target.date, name="")


def spstfm(
    task: FusionTask,
    *,
    patch_size: int = 7,
    patch_overlap: int = 2,
    dict_size: int = 256,
    training_samples: int = 2000,
    sparsity: int = 3,
    min_train_iter: int = 10,
    max_train_iter: int = 20,
    weights_diff_tol: float = 0.2,
    seed: int = 0,
    threads: int | None = None,
) -> Scene:
    """SPSTFM prediction of the fine image at the target date from two pairs (Huang & Song 2012,
    IEEE TGRS 50(10):3707-3716; see the module docstring for the algorithm and every deliberate
    difference from the paper and imagefusion's implementation, and `SpstfmParams`).

    ``threads`` worker processes (default: all cores); the result does not depend on it.
    """
    params = SpstfmParams(patch_size=patch_size, patch_overlap=patch_overlap, dict_size=dict_size,
                          training_samples=training_samples, sparsity=sparsity, min_train_iter=min_train_iter,
                          max_train_iter=max_train_iter, weights_diff_tol=weights_diff_tol, seed=seed)
    return predict(task, params, threads=threads)
