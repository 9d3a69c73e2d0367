"""Running methods over scenes and files: in memory now; tiled and Dask runners build on this."""

from .files import predict_files

__all__ = ["predict_files"]
