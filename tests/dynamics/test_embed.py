"""Embed and GLLA against EGAnet's outputs and the spec's hand-computed vectors."""

from __future__ import annotations

import numpy as np
import pytest

from pybridge.dynamics import Embed, glla
from pybridge.dynamics.embed import glla_matrix
from pybridge.errors import InvalidInputError, SeriesTooShortError
from pybridge.glla_weights import glla_weights

from .conftest import PARITY_TOL, matrix, max_abs_diff


def _x(case):
    return np.array([np.nan if v is None else v for v in case["x"]], dtype=float)


def test_every_glla_fixture_case_matches_eganet(glla_fixture):
    assert len(glla_fixture["glla"]) == 13
    for case in glla_fixture["glla"]:
        args = case["args"]
        result = glla(
            _x(case),
            args["n.embed"],
            args["tau"],
            args["delta"],
            args["order"],
            args["na.derivative"],
        )
        expected = matrix(case["result"])
        assert result.shape == expected.shape, case["name"]
        assert max_abs_diff(result, expected) < PARITY_TOL, case["name"]


def test_every_embed_fixture_case_matches_eganet(glla_fixture):
    for case in glla_fixture["Embed"]:
        result = Embed(_x(case), case["args"]["E"], case["args"]["tau"])
        assert max_abs_diff(result, matrix(case["result"])) == 0.0, case["name"]


def test_embed_windows_start_at_each_time_point():
    np.testing.assert_array_equal(
        Embed(np.arange(49, 57), 5, 1),
        [[49, 50, 51, 52, 53], [50, 51, 52, 53, 54], [51, 52, 53, 54, 55], [52, 53, 54, 55, 56]],
    )


@pytest.mark.parametrize(
    ("n_embed", "tau", "delta", "rows"),
    [
        (5, 1, 1, [(9, 6, 2), (16, 8, 2), (25, 10, 2)]),
        # EGAnet's offsets t_i = tau*delta*i - (E+1)/2: estimates at position 1.5 / the first
        (5, 1, 2, [(2.25, 1.5, 0.5), (6.25, 2.5, 0.5), (12.25, 3.5, 0.5)]),
        (3, 2, 1, [(1, 2, 2), (4, 4, 2), (9, 6, 2)]),
    ],
)
def test_glla_on_squares_reproduces_eganet_offsets(n_embed, tau, delta, rows):
    squares = np.arange(1, 8) ** 2
    np.testing.assert_allclose(glla(squares, n_embed, tau, delta)[:3], rows, atol=1e-12)


def test_glla_weights_are_the_savitzky_golay_table_for_the_default_design():
    weights = glla_weights(5, offsets="eganet")
    # EGAnet's offsets are the centred ones when tau * delta = 1
    np.testing.assert_array_equal(weights, glla_weights(5))
    np.testing.assert_allclose(weights[:, 0], np.array([-3, 12, 17, 12, -3]) / 35, atol=1e-15)
    np.testing.assert_allclose(weights[:, 1], np.array([-2, -1, 0, 1, 2]) / 10, atol=1e-15)
    np.testing.assert_allclose(weights[:, 2], np.array([2, -1, -2, -1, 2]) / 7, atol=1e-15)


def test_missing_value_modes_follow_eganet():
    x = [1, np.nan, 9, 16, 25, 36, 49, 64]
    none = glla(x, 3)
    assert np.isnan(none[:2]).all() and not np.isnan(none[2:]).any()
    rowwise = glla(x, 3, na_derivative="rowwise")
    np.testing.assert_allclose(rowwise[0], [6.25, 5, 1])
    assert np.isnan(rowwise[1]).all()
    np.testing.assert_allclose(rowwise[2], [16, 8, 1])
    skipover = glla(x, 3, na_derivative="skipover")
    np.testing.assert_allclose(skipover[0], [9, 7.5, -1])
    np.testing.assert_allclose(skipover[2], [16, 8, 2])


def test_kalman_mode_fills_gaps_before_differentiating():
    rng = np.random.default_rng(3)
    truth = np.arange(1.0, 41.0) + rng.normal(scale=0.05, size=40)
    x = truth.copy()
    x[[5, 12, 13]] = np.nan
    result = glla(x, 5, na_derivative="kalman")
    assert not np.isnan(result).any()
    np.testing.assert_allclose(result[:, 1], 1.0, atol=0.1)
    complete = glla(truth, 5)
    untouched = np.arange(16, 36)  # windows far from the gaps are the plain estimates
    np.testing.assert_allclose(result[untouched], complete[untouched], atol=1e-12)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: glla([1.0, 2.0, 3.0], 5), SeriesTooShortError, "too short"),
        (lambda: Embed([1.0, 2.0, 3.0], 2, 3), SeriesTooShortError, "at least"),
        (lambda: glla(["a", "b", "c", "d", "e"], 3), InvalidInputError, "numeric"),
        (lambda: glla(np.ones((4, 2)), 3), InvalidInputError, "one-dimensional"),
        (lambda: glla(np.arange(9.0), 3, na_derivative="drop"), InvalidInputError, "na_derivative"),
        (lambda: glla(np.arange(9.0), 0), InvalidInputError, "n_embed"),
        (lambda: glla(np.arange(9.0), 2, order=2), InvalidInputError, "cannot identify"),
        (lambda: glla(np.arange(9.0), 3, tau=1.5), InvalidInputError, "tau"),
        (lambda: glla(np.arange(9.0), 3, delta=0), InvalidInputError, "delta"),
        (lambda: glla_matrix([["a", 1.0]] * 6, 3), InvalidInputError, "values must be numeric"),
        (lambda: glla_matrix(np.arange(9.0), 3), InvalidInputError, "two-dimensional"),
        (lambda: glla_matrix(np.ones((9, 2)), 3, na_derivative="drop"), InvalidInputError, "na_derivative"),
        (lambda: glla_matrix(np.ones((3, 2)), 5), SeriesTooShortError, "too short"),
    ],
)
def test_bad_arguments_raise_typed_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_top_level_glla_stays_the_function_after_the_stages_are_imported():
    # a submodule named like a top-level export would replace it on import
    import pybridge
    import pybridge.dlo
    import pybridge.dynamics

    assert pybridge.glla is pybridge.dynamics.glla
    assert pybridge.Embed is pybridge.dynamics.Embed
