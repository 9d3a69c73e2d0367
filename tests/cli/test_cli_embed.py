"""`stfusion embed train | infer | visualize` end to end on the eo-learn NDVI stack (a few steps)."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("torch")

from stfusion.cli.main import cli  # noqa: E402
from stfusion.embed.maps import load_npy_pair  # noqa: E402
from stfusion.io import read_scene  # noqa: E402

pytestmark = pytest.mark.realdata


def test_train_infer_visualize(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("STFUSION_DATA", str(shared_data))
    run = CliRunner()
    model = tmp_path / "m.pt"
    r = run.invoke(cli, ["embed", "train", "--dataset", "ts_eolearn_ndvi", "--steps", "2", "--batch", "16",
                         "--out", str(model)])
    assert r.exit_code == 0 and model.is_file(), r.output
    prefix = tmp_path / "maps" / "eo"
    r = run.invoke(cli, ["embed", "infer", "--model", str(model), "--dataset", "ts_eolearn_ndvi", "--out", str(prefix)])
    assert r.exit_code == 0, r.output
    e = load_npy_pair(prefix)
    assert e.shape == (101, 100, 128) and np.isfinite(e).all()
    tif = read_scene(prefix.with_suffix(".tif"), scale=1.0)
    assert tif.count == 128 and tif.crs and "32633" in tif.crs
    r = run.invoke(cli, ["embed", "visualize", str(prefix.with_suffix(".npy")), "--out", str(tmp_path / "pca.png")])
    assert r.exit_code == 0 and (tmp_path / "pca.png").stat().st_size > 1000, r.output
    r = run.invoke(cli, ["embed", "infer", "--model", str(tmp_path / "none.pt"), "--dataset", "ts_eolearn_ndvi",
                         "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "does not exist" in r.output
    assert "stfusion embed train --dataset" in run.invoke(cli, ["embed", "--help"]).output
