"""Network loadings and network scores (EGAnet's ``net.loads`` and ``net.scores``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InvalidInputError
from ..validation import as_float_array

__all__ = ["NetLoads", "net_loads", "net_scores", "LOADING_METHODS"]

LOADING_METHODS = ("revised", "original")


@dataclass
class NetLoads:
    """Network loadings.

    Attributes
    ----------
    unstd : pandas.DataFrame
        Unstandardised loadings (nodes x communities).
    std : pandas.DataFrame
        Standardised loadings, same layout. Rows in EGAnet's order: communities in
        order, within each the nodes by decreasing standardised own loading.
    method : str
        ``"revised"`` or ``"original"``.
    wc : pandas.Series
        Community labels as strings (the loading columns), indexed by node.
    """

    unstd: pd.DataFrame
    std: pd.DataFrame
    method: str
    wc: pd.Series

    def to_dict(self) -> dict:
        """Plain-type view for JSON and the R package.

        Returns
        -------
        dict
            ``{"unstd": {...}, "std": {...}, "method": str}``; each loadings table in
            pandas' ``"split"`` layout (``index``, ``columns``, ``data``).

        Examples
        --------
        >>> a = np.kron(np.eye(2), np.full((2, 2), 0.4))
        >>> sorted(net_loads(a, [1, 1, 2, 2]).to_dict()["std"])
        ['columns', 'data', 'index']
        """
        return {
            "unstd": self.unstd.to_dict(orient="split"),
            "std": self.std.to_dict(orient="split"),
            "method": self.method,
        }


def _string_labels(wc: np.ndarray) -> np.ndarray:
    """EGAnet's zero-padded string memberships ("1".."9", or "01".. with >= 10), "NA"."""
    finite = wc[~np.isnan(wc)]
    width = len(str(int(finite.max()))) if finite.size else 1
    return np.array(["NA" if np.isnan(x) else str(int(x)).zfill(width) for x in wc])


def _orient(block: np.ndarray) -> np.ndarray:
    """Signs that make every row sum of a community block non-negative (EGAnet)."""
    block = block.copy()
    signs = np.ones(block.shape[0])
    while True:
        row_sums = np.nansum(block, axis=1)
        lowest = int(np.argmin(row_sums))
        if not row_sums[lowest] < 0:
            break
        block[lowest, :] = -block[lowest, :]
        block[:, lowest] = -block[:, lowest]
        signs[lowest] = -signs[lowest]
    return -signs if signs.sum() < 0 else signs


