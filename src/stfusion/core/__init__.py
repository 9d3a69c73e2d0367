"""Data model, method registry and errors (NumPy only; imports no other stfusion part)."""

from .errors import (
    BandMismatchError,
    CRSMismatchError,
    DateError,
    DTypeError,
    ExtentMismatchError,
    FileFormatError,
    InputError,
    InvalidParameterError,
    InvalidValueError,
    MissingDependencyError,
    MissingInputError,
    MissingWeightsError,
    NoDataError,
    OutputExistsError,
    RatioError,
    ShapeMismatchError,
    StfusionError,
    UnknownMethodError,
    UnknownParameterError,
)
from .registry import REGISTRY, MethodSpec, get_spec, list_methods
from .run import predict, predict_stsf
from .scene import IDENTITY, RasterEncoding, Scene, Transform
from .task import FusionTask, Pair, STSFTask, check_compatible, check_same_grid

__all__ = [
    "BandMismatchError", "CRSMismatchError", "DateError", "DTypeError", "ExtentMismatchError",
    "FileFormatError", "InputError", "InvalidParameterError", "InvalidValueError", "MissingDependencyError",
    "MissingInputError", "MissingWeightsError", "NoDataError",
    "OutputExistsError", "RatioError", "ShapeMismatchError", "StfusionError", "UnknownMethodError",
    "UnknownParameterError", "REGISTRY", "MethodSpec", "get_spec", "list_methods", "predict", "predict_stsf",
    "IDENTITY", "RasterEncoding", "Scene", "Transform", "FusionTask", "Pair", "STSFTask",
    "check_compatible", "check_same_grid",
]
