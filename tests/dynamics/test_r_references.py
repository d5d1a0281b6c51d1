"""The glasso port and walktrap against R's glasso 1.11 and igraph, run live.

These complement the EGAnet fixtures with fresh random inputs (other sizes, other
lambda.min.ratio). They need ``Rscript`` with the glasso and igraph packages (Debian
``r-cran-glasso``, ``r-cran-igraph``, installed by ``.ci/run``) and skip with that
reason otherwise.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from pybridge.dynamics.community import igraph_membership, renumber, walktrap
from pybridge.dynamics.ebicglasso import lambda_grid, precision_to_network
from pybridge.dynamics.glasso import glasso_path


def _r_has(*packages: str) -> bool:
    if shutil.which("Rscript") is None:
        return False
    check = " && ".join(f"requireNamespace('{p}', quietly = TRUE)" for p in packages)
    result = subprocess.run(
        ["Rscript", "-e", f"quit(status = if ({check}) 0 else 1)"],
        capture_output=True,
        timeout=120,
    )
    return result.returncode == 0


pytestmark = pytest.mark.skipif(
    not _r_has("glasso", "igraph"), reason="needs Rscript with the glasso and igraph packages"
)


@pytest.fixture(scope="module")
def random_cases():
    rng = np.random.default_rng(42)
    cases = []
    for trial in range(6):
        p = int(rng.integers(6, 26))
        n = int(rng.integers(p // 2 + 3, 150))
        latent = rng.normal(size=(n, 3))
        x = latent @ rng.normal(size=(3, p)) * rng.uniform(0.3, 1.5) + rng.normal(size=(n, p))
        correlation = np.corrcoef(x, rowvar=False)
        correlation = np.triu(correlation, 1) + np.triu(correlation, 1).T + np.eye(p)
        grid = lambda_grid(correlation, 100, 0.1 if trial % 2 else 0.01)
        cases.append((correlation, grid))
    return cases


@pytest.fixture(scope="module")
def r_outputs(random_cases, tmp_path_factory):
    folder = tmp_path_factory.mktemp("r_reference")
    for i, (correlation, grid) in enumerate(random_cases):
        np.savetxt(folder / f"S{i}.txt", correlation, fmt="%.17g")
        np.savetxt(folder / f"L{i}.txt", grid, fmt="%.17g")
    script = f"""
    suppressMessages({{library(glasso); library(igraph)}})
    for (i in 0:{len(random_cases) - 1}) {{
      S <- as.matrix(read.table(file.path('{folder}', sprintf('S%d.txt', i))))
      L <- scan(file.path('{folder}', sprintf('L%d.txt', i)), quiet = TRUE)
      path <- glassopath(S, rholist = L, thr = 1e-4, maxit = 1e4, approx = FALSE,
                         penalize.diagonal = FALSE, trace = 0)
      write.table(matrix(sprintf('%.17g', path$wi), ncol = 1),
                  file.path('{folder}', sprintf('W%d.txt', i)),
                  row.names = FALSE, col.names = FALSE, quote = FALSE)
      K <- path$wi[, , 1]
      P <- -K / sqrt(outer(diag(K), diag(K))); diag(P) <- 0
      P[lower.tri(P)] <- t(P)[lower.tri(P)]
      g <- graph_from_adjacency_matrix(abs(P), mode = 'undirected', weighted = TRUE, diag = FALSE)
      write(membership(cluster_walktrap(g, steps = 4)),
            file.path('{folder}', sprintf('M%d.txt', i)), ncolumns = 1000)
    }}
    """
    subprocess.run(["Rscript", "-e", script], check=True, capture_output=True, timeout=300)
    outputs = []
    for i, (correlation, _) in enumerate(random_cases):
        p = correlation.shape[0]
        precisions = np.loadtxt(folder / f"W{i}.txt").reshape((p, p, 100), order="F")
        outputs.append((precisions.transpose(2, 0, 1), np.loadtxt(folder / f"M{i}.txt")))
    return outputs


def test_glasso_path_equals_r_glasso(random_cases, r_outputs):
    for (correlation, grid), (expected, _) in zip(random_cases, r_outputs):
        ours = glasso_path(correlation, grid)
        np.testing.assert_array_equal(ours == 0, expected == 0)
        assert np.abs(ours - expected).max() < 1e-10


def test_walktrap_partition_equals_r_igraph(random_cases, r_outputs):
    for (_correlation, _grid), (precisions, membership) in zip(random_cases, r_outputs):
        network = precision_to_network(precisions[0])
        np.testing.assert_array_equal(
            renumber(walktrap(np.abs(network)), allow_singleton=True),
            renumber(membership, allow_singleton=True),
        )


# --- igraph's other community algorithms, as EGAnet calls them from R ------------

DETERMINISTIC_IGRAPH = {
    "fast_greedy": "cluster_fast_greedy(g)",
    "leading_eigen": "cluster_leading_eigen(g, options = arpack_defaults)",
    "edge_betweenness": "cluster_edge_betweenness(g)",
}


@pytest.fixture(scope="module")
def community_networks(random_cases):
    """Absolute glasso networks of the random cases, sparse (path index 20) and dense (80)."""
    networks = []
    for correlation, grid in random_cases:
        path = glasso_path(correlation, grid)
        for index in (20, 80):
            network = np.abs(precision_to_network(path[index]))
            np.fill_diagonal(network, 0.0)
            networks.append(network)
    return networks


@pytest.fixture(scope="module")
def r_memberships(community_networks, tmp_path_factory):
    """R igraph's memberships on EGAnet's igraph conversion of each network."""
    folder = tmp_path_factory.mktemp("r_communities")
    for i, network in enumerate(community_networks):
        np.savetxt(folder / f"A{i}.txt", network, fmt="%.17g")
    calls = "\n".join(
        f"  write(membership({call}), file.path('{folder}', sprintf('{name}%d.txt', i)), ncolumns = 1000)"
        for name, call in DETERMINISTIC_IGRAPH.items()
    )
    script = f"""
    suppressMessages(library(igraph))
    for (i in 0:{len(community_networks) - 1}) {{
      A <- as.matrix(read.table(file.path('{folder}', sprintf('A%d.txt', i))))
      g <- graph_from_adjacency_matrix(A, weighted = TRUE, mode = 'undirected',
                                       add.colnames = FALSE, diag = FALSE)
    {calls}
    }}
    """
    subprocess.run(["Rscript", "-e", script], check=True, capture_output=True, timeout=300)
    return {
        name: [np.loadtxt(folder / f"{name}{i}.txt") for i in range(len(community_networks))]
        for name in DETERMINISTIC_IGRAPH
    }


@pytest.mark.parametrize("algorithm", list(DETERMINISTIC_IGRAPH))
def test_igraph_algorithms_equal_r_igraph(algorithm, community_networks, r_memberships):
    for network, expected in zip(community_networks, r_memberships[algorithm]):
        np.testing.assert_array_equal(
            renumber(igraph_membership(network, algorithm), allow_singleton=True),
            renumber(expected, allow_singleton=True),
        )


def _brute_force_best_modularity(network: np.ndarray) -> float:
    """Highest modularity over every partition of a small network (restricted growth strings)."""
    import igraph

    rows, cols = np.nonzero(np.triu(network, 1))
    graph = igraph.Graph(n=network.shape[0], edges=list(zip(rows, cols)))
    weights = network[rows, cols].tolist()
    best = -np.inf

    def grow(labels, largest):
        nonlocal best
        if len(labels) == network.shape[0]:
            best = max(best, graph.modularity(labels, weights=weights))
            return
        for label in range(largest + 2):
            grow(labels + [label], max(largest, label))

    grow([0], 0)
    return best


def test_optimal_reaches_the_brute_force_modularity_maximum(community_networks):
    # R's Debian igraph is built without GLPK, so the reference is exhaustive search
    import igraph

    small = [network[:8, :8] for network in community_networks if network[:8, :8].any()][:4]
    assert small
    for network in small:
        membership = igraph_membership(network, "optimal")
        rows, cols = np.nonzero(np.triu(network, 1))
        graph = igraph.Graph(n=network.shape[0], edges=list(zip(rows, cols)))
        found = graph.modularity(membership.astype(int).tolist(), weights=network[rows, cols].tolist())
        assert found == pytest.approx(_brute_force_best_modularity(network), abs=1e-12)
