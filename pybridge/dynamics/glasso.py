"""Graphical lasso path with the exact iterations of R's ``glasso`` 1.11 (``glassopath``).

EBICglasso in EGAnet selects among precision matrices that ``glasso`` computes only
approximately (threshold 1e-4, warm starts along the path, block screening with a
particular variable order). An exactly converged solver (scikit-learn, QUIC, ADMM)
gives different partial correlations (up to ~3e-3) and a different zero pattern, so
this module ports glasso's block coordinate descent step by step, compiled with numba.
"""

from __future__ import annotations

import numba
import numpy as np

from ..validation import as_square_matrix

__all__ = ["glasso_path"]


@numba.njit(cache=True, nogil=True)
def _components(s, penalty):
    """Screening: connected components of ``|S_jk| > penalty`` in glasso's local order."""
    p = s.shape[0]
    label = np.full(p, -1, dtype=np.int64)
    order = np.empty(p, dtype=np.int64)
    starts = np.empty(p + 1, dtype=np.int64)
    n_components = 0
    filled = 0
    for k in range(p):
        if label[k] >= 0:
            continue
        starts[n_components] = filled
        label[k] = n_components
        order[filled] = k
        filled += 1
        cursor = filled - 1
        while cursor < filled:
            node = order[cursor]
            for other in range(p):
                if label[other] < 0 and other != node and abs(s[node, other]) > penalty:
                    label[other] = n_components
                    order[filled] = other
                    filled += 1
            cursor += 1
        n_components += 1
    starts[n_components] = filled
    return order, starts[: n_components + 1]


@numba.njit(cache=True, nogil=True)
def _lasso(w, s, j, beta, penalty, tolerance, residual):
    """glasso's inner lasso for node ``j``, by coordinate descent on ``W`` without ``j``.

    Works in place on full-length vectors (entry ``j`` unused) instead of copying
    ``W_{-j,-j}``; sums run over the same indices in the same order as glasso, so the
    results are bit-identical. ``W`` is exactly symmetric (glasso writes it
    symmetrically), so contiguous rows stand in for the columns glasso reads.
    """
    m = s.shape[0]
    for i in range(m):
        if i == j:
            continue
        total = 0.0
        for k in range(m):
            if k != j and beta[k] != 0.0:
                total += w[i, k] * beta[k]
        residual[i] = s[i, j] - total
    while True:
        largest = 0.0
        for c in range(m):
            if c == j:
                continue
            old = beta[c]
            u = residual[c] + w[c, c] * old
            shrunk = abs(u) - penalty
            new = 0.0
            if shrunk > 0.0:
                new = (shrunk if u > 0 else -shrunk) / w[c, c]
            beta[c] = new
            if new == old:
                continue
            change = new - old
            if abs(change) > largest:
                largest = abs(change)
            for i in range(m):
                residual[i] -= change * w[c, i]
        if largest < tolerance:
            return


@numba.njit(cache=True, nogil=True)
def _block(s, w, theta, penalty, warm, threshold, max_sweeps):
    """glasso on one connected block (local order); updates ``w`` and ``theta``."""
    m = s.shape[0]
    off_diagonal = 0.0
    for j in range(m):
        for k in range(m):
            if j != k:
                off_diagonal += abs(s[j, k])
    if off_diagonal == 0.0:
        for j in range(m):
            for k in range(m):
                w[j, k] = 0.0
                theta[j, k] = 0.0
            w[j, j] = s[j, j]
            theta[j, j] = 1.0 / max(s[j, j], 1e-7)
        return
    outer = threshold * off_diagonal / (m - 1)
    # coefficients[j, k]: regression coefficient of node j on node k (k != j)
    coefficients = np.zeros((m, m))
    if warm:
        for j in range(m):
            for k in range(m):
                if k != j:
                    coefficients[j, k] = -theta[k, j] / theta[j, j]
    else:
        for j in range(m):
            for k in range(m):
                w[j, k] = s[j, k]
    for j in range(m):
        w[j, j] = s[j, j]
    residual = np.zeros(m)
    old_column = np.empty(m)
    sweeps = 0
    while True:
        delta = 0.0
        for j in range(m):
            v_sum = 0.0
            for a in range(m):
                if a != j:
                    for b in range(m):
                        if b != j:
                            v_sum += abs(w[a, b])
            for k in range(m):
                old_column[k] = w[k, j]
            _lasso(w, s, j, coefficients[j], penalty, outer / v_sum, residual)
            for k in range(m):
                if k != j:
                    value = s[k, j] - residual[k]
                    w[k, j] = value
                    w[j, k] = value
            moved = 0.0
            for k in range(m):
                moved += abs(w[k, j] - old_column[k])
            if moved > delta:
                delta = moved
        sweeps += 1
        if sweeps >= max_sweeps or delta < outer:
            break
    for j in range(m):
        dot = 0.0
        for k in range(m):
            if k != j:
                dot += w[k, j] * coefficients[j, k]
        theta[j, j] = 1.0 / (w[j, j] - dot)
        for k in range(m):
            if k != j:
                theta[k, j] = -theta[j, j] * coefficients[j, k]


