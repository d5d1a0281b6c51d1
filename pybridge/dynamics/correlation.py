"""Correlations as EGAnet's ``EGA`` estimates them (``auto.correlate``) and ``nearPD``.

``corr="auto"`` treats a column with at most ``ordinal_categories`` (7) distinct values
as ordinal: ordinal pairs get polychoric correlations, ordinal-continuous pairs
polyserial ones and continuous pairs Pearson's, all on pairwise-complete rows. The
diagonal is set to 1 and a matrix that is not positive definite (smallest eigenvalue
<= machine epsilon; always the case with fewer rows than variables) is replaced by
the nearest correlation matrix of ``Matrix::nearPD``.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pandas as pd
from scipy import stats

from ..errors import EstimationError, InvalidInputError
from ..validation import as_float_array

__all__ = ["auto_correlate", "near_pd", "pairwise_pearson", "polychoric", "polyserial"]

CORRELATION_METHODS = ("auto", "pearson", "spearman")
NA_DATA_RULES = ("pairwise", "listwise")
_EPSILON = np.finfo(float).eps


def pairwise_pearson(data: np.ndarray) -> np.ndarray:
    """Pearson correlations on pairwise-complete rows (R's ``use = "pairwise"``).

    Parameters
    ----------
    data : numpy.ndarray, shape (n, p)
        NaN marks a missing value.

    Returns
    -------
    numpy.ndarray, shape (p, p)
        NaN where a pair has fewer than two complete rows or no variance.

    Raises
    ------
    InvalidInputError
        ``data`` is not numeric.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [2.0, 4.1], [3.0, 5.9]])
    >>> round(float(pairwise_pearson(x)[0, 1]), 3)
    0.999
    """
    data = as_float_array(data, "data")
    if np.isnan(data).any():
        matrix = pd.DataFrame(data).corr(method="pearson", min_periods=2).to_numpy(copy=True)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            centred = data - data.mean(axis=0)
            cross = centred.T @ centred
            scale = np.sqrt(np.diag(cross))
            matrix = cross / np.outer(scale, scale)
    # exactly symmetric, like R's cor (glasso relies on it)
    upper = np.triu(matrix, 1)
    return upper + upper.T + np.diag(np.diag(matrix))


def near_pd(
    matrix: np.ndarray,
    eig_tol: float = 1e-6,
    conv_tol: float = 1e-7,
    posd_tol: float = 1e-8,
    maxit: int = 100,
) -> np.ndarray:
    """Nearest correlation matrix, as ``Matrix::nearPD(corr = TRUE, keepDiag = TRUE)``.

    Higham's alternating projections with Dykstra's correction, the infinity-norm
    convergence test and the final eigenvalue floor of ``Matrix`` 1.5.

    Parameters
    ----------
    matrix : numpy.ndarray, shape (p, p)
        Symmetric (its symmetric part is used) matrix with unit diagonal.
    eig_tol, conv_tol, posd_tol, maxit
        ``nearPD``'s defaults.

    Returns
    -------
    numpy.ndarray, shape (p, p)
        Positive definite, unit diagonal.

    Raises
    ------
    EstimationError
        The matrix has no positive eigenvalue left to project on.

    Examples
    --------
    >>> r = np.array([[1, 0.9, 0.7], [0.9, 1, -0.9], [0.7, -0.9, 1]])
    >>> bool(np.linalg.eigvalsh(near_pd(r)).min() > 0)
    True
    """
    current = (np.asarray(matrix, dtype=float) + np.asarray(matrix, dtype=float).T) / 2
    correction = np.zeros_like(current)
    for _ in range(maxit):
        previous = current
        shifted = previous - correction
        values, vectors = np.linalg.eigh(shifted)
        keep = values > eig_tol * values[-1]
        if not keep.any():
            raise EstimationError(
                "the correlation matrix has no positive eigenvalue; check the data for constant or duplicated columns"
            )
        current = (vectors[:, keep] * values[keep]) @ vectors[:, keep].T
        correction = current - shifted
        np.fill_diagonal(current, 1.0)
        change = np.abs(previous - current).sum(axis=1).max()
        if change / np.abs(previous).sum(axis=1).max() <= conv_tol:
            break
    values, vectors = np.linalg.eigh(current)
    floor = posd_tol * abs(values[-1])
    if values[0] < floor:
        values = np.maximum(values, floor)
        old_diagonal = np.diag(current).copy()
        current = (vectors * values) @ vectors.T
        scale = np.sqrt(np.maximum(floor, old_diagonal) / np.diag(current))
        current = scale[:, None] * current * scale[None, :]
    np.fill_diagonal(current, 1.0)
    return current


def _codes(column: np.ndarray) -> np.ndarray:
    """Ordinal codes 1..k of the observed values (sorted), NaN kept."""
    codes = np.full(column.shape, np.nan)
    observed = ~np.isnan(column)
    codes[observed] = np.unique(column[observed], return_inverse=True)[1] + 1
    return codes


def _thresholds(codes: np.ndarray, n_categories: int) -> np.ndarray:
    counts = np.bincount(codes.astype(int) - 1, minlength=n_categories)
    cumulative = np.cumsum(counts)[:-1] / codes.size
    return np.concatenate([[-np.inf], stats.norm.ppf(cumulative), [np.inf]])


_GL_POINTS = {
    6: (
        np.array([0.1713244923791705, 0.3607615730481384, 0.4679139345726904]),
        np.array([0.9324695142031522, 0.6612093864662647, 0.2386191860831970]),
    ),
    12: (
        np.array(
            [
                0.04717533638651177,
                0.1069393259953183,
                0.1600783285433464,
                0.2031674267230659,
                0.2334925365383547,
                0.2491470458134029,
            ]
        ),
        np.array(
            [
                0.9815606342467191,
                0.9041172563704750,
                0.7699026741943050,
                0.5873179542866171,
                0.3678314989981802,
                0.1252334085114692,
            ]
        ),
    ),
    20: (
        np.array(
            [
                0.01761400713915212,
                0.04060142980038694,
                0.06267204833410906,
                0.08327674157670475,
                0.1019301198172404,
                0.1181945319615184,
                0.1316886384491766,
                0.1420961093183821,
                0.1491729864726037,
                0.1527533871307259,
            ]
        ),
        np.array(
            [
                0.9931285991850949,
                0.9639719272779138,
                0.9122344282513259,
                0.8391169718222188,
                0.7463319064601508,
                0.6360536807265150,
                0.5108670019508271,
                0.3737060887154196,
                0.2277858511416451,
                0.07652652113349733,
            ]
        ),
    ),
}


@numba.njit(cache=True)
def _phi(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


@numba.njit(cache=True)
def _upper_orthant(h, k, r, weights, nodes):
    """P(X > h, Y > k) for a standard bivariate normal (Genz's BVNU, 2004)."""
    if h == np.inf or k == np.inf:
        return 0.0
    if h == -np.inf:
        return 1.0 if k == -np.inf else _phi(-k)
    if k == -np.inf:
        return _phi(-h)
    if r == 0.0:
        return _phi(-h) * _phi(-k)
    two_pi = 2.0 * math.pi
    hk = h * k
    total = 0.0
    n = weights.size
    if abs(r) < 0.925:
        hs = (h * h + k * k) / 2.0
        asr = math.asin(r) / 2.0
        for i in range(n):
            for sign in (-1.0, 1.0):
                sn = math.sin(asr * (1.0 + sign * nodes[i]))
                total += weights[i] * math.exp((sn * hk - hs) / (1.0 - sn * sn))
        total = total * asr / two_pi + _phi(-h) * _phi(-k)
    else:
        if r < 0:
            k = -k
            hk = -hk
        if abs(r) < 1:
            a_sq = 1.0 - r * r
            a = math.sqrt(a_sq)
            bs = (h - k) ** 2
            asr = -(bs / a_sq + hk) / 2.0
            c = (4.0 - hk) / 8.0
            d = (12.0 - hk) / 80.0
            if asr > -100:
                total = a * math.exp(asr) * (1.0 - c * (bs - a_sq) * (1.0 - d * bs) / 3.0 + c * d * a_sq * a_sq)
            if hk > -100:
                b = math.sqrt(bs)
                sp = math.sqrt(two_pi) * _phi(-b / a)
                total -= math.exp(-hk / 2.0) * sp * b * (1.0 - c * bs * (1.0 - d * bs) / 3.0)
            a = a / 2.0
            integral = 0.0
            for i in range(n):
                for sign in (-1.0, 1.0):
                    xs = (a * (1.0 + sign * nodes[i])) ** 2
                    asr = -(bs / xs + hk) / 2.0
                    if asr > -100:
                        sp = 1.0 + c * xs * (1.0 + 5.0 * d * xs)
                        rs = math.sqrt(1.0 - xs)
                        ep = math.exp(-(hk / 2.0) * xs / (1.0 + rs) ** 2) / rs
                        integral += weights[i] * math.exp(asr) * (sp - ep)
            total = (a * integral - total) / two_pi
        if r > 0:
            total += _phi(-max(h, k))
        elif h >= k:
            total = -total
        else:
            lower = _phi(k) - _phi(h) if h < 0 else _phi(-h) - _phi(-k)
            total = lower - total
    return max(0.0, min(1.0, total))


@numba.njit(cache=True)
def _cdf_grid(upper_x, upper_y, r, weights, nodes):
    out = np.empty((upper_x.size, upper_y.size))
    for i in range(upper_x.size):
        for j in range(upper_y.size):
            out[i, j] = _upper_orthant(-upper_x[i], -upper_y[j], r, weights, nodes)
    return out


def _bivariate_cdf(upper_x: np.ndarray, upper_y: np.ndarray, rho: float) -> np.ndarray:
    """P(X <= a, Y <= b) on a grid, standard bivariate normal with correlation ``rho``.

    Genz's method with 6, 12 or 20 Gauss-Legendre points by |rho| (as EGAnet's C code).
    """
    size = 6 if abs(rho) < 0.3 else 12 if abs(rho) < 0.75 else 20
    weights, nodes = _GL_POINTS[size]
    return _cdf_grid(np.asarray(upper_x, float), np.asarray(upper_y, float), float(rho), weights, nodes)


def _bivariate_density(x: np.ndarray, y: np.ndarray, rho: float) -> np.ndarray:
    grid_x, grid_y = np.meshgrid(x, y, indexing="ij")
    finite = np.isfinite(grid_x) & np.isfinite(grid_y)
    density = np.zeros(grid_x.shape)
    gx, gy = grid_x[finite], grid_y[finite]
    one_minus = 1.0 - rho * rho
    density[finite] = np.exp(-(gx * gx - 2 * rho * gx * gy + gy * gy) / (2 * one_minus)) / (
        2 * np.pi * np.sqrt(one_minus)
    )
    return density


def polychoric(x, y) -> float:
    """Polychoric correlation of two ordinal variables (maximum likelihood).

    Thresholds come from the marginal proportions; the correlation maximises the
    multinomial likelihood of the joint table by Fisher scoring started at the Pearson
    correlation of the codes (at most 40 steps of at most 0.3, stop when the squared
    score is below 1e-9, cell probabilities floored at 1e-9), as EGAnet's
    ``polychoric_matrix.c`` does.

    Parameters
    ----------
    x, y : array-like of float
        Ordinal values (any numbers; they are recoded to 1..k by sorted value). Rows
        with a NaN in either are dropped.

    Returns
    -------
    float
        NaN when either variable is constant on the complete rows.

    Raises
    ------
    InvalidInputError
        ``x`` or ``y`` is not numeric.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=4000)
    >>> cut = np.digitize(z, [-1, 0, 1])
    >>> abs(polychoric(cut[:, 0], cut[:, 1]) - 0.6) < 0.05
    True
    """
    x = as_float_array(x, "x")
    y = as_float_array(y, "y")
    complete = ~(np.isnan(x) | np.isnan(y))
    codes_x, codes_y = _codes(x[complete]), _codes(y[complete])
    if codes_x.size < 2 or codes_x.max() < 2 or codes_y.max() < 2:
        return np.nan
    kx, ky = int(codes_x.max()), int(codes_y.max())
    table = np.zeros((kx, ky))
    np.add.at(table, (codes_x.astype(int) - 1, codes_y.astype(int) - 1), 1.0)
    tau_x, tau_y = _thresholds(codes_x, kx), _thresholds(codes_y, ky)
    rho = float(np.corrcoef(codes_x, codes_y)[0, 1])
    rho = float(np.clip(rho, -0.999, 0.999))
    total = table.sum()
    for _ in range(40):
        cdf = _bivariate_cdf(tau_x, tau_y, rho)
        cells = np.maximum(cdf[1:, 1:] - cdf[:-1, 1:] - cdf[1:, :-1] + cdf[:-1, :-1], 1e-9)
        density = _bivariate_density(tau_x, tau_y, rho)
        slope = density[1:, 1:] - density[:-1, 1:] - density[1:, :-1] + density[:-1, :-1]
        score = float((table / cells * slope).sum())
        if score * score < 1e-9:
            break
        information = float(total * (slope * slope / cells).sum())
        if information <= 0:
            break
        step = float(np.clip(score / information, -0.3, 0.3))
        candidate = rho + step
        while abs(candidate) >= 1:
            step /= 2
            candidate = rho + step
        rho = candidate
    return rho


def polyserial(continuous, ordinal) -> float:
    """Polyserial correlation (EGAnet's two-step formula).

    ``r = sqrt((n - 1) / n) * sd(y) * cor(y, z) / sum(phi(tau_k))`` with ``z`` the
    standardised continuous variable and ``tau_k`` the thresholds of the ordinal one.

    Parameters
    ----------
    continuous, ordinal : array-like of float
        The two variables; rows with a NaN in either are dropped.

    Returns
    -------
    float

    Raises
    ------
    InvalidInputError
        ``continuous`` or ``ordinal`` is not numeric.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> z = rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], size=5000)
    >>> abs(polyserial(z[:, 0], np.digitize(z[:, 1], [-0.5, 0.5])) - 0.5) < 0.05
    True
    """
    x = as_float_array(continuous, "continuous")
    y = as_float_array(ordinal, "ordinal")
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (x - np.nanmean(x)) / np.nanstd(x, ddof=1)
    complete = ~(np.isnan(z) | np.isnan(y))
    n = int(complete.sum())
    if n < 2:
        return np.nan
    y_observed = y[~np.isnan(y)]
    if np.unique(y_observed).size < 2 or np.unique(x[~np.isnan(x)]).size < 2:
        return np.nan
    categories = np.unique(y_observed)
    counts = np.array([(y_observed == value).sum() for value in categories])
    cumulative = np.cumsum(counts)[:-1] / y_observed.size
    denominator = stats.norm.pdf(stats.norm.ppf(cumulative)).sum()
    r = np.corrcoef(y[complete], z[complete])[0, 1]
    return float(np.sqrt((n - 1) / n) * np.std(y_observed, ddof=1) * r / denominator)


def _mixed_correlation(data: np.ndarray, ordinal: np.ndarray) -> np.ndarray:
    p = data.shape[1]
    result = np.full((p, p), np.nan)
    ordinal_idx = np.flatnonzero(ordinal)
    continuous_idx = np.flatnonzero(~ordinal)
    if continuous_idx.size:
        block = pairwise_pearson(data[:, continuous_idx])
        result[np.ix_(continuous_idx, continuous_idx)] = block
    for a_pos, a in enumerate(ordinal_idx):
        for b in ordinal_idx[a_pos + 1 :]:
            result[a, b] = result[b, a] = polychoric(data[:, a], data[:, b])
        for c in continuous_idx:
            result[a, c] = result[c, a] = polyserial(data[:, c], data[:, a])
    return result


def auto_correlate(
    data,
    corr: str = "auto",
    na_data: str = "pairwise",
    ordinal_categories: int = 7,
    force_pd: bool = True,
) -> np.ndarray:
    """Correlation matrix the way EGAnet's EGA computes it.

    Parameters
    ----------
    data : array-like, shape (n, p)
        Numeric data; NaN marks missing values.
    corr : {"auto", "pearson", "spearman"}, default "auto"
        ``"auto"``: Pearson / polychoric / polyserial by column type, unit diagonal and
        ``nearPD`` when not positive definite. ``"pearson"``/``"spearman"``: plain
        correlations, as R's ``cor`` (no diagonal fix, no ``nearPD``).
    na_data : {"pairwise", "listwise"}, default "pairwise"
        Pairwise-complete rows per pair, or complete rows only.
    ordinal_categories : int, default 7
        Columns with at most this many distinct values are ordinal (``"auto"`` only).
    force_pd : bool, default True
        Apply ``nearPD`` when the matrix is not positive definite (``"auto"`` only).

    Returns
    -------
    numpy.ndarray, shape (p, p)

    Raises
    ------
    InvalidInputError
        Unknown ``corr`` or ``na_data``.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(50, 3))
    >>> auto_correlate(x).shape
    (3, 3)
    """
    if corr not in CORRELATION_METHODS:
        raise InvalidInputError(f"corr must be one of {', '.join(CORRELATION_METHODS)}; got {corr!r}")
    if na_data not in NA_DATA_RULES:
        raise InvalidInputError(f"na_data must be one of {', '.join(NA_DATA_RULES)}; got {na_data!r}")
    values = np.asarray(data, dtype=float)
    if na_data == "listwise":
        values = values[~np.isnan(values).any(axis=1)]
    if corr == "spearman":
        return pd.DataFrame(values).corr(method="spearman", min_periods=2).to_numpy(copy=True)
    if corr == "pearson":
        return pairwise_pearson(values)
    n_distinct = np.array([np.unique(column[~np.isnan(column)]).size for column in values.T])
    ordinal = n_distinct <= ordinal_categories
    matrix = _mixed_correlation(values, ordinal) if ordinal.any() else pairwise_pearson(values)
    np.fill_diagonal(matrix, 1.0)
    if not force_pd or not np.isfinite(matrix).all():
        return matrix
    if np.linalg.eigvalsh(matrix).min() > _EPSILON:
        return matrix
    return near_pd(matrix)
