"""Community detection as EGAnet 2.5.0 runs it.

* Walktrap and Leiden come from igraph's C core (python-igraph); walktrap cuts its
  dendrogram at the *first* modularity maximum, as R igraph does (python-igraph's
  ``as_clustering`` takes the last one).
* EGAnet's other igraph algorithms (``fast_greedy``, ``leading_eigen``,
  ``edge_betweenness``, ``optimal``, ``label_prop``, ``infomap``) run igraph's C core
  with R igraph's conventions: dendrograms cut at the first modularity maximum, edge
  weights from the absolute network. The randomised ones (``label_prop``,
  ``infomap``, ``leiden``) draw from a seeded private generator, so they are
  reproducible in Python but not draw-for-draw equal to R, which uses R's generator.
* Louvain is EGAnet's own implementation, not igraph's: local moving in an order
  shuffled by EGAnet's xoshiro256++ stream, with its level-acceptance rules, and the
  1000-run "most common" consensus. It is ported here with numba.

Every algorithm runs on the absolute network; nodes without edges and singleton
communities get NaN, and labels are renumbered 1, 2, ... by first appearance.
"""

from __future__ import annotations

import numba
import numpy as np

from ..errors import InvalidInputError
from ..validation import as_float_array, as_square_matrix
from .rng import next_uint64, reproducible_seeds, seed_to_state, states_from_seeds

__all__ = [
    "ALGORITHMS",
    "IGRAPH_ALGORITHMS",
    "community_detection",
    "igraph_membership",
    "leiden",
    "louvain",
    "louvain_consensus",
    "renumber",
    "walktrap",
]

#: igraph algorithms besides walktrap and Leiden, by EGAnet's names.
IGRAPH_ALGORITHMS = (
    "fast_greedy",
    "leading_eigen",
    "edge_betweenness",
    "optimal",
    "label_prop",
    "infomap",
)
ALGORITHMS = ("walktrap", "louvain", "leiden") + IGRAPH_ALGORITHMS


def renumber(labels, allow_singleton: bool = False) -> np.ndarray:
    """EGAnet's final membership: singletons to NaN, labels 1.. by first appearance.

    Parameters
    ----------
    labels : array-like of float
        Raw labels (NaN allowed).
    allow_singleton : bool, default False
        Keep communities of one node.

    Returns
    -------
    numpy.ndarray of float

    Raises
    ------
    InvalidInputError
        ``labels`` is not numeric.

    Examples
    --------
    >>> renumber([5, 5, 2, 7, 2])
    array([ 1.,  1.,  2., nan,  2.])
    """
    labels = as_float_array(labels, "labels").copy()
    if not allow_singleton:
        values, counts = np.unique(labels[~np.isnan(labels)], return_counts=True)
        labels[np.isin(labels, values[counts == 1])] = np.nan
    result = np.full(labels.shape, np.nan)
    mapping: dict[float, int] = {}
    for index, label in enumerate(labels):
        if not np.isnan(label):
            result[index] = mapping.setdefault(label, len(mapping) + 1)
    return result


def _graph(absolute: np.ndarray):
    import igraph

    absolute = as_square_matrix(absolute, "absolute")
    upper_rows, upper_cols = np.nonzero(np.triu(absolute, 1))
    graph = igraph.Graph(n=absolute.shape[0], edges=list(zip(upper_rows, upper_cols)))
    return graph, absolute[upper_rows, upper_cols].tolist()


def _cut_at_first_maximum(merges, modularity, n_nodes: int) -> np.ndarray:
    """Membership of a dendrogram cut where modularity first peaks (R igraph's rule)."""
    import igraph

    modularity = np.asarray(modularity if modularity is not None else [], dtype=float)
    cut = int(np.nanargmax(modularity)) if np.isfinite(modularity).any() else 0
    return np.asarray(igraph.community_to_membership(merges, n_nodes, cut), dtype=float)


