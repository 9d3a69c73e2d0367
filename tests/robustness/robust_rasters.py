"""Tiny rasters and CLI helpers for the robustness tests (a helper module, not a conftest)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner
from tif_helpers import write_tif

from stfusion.cli.main import cli
CHANGE = 0.02
"""The uniform change between the two dates: 'delta' then predicts fine + CHANGE exactly."""


def fields(seed: int = 0, size: int = 32, bands: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A fine float32 reflectance image and its 4 x 4 block means on the fine grid."""
    rng = np.random.default_rng(seed)
    fine = (0.05 + 0.3 * rng.random((bands, size, size))).astype(np.float32)
    coarse = fine.reshape(bands, size // 4, 4, size // 4, 4).mean(axis=(2, 4))
    return fine, np.kron(coarse, np.ones((4, 4))).astype(np.float32)


def stf_files(tmp: Path, *, fine: np.ndarray | None = None, nodata=None, block: int | None = None) -> dict[str, Path]:
    """A one-pair task (coarse on the fine grid, ratio 4) as float32 GeoTIFFs: fine1, coarse1, coarse2."""
    f1, c1 = fields()
    return {
        "fine1": write_tif(tmp / "F_20200601.tif", f1 if fine is None else fine, nodata=nodata, block=block),
        "coarse1": write_tif(tmp / "C_20200601.tif", c1, block=block),
        "coarse2": write_tif(tmp / "C_20200701.tif", c1 + np.float32(CHANGE), block=block),
    }


def run_cli(*args) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="stfusion")


def predict_cli(files: dict[str, Path], out: Path, *extra, method: str = "delta") -> object:
    return run_cli("predict", method, "--pair", files["fine1"], files["coarse1"], "--target", files["coarse2"],
                   "--out", out, "--ratio", "4", *extra)


def leftovers(out: Path) -> list[str]:
    """Hidden temporary files or journals beside ``out``."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}"))


def assert_one_line_error(result, out: Path | None, pattern: str) -> str:
    """Exit code 2, exactly one stderr line containing ``pattern``, no traceback, and nothing at ``out``."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("stfusion: error: "), lines[0]
    assert pattern.lower() in lines[0].lower(), lines[0]
    if out is not None:
        assert not out.exists()
        assert leftovers(out) == []
    return lines[0]
