"""Total Entropy Fit Index (EGAnet's ``tefi``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidInputError
from ..validation import as_float_array, as_square_matrix

__all__ = ["tefi", "matrix_entropy"]

# EGAnet takes logarithms in base 2.718282 (a rounded e), not in base e.
_LOG_BASE = np.log(2.718282)


def matrix_entropy(matrix: np.ndarray) -> float:
    """EGAnet's entropy functional of a non-negative symmetric matrix.

    ``-sum_i [sum_k rho_ik * log_b(rho_ki)]`` with ``rho = M / q``, an element-wise
    logarithm in base 2.718282, and every row term that is NaN (a row holding an exact
    zero, ``0 * log 0``) dropped.

    Parameters
    ----------
    matrix : numpy.ndarray, shape (q, q)

    Returns
    -------
    float

    Raises
    ------
    InvalidInputError
        ``matrix`` is not a numeric square matrix.

    Examples
    --------
    >>> round(matrix_entropy(np.ones((2, 2))), 6)
    1.386294
    """
    matrix = as_square_matrix(matrix, "matrix")
    density = matrix / matrix.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        row_terms = (density * (np.log(density.T) / _LOG_BASE)).sum(axis=1)
    return float(-np.nansum(row_terms))


def tefi(correlation, wc) -> dict[str, float]:
    """Total Entropy Fit Index of a partition of a correlation matrix.

    Parameters
    ----------
    correlation : array-like, shape (p, p)
        Correlation matrix (e.g. ``EGA(...).correlation``).
    wc : array-like, shape (p,)
        Community memberships; NaN members are dropped first.

    Returns
    -------
    dict
        ``{"VN.Entropy.Fit": ..., "Total.Correlation": ..., "Average.Entropy": ...}``
        (EGAnet's names). Lower ``VN.Entropy.Fit`` is better; NaN for an all-NaN
        membership and 0 for a single community.

    Raises
    ------
    InvalidInputError
        ``wc`` does not have one entry per variable.

    Examples
    --------
    >>> r = np.array([[1, .6, .1, .1], [.6, 1, .1, .1], [.1, .1, 1, .6], [.1, .1, .6, 1]])
    >>> tefi(r, [1, 1, 2, 2])["VN.Entropy.Fit"] < tefi(r, [1, 2, 1, 2])["VN.Entropy.Fit"]
    True
    """
    matrix = np.abs(as_float_array(correlation, "correlation"))
    labels = as_float_array(pd.Series(wc), "wc")
    if matrix.ndim != 2 or labels.size != matrix.shape[0]:
        raise InvalidInputError(
            f"wc has {labels.size} entries but the correlation matrix is {matrix.shape}; "
            "pass one membership per variable"
        )
    keep = ~np.isnan(labels)
    if not keep.any():
        return {"VN.Entropy.Fit": np.nan, "Total.Correlation": np.nan, "Average.Entropy": np.nan}
    matrix = matrix[np.ix_(keep, keep)]
    labels = labels[keep]
    communities = np.unique(labels)
    total = matrix_entropy(matrix)
    entropies = np.array([matrix_entropy(matrix[np.ix_(labels == c, labels == c)]) for c in communities])
    mean_entropy = float(np.nanmean(entropies))
    summed = communities.size * mean_entropy
    fit = (mean_entropy - total) + (total - summed) * np.sqrt(communities.size)
    return {
        "VN.Entropy.Fit": float(fit),
        "Total.Correlation": float(summed - total),
        "Average.Entropy": float(mean_entropy - total),
    }