def walktrap(absolute: np.ndarray, steps: int = 4) -> np.ndarray:
    """igraph walktrap membership cut at the first modularity maximum.

    Parameters
    ----------
    absolute : numpy.ndarray, shape (p, p)
        Non-negative weighted adjacency (diagonal ignored).
    steps : int, default 4
        Random-walk length.

    Returns
    -------
    numpy.ndarray of float
        Raw labels (0-based).

    Raises
    ------
    InvalidInputError
        ``absolute`` is not a numeric square matrix.

    Examples
    --------
    >>> a = np.kron(np.eye(2), np.ones((3, 3))) * 0.5 + 0.01
    >>> renumber(walktrap(a))
    array([1., 1., 1., 2., 2., 2.])
    """
    import igraph

    graph, weights = _graph(absolute)
    merges, modularity = igraph.GraphBase.community_walktrap(graph, weights, int(steps))
    return _cut_at_first_maximum(merges, modularity, absolute.shape[0])


def _edge_betweenness_with_lengths(graph, weights: list[float]) -> np.ndarray:
    """Girvan-Newman as R igraph 1.3.5 (C core 0.9) runs it on a weighted graph.

    Edges are removed one at a time, always the one of highest betweenness (first on
    ties) with the weights as lengths; the edges are then added back in reverse order
    and the partition of highest weighted modularity (first on ties) is kept.
    python-igraph 1.0 reads the weights as strengths instead, so it is not called.
    """
    remaining = graph.copy()
    edge_ids = list(range(graph.ecount()))
    lengths = list(weights)
    removed = []
    while remaining.ecount():
        betweenness = remaining.edge_betweenness(directed=False, weights=lengths)
        position = int(np.argmax(betweenness))
        removed.append(edge_ids.pop(position))
        lengths.pop(position)
        remaining.delete_edges([position])
    n_nodes = graph.vcount()
    membership = list(range(n_nodes))
    best = list(membership)
    best_modularity = graph.modularity(membership, weights=weights)
    edges = graph.get_edgelist()
    for edge in reversed(removed):
        first, second = (membership[v] for v in edges[edge])
        if first == second:
            continue
        membership = [first if label == second else label for label in membership]
        modularity = graph.modularity(membership, weights=weights)
        if modularity > best_modularity:
            best_modularity, best = modularity, list(membership)
    return np.asarray(best, dtype=float)


def igraph_membership(absolute: np.ndarray, algorithm: str, seed: int | None = None, **options) -> np.ndarray:
    """Membership from one of igraph's other community algorithms (EGAnet's names).

    Parameters
    ----------
    absolute : numpy.ndarray, shape (p, p)
        Non-negative weighted adjacency (diagonal ignored).
    algorithm : str
        One of :data:`IGRAPH_ALGORITHMS`: ``"fast_greedy"`` and ``"edge_betweenness"``
        (dendrograms cut at the first modularity maximum, as R igraph's
        ``cluster_fast_greedy`` / ``cluster_edge_betweenness``; edge betweenness reads
        the weights as edge lengths, as igraph does), ``"leading_eigen"``
        (``cluster_leading_eigen``; option ``steps``), ``"optimal"`` (exact modularity
        maximum, ``cluster_optimal``), ``"label_prop"``, ``"infomap"`` (option
        ``nb_trials``, default 10 as in R).
    seed : int or None
        Seed of a private generator for the randomised algorithms (``label_prop``,
        ``infomap``); the global ``random`` state is left alone.
    **options
        Algorithm options named as in R igraph (``steps``, ``nb_trials``).

    Returns
    -------
    numpy.ndarray of float
        Raw labels (0-based).

    Raises
    ------
    InvalidInputError
        Unknown algorithm or option, or ``absolute`` is not a numeric square matrix.

    Examples
    --------
    >>> a = np.kron(np.eye(2), np.ones((3, 3))) * 0.5 + 0.01
    >>> renumber(igraph_membership(a, "fast_greedy"))
    array([1., 1., 1., 2., 2., 2.])
    """
    import random

    import igraph

    allowed = {"leading_eigen": {"steps"}, "infomap": {"nb_trials"}}.get(algorithm, set())
    if algorithm not in IGRAPH_ALGORITHMS:
        raise InvalidInputError(f"algorithm must be one of {', '.join(IGRAPH_ALGORITHMS)}; got {algorithm!r}")
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise InvalidInputError(
            f"options {unknown} do not apply to {algorithm}; it takes {sorted(allowed) or 'no options'}"
        )
    graph, weights = _graph(absolute)
    n_nodes = absolute.shape[0]
    if algorithm == "fast_greedy":
        merges, modularity = igraph.GraphBase.community_fastgreedy(graph, weights)
        return _cut_at_first_maximum(merges, modularity, n_nodes)
    if algorithm == "edge_betweenness":
        return _edge_betweenness_with_lengths(graph, weights)
    if algorithm == "leading_eigen":
        steps = int(options.get("steps", -1))
        clustering = graph.community_leading_eigenvector(clusters=None if steps < 0 else steps + 1, weights=weights)
        return np.asarray(clustering.membership, dtype=float)
    if algorithm == "optimal":
        return np.asarray(graph.community_optimal_modularity(weights=weights).membership, dtype=float)
    if seed is not None:
        igraph.set_random_number_generator(random.Random(int(seed)))
    try:
        if algorithm == "label_prop":
            clustering = graph.community_label_propagation(weights=weights)
        else:
            clustering = graph.community_infomap(edge_weights=weights, trials=int(options.get("nb_trials", 10)))
    finally:
        if seed is not None:
            igraph.set_random_number_generator(random)
    return np.asarray(clustering.membership, dtype=float)


