"""Each EGA step against EGAnet's step-by-step fixtures (ega_steps.json).

Blocks: the population derivative matrix (N = 4600), one individual (N = 46) and a
rank-deficient individual (N = 20 < p = 24: nearPD, an empty network at gamma 0.5 and
EGAnet's gamma loop down to 0.25).
"""

from __future__ import annotations

import numpy as np
import pytest

from pybridge.dynamics import EGA, net_loads, net_scores, tefi
from pybridge.dynamics.community import community_detection, louvain_consensus, walktrap
from pybridge.dynamics.correlation import auto_correlate
from pybridge.dynamics.ebicglasso import ebic_glasso
from pybridge.dynamics.tmfg import tmfg

from .conftest import PARITY_TOL, matrix, max_abs_diff, named_vector

BLOCKS = ["population", "individual_1", "rank_deficient"]


@pytest.fixture(scope="module")
def computed(steps_fixture, step_inputs):
    """Our correlation, EBICglasso and EGA results per block (computed once)."""
    results = {}
    for block in BLOCKS:
        data = step_inputs[block]
        correlation = auto_correlate(data.to_numpy())
        results[block] = {
            "correlation": correlation,
            "ebic": ebic_glasso(correlation, len(data)),
            "ega": EGA(data, seed=1),
        }
    return results


@pytest.mark.parametrize("block", BLOCKS)
def test_correlation_matches_auto_correlate(block, steps_fixture, computed):
    expected = steps_fixture[block]["correlation"]
    assert max_abs_diff(computed[block]["correlation"], matrix(expected["matrix"])) < PARITY_TOL
    smallest = np.linalg.eigvalsh(computed[block]["correlation"]).min()
    assert smallest == pytest.approx(expected["min_eigenvalue"], abs=1e-9)


@pytest.mark.parametrize("block", BLOCKS)
def test_ebicglasso_path_and_selection_match(block, steps_fixture, computed):
    expected = steps_fixture[block]["EBICglasso"]
    ours = computed[block]["ebic"]
    assert max_abs_diff(ours.lambdas, expected["lambda"]) < PARITY_TOL
    assert max_abs_diff(ours.loglik, expected["loglik"]) < PARITY_TOL
    # EBIC is of the order 1e5 at population level; still within 1e-8 absolute
    assert max_abs_diff(ours.ebic, expected["ebic"]) < PARITY_TOL
    assert ours.selected_index + 1 == expected["selected_index"]
    assert ours.selected_lambda == pytest.approx(expected["selected_lambda"], abs=PARITY_TOL)
    for index, precision in expected["wi_path_at_index"].items():
        assert max_abs_diff(ours.precisions[int(index) - 1], matrix(precision)) < PARITY_TOL
    assert max_abs_diff(ours.precisions[ours.selected_index], matrix(expected["optwi"])) < PARITY_TOL
    assert max_abs_diff(ours.network, matrix(expected["optnet"])) < PARITY_TOL


def test_gamma_loop_reselects_on_the_same_path(steps_fixture, computed):
    expected = steps_fixture["rank_deficient"]["EBICglasso_at_EGA_gamma"]
    correlation = computed["rank_deficient"]["correlation"]
    lowered = ebic_glasso(correlation, 20, gamma=expected["gamma"])
    assert lowered.selected_index + 1 == expected["selected_index"]
    assert max_abs_diff(lowered.ebic, expected["ebic"]) < PARITY_TOL
    assert max_abs_diff(lowered.network, matrix(expected["optnet"])) < PARITY_TOL
    assert computed["rank_deficient"]["ega"].methods["gamma"] == 0.25
    # at gamma 0.5 EGAnet selected the empty network (largest lambda)
    assert not computed["rank_deficient"]["ebic"].network.any()


def _network(block, steps_fixture, computed):
    return computed[block]["ega"].network.to_numpy()


@pytest.mark.parametrize("block", BLOCKS)
def test_walktrap_matches_igraph_first_maximum(block, steps_fixture, computed):
    expected = steps_fixture[block]
    network = _network(block, steps_fixture, computed)
    membership = community_detection(network, "walktrap")
    np.testing.assert_array_equal(membership, named_vector(expected["walktrap"]["membership"]))
    import igraph

    absolute = np.abs(network)
    rows, cols = np.nonzero(np.triu(absolute, 1))
    graph = igraph.Graph(n=24, edges=list(zip(rows, cols)))
    merges, modularity = igraph.GraphBase.community_walktrap(graph, absolute[rows, cols].tolist(), 4)
    raw = expected["walktrap"]["igraph_cluster_walktrap"]
    assert max_abs_diff(modularity, raw["modularity"]) < 1e-12
    np.testing.assert_array_equal(np.array(merges) + 1, matrix(raw["merges"]))
    # same partition as R igraph's raw membership (labels may differ)
    ours = walktrap(absolute)
    theirs = np.array(raw["membership"])
    assert len(set(zip(ours, theirs))) == len(set(theirs)) == len(set(ours))


