"""`stfusion stsf`: spatial-temporal-spectral fusion of an HS image with MS images (and the STSF
inputs of `stfusion train dcstsf`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .options import check_output, parse_sets


def _wavelengths(path: Path | None) -> list[float] | None:
    if path is None:
        return None
    import numpy as np

    from ..core.errors import FileFormatError

    try:
        return [float(v) for v in np.loadtxt(path, ndmin=1)]
    except (OSError, ValueError) as exc:
        raise FileFormatError(f"cannot read wavelengths from {path} ({exc}); give one number (nm) per line") from None


def _srf_matrix(srf: str | None, hs: Any, ms: Any) -> Any:
    """The (MS, HS) response matrix of ``--srf`` (a sensor name or a .npy file) for the scenes' bands, or None."""
    import numpy as np

    from ..core.errors import BandMismatchError

    if srf is None:
        return None
    if srf.endswith(".npy"):
        return np.load(srf, allow_pickle=False)
    from ..data.srf import srf_matrix
    from ..data.stsf_sim import wavelengths as wavelengths_of

    names, full = srf_matrix(wavelengths_of(hs), srf)
    if ms.bands is None or any(b not in names for b in ms.bands):
        raise BandMismatchError(f"--srf {srf}: the MS bands {ms.bands} are not all among {', '.join(names)}; "
                                "name the MS bands (band descriptions) or give --srf FILE.npy")
    return full[[names.index(b) for b in ms.bands]]


def load_stsf_task(hs: Path, ms: Path, ms_target: Path | None, ratio: float | None, srf: str | None,
                   wavelengths: Path | None) -> Any:
    """The `STSFTask` of the files given on the command line; ``srf`` is a sensor name or a .npy matrix."""
    from ..core.task import STSFTask
    from ..io.cube import read_image

    hs_scene = read_image(hs, wavelengths=_wavelengths(wavelengths))
    ms_scene = read_image(ms)
    target = read_image(ms_target) if ms_target is not None else None
    return STSFTask(hs=hs_scene, ms=ms_scene, ms_target=target, ratio=ratio, srf=_srf_matrix(srf, hs_scene, ms_scene))


def _stream(method: str, hs: Path, ms: Path, ms_target: Path | None, out: Path, ratio: float | None,
            srf: str | None, wavelengths: Path | None, params: dict[str, str], chunk: int, workers: int | None,
            overwrite: bool) -> Path:
    """`stream_stsf` of the command line's files, with the SRF matrix built from the files' headers."""
    from ..io.cube import name_wavelengths
    from ..io.window import RasterSource
    from ..parallel.stsf_stream import CUBE_SUFFIXES, stream_stsf

    wl = _wavelengths(wavelengths)
    matrix = None
    if srf is not None and not any(p.suffix.lower() in CUBE_SUFFIXES for p in (hs, ms)):
        matrix = _srf_matrix(srf, name_wavelengths(RasterSource(hs).template, wl, hs), RasterSource(ms).template)
    return stream_stsf(method, hs, ms, out, ms_target=ms_target, params=params, ratio=ratio, srf=matrix,
                       wavelengths=wl, block=chunk, workers=workers, overwrite=overwrite)


HS_OPTION = click.option("--hs", required=True, type=click.Path(path_type=Path), help="Coarse HS image at t1 (GeoTIFF, .mat or .npy).")
MS_OPTION = click.option("--ms", required=True, type=click.Path(path_type=Path), help="Fine MS image at t1.")
TARGET_OPTION = click.option("--ms-target", type=click.Path(path_type=Path), default=None,
                       help="Fine MS image at the prediction date t2 (without it: the fine HS image at t1).")
_RATIO = click.option("--ratio", type=float, default=None, help="HS/MS pixel-size ratio (default: from the grids).")
SRF_OPTION = click.option("--srf", default=None, metavar="sentinel2|landsat8|FILE.npy",
                    help="Spectral response of the MS sensor (default: estimated from the images).")
WL_OPTION = click.option("--wavelengths", type=click.Path(path_type=Path), default=None,
                   help="Text file of the HS band centres in nm, one per line (for --srf with a sensor name).")


@click.command()
@click.argument("method")
@HS_OPTION
@MS_OPTION
@TARGET_OPTION
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output GeoTIFF (fine HS image).")
@_RATIO
@SRF_OPTION
@WL_OPTION
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="A method parameter (repeatable).")
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None, help="dcstsf: trained weights.")
@click.option("--fit", is_flag=True, help="dcstsf: train on the given images first (Wald's reduced-scale protocol).")
@click.option("--device", default=None, help="dcstsf: cpu, cuda or cuda:N.")
@click.option("--chunk", type=click.IntRange(min=1), default=None,
              help="Stream blocks of about N x N MS pixels from the rasters to the output, resumably "
                   "(bicubic, gsa, cascade and dcstsf give the same output as without it; cnmf factorises each "
                   "block on its own, so give it 512 or more). E.g. 256.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Threads of a streamed (--chunk) run; default: all cores.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output.")
def stsf(method: str, hs: Path, ms: Path, ms_target: Path | None, out: Path, ratio: float | None, srf: str | None,
         wavelengths: Path | None, sets: tuple[str, ...], checkpoint: Path | None, fit: bool, device: str | None,
         chunk: int | None, workers: int | None, overwrite: bool) -> None:
    """Fuse the coarse HS image with the fine MS image(s) using METHOD (bicubic, gsa, cnmf, cascade, dcstsf).

    The output is the fine HS image on the MS grid, with the HS band names (wavelengths) as band
    descriptions. With --chunk it is streamed block by block in bounded memory."""
    from ..core.errors import InvalidParameterError
    from ..core.registry import get_spec
    from ..core.run import predict_stsf
    from ..io import write_scene

    spec = get_spec(method)
    params: dict[str, str] = parse_sets(sets)
    deep = {"checkpoint": str(checkpoint) if checkpoint else None, "fit": "true" if fit else None, "device": device}
    deep = {k: v for k, v in deep.items() if v is not None}
    if deep and not spec.needs_training:
        raise InvalidParameterError(f"--{next(iter(deep))} is for dcstsf; {spec.name} needs no training")
    if checkpoint and fit:
        raise InvalidParameterError("give --checkpoint or --fit, not both")
    params.update(deep)
    check_output(out, overwrite)
    if chunk is not None:
        click.echo(f"wrote {_stream(spec.name, hs, ms, ms_target, out, ratio, srf, wavelengths, params, chunk, workers, overwrite)}")
        return
    if workers is not None:
        raise InvalidParameterError("--workers is for streamed runs; add --chunk N")
    task = load_stsf_task(hs, ms, ms_target, ratio, srf, wavelengths)
    result = predict_stsf(spec.name, task, **params)
    click.echo(f"wrote {write_scene(result, out, overwrite=overwrite)}")