def leiden(absolute: np.ndarray, resolution: float = 1.0, seed: int | None = None) -> np.ndarray:
    """igraph Leiden with the modularity objective (EGAnet's settings).

    EGAnet draws Leiden's randomness from R's global generator, so only robust
    partitions are reproducible across languages.

    Parameters
    ----------
    absolute : numpy.ndarray, shape (p, p)
        Non-negative weighted adjacency.
    resolution : float, default 1
    seed : int or None
        Seed of a private generator igraph draws from during this call.

    Returns
    -------
    numpy.ndarray of float

    Raises
    ------
    InvalidInputError
        ``absolute`` is not a numeric square matrix.

    Examples
    --------
    >>> a = np.kron(np.eye(2), np.ones((3, 3))) * 0.5 + 0.01
    >>> renumber(leiden(a, seed=1))
    array([1., 1., 1., 2., 2., 2.])
    """
    import random

    import igraph

    graph, weights = _graph(absolute)
    if seed is not None:
        # a private generator, so the global `random` state is left alone
        igraph.set_random_number_generator(random.Random(int(seed)))
    try:
        clustering = graph.community_leiden(
            objective_function="modularity",
            weights=weights,
            resolution=resolution,
            beta=0.01,
            n_iterations=2,
        )
    finally:
        if seed is not None:
            igraph.set_random_number_generator(random)
    return np.asarray(clustering.membership, dtype=float)


# --- EGAnet's Louvain --------------------------------------------------------------


@numba.njit(cache=True, nogil=True)
def _degrees(a):
    c = a.shape[0]
    k = np.zeros(c)
    for i in range(c):
        for j in range(c):
            k[i] += a[i, j]
    return k


@numba.njit(cache=True, nogil=True)
def _singleton_modularity(a, k, two_m, resolution):
    if two_m == 0.0:
        return 0.0
    total = 0.0
    for i in range(a.shape[0]):
        total += a[i, i] - resolution * k[i] * k[i] / two_m
    return total / two_m


@numba.njit(cache=True, nogil=True)
def _relabel(labels):
    c = labels.size
    mapping = np.full(c, -1, dtype=np.int64)
    out = np.empty(c, dtype=np.int64)
    count = 0
    for i in range(c):
        if mapping[labels[i]] < 0:
            mapping[labels[i]] = count
            count += 1
        out[i] = mapping[labels[i]]
    return out, count


