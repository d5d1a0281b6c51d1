"""Argument checks shared by every stage, so every entry point fails alike.

numpy's own ``ValueError`` ("could not convert string to float") names neither the
argument that was wrong nor what to do about it; these helpers raise
:class:`~pybridge.errors.InvalidInputError` (or a subclass) that does both. A check
used by one module only stays in that module; a check two modules need lives here.

Examples
--------
>>> check_integer(3, "n_steps")
3
>>> check_dt(0.5)
0.5
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import InvalidInputError, SeriesTooShortError

__all__ = [
    "as_float_array",
    "as_ordered_list",
    "as_observed_series",
    "as_square_matrix",
    "check_dt",
    "check_integer",
    "require_columns",
    "require_frame",
]


def as_float_array(value, name: str) -> np.ndarray:
    """``value`` as a float array.

    Parameters
    ----------
    value : array-like, pandas.Series or pandas.DataFrame
        The input (pandas nullable types with NA become NaN).
    name : str
        The argument's name, for the error message.

    Returns
    -------
    numpy.ndarray of float64
        Not copied when ``value`` already is a float64 array.

    Raises
    ------
    InvalidInputError
        ``value`` has entries that are not numbers.

    Examples
    --------
    >>> as_float_array([1, 2], "x")
    array([1., 2.])
    """
    try:
        if isinstance(value, (pd.Series, pd.DataFrame)):
            return value.astype(float).to_numpy()
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(f"{name} must be numeric; convert it with pandas.to_numeric first ({err})") from None


def as_square_matrix(value, name: str) -> np.ndarray:
    """``value`` as a square float matrix.

    Parameters
    ----------
    value : array-like
        A network, correlation or precision matrix.
    name : str
        The argument's name, for the error message.

    Returns
    -------
    numpy.ndarray of float64, shape (p, p)

    Raises
    ------
    InvalidInputError
        ``value`` is not numeric or not a square 2-D matrix.

    Examples
    --------
    >>> as_square_matrix(np.eye(2), "network").shape
    (2, 2)
    """
    matrix = as_float_array(value, name)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise InvalidInputError(f"{name} must be a square matrix, got shape {matrix.shape}")
    return matrix


def as_ordered_list(value: Any, name: str, expected: str, error: type[Exception] = InvalidInputError) -> list:
    """``value`` as a list, refusing collections without an order of their own.

    A dict or a set would be iterated in an order the user did not choose, and the
    order matters (labels become columns in that order).

    Parameters
    ----------
    value : iterable
        The argument.
    name : str
        Its name, for the message.
    expected : str
        What it should be ("a list of strings"), for the message.
    error : type of Exception, default InvalidInputError
        The error to raise (e.g. :class:`~pybridge.errors.InvalidLabelsError`).

    Returns
    -------
    list

    Raises
    ------
    Exception
        ``error``, for a mapping, a set or something that is not iterable.

    Examples
    --------
    >>> as_ordered_list(("a", "b"), "labels", "a list of strings")
    ['a', 'b']
    """
    if isinstance(value, (Mapping, set, frozenset)):
        raise error(f"{name} must be {expected}; got a {type(value).__name__}")
    try:
        return list(value)
    except TypeError:
        raise error(f"{name} must be {expected}; got {type(value).__name__}") from None


def check_integer(value: Any, name: str, minimum: int = 1, *, whole_floats: bool = False) -> int:
    """``value`` as an int of at least ``minimum``.

    Parameters
    ----------
    value : int
        The argument.
    name : str
        Its name, for the error message.
    minimum : int, default 1
        Smallest allowed value.
    whole_floats : bool, default False
        Also accept whole floats such as ``10.0`` (R passes whole numbers as doubles).

    Returns
    -------
    int

    Raises
    ------
    InvalidInputError
        A bool, a non-integer, or a value below ``minimum``.

    Examples
    --------
    >>> check_integer(4.0, "num_steps", 2, whole_floats=True)
    4
    """
    if isinstance(value, (bool, np.bool_)):
        raise InvalidInputError(f"{name} must be an integer, got {value!r}")
    try:
        number = operator.index(value)
    except TypeError as err:
        if whole_floats and isinstance(value, (float, np.floating)) and float(value).is_integer():
            number = int(value)
        elif whole_floats:
            raise InvalidInputError(f"{name} must be a whole number, got {value!r}") from None
        else:
            raise InvalidInputError(f"{name} must be an integer, got {value!r} ({type(value).__name__})") from err
    if number < minimum:
        raise InvalidInputError(f"{name} must be at least {minimum}, got {number}")
    return number


def check_dt(dt: Any) -> float:
    """The time between observations, a positive finite number.

    Parameters
    ----------
    dt : float

    Returns
    -------
    float

    Raises
    ------
    InvalidInputError
        ``dt`` is not a number, not finite or not positive.

    Examples
    --------
    >>> check_dt(1)
    1.0
    """
    try:
        value = float(dt)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(f"dt must be a positive number, got {dt!r}") from err
    if not np.isfinite(value) or value <= 0:
        raise InvalidInputError(f"dt must be a positive finite number (time between samples), got {dt!r}")
    return value


def as_observed_series(y: Any, min_observations: int) -> np.ndarray:
    """One series to fit: 1-D, numeric, finite or NaN, enough data, not constant.

    Parameters
    ----------
    y : array_like
        The series; NaN marks a missing observation.
    min_observations : int
        Fewest non-missing values the estimator needs.

    Returns
    -------
    numpy.ndarray of float64

    Raises
    ------
    InvalidInputError
        Not numeric, not 1-D, infinite values, or constant.
    SeriesTooShortError
        Fewer than ``min_observations`` non-missing values.

    Examples
    --------
    >>> as_observed_series([0.0, 1.0, float("nan"), 0.5], 3).size
    4
    """
    try:
        array = np.asarray(y, dtype=float)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(f"a series must be numeric, got {type(y).__name__}") from err
    if array.ndim != 1:
        raise InvalidInputError(f"a series must be 1-D, got shape {array.shape}")
    if np.any(np.isinf(array)):
        raise InvalidInputError("the series contains infinite values; use NaN for missing ones")
    observed = array[~np.isnan(array)]
    if observed.size < min_observations:
        raise SeriesTooShortError(
            f"the series has {observed.size} non-missing values; DLO estimation needs at "
            f"least {min_observations} (a few oscillation periods are better)"
        )
    if np.ptp(observed) == 0:
        raise InvalidInputError(
            "the series is constant; it carries no information about the oscillator "
            "(check that the scores vary, e.g. a face was found in the frames)"
        )
    return array


def require_frame(data: Any, name: str, *, task: str, unique_columns: bool = False) -> pd.DataFrame:
    """``data`` itself, checked to be a non-empty DataFrame.

    Parameters
    ----------
    data : object
        The argument.
    name : str
        Its name, for the error message.
    task : str
        What the caller does with the rows ("draw", "evaluate"), for the message.
    unique_columns : bool, default False
        Also refuse duplicated column names.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InvalidInputError
        Not a DataFrame, no rows, or (with ``unique_columns``) a column name twice.

    Examples
    --------
    >>> require_frame(pd.DataFrame({"a": [1]}), "scores", task="draw").shape
    (1, 1)
    """
    if not isinstance(data, pd.DataFrame):
        raise InvalidInputError(f"{name} must be a pandas DataFrame, got {type(data).__name__}")
    if data.empty:
        raise InvalidInputError(f"{name} has no rows; there is nothing to {task}")
    if unique_columns and data.columns.duplicated().any():
        duplicated = sorted(map(str, data.columns[data.columns.duplicated()].unique()))
        raise InvalidInputError(f"{name} has duplicate column names {duplicated}; rename them first")
    return data


def require_columns(frame: pd.DataFrame, columns: Sequence[Any], name: str, role: str = "") -> None:
    """Raise unless every one of ``columns`` is a column of ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
    columns : sequence
        Column names the caller needs.
    name : str
        The table's argument name, for the message.
    role : str, optional
        What the columns are for (``"truth/pred"``), for the message.

    Returns
    -------
    None

    Raises
    ------
    InvalidInputError
        Naming the missing columns and the available ones.

    Examples
    --------
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a"], "data")
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        kind = f"{role} column(s)" if role else "column(s)"
        raise InvalidInputError(f"{name} has no {kind} {missing}; available columns: {[str(c) for c in frame.columns]}")
