"""Speed of the deep STF networks: training steps/s, inference pixels/s, and ``--fit`` end to end.

For each network, on the synthetic field scene of `common.field_scene` (two pairs, ratio 16):

- training steps/s of the shared fit loop at the default batch and patch (``--steps`` steps,
  validation included, as ``--fit`` runs it);
- inference pixels/s of the trained network on an ``--infer`` x ``--infer`` scene (the block
  kernel over the whole task, tiled with the network's own blending), and the ratio to the
  delta baseline's pixels/s measured in the same run;
- the wall time of ``predict(METHOD, fit=True)`` with every default on a ``--size`` x ``--size`` x
  6 scene (issue 21's target: under 3 minutes on 2 CPU cores).

On CUDA (when present, or ``--device cuda``) training and inference use mixed precision (the fit
loop's `Precision`), and the CPU rows are printed beside them.

    python benchmarks/deep_speed.py [--methods stfdcnn edcstfn] [--steps 40] [--size 600] [--infer 1000]
"""

from __future__ import annotations

import argparse
import time
import warnings

from common import field_scene

METHODS = ("stfdcnn", "dcstfn", "edcstfn", "ganstfm")


def _train_speed(method: str, task, device: str, steps: int) -> tuple[float, object]:
    """(steps/s, the trained network's run statistics) for ``steps`` training steps."""
    from stfusion.core.registry import get_spec
    from stfusion.methods.deep.run import stats

    params = get_spec(method).make_params({"fit": True, "steps": steps, "device": device, "patience": steps,
                                  "fallback": "none"})
    t0 = time.perf_counter()
    st = stats(task, params, progress=False)
    return steps / (time.perf_counter() - t0), st


def _infer_speed(method: str, st, task, device: str) -> tuple[float, float]:
    """(network pixels/s, delta pixels/s) over the whole ``task`` as one block."""
    from stfusion.core.block import Block
    from stfusion.core.params.baselines import DeltaParams
    from stfusion.core.registry import get_spec
    from stfusion.methods.baselines import predict_block as delta_block, stats as delta_stats
    from stfusion.methods.deep.run import predict_block

    block = Block.from_task(task)
    pixels = task.fine_grid.height * task.fine_grid.width
    params = get_spec(method).make_params({"device": device, "fit": True})
    t0 = time.perf_counter()
    predict_block(block, st, params)
    net = pixels / (time.perf_counter() - t0)
    weights = delta_stats(task, DeltaParams())
    t0 = time.perf_counter()
    delta_block(block, weights, DeltaParams())
    return net, pixels / (time.perf_counter() - t0)


def _end_to_end(method: str, task, device: str) -> float:
    from stfusion.core import predict

    t0 = time.perf_counter()
    predict(method, task, fit=True, device=device)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--steps", type=int, default=40, help="training steps timed per network")
    parser.add_argument("--size", type=int, default=600, help="side of the --fit end-to-end scene")
    parser.add_argument("--infer", type=int, default=1000, help="side of the inference scene")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import torch

    devices = ["cpu", "cuda"] if args.device == "auto" and torch.cuda.is_available() else \
        ["cpu" if args.device == "auto" else args.device]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
          + (f", {torch.cuda.get_device_name(0)}" if "cuda" in devices else ", no CUDA device"))
    train_task, infer_task = field_scene(256, 6), field_scene(args.infer, 6)
    fit_task = field_scene(args.size, 6)
    print(f"{'method':<9}{'device':<7}{'train steps/s':>14}{'infer Mpx/s':>13}{'x delta':>9}"
          f"{f'--fit {args.size}² (s)':>17}{'< 180 s':>9}")
    for method in args.methods:
        for device in devices:
            steps_s, st = _train_speed(method, train_task, device, args.steps)
            net, delta = _infer_speed(method, st, infer_task, device)
            seconds = _end_to_end(method, fit_task, device)
            print(f"{method:<9}{device:<7}{steps_s:>14.2f}{net / 1e6:>13.3f}{net / delta:>9.3f}"
                  f"{seconds:>17.1f}{'yes' if seconds < 180 else 'NO':>9}", flush=True)


if __name__ == "__main__":
    main()
