"""read_cube: MATLAB v5 / v7.3 and .npy hyperspectral cubes, shapes, orientation, scaling, bad files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import scipy.io

from stfusion.core.errors import FileFormatError, ShapeMismatchError
from stfusion.io import read_cube


def _cube(bands=3, rows=4, cols=6) -> np.ndarray:
    """(bands, rows, cols) with distinct values: value = 100*band + 10*row + col."""
    b, r, c = np.meshgrid(np.arange(bands), np.arange(rows), np.arange(cols), indexing="ij")
    return (100 * b + 10 * r + c).astype(np.float64) / 1000


def _matlab_matrix(cube: np.ndarray) -> np.ndarray:
    """MATLAB's reshape(X, rows*cols, bands)' of an (rows, cols, bands) image: column-major pixels."""
    bands = cube.shape[0]
    return cube.reshape(bands, -1, order="F")


def test_mat_v5_matrix_with_nrow_ncol(tmp_path):
    cube = _cube()
    path = tmp_path / "scene.mat"
    scipy.io.savemat(path, {"V": _matlab_matrix(cube), "nRow": 4, "nCol": 6, "small": np.ones((2, 2))})
    scene = read_cube(path, wavelengths=[450, 550, 650.5])
    assert scene.shape == (3, 4, 6)
    np.testing.assert_allclose(scene.data, cube, rtol=1e-6)
    assert scene.bands == ("450", "550", "650.5") and scene.name == "scene.mat"


def test_mat_v5_square_and_max_value(tmp_path):
    cube = (_cube(2, 5, 5) * 1000).astype(np.uint16)
    path = tmp_path / "sq.mat"
    scipy.io.savemat(path, {"Y": _matlab_matrix(cube).T, "maxValue": np.uint16(500)})
    scene = read_cube(path)
    np.testing.assert_allclose(scene.data, cube / 500, rtol=1e-6)
    assert scene.encoding.dtype == "uint16" and scene.encoding.scale == pytest.approx(1 / 500)


def test_mat_v73_via_hdf5(tmp_path):
    cube = _cube()
    path = tmp_path / "v73.mat"
    with h5py.File(path, "w") as f:
        f["X"] = _matlab_matrix(cube).T  # HDF5 holds MATLAB arrays with the axes reversed
        f["nrow"] = np.array([[4.0]])
        f["ncol"] = np.array([[6.0]])
    np.testing.assert_allclose(read_cube(path).data, cube, rtol=1e-6)


def test_mat_3d_rows_cols_bands(tmp_path):
    cube = _cube(5, 4, 4)
    path = tmp_path / "c3.mat"
    scipy.io.savemat(path, {"img": np.moveaxis(cube, 0, 2)})
    np.testing.assert_allclose(read_cube(path).data, cube, rtol=1e-6)


def test_npy_cube_and_matrix(tmp_path):
    cube = _cube(3, 4, 5)
    np.save(tmp_path / "c.npy", cube)
    np.testing.assert_allclose(read_cube(tmp_path / "c.npy", band_axis=0).data, cube, rtol=1e-6)
    np.save(tmp_path / "m.npy", cube.reshape(3, -1))
    np.testing.assert_allclose(read_cube(tmp_path / "m.npy", shape=(4, 5)).data, cube, rtol=1e-6)


def test_nan_pixels_are_invalid(tmp_path):
    cube = _cube(2, 3, 3)
    cube[1, 0, 2] = np.nan
    np.save(tmp_path / "n.npy", cube.reshape(2, -1))
    scene = read_cube(tmp_path / "n.npy")
    assert not scene.mask[0, 2] and scene.mask.sum() == 8


def test_unknown_key_lists_keys(tmp_path):
    path = tmp_path / "k.mat"
    scipy.io.savemat(path, {"V": np.ones((3, 4)), "nRow": 2})
    with pytest.raises(FileFormatError, match="no numeric variable 'Y'; use one of: nRow, V|V, nRow"):
        read_cube(path, key="Y")


def test_file_without_cube(tmp_path):
    path = tmp_path / "k.mat"
    scipy.io.savemat(path, {"a": 1.0})
    with pytest.raises(FileFormatError, match="no 2-D or 3-D numeric array"):
        read_cube(path)


def test_shape_errors(tmp_path):
    np.save(tmp_path / "r.npy", np.ones((3, 10)))
    with pytest.raises(ShapeMismatchError, match="pass shape"):
        read_cube(tmp_path / "r.npy")
    with pytest.raises(ShapeMismatchError, match="no axis of 3x3"):
        read_cube(tmp_path / "r.npy", shape=(3, 3))
    np.save(tmp_path / "three.npy", np.ones((2, 3, 4)))
    with pytest.raises(ShapeMismatchError, match="band_axis 3 does not exist"):
        read_cube(tmp_path / "three.npy", band_axis=3)
    np.save(tmp_path / "four.npy", np.ones((2, 2, 2, 2)))
    with pytest.raises(FileFormatError, match="no 2-D or 3-D numeric array"):
        read_cube(tmp_path / "four.npy")
    scipy.io.savemat(tmp_path / "four.mat", {"X": np.ones((2, 2, 2, 2))})
    with pytest.raises(ShapeMismatchError, match="expected a 2-D or 3-D"):
        read_cube(tmp_path / "four.mat", key="X")


def test_missing_truncated_and_unsupported(tmp_path):
    with pytest.raises(FileFormatError, match="not found"):
        read_cube(tmp_path / "none.mat")
    path = tmp_path / "t.mat"
    scipy.io.savemat(path, {"V": np.random.default_rng(0).random((20, 400))})
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(FileFormatError, match="truncated or unreadable"):
        read_cube(path)
    np.save(tmp_path / "t.npy", np.ones((4, 9)))
    (tmp_path / "t.npy").write_bytes((tmp_path / "t.npy").read_bytes()[:150])
    with pytest.raises(FileFormatError, match="truncated or unreadable"):
        read_cube(tmp_path / "t.npy")
    (tmp_path / "x.tif").write_bytes(b"")
    with pytest.raises(FileFormatError, match="give a .mat or .npy"):
        read_cube(tmp_path / "x.tif")


def _smoothness(data: np.ndarray) -> float:
    """Mean absolute neighbour difference relative to the mean difference of random pixel pairs."""
    flat = data.reshape(data.shape[0], -1)
    rng = np.random.default_rng(0)
    random_pairs = np.abs(flat[:, rng.permutation(flat.shape[1])] - flat).mean()
    return float(np.abs(np.diff(data, axis=1)).mean() / random_pairs)


@pytest.mark.realdata
def test_real_samson(shared_data):
    scene = read_cube(shared_data / "hs_samson_jasper" / "samson_1.mat")
    assert scene.shape == (156, 95, 95)
    assert 0.0 <= float(scene.data.min()) and float(scene.data.max()) <= 1.0
    assert _smoothness(scene.data) < 0.3
    raw = scipy.io.loadmat(shared_data / "hs_samson_jasper" / "samson_1.mat")["V"]
    bands_and_pixels_confused = raw.reshape(-1, order="F").reshape(156, 95, 95)
    assert _smoothness(bands_and_pixels_confused) > 3 * _smoothness(scene.data)


@pytest.mark.realdata
def test_real_jasper(shared_data):
    scene = read_cube(shared_data / "hs_samson_jasper" / "jasperRidge2_R198.mat")
    assert scene.shape == (198, 100, 100)
    assert scene.encoding.scale == pytest.approx(1 / 5000)
    assert 0.0 <= float(scene.data.min()) and float(scene.data.max()) < 1.5
    assert _smoothness(scene.data) < 0.3
