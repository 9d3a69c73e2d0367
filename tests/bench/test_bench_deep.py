"""Deep methods in a bench: trained on the set (fit) and read from a checkpoint; the deep and STSF
docs tables written from the records."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from small_bench import small_run  # noqa: E402

from stfusion.bench.datasets import load_bench_case  # noqa: E402
from stfusion.bench.runner import Selection  # noqa: E402


FAST = {"steps": "2", "patch": "32", "val_every": "1", "batch": "2"}


def test_fit_and_checkpoint(tmp_path):
    from stfusion.core.params.deep import StfdcnnParams
    from stfusion.core.training import stack_from_pairs
    from stfusion.methods.deep.run import train

    fit = Selection(methods=("stfdcnn",), params={"stfdcnn": FAST})
    (trained,) = small_run(tmp_path / "fit", selection=fit).records
    assert trained["status"] == "ok" and trained["params"]["fit"] is True and trained["family"] == "deep"
    case = load_bench_case("synthetic_abrupt", synthetic_size=32)
    ckpt = tmp_path / "stfdcnn.pt"
    train("stfdcnn", [stack_from_pairs(case.task.pairs, ratio=case.ratio)], StfdcnnParams(**{
        k: int(v) for k, v in FAST.items()}), ckpt, progress=False)
    from_ckpt = Selection(methods=("stfdcnn",), checkpoints={"stfdcnn": str(ckpt)})
    (run,) = small_run(tmp_path / "ckpt", selection=from_ckpt).records
    assert run["status"] == "ok" and run["params"]["checkpoint"] == str(ckpt) and run["params"]["fit"] is False


def _rec(dataset: str, method: str, rmse: float, family: str = "weighting", variant_of: str | None = None,
         **values: float) -> dict:
    v = {"rmse": rmse, "ssim": 0.9, "sam": 2.0, "ergas": 1.0, "psnr": 40.0, "cc": 0.99, "q2n": 0.98, **values}
    return {"dataset": dataset, "kind": "stsf" if dataset.startswith("stsf") else "stf", "method": method,
            "family": family, "variant_of": variant_of, "status": "ok", "pairs": 1, "values": v, "seconds": 2.0,
            "region_rmse": {"patch": rmse / 2}}


def test_deep_and_stsf_tables():
    from stfusion.bench.docs_tables import family_table
    from stfusion.bench.method_tables import deep_table, stsf_ablation_table, stsf_table, stsf_verdict

    stf = [_rec("cia_2date", "delta", 0.05, "baseline"), _rec("cia_2date", "fsdaf", 0.04, "hybrid"),
           _rec("cia_2date", "dcstfn", 0.045, "deep"), _rec("cia_2date", "dcstfn, seed=1", 0.03, "deep", "dcstfn")]
    rows = deep_table(stf).splitlines()[2:]
    assert [r.split(" | ")[2] for r in rows] == ["delta", "fsdaf", "dcstfn", "dcstfn, seed=1"]
    assert "-10.0 %" in rows[2] and "baseline" in rows[0]
    assert "seed=1" not in family_table(stf)  # variants stay out of the family winners
    stsf = [_rec(f"stsf_samson{t}", m, r, "deep" if m == "dcstsf" else "unmixing", sam=s)
            for t in ("_t1", "") for m, r, s in (("gsa", 0.02, 3.0), ("dcstsf", 0.01, 4.0))]
    stsf.append(_rec("stsf_samson", "dcstsf, seu=false", 0.015, "deep", "dcstsf"))
    lines = stsf_table(stsf).splitlines()[2:]
    assert [tuple(c.strip() for c in line.split("|")[1:4]) for line in lines] == [
        ("samson", "t1", "gsa"), ("samson", "t2", "gsa"), ("samson", "t1", "dcstsf"), ("samson", "t2", "dcstsf")]
    assert "| 0.0050 |" in lines[2]  # the RMSE in the change patch
    assert [line.split("|")[2].strip() for line in stsf_ablation_table(stsf).splitlines()[2:]] == [
        "dcstsf (defaults)", "dcstsf, seu=false"]
    verdict = stsf_verdict(stsf).splitlines()
    assert "RMSE: DC-STSF 0.0100 vs best other method gsa 0.0200: beats" in verdict[0]
    assert "SAM" in verdict[1] and "does NOT beat" in verdict[1]