@numba.njit(cache=True, nogil=True)
def _aggregate(a, labels, n_groups):
    out = np.zeros((n_groups, n_groups))
    c = a.shape[0]
    for i in range(c):
        for j in range(c):
            # a self-loop is counted twice when it is folded into a community
            weight = 2.0 * a[i, j] if i == j else a[i, j]
            out[labels[i], labels[j]] += weight
    return out


@numba.njit(cache=True, nogil=True)
def _pass(a, k, two_m, resolution, sigma, totals, order, state, modularity):
    """One shuffled local-moving pass; returns (moved, modularity)."""
    c = a.shape[0]
    for i in range(c - 1, 0, -1):
        j = np.int64(next_uint64(state) % np.uint64(i + 1))
        order[i], order[j] = order[j], order[i]
    moved = False
    links = np.zeros(c)
    seen = np.empty(c, dtype=np.int64)
    for position in range(c):
        v = order[position]
        n_seen = 0
        for j in range(c):
            if j != v and a[v, j] != 0.0:
                community = sigma[j]
                # weights are positive, so an empty link total means a first encounter
                if links[community] == 0.0:
                    seen[n_seen] = community
                    n_seen += 1
                links[community] += a[v, j]
        current = sigma[v]
        to_current = links[current]
        best_gain = 0.0
        best = -1
        factor = 2.0 * resolution * k[v] / two_m
        for s in range(n_seen):
            community = seen[s]
            if community == current:
                continue
            gain = (
                2.0 * (links[community] - to_current) - factor * (totals[community] - totals[current] + k[v])
            ) / two_m
            if gain > best_gain:
                best_gain = gain
                best = community
        for s in range(n_seen):
            links[seen[s]] = 0.0
        links[current] = 0.0
        if best >= 0 and best_gain > 1e-10:
            totals[current] -= k[v]
            totals[best] += k[v]
            sigma[v] = best
            modularity += best_gain
            moved = True
    return moved, modularity


@numba.njit(cache=True, nogil=True)
def _singleton_start(a, resolution):
    """Every node in its own community: (degrees, 2m, sigma, totals, order, modularity)."""
    c = a.shape[0]
    k = _degrees(a)
    two_m = k.sum()
    modularity = _singleton_modularity(a, k, two_m, resolution)
    return k, two_m, np.arange(c), k.copy(), np.arange(c), modularity


@numba.njit(cache=True, nogil=True)
def _first_level(a, resolution, state):
    k, two_m, sigma, totals, order, modularity = _singleton_start(a, resolution)
    if two_m == 0.0:
        return sigma, modularity
    while True:
        moved, modularity = _pass(a, k, two_m, resolution, sigma, totals, order, state, modularity)
        if not moved:
            break
    labels, _ = _relabel(sigma)
    return labels, modularity


@numba.njit(cache=True, nogil=True)
def _higher_level(a, resolution, state, previous):
    c0 = a.shape[0]
    node_labels = np.arange(c0)
    current = a.copy()
    c = c0
    k, two_m, sigma, totals, order, modularity = _singleton_start(current, resolution)
    while True:
        moved, modularity = _pass(current, k, two_m, resolution, sigma, totals, order, state, modularity)
        if previous == modularity:
            break
        previous = modularity
        labels, n_groups = _relabel(sigma)
        for i in range(c0):
            node_labels[i] = labels[node_labels[i]]
        current = _aggregate(current, labels, n_groups)
        c = n_groups
        k, two_m, sigma, totals, order, modularity = _singleton_start(current, resolution)
        if not moved:
            break
    if c == 1:
        return np.zeros(c0, dtype=np.int64), modularity
    labels, _ = _relabel(node_labels)
    return labels, modularity