@pytest.mark.parametrize("block", BLOCKS)
def test_louvain_single_consensus_and_unidimensional_check(block, steps_fixture, computed):
    expected = steps_fixture[block]
    network = _network(block, steps_fixture, computed)
    single = community_detection(network, "louvain", seed=1)
    np.testing.assert_array_equal(single, named_vector(expected["louvain_single"]["membership"]))
    consensus = community_detection(network, "louvain", seed=1, consensus=True)
    np.testing.assert_array_equal(consensus, named_vector(expected["louvain_consensus"]["membership"]))
    _, proportions = louvain_consensus(np.abs(network), seed=1)
    table = expected["louvain_consensus"]["proportion_table"]
    shares = np.atleast_1d(table["Proportion"])
    np.testing.assert_allclose(sorted(proportions.values(), reverse=True), sorted(shares, reverse=True))
    check = community_detection(computed[block]["correlation"], "louvain", seed=1)
    np.testing.assert_array_equal(check, named_vector(expected["unidimensional_check"]["membership"]))


@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize(
    ("key", "model", "algorithm"),
    [("EGA_walktrap", "glasso", "walktrap"), ("EGA_louvain", "glasso", "louvain"), ("EGA_TMFG", "TMFG", "walktrap")],
)
def test_ega_matches(block, key, model, algorithm, steps_fixture, step_inputs, computed):
    expected = steps_fixture[block][key]["ega"]
    if key == "EGA_walktrap":
        result = computed[block]["ega"]
    else:
        result = EGA(step_inputs[block], model=model, algorithm=algorithm, seed=1)
    assert_ega_equal(result, expected)


def assert_ega_equal(result, expected) -> float:
    """Assert an EGA result equals a fixture ``ega`` block; return the max error."""
    errors = [abs(result.tefi - expected["TEFI"])]
    assert list(result.wc.index) == list(expected["wc"])
    np.testing.assert_array_equal(result.wc.to_numpy(), named_vector(expected["wc"]))
    assert result.n_dim == expected["n.dim"]
    assert result.n == expected["n"]
    assert result.unidimensional == expected["unidimensional"]
    if "network" in expected:
        errors.append(max_abs_diff(result.network.to_numpy(), matrix(expected["network"])))
        assert list(result.network.columns) == expected["network"]["colnames"]
    if "correlation" in expected:
        errors.append(max_abs_diff(result.correlation.to_numpy(), matrix(expected["correlation"])))
    methods = expected["network_methods"]
    if "lambda" in methods:
        errors.append(abs(result.methods["lambda"] - methods["lambda"]))
        assert result.methods["gamma"] == methods["gamma"]
        errors.append(abs(result.methods["criterion"] - methods["criterion"]))
    assert max(errors) < PARITY_TOL, errors
    return max(errors)


@pytest.mark.parametrize("block", BLOCKS)
def test_tmfg_network(block, steps_fixture, computed):
    ours = tmfg(computed[block]["correlation"])
    assert max_abs_diff(ours, matrix(steps_fixture[block]["TMFG"]["network"])) < PARITY_TOL
    assert int((np.triu(ours, 1) != 0).sum()) == 3 * 24 - 6


@pytest.mark.parametrize("block", BLOCKS)
def test_tefi_components(block, steps_fixture, computed):
    ega = computed[block]["ega"]
    ours = tefi(ega.correlation, ega.wc)
    for name, value in steps_fixture[block]["tefi"].items():
        if name != "call":
            assert ours[name] == pytest.approx(value, abs=PARITY_TOL)


@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize("method", ["revised", "original"])
def test_net_loads(block, method, steps_fixture, computed):
    expected = steps_fixture[block]["net.loads"][method]
    loads = net_loads(computed[block]["ega"], loading_method=method)
    for part in ("unstd", "std"):
        frame = getattr(loads, part)
        assert list(frame.index) == expected[part]["rownames"]
        assert list(frame.columns) == expected[part]["colnames"]
        assert max_abs_diff(frame.to_numpy(), matrix(expected[part])) < PARITY_TOL


@pytest.mark.parametrize("block", BLOCKS)
def test_net_scores(block, steps_fixture, step_inputs, computed):
    expected = steps_fixture[block]["net.scores"]
    scores = net_scores(step_inputs[block], computed[block]["ega"])
    assert scores.shape == (expected["nrow"], len(expected["colnames"]))
    assert list(scores.columns) == expected["colnames"]
    rows = matrix(expected.get("first_rows") or expected["rows"])
    assert max_abs_diff(scores.to_numpy()[: len(rows)], rows) < PARITY_TOL
    assert max_abs_diff(scores.std().to_numpy(), named_vector(expected["col_sd"])) < PARITY_TOL
    assert max_abs_diff(scores.sum().to_numpy(), named_vector(expected["col_sum"])) < 1e-10
