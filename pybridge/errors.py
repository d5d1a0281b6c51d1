"""Typed exceptions of pybridge.

Every failure a user can cause or meet raises a subclass of :class:`PyBridgeError`
whose message says what was wrong and what to do about it. Each class has a short
``kind`` that the R package turns into the condition class ``pybridge_<kind>``, so
R users can select errors with ``tryCatch``.

The classes also derive from the closest built-in exception (``ValueError``,
``OSError``, ``LookupError``, ``ImportError``), so code that already catches those keeps
working.

Examples
--------
>>> from pybridge.errors import InvalidLabelsError, PyBridgeError
>>> try:
...     raise InvalidLabelsError("labels must not be empty; pass at least two labels")
... except PyBridgeError as err:
...     print(err.kind)
invalid_labels
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = [
    "PyBridgeError",
    "InvalidInputError",
    "InvalidLabelsError",
    "SeriesTooShortError",
    "UnstableParametersError",
    "ImageReadError",
    "VideoReadError",
    "ModelError",
    "UnknownModelError",
    "ModelNotAvailableError",
    "ModelLoadError",
    "QuantizationNotSupportedError",
    "PrecisionNotSupportedError",
    "ModelMismatchError",
    "NotFittedError",  # noqa: F822 (defined on first use, see _define_not_fitted_error)
    "MissingDependencyError",
    "DownloadError",
    "ServiceUnavailableError",
    "EstimationError",
    "error_kinds",
    "library_errors",
]


class PyBridgeError(Exception):
    """Base class of every error pybridge raises on purpose.

    Attributes
    ----------
    kind : str
        Short machine-readable name of the failure kind (``"invalid_input"``, ...).
        The R package maps it to the condition class ``pybridge_<kind>``.
    """

    kind = "error"


class InvalidInputError(PyBridgeError, ValueError):
    """An argument has the wrong type, shape, range or content."""

    kind = "invalid_input"


class InvalidLabelsError(InvalidInputError):
    """The label list is empty, has duplicates or empty strings, or names unknown classes."""

    kind = "invalid_labels"


class SeriesTooShortError(InvalidInputError):
    """A time series has fewer usable observations than the method needs."""

    kind = "series_too_short"


class UnsupportedOptionError(InvalidInputError):
    """An option of the reference package (EGAnet, transforEmotion) that pybridge does not run.

    The message names the option to use instead.
    """

    kind = "unsupported_option"


class UnstableParametersError(InvalidInputError):
    """DLO parameters that give an unstable (exploding) oscillator."""

    kind = "unstable_parameters"


class ImageReadError(PyBridgeError, OSError):
    """An image is missing, empty, corrupt or not an image."""

    kind = "unreadable_image"


class VideoReadError(PyBridgeError, OSError):
    """A video is missing, empty, corrupt, truncated or has no video stream."""

    kind = "unreadable_video"


class ModelError(PyBridgeError):
    """Base class of model-management failures."""

    kind = "model_error"


class UnknownModelError(ModelError, LookupError):
    """A model alias that is not registered."""

    kind = "unknown_model"

    def __str__(self) -> str:  # LookupError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class ModelNotAvailableError(ModelError, OSError):
    """Model weights are not in the cache or local folder and cannot be downloaded now."""

    kind = "model_not_available"


class ModelLoadError(ModelError):
    """Weights exist but do not load into the expected architecture (corrupt, mismatched)."""

    kind = "model_load"


class QuantizationNotSupportedError(ModelError):
    """The requested quantisation cannot run on this platform."""

    kind = "quantization_unsupported"


class PrecisionNotSupportedError(ModelError):
    """The requested numeric precision (bf16, fp16) is not computed natively by this device."""

    kind = "precision_unsupported"


class ModelMismatchError(ModelError, ValueError):
    """Data made with one model is used with another (e.g. a probe on foreign embeddings)."""

    kind = "model_mismatch"


class MissingDependencyError(PyBridgeError, ImportError):
    """An optional dependency is needed for this feature and is not installed."""

    kind = "missing_dependency"


class DownloadError(PyBridgeError, OSError):
    """An http(s) resource could not be fetched (status, timeout, connection)."""

    kind = "download"


class ServiceUnavailableError(PyBridgeError, OSError):
    """A network service (a Dask scheduler) could not be reached within its timeout."""

    kind = "service_unavailable"


class EstimationError(PyBridgeError, RuntimeError):
    """A parameter estimation could not produce an estimate."""

    kind = "estimation"


def _define_not_fitted_error() -> type[PyBridgeError]:
    """Create :class:`NotFittedError` on first use.

    It subclasses scikit-learn's ``NotFittedError`` (so code that catches scikit-learn's
    catches pybridge's), and importing scikit-learn takes a second or more: doing it
    when the class is first needed keeps ``import pybridge`` fast.
    """
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    class NotFittedError(PyBridgeError, SklearnNotFittedError):
        """An estimator is used before ``fit``.

        Subclasses scikit-learn's ``NotFittedError`` (itself a ``ValueError`` and an
        ``AttributeError``), so ``except sklearn.exceptions.NotFittedError`` catches it.
        """

        kind = "not_fitted"

    NotFittedError.__module__ = __name__
    NotFittedError.__qualname__ = "NotFittedError"
    globals()["NotFittedError"] = NotFittedError
    return NotFittedError


def __getattr__(name: str):
    if name == "NotFittedError":
        return _define_not_fitted_error()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def error_kinds() -> dict[str, type[PyBridgeError]]:
    """Map every error ``kind`` to its class.

    Returns
    -------
    dict of str to type
        ``{"invalid_input": InvalidInputError, ...}``, including the base class.

    Examples
    --------
    >>> error_kinds()["unknown_model"].__name__
    'UnknownModelError'
    """
    if "NotFittedError" not in globals():
        _define_not_fitted_error()
    found: dict[str, type[PyBridgeError]] = {}
    stack: list[type[PyBridgeError]] = [PyBridgeError]
    while stack:
        cls = stack.pop()
        found[cls.kind] = cls
        stack.extend(cls.__subclasses__())
    return found


def _library_exceptions() -> tuple[type[BaseException], ...]:
    """Exceptions that the libraries pybridge reads and writes files with raise on bad content."""
    import pickle
    import zipfile

    found: list[type[BaseException]] = [OSError, ValueError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile]
    for module, name in (
        ("safetensors", "SafetensorError"),
        ("PIL.Image", "DecompressionBombError"),
        ("pyarrow.lib", "ArrowException"),
    ):
        try:
            found.append(getattr(__import__(module, fromlist=[name]), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


@contextlib.contextmanager
def library_errors(what: str, fix: str, error: type[PyBridgeError] = InvalidInputError) -> Iterator[None]:
    """Turn the exceptions of file-handling libraries into one typed error with a fix.

    The one place where failures of the libraries that read and write pybridge's
    inputs and outputs (OS errors, JSON, pandas CSV and Parquet, safetensors,
    pickle, zip, Pillow) become :class:`PyBridgeError` subclasses. pybridge's own
    errors pass through unchanged.

    Parameters
    ----------
    what : str
        What was being done, e.g. ``"cannot read the scores file 'x.csv'"``.
    fix : str
        What the user can do about it.
    error : type, default InvalidInputError
        The typed error to raise.

    Yields
    ------
    None

    Raises
    ------
    PyBridgeError
        ``error("<what>: <library message>; <fix>")``, chained to the original.

    Examples
    --------
    >>> try:
    ...     with library_errors("cannot read 'x.json'", "check the file"):
    ...         raise ValueError("Expecting value")
    ... except InvalidInputError as err:
    ...     print(err)
    cannot read 'x.json': Expecting value; check the file
    """
    try:
        yield
    except PyBridgeError:
        raise
    except _library_exceptions() as err:
        detail = str(err).strip() or type(err).__name__
        raise error(f"{what}: {detail}; {fix}") from err
