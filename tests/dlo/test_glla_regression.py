"""GLLA + OLS reference estimator, including its documented damping flaw."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pybridge.dlo.glla_regression import fit_dlo_glla, glla_derivatives
from pybridge.dlo.simulate import simulate_dlo
from pybridge.errors import InvalidInputError, SeriesTooShortError
from pybridge.glla_weights import glla_weights


def test_weights_are_central_differences_for_three_points():
    weights = glla_weights(3, dt=0.5)
    np.testing.assert_allclose(weights[:, 0], [0.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(weights[:, 1], [-1.0, 0.0, 1.0], atol=1e-12)  # / (2 dt)
    np.testing.assert_allclose(weights[:, 2], [4.0, -8.0, 4.0], atol=1e-12)  # / dt^2


@pytest.mark.parametrize("n_embed", [3, 5, 8])
def test_derivatives_exact_for_quadratics(n_embed):
    dt = 0.25
    time = np.arange(40) * dt
    series = 1.0 - 2.0 * time + 1.5 * time**2
    derivatives = glla_derivatives(series, n_embed=n_embed, dt=dt)
    centre = time[: len(derivatives)] + (n_embed - 1) / 2 * dt
    np.testing.assert_allclose(derivatives[:, 0], 1.0 - 2.0 * centre + 1.5 * centre**2, atol=1e-10)
    np.testing.assert_allclose(derivatives[:, 1], -2.0 + 3.0 * centre, atol=1e-10)
    np.testing.assert_allclose(derivatives[:, 2], 3.0, atol=1e-9)


def test_damping_flaw_for_stationary_series():
    """Documented flaw: on stationary data the damping estimate goes to 0.

    True zeta is -0.6 (damping ratio ~0.95), yet GLLA regression returns about 0
    because estimated first and second derivatives of a time-reversible process are
    uncorrelated. eta keeps the right sign and order of magnitude.
    """
    sim = simulate_dlo(-0.1, -0.6, 0.3, 20000, seed=1)
    fit = fit_dlo_glla(sim.y[0])
    assert abs(fit.zeta) < 0.02
    assert -0.15 < fit.eta < -0.04
    assert math.isnan(fit.sigma_q) or fit.sigma_q < 0.1  # inherits the flaw


def test_transients_identify_the_damping():
    """Started far from equilibrium with little noise, the damping is recovered."""
    sim = simulate_dlo(-0.1, -0.2, 0.01, 200, x0=10.0, v0=0.0, seed=2)
    fit = fit_dlo_glla(sim.y[0])
    assert fit.eta == pytest.approx(-0.1, rel=0.1)
    assert fit.zeta == pytest.approx(-0.2, rel=0.1)
    assert fit.eta_lo < fit.eta < fit.eta_hi and fit.r_squared > 0.9
    assert fit.sigma_q > 0


def test_missing_values_drop_windows():
    y = simulate_dlo(-0.1, -0.2, 0.3, 300, seed=3).y[0]
    y[[50, 120]] = np.nan
    fit = fit_dlo_glla(y, n_embed=5)
    assert fit.n_windows == 296 - 10
    assert set(fit.to_dict()) >= {"eta", "zeta", "sigma_q", "r_squared", "n_windows"}


def test_bad_input():
    with pytest.raises(InvalidInputError, match="constant"):
        fit_dlo_glla(np.ones(50))
    with pytest.raises(SeriesTooShortError, match="non-missing"):
        fit_dlo_glla(np.arange(10.0))
    with pytest.raises(SeriesTooShortError, match="windows"):
        fit_dlo_glla(np.where(np.arange(60) % 4 == 0, np.nan, np.sin(np.arange(60.0))))
    with pytest.raises(InvalidInputError, match="n_embed"):
        glla_weights(2)
    with pytest.raises(InvalidInputError, match="dt must be a positive"):
        fit_dlo_glla(np.sin(np.arange(50.0)), dt=-1)
