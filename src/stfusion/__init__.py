"""stfusion: spatiotemporal, spatial-temporal-spectral and temporal-embedding fusion of remote-sensing images."""

from .core import FusionTask, Pair, Scene, STSFTask, predict

__version__ = "0.1.0"
__all__ = ["FusionTask", "Pair", "Scene", "STSFTask", "predict", "__version__"]
