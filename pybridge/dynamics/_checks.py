"""Input conversion shared by the dynamics stage, so every entry point fails alike."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidInputError


def as_float_array(value, name: str) -> np.ndarray:
    """``value`` as a float array, or an :class:`InvalidInputError` naming ``name``.

    numpy's own ``ValueError`` ("could not convert string to float") does not say
    which argument was wrong nor what to do about it.
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
    """``value`` as a square float matrix, or an :class:`InvalidInputError` naming ``name``."""
    matrix = as_float_array(value, name)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise InvalidInputError(f"{name} must be a square matrix, got shape {matrix.shape}")
    return matrix