def _revised(network, labels, communities):
    nodes = labels.size
    loadings = np.zeros((nodes, communities.size))
    signs = np.ones(nodes)
    sizes = np.array([(labels == c).sum() for c in communities], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        for column, community in enumerate(communities):
            members = labels == community
            block_signs = _orient(network[np.ix_(members, members)])
            oriented = network[np.ix_(members, members)] * np.outer(block_signs, block_signs)
            loadings[members, column] = np.nansum(oriented, axis=0) / (sizes[column] - 1) * sizes[column]
            signs[members] = block_signs
    community_sums = np.nansum(np.abs(loadings), axis=0)
    if communities.size > 1:
        flipped = network * np.outer(signs, signs)
        for column, cross in enumerate(communities):
            for community in communities:
                if community != cross:
                    members = labels == community
                    loadings[members, column] = np.nansum(flipped[np.ix_(labels == cross, members)], axis=0)
    loadings = loadings * signs[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        standardized = loadings / community_sums ** (1 / np.log(2 * sizes))
    return loadings, standardized


def _greedy_signs(sign_block: np.ndarray) -> np.ndarray:
    """EGAnet's legacy node-by-node row flipping that increases the sign total."""
    block = sign_block.copy()
    signs = np.ones(block.shape[0])
    for node in range(block.shape[0]):
        current = np.nansum(block)
        block[node, :] = -block[node, :]
        if np.nansum(block) > current:
            signs[node] = -1.0
        else:
            block[node, :] = -block[node, :]
    return signs


def _original(network, labels, communities):
    absolute = np.abs(network)
    loadings = np.column_stack([np.nansum(absolute[labels == c, :], axis=0) for c in communities])
    signed = network.copy()
    for column, community in enumerate(communities):
        members = labels == community
        signs = _greedy_signs(np.sign(signed[np.ix_(members, members)]))
        loadings[members, column] *= signs
        signed[:, members] = signed[:, members] * signs[None, :]
    for first in communities:
        first_members = labels == first
        for column, second in enumerate(communities):
            if first != second:
                signs = _greedy_signs(np.sign(signed[np.ix_(first_members, labels == second)]))
                loadings[first_members, column] *= signs
    for column, community in enumerate(communities):
        members = labels == community
        if np.sign(loadings[members, column].sum()) != 1:
            loadings[members, :] = -loadings[members, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        standardized = loadings / np.sqrt(np.nansum(np.abs(loadings), axis=0))
    return loadings, standardized


def net_loads(A, wc=None, loading_method: str = "revised") -> NetLoads:
    """Network loadings of each node on each community (EGAnet's ``net.loads``).

    Parameters
    ----------
    A : pandas.DataFrame, numpy.ndarray or EGA result
        Signed network (variables as index and columns for a DataFrame). An EGA result
        supplies both the network and ``wc``.
    wc : array-like, optional
        Memberships (one per node, NaN allowed); required unless ``A`` is an EGA result.
    loading_method : {"revised", "original"}, default "revised"
        ``"revised"`` (EGAnet's default since 2.0.7): signed within-community sums
        scaled by ``n_k / (n_k - 1)``, standardised by ``c_k ** (1 / ln(2 n_k))``.
        ``"original"``: absolute sums with EGAnet's legacy sign assignment, standardised
        by the square root of the column sums.

    Returns
    -------
    NetLoads

    Raises
    ------
    InvalidInputError
        Missing or misaligned ``wc``, non-square network, or unknown method.

    Examples
    --------
    >>> a = np.kron(np.eye(2), np.full((3, 3), 0.3))
    >>> np.fill_diagonal(a, 0)
    >>> net_loads(a, [1, 1, 1, 2, 2, 2]).std.shape
    (6, 2)
    """
    if loading_method not in LOADING_METHODS:
        raise InvalidInputError(f"loading_method must be 'revised' or 'original'; got {loading_method!r}")
    if hasattr(A, "network") and hasattr(A, "wc"):
        wc = A.wc if wc is None else wc
        A = A.network
    if wc is None:
        raise InvalidInputError("wc is required when A is a matrix; pass the memberships")
    if isinstance(A, pd.DataFrame):
        names = [str(c) for c in A.columns]
        network = as_float_array(A, "A")
    else:
        network = as_float_array(A, "A")
        names = None
    if network.ndim != 2 or network.shape[0] != network.shape[1]:
        raise InvalidInputError(f"A must be a square network, got shape {network.shape}")
    if names is None:
        names = [f"V{i + 1}" for i in range(network.shape[0])]
    memberships = as_float_array(pd.Series(wc), "wc")
    if memberships.size != network.shape[0]:
        raise InvalidInputError(
            f"wc has {memberships.size} entries for {network.shape[0]} nodes; pass one membership per node"
        )
    labels = _string_labels(memberships)
    order = np.argsort(labels, kind="stable")
    labels = labels[order]
    network = network[np.ix_(order, order)]
    names = [names[i] for i in order]
    communities = np.array(sorted(set(labels), key=lambda s: (s == "NA", s)))
    if communities.size == labels.size:
        empty = pd.DataFrame(np.nan, index=names, columns=list(communities))
        return NetLoads(empty, empty.copy(), loading_method, pd.Series(labels, index=names))
    compute = _revised if loading_method == "revised" else _original
    unstandardized, standardized = compute(network, labels, communities)
    row_order: list[int] = []
    for column, community in enumerate(communities):
        members = np.flatnonzero(labels == community)
        own = standardized[members, column]
        # stable descending with NaN last, as R's order(decreasing = TRUE)
        ranking = np.argsort(np.where(np.isnan(own), np.inf, -own), kind="stable")
        row_order.extend(members[ranking])
    index = [names[i] for i in row_order]
    columns = list(communities)
    return NetLoads(
        unstd=pd.DataFrame(unstandardized[row_order], index=index, columns=columns),
        std=pd.DataFrame(standardized[row_order], index=index, columns=columns),
        method=loading_method,
        wc=pd.Series(labels, index=names),
    )


def net_scores(data, A, wc=None, loading_method: str = "revised") -> pd.DataFrame:
    """Network scores: standardised data times simple-structure network loadings.

    Parameters
    ----------
    data : pandas.DataFrame or array-like, shape (n, p)
        The variables of the network (matched to the network's names when both are
        labelled). Rows with a NaN give NaN scores.
    A : pandas.DataFrame, numpy.ndarray or EGA result
        Network (or EGA result, which also gives ``wc``).
    wc : array-like, optional
        Memberships when ``A`` is a matrix.
    loading_method : {"revised", "original"}, default "revised"

    Returns
    -------
    pandas.DataFrame, shape (n, K)
        One column per community (EGAnet's ``std.scores``), plus an ``"NA"`` column of
        NaN when some memberships are NaN.

    Raises
    ------
    InvalidInputError
        The data columns do not match the network's variables.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = pd.DataFrame(rng.normal(size=(20, 4)), columns=list("abcd"))
    >>> a = pd.DataFrame(np.kron(np.eye(2), np.full((2, 2), 0.4)), index=list("abcd"),
    ...                  columns=list("abcd"))
    >>> net_scores(x, a, [1, 1, 2, 2]).shape
    (20, 2)
    """
    loads = net_loads(A, wc, loading_method)
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(as_float_array(data, "data"))
    variables = list(loads.wc.index)
    if isinstance(data, pd.DataFrame) and set(variables) <= {str(c) for c in frame.columns}:
        frame = frame.rename(columns=str)[variables]
    elif frame.shape[1] == len(variables):
        network_order = (
            list(A.network.columns)
            if hasattr(A, "network")
            else list(A.columns)
            if isinstance(A, pd.DataFrame)
            else [f"V{i + 1}" for i in range(frame.shape[1])]
        )
        frame = pd.DataFrame(frame.to_numpy(dtype=float), columns=[str(c) for c in network_order])
        frame = frame[variables]
    else:
        raise InvalidInputError(
            f"data has {frame.shape[1]} columns but the network has {len(variables)} "
            "variables; pass the data the network was estimated from"
        )
    values = as_float_array(frame, "data")
    standardized = (values - np.nanmean(values, axis=0)) / np.nanstd(values, axis=0, ddof=1)
    simple = loads.std.loc[variables].to_numpy(copy=True)
    own = np.array([list(loads.std.columns).index(label) for label in loads.wc.to_numpy()])
    mask = np.zeros_like(simple, dtype=bool)
    mask[np.arange(len(variables)), own] = True
    simple[~mask] = 0.0
    scores = standardized @ np.nan_to_num(simple, nan=0.0)
    scores[:, np.isnan(simple).any(axis=0)] = np.nan
    scores = pd.DataFrame(scores, columns=list(loads.std.columns), index=frame.index)
    return scores
