"""`stfusion embed`: train the temporal-embedding model, embed a scene, and draw a PCA false colour."""

from __future__ import annotations

from pathlib import Path

import click

from .options import check_output

SERIES = ("ts_eolearn_ndvi",)


def _dpixels(dataset: str):
    from ..data import load_dataset
    from ..data.ts_sets import image_series_dpixels

    return image_series_dpixels(load_dataset(dataset))


@click.group()
def embed() -> None:
    """Temporal embeddings of pixel time series (TESSERA-style).

    \b
    stfusion embed train --dataset ts_eolearn_ndvi --size tiny --steps 300 --out emb.pt
    stfusion embed infer --model emb.pt --dataset ts_eolearn_ndvi --out emb/ts_eolearn_ndvi
    stfusion embed visualize emb/ts_eolearn_ndvi.npy --out pca.png
    """


@embed.command()
@click.option("--dataset", type=click.Choice(SERIES), required=True, help="An image time series of ../shared/data.")
@click.option("--size", type=click.Choice(["tiny", "small", "v1"]), default="tiny", show_default=True)
@click.option("--steps", type=click.IntRange(min=1), default=300, show_default=True)
@click.option("--batch", type=click.IntRange(min=2), default=256, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--qat", is_flag=True, help="Quantisation-aware training (int8 fake quantisation of the embedding).")
@click.option("--device", default="cpu", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Model checkpoint to write.")
@click.option("--overwrite", is_flag=True)
def train(dataset: str, size: str, steps: int, batch: int, seed: int, qat: bool, device: str, out: Path,
          overwrite: bool) -> None:
    """Train the model self-supervised (Barlow Twins + L_MIX) on every pixel of DATASET."""
    from ..embed.config import config
    from ..embed.nets.train import fit_embedding, save_model

    check_output(out, overwrite)
    dp = _dpixels(dataset)
    cfg = config(size).with_sensors(**{k: len(s.bands) for k, s in dp.sensors.items()})
    model, std, hist = fit_embedding(dp, cfg, steps=steps, batch=batch, seed=seed, qat=qat, device=device)
    save_model(model, std, out, {"dataset": dataset, "steps": steps, "seed": seed, "qat": qat,
                                 "loss_first": hist[0]["loss"], "loss_last": hist[-1]["loss"]})
    click.echo(f"loss {hist[0]['loss']:.1f} -> {hist[-1]['loss']:.1f}; wrote {out}")


@embed.command()
@click.option("--model", "model_path", type=click.Path(path_type=Path), required=True)
@click.option("--dataset", type=click.Choice(SERIES), required=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the temporal sample drawn per pixel.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output prefix: OUT.npy, OUT_scales.npy, OUT.tif.")
@click.option("--overwrite", is_flag=True)
def infer(model_path: Path, dataset: str, seed: int, out: Path, overwrite: bool) -> None:
    """Embed every pixel: the int8 .npy pair with per-pixel scales, and a GeoTIFF of the int8 values
    (stored as int16, nodata -32768) on the scene's grid and CRS."""
    import numpy as np

    from ..core.scene import RasterEncoding, Scene
    from ..embed.maps import save_npy_pair, to_grid
    from ..embed.nets.train import embed as run_embed
    from ..embed.nets.train import load_model
    from ..io import write_scene

    tif = out.with_suffix(".tif")
    check_output(tif, overwrite)
    model, std, _ = load_model(model_path)
    dp = _dpixels(dataset)
    e, ok = run_embed(model, std, dp, seed=seed)
    q, scales = to_grid(e, ok, dp.shape)
    paths = save_npy_pair(q, scales, out)
    scene = Scene(data=np.moveaxis(q.astype(np.float32), -1, 0), mask=np.asarray(ok).reshape(dp.shape),
                  transform=dp.transform, crs=dp.crs, bands=tuple(f"e{i}" for i in range(q.shape[-1])),
                  encoding=RasterEncoding("int16", 1.0, 0.0, -32768))
    write_scene(scene, tif, overwrite=overwrite)
    click.echo(f"wrote {paths[0]}, {paths[1]} and {tif} (int8 values; multiply by the scales to dequantise)")


@embed.command()
@click.argument("embeddings", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="PNG to write.")
@click.option("--overwrite", is_flag=True)
def visualize(embeddings: Path, out: Path, overwrite: bool) -> None:
    """A PCA false-colour PNG of an embedding map (.npy pair from `stfusion embed infer`)."""
    import numpy as np

    from ..embed.maps import load_npy_pair, pca_rgb

    check_output(out, overwrite)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rgb = pca_rgb(load_npy_pair(embeddings))
    plt.imsave(out, np.nan_to_num(rgb, nan=0.0))
    click.echo(f"wrote {out}")