@numba.njit(cache=True, nogil=True)
def _louvain(a, resolution, state):
    p = a.shape[0]
    membership, modularity = _first_level(a, resolution, state)
    while True:
        _, n_groups = _relabel(membership)
        if n_groups == p or n_groups == 1:
            break
        aggregate = _aggregate(a, membership, n_groups)
        level, level_modularity = _higher_level(aggregate, resolution, state, modularity)
        composed = np.empty(p, dtype=np.int64)
        for i in range(p):
            composed[i] = level[membership[i]]
        _, n_level = _relabel(composed)
        if level_modularity <= modularity or n_level == 1:
            break
        membership, _ = _relabel(composed)
        modularity = level_modularity
    return membership, modularity


@numba.njit(cache=True, nogil=True)
def _louvain_runs(a, resolution, states):
    n_runs = states.shape[0]
    memberships = np.empty((n_runs, a.shape[0]), dtype=np.int64)
    modularities = np.empty(n_runs)
    for run in range(n_runs):
        memberships[run], modularities[run] = _louvain(a, resolution, states[run].copy())
    return memberships, modularities


def louvain(matrix: np.ndarray, seed: float | None = None, resolution: float = 1.0):
    """One run of EGAnet's Louvain (``order = "higher"``) on a weighted matrix.

    Parameters
    ----------
    matrix : numpy.ndarray, shape (p, p)
        Non-negative symmetric weights, used as given (a non-zero diagonal counts as
        self-loops).
    seed : float or None
        EGAnet seed; ``None`` draws from the clock (not reproducible), as EGAnet.
    resolution : float, default 1

    Returns
    -------
    membership : numpy.ndarray of float
        Labels 1.. (by first appearance).
    modularity : float
        EGAnet's internal modularity of the last accepted level. Its higher levels
        re-aggregate with self-loops counted twice, so this can exceed the modularity
        of ``membership`` on ``matrix``; it only serves EGAnet's level-acceptance rule.

    Raises
    ------
    InvalidInputError
        ``matrix`` is not a numeric square matrix.

    Examples
    --------
    >>> a = np.kron(np.eye(2), np.ones((3, 3))) * 0.5
    >>> np.fill_diagonal(a, 0)
    >>> louvain(a, seed=1)[0]
    array([1., 1., 1., 2., 2., 2.])
    """
    matrix = np.ascontiguousarray(as_square_matrix(matrix, "matrix"))
    # through the batch entry point, so numba compiles the Louvain code only once
    memberships, modularities = _louvain_runs(matrix, float(resolution), seed_to_state(seed)[None])
    return memberships[0].astype(float) + 1, float(modularities[0])


def louvain_consensus(
    matrix: np.ndarray,
    seed: float | None = None,
    n_runs: int = 1000,
    resolution: float = 1.0,
):
    """EGAnet's "most_common" Louvain consensus.

    Runs Louvain once per seed of ``reproducible_seeds(n_runs, seed)`` on the matrix as
    given and keeps the most frequent membership (ties: earliest first occurrence).

    Parameters
    ----------
    matrix : numpy.ndarray, shape (p, p)
        Non-negative symmetric weights (diagonal kept).
    seed : float or None
        Master seed (``None``: clock).
    n_runs : int, default 1000
    resolution : float, default 1

    Returns
    -------
    membership : numpy.ndarray of float
        Raw consensus labels (1..), before singleton removal.
    proportions : dict
        Distinct memberships (as tuples) to their share of the runs, in order of first
        occurrence.

    Raises
    ------
    InvalidInputError
        ``matrix`` is not a numeric square matrix.

    Examples
    --------
    >>> a = np.kron(np.eye(2), np.ones((3, 3))) * 0.5
    >>> louvain_consensus(a, seed=1, n_runs=10)[0]
    array([1., 1., 1., 2., 2., 2.])
    """
    matrix = np.ascontiguousarray(as_square_matrix(matrix, "matrix"))
    states = states_from_seeds(reproducible_seeds(n_runs, seed))
    memberships, _ = _louvain_runs(matrix, float(resolution), states)
    solutions, first_run, counts = np.unique(memberships, axis=0, return_index=True, return_counts=True)
    # most frequent solution; ties go to the one that occurred first
    by_first = np.argsort(first_run)
    best = by_first[np.argmax(counts[by_first])]
    proportions = {tuple(int(x) + 1 for x in solutions[i]): float(counts[i] / n_runs) for i in by_first}
    return solutions[best].astype(float) + 1, proportions


