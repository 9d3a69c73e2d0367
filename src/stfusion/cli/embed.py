"""`stfusion embed`: train the temporal-embedding model, embed a scene tile by tile, draw a PCA false
colour, and probe the embeddings with a head on a spatial split."""

from __future__ import annotations

from pathlib import Path

import click

from .options import check_output

SOURCE_HELP = ("A built-in series (ts_eolearn_ndvi, ts_fusets_field, ts_presto_algae, ts_presto_fuel) or a folder "
               "of dated GeoTIFF stacks (one file per date, optional NAME_SCL / NAME_mask rasters; sub-folders s2/, s1/ "
               "or s1_ascending/ + s1_descending/ for several sensors).")


def _dpixels(source: str):
    from ..data.dpixel_sources import dpixels_of

    return dpixels_of(Path(source) if Path(source).is_dir() else source)


def _check_sensors(found: dict[str, int], trained: dict[str, int], dataset: str) -> None:
    """A one-line error when the folder's sensors or band counts are not the model's (before any pixel is read)."""
    from ..core.errors import BandMismatchError

    if found != trained:
        def text(d: dict[str, int]) -> str:
            return ", ".join(f"{k} ({v} bands)" for k, v in sorted(d.items()))

        raise BandMismatchError(f"{dataset} has the sensors {text(found)} but the model was trained on "
                                f"{text(trained)}; embed a folder with the model's sensors and bands")


@click.group()
def embed() -> None:
    """Temporal embeddings of pixel time series (TESSERA-style).

    \b
    stfusion embed train --dataset ts_eolearn_ndvi --size tiny --steps 300 --out emb.pt
    stfusion embed infer --model emb.pt --dataset ts_eolearn_ndvi --out emb/ts_eolearn_ndvi
    stfusion embed visualize emb/ts_eolearn_ndvi.npy --out pca.png
    stfusion embed probe emb/ts_eolearn_ndvi.npy --labels lulc.npy --head linear --fraction 0.05
    stfusion embed probe tessera/ --year 2024 --labels fields.gpkg --label-field crop --out probe/crops
    """


@embed.command()
@click.option("--dataset", required=True, help=SOURCE_HELP)
@click.option("--size", type=click.Choice(["tiny", "small", "v1"]), default="tiny", show_default=True)
@click.option("--samples", type=click.IntRange(min=1), default=None,
              help="Observations sampled per view and sensor (default: the size's, 16 for tiny, 40 for v1).")
