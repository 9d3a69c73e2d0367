"""Tiled inference: embed a gridded scene block of rows by block of rows, straight into the int8
``.npy`` pair, so that peak memory is set by the tile, not by the scene.

Randomness is defined per grid row: the temporal sample of row ``r`` is drawn by its own
generator, ``np.random.default_rng([seed, r])``, for every sensor in turn. The model reads whole
rows, ``max(1, batch // cols)`` of them per forward pass, aligned to the top of the scene (the
tile is rounded down to a multiple of that, at least one pass). So the values depend on the
seed and ``batch`` only, not on the tile: `stfusion.embed.nets.train.embed` (the whole scene in
memory, through `embed_rows`) and `iter_tiles` / `embed_tiled` with any tile give the same int8
values and scales bit for bit. (The forward passes must match too because float32 matrix
products may round differently with the batch size.) d-pixels without a grid count as rows of
`ROW_PIXELS` pixels.

`iter_tiles_from` streams: it reads each tile's rows with a ``read_rows(r0, r1)`` function (e.g.
`stfusion.data.dpixel_sources.geotiff_series_dpixels` with ``rows=``) and embeds them with their
global row numbers (`embed_rows` ``row_offset``), so a scene never held in memory gets the same
values as `iter_tiles` on the whole scene.

The pair is written into temporary ``.npy`` memmaps beside the outputs (`NpyPairWriter`), one
tile at a time, and renamed onto ``NAME.npy`` / ``NAME_scales.npy`` once every row is written; a
failed run removes them. Quantisation is `stfusion.embed.quantise.quantise` per tile, the same
per-pixel operation as `stfusion.embed.maps.to_grid` on the whole map.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np

from stfusion.core.dpixel import DPixels
from stfusion.core.errors import InvalidParameterError, ShapeMismatchError

from .quantise import quantise
from .sampling import sample_indices

if TYPE_CHECKING:
    from .nets.model import EmbeddingModel
    from .nets.train import Standardiser

ROW_PIXELS = 1024
DEFAULT_TILE = 256


def row_length(dp: DPixels) -> int:
    """Pixels per row of the sampling randomness: the grid's columns, else `ROW_PIXELS`."""
    return dp.shape[1] if dp.shape is not None else ROW_PIXELS


