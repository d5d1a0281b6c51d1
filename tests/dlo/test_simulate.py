"""Exact DLO simulator: moments against closed forms, discretisation, validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.linalg

from pybridge.dlo import DLOSimulation, simulate_dlo
from pybridge.dlo.simulate import (
    eta_zeta_to_period_damping,
    exact_discretization,
    latent_to_scores,
    period_damping_to_eta_zeta,
    stationary_covariance,
)
from pybridge.errors import InvalidInputError, UnstableParametersError

ETA, ZETA, SIGMA = -0.8, -0.3, 0.6


def _reference_discretization(eta, zeta, sigma, dt):
    """F by scipy's expm; Q by 40-node Gauss-Legendre quadrature of
    expm(A s) b b^T expm(A s)^T over [0, dt] (the integrand is entire, so this is
    exact to rounding for these step lengths)."""
    drift = np.array([[0.0, 1.0], [eta, zeta]])
    noise = np.array([[0.0, 0.0], [0.0, sigma**2]])
    nodes, weights = np.polynomial.legendre.leggauss(40)
    times = (nodes + 1.0) * dt / 2.0
    flows = scipy.linalg.expm(drift * times[:, None, None])
    covariance = np.einsum("k,kij,jl,kml->im", weights * dt / 2.0, flows, noise, flows)
    return scipy.linalg.expm(drift * dt), covariance


_REFERENCES: dict = {}


@pytest.mark.parametrize(
    ("eta", "zeta", "dt"),
    [
        (-0.8, -0.3, 0.25),
        (-0.8, -0.3, 3.0),
        (-0.0625, -0.5, 1.0),  # critically damped
        (-0.01, -3.0, 0.5),
        (-4.0, -0.05, 0.01),
    ],
)
@pytest.mark.parametrize("method", ["auto", "closed_form", "van_loan"])
def test_exact_discretization_matches_quadrature(eta, zeta, dt, method):
    transition, covariance = exact_discretization(eta, zeta, SIGMA, dt, method=method)
    key = (eta, zeta, dt)
    if key not in _REFERENCES:  # the quadrature is slow; share it between methods
        _REFERENCES[key] = _reference_discretization(eta, zeta, SIGMA, dt)
    ref_transition, ref_covariance = _REFERENCES[key]
    np.testing.assert_allclose(transition, ref_transition, rtol=1e-10, atol=1e-13)
    tolerance = 1e-6 if method == "closed_form" and dt == 0.01 else 1e-8
    np.testing.assert_allclose(covariance, ref_covariance, rtol=tolerance, atol=1e-15)


def test_auto_discretization_handles_stiff_drifts():
    """One slow and one fast eigenvalue (-2e-4, -50): Van Loan's expm(-A dt) overflows
    its precision, S - F S F^T only loses a few digits, the default stays exact."""
    transition, covariance = exact_discretization(-0.01, -50.0, 0.7, 1.0)
    _, stationary_based = exact_discretization(-0.01, -50.0, 0.7, 1.0, method="closed_form")
    _, van_loan = exact_discretization(-0.01, -50.0, 0.7, 1.0, method="van_loan")
    np.testing.assert_allclose(covariance, stationary_based, rtol=1e-8)
    assert not np.allclose(van_loan, covariance, rtol=1e-2)
    # the velocity forgets within the step: Q_vv is its stationary variance
    assert covariance[1, 1] == pytest.approx(0.7**2 / (2 * 50.0), rel=1e-3)


def test_likelihood_fast_path_matches_exact_discretization():
    from pybridge.dlo.kalman import _discretize_frame

    for eta, zeta in [(-0.8, -0.3), (-1e-4, -1e-3), (-0.0625, -0.5), (-0.01, -50.0)]:
        f11, f12, f21, f22, q11, q12, q22, *_ = _discretize_frame(eta, zeta, 0.7)
        transition, covariance = exact_discretization(eta, zeta, 0.7, 1.0)
        np.testing.assert_allclose([[f11, f12], [f21, f22]], transition, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose([[q11, q12], [q12, q22]], covariance, rtol=1e-12)


def test_exact_discretization_is_vectorised_and_stationary():
    eta = np.array([-0.8, -2.0, -0.1])
    zeta = np.array([-0.3, -0.1, -1.0])
    transition, covariance = exact_discretization(eta, zeta, 0.5, dt=0.7)
    stationary = stationary_covariance(eta, zeta, 0.5)
    assert transition.shape == covariance.shape == stationary.shape == (3, 2, 2)
    # the stationary covariance is invariant under one exact step
    np.testing.assert_allclose(
        transition @ stationary @ np.swapaxes(transition, 1, 2) + covariance,
        stationary,
        rtol=1e-12,
        atol=1e-15,
    )


def test_stationary_covariance_closed_form():
    cov = stationary_covariance(ETA, ZETA, SIGMA)
    np.testing.assert_allclose(cov, [[SIGMA**2 / (2 * ETA * ZETA), 0.0], [0.0, -(SIGMA**2) / (2 * ZETA)]])
    drift = np.array([[0.0, 1.0], [ETA, ZETA]])
    np.testing.assert_allclose(drift @ cov + cov @ drift.T + np.diag([0.0, SIGMA**2]), 0.0, atol=1e-14)


@pytest.mark.parametrize("dt", [0.1, 1.0, 2.5])
def test_stationary_moments_match_closed_form(dt):
    """Across independent series: mean, variances and lag-k autocovariances."""
    n_series, n_steps, lag = 6000, 12, 3
    sim = simulate_dlo(ETA, ZETA, SIGMA, n_steps, dt=dt, n_series=n_series, seed=11)
    stationary = stationary_covariance(ETA, ZETA, SIGMA)
    transition, _ = exact_discretization(ETA, ZETA, SIGMA, dt)
    lagged = np.linalg.matrix_power(transition, lag) @ stationary
    var_x, var_v = stationary[0, 0], stationary[1, 1]
    for t in (0, n_steps - 1):  # the start and after several steps: still stationary
        x, v = sim.x[:, t], sim.v[:, t]
        assert abs(x.mean()) < 4 * np.sqrt(var_x / n_series)
        assert abs(x.var() / var_x - 1) < 4 * np.sqrt(2 / n_series)
        assert abs(v.var() / var_v - 1) < 4 * np.sqrt(2 / n_series)
        assert abs(np.mean(x * v)) < 4 * np.sqrt(var_x * var_v / n_series)
    x_now, x_later = sim.x[:, 2], sim.x[:, 2 + lag]
    autocov = np.mean(x_now * x_later)
    sd_autocov = np.sqrt((var_x**2 + lagged[0, 0] ** 2) / n_series)
    assert abs(autocov - lagged[0, 0]) < 4 * sd_autocov


def test_distribution_does_not_depend_on_dt():
    """x at time 6 from x0 = 2: 60 steps of 0.1 and 3 steps of 2.0 agree in law."""
    n_series = 6000
    fine = simulate_dlo(ETA, ZETA, SIGMA, 61, dt=0.1, n_series=n_series, x0=2.0, v0=0.0, seed=1)
    coarse = simulate_dlo(ETA, ZETA, SIGMA, 4, dt=2.0, n_series=n_series, x0=2.0, v0=0.0, seed=2)
    a, b = fine.x[:, -1], coarse.x[:, -1]
    transition, covariance = exact_discretization(ETA, ZETA, SIGMA, 6.0)
    mean, var = (transition @ [2.0, 0.0])[0], covariance[0, 0]
    for sample in (a, b):
        assert abs(sample.mean() - mean) < 4 * np.sqrt(var / n_series)
        assert abs(sample.var() / var - 1) < 4 * np.sqrt(2 / n_series)


def test_measurement_noise_and_initial_state():
    sim = simulate_dlo(ETA, ZETA, SIGMA, 400, n_series=20, meas_sd=0.5, x0=1.5, v0=-0.2, seed=3)
    assert np.all(sim.x[:, 0] == 1.5) and np.all(sim.v[:, 0] == -0.2)
    residual = (sim.y - sim.x).ravel()
    assert abs(residual.std() - 0.5) < 0.02
    noiseless = simulate_dlo(ETA, ZETA, SIGMA, 50, seed=3)
    np.testing.assert_array_equal(noiseless.x, noiseless.y)


def test_zero_noise_is_the_deterministic_solution():
    sim = simulate_dlo(ETA, ZETA, 0.0, 30, dt=0.5, x0=1.0, v0=0.0, seed=0)
    for t in range(30):
        expected = scipy.linalg.expm(np.array([[0, 1], [ETA, ZETA]]) * 0.5 * t) @ [1.0, 0.0]
        np.testing.assert_allclose([sim.x[0, t], sim.v[0, t]], expected, atol=1e-12)


def test_vectorised_parameters_seed_and_frame():
    eta = np.array([-0.5, -1.0, -2.0])
    sim = simulate_dlo(eta, -0.2, [0.1, 0.2, 0.3], 25, dt=0.5, n_series=3, seed=7)
    again = simulate_dlo(eta, -0.2, [0.1, 0.2, 0.3], 25, dt=0.5, n_series=3, seed=7)
    assert isinstance(sim, DLOSimulation)
    assert sim.x.shape == sim.v.shape == sim.y.shape == (3, 25)
    np.testing.assert_array_equal(sim.y, again.y)
    np.testing.assert_array_equal(sim.eta, eta)
    np.testing.assert_array_equal(sim.zeta, [-0.2] * 3)
    np.testing.assert_allclose(sim.time[:3], [0.0, 0.5, 1.0])
    frame = sim.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 75
    assert list(frame.columns) == ["series", "step", "time", "x", "v", "y", "eta", "zeta", "sigma_q", "meas_sd"]
    np.testing.assert_array_equal(frame.loc[frame.series == 2, "y"], sim.y[2])
    assert sim.to_dict()["eta"] == eta.tolist()


def test_period_damping_round_trip():
    period, ratio = np.array([20.0, 45.0, 60.0]), np.array([0.05, 0.3, 0.6])
    eta, zeta = period_damping_to_eta_zeta(period, ratio, dt=0.25)
    back_period, back_ratio = eta_zeta_to_period_damping(eta, zeta, dt=0.25)
    np.testing.assert_allclose(back_period, period, rtol=1e-12)
    np.testing.assert_allclose(back_ratio, ratio, rtol=1e-12)
    # damped angular frequency: imaginary part of the drift's eigenvalues
    eigen = np.linalg.eigvals(np.array([[0.0, 1.0], [eta[1], zeta[1]]]))
    assert np.isclose(2 * np.pi / abs(eigen.imag[0]) / 0.25, 45.0)
    assert eta_zeta_to_period_damping(-1.0, -3.0)[0] == np.inf  # over-damped


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"eta": 0.1}, UnstableParametersError, "eta < 0 and zeta < 0"),
        ({"zeta": 0.0}, UnstableParametersError, "stable"),
        ({"eta": [-1.0, 0.5], "n_series": 2}, UnstableParametersError, "eta < 0"),
        ({"dt": 0.0}, InvalidInputError, "dt must be a positive"),
        ({"dt": -1.0}, InvalidInputError, "dt must be a positive"),
        ({"n_steps": 10.5}, InvalidInputError, "n_steps must be an integer"),
        ({"n_steps": "10"}, InvalidInputError, "n_steps must be an integer"),
        ({"n_steps": True}, InvalidInputError, "n_steps must be an integer"),
        ({"n_steps": 0}, InvalidInputError, "at least 1"),
        ({"n_series": 2.0}, InvalidInputError, "n_series must be an integer"),
        ({"eta": [-1.0, -2.0]}, InvalidInputError, "one value per series"),
        ({"sigma_q": -1.0}, InvalidInputError, "sigma_q must be >= 0"),
        ({"meas_sd": -0.1}, InvalidInputError, "meas_sd must be >= 0"),
        ({"eta": np.nan}, InvalidInputError, "eta must be finite"),
        ({"seed": "x"}, InvalidInputError, "seed must be"),
    ],
)
def test_bad_input_raises_typed_errors(kwargs, error, match):
    arguments = {"eta": -1.0, "zeta": -0.5, "sigma_q": 0.3, "n_steps": 10, **kwargs}
    with pytest.raises(error, match=match):
        simulate_dlo(**arguments)


def test_conversion_bad_input():
    with pytest.raises(InvalidInputError, match="damping_ratio must be in"):
        period_damping_to_eta_zeta(20.0, 1.2)
    with pytest.raises(InvalidInputError, match="period_frames"):
        period_damping_to_eta_zeta(-3.0, 0.2)
    with pytest.raises(UnstableParametersError):
        eta_zeta_to_period_damping(0.5, -0.1)


def test_measurement_model():
    latent = np.array([[0.0, 1.0, -1.0], [2.0, 0.0, 0.5]])
    loadings = np.array([[1.0, 0.5], [0.0, -1.0]])
    linear = latent_to_scores(latent, loadings, intercepts=[0.1, 0.2])
    np.testing.assert_allclose(linear, [[1.1, -1.8], [1.1, 0.2], [-0.65, -0.3]])
    probabilities = latent_to_scores(latent, loadings, softmax=True)
    odds = np.exp(linear - [0.1, 0.2])
    np.testing.assert_allclose(probabilities, odds / odds.sum(axis=1, keepdims=True))
    noisy = latent_to_scores(np.zeros((1, 4000)), [[1.0]], meas_sd=0.5, seed=1)
    assert abs(noisy.std() - 0.5) < 0.02
    with pytest.raises(InvalidInputError, match="loadings must be"):
        latent_to_scores(latent, np.ones((2, 3)))
    with pytest.raises(InvalidInputError, match="intercepts"):
        latent_to_scores(latent, loadings, intercepts=[1.0, 2.0, 3.0])
