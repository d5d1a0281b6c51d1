"""Building blocks on small inputs with independently known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pybridge.dynamics import EGA, net_loads, net_scores, tefi
from pybridge.dynamics.community import (
    IGRAPH_ALGORITHMS,
    community_detection,
    louvain,
    louvain_consensus,
    renumber,
    walktrap,
)
from pybridge.dynamics.correlation import (
    auto_correlate,
    near_pd,
    pairwise_pearson,
    polychoric,
    polyserial,
)
from pybridge.dynamics.ebicglasso import lambda_grid, precision_to_network
from pybridge.dynamics.fit import matrix_entropy
from pybridge.dynamics.glasso import glasso_path
from pybridge.errors import InvalidInputError


def two_blocks(size=4, within=0.4, between=0.02):
    network = np.full((2 * size, 2 * size), between)
    network[:size, :size] = within
    network[size:, size:] = within
    np.fill_diagonal(network, 0.0)
    return network


def test_pairwise_pearson_matches_pandas_with_missing_values():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(60, 4))
    data[rng.random(size=data.shape) < 0.2] = np.nan
    expected = pd.DataFrame(data).corr().to_numpy()
    np.testing.assert_allclose(pairwise_pearson(data), expected, atol=1e-14)
    assert (pairwise_pearson(data) == pairwise_pearson(data).T).all()


def test_near_pd_repairs_an_indefinite_matrix_and_keeps_a_valid_one():
    indefinite = np.array([[1, 0.9, 0.7], [0.9, 1, -0.9], [0.7, -0.9, 1]])
    repaired = near_pd(indefinite)
    assert np.linalg.eigvalsh(repaired).min() > 0
    np.testing.assert_allclose(np.diag(repaired), 1.0)
    assert np.abs(repaired - indefinite).max() < 0.5
    valid = np.array([[1, 0.3], [0.3, 1]])
    np.testing.assert_allclose(near_pd(valid), valid, atol=1e-12)


def test_auto_correlate_uses_near_pd_only_when_needed():
    rng = np.random.default_rng(1)
    wide = rng.normal(size=(10, 12))  # N < p: singular (and > 7 values: Pearson)
    result = auto_correlate(wide)
    assert np.linalg.eigvalsh(result).min() > 0
    assert np.linalg.eigvalsh(auto_correlate(wide, corr="pearson")).min() < 1e-10


def test_bivariate_normal_cdf_matches_scipy():
    from pybridge.dynamics.correlation import _bivariate_cdf

    points = np.array([-1.5, -0.3, 0.2, 1.1])
    for rho in (-0.97, -0.5, -0.1, 0.0, 0.2, 0.6, 0.8, 0.95):
        law = stats.multivariate_normal([0, 0], [[1, rho], [rho, 1]])
        expected = [[law.cdf([a, b]) for b in points] for a in points]
        np.testing.assert_allclose(_bivariate_cdf(points, points, rho), expected, atol=1e-12)


def test_polychoric_recovers_the_latent_correlation():
    rng = np.random.default_rng(2)
    latent = rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], size=5000)
    x = np.digitize(latent[:, 0], [-1.0, 0.0, 0.8])
    y = np.digitize(latent[:, 1], [-0.5, 0.5])
    assert polychoric(x, y) == pytest.approx(0.5, abs=0.04)
    assert np.isnan(polychoric(x, np.zeros_like(y)))


def test_polyserial_recovers_the_latent_correlation():
    rng = np.random.default_rng(3)
    latent = rng.multivariate_normal([0, 0], [[1, -0.6], [-0.6, 1]], size=5000)
    assert polyserial(latent[:, 0], np.digitize(latent[:, 1], [-0.3, 0.7])) == pytest.approx(-0.6, abs=0.04)


def test_auto_correlate_switches_to_polychoric_for_few_categories():
    rng = np.random.default_rng(4)
    latent = rng.multivariate_normal(np.zeros(3), [[1, 0.5, 0.4], [0.5, 1, 0.3], [0.4, 0.3, 1]], 3000)
    data = np.column_stack(
        [np.digitize(latent[:, 0], [-1, 0, 1]), np.digitize(latent[:, 1], [-0.5, 0.5]), latent[:, 2]]
    )
    result = auto_correlate(data)
    assert result[0, 1] == pytest.approx(polychoric(data[:, 0], data[:, 1]))
    assert result[0, 2] == pytest.approx(polyserial(data[:, 2], data[:, 0]))
    assert result[0, 1] > np.corrcoef(data[:, 0], data[:, 1])[0, 1]


def test_glasso_path_is_a_valid_lasso_solution():
    rng = np.random.default_rng(5)
    covariance = np.corrcoef(rng.normal(size=(200, 6)) @ rng.normal(size=(6, 6)), rowvar=False)
    grid = lambda_grid(covariance, 10)
    path = glasso_path(covariance, grid)
    # the largest penalty empties the network, smaller ones do not
    assert not precision_to_network(path[-1]).any()
    assert precision_to_network(path[0]).any()
    # KKT: |(W - S)_jk| <= lambda for the implied covariance W = inv(Theta)
    implied = np.linalg.inv((path[3] + path[3].T) / 2)
    assert np.abs(implied - covariance)[~np.eye(6, dtype=bool)].max() <= grid[3] * 1.01


def test_walktrap_cuts_at_the_first_modularity_maximum():
    membership = renumber(walktrap(two_blocks()))
    np.testing.assert_array_equal(membership, [1, 1, 1, 1, 2, 2, 2, 2])


def test_community_detection_na_rules():
    network = two_blocks(3)
    network = np.pad(network, ((0, 1), (0, 1)))  # an isolated node
    network[0, 6] = network[6, 0] = 0.0
    result = community_detection(network)
    assert np.isnan(result[-1])
    np.testing.assert_array_equal(result[:-1], [1, 1, 1, 2, 2, 2])
    assert np.isnan(community_detection(np.zeros((4, 4)))).all()
    np.testing.assert_array_equal(renumber([3, 3, 1, 2, 1]), [1, 1, 2, np.nan, 2])
    with pytest.raises(InvalidInputError, match="algorithm"):
        community_detection(network, "spinglass")


def test_louvain_is_reproducible_and_finds_planted_blocks():
    network = two_blocks(5)
    first, modularity = louvain(network, seed=1)
    np.testing.assert_array_equal(first, [1] * 5 + [2] * 5)
    import igraph

    rows, cols = np.nonzero(np.triu(network, 1))
    graph = igraph.Graph(n=10, edges=list(zip(rows, cols)))
    expected = graph.modularity(first.astype(int) - 1, weights=network[rows, cols].tolist())
    # EGAnet's running modularity: its re-aggregation counts self-loops twice, so the
    # value it reports can exceed the partition's modularity, never fall below it
    assert modularity >= expected - 1e-12
    membership, proportions = louvain_consensus(network, seed=1, n_runs=50)
    np.testing.assert_array_equal(membership, first)
    assert sum(proportions.values()) == pytest.approx(1.0)


def test_leiden_finds_planted_blocks_without_touching_global_random_state():
    import random

    random.seed(123)
    expected_next = random.random()
    random.seed(123)
    np.testing.assert_array_equal(community_detection(two_blocks(), "leiden", seed=1), [1, 1, 1, 1, 2, 2, 2, 2])
    assert random.random() == expected_next


def test_tefi_prefers_the_true_partition_and_handles_edge_cases():
    correlation = np.full((6, 6), 0.1)
    correlation[:3, :3] = correlation[3:, 3:] = 0.6
    np.fill_diagonal(correlation, 1.0)
    good = tefi(correlation, [1, 1, 1, 2, 2, 2])["VN.Entropy.Fit"]
    bad = tefi(correlation, [1, 2, 1, 2, 1, 2])["VN.Entropy.Fit"]
    assert good < bad
    assert tefi(correlation, [1] * 6)["VN.Entropy.Fit"] == 0.0
    assert np.isnan(tefi(correlation, [np.nan] * 6)["VN.Entropy.Fit"])
    # base 2.718282, element-wise log
    uniform = np.ones((2, 2))
    assert matrix_entropy(uniform) == pytest.approx(-4 * 0.5 * np.log(0.5) / np.log(2.718282))
    with pytest.raises(InvalidInputError, match="one membership per variable"):
        tefi(correlation, [1, 2])


def test_net_loads_revised_formula_on_a_small_network():
    network = two_blocks(3, within=0.3, between=0.05)
    loads = net_loads(network, [1, 1, 1, 2, 2, 2])
    # own loading = n/(n-1) * sum of the community's edges = 1.5 * 0.6
    np.testing.assert_allclose(loads.unstd.iloc[:3, 0], 0.9)
    np.testing.assert_allclose(loads.unstd.iloc[:3, 1], 0.15)
    scale = (3 * 0.9) ** (1 / np.log(2 * 3))
    np.testing.assert_allclose(loads.std.iloc[:3, 0], 0.9 / scale)
    with pytest.raises(InvalidInputError, match="one membership per node"):
        net_loads(network, [1, 2])


def test_net_scores_sum_standardised_items_with_own_loadings():
    rng = np.random.default_rng(6)
    data = pd.DataFrame(rng.normal(size=(30, 6)), columns=list("abcdef"))
    network = pd.DataFrame(two_blocks(3, 0.3, 0.05), index=data.columns, columns=data.columns)
    scores = net_scores(data, network, [1, 1, 1, 2, 2, 2])
    z = (data - data.mean()) / data.std()
    loads = net_loads(network, [1, 1, 1, 2, 2, 2]).std
    expected = z[["a", "b", "c"]].to_numpy() @ loads.loc[["a", "b", "c"], "1"].to_numpy()
    np.testing.assert_allclose(scores["1"], expected, atol=1e-12)
    with pytest.raises(InvalidInputError, match="columns"):
        net_scores(data.iloc[:, :4], network, [1, 1, 1, 2, 2, 2])


def test_ega_on_a_correlation_matrix_needs_n():
    correlation = np.corrcoef(np.random.default_rng(7).normal(size=(100, 5)), rowvar=False)
    with pytest.raises(InvalidInputError, match="sample size"):
        EGA(correlation)
    assert EGA(correlation, n=100, seed=1).n == 100


def test_ega_unidimensional_check_overrides_walktrap():
    rng = np.random.default_rng(8)
    factor = rng.normal(size=(500, 1))
    data = factor @ np.ones((1, 6)) + rng.normal(scale=0.8, size=(500, 6))
    result = EGA(data, seed=1)
    assert result.unidimensional and result.n_dim == 1
    assert (result.wc == 1).all()
    expected_tefi = tefi(result.correlation, result.wc)["VN.Entropy.Fit"]
    assert result.tefi == expected_tefi
    assert stats.pearsonr(result.net_scores(data)["1"], factor[:, 0])[0] > 0.9


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: walktrap("x"), "absolute"),
        (lambda: louvain([["a", "b"], ["c", "d"]]), "matrix"),
        (lambda: louvain_consensus("x"), "matrix"),
        (lambda: community_detection("x"), "network"),
        (lambda: renumber(["a", "b"]), "labels"),
        (lambda: pairwise_pearson([["x", 1.0]]), "data"),
        (lambda: polychoric(["a"], [1.0]), "x"),
        (lambda: polyserial([1.0, 2.0], ["low", "high"]), "ordinal"),
        (lambda: lambda_grid("x"), "correlation"),
        (lambda: precision_to_network("x"), "precision"),
        (lambda: glasso_path("x", [0.1]), "covariance"),
        (lambda: matrix_entropy("x"), "matrix"),
        (lambda: net_loads("x", [1, 2]), "A"),
        (lambda: tefi("x", [1, 2]), "correlation"),
        (lambda: tefi(np.eye(2), ["a", "b"]), "wc"),
    ],
)
def test_building_blocks_reject_non_numeric_input_by_name(call, argument):
    with pytest.raises(InvalidInputError, match=rf"^{argument} must be numeric; convert it with pandas"):
        call()


@pytest.mark.parametrize(
    "call",
    [lambda: walktrap(np.ones(3)), lambda: louvain(np.ones((2, 3))), lambda: matrix_entropy(np.ones(4))],
)
def test_building_blocks_reject_non_square_networks(call):
    with pytest.raises(InvalidInputError, match="must be a square matrix, got shape"):
        call()


@pytest.mark.parametrize("algorithm", IGRAPH_ALGORITHMS)
def test_igraph_algorithms_find_planted_blocks(algorithm):
    network = two_blocks(5)
    network[0, 9] = network[9, 0] = 0.0  # not every pair linked
    np.testing.assert_array_equal(community_detection(network, algorithm, seed=3), [1] * 5 + [2] * 5)


def test_randomised_igraph_algorithms_are_seeded_without_touching_global_state():
    import random

    rng = np.random.default_rng(7)
    network = np.abs(rng.normal(size=(12, 12)))
    network = (network + network.T) / 2
    random.seed(5)
    expected_next = random.random()
    random.seed(5)
    for algorithm in ("label_prop", "infomap"):
        first = community_detection(network, algorithm, seed=11, allow_singleton=True)
        again = community_detection(network, algorithm, seed=11, allow_singleton=True)
        np.testing.assert_array_equal(first, again)
    assert random.random() == expected_next


def test_algorithm_options_are_checked():
    network = two_blocks(4)
    with pytest.raises(InvalidInputError, match=r"options \['nb_trials'\] do not apply to fast_greedy"):
        community_detection(network, "fast_greedy", nb_trials=3)
    with pytest.raises(InvalidInputError, match=r"options \['resolution_parameter'\] do not apply to walktrap"):
        community_detection(network, "walktrap", resolution_parameter=0.5)
    # leading_eigen with one split: two communities at most
    three = np.kron(np.eye(3), np.full((4, 4), 0.4))
    np.fill_diagonal(three, 0.0)
    three[3, 4] = three[4, 3] = three[7, 8] = three[8, 7] = 0.05
    assert np.nanmax(community_detection(three, "leading_eigen", steps=1)) == 2
    assert np.nanmax(community_detection(three, "leading_eigen")) == 3


def test_ega_passes_algorithm_args():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3)) @ np.kron(np.eye(3), np.ones((1, 3)))
    x = x + rng.normal(size=x.shape)
    short = EGA(x, seed=1, algorithm_args={"steps": 2})
    default = EGA(x, seed=1)
    np.testing.assert_array_equal(short.wc, default.wc)  # clear blocks: same partition
    fast = EGA(x, seed=1, algorithm="fast_greedy")
    assert fast.n_dim == 3 and fast.methods["algorithm"] == "fast_greedy"
    with pytest.raises(InvalidInputError, match="do not apply to louvain"):
        EGA(x, seed=1, algorithm="louvain", algorithm_args={"steps": 2})
