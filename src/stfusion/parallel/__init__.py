"""Running methods over scenes and files: in memory, tiled with Dask ``map_overlap``, or streamed
block by block from files to an output file (resumable)."""

from .files import build_task, predict_files
from .overlap import predict_tiled
from .stream import stream_predict

__all__ = ["build_task", "predict_files", "predict_tiled", "stream_predict"]
