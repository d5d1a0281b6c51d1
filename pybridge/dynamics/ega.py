"""Exploratory Graph Analysis (EGAnet's ``EGA``) and its result object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError, InvalidInputError
from .community import ALGORITHMS, community_detection, renumber
from .correlation import CORRELATION_METHODS, NA_DATA_RULES, auto_correlate
from .ebicglasso import ebic_glasso, lambda_grid
from .fit import tefi as tefi_index
from .glasso import glasso_path
from .loadings import NetLoads, net_loads, net_scores
from .tmfg import tmfg

__all__ = ["EGA", "EGAResult", "MODELS", "UNI_METHODS"]

MODELS = ("glasso", "TMFG")
UNI_METHODS = ("louvain", "LE")


@dataclass
class EGAResult:
    """Result of an Exploratory Graph Analysis.

    Attributes
    ----------
    network : pandas.DataFrame
        Estimated network (partial correlations for glasso, filtered zero-order
        correlations with unit diagonal for TMFG); variables as index and columns.
    correlation : pandas.DataFrame
        The correlation matrix the network was estimated from.
    wc : pandas.Series
        Community of each variable (1, 2, ...; NaN where EGAnet gives NA: unconnected
        nodes, singletons, variables left out of an individual analysis).
    n_dim : int
        Number of communities.
    tefi : float
        Total Entropy Fit Index of ``wc`` on ``correlation`` (NaN if all NA).
    unidimensional : bool
        Whether the unidimensionality check found a single community (then ``wc`` is
        that check's membership and ``n_dim`` is 1).
    n : int
        Number of rows the correlations came from (rows with NaN included).
    methods : dict
        How the network was estimated: ``corr``, ``na_data``, ``model``, ``algorithm``,
        ``uni_method``, ``seed`` and, for glasso, ``lambda`` (selected), ``gamma``
        (after EGAnet's 0.5 -> 0.25 -> 0 loop), ``criterion`` (EBIC at the selected
        lambda), ``lambda_min_ratio``, ``nlambda``, ``model_selection``.
    """

    network: pd.DataFrame
    correlation: pd.DataFrame
    wc: pd.Series
    n_dim: int
    tefi: float
    unidimensional: bool
    n: int
    methods: dict[str, Any] = field(default_factory=dict)

    def net_loads(self, loading_method: str = "revised") -> NetLoads:
        """Network loadings of this result (see :func:`pybridge.dynamics.net_loads`).

        Parameters
        ----------
        loading_method : {"revised", "original"}, default "revised"

        Returns
        -------
        NetLoads

        Examples
        --------
        >>> x = np.random.default_rng(0).normal(size=(300, 2)) @ np.kron(np.eye(2), np.ones((1, 3)))
        >>> x = x + np.random.default_rng(1).normal(size=x.shape)
        >>> EGA(x, seed=1).net_loads().std.shape[0]
        6
        """
        return net_loads(self, loading_method=loading_method)

    def net_scores(self, data, loading_method: str = "revised") -> pd.DataFrame:
        """Network scores of ``data`` (see :func:`pybridge.dynamics.net_scores`).

        Parameters
        ----------
        data : pandas.DataFrame or array-like
            The variables of this network.
        loading_method : {"revised", "original"}, default "revised"

        Returns
        -------
        pandas.DataFrame
            One column per community.

        Examples
        --------
        >>> x = np.random.default_rng(0).normal(size=(300, 2)) @ np.kron(np.eye(2), np.ones((1, 3)))
        >>> x = x + np.random.default_rng(1).normal(size=x.shape)
        >>> EGA(x, seed=1).net_scores(x).shape
        (300, 2)
        """
        return net_scores(data, self, loading_method=loading_method)

    def to_dict(self) -> dict[str, Any]:
        """Plain-type view (lists, floats, None for NA), for JSON and the R package.

        Returns
        -------
        dict

        Examples
        --------
        >>> sorted(EGA(np.random.default_rng(0).normal(size=(60, 4)), seed=1).to_dict())[:3]
        ['correlation', 'methods', 'n']
        """

        def matrix(frame: pd.DataFrame) -> dict[str, Any]:
            values = frame.to_numpy(dtype=float)
            return {
                "names": [str(c) for c in frame.columns],
                "data": [[None if np.isnan(v) else float(v) for v in row] for row in values],
            }

        return {
            "network": matrix(self.network),
            "correlation": matrix(self.correlation),
            "wc": {str(k): (None if np.isnan(v) else int(v)) for k, v in self.wc.items()},
            "n_dim": int(self.n_dim),
            "tefi": None if np.isnan(self.tefi) else float(self.tefi),
            "unidimensional": bool(self.unidimensional),
            "n": int(self.n),
            "methods": {k: (v.item() if isinstance(v, np.generic) else v) for k, v in self.methods.items()},
        }

    def plot(self, ax=None, layout: str = "circle", title: str | None = None):
        """Draw the network with :func:`pybridge.plots.plot_network`.

        Nodes are coloured by community (NaN-community nodes grey), edge width grows
        with |weight|; positive edges are solid green, negative edges dashed red
        (qgraph's convention).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw into; a new figure is made otherwise.
        layout : {"circle", "kamada_kawai", "spring"}, default "circle"
            Node placement (see :func:`pybridge.plots.plot_network`).
        title : str, optional
            Default ``"EGA network"``.

        Returns
        -------
        matplotlib.figure.Figure

        Raises
        ------
        InvalidInputError
            An unknown layout.

        Examples
        --------
        >>> fig = EGA(np.random.default_rng(0).normal(size=(80, 5)), seed=1).plot()
        >>> fig.axes[0].get_title()
        'EGA network'
        """
        # drawing is presentation: the composing plots module owns the one network figure
        from ..plots import plot_network

        return plot_network(self, ax=ax, layout=layout, title=title or "EGA network")


def _as_frame(data) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        frame = data
    else:
        values = np.asarray(data)
        if values.ndim != 2:
            raise InvalidInputError(f"data must be a 2-D table (rows = observations), got shape {values.shape}")
        width = len(str(values.shape[1]))
        frame = pd.DataFrame(values, columns=[f"V{str(i + 1).zfill(width)}" for i in range(values.shape[1])])
    if frame.columns.duplicated().any():
        duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise InvalidInputError(f"duplicate column names {duplicated}; give every variable a unique name")
    non_numeric = [
        str(c)
        for c in frame.columns
        if not (pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]))
    ]
    if non_numeric:
        raise InvalidInputError(
            f"non-numeric columns {non_numeric}; EGA needs numeric variables only (drop identifiers and labels first)"
        )
    return frame


def _select_gamma(correlation: np.ndarray, n: int, lambda_min_ratio: float, nlambda: int, gamma: float | None):
    """EBICglasso with EGAnet's gamma loop (0.5 -> 0.25 -> 0 while a node is isolated)."""
    lambdas = lambda_grid(correlation, nlambda, lambda_min_ratio)
    precisions = glasso_path(correlation, lambdas)
    current = 0.5 if gamma is None else float(gamma)
    while True:
        result = ebic_glasso(correlation, n, current, nlambda, lambda_min_ratio, precisions=precisions)
        isolated = (np.abs(result.network).sum(axis=0) == 0).any()
        if gamma is not None or not isolated or current <= 0:
            return result
        current = max(current - 0.25, 0.0)


def EGA(  # noqa: N802 (EGAnet's name)
    data,
    n: int | None = None,
    corr: str = "auto",
    na_data: str = "pairwise",
    model: str = "glasso",
    algorithm: str = "walktrap",
    uni_method: str = "louvain",
    seed: float | None = None,
    gamma: float | None = None,
    lambda_min_ratio: float = 0.1,
    nlambda: int = 100,
    consensus_iter: int = 1000,
    ordinal_categories: int = 7,
    algorithm_args: dict[str, Any] | None = None,
) -> EGAResult:
    """Exploratory Graph Analysis, numerically as EGAnet 2.5.0's ``EGA``.

    Steps: correlations (``auto.correlate``), network (EBICglasso with EGAnet's lambda
    grid and gamma loop, or TMFG), communities on the absolute network, the
    unidimensionality check on the absolute correlations, and TEFI.

    Parameters
    ----------
    data : pandas.DataFrame or array-like, shape (n, p)
        Numeric variables (rows = observations, NaN = missing), or a symmetric
        correlation matrix together with ``n``.
    n : int, optional
        Sample size, required when ``data`` is a correlation matrix.
    corr : {"auto", "pearson", "spearman"}, default "auto"
        See :func:`pybridge.dynamics.correlation.auto_correlate`.
    na_data : {"pairwise", "listwise"}, default "pairwise"
    model : {"glasso", "TMFG"}, default "glasso"
    algorithm : str, default "walktrap"
        ``"walktrap"``, ``"louvain"`` (EGAnet's 1000-run "most_common" consensus),
        ``"leiden"`` or one of igraph's other algorithms that EGAnet offers
        (``"fast_greedy"``, ``"leading_eigen"``, ``"edge_betweenness"``,
        ``"optimal"``, ``"label_prop"``, ``"infomap"``; see
        :func:`pybridge.dynamics.community.igraph_membership`).
    uni_method : {"louvain", "LE"}, default "louvain"
        Unidimensionality check on the absolute correlations.
    seed : float, optional
        EGAnet seed of the Louvain runs. ``None`` (EGAnet's default) is not
        reproducible: the unidimensionality check then varies between calls.
    gamma : float, optional
        Fixed EBIC gamma; by default EGAnet's loop from 0.5 is used.
    lambda_min_ratio : float, default 0.1
    nlambda : int, default 100
    consensus_iter : int, default 1000
    ordinal_categories : int, default 7
    algorithm_args : dict, optional
        Options of the community algorithm (``steps`` for walktrap and
        leading_eigen, ``resolution`` for Louvain and Leiden, ``nb_trials`` for
        infomap).

    Returns
    -------
    EGAResult

    Raises
    ------
    InvalidInputError
        Unknown option, non-numeric or duplicated columns, fewer than 2 variables,
        a correlation matrix without ``n``.
    EstimationError
        The correlations cannot be computed (a constant or empty column, or pairs
        without two common observations).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(400, 2)) @ np.kron(np.eye(2), np.ones((1, 4)))
    >>> EGA(x + rng.normal(size=x.shape), seed=1).n_dim
    2
    """
    for name, value, allowed in (
        ("corr", corr, CORRELATION_METHODS),
        ("na_data", na_data, NA_DATA_RULES),
        ("model", model, MODELS),
        ("algorithm", algorithm, ALGORITHMS),
        ("uni_method", uni_method, UNI_METHODS),
    ):
        if value not in allowed:
            raise InvalidInputError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    frame = _as_frame(data)
    names = [str(c) for c in frame.columns]
    values = frame.to_numpy(dtype=float)
    if values.shape[1] < 2:
        raise InvalidInputError(f"EGA needs at least 2 variables, got {values.shape[1]}")
    is_correlation = (
        values.shape[0] == values.shape[1]
        and np.isfinite(values).all()
        and np.allclose(values, values.T, atol=1e-6, rtol=0)
    )
    if is_correlation:
        if n is None:
            raise InvalidInputError("data looks like a correlation matrix; pass the sample size as n")
        correlation = values
        sample_size = int(n)
    else:
        empty = [names[i] for i in np.flatnonzero(np.isnan(values).all(axis=0))]
        if empty:
            raise InvalidInputError(f"columns {empty} have no observed values; drop them before EGA")
        correlation = auto_correlate(values, corr, na_data, ordinal_categories)
        sample_size = values.shape[0]
    if not np.isfinite(correlation).all():
        bad = [names[i] for i in np.flatnonzero(~np.isfinite(correlation).all(axis=0))]
        raise EstimationError(
            f"correlations involving {bad} are undefined (constant column or fewer than "
            "two rows observed together); drop or fix those variables"
        )
    methods: dict[str, Any] = {"corr": corr, "na_data": na_data, "model": model}
    if model == "glasso":
        selection = _select_gamma(correlation, sample_size, lambda_min_ratio, nlambda, gamma)
        network = selection.network
        methods.update(
            model_selection="ebic",
            **{"lambda": selection.selected_lambda},
            gamma=selection.gamma,
            lambda_min_ratio=lambda_min_ratio,
            nlambda=nlambda,
            criterion=selection.criterion,
        )
    else:
        network = tmfg(correlation)
        methods["partial"] = False
    methods.update(algorithm=algorithm, uni_method=uni_method, seed=seed)
    wc = community_detection(
        network,
        algorithm,
        seed=seed,
        consensus=algorithm == "louvain",
        consensus_iter=consensus_iter,
        **(algorithm_args or {}),
    )
    if uni_method == "louvain":
        check = community_detection(correlation, "louvain", seed=seed)
    else:
        check = _leading_eigenvector(correlation)
    labels = check[~np.isnan(check)]
    unidimensional = labels.size > 0 and np.unique(labels).size == 1
    if unidimensional:
        wc = check
    n_dim = int(np.unique(wc[~np.isnan(wc)]).size)
    fit = tefi_index(correlation, wc)["VN.Entropy.Fit"]
    return EGAResult(
        network=pd.DataFrame(network, index=names, columns=names),
        correlation=pd.DataFrame(correlation, index=names, columns=names),
        wc=pd.Series(wc, index=names, name="wc"),
        n_dim=n_dim,
        tefi=float(fit),
        unidimensional=bool(unidimensional),
        n=sample_size,
        methods=methods,
    )


def _leading_eigenvector(correlation: np.ndarray) -> np.ndarray:
    import igraph

    absolute = np.abs(correlation)
    rows, cols = np.nonzero(np.triu(absolute, 1))
    graph = igraph.Graph(n=absolute.shape[0], edges=list(zip(rows, cols)))
    clustering = graph.community_leading_eigenvector(weights=absolute[rows, cols].tolist())
    return renumber(clustering.membership)
