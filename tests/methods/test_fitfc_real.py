"""Fit-FC on the real sets: accuracy next to the delta baseline, the transcription on a CIA crop,
and tiling of a real crop.

Data: ../shared/data (Emelyanova et al. 2013, CIA and LGC; Zhu et al. 2010, ESTARFM scene).
"""

from __future__ import annotations

import numpy as np
import pytest

from stfusion.core import FusionTask, Pair, Scene, predict
from stfusion.core.params.fitfc import FitfcParams
from stfusion.data import load_case
from stfusion.metrics import evaluate
from stfusion.parallel import predict_tiled

from test_fitfc import transcribe  # tests/methods is on sys.path (rootdir import mode)

pytestmark = pytest.mark.realdata

# RMSE (mean of the per-band RMSE, reflectance) with the defaults, measured when the method was
# written, and the delta baseline of shared/data/README.md.
MEASURED = {"cia_2date": 0.0480, "estarfm_3date_1pair": 0.0122, "lgc_flood_simcoarse": 0.0216}
DELTA = {"cia_2date": 0.0484, "estarfm_3date_1pair": 0.0124, "lgc_flood_simcoarse": 0.0221}


@pytest.mark.parametrize("name", sorted(MEASURED))
def test_accuracy_next_to_delta(shared_data, name):
    case = load_case(name, root=shared_data)
    pred = predict("fitfc", case.task)
    assert pred.mask.all()
    rmse = evaluate(case.truth, pred, ratio=1 / case.ratio).values["rmse"]
    assert rmse == pytest.approx(MEASURED[name], abs=2e-4)
    assert rmse < DELTA[name]


def _crop(task: FusionTask, rows: slice, cols: slice) -> FusionTask:
    def cut(s: Scene) -> Scene:
        return Scene(np.array(s.data[:, rows, cols]), mask=np.array(s.mask[rows, cols]), date=s.date)

    p = task.pairs[0]
    return FusionTask([Pair(cut(p.fine), cut(p.coarse))], cut(task.target), ratio=task.ratio)


@pytest.mark.parametrize("filtering", ["change", "prediction"])
def test_cia_crop_matches_the_transcription(shared_data, filtering):
    """CIA: 6 bands, MODIS blocks of 9-10 pixels on shifted sub-grids, scale 9, partial blocks."""
    task = _crop(load_case("cia_2date", root=shared_data).task, slice(100, 136), slice(250, 290))
    kw = dict(half_window=6, num_similar=20, filtering=filtering)
    out = predict("fitfc", task, **kw)
    p, f = FitfcParams(**kw), task.pairs[0]
    arrays = [np.asarray(x) for x in (f.fine.data, f.fine.mask, f.coarse.data, f.coarse.mask,
                                      task.target.data, task.target.mask)]
    ref, valid = transcribe(*arrays, 9, p.rm_radius, p.half_window, p.num_similar, p.filtering)
    assert valid.all() and out.mask.all()
    np.testing.assert_allclose(out.data, ref, atol=1e-6, rtol=0)


def test_lgc_crop_tiles_bit_for_bit(shared_data):
    task = _crop(load_case("lgc_flood_simcoarse", root=shared_data).task, slice(200, 330), slice(100, 221))
    rng = np.random.default_rng(3)
    fine = task.pairs[0].fine
    mask = rng.random(fine.mask.shape) > 0.03
    mask[30:60, 40:70] = False
    task = FusionTask([Pair(Scene(fine.data, mask=mask, date=fine.date), task.pairs[0].coarse)], task.target,
                      ratio=task.ratio)
    whole = predict("fitfc", task)
    for chunk in (32, 50):
        tiled = predict_tiled("fitfc", task, chunk=chunk, scheduler="threads")
        assert np.array_equal(whole.mask, tiled.mask)
        assert np.array_equal(whole.data[:, whole.mask], tiled.data[:, tiled.mask])
