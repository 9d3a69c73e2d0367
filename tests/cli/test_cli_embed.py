"""`stfusion embed train | infer | visualize` end to end on the eo-learn NDVI stack (a few steps), and
`stfusion embed probe` on tiny synthetic embedding maps."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("torch")

import json  # noqa: E402
import re  # noqa: E402

from stfusion.cli.main import cli  # noqa: E402
from stfusion.embed.maps import load_npy_pair, save_npy_pair  # noqa: E402
from stfusion.embed.quantise import quantise  # noqa: E402
from stfusion.io import read_scene  # noqa: E402


@pytest.mark.realdata
def test_train_infer_visualize(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("STFUSION_DATA", str(shared_data))
    run = CliRunner()
    model = tmp_path / "m.pt"
    r = run.invoke(cli, ["embed", "train", "--dataset", "ts_eolearn_ndvi", "--steps", "2", "--batch", "16",
                         "--out", str(model)])
    assert r.exit_code == 0 and model.is_file(), r.output
    prefix = tmp_path / "maps" / "eo"
    r = run.invoke(cli, ["embed", "infer", "--model", str(model), "--dataset", "ts_eolearn_ndvi", "--tile", "30",
                         "--out", str(prefix)])
    assert r.exit_code == 0, r.output
    e = load_npy_pair(prefix)
    assert e.shape == (101, 100, 128) and np.isfinite(e).all()
    tif = read_scene(prefix.with_suffix(".tif"), scale=1.0)
    assert tif.count == 128 and tif.crs and "32633" in tif.crs
    q = np.load(prefix.with_suffix(".npy"))
    assert np.array_equal(tif.data, np.moveaxis(q, -1, 0).astype(np.float32)) and tif.mask.all()  # tif = npy values
    r = run.invoke(cli, ["embed", "infer", "--model", str(model), "--dataset", "ts_eolearn_ndvi", "--out", str(prefix)])
    assert r.exit_code == 2 and "exists" in r.output  # the pair and the tif are not overwritten silently
    r = run.invoke(cli, ["embed", "visualize", str(prefix.with_suffix(".npy")), "--out", str(tmp_path / "pca.png")])
    assert r.exit_code == 0 and (tmp_path / "pca.png").stat().st_size > 1000, r.output
    r = run.invoke(cli, ["embed", "infer", "--model", str(tmp_path / "none.pt"), "--dataset", "ts_eolearn_ndvi",
                         "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "does not exist" in r.output
    assert "stfusion embed train --dataset" in run.invoke(cli, ["embed", "--help"]).output


def _synthetic_pair(tmp_path, rows: int = 24, cols: int = 20):
    """An int8 embedding pair whose first channel separates two classes, and the class labels (0 = no data)."""
    rng = np.random.default_rng(0)
    e = rng.standard_normal((rows, cols, 16)).astype(np.float32)
    labels = np.where(e[..., 0] > 0, 2, 1).astype(np.int16)
    e[..., 0] *= 4  # a strong signal
    labels[:3, :3] = 0
    valid = np.ones((rows, cols), bool)
    valid[-1, -1] = False  # no data
    save_npy_pair(*quantise(e, valid), tmp_path / "emb")
    return tmp_path / "emb.npy", labels


def test_probe_classify_and_regress_end_to_end(tmp_path):
    run = CliRunner()
    emb, labels = _synthetic_pair(tmp_path)
    np.save(tmp_path / "lab.npy", labels)
    out = tmp_path / "probe" / "lin"
    r = run.invoke(cli, ["embed", "probe", str(emb), "--labels", str(tmp_path / "lab.npy"), "--block", "4",
                         "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "macro-F1" in r.output and "OA" in r.output
    metrics = json.loads(out.with_suffix(".json").read_text())
    assert metrics["accuracy"] > 0.9 and metrics["macro_f1"] > 0.9 and metrics["classes"] == [1, 2]
    pred = np.load(out.with_suffix(".npy"))
    assert pred.shape == labels.shape and pred[-1, -1] == metrics["nodata"] == -1 and set(np.unique(pred)) == {-1, 1, 2}
    assert metrics["train_pixels"] + metrics["test_pixels"] == labels.size - 9 - 1  # class 0 and no-data dropped
    from cli_rasters import write_tif

    tif_labels = labels.copy()
    tif_labels[5, :] = 255  # nodata in the GeoTIFF: dropped like class 0
    write_tif(tmp_path / "lab.tif", tif_labels[None].astype(np.uint8), nodata=255)
    r = run.invoke(cli, ["embed", "probe", str(emb), "--labels", str(tmp_path / "lab.tif"), "--block", "4",
                         "--head", "rf", "--fraction", "0.5", "--seed", "1"])
    assert r.exit_code == 0 and "rf head (classify)" in r.output, r.output
    train, test = (int(v) for v in re.search(r"(\d+) train / (\d+) test", r.output).groups())
    assert test == metrics["test_pixels"] - 12 and train < 0.5 * metrics["train_pixels"]  # 12 of row 5 are test
    write_tif(tmp_path / "two.tif", np.stack([tif_labels, tif_labels]).astype(np.uint8), nodata=255)
    r = run.invoke(cli, ["embed", "probe", str(emb), "--labels", str(tmp_path / "two.tif")])
    assert r.exit_code == 2 and "2 bands" in r.output
    height = (np.load(emb).astype(np.float32)[..., 0] * 0.1 + 3.0).astype(np.float32)
    np.save(tmp_path / "height.npy", height)
    r = run.invoke(cli, ["embed", "probe", str(emb), "--labels", str(tmp_path / "height.npy"), "--head", "unet",
                         "--steps", "3", "--block", "6", "--fraction", "0.5", "--out", str(tmp_path / "u")])
    assert r.exit_code == 0, r.output
    assert "RMSE" in r.output and "R²" in r.output
    m = json.loads((tmp_path / "u.json").read_text())
    assert m["task"] == "regress" and m["head"] == "unet" and np.isfinite([m["rmse"], m["mae"], m["r2"]]).all()
    r = run.invoke(cli, ["embed", "probe", str(emb), "--labels", str(tmp_path / "height.npy"), "--task", "regress"])
    assert r.exit_code == 0 and "linear head (regress)" in r.output and "R²" in r.output, r.output
    assert "stfusion embed probe maps/eo.npy" in run.invoke(cli, ["embed", "probe", "--help"]).output


def test_probe_usage_errors_are_one_line(tmp_path):
    run = CliRunner()
    emb, labels = _synthetic_pair(tmp_path)
    np.save(tmp_path / "small.npy", labels[:10])
    r = run.invoke(cli, ["embed", "probe", str(emb), "--labels", str(tmp_path / "small.npy"), "--out",
                         str(tmp_path / "p")])
    assert r.exit_code == 2 and "labels have shape (10, 20)" in r.output and "(24, 20)" in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert not list(tmp_path.glob("p*"))  # nothing written
    np.save(tmp_path / "lab.npy", labels)
    r = run.invoke(cli, ["embed", "probe", str(emb), "--labels", str(tmp_path / "lab.npy"), "--head", "unet",
                         "--task", "classify"])
    assert r.exit_code == 2 and "regression head" in r.output
    r = run.invoke(cli, ["embed", "probe", str(emb), "--labels", str(tmp_path / "lab.npy"), "--ignore", "a,b"])
    assert r.exit_code == 2 and "--ignore" in r.output
    r = run.invoke(cli, ["embed", "probe", str(tmp_path / "none.npy"), "--labels", str(tmp_path / "lab.npy")])
    assert r.exit_code == 2 and "cannot read the embedding pair" in r.output


def test_train_and_infer_on_a_folder_of_dated_stacks(tmp_path, monkeypatch):
    """The whole chain on a user folder: 4 dated 2-band GeoTIFFs (one with an SCL raster) -> model -> maps;
    a training killed after its first step resumes from OUT.state when the command is run again."""
    import stfusion.embed.nets.train as train

    from cli_rasters import write_tif

    rng = np.random.default_rng(1)
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    for k, day in enumerate(("20210105", "20210301", "20210602", "20210915")):
        write_tif(stacks / f"S2_{day}.tif", (rng.uniform(0, 0.5, (2, 12, 10)) + 0.1 * k).astype(np.float32))
    scl = np.full((1, 12, 10), 4, np.uint8)
    scl[0, :4] = 9  # cloud on the top rows of the second date
    write_tif(stacks / "S2_20210301_SCL.tif", scl, nodata=255)
    run = CliRunner()
    model, state = tmp_path / "m.pt", tmp_path / "m.pt.state"
    args = ["embed", "train", "--dataset", str(stacks), "--steps", "2", "--batch", "8", "--samples", "3",
            "--checkpoint-every", "1", "--out", str(model)]
    real, calls = train.barlow_twins, []
    monkeypatch.setattr(train, "barlow_twins", lambda *a: calls.append(1) or (real(*a) if len(calls) < 2 else 1 / 0))
    r = run.invoke(cli, args)
    assert isinstance(r.exception, ZeroDivisionError) and state.is_file() and not model.exists()
    monkeypatch.setattr(train, "barlow_twins", real)
    r = run.invoke(cli, args)
    assert r.exit_code == 0 and "resuming from" in r.output and model.is_file() and not state.exists(), r.output
    r = run.invoke(cli, ["embed", "infer", "--model", str(model), "--dataset", str(stacks), "--draws", "2",
                         "--out", str(tmp_path / "e")])
    assert r.exit_code == 0, r.output
    e = load_npy_pair(tmp_path / "e")
    assert e.shape == (12, 10, 128) and np.isfinite(e).all()
    r = run.invoke(cli, ["embed", "train", "--dataset", "no_such_set", "--out", str(tmp_path / "x.pt")])
    assert r.exit_code == 2 and "ts_eolearn_ndvi" in r.output and not (tmp_path / "x.pt").exists()


def _sensor_stacks(root, rows: int, cols: int, seed: int = 0, s1_nan: bool = False):
    """s2/ (2 bands uint16, nodata 0, one SCL raster) and s1/ (VV, VH float dB) sub-folders on one grid."""
    from cli_rasters import write_tif

    rng = np.random.default_rng(seed)
    for sub in ("s2", "s1"):
        (root / sub).mkdir(parents=True)
    for day in ("20210105", "20210301", "20210602", "20210915"):
        x = rng.integers(200, 4000, (2, rows, cols)).astype(np.uint16)
        x[:, rng.random((rows, cols)) < 0.1] = 0
        write_tif(root / "s2" / f"S2_{day}.tif", x, nodata=0)
    scl = np.full((1, rows, cols), 4, np.uint8)
    scl[0, : rows // 2] = 9
    write_tif(root / "s2" / "S2_20210301_SCL.tif", scl, nodata=255)
    for day in ("20210110", "20210420", "20210801"):
        vv = rng.uniform(-20, -5, (2, rows, cols)).astype(np.float32)
        vv[:, rng.random((rows, cols)) < (1.0 if s1_nan else 0.1)] = np.nan
        write_tif(root / "s1" / f"S1_{day}.tif", vv, nodata=None)
    return root


def test_infer_streams_a_folder_tile_by_tile(tmp_path):
    """A folder is embedded tile by tile from the files: --tile 2 (3 tiles of 5, 5, 3 rows: 4096 // 800 = 5
    rows per forward pass) equals --tile 100 and the in-memory path, and the GeoTIFF is on the folder's grid."""
    from cli_rasters import FINE_TRANSFORM

    from stfusion.data.dpixel_sources import dpixels_of
    from stfusion.embed.nets.train import load_model
    from stfusion.embed.tiles import iter_tiles

    stacks = _sensor_stacks(tmp_path / "scene", rows=13, cols=800)
    run = CliRunner()
    model = tmp_path / "m.pt"
    r = run.invoke(cli, ["embed", "train", "--dataset", str(stacks), "--steps", "2", "--batch", "8", "--samples", "3",
                         "--out", str(model)])
    assert r.exit_code == 0, r.output
    outs = {}
    for tile in (2, 100):
        prefix = tmp_path / f"t{tile}"
        r = run.invoke(cli, ["embed", "infer", "--model", str(model), "--dataset", str(stacks), "--tile", str(tile),
                             "--seed", "4", "--out", str(prefix)])
        assert r.exit_code == 0, r.output
        outs[tile] = (np.load(prefix.with_suffix(".npy")), np.load(tmp_path / f"t{tile}_scales.npy"))
    (q, s), (q100, s100) = outs[2], outs[100]
    assert q.shape == (13, 800, 128) and q.dtype == np.int8 and np.isnan(s).any() and np.isfinite(s).any()
    assert np.array_equal(q, q100) and np.array_equal(s, s100, equal_nan=True)
    m, std, _ = load_model(model)
    mem = list(iter_tiles(m, std, dpixels_of(stacks), tile=2, seed=4, progress=False))
    assert [b for b, _, _ in mem] == [slice(0, 5), slice(5, 10), slice(10, 13)]
    assert np.array_equal(q, np.concatenate([t[1] for t in mem]))
    assert np.array_equal(s, np.concatenate([t[2] for t in mem]), equal_nan=True)
    tif = read_scene(tmp_path / "t2.tif", scale=1.0)
    assert tif.transform == tuple(FINE_TRANSFORM)[:6] and tif.crs == "EPSG:32633"
    assert np.array_equal(tif.data[:, tif.mask], np.moveaxis(q, -1, 0)[:, tif.mask].astype(np.float32))
    assert np.array_equal(tif.mask, np.isfinite(s))
    # a folder without the model's sensors, or without any valid pixel: one line, nothing written
    r = run.invoke(cli, ["embed", "infer", "--model", str(model), "--dataset", str(stacks / "s2"), "--out",
                         str(tmp_path / "x")])
    assert r.exit_code == 2 and "trained on" in r.output and len(r.output.strip().splitlines()) == 1, r.output
    empty = _sensor_stacks(tmp_path / "empty", rows=6, cols=800, s1_nan=True)
    r = run.invoke(cli, ["embed", "infer", "--model", str(model), "--dataset", str(empty), "--tile", "2", "--out",
                         str(tmp_path / "y")])
    assert r.exit_code == 2 and "no pixel" in r.output, r.output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(("x", "y", ".x", ".y"))]
