"""The optional extras plot (matplotlib), mat73 (h5py) and srf (pyrsr): without them, one typed line
naming the exact ``pip install 'stfusion[...]'``, or the documented fallback."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import scipy.io
from click.testing import CliRunner

from stfusion.core.errors import MissingDependencyError, require
from stfusion.core.scene import Scene
from stfusion.io import read_cube, write_scene


def _block(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``import module`` fail as if the package were not installed."""
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def _one_line(exc: pytest.ExceptionInfo[BaseException], extra: str) -> None:
    message = str(exc.value)
    assert "\n" not in message and message.endswith(f"pip install 'stfusion[{extra}]'")


def _cube_v73(path, userblock: int) -> None:
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "w", userblock_size=userblock) as f:  # MATLAB v7.3 files have a 512-byte header
        f["X"] = np.arange(2 * 4 * 4, dtype=np.float64).reshape(2, 16)


def test_require_returns_the_module_or_names_the_extra(monkeypatch):
    assert require("json", "plot").__name__ == "json"
    _block(monkeypatch, "h5py")
    with pytest.raises(MissingDependencyError) as exc:
        require("h5py", "mat73")
    _one_line(exc, "mat73")
    assert isinstance(exc.value, ImportError)


@pytest.mark.parametrize("userblock", [0, 512])
def test_mat_v73_without_h5py_names_the_mat73_extra(tmp_path, monkeypatch, userblock):
    path = tmp_path / "v73.mat"
    _cube_v73(path, userblock)
    _block(monkeypatch, "h5py")
    with pytest.raises(MissingDependencyError) as exc:
        read_cube(path)
    _one_line(exc, "mat73")


def test_mat_v5_and_npy_need_no_h5py(tmp_path, monkeypatch):
    _block(monkeypatch, "h5py")
    cube = np.arange(2 * 3 * 3, dtype=np.float64).reshape(2, 3, 3) / 100
    scipy.io.savemat(tmp_path / "v5.mat", {"img": np.moveaxis(cube, 0, 2)})
    np.save(tmp_path / "c.npy", cube)
    np.testing.assert_allclose(read_cube(tmp_path / "v5.mat").data, cube, rtol=1e-6)
    np.testing.assert_allclose(read_cube(tmp_path / "c.npy").data, cube, rtol=1e-6)


def test_cli_prints_the_missing_extra_as_one_line(tmp_path, monkeypatch):
    from stfusion.cli.main import cli

    hs = tmp_path / "hs.mat"
    _cube_v73(hs, 512)
    np.save(tmp_path / "ms.npy", np.zeros((2, 8, 8)))
    _block(monkeypatch, "h5py")
    result = CliRunner().invoke(cli, ["stsf", "cascade", "--hs", str(hs), "--ms", str(tmp_path / "ms.npy"),
                                      "--out", str(tmp_path / "out.tif")])
    assert result.exit_code == 2, result.output
    assert result.output == ("stfusion: error: h5py is not installed; install it with: "
                             "pip install 'stfusion[mat73]'\n")


def test_srf_without_pyrsr_falls_back_to_gaussian_naming_the_srf_extra(monkeypatch):
    from stfusion.data.srf import srf_matrix

    wl = np.linspace(420.0, 900.0, 40)
    gaussian = srf_matrix(wl, "sentinel2-gaussian")
    _block(monkeypatch, "pyrsr", "pyrsr.rsr")
    with pytest.warns(UserWarning, match=r"pip install 'stfusion\[srf\]'") as caught:
        names, matrix = srf_matrix(wl, "sentinel2")
    assert len(caught) == 1 and "\n" not in str(caught[0].message)
    assert names == gaussian[0]
    np.testing.assert_allclose(matrix, gaussian[1])


def test_the_demo_scene_is_the_same_with_or_without_pyrsr(monkeypatch):
    from stfusion.bench.demo_stsf import stsf_task

    with_pyrsr = stsf_task(size=12, bands=16)
    _block(monkeypatch, "pyrsr", "pyrsr.rsr")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "pyrsr is not installed" warning in the first command
        without = stsf_task(size=12, bands=16)
    np.testing.assert_array_equal(with_pyrsr.task.srf, without.task.srf)


def test_figures_without_matplotlib_name_the_plot_extra(tmp_path, monkeypatch):
    from stfusion.bench.quicklook import QuickRow, quicklook_pages
    from stfusion.metrics import apa_diagram

    scene = Scene(data=np.full((3, 4, 4), 0.1, np.float32))
    _block(monkeypatch, "matplotlib")
    with pytest.raises(MissingDependencyError) as exc:
        quicklook_pages(scene, [("truth", scene), ("input", scene)], [QuickRow("a", scene, 0.0)], title="t")
    _one_line(exc, "plot")
    with pytest.raises(MissingDependencyError) as exc:
        apa_diagram({"a": (0.1, 0.5, 0.0)}, tmp_path / "apa.png")
    _one_line(exc, "plot")


def test_cli_evaluate_apa_without_matplotlib_is_one_line(tmp_path, monkeypatch):
    from stfusion.cli.main import cli

    rng = np.random.default_rng(0)
    truth = Scene(data=rng.random((3, 16, 16), dtype=np.float32))
    for name, scene in (("truth.tif", truth), ("pred.tif", truth.replace(data=truth.data * 0.9))):
        write_scene(scene, tmp_path / name)
    _block(monkeypatch, "matplotlib")
    result = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "truth.tif"), str(tmp_path / "pred.tif"),
                                      "--h-over-l", "1", "--apa", str(tmp_path / "apa.png")])
    assert result.exit_code == 2, result.output
    assert result.output == ("stfusion: error: matplotlib is not installed; install it with: "
                             "pip install 'stfusion[plot]'\n")
