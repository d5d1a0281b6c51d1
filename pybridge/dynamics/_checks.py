"""Input conversion shared by the dynamics stage, so every entry point fails alike.

numpy's own ``ValueError`` ("could not convert string to float") names neither the
argument that was wrong nor what to do about it; these helpers raise
:class:`~pybridge.errors.InvalidInputError` that does both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidInputError


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
        raise InvalidInputError(
            f"{name} must be numeric; convert it with pandas.to_numeric first ({err})"
        ) from None


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
