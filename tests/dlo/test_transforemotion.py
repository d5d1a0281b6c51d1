"""Parity of the transforEmotion port with the R package, draw for draw.

The fixtures (``tests/fixtures/transforemotion``) hold transforEmotion's outputs with
every random variate it used, in call order; feeding those variates through
:class:`RecordedDraws` must reproduce every cell (NaN positions included) and every
error case.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pybridge.dlo import simulate_video
from pybridge.dlo.transforemotion import (
    GeneratorDraws,
    RecordedDraws,
    calculate_moving_average,
    dlo_dynamics,
    emphasize,
    generate_observables,
    generate_q,
    mvrnorm_diagonal,
    r_quantile7,
)
from pybridge.errors import InvalidInputError


@cache
def _load(directory: str, name: str) -> dict:
    return json.loads((Path(directory) / name).read_text())


@pytest.fixture(scope="module")
def fixtures(reference_fixtures):
    directory = str(reference_fixtures / "transforemotion")
    return _load(directory, "simulate_video.json"), _load(directory, "helpers.json")


def _table(stored: dict) -> np.ndarray:
    data = np.array(
        [[np.nan if value is None else value for value in row] for row in stored["data"]],
        dtype=float,
    )
    if "nan_mask" in stored:
        assert np.array_equal(np.isnan(data), np.array(stored["nan_mask"]))
    return data


def _assert_same(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    finite = ~np.isnan(expected)
    assert np.max(np.abs(actual[finite] - expected[finite]), initial=0.0) <= 1e-12


def _python_args(args: dict) -> dict:
    return {name.replace(".", "_"): value for name, value in args.items()}


SIMULATE_CASES = [
    "a",
    "a_helppage",
    "b",
    "c_emph",
    "d_nan",
    "e_window_boundary",
    "f_emph_both_branches",
]


@pytest.mark.parametrize("name", SIMULATE_CASES)
def test_simulate_video_reproduces_r_cell_for_cell(fixtures, name):
    case = next(c for c in fixtures[0]["cases"] if c["name"] == name)
    draws = RecordedDraws(case["draws"])
    result = simulate_video(**_python_args(case["args"]), draws=draws)
    assert isinstance(result, pd.DataFrame)
    assert list(result.columns) == case["result"]["colnames"]
    expected = _table(case["result"])
    _assert_same(result.to_numpy(), expected)
    # bit-for-bit, in fact: the long-double sums reproduce R exactly
    finite = ~np.isnan(expected)
    assert np.array_equal(result.to_numpy()[finite], expected[finite])
    assert draws.remaining == 0


def test_emphasis_threshold_is_r_quantile(fixtures):
    for case in fixtures[0]["cases"]:
        if "emph_dNg_quantile_0.8" in case:
            args = _python_args(case["args"])
            args["emph"] = False
            plain = [d for d in case["draws"] if not d["role"].startswith("emph_")]
            table = simulate_video(**args, draws=RecordedDraws(plain))
            assert r_quantile7(table["dNg"], 0.8) == case["emph_dNg_quantile_0.8"]


def test_float64_means_would_not_reproduce_r(fixtures):
    """Why the port sums in long double: plain float64 means miss R in many cells."""
    case = next(c for c in fixtures[0]["cases"] if c["name"] == "b")
    args = case["args"]
    expected = _table(case["result"])
    observables = generate_observables(
        expected[:, [2, 4]],
        args["num_steps"],
        args["num_observables"],
        args["sd_observable"],
        args["loadings"],
        RecordedDraws(case["draws"][1:6]),
    )
    window, n_steps = args["window_size"], args["num_steps"]
    plain = np.array(
        [
            [
                observables[max(0, i - window + 1) : min(n_steps, i + window), c].mean()
                for c in range(observables.shape[1])
            ]
            for i in range(n_steps)
        ]
    )
    ported = np.column_stack([calculate_moving_average(observables[:, c], window) for c in range(observables.shape[1])])
    np.testing.assert_array_equal(ported, expected[:, 6:])
    assert np.mean(plain != expected[:, 6:]) > 0.05
    np.testing.assert_allclose(plain, expected[:, 6:], rtol=1e-15, atol=1e-16)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("d_nan_emph", "missing values and NaN's not allowed if 'na.rm' is FALSE"),
        ("e_window_error", "only 0's may be mixed with negative subscripts"),
    ],
)
def test_r_error_cases_raise_typed_errors(fixtures, name, message):
    case = next(c for c in fixtures[0]["cases"] if c["name"] == name)
    assert case["error"] == message
    with pytest.raises(InvalidInputError) as info:
        simulate_video(**_python_args(case["args"]), draws=RecordedDraws(case["draws"]))
    assert message in str(info.value)
    if name == "e_window_error":
        assert "needs at least 9 time points" in str(info.value)
    else:
        assert "dNg" in str(info.value) and "emph=False" in str(info.value)


def test_helpers_dlo_dynamics_and_moving_average(fixtures):
    helpers = fixtures[1]
    for case in helpers["dlo_dynamics"]:
        assert list(dlo_dynamics(**case["args"])) == case["result"]
    for case in helpers["calculate_moving_average"]:
        args = case["args"]
        if "error" in case:
            with pytest.raises(InvalidInputError, match="only 0's may be mixed"):
                calculate_moving_average(args["data"], args["window_size"])
        else:
            result = calculate_moving_average(args["data"], args["window_size"])
            np.testing.assert_array_equal(result, case["result"])


def test_helpers_random_parts(fixtures):
    helpers = fixtures[1]
    (case,) = helpers["generate_q"]
    result = generate_q(**case["args"], draws=RecordedDraws(case["draws"]))
    _assert_same(result, _table(case["result"]))

    (case,) = helpers["MASS_mvrnorm"]
    variances = np.diag(_table(case["args"]["Sigma"]))
    result = mvrnorm_diagonal(case["args"]["n"], variances, RecordedDraws(case["draws"]))
    np.testing.assert_array_equal(result, _table(case["result"]))

    for case in helpers["generate_observables"]:
        args = dict(case["args"])
        args["X"] = _table(args["X"])
        result = generate_observables(**args, draws=RecordedDraws(case["draws"]))
        np.testing.assert_array_equal(result, _table(case["result"]))

    for case in helpers["emphasize"]:
        args = dict(case["args"])
        data = _table(args.pop("data"))
        assert r_quantile7(data[:, 3], 0.8) == case["dNg_quantile_0.8"]
        draws = RecordedDraws(case["draws"])
        result = emphasize(data, **args, draws=draws)
        np.testing.assert_array_equal(result, _table(case["result"]))
        assert draws.remaining == 0


def test_recorded_draws_detect_mismatch(fixtures):
    case = next(c for c in fixtures[0]["cases"] if c["name"] == "b")
    args = _python_args(case["args"])
    with pytest.raises(InvalidInputError, match="do not belong to this call"):
        simulate_video(**{**args, "num_steps": 299}, draws=RecordedDraws(case["draws"]))
    with pytest.raises(InvalidInputError, match="used up"):
        simulate_video(**args, draws=RecordedDraws(case["draws"][:-1]))
    with pytest.raises(InvalidInputError, match="rnorm.*runif"):
        RecordedDraws([{"fn": "rnorm", "standard": [0.1]}]).uniform(1, "x")


@pytest.mark.parametrize("record", [{"standard": [0.1]}, {"fn": "runif"}, {"fn": "runif", "standard": ["a"]}, 0.1])
def test_recorded_draws_reject_malformed_records(record):
    with pytest.raises(InvalidInputError, match="draw 1 is not a record with keys 'fn' and 'standard'"):
        RecordedDraws([record]).uniform(1, "x")


def test_generator_draws_are_reproducible_and_well_formed():
    args = dict(
        dt=0.1,
        num_steps=120,
        num_observables=3,
        eta_n=-0.5,
        zeta_n=-0.5,
        eta=-0.5,
        zeta=-0.5,
        sigma_q=0.5,
        sd_observable=0.05,
        loadings=0.8,
        window_size=3,
    )
    first = simulate_video(**args, seed=4, emph=True, emph_dur=5)
    again = simulate_video(**args, draws=GeneratorDraws(4), emph=True, emph_dur=5)
    pd.testing.assert_frame_equal(first, again)
    latent = first[["Nt", "Ng", "Ps"]].to_numpy()
    np.testing.assert_allclose(latent.sum(axis=1), 1.0, atol=1e-12)  # renormalised
    assert (latent >= 0).all()
    assert (first.iloc[:, 6:].to_numpy() >= 0).all()


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"dt": 0.0}, "dt must be a positive"),
        ({"num_steps": 30.5}, "num_steps must be a whole number"),
        ({"num_steps": 1}, "num_steps must be at least 2"),
        ({"num_observables": 1}, "num_observables must be at least 2"),
        ({"window_size": 0}, "window_size must be at least 1"),
        ({"window_size": 20}, "needs at least 39 time points"),
        ({"seed": 1, "draws": GeneratorDraws(1)}, "either seed or draws"),
    ],
)
def test_simulate_video_bad_input(change, match):
    args = dict(
        dt=0.1,
        num_steps=30,
        num_observables=2,
        eta_n=-0.5,
        zeta_n=-0.5,
        eta=-0.5,
        zeta=-0.5,
        sigma_q=0.5,
        sd_observable=0.05,
        loadings=0.8,
        window_size=3,
    )
    with pytest.raises(InvalidInputError, match=match):
        simulate_video(**{**args, **change})


def test_whole_number_floats_are_accepted_like_r():
    video = simulate_video(
        dt=0.1,
        num_steps=30.0,
        num_observables=2.0,
        eta_n=-0.5,
        zeta_n=-0.5,
        eta=-0.5,
        zeta=-0.5,
        sigma_q=0.5,
        sd_observable=0.05,
        loadings=0.8,
        window_size=3.0,
        seed=1,
    )
    assert video.shape == (30, 10)
