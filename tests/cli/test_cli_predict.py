"""`stfusion predict`: outputs keep the fine input's grid and encoding; bad input exits 2 with one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from click.testing import CliRunner

from stfusion.cli.errors import as_flags
from stfusion.cli.main import cli

from cli_rasters import write_tif


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def predict_args(s: dict[str, Path], out: Path, *extra: str, method: str = "delta"):
    return ("predict", method, "--pair", s["fine1"], s["coarse1"], "--target", s["coarse2"], "--out", out, *extra)


def assert_refused(result, out: Path, pattern: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert pattern.lower() in lines[0].lower(), lines[0]
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]


def test_predict_writes_the_fine_encoding(scenes, tmp_path):
    out = tmp_path / "pred.tif"
    result = run(*predict_args(scenes, out, "--ratio", "4"))
    assert result.exit_code == 0, result.output
    with rasterio.open(out) as dst, rasterio.open(scenes["fine1"]) as fine, rasterio.open(scenes["truth"]) as truth:
        assert dst.dtypes == fine.dtypes and dst.nodata == fine.nodata
        assert dst.transform == fine.transform and dst.crs == fine.crs
        pred, expected = dst.read(), truth.read()
    # fine + coarse change: the synthetic change is uniform, so delta is exact away from nodata
    assert pred[0, 0, 0] == -9999
    np.testing.assert_array_equal(pred[:, 1:, 1:], expected[:, 1:, 1:])


def test_existing_output_needs_overwrite(scenes, tmp_path):
    out = tmp_path / "pred.tif"
    out.write_bytes(b"keep")
    result = run(*predict_args(scenes, out))
    assert result.exit_code == 2 and "--overwrite" in result.stderr
    assert out.read_bytes() == b"keep"
    assert run(*predict_args(scenes, out, "--overwrite")).exit_code == 0


def test_missing_file(scenes, tmp_path):
    scenes["coarse2"] = tmp_path / "nope.tif"
    out = tmp_path / "pred.tif"
    assert_refused(run(*predict_args(scenes, out)), out, "not found")


def test_truncated_file(scenes, tmp_path):
    data = scenes["coarse2"].read_bytes()
    scenes["coarse2"].write_bytes(data[: len(data) // 2])
    out = tmp_path / "pred.tif"
    assert_refused(run(*predict_args(scenes, out)), out, "truncated")


def test_band_count_mismatch(scenes, tmp_path):
    write_tif(scenes["coarse2"], np.ones((2, 32, 32), np.int16))
    out = tmp_path / "pred.tif"
    assert_refused(run(*predict_args(scenes, out)), out, "bands")


def test_shape_mismatch(scenes, tmp_path):
    write_tif(scenes["coarse1"], np.ones((3, 30, 30), np.int16))
    out = tmp_path / "pred.tif"
    assert_refused(run(*predict_args(scenes, out)), out, "does not cover")


def test_crs_mismatch(scenes, tmp_path):
    write_tif(scenes["coarse2"], np.ones((3, 32, 32), np.int16), crs="EPSG:32634")
    out = tmp_path / "pred.tif"
    assert_refused(run(*predict_args(scenes, out)), out, "CRS")


def test_inf_values(scenes, tmp_path):
    data = np.full((3, 32, 32), 0.1, np.float32)
    data[1, 5, 5] = np.inf
    write_tif(scenes["coarse2"], data, nodata=None)
    out = tmp_path / "pred.tif"
    assert_refused(run(*predict_args(scenes, out)), out, "inf")


def test_all_nodata(scenes, tmp_path):
    write_tif(scenes["coarse2"], np.full((3, 32, 32), -9999, np.int16))
    out = tmp_path / "pred.tif"
    assert_refused(run(*predict_args(scenes, out)), out, "no valid pixel")


def test_library_messages_name_python_arguments_and_the_cli_writes_flags():
    assert as_flags("cnmf cannot run block by block; run it without chunk=N") == (
        "cnmf cannot run block by block; run it without --chunk N")
    assert as_flags("give checkpoint=CKPT (from `stfusion train dcstfn`) or fit=True; pass overwrite=True") == (
        "give --checkpoint CKPT (from `stfusion train dcstfn`) or --fit; pass --overwrite")
    assert as_flags("out_dir=/d/year=2020 is a file;\n choose one with year=YEAR") == (
        "--out-dir /d/year=2020 is a file; choose one with --year YEAR")
    assert as_flags("swap hs and ms; e.g. patch=32, my_ratio=2") == "swap --hs and --ms; e.g. patch=32, my_ratio=2"


def test_unknown_method(scenes, tmp_path):
    out = tmp_path / "pred.tif"
    assert_refused(run(*predict_args(scenes, out, method="starfn")), out, "unknown method")


def test_unknown_parameter(scenes, tmp_path):
    out = tmp_path / "pred.tif"
    assert_refused(run(*predict_args(scenes, out, "--set", "powr=2")), out, "no parameter")
    assert_refused(run(*predict_args(scenes, out, "--set", "power")), out, "KEY=VALUE")
    assert_refused(run(*predict_args(scenes, out, "--set", "power=abc")), out, "not a valid")


def test_wrong_ratio(scenes, tmp_path):
    out = tmp_path / "pred.tif"
    assert_refused(run(*predict_args(scenes, out, "--ratio", "0.5")), out, "ratio")


def test_coarse_on_its_own_grid_is_aligned(scenes, tmp_path):
    """Coarse rasters at 120 m are averaged onto the 30 m grid; delta is then exact again."""
    coarse_t = from_origin_like(4)
    for key in ("coarse1", "coarse2"):
        with rasterio.open(scenes[key]) as src:
            write_tif(scenes[key], src.read()[:, ::4, ::4].copy(), transform=coarse_t)
    out = tmp_path / "pred.tif"
    result = run(*predict_args(scenes, out))
    assert result.exit_code == 0, result.stderr
    with rasterio.open(out) as dst, rasterio.open(scenes["truth"]) as truth:
        assert dst.shape == (32, 32)
        np.testing.assert_array_equal(dst.read()[:, 1:, 1:], truth.read()[:, 1:, 1:])


def from_origin_like(ratio: int):
    from rasterio.transform import from_origin

    return from_origin(500000, 5000000, 30 * ratio, 30 * ratio)


def test_methods_lists_the_registry():
    result = run("methods")
    assert result.exit_code == 0
    assert "delta" in result.output and "power=1.0" in result.output


def test_internal_errors_are_not_reported_as_input_errors(scenes, tmp_path, monkeypatch):
    import stfusion.parallel.files as files

    def boom(*a, **k):
        raise RuntimeError("bug")

    monkeypatch.setattr(files, "predict", boom)
    result = run(*predict_args(scenes, tmp_path / "pred.tif"))
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)


def _warnings(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("stfusion: warning:")]


def test_guards_warn_in_one_line_about_swapped_files_and_mismatched_dates(scenes, tmp_path):
    s = scenes
    plain = run(*predict_args(s, tmp_path / "a.tif", "--ratio", "4"))
    assert plain.exit_code == 0 and _warnings(plain) == [], plain.stderr
    swapped = run("predict", "delta", "--pair", s["coarse1"], s["fine1"], "--target", s["coarse2"],
                  "--out", tmp_path / "b.tif", "--ratio", "4")
    (line,) = _warnings(swapped)
    assert "FINE file M_20200601.tif is constant in 4 x 4 blocks" in line and "may be swapped" in line
    dates = run("predict", "delta", "--pair", s["fine1"], s["coarse2"], "--target", s["coarse1"],
                "--out", tmp_path / "c.tif", "--ratio", "4")
    lines = _warnings(dates)
    assert len(lines) == 2 and "carries two dates (2020-06-01 and 2020-07-01)" in lines[0]
    assert "the target M_20200601.tif has the date of a pair (2020-06-01)" in lines[1]


def test_guard_warns_in_one_line_when_the_fine_file_has_the_larger_pixels(scenes, tmp_path):
    """The pixel-size branch of the swap check: COARSE at 30 m, FINE at 120 m on its own grid."""
    with rasterio.open(scenes["coarse1"]) as src:
        write_tif(scenes["coarse1"], src.read()[:, ::4, ::4].copy(), transform=from_origin_like(4))
    swapped = run("predict", "delta", "--pair", scenes["coarse1"], scenes["fine1"], "--target", scenes["coarse2"],
                  "--out", tmp_path / "swapped.tif")
    (line,) = _warnings(swapped)
    assert ("FINE file M_20200601.tif has larger pixels (120) than the COARSE file L_20200601.tif (30)" in line
            and "may be swapped" in line), swapped.stderr
