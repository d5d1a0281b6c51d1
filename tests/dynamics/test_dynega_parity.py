"""dynEGA against EGAnet 2.5.0 on sim.dynEGA: population, group and all 100 individuals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pybridge.dynamics import dynEGA

from .conftest import PARITY_TOL, matrix, max_abs_diff, named_vector
from .test_ega_steps import assert_ega_equal


def test_fixtures_are_eganet_2_5_0(population_fixture, group_fixture, individual_fixture, steps_fixture, glla_fixture):
    """The references were made with EGAnet 2.5.0, glasso 1.11, R igraph 1.3.5."""
    for fixture in (population_fixture, group_fixture, individual_fixture, steps_fixture, glla_fixture):
        versions = fixture["versions"]
        assert (versions["EGAnet"], versions["glasso"], versions["igraph"]) == ("2.5.0", "1.11", "1.3.5")


POPULATION_RUNS = {
    "derivatives_0": dict(use_derivatives=0),
    "derivatives_1": dict(use_derivatives=1),
    "derivatives_2": dict(use_derivatives=2),
    "derivatives_1_louvain": dict(use_derivatives=1, algorithm="louvain"),
    "derivatives_1_TMFG": dict(use_derivatives=1, model="TMFG"),
}


@pytest.fixture(scope="module")
def population_results(sim_dynega):
    return {key: dynEGA(sim_dynega, seed=1, **kwargs) for key, kwargs in POPULATION_RUNS.items()}


@pytest.mark.parametrize("key", list(POPULATION_RUNS))
def test_population_ega(key, population_results, population_fixture):
    result = population_results[key]
    assert result.group == {} and result.individual == {}
    assert_ega_equal(result.population, population_fixture[key]["ega"])


@pytest.mark.parametrize("key", ["derivatives_0", "derivatives_1", "derivatives_2"])
def test_population_estimates_df(key, population_results, population_fixture):
    expected = population_fixture[key]["EstimatesDF"]
    derivatives = population_results[key].derivatives
    assert list(derivatives.columns) == expected["colnames"]
    assert derivatives.shape == (expected["nrow"], expected["ncol"])
    assert list(pd.unique(derivatives["id"])) == expected["id_order"]
    assert derivatives.groupby("id", sort=False).size().to_dict() == expected["rows_per_id"]
    assert {i: int(g) for i, g in zip(derivatives["id"], derivatives["group"])} == {
        i: int(g) for i, g in expected["group_of_id"].items()
    }
    values = derivatives.iloc[:, :24]
    assert max_abs_diff(values.mean(), named_vector(expected["col_mean"])) < PARITY_TOL
    assert max_abs_diff(values.std(), named_vector(expected["col_sd"])) < PARITY_TOL
    per_id = values.groupby(derivatives["id"], sort=False).mean()
    assert max_abs_diff(per_id.to_numpy(), matrix(expected["per_id_col_mean"])) < PARITY_TOL
    for unit, rows in expected["all_rows_of_ids"].items():
        ours = values[derivatives["id"] == unit].to_numpy()
        assert max_abs_diff(ours, matrix(rows)) < PARITY_TOL


def test_full_first_order_estimates_df(population_results, derivatives_d1):
    ours = population_results["derivatives_1"].derivatives
    assert list(ours.columns) == list(derivatives_d1.columns)
    assert max_abs_diff(ours.iloc[:, :24].to_numpy(), derivatives_d1.iloc[:, :24].to_numpy()) < 1e-13
    assert (ours["id"].to_numpy() == derivatives_d1["id"].astype(str).to_numpy()).all()
    assert (ours["group"].to_numpy() == derivatives_d1["group"].astype(str).to_numpy()).all()


@pytest.mark.parametrize("method", ["revised", "original"])
@pytest.mark.parametrize("key", ["derivatives_0", "derivatives_1", "derivatives_2", "derivatives_1_TMFG"])
def test_population_net_loads(key, method, population_results, population_fixture):
    expected = population_fixture[key]["net.loads"][method]
    loads = population_results[key].population.net_loads(method)
    for part in ("unstd", "std"):
        frame = getattr(loads, part)
        assert list(frame.index) == expected[part]["rownames"]
        assert max_abs_diff(frame.to_numpy(), matrix(expected[part])) < PARITY_TOL


def test_population_net_scores_reference_row(population_results):
    result = population_results["derivatives_1"]
    scores = result.population.net_scores(result.derivatives.iloc[:, :24])
    np.testing.assert_allclose(scores.iloc[0], [1.8580257, 1.1868040, 0.4750248, -0.4393672], atol=5e-8)


def test_group_level(sim_dynega, group_fixture):
    result = dynEGA(sim_dynega, level="group", seed=1)
    assert result.population is None and result.individual == {}
    assert list(result.group) == group_fixture["group_names"]
    for name, expected in group_fixture["groups"].items():
        assert_ega_equal(result.group[name], expected)


def test_all_individuals(sim_dynega, individual_fixture):
    result = dynEGA(sim_dynega, level="individual", seed=1)
    assert list(result.individual) == individual_fixture["ids"]
    dimensions = []
    for unit, expected in individual_fixture["individuals"].items():
        ours = result.individual[unit]
        assert_ega_equal(ours, expected)
        assert ours.methods["lambda"] == pytest.approx(expected["network_methods"]["lambda"], abs=PARITY_TOL)
        dimensions.append(ours.n_dim)
    assert dimensions.count(2) == 50 and dimensions.count(3) == 50
    assert set(individual_fixture["network_ids"]) <= set(result.individual)


def test_all_three_levels_in_one_call_agree_with_separate_calls(sim_dynega, population_results):
    subset = sim_dynega[sim_dynega["ID"].isin([1, 2, 51, 52])]
    both = dynEGA(subset, level=["individual", "group", "population"], seed=1)
    assert sorted(both.individual) == ["1", "2", "51", "52"]
    assert sorted(both.group) == ["1", "2"]
    alone = dynEGA(subset, level="population", seed=1)
    pd.testing.assert_frame_equal(both.population.network, alone.population.network)
