"""Running methods over scenes and files: in memory, or tiled with Dask ``map_overlap``."""

from .files import build_task, predict_files
from .overlap import predict_tiled

__all__ = ["build_task", "predict_files", "predict_tiled"]
