"""`stfusion train`: train a deep network (STF, or DC-STSF) and write a checkpoint with its JSON card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .options import check_output, parse_sets
from .stsf import SRF_OPTION, WL_OPTION, load_stsf_task


@click.command()
@click.argument("method")
@click.option("--data", "data_dir", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="A folder of dated fine and coarse rasters (dates in the file names).")
@click.option("--coarse", "coarse_dir", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="A separate folder of coarse rasters (default: the --data folder).")
@click.option("--fine-pattern", default=None, help="Glob of the fine files in --data (e.g. 'L*').")
@click.option("--coarse-pattern", default=None, help="Glob of the coarse files (e.g. 'MOD*').")
@click.option("--dataset", default=None, type=click.Choice(["estarfm_3date", "cia_2date"]),
              help="A shared test set, by its training protocol (instead of --data).")
@click.option("--hs", type=click.Path(path_type=Path), default=None, help="dcstsf: coarse HS image at t1.")
@click.option("--ms", type=click.Path(path_type=Path), default=None, help="dcstsf: fine MS image at t1.")
@SRF_OPTION
@WL_OPTION
@click.option("--ratio", type=float, default=None, help="Coarse/fine pixel-size ratio when coarse files are on the fine grid.")
@click.option("--synthetic-steps", type=click.IntRange(min=0), default=100, show_default=True,
              help="Steps of pretraining on synthetic scenes before the real data (0: none).")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Training steps (default: the method's).")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N (mixed precision on CUDA).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="A method parameter (repeatable).")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Checkpoint to write (plus OUT.json).")
@click.option("--log", type=click.Path(path_type=Path), default=None, help="CSV training log (default: OUT.csv).")
@click.option("--overwrite", is_flag=True, help="Replace an existing checkpoint.")
def train(method: str, data_dir: Path | None, coarse_dir: Path | None, fine_pattern: str | None,
          coarse_pattern: str | None, dataset: str | None, hs: Path | None, ms: Path | None, srf: str | None,
          wavelengths: Path | None, ratio: float | None, synthetic_steps: int,
          steps: int | None, device: str, sets: tuple[str, ...], out: Path, log: Path | None, overwrite: bool) -> None:
    """Train METHOD (stfdcnn, dcstfn, edcstfn, ganstfm) on dated fine/coarse pairs, or dcstsf on an HS
    image and the MS image of its date (Wald's reduced-scale protocol); write a checkpoint."""
    from ..core.errors import InvalidParameterError, MissingInputError, UnknownParameterError
    from ..core.registry import get_spec
    from ..data.training import shared_training_set, stack_from_folder, synthetic_stacks
    from ..methods.deep.run import train as run_train

    spec = get_spec(method)
    if not spec.needs_training:
        raise UnknownParameterError(f"{spec.name} needs no training; train one of the deep methods "
                                    "(stfdcnn, dcstfn, edcstfn, ganstfm)")
    given = parse_sets(sets)
    given["device"] = device
    if steps is not None:
        given["steps"] = str(steps)
    if spec.task == "stsf":
        if hs is None or ms is None:
            raise MissingInputError(f"{spec.name} trains on --hs HS_T1 --ms MS_T1 (not --data/--dataset)")
        check_output(out, overwrite)
        _train_stsf(spec, given, load_stsf_task(hs, ms, None, ratio, srf, wavelengths), out, log)
        return
    if (data_dir is None) == (dataset is None):
        raise InvalidParameterError("give either --data FOLDER or --dataset NAME")
    check_output(out, overwrite)
    params = spec.make_params(given)
    if dataset is not None:
        stacks = shared_training_set(dataset, seed=params.seed)
    else:
        stacks = [stack_from_folder(data_dir, coarse_dir, fine_pattern=fine_pattern, coarse_pattern=coarse_pattern,
                                    ratio=ratio)]
    first = stacks[0]
    pre = synthetic_stacks(first.bands, first.n_bands, ratio=first.ratio, seed=params.seed) if synthetic_steps else []
    for s in stacks:
        click.echo(f"training on {s.name}: {s.shape[0]}x{s.shape[1]} px, dates "
                   f"{', '.join(d.isoformat() if d else '?' for d in s.dates)}")
    card = run_train(spec.name, stacks, params, out, pretrain_stacks=pre, pretrain_steps=synthetic_steps,
                     log=log or out.with_name(out.name + ".csv"))
    _report(spec.name, card, out)


def _train_stsf(spec: Any, given: dict[str, str], task: Any, out: Path, log: Path | None) -> None:
    from ..methods.deep.stsf_run import train as stsf_train

    click.echo(f"training {spec.name} on {task.hs.label} ({task.hs.count} bands) and {task.ms.label} "
               f"({task.ms.count} bands) at ratio {task.ratio:g}, Wald's reduced scale")
    card = stsf_train(task, spec.make_params(given), out, log=log or out.with_name(out.name + ".csv"))
    _report(spec.name, card, out)


def _report(name: str, card: dict, out: Path) -> None:
    v = card["validation"]
    click.echo(f"{name}: {v['steps_run']} steps in {v['seconds']} s, best validation MSE {v['val_mse']:.4g} "
               f"at step {v['best_step']} ({v['validation']})")
    click.echo(f"wrote {out} and {out}.json")
