"""Typed errors. Every message says what is wrong and how to fix it, on one line.

`InputError` and its subclasses are the user's to fix (the CLI exits with code 2);
any other exception is an internal error (exit code 1).
"""

from __future__ import annotations


class StfusionError(Exception):
    """Base class of every error raised by stfusion."""


class InputError(StfusionError, ValueError):
    """Bad input: the user can fix it. The CLI prints the message and exits with code 2."""


class BandMismatchError(InputError):
    """Two images have different band counts or band names."""


class ShapeMismatchError(InputError):
    """Arrays or images have incompatible shapes."""


class ExtentMismatchError(InputError):
    """Two images do not cover the same ground."""


class CRSMismatchError(InputError):
    """Two images are in different coordinate reference systems."""


class RatioError(InputError):
    """The coarse/fine pixel-size ratio is missing, inconsistent or invalid."""


class DateError(InputError):
    """Dates are missing, unparsable or inconsistent."""


class InvalidValueError(InputError):
    """NaN or infinite values where valid data is required."""


class NoDataError(InputError):
    """An image (or the part of it that matters) has no valid pixel."""


class DTypeError(InputError):
    """An array has a data type that cannot be used."""


class FileFormatError(InputError):
    """A file is missing, truncated or not a readable raster."""


class OutputExistsError(InputError):
    """The output file exists and overwriting was not requested."""


class UnknownMethodError(InputError):
    """No method of that name is registered."""


class UnknownParameterError(InputError):
    """A parameter (or option) name that does not exist, or a value outside its fixed set of choices
    (an unknown method, data set, sensor, driver, ...). The classes below subclass it so that code
    catching it still catches them."""


class InvalidParameterError(UnknownParameterError):
    """A parameter value that cannot be used: of the wrong type, out of range, or inconsistent with
    another parameter or with the input (including options that cannot be combined)."""


class MissingInputError(UnknownParameterError):
    """A required input or argument is absent or empty (no training scenes, no matching dates, no
    label field, ...)."""


class SchedulerError(InputError):
    """A dask.distributed scheduler cannot be reached."""


class RunInterruptedError(InputError):
    """A streamed run could not store its results (a full disk, say); its progress is kept and the
    same command resumes it."""


class MissingDependencyError(StfusionError, ImportError):
    """An optional dependency is not installed; the message names the pip extra."""


def require(module: str, extra: str):
    """Import an optional heavy dependency, or raise with the exact pip command to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{module} is not installed; install it with: pip install 'stfusion[{extra}]'"
        ) from exc


class CheckpointError(InputError):
    """A checkpoint that is missing, unreadable, or does not fit the input."""


class MissingWeightsError(MissingInputError, CheckpointError):
    """A learned model has no weights: no checkpoint was given (or its file does not exist) and it was not
    trained (``fit=True``). Also a `CheckpointError`."""


class ResponseWarning(UserWarning):
    """A fit of the data is poor (an MS band the HS cube cannot explain, a learned method that loses
    to its classical estimate): the result is still written, but check it."""


class FitReport(UserWarning):
    """What a fit on the task's own validation split found (the scores, and which estimate is
    returned): one line, printed by the CLI as "stfusion: ..."."""


class InputWarning(UserWarning):
    """An input that looks mistaken (a pair's files swapped, dates that do not match): the run goes
    on, but check it. The CLI prints it as one line ("stfusion: warning: ...")."""
