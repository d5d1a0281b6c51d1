"""Shared loaders for the EGAnet parity fixtures (``tests/fixtures/eganet``).

Expensive dynEGA runs are computed once per test session and shared, so the whole
parity suite (population, group and all 100 individuals) stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

#: Absolute tolerance of every parity comparison (the issue's acceptance bound).
PARITY_TOL = 1e-8


def matrix(block: dict) -> np.ndarray:
    """A fixture matrix (row-major ``data``, ``null`` = NA) as a float array."""
    return np.array([[np.nan if v is None else v for v in row] for row in block["data"]], dtype=float)


def named_vector(block: dict) -> np.ndarray:
    """A fixture named vector (JSON object, ``null`` = NA) as a float array, R's order."""
    return np.array([np.nan if v is None else v for v in block.values()], dtype=float)


def max_abs_diff(actual, expected) -> float:
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), "NaN patterns differ"
    finite = ~np.isnan(expected)
    return float(np.abs(actual[finite] - expected[finite]).max()) if finite.any() else 0.0


@pytest.fixture(scope="session")
def eganet_dir(reference_fixtures: Path) -> Path:
    return reference_fixtures / "eganet"


def _load(folder: Path, name: str) -> dict:
    with open(folder / name, encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="session")
def glla_fixture(eganet_dir):
    return _load(eganet_dir, "glla_embed.json")


@pytest.fixture(scope="session")
def steps_fixture(eganet_dir):
    return _load(eganet_dir, "ega_steps.json")


@pytest.fixture(scope="session")
def population_fixture(eganet_dir):
    return _load(eganet_dir, "dynega_population.json")


@pytest.fixture(scope="session")
def group_fixture(eganet_dir):
    return _load(eganet_dir, "dynega_group.json")


@pytest.fixture(scope="session")
def individual_fixture(eganet_dir):
    return _load(eganet_dir, "dynega_individual.json")


@pytest.fixture(scope="session")
def sim_dynega(eganet_dir) -> pd.DataFrame:
    """EGAnet's ``sim.dynEGA`` (V1..V24, ID, Group)."""
    return pd.read_csv(eganet_dir / "sim_dynEGA.csv")


@pytest.fixture(scope="session")
def derivatives_d1(eganet_dir) -> pd.DataFrame:
    """EGAnet's population EstimatesDF for use.derivatives = 1."""
    return pd.read_csv(eganet_dir / "derivatives_d1.csv.gz")


@pytest.fixture(scope="session")
def step_inputs(derivatives_d1) -> dict[str, pd.DataFrame]:
    """The ``X`` of each block of ega_steps.json."""
    variables = derivatives_d1.iloc[:, :24]
    first_id = variables[derivatives_d1["id"] == 1]
    return {
        "population": variables,
        "individual_1": first_id,
        "rank_deficient": first_id.iloc[:20],
    }
