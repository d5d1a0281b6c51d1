"""Triangulated Maximally Filtered Graph (EGAnet's ``TMFG``)."""

from __future__ import annotations

import numpy as np

from ..validation import as_square_matrix

__all__ = ["tmfg"]


def tmfg(correlation: np.ndarray, partial: bool = False) -> np.ndarray:
    """TMFG network of a correlation matrix (Massara, Di Matteo & Aste, 2016).

    Starts from the tetrahedron of the four nodes with the largest sum of absolute
    correlations above the matrix mean, then repeatedly inserts the outside node and
    triangle with the largest sum of the three absolute correlations (ties: lowest
    triangle, then earliest node, as EGAnet), keeping the signed correlations of the
    inserted edges.

    Parameters
    ----------
    correlation : numpy.ndarray, shape (p, p)
        Correlation matrix, ``p >= 4``.
    partial : bool, default False
        Return the LoGo partial correlations (zero diagonal) instead of the filtered
        zero-order correlations (unit diagonal).

    Returns
    -------
    numpy.ndarray, shape (p, p)
        Planar network with ``3p - 6`` edges.

    Raises
    ------
    InvalidInputError
        ``correlation`` is not a numeric square matrix.

    Examples
    --------
    >>> r = np.corrcoef(np.random.default_rng(0).normal(size=(40, 6)), rowvar=False)
    >>> int((np.triu(tmfg(r), 1) != 0).sum())
    12
    """
    signed = as_square_matrix(correlation, "correlation")
    absolute = np.abs(signed)
    p = absolute.shape[0]
    above_mean = (absolute * (absolute > np.nanmean(absolute))).sum(axis=0)
    first_four = list(np.argsort(-above_mean, kind="stable")[:4])
    remaining = [node for node in range(p) if node not in first_four]
    triangles = [
        [first_four[1], first_four[2], first_four[3]],
        [first_four[0], first_four[2], first_four[3]],
        [first_four[0], first_four[1], first_four[3]],
        [first_four[0], first_four[1], first_four[2]],
    ]
    network = np.eye(p)
    network[np.ix_(first_four, first_four)] = signed[np.ix_(first_four, first_four)]
    gain = np.full((p, 2 * (p - 2)), -np.inf)
    for index, triangle in enumerate(triangles):
        gain[remaining, index] = absolute[np.ix_(remaining, triangle)].sum(axis=1)
    cliques = [list(first_four)]
    separators = []
    while remaining:
        table = gain[remaining]
        # column-major first maximum = lowest triangle, then earliest remaining node
        flat = np.flatnonzero((table == table.max()).T.ravel())[0]
        best_triangle, row = divmod(int(flat), len(remaining))
        node = remaining.pop(row)
        corners = triangles[best_triangle]
        network[node, corners] = signed[node, corners]
        network[corners, node] = signed[node, corners]
        separators.append(list(corners))
        cliques.append([*corners, node])
        triangles.append([corners[0], corners[2], node])
        triangles.append([corners[1], corners[2], node])
        triangles[best_triangle] = [corners[0], corners[1], node]
        gain[node, :] = 0.0
        for index in (best_triangle, len(triangles) - 2, len(triangles) - 1):
            gain[remaining, index] = absolute[np.ix_(remaining, triangles[index])].sum(axis=1)
    if not partial:
        return network
    precision = np.zeros((p, p))
    for clique in cliques:
        precision[np.ix_(clique, clique)] += np.linalg.inv(signed[np.ix_(clique, clique)])
    for separator in separators:
        precision[np.ix_(separator, separator)] -= np.linalg.inv(signed[np.ix_(separator, separator)])
    scale = np.sqrt(np.diag(precision))
    partial_network = -precision / np.outer(scale, scale)
    np.fill_diagonal(partial_network, 0.0)
    return partial_network
