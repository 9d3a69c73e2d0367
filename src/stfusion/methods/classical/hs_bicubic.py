"""`bicubic`: the coarse hyperspectral image upsampled to the MS grid by cubic convolution.

The lower bound of the STSF baselines: it uses no MS image, so its t2 prediction is the t1 HS
image (no change can be seen).
"""

from __future__ import annotations

from stfusion.core.params.stsf import BicubicParams
from stfusion.core.scene import Scene
from stfusion.core.task import STSFTask

from .stsf_ops import output_scene, prepare, upsample


def predict(task: STSFTask, params: BicubicParams) -> Scene:
    """The HS image of ``task`` upsampled by its ratio (Keys cubic convolution, a = -0.5)."""
    x = prepare(task, None)
    return output_scene(task, upsample(x.hs, x.ratio), x.mask, "bicubic")
