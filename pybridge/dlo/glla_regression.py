"""DLO estimation by GLLA derivatives and ordinary least squares (a reference method).

The classic two-step approach (Boker and Nesselroade, 2002; Boker, Deboeck, Edler
and Keel, 2010): estimate the level, first and second derivative of the series in
overlapping windows with generalised local linear approximation (GLLA), then
regress the second derivative on the level and the first derivative,
``x'' = eta x + zeta x' + c``.

Known flaw, kept and documented on purpose: **for a stationary series the damping
estimate goes to 0** whatever the true damping. A stationary Gaussian process is
time-reversible; reversing time flips the sign of GLLA's (antisymmetric) first
derivative weights and keeps the (symmetric) second derivative weights, so the
estimated first and second derivatives are uncorrelated, and so are the level and
the first derivative. The OLS coefficient of the first derivative is therefore 0 in
expectation. The damping is only identified by transients (a series started far
from equilibrium). ``eta`` is roughly right but biased by the smoothing of the
window. Use :mod:`pybridge.dlo.kalman` (maximum likelihood) or the neural estimator
for estimates; use this for comparison with the literature.

The GLLA weights come from :mod:`pybridge.glla_weights`, shared with dynEGA, so the DLO stage
stays independent of the network stage.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.stats

from ..errors import InvalidInputError, SeriesTooShortError
from ..glla_weights import glla_weights
from ..validation import as_observed_series, check_dt
from .kalman import MIN_OBSERVATIONS

__all__ = ["GLLAFit", "glla_derivatives", "fit_dlo_glla"]


def glla_derivatives(y: Any, n_embed: int = 5, dt: float = 1.0, order: int = 2) -> np.ndarray:
    """Level and derivatives of a series in every window of ``n_embed`` values.

    Parameters
    ----------
    y : array_like
        1-D series.
    n_embed : int, default 5
        Window length.
    dt : float, default 1.0
        Time between observations.
    order : int, default 2
        Highest derivative.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(y) - n_embed + 1, order + 1)``; a window with a NaN gives a
        row of NaN.

    Raises
    ------
    InvalidInputError
        If the series is not 1-D or shorter than the window.

    Examples
    --------
    >>> glla_derivatives(np.arange(10.0) ** 2 / 2, n_embed=5)[0].round(6).tolist()
    [2.0, 2.0, 1.0]
    """
    series = np.asarray(y, dtype=float)
    if series.ndim != 1:
        raise InvalidInputError(f"y must be 1-D, got shape {series.shape}")
    weights = glla_weights(n_embed, dt, order)
    if series.size < weights.shape[0]:
        raise InvalidInputError(f"the series has {series.size} values, fewer than the window n_embed={n_embed}")
    windows = np.lib.stride_tricks.sliding_window_view(series, weights.shape[0])
    return windows @ weights


@dataclass
class GLLAFit:
    """GLLA + OLS estimates for one series.

    Attributes
    ----------
    eta, zeta : float
        OLS coefficients of the level and the first derivative.
    sigma_q : float
        ``sqrt(2 eta zeta Var(x))`` from the stationary variance of the DLO, NaN when
        ``eta`` or ``zeta`` is not negative. Inherits the damping flaw.
    eta_se, zeta_se : float
        OLS standard errors (too small: the windows overlap).
    eta_lo, eta_hi, zeta_lo, zeta_hi : float
        OLS t intervals at the requested level (same caveat).
    r_squared : float
        Of the regression.
    n_windows : int
        Windows used (those without NaN).
    """

    eta: float
    zeta: float
    sigma_q: float
    eta_se: float
    zeta_se: float
    eta_lo: float
    eta_hi: float
    zeta_lo: float
    zeta_hi: float
    r_squared: float
    n_windows: int

    def to_dict(self) -> dict[str, Any]:
        """Every field as a plain Python value, for JSON and the R package.

        Returns
        -------
        dict

        Examples
        --------
        >>> from pybridge.dlo.simulate import simulate_dlo
        >>> fit = fit_dlo_glla(simulate_dlo(-0.2, -0.2, 1.0, n_steps=300, seed=1).y[0])
        >>> fit.to_dict()["n_windows"] == fit.n_windows
        True
        """
        return asdict(self)


def fit_dlo_glla(y: Any, dt: float = 1.0, n_embed: int = 5, level: float = 0.9) -> GLLAFit:
    """Estimate DLO parameters by GLLA derivatives and OLS (reference method).

    See the module docstring for the method and its flaw: the damping estimate of a
    stationary series goes to 0.

    Parameters
    ----------
    y : array_like
        1-D series sampled every ``dt``; windows containing NaN are dropped.
    dt : float, default 1.0
        Time between observations; estimates are per unit of this time.
    n_embed : int, default 5
        GLLA window length.
    level : float, default 0.9
        Coverage of the intervals.

    Returns
    -------
    GLLAFit

    Raises
    ------
    SeriesTooShortError
        If fewer than :data:`pybridge.dlo.kalman.MIN_OBSERVATIONS` values are
        present or fewer than 10 complete windows remain.
    InvalidInputError
        If the series is constant, not 1-D, or an argument is invalid.

    Examples
    --------
    >>> from pybridge.dlo.simulate import simulate_dlo
    >>> y = simulate_dlo(-0.1, -0.2, 0.3, 2000, seed=1).y[0]
    >>> fit = fit_dlo_glla(y)
    >>> -0.13 < fit.eta < -0.07, abs(fit.zeta) < 0.1
    (True, True)
    """
    dt = check_dt(dt)
    if not 0 < level < 1:
        raise InvalidInputError(f"level must be in (0, 1), got {level!r}")
    series = as_observed_series(y, MIN_OBSERVATIONS)
    derivatives = glla_derivatives(series, n_embed, dt)
    complete = derivatives[~np.isnan(derivatives).any(axis=1)]
    if complete.shape[0] < 10:
        raise SeriesTooShortError(
            f"only {complete.shape[0]} windows of {n_embed} values without NaN; GLLA "
            f"regression needs at least 10 (and a series of at least {MIN_OBSERVATIONS})"
        )
    design = np.column_stack([complete[:, 0], complete[:, 1], np.ones(complete.shape[0])])
    response = complete[:, 2]
    coefficients, *_ = np.linalg.lstsq(design, response, rcond=None)
    residuals = response - design @ coefficients
    dof = complete.shape[0] - design.shape[1]
    residual_var = float(residuals @ residuals) / dof
    covariance = residual_var * np.linalg.pinv(design.T @ design)
    standard_errors = np.sqrt(np.diag(covariance))[:2]
    quantile = float(scipy.stats.t.ppf(0.5 + level / 2.0, dof))
    eta, zeta = float(coefficients[0]), float(coefficients[1])
    total = float(np.sum((response - response.mean()) ** 2))
    variance_x = float(np.var(complete[:, 0]))
    sigma_q = math.sqrt(2.0 * eta * zeta * variance_x) if eta < 0 and zeta < 0 else math.nan
    return GLLAFit(
        eta=eta,
        zeta=zeta,
        sigma_q=sigma_q,
        eta_se=float(standard_errors[0]),
        zeta_se=float(standard_errors[1]),
        eta_lo=eta - quantile * standard_errors[0],
        eta_hi=eta + quantile * standard_errors[0],
        zeta_lo=zeta - quantile * standard_errors[1],
        zeta_hi=zeta + quantile * standard_errors[1],
        r_squared=1.0 - float(residuals @ residuals) / total if total > 0 else math.nan,
        n_windows=int(complete.shape[0]),
    )
