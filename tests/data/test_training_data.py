"""Training stacks for the deep methods: dated folders, the shared protocols, synthetic scenes."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pytest

from stfusion.core.errors import BandMismatchError, UnknownParameterError
from stfusion.data.training import shared_training_set, stack_from_folder, synthetic_stacks

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cli_rasters import write_tif  # noqa: E402


def test_a_dated_folder_gives_the_dates_with_both_images(tmp_path: Path):
    data = np.full((2, 16, 16), 1000, np.int16)
    for name in ("L_20200601.tif", "M_20200601.tif", "M_20200701.tif", "L_20200801.tif", "M_20200801.tif"):
        write_tif(tmp_path / name, data)
    stack = stack_from_folder(tmp_path, fine_pattern="L_*", coarse_pattern="M_*", ratio=4)
    assert stack.dates == (dt.date(2020, 6, 1), dt.date(2020, 8, 1)) and stack.ratio == 4
    assert stack.fine.shape == (2, 2, 16, 16) and np.allclose(stack.fine, 0.1) and stack.mask.all()
    with pytest.raises(UnknownParameterError, match="both a fine and a coarse"):
        stack_from_folder(tmp_path, fine_pattern="L_2020060*", coarse_pattern="M_2020070*")


def test_synthetic_stacks_take_the_requested_bands():
    stacks = synthetic_stacks(("nir", "red"), 2, ratio=15.2, scenes=1, size=64)
    s = stacks[0]
    assert s.bands == ("nir", "red") and s.ratio == 15 and s.fine.shape[1:] == (2, 75, 75)
    assert (s.fine[:, 0] > s.fine[:, 1]).mean() > 0.5  # vegetation: NIR above red
    with pytest.raises(BandMismatchError, match="synthetic pretraining"):
        synthetic_stacks(("coastal",), 1, ratio=16)
    with pytest.raises(BandMismatchError, match="unnamed"):
        synthetic_stacks(None, 4, ratio=16)


@pytest.mark.realdata
def test_shared_protocols_never_contain_the_test_date(shared_data):
    (estarfm,) = shared_training_set("estarfm_3date", shared_data.parent / "data")
    assert estarfm.dates == (dt.date(2001, 5, 24), dt.date(2001, 8, 12)) and estarfm.n_bands == 3
    (cia,) = shared_training_set("cia_2date", shared_data)
    assert cia.dates[0] == dt.date(2001, 11, 25) and len(cia.dates) == 2 and dt.date(2002, 1, 12) not in cia.dates
    assert not np.allclose(cia.fine[0], cia.fine[1])
    with pytest.raises(UnknownParameterError, match="no training protocol"):
        shared_training_set("lgc_flood_simcoarse", shared_data)
