"""`bicubic`: the coarse hyperspectral image upsampled to the MS grid by cubic convolution.

The lower bound of the STSF baselines: it uses no MS image, so its t2 prediction is the t1 HS
image (no change can be seen). Block-wise (`stsf_blocks`): it streams with ``--chunk``.
"""

from __future__ import annotations

import numpy as np

from stfusion.core.params.stsf import BicubicParams
from stfusion.core.scene import Scene
from stfusion.core.stsf_block import StsfBlock, StsfSource
from stfusion.core.task import STSFTask

from .stsf_blocks import StsfStats, out_mask, predict_whole, upsample_window


def stats(source: StsfSource, params: BicubicParams) -> StsfStats:
    """Nothing image-wide beyond the fill values of the source."""
    return StsfStats()


def predict_block(block: StsfBlock, stats: StsfStats, params: BicubicParams) -> tuple[np.ndarray, np.ndarray]:
    """The block's HS pixels upsampled at its output pixels, and their validity."""
    return upsample_window(block.hs, block, block.out_rows, block.out_cols), out_mask(block)


def predict(task: STSFTask, params: BicubicParams) -> Scene:
    """The HS image of ``task`` upsampled by its ratio (Keys cubic convolution, a = -0.5)."""
    source = StsfSource.from_task(task)
    return predict_whole(task, source, predict_block, stats(source, params), params, "bicubic")