@click.option("--steps", type=click.IntRange(min=1), default=300, show_default=True)
@click.option("--batch", type=click.IntRange(min=2), default=256, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--qat", is_flag=True, help="Quantisation-aware training (int8 fake quantisation of the embedding).")
@click.option("--device", default="cpu", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Model checkpoint to write.")
@click.option("--checkpoint-every", "every", type=click.IntRange(min=1), default=100, show_default=True,
              metavar="STEPS", help="Write the training state (OUT.state) every STEPS steps.")
@click.option("--overwrite", is_flag=True)
def train(dataset: str, size: str, samples: int | None, steps: int, batch: int, seed: int, qat: bool, device: str,
          out: Path, every: int, overwrite: bool) -> None:
    """Train the model self-supervised (Barlow Twins + L_MIX) on every pixel of DATASET.

    The training state is saved to OUT.state every --checkpoint-every steps; if the run is killed,
    the same command resumes it from there (to the same weights) and removes it at the end.

    \b
    stfusion embed train --dataset ts_eolearn_ndvi --size tiny --samples 32 --steps 300 --out emb.pt
    stfusion embed train --dataset my_s2_stacks/ --size small --steps 2000 --out s2.pt
    """
    import dataclasses

    from ..embed.config import config
    from ..embed.nets.train import fit_embedding, save_model

    check_output(out, overwrite)
    dp = _dpixels(dataset)
    cfg = config(size).with_sensors(**{k: len(s.bands) for k, s in dp.sensors.items()})
    if samples is not None:
        cfg = dataclasses.replace(cfg, samples=samples)
    state = out.with_name(out.name + ".state")
    if state.is_file():
        click.echo(f"resuming from {state}")
    model, std, hist = fit_embedding(dp, cfg, steps=steps, batch=batch, seed=seed, qat=qat, device=device,
                                     state=state, every=every)
    save_model(model, std, out, {"dataset": dataset, "steps": steps, "seed": seed, "qat": qat,
                                 "loss_first": hist[0]["loss"], "loss_last": hist[-1]["loss"]})
    state.unlink(missing_ok=True)
    click.echo(f"loss {hist[0]['loss']:.1f} -> {hist[-1]['loss']:.1f}; wrote {out}")


@embed.command()
@click.option("--model", "model_path", type=click.Path(path_type=Path), required=True)
@click.option("--dataset", required=True, help=SOURCE_HELP + " It must be a grid.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the temporal sample drawn per pixel.")
@click.option("--draws", type=click.IntRange(min=1), default=1, show_default=True,
              help="Average the embeddings of this many sample draws (TESSERA's maps: 1; 8 is less noisy).")
@click.option("--tile", type=click.IntRange(min=1), default=256, show_default=True, metavar="ROWS",
              help="Rows embedded at a time; sets the peak memory, not the values.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output prefix: OUT.npy, OUT_scales.npy, OUT.tif.")
@click.option("--overwrite", is_flag=True)
def infer(model_path: Path, dataset: str, seed: int, draws: int, tile: int, out: Path, overwrite: bool) -> None:
    """Embed every pixel, TILE rows at a time: the int8 .npy pair with per-pixel scales, and a
    GeoTIFF of the int8 values (stored as int16, nodata -32768) on the scene's grid and CRS.
    A folder is read tile by tile from its files (peak memory set by TILE, not by the scene); a
    built-in data set is loaded whole. The values do not depend on TILE.

    \b
    stfusion embed infer --model emb.pt --dataset ts_eolearn_ndvi --tile 128 --draws 8 --out maps/eo
    """
    import dask.array as da
    import numpy as np

    from ..core.errors import NoDataError, ShapeMismatchError
    from ..core.scene import RasterEncoding, Scene
    from ..embed.nets.train import load_model
    from ..embed.tiles import NpyPairWriter, iter_tiles, iter_tiles_from, pair_paths
    from ..io.blockwrite import BlockWriter

    tif = out.with_suffix(".tif")
    for path in (*pair_paths(out), tif):
        check_output(path, overwrite)
    model, std, _ = load_model(model_path)
    if Path(dataset).is_dir():  # streamed: one tile of rows read at a time
        from ..data.dpixel_sources import dpixels_of, folder_grid

        folder = Path(dataset)
        plan = folder_grid(folder)
        _check_sensors({k: len(b) for k, b in plan.bands.items()}, dict(model.cfg.sensors), dataset)
        (rows, cols), transform, crs = plan.shape, plan.transform, plan.crs
        tiles = iter_tiles_from(model, std, lambda r0, r1: dpixels_of(folder, rows=slice(r0, r1)), plan.shape,
                                tile=tile, seed=seed, draws=draws)
    else:
        dp = _dpixels(dataset)
        if dp.shape is None:
            raise ShapeMismatchError(f"{dataset} is a table of pixel series, not a grid; embed it from Python with "
                                     "stfusion.embed.nets.train.embed")
        if not dp.any_valid.any():
            raise NoDataError(f"no pixel of {dataset} has a valid observation of every sensor; check its cloud masks")
        (rows, cols), transform, crs = dp.shape, dp.transform, dp.crs
        tiles = iter_tiles(model, std, dp, tile=tile, seed=seed, draws=draws)
    dim = model.cfg.latent
    grid = Scene(data=da.zeros((dim, rows, cols), dtype=np.float32, chunks=(dim, tile, cols)),
                 mask=da.ones((rows, cols), dtype=bool, chunks=(tile, cols)), transform=transform, crs=crs,
                 bands=tuple(f"e{i}" for i in range(dim)), name=tif.name)
    found = False
    with BlockWriter(tif, grid, RasterEncoding("int16", 1.0, 0.0, -32768)) as geotiff, \
            NpyPairWriter(out, (rows, cols), dim) as pair:
        for block, q, scales in tiles:
            valid = np.isfinite(scales)
            found = found or bool(valid.any())
            pair.write(block, q, scales)
            geotiff.write(block, slice(0, cols), np.moveaxis(q, -1, 0).astype(np.float32), valid)
        if not found:  # leaving the writers without commit removes their temporary files
            raise NoDataError(f"no pixel of {dataset} has a valid observation of every sensor; check its cloud masks")
        geotiff.commit()
        paths = pair.commit()
    click.echo(f"wrote {paths[0]}, {paths[1]} and {tif} (int8 values; multiply by the scales to dequantise)")


def _bbox(ctx: click.Context, param: click.Parameter, text: str | None) -> tuple[float, ...] | None:
    """``--bbox`` "min_lon,min_lat,max_lon,max_lat" -> four floats."""
    if text is None:
        return None
    try:
        box = tuple(float(v) for v in text.split(","))
    except ValueError:
        box = ()
    if len(box) != 4:
        raise click.BadParameter(f"{text!r} is not min_lon,min_lat,max_lon,max_lat; e.g. --bbox 0.1,52.0,0.3,52.2")
    return box


def _tile_options(f):
    f = click.option("--bbox", callback=_bbox, metavar="W,S,E,N",
                     help="Only this lon/lat box of a geotessera folder (min_lon,min_lat,max_lon,max_lat).")(f)
    return click.option("--year", type=int, default=None,
                        help="Year of a geotessera folder's tiles [default: its only year].")(f)


def _sources(embeddings: Path, year: int | None, bbox: tuple[float, ...] | None):
    """[(label, georeferenced, load)] of the maps of EMBEDDINGS: one per UTM zone of a geotessera
    folder (headers read, tiles not yet), or the .npy pair (label "")."""
    from functools import partial

    from ..core.errors import InvalidParameterError

    if embeddings.is_dir():
        from ..io.tessera import find_tiles
        from ..io.tessera_mosaic import by_zone, mosaic, zone_label

        return [(zone_label(crs), True, partial(mosaic, tiles, bbox))
                for crs, tiles in by_zone(find_tiles(embeddings, year, bbox)).items()]
    if year is not None or bbox is not None:
        raise InvalidParameterError(f"--year and --bbox select the tiles of a geotessera folder; {embeddings} is "
                                    "an .npy pair")
    tif = embeddings.with_suffix(".tif")
    return [("", tif.is_file(), partial(_pair_grid, embeddings, tif))]


def _pair_grid(path: Path, tif: Path):
    """The .npy pair as an `EmbeddingGrid`, with the grid of the GeoTIFF beside it when there is one."""
    from ..core.errors import ShapeMismatchError
    from ..embed.maps import load_npy_pair
    from ..io.tessera import raster_grid
    from ..io.tessera_mosaic import EmbeddingGrid

    values = load_npy_pair(path)
    if not tif.is_file():
        return EmbeddingGrid(values, None, None)
    shape, crs, transform = raster_grid(tif)
    if shape != values.shape[:2]:
        raise ShapeMismatchError(f"{tif} is {shape} but the pair {path} is {values.shape[:2]}; write both with "
                                 "`stfusion embed infer`")
    return EmbeddingGrid(values, crs, transform)


def _named(out: Path, label: str, many: bool, suffix: str) -> Path:
    """OUT.suffix, or OUT_LABEL.suffix when there are several maps (UTM zones)."""
    return out.with_name(f"{out.stem}_{label}{suffix}" if many else f"{out.stem}{suffix}")


@embed.command()
@click.argument("embeddings", type=click.Path(path_type=Path))
@_tile_options
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="PNG to write (OUT_EPSGxxxxx.png per UTM zone when the tiles are in several).")
@click.option("--overwrite", is_flag=True)
def visualize(embeddings: Path, year: int | None, bbox: tuple[float, ...] | None, out: Path, overwrite: bool) -> None:
    """A PCA false-colour PNG of EMBEDDINGS: an .npy pair from `stfusion embed infer`, or a geotessera
    embeddings folder (npy, tiff or zarr tiles). One PCA is fitted on all the tiles together.

    \b
    stfusion embed visualize maps/eo.npy --out pca.png
    stfusion embed visualize tessera/ --year 2024 --bbox 0.1,52.0,0.3,52.2 --out pca.png
    """
    import numpy as np

    from ..embed.maps import pca_rgb
    from ..embed.zones import side_by_side, split

    sources = _sources(embeddings, year, bbox)
    paths = [_named(out, label, len(sources) > 1, out.suffix) for label, _, _ in sources]
    for path in paths:
        check_output(path, overwrite)
    from ..core.errors import require

    matplotlib = require("matplotlib", "plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    canvas, places = side_by_side([load().values for _, _, load in sources])
    for rgb, path in zip(split(pca_rgb(canvas), places), paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        plt.imsave(path, np.nan_to_num(rgb, nan=0.0))
    click.echo(f"wrote {', '.join(map(str, paths))}")


def _ignore_values(text: str | None) -> tuple[float, ...] | None:
    """``--ignore`` "0,255" -> (0.0, 255.0); "none" -> (); not given -> None (the task's default)."""
    from ..core.errors import InvalidParameterError

    if text is None:
        return None
    if text.strip().lower() in ("none", ""):
        return ()
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise InvalidParameterError(f"--ignore {text!r} is not a comma-separated list of numbers; "
                                    "write e.g. --ignore 0,255 or --ignore none") from None


def _read_labels(path: Path):
    """(rows, cols) labels of a .npy array or a single-band raster (its nodata becomes NaN)."""
    import numpy as np

    from ..core.errors import FileFormatError, ShapeMismatchError
    from ..io import read_array

    if path.suffix.lower() == ".npy":
        try:
            labels = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise FileFormatError(f"cannot read the label array {path} ({exc}); save it with numpy.save") from None
    else:
        values, meta = read_array(path)
        if values.shape[0] != 1:
            raise ShapeMismatchError(f"the label raster {path} has {values.shape[0]} bands; give a single-band raster")
        labels = values[0]
        if meta["nodata"] is not None:
            labels = np.where(labels == meta["nodata"], np.nan, labels.astype(np.float64))
    if labels.ndim == 3 and labels.shape[-1] == 1:  # eo-learn's (rows, cols, 1) timeless layers
        labels = labels[..., 0]
    if labels.ndim != 2:
        raise ShapeMismatchError(f"the labels in {path} have shape {labels.shape}; expected (rows, cols)")
    return labels


@embed.command()
@click.argument("embeddings", type=click.Path(path_type=Path))
@_tile_options
@click.option("--labels", "labels_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Labels on the embedding grid: a (rows, cols) .npy or a single-band GeoTIFF (nodata dropped); or "
                   "points/polygons in GeoJSON, GeoPackage or a shapefile, or a CSV with lon/lat columns "
                   "(with --label-field).")
@click.option("--label-field", default=None, metavar="NAME",
              help="The field (CSV column) of vector labels holding the class (integer or text) or value.")
@click.option("--label-rule", type=click.Choice(["centre", "area"]), default="centre", show_default=True,
              help="Which pixels a polygon labels: those whose centre it holds, or those it covers by at least "
                   "half their area (mixed edge pixels dropped).")
@click.option("--head", type=click.Choice(["linear", "mlp", "rf", "unet"]), default="linear", show_default=True,
              help="unet: a small UNet on the whole map (regression).")
@click.option("--task", type=click.Choice(["classify", "regress"]), default=None,
              help="[default: classify; regress for --head unet]")
@click.option("--split", type=click.Choice(["checkerboard"]), default="checkerboard", show_default=True,
              help="Spatial split: train and test blocks alternate like a checkerboard (never random pixels).")
@click.option("--block", type=click.IntRange(min=1), default=10, show_default=True, help="Block side in pixels.")
@click.option("--fraction", type=click.FloatRange(0, 1, min_open=True), default=1.0, show_default=True,
              help="Fraction of the training labels used (stratified by class when classifying).")
@click.option("--ignore", default=None, metavar="VALUES",
              help='Comma-separated label values to drop, or "none" [default: 0 (no data) for classify with raster '
                   'labels, none otherwise].')
@click.option("--steps", type=click.IntRange(min=1), default=300, show_default=True, help="Training steps of the unet head.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output prefix: OUT.npy and OUT.tif (the predicted map; OUT_EPSGxxxxx.* per UTM zone when the "
                   "tiles are in several; the .tif when the grid is known) and OUT.json (the metrics).")
@click.option("--overwrite", is_flag=True)
def probe(embeddings: Path, year: int | None, bbox: tuple[float, ...] | None, labels_path: Path,
          label_field: str | None, label_rule: str, head: str, task: str | None, split: str, block: int,
          fraction: float, ignore: str | None, steps: int, seed: int, out: Path | None, overwrite: bool) -> None:
    """Train a head on EMBEDDINGS (an .npy pair from `stfusion embed infer`, or a geotessera
    embeddings folder) and score it on held-out checkerboard blocks: macro-F1, overall accuracy, the
    F1 of each class and the confusion matrix, or RMSE, MAE and R².

    \b
    stfusion embed probe maps/eo.npy --labels lulc.tif --head mlp --fraction 0.05
    stfusion embed probe maps/eo.npy --labels height.npy --head unet --block 16 --out probe/height
    stfusion embed probe tessera/ --year 2024 --labels fields.gpkg --label-field crop --out probe/crops
    """
    import json
    import math

    from ..bench.atomic import write_text
    from ..core.errors import InvalidParameterError, ShapeMismatchError
    from ..embed.heads import probe as run_probe
    from ..embed.maps import _save_npy
    from ..embed.zones import side_by_side
    from ..embed.zones import split as split_maps
    from ..io.vector_labels import is_vector

    sources = _sources(embeddings, year, bbox)
    many = len(sources) > 1
    maps = [] if out is None else [(_named(out, label, many, ".npy"), _named(out, label, many, ".tif") if geo else None)
                                   for label, geo, _ in sources]
    for path in [p for pair in maps for p in pair if p is not None] + ([out.with_suffix(".json")] if out else []):
        check_output(path, overwrite)
    values = _ignore_values(ignore)
    vector = None
    if is_vector(labels_path):
        from ..io.vector_labels import read_vector_labels

        vector = read_vector_labels(labels_path, label_field)
    elif label_field is not None:
        raise InvalidParameterError(f"--label-field names a field of vector or CSV labels; {labels_path.name} is a "
                                    "raster or .npy")
    elif many:
        raise ShapeMismatchError(f"the tiles are in {len(sources)} UTM zones ({', '.join(s[0] for s in sources)}), "
                                 "which one label raster cannot cover; give vector labels or a --bbox in one zone")
    grids = [load() for _, _, load in sources]
    extra: dict = {}
    if vector is not None:
        from ..io.label_grid import rasterise_labels

        label_maps, counts = rasterise_labels(vector, grids, rule=label_rule)
        click.echo(counts.line())
        values = () if values is None else values  # unlabelled pixels are NaN; every value is a class
        extra = {"label_field": label_field, "label_rule": label_rule, "label_counts": vars(counts)}
        if vector.names:
            extra["class_names"] = dict(enumerate(vector.names, start=1))
    else:
        label_maps = [_read_labels(labels_path)]
    emb, places = side_by_side([g.values for g in grids])
    labels, _ = side_by_side(label_maps)
    pred, metrics = run_probe(emb, labels, head=head, task=task, block=block, fraction=fraction, ignore=values,
                              seed=seed, steps=steps)
    metrics.update(embeddings=str(embeddings), labels=str(labels_path), **extra)
    if many:
        metrics["zones"] = [g.label for g in grids]
    click.echo(f"{head} head ({metrics['task']}), {split} of {block}-px blocks: {metrics['train_pixels']} train / "
               f"{metrics['test_pixels']} test pixels")
    if metrics["task"] == "classify":
        click.echo(f"macro-F1 {metrics['macro_f1']:.3f}  OA {metrics['accuracy']:.3f}  "
                   f"({len(metrics['classes'])} classes)")
    else:
        r2 = f"{metrics['r2']:.3f}" if math.isfinite(metrics["r2"]) else "n/a (constant test labels)"
        click.echo(f"RMSE {metrics['rmse']:.4g}  MAE {metrics['mae']:.4g}  R² {r2}")
    if out is not None:
        written = []
        for piece, grid, (npy, tif) in zip(split_maps(pred, places), grids, maps):
            npy.parent.mkdir(parents=True, exist_ok=True)
            _save_npy(npy, piece)
            written.append(npy)
            if tif is not None:
                written.append(_write_prediction(tif, piece, grid, metrics))
        plain = {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in metrics.items()}
        write_text(out.with_suffix(".json"), json.dumps(plain, indent=2) + "\n")
        click.echo(f"wrote {', '.join(map(str, written))} and {out.with_suffix('.json')}")


def _write_prediction(path: Path, pred, grid, metrics: dict) -> Path:
    """The predicted map as a GeoTIFF on the grid: int32 classes (nodata ``metrics["nodata"]``) or
    float32 values (NaN)."""
    import numpy as np

    from ..core.scene import RasterEncoding, Scene
    from ..io import write_scene

    classify = metrics["task"] == "classify"
    valid = pred != metrics["nodata"] if classify else np.isfinite(pred)
    enc = RasterEncoding("int32", nodata=metrics["nodata"]) if classify else RasterEncoding("float32")
    scene = Scene(data=np.where(valid, pred, 0).astype(np.float32)[None], mask=valid, transform=grid.transform,
                  crs=grid.crs, bands=("class" if classify else "value",), name=path.name)
    return write_scene(scene, path, encoding=enc, overwrite=True)