@numba.njit(cache=True, nogil=True)
def _solve(s, w, theta, penalty, warm, threshold, max_sweeps):
    p = s.shape[0]
    order, starts = _components(s, penalty)
    for c in range(starts.size - 1):
        members = order[starts[c] : starts[c + 1]]
        size = members.size
        if size >= 2:
            s_block = np.empty((size, size))
            w_block = np.empty((size, size))
            theta_block = np.empty((size, size))
            for a in range(size):
                for b in range(size):
                    s_block[a, b] = s[members[a], members[b]]
                    w_block[a, b] = w[members[a], members[b]]
                    theta_block[a, b] = theta[members[a], members[b]]
            _block(s_block, w_block, theta_block, penalty, warm, threshold, max_sweeps)
        for a in range(size):
            for k in range(p):
                w[members[a], k] = 0.0
                w[k, members[a]] = 0.0
                theta[members[a], k] = 0.0
                theta[k, members[a]] = 0.0
        if size >= 2:
            for a in range(size):
                for b in range(size):
                    w[members[a], members[b]] = w_block[a, b]
                    theta[members[a], members[b]] = theta_block[a, b]
    for j in range(p):
        if w[j, j] == 0.0:
            w[j, j] = s[j, j]
            theta[j, j] = 1.0 / w[j, j]


@numba.njit(cache=True, nogil=True)
def _path(s, penalties, threshold, max_sweeps):
    p = s.shape[0]
    n_penalties = penalties.size
    w = np.zeros((p, p))
    theta = np.zeros((p, p))
    precisions = np.empty((n_penalties, p, p))
    # step 0: cold solve at the largest penalty; steps 1..L: warm solves from the
    # largest down (the largest twice, as glasso does). `warm` is computed rather than
    # a literal so numba compiles _solve once.
    for step in range(n_penalties + 1):
        index = n_penalties - max(step, 1)
        warm = step > 0
        _solve(s, w, theta, penalties[index], warm, threshold, max_sweeps)
        if warm:
            precisions[index] = theta
    return precisions


def glasso_path(
    covariance,
    penalties,
    threshold: float = 1e-4,
    max_sweeps: int = 10_000,
) -> np.ndarray:
    """Precision matrices along a penalty path, as ``glasso::glassopath`` computes them.

    The diagonal is not penalised (``penalize.diagonal = FALSE``); the path is solved
    from the largest penalty down, each solve warm-started from the previous one (the
    largest penalty is solved twice, cold then warm, as glasso does).

    Parameters
    ----------
    covariance : array-like, shape (p, p)
        Symmetric covariance or correlation matrix.
    penalties : array-like, shape (L,)
        Penalties in ascending order.
    threshold : float, default 1e-4
        glasso's ``thr``.
    max_sweeps : int, default 10000
        glasso's ``maxit``.

    Returns
    -------
    numpy.ndarray, shape (L, p, p)
        Raw precision matrices (not exactly symmetric, exactly as glasso returns them).

    Raises
    ------
    InvalidInputError
        ``covariance`` is not a numeric square matrix.

    Examples
    --------
    >>> s = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.3], [0.2, 0.3, 1.0]])
    >>> glasso_path(s, [0.1, 0.2]).shape
    (2, 3, 3)
    """
    s = np.ascontiguousarray(as_square_matrix(covariance, "covariance"))
    penalties = np.ascontiguousarray(penalties, dtype=float)
    return _path(s, penalties, float(threshold), int(max_sweeps))