def n_rows(dp: DPixels) -> int:
    """Rows of ``dp`` (grid rows, or rows of `ROW_PIXELS` pixels; the last may be short)."""
    return dp.shape[0] if dp.shape is not None else -(-dp.pixels // ROW_PIXELS)


def rows_per_pass(dp: DPixels, batch: int, scene_rows: int | None = None) -> int:
    """Whole rows the model reads per forward pass: ``batch // row_length``, at least 1, at most the
    scene (``scene_rows``, default the rows of ``dp``)."""
    return _group(n_rows(dp) if scene_rows is None else scene_rows, row_length(dp), batch)


def _group(rows: int, length: int, batch: int) -> int:
    if batch < 1:
        raise InvalidParameterError(f"batch must be >= 1 pixel, got {batch}; e.g. batch=4096")
    return max(1, min(batch // length, rows))


def _check_seed(seed: int) -> None:
    if seed < 0:
        raise InvalidParameterError(f"the sampling seed must be >= 0, got {seed}; e.g. seed=0")


def _row_views(dp: DPixels, std: "Standardiser", rows: range, samples: int, seed: int, draw: int,
               device: Any, row_offset: int = 0) -> dict[str, tuple[Any, Any]]:
    """Model inputs of the pixels of ``rows`` of ``dp``: each row sampled by ``default_rng([seed, row])``
    (draw 0) or ``default_rng([seed, row, draw])``, ``row`` its global number ``row_offset + r``."""
    import torch

    length = row_length(dp)
    a, b = rows.start * length, min(rows.stop * length, dp.pixels)
    rngs = [np.random.default_rng([seed, g] if draw == 0 else [seed, g, draw])
            for g in range(rows.start + row_offset, rows.stop + row_offset)]
    out = {}
    for name, s in dp.sensors.items():
        valid = s.valid[a:b]
        idx = np.concatenate([sample_indices(valid[i * length:(i + 1) * length], samples, rng)[0]
                              for i, rng in enumerate(rngs)])
        x = np.take_along_axis(s.values[a:b], idx[..., None], axis=1)
        d = np.take_along_axis(s.doy_of(slice(a, b)), idx, axis=1)
        out[name] = (torch.from_numpy(std.apply(name, x)).to(device), torch.from_numpy(np.ascontiguousarray(d)).to(device))
    return out


def embed_rows(model: "EmbeddingModel", std: "Standardiser", dp: DPixels, start: int, stop: int, *,
               batch: int = 4096, seed: int = 0, draws: int = 1, device: str = "cpu", bar: Any = None,
               row_offset: int = 0, scene_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(P, latent) float32 embeddings of the pixels of rows ``start:stop`` and their (P,) valid flag
    (a valid observation of every sensor); invalid pixels get zeros. Each embedding is the mean over
    ``draws`` independent temporal samples (TESSERA's ``repeat_times``; 1 in the released maps).
    ``dp`` may be a block of a larger scene: its first row is row ``row_offset`` of a scene of
    ``scene_rows`` rows (default: the block ends the scene); sampling and forward passes follow the
    scene's rows. ``row_offset + start`` must be a multiple of `rows_per_pass` so that the forward
    passes are the scene's (see the module docstring); ``bar`` (a tqdm bar) advances by one per row."""
    import torch

    _check_seed(seed)
    if draws < 1:
        raise InvalidParameterError(f"draws must be >= 1 sample draw per pixel, got {draws}; e.g. draws=8")
    total = row_offset + n_rows(dp) if scene_rows is None else scene_rows
    if row_offset < 0 or row_offset + n_rows(dp) > total:
        raise InvalidParameterError(f"a block of {n_rows(dp)} rows at row {row_offset} is not inside a scene of "
                                    f"{total} rows; give row_offset >= 0 and scene_rows >= row_offset + rows")
    group = rows_per_pass(dp, batch, total)
    if (row_offset + start) % group or not 0 <= start <= stop <= n_rows(dp):
        raise InvalidParameterError(f"rows {row_offset + start}:{row_offset + stop} do not start a forward pass of "
                                    f"{group} rows in {row_offset}..{row_offset + n_rows(dp)}; start at a multiple "
                                    f"of {group}")
    length = row_length(dp)
    a, b = start * length, min(stop * length, dp.pixels)
    ok = np.logical_and.reduce([s.valid[a:b].any(axis=1) for s in dp.sensors.values()])
    out = np.zeros((b - a, model.cfg.latent), dtype=np.float32)
    dev = torch.device(device)
    model.to(dev).eval()
    with torch.no_grad():
        for r in range(start, stop, group):
            rows = range(r, min(r + group, stop))
            z = sum(model(_row_views(dp, std, rows, model.cfg.samples, seed, k, dev, row_offset))
                    for k in range(draws))
            out[(r - start) * length:(rows.stop - start) * length] = (z / draws).cpu().numpy()
            if bar is not None:
                bar.update(len(rows))
    out[~ok] = 0.0
    return out, ok


def tile_rows(dp: DPixels, tile: int, batch: int) -> int:
    """The tile actually used: ``tile`` rounded down to a multiple of `rows_per_pass`, at least one pass."""
    return _tile_step(rows_per_pass(dp, batch), tile)


def _tile_step(group: int, tile: int) -> int:
    if tile < 1:
        raise InvalidParameterError(f"the tile must be >= 1 row, got {tile}; e.g. tile={DEFAULT_TILE}")
    return max(group, tile // group * group)


def iter_tiles(model: "EmbeddingModel", std: "Standardiser", dp: DPixels, *, tile: int = DEFAULT_TILE,
               batch: int = 4096, seed: int = 0, draws: int = 1, device: str = "cpu", progress: bool = True
               ) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
    """``(rows, q, scales)`` per tile of a gridded ``dp``, top to bottom: the rows' int8 values
    (h, cols, latent) and float32 per-pixel scales (h, cols), NaN scale = no data."""
    from tqdm.auto import tqdm

    if dp.shape is None:
        raise ShapeMismatchError("the d-pixels have no grid; build them with shape=(rows, cols) to embed them tile "
                                 "by tile, or use stfusion.embed.nets.train.embed")
    _check_seed(seed)
    rows, cols = dp.shape
    step = tile_rows(dp, tile, batch)
    with tqdm(total=rows, desc="embedding", unit="row", disable=not progress) as bar:
        for r in range(0, rows, step):
            h = min(step, rows - r)
            e, ok = embed_rows(model, std, dp, r, r + h, batch=batch, seed=seed, draws=draws, device=device,
                               bar=bar)
            q, s = quantise(e.reshape(h, cols, -1), ok.reshape(h, cols))
            yield slice(r, r + h), q, s


def iter_tiles_from(model: "EmbeddingModel", std: "Standardiser", read_rows: Callable[[int, int], DPixels],
                    shape: tuple[int, int], *, tile: int = DEFAULT_TILE, batch: int = 4096, seed: int = 0,
                    draws: int = 1, device: str = "cpu", progress: bool = True
                    ) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
    """`iter_tiles` on a scene of ``shape`` (rows, cols) that is never loaded whole: each tile's rows
    come from ``read_rows(r0, r1)``, a gridded `DPixels` of shape (r1 - r0, cols). The values and
    scales equal `iter_tiles` on the whole scene bit for bit; memory is set by the tile."""
    from tqdm.auto import tqdm

    _check_seed(seed)
    rows, cols = (int(v) for v in shape)
    group = _group(rows, cols, batch)
    step = _tile_step(group, tile)
    with tqdm(total=rows, desc="embedding", unit="row", disable=not progress) as bar:
        for r in range(0, rows, step):
            h = min(step, rows - r)
            block = read_rows(r, r + h)
            if block.shape != (h, cols):
                raise ShapeMismatchError(f"read_rows({r}, {r + h}) gave d-pixels of shape {block.shape}; "
                                         f"expected {(h, cols)} rows x cols")
            e, ok = embed_rows(model, std, block, 0, h, batch=batch, seed=seed, draws=draws, device=device,
                               bar=bar, row_offset=r, scene_rows=rows)
            del block
            q, s = quantise(e.reshape(h, cols, -1), ok.reshape(h, cols))
            yield slice(r, r + h), q, s


def pair_paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """``NAME.npy`` and ``NAME_scales.npy`` of an output prefix (as `stfusion.embed.maps.save_npy_pair`)."""
    p = Path(path).with_suffix(".npy")
    return p, p.with_name(p.stem + "_scales.npy")


class NpyPairWriter:
    """``with NpyPairWriter(path, (rows, cols), dim) as w: w.write(rows, q, scales); ...; w.commit()``.

    Preallocates the int8 (rows, cols, dim) values and float32 (rows, cols) scales as ``.npy``
    memmaps in temporary files beside the outputs; `write` maps them only while it copies one
    block of rows in, so the process holds no more than a tile. `commit` checks that every row
    was written and renames both onto the outputs; leaving the block without `commit` (an error)
    removes the temporary files and leaves the outputs as they were.
    """

    def __init__(self, path: str | os.PathLike[str], shape: tuple[int, int], dim: int) -> None:
        self.paths = pair_paths(path)
        self.shape, self.dim = (int(shape[0]), int(shape[1])), int(dim)
        tag = uuid.uuid4().hex
        self._tmp = tuple(p.with_name(f".{p.name}.{tag}.part") for p in self.paths)
        self._done = np.zeros(self.shape[0], dtype=bool)

    def __enter__(self) -> "NpyPairWriter":
        self.paths[0].parent.mkdir(parents=True, exist_ok=True)
        try:
            for tmp, dtype, shape in zip(self._tmp, (np.int8, np.float32), ((*self.shape, self.dim), self.shape)):
                mm = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
                mm.flush()
                del mm
        except BaseException:
            self._cleanup()
            raise
        return self

    def write(self, rows: slice, q: np.ndarray, scales: np.ndarray) -> None:
        """Copy the values ``q`` (h, cols, dim) and ``scales`` (h, cols) of ``rows`` into the files."""
        h = len(range(*rows.indices(self.shape[0])))
        if q.shape != (h, self.shape[1], self.dim) or scales.shape != (h, self.shape[1]):
            raise ShapeMismatchError(f"a block of rows {rows.start}:{rows.stop} needs values {(h, self.shape[1], self.dim)} "
                                     f"and scales {(h, self.shape[1])}, got {q.shape} and {scales.shape}")
        for tmp, block in zip(self._tmp, (q, scales)):
            mm = np.lib.format.open_memmap(tmp, mode="r+")
            mm[rows] = block
            mm.flush()
            del mm
        self._done[rows] = True

    def commit(self) -> tuple[Path, Path]:
        """Rename the complete pair onto its paths; returns them."""
        if not self._done.all():
            missing = np.flatnonzero(~self._done)
            raise ShapeMismatchError(f"rows {missing[0]}..{missing[-1]} of the embedding pair were never written; "
                                     "write every row before commit")
        for tmp, path in zip(self._tmp, self.paths):
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        return self.paths

    def _cleanup(self) -> None:
        for tmp in self._tmp:
            tmp.unlink(missing_ok=True)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._cleanup()


def embed_tiled(model: "EmbeddingModel", std: "Standardiser", dp: DPixels, path: str | os.PathLike[str], *,
                tile: int = DEFAULT_TILE, batch: int = 4096, seed: int = 0, draws: int = 1, device: str = "cpu",
                progress: bool = True) -> tuple[Path, Path]:
    """Embed a gridded ``dp`` tile by tile into the ``.npy`` pair at ``path`` (``NAME.npy`` int8,
    ``NAME_scales.npy`` float32); the same values as `embed` + `stfusion.embed.maps.to_grid` +
    `stfusion.embed.maps.save_npy_pair`. Returns both paths."""
    if dp.shape is None:
        raise ShapeMismatchError("the d-pixels have no grid; build them with shape=(rows, cols) to embed them tile "
                                 "by tile, or use stfusion.embed.nets.train.embed")
    with NpyPairWriter(path, dp.shape, model.cfg.latent) as writer:
        for rows, q, s in iter_tiles(model, std, dp, tile=tile, batch=batch, seed=seed, draws=draws,
                                     device=device, progress=progress):
            writer.write(rows, q, s)
        return writer.commit()