def community_detection(
    network: np.ndarray,
    algorithm: str = "walktrap",
    seed: float | None = None,
    consensus: bool = False,
    consensus_iter: int = 1000,
    allow_singleton: bool = False,
    steps: int | None = None,
    resolution: float = 1.0,
    **options,
) -> np.ndarray:
    """Memberships of a network's nodes, as EGAnet's ``community.detection``.

    Parameters
    ----------
    network : numpy.ndarray, shape (p, p)
        Weighted network; signs are ignored.
    algorithm : str, default "walktrap"
        ``"walktrap"``, ``"louvain"``, ``"leiden"`` or one of
        :data:`IGRAPH_ALGORITHMS` (see :func:`igraph_membership`).
    seed : float or None
        Louvain seed (and the Python-side seed of the randomised igraph algorithms).
    consensus : bool, default False
        Louvain only: the "most_common" consensus over ``consensus_iter`` runs on the
        absolute network *with its diagonal* (what ``EGA(algorithm = "louvain")`` does);
        otherwise one run on the zero-diagonal network.
    consensus_iter : int, default 1000
    allow_singleton : bool, default False
        Keep one-node communities instead of setting them to NaN.
    steps : int, optional
        Walktrap's random-walk length (default 4); for ``"leading_eigen"`` the number
        of splits (default: until no split improves modularity).
    resolution : float, default 1
    **options
        Further options of the igraph algorithms (see :func:`igraph_membership`).

    Returns
    -------
    numpy.ndarray of float, shape (p,)
        Labels 1.. by first appearance; NaN for unconnected nodes and singletons.

    Raises
    ------
    InvalidInputError
        Unknown algorithm or option, or a non-square network.

    Examples
    --------
    >>> a = np.kron(np.eye(2), np.ones((3, 3))) * 0.4 + 0.01
    >>> np.fill_diagonal(a, 0)
    >>> community_detection(a)
    array([1., 1., 1., 2., 2., 2.])
    """
    if algorithm not in ALGORITHMS:
        raise InvalidInputError(f"algorithm must be one of {', '.join(ALGORITHMS)}; got {algorithm!r}")
    absolute = np.abs(as_square_matrix(network, "network"))
    strength = np.nansum(absolute, axis=0)
    unconnected = strength == 0
    if unconnected.all():
        return np.full(absolute.shape[0], np.nan)
    zero_diagonal = absolute.copy()
    np.fill_diagonal(zero_diagonal, 0.0)
    if steps is not None and algorithm not in ("walktrap", "leading_eigen"):
        raise InvalidInputError(
            f"options ['steps'] do not apply to {algorithm}; steps is an option of walktrap and leading_eigen"
        )
    if options and algorithm not in IGRAPH_ALGORITHMS:
        raise InvalidInputError(
            f"options {sorted(options)} do not apply to {algorithm}; it takes steps "
            "(walktrap) or resolution (louvain, leiden)"
        )
    if algorithm == "walktrap":
        labels = walktrap(zero_diagonal, 4 if steps is None else steps)
    elif algorithm in IGRAPH_ALGORITHMS:
        if algorithm == "leading_eigen" and steps is not None:
            options["steps"] = steps
        labels = igraph_membership(zero_diagonal, algorithm, None if seed is None else int(seed), **options)
    elif algorithm == "leiden":
        labels = leiden(zero_diagonal, resolution, None if seed is None else int(seed))
    elif consensus:
        # EGAnet's consensus neither zeroes the diagonal nor masks unconnected nodes
        # (an isolated node always ends up a singleton anyway).
        labels, _ = louvain_consensus(absolute, seed, consensus_iter, resolution)
        return renumber(labels, allow_singleton)
    else:
        labels, _ = louvain(zero_diagonal, seed, resolution)
    labels = labels.astype(float)
    labels[unconnected] = np.nan
    return renumber(labels, allow_singleton)
