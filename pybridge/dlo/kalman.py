"""Exact Gaussian maximum likelihood for the DLO with a Kalman filter.

A series ``y[t] = mean + x[t] + e[t]`` with ``e[t] ~ N(0, meas_sd^2)`` and ``x`` a
damped linear oscillator sampled every ``dt`` is a linear Gaussian state-space model
whose transition is the exact discretisation of the SDE (see
:func:`pybridge.dlo.simulate.exact_discretization`). The Kalman filter gives its
exact log-likelihood, started from the stationary distribution. Missing values
(NaN) are handled by skipping the update step, which is exact for data missing at
random.

The mean is concentrated out: innovations are linear in it, so for every
``(eta, zeta, sigma_q, meas_sd)`` its maximum-likelihood value is a weighted least
squares solution obtained by filtering the series and a constant in the same pass.

The likelihood of slow, lightly damped series has a second optimum near
``eta -> 0`` (a random walk in the velocity), so the optimiser starts from an AR(2)
fit mapped to the continuous-time parameters and from a grid of periods and damping
ratios. Each candidate's measurement-noise share is chosen by a 1-D likelihood search
before the candidates are ranked (with the noise share fixed, smooth noisy series rank
rough overdamped candidates first and end in a poor local optimum); the best few
starts are optimised and the best optimum is kept. Standard errors come from the
numerical Hessian of the log-likelihood in log-parameters (delta method for the
natural ones).

The filter runs compiled with numba when it is installed and in plain Python
otherwise (same numbers, about 100 times slower).
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy.optimize
import scipy.stats

from ..errors import EstimationError, InvalidInputError
from ..validation import as_observed_series, check_dt
from .simulate import NEAR_CRITICAL, exact_discretization

__all__ = [
    "KalmanFit",
    "fit_dlo_kalman",
    "dlo_loglik",
    "MIN_OBSERVATIONS",
    "NUMBA_AVAILABLE",
]

MIN_OBSERVATIONS = 20
"""Fewest non-missing observations a series needs for estimation."""

_LOG_2PI = math.log(2.0 * math.pi)
# Search box in frame units (dt = 1) for a series scaled to unit variance, as log
# parameters: eta, zeta, sigma_q, meas_sd. Periods up to ~6000 frames, damping ratios
# from ~1e-3 and noise down to 1e-4 of the series' sd are inside.
_LOG_BOUNDS = (
    (math.log(1e-6), math.log(4.0 * math.pi**2)),
    (math.log(1e-5), math.log(50.0)),
    (math.log(1e-6), math.log(1e3)),
    (math.log(1e-4), math.log(2.0)),
)
_BOUND_TOLERANCE = 1e-3
# Central-difference gradient (in log-parameters) that counts as a stationary point.
_GRADIENT_STEP = 1e-5
_GRADIENT_TOLERANCE = 1e-3
_N_OPTIMISED_STARTS = 4
# Log-likelihood change below which a parameter's effect counts as nil.
_NEGLIGIBLE_LOGLIK = 1e-4
_GRID_PERIODS = (3.0, 6.0, 12.0, 25.0, 50.0, 100.0, 200.0)
# 1.0 is avoided: exactly critical damping takes the slow matrix-exponential path.
_GRID_RATIOS = (0.05, 0.2, 0.5, 1.2, 2.5)
# Measurement-noise share of the series' variance searched for each start (the
# bundled emotion scores have about 1-3 %).
_LOG_NOISE_SHARE_RANGE = (math.log(1e-4), math.log(0.9))


def _filter_sums(y, f11, f12, f21, f22, q11, q12, q22, p11, p12, p22, r2):
    """Kalman filter of ``y`` and of a constant 1, with shared gains.

    Returns ``(sum log S_t, sum e_y^2/S_t, sum e_y e_1/S_t, sum e_1^2/S_t, n_obs)``
    where ``e_y`` and ``e_1`` are the innovations of ``y`` and of the constant and
    ``S_t`` their variance; the log-likelihood for a mean ``mu`` follows from these.
    Written with scalars only so numba compiles the very same code.
    """
    my0 = 0.0
    my1 = 0.0
    mc0 = 0.0
    mc1 = 0.0
    sum_log = 0.0
    syy = 0.0
    syc = 0.0
    scc = 0.0
    n_obs = 0
    for t in range(y.shape[0]):
        if t > 0:
            a = f11 * my0 + f12 * my1
            my1 = f21 * my0 + f22 * my1
            my0 = a
            a = f11 * mc0 + f12 * mc1
            mc1 = f21 * mc0 + f22 * mc1
            mc0 = a
            # P <- F P F^T + Q, with FP = F P written out
            fp11 = f11 * p11 + f12 * p12
            fp12 = f11 * p12 + f12 * p22
            fp21 = f21 * p11 + f22 * p12
            fp22 = f21 * p12 + f22 * p22
            p11 = fp11 * f11 + fp12 * f12 + q11
            p12 = fp11 * f21 + fp12 * f22 + q12
            p22 = fp21 * f21 + fp22 * f22 + q22
        value = y[t]
        if value != value:  # NaN: no observation, keep the prediction
            continue
        s = p11 + r2
        if not s > 0.0:
            return math.inf, math.inf, 0.0, 1.0, n_obs
        e_y = value - my0
        e_c = 1.0 - mc0
        k0 = p11 / s
        k1 = p12 / s
        my0 += k0 * e_y
        my1 += k1 * e_y
        mc0 += k0 * e_c
        mc1 += k1 * e_c
        p22 = p22 - k1 * p12
        p12 = p12 - k0 * p12
        p11 = p11 - k0 * p11
        sum_log += math.log(s)
        syy += e_y * e_y / s
        syc += e_y * e_c / s
        scc += e_c * e_c / s
        n_obs += 1
    return sum_log, syy, syc, scc, n_obs


_filter_sums_fast: Callable[..., tuple[float, float, float, float, int]]
try:  # numba is optional: same code, compiled
    import numba

    _filter_sums_fast = numba.njit(cache=True, nogil=True)(_filter_sums)
    NUMBA_AVAILABLE = True
except ImportError:  # pragma: no cover - exercised only without numba
    _filter_sums_fast = _filter_sums
    NUMBA_AVAILABLE = False


def _exp_integral(rate: complex) -> complex:
    """Scalar ``(exp(rate) - 1) / rate``, by its Taylor series for small rates."""
    if abs(rate) < 0.1:
        total = 0j
        for k in range(16, 0, -1):
            total = 1.0 + total * rate / (k + 1)
        return total
    return (cmath.exp(rate) - 1.0) / rate


def _discretize_frame(eta: float, zeta: float, sigma: float) -> tuple[float, ...] | None:
    """Scalar ``F``, ``Q`` and stationary ``S`` for dt = 1: the likelihood's fast path.

    The same formulas as :func:`pybridge.dlo.simulate.exact_discretization` (closed
    -form ``F``, ``Q`` from the drift's eigenvalues), written with Python scalars
    because numpy's per-call overhead would dominate the compiled filter. Near
    critical damping it defers to ``exact_discretization``. Returns ``None`` when
    ``Q`` is not positive definite (degenerate parameters), which the likelihood
    turns into ``-inf``.
    """
    delta_sq = zeta * zeta / 4.0 + eta
    half_gap = cmath.sqrt(delta_sq)
    if abs(half_gap) < NEAR_CRITICAL:
        transition, noise = exact_discretization(eta, zeta, sigma, 1.0)
        (f11, f12), (f21, f22) = transition.tolist()
        q11, q12, q22 = float(noise[0, 0]), float(noise[0, 1]), float(noise[1, 1])
    else:
        if delta_sq > 0:
            root = math.sqrt(delta_sq)
            cosine, sine_over = math.cosh(root), math.sinh(root) / root
        else:
            root = math.sqrt(-delta_sq)
            cosine, sine_over = math.cos(root), math.sin(root) / root
        scale = math.exp(zeta / 2.0)
        f11 = scale * (cosine - zeta / 2.0 * sine_over)
        f12 = scale * sine_over
        f21 = scale * eta * sine_over
        f22 = scale * (cosine + zeta / 2.0 * sine_over)
        first, second = zeta / 2.0 + half_gap, zeta / 2.0 - half_gap
        i11 = _exp_integral(2.0 * first)
        i12 = _exp_integral(first + second)
        i22 = _exp_integral(2.0 * second)
        factor = sigma * sigma / (first - second) ** 2
        q11 = (factor * (i11 - 2.0 * i12 + i22)).real
        q12 = (factor * (first * i11 - (first + second) * i12 + second * i22)).real
        q22 = (factor * (first * first * i11 - 2.0 * first * second * i12 + second * second * i22)).real
    if not (q11 > 0 and q22 > 0 and q11 * q22 - q12 * q12 > 0):
        return None
    return f11, f12, f21, f22, q11, q12, q22, sigma * sigma / (2.0 * eta * zeta), 0.0, (-sigma * sigma / (2.0 * zeta))


def _profile_loglik(
    y: np.ndarray, eta: float, zeta: float, sigma: float, meas_sd: float, mean: float | None
) -> tuple[float, float]:
    """Log-likelihood at dt = 1 and the mean used (the ML mean when ``mean`` is None)."""
    matrices = _discretize_frame(eta, zeta, sigma)
    if matrices is None:
        return -math.inf, math.nan
    sum_log, syy, syc, scc, n_obs = _filter_sums_fast(y, *matrices, meas_sd * meas_sd)
    if not math.isfinite(sum_log):
        return -math.inf, math.nan
    if mean is None:
        mean = syc / scc
    quadratic = syy - 2.0 * mean * syc + mean * mean * scc
    return -0.5 * (n_obs * _LOG_2PI + sum_log + quadratic), mean


def dlo_loglik(
    y: Any,
    eta: float,
    zeta: float,
    sigma_q: float,
    dt: float = 1.0,
    meas_sd: float = 0.0,
    mean: float | None = None,
) -> float:
    """Exact Gaussian log-likelihood of a series under the DLO.

    Parameters
    ----------
    y : array_like
        1-D series; NaN marks a missing observation (skipped, not imputed).
    eta, zeta : float
        Negative frequency and damping parameters, per unit of ``dt``.
    sigma_q : float
        Noise intensity, > 0.
    dt : float, default 1.0
        Time between observations.
    meas_sd : float, default 0.0
        Measurement-noise standard deviation.
    mean : float, optional
        Equilibrium level; by default its maximum-likelihood value is used.

    Returns
    -------
    float
        The log-likelihood (``-inf`` for numerically degenerate parameters).

    Raises
    ------
    InvalidInputError
        If ``y`` is not 1-D numeric, ``dt <= 0`` or ``meas_sd < 0``.
    UnstableParametersError
        If ``eta >= 0`` or ``zeta >= 0``.

    Examples
    --------
    >>> from pybridge.dlo.simulate import simulate_dlo
    >>> y = simulate_dlo(-0.1, -0.1, 0.3, 300, seed=2).y[0]
    >>> dlo_loglik(y, -0.1, -0.1, 0.3) > dlo_loglik(y, -0.5, -0.1, 0.3)
    True
    """
    dt = check_dt(dt)
    exact_discretization(eta, zeta, sigma_q, dt)  # validates the parameters
    if not (sigma_q > 0):
        raise InvalidInputError(f"sigma_q must be > 0 for a likelihood, got {sigma_q!r}")
    if not (meas_sd >= 0):
        raise InvalidInputError(f"meas_sd must be >= 0, got {meas_sd!r}")
    array = np.asarray(y, dtype=float)
    if array.ndim != 1:
        raise InvalidInputError(f"y must be 1-D, got shape {array.shape}")
    # Time rescaling t -> t / dt maps the DLO to frame units exactly.
    loglik, _ = _profile_loglik(array, eta * dt * dt, zeta * dt, sigma_q * dt**1.5, meas_sd, mean)
    return float(loglik)


@dataclass
class KalmanFit:
    """Maximum-likelihood fit of a DLO to one series.

    Attributes
    ----------
    eta, zeta, sigma_q, meas_sd, mean : float
        Estimates (``eta``, ``zeta``, ``sigma_q`` per unit of ``dt``).
    eta_se, zeta_se, sigma_q_se, meas_sd_se : float
        Standard errors from the observed information (NaN where undefined, e.g. a
        measurement sd at its lower bound).
    eta_lo, eta_hi, zeta_lo, zeta_hi, sigma_q_lo, sigma_q_hi, meas_sd_lo, meas_sd_hi : float
        Wald intervals on the log scale (so they keep the parameters' signs) at
        ``level``.
    loglik : float
        Maximised log-likelihood.
    n_obs : int
        Non-missing observations used.
    converged : bool
        The optimiser reported success, the Hessian is positive definite and no
        dynamic parameter sits on the search box.
    message : str
        Optimiser message or the reason for ``converged = False``.
    """

    eta: float
    zeta: float
    sigma_q: float
    meas_sd: float
    mean: float
    eta_se: float
    zeta_se: float
    sigma_q_se: float
    meas_sd_se: float
    eta_lo: float
    eta_hi: float
    zeta_lo: float
    zeta_hi: float
    sigma_q_lo: float
    sigma_q_hi: float
    meas_sd_lo: float
    meas_sd_hi: float
    loglik: float
    n_obs: int
    converged: bool
    message: str = field(default="")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of all fields (for JSON and the R package).

        Returns
        -------
        dict
            One entry per attribute, as plain Python numbers, bools and strings.

        Examples
        --------
        >>> from pybridge.dlo.simulate import simulate_dlo
        >>> y = simulate_dlo(-0.2, -0.2, 1.0, n_steps=300, seed=1).y[0]
        >>> fit_dlo_kalman(y).to_dict()["n_obs"]
        300
        """
        return asdict(self)


def _ar2_start(y: np.ndarray) -> tuple[float, float] | None:
    """Map an AR(2) least-squares fit to (eta, zeta) in frame units, if it allows.

    A sampled DLO has AR roots ``exp(lambda)`` where ``lambda`` are the eigenvalues of
    the drift, so ``eta = -lambda1 lambda2`` and ``zeta = lambda1 + lambda2``.
    """
    lag0, lag1, lag2 = y[2:], y[1:-1], y[:-2]
    usable = ~(np.isnan(lag0) | np.isnan(lag1) | np.isnan(lag2))
    if usable.sum() < 10:
        return None
    design = np.column_stack([lag1[usable], lag2[usable]])
    try:
        (a1, a2), *_ = np.linalg.lstsq(design, lag0[usable], rcond=None)
    except np.linalg.LinAlgError:
        return None
    roots = np.roots([1.0, -a1, -a2]).astype(complex)
    if np.any(np.abs(roots) >= 1.0) or np.any(np.abs(roots) == 0):
        return None
    if np.all(np.abs(roots.imag) < 1e-12) and np.any(roots.real <= 0):
        return None  # a negative real root has no continuous-time counterpart
    rates = np.log(roots)
    eta = -float(np.real(rates[0] * rates[1]))
    zeta = float(np.real(rates[0] + rates[1]))
    if not (eta < 0 and zeta < 0):
        return None
    return eta, zeta


def _start_theta(eta: float, zeta: float, noise_share: float) -> np.ndarray:
    """Log parameters of a unit-variance series with ``noise_share`` of measurement noise.

    ``sigma_q`` is set so that the oscillator's stationary variance is the rest of the
    series' variance.
    """
    sigma = math.sqrt(2.0 * eta * zeta * max(1.0 - noise_share, 0.05))
    meas = math.sqrt(max(noise_share, math.exp(2.0 * _LOG_BOUNDS[3][0])))
    lower, upper = np.array(_LOG_BOUNDS).T
    return np.clip(np.log([-eta, -zeta, sigma, meas]), lower + 1e-6, upper - 1e-6)


def _starts(y: np.ndarray, fixed_meas: float | None) -> list[tuple[float, np.ndarray]]:
    """Candidate starting points for a unit-variance series, with their objective.

    Candidates are the AR(2) mapping and a grid of periods and damping ratios. The
    noise split matters as much as ``(eta, zeta)``: with too little measurement noise
    a smooth oscillation has to explain sampling noise by a large ``sigma_q``, so
    rough, overdamped candidates look best and the optimiser stays in their local
    optimum (an OU process with negligible measurement noise). Each candidate's
    measurement-noise share is therefore chosen by a short 1-D search of the
    likelihood before candidates are ranked. Returns ``(objective, theta)`` pairs,
    best first.
    """
    candidates: list[tuple[float, float]] = []
    ar2 = _ar2_start(y)
    if ar2 is not None:
        candidates.append(ar2)
    for period in _GRID_PERIODS:
        omega = 2.0 * math.pi / period
        candidates += [(-(omega**2), -2.0 * ratio * omega) for ratio in _GRID_RATIOS]
    scored = []
    for eta, zeta in candidates:
        if fixed_meas is not None:
            theta = _start_theta(eta, zeta, min(fixed_meas**2, 1.0))[:3]
            scored.append((_negloglik(theta, y, fixed_meas), theta))
            continue

        def objective_of_share(log_share: float, eta=eta, zeta=zeta) -> float:
            return _negloglik(_start_theta(eta, zeta, math.exp(log_share)), y, None)

        search = scipy.optimize.minimize_scalar(
            objective_of_share,
            bounds=_LOG_NOISE_SHARE_RANGE,
            method="bounded",
            options={"xatol": 0.05},
        )
        scored.append((float(search.fun), _start_theta(eta, zeta, math.exp(search.x))))
    scored.sort(key=lambda pair: pair[0])
    return scored


def _negloglik(theta: np.ndarray, y: np.ndarray, fixed_meas: float | None) -> float:
    eta, zeta, sigma = -math.exp(theta[0]), -math.exp(theta[1]), math.exp(theta[2])
    meas = fixed_meas if fixed_meas is not None else math.exp(theta[3])
    loglik, _ = _profile_loglik(y, eta, zeta, sigma, meas, None)
    return -loglik if math.isfinite(loglik) else 1e300


def _hessian(function, point: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian."""
    size = point.size
    hessian = np.empty((size, size))
    centre = function(point)
    for i in range(size):
        e_i = np.zeros(size)
        e_i[i] = step
        hessian[i, i] = (function(point + e_i) - 2.0 * centre + function(point - e_i)) / step**2
        for j in range(i):
            e_j = np.zeros(size)
            e_j[j] = step
            value = (
                function(point + e_i + e_j)
                - function(point + e_i - e_j)
                - function(point - e_i + e_j)
                + function(point - e_i - e_j)
            ) / (4.0 * step**2)
            hessian[i, j] = hessian[j, i] = value
    return hessian


def fit_dlo_kalman(y: Any, dt: float = 1.0, meas_sd: float | None = None, level: float = 0.9) -> KalmanFit:
    """Fit a DLO to one series by exact Gaussian maximum likelihood.

    Parameters
    ----------
    y : array_like
        1-D series sampled every ``dt``; NaN marks missing observations (the filter
        skips their update). At least :data:`MIN_OBSERVATIONS` must be present.
    dt : float, default 1.0
        Time between observations; the estimates are per unit of this time.
    meas_sd : float, optional
        Fix the measurement-noise sd (0 for none) instead of estimating it.
    level : float, default 0.9
        Coverage of the reported intervals.

    Returns
    -------
    KalmanFit
        Estimates, standard errors, intervals, log-likelihood and convergence flag.

    Raises
    ------
    SeriesTooShortError
        If fewer than :data:`MIN_OBSERVATIONS` values are present (all-NaN included).
    InvalidInputError
        If the series is constant, not 1-D, contains infinities, ``dt <= 0``,
        ``meas_sd < 0`` or ``level`` is outside ``(0, 1)``.
    EstimationError
        If no starting point gives a finite likelihood.

    Examples
    --------
    >>> from pybridge.dlo.simulate import simulate_dlo
    >>> y = simulate_dlo(-0.1, -0.1, 0.3, 400, seed=3).y[0]
    >>> fit = fit_dlo_kalman(y)
    >>> fit.converged, -0.2 < fit.eta < -0.05
    (True, True)
    """
    dt = check_dt(dt)
    if not 0 < level < 1:
        raise InvalidInputError(f"level must be in (0, 1), got {level!r}")
    series = as_observed_series(y, MIN_OBSERVATIONS)
    observed = series[~np.isnan(series)]
    centre, spread = float(np.mean(observed)), float(np.std(observed))
    scaled = (series - centre) / spread
    fixed_meas = None
    if meas_sd is not None:
        if not (np.isfinite(meas_sd) and meas_sd >= 0):
            raise InvalidInputError(f"meas_sd must be None or a number >= 0, got {meas_sd!r}")
        fixed_meas = float(meas_sd) / spread
    n_free = 3 if fixed_meas is not None else 4
    bounds = list(_LOG_BOUNDS[:n_free])

    def objective(theta: np.ndarray) -> float:
        return _negloglik(theta, scaled, fixed_meas)

    best = None
    for start_value, start in _starts(scaled, fixed_meas)[:_N_OPTIMISED_STARTS]:
        if start_value >= 1e300:
            continue
        result = scipy.optimize.minimize(
            objective,
            start,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-7},
        )
        if best is None or result.fun < best.fun:
            best = result
    if best is None:
        raise EstimationError(
            "no starting point gives a finite DLO likelihood for this series; check it "
            "for extreme values or try the 'glla' method"
        )

    theta = best.x
    lower, upper = np.array(bounds).T
    if fixed_meas is None:
        # Without measurement noise the likelihood is flat in log(meas_sd) as it goes
        # to zero, so the optimiser stops anywhere near the lower bound and the
        # Hessian's sign there is rounding noise: a negligible noise sd is put on
        # the bound and treated as such.
        on_bound = theta.copy()
        on_bound[3] = lower[3]
        if objective(on_bound) <= best.fun + _NEGLIGIBLE_LOGLIK:
            theta = on_bound
    at_bound = (theta - lower < _BOUND_TOLERANCE) | (upper - theta < _BOUND_TOLERANCE)
    log_se = np.full(4, np.nan)
    free = ~at_bound
    message = str(best.message)
    hessian_ok = False
    stationary = bool(best.success)
    if free.any():

        def free_objective(sub: np.ndarray) -> float:
            full = theta.copy()
            full[free] = sub
            return objective(full)

        # L-BFGS-B can stop "ABNORMAL" at the optimum when finite-difference
        # gradients are at rounding level; a small central gradient settles it.
        steps = np.eye(int(free.sum())) * _GRADIENT_STEP
        gradient = [
            (free_objective(theta[free] + h) - free_objective(theta[free] - h)) / (2 * _GRADIENT_STEP) for h in steps
        ]
        stationary = stationary or bool(np.max(np.abs(gradient)) < _GRADIENT_TOLERANCE)
        hessian = _hessian(free_objective, theta[free])
        try:
            covariance = np.linalg.inv(hessian)
            variances = np.diag(covariance)
            hessian_ok = bool(np.all(np.isfinite(covariance)) and np.all(np.linalg.eigvalsh(hessian) > 0))
            log_se[np.flatnonzero(free)] = np.sqrt(np.where(variances > 0, variances, np.nan))
        except np.linalg.LinAlgError:
            hessian_ok = False
    dynamic_at_bound = bool(at_bound[:3].any())
    converged = stationary and hessian_ok and not dynamic_at_bound
    if dynamic_at_bound:
        names = np.array(["eta", "zeta", "sigma_q"])[at_bound[:3]]
        message = f"{', '.join(names)} at the edge of the search range; " + message
    elif not hessian_ok:
        message = "Hessian not positive definite; " + message
    elif not stationary:
        message = "not at a stationary point; " + message

    eta_f, zeta_f, sigma_f = -math.exp(theta[0]), -math.exp(theta[1]), math.exp(theta[2])
    meas_scaled = fixed_meas if fixed_meas is not None else math.exp(theta[3])
    loglik, mean_scaled = _profile_loglik(scaled, eta_f, zeta_f, sigma_f, meas_scaled, None)
    quantile = float(scipy.stats.norm.ppf(0.5 + level / 2.0))
    # frame units of the unit-variance series -> time units of the data
    unit = np.array([-1.0 / dt**2, -1.0 / dt, spread / dt**1.5, spread])
    magnitude = np.exp(theta) if fixed_meas is None else np.append(np.exp(theta), np.nan)
    estimates = unit * magnitude
    if meas_sd is not None:  # the same condition as fixed_meas is not None
        estimates[3] = float(meas_sd)
    padded_se = np.append(log_se[:n_free], np.full(4 - n_free, np.nan))
    ends = np.sort(
        np.stack([unit * magnitude * np.exp(-quantile * padded_se), unit * magnitude * np.exp(quantile * padded_se)]),
        axis=0,
    )
    standard_errors = np.abs(estimates) * padded_se
    return KalmanFit(
        eta=float(estimates[0]),
        zeta=float(estimates[1]),
        sigma_q=float(estimates[2]),
        meas_sd=float(estimates[3]),
        mean=centre + spread * mean_scaled,
        eta_se=float(standard_errors[0]),
        zeta_se=float(standard_errors[1]),
        sigma_q_se=float(standard_errors[2]),
        meas_sd_se=float(standard_errors[3]),
        eta_lo=float(ends[0, 0]),
        eta_hi=float(ends[1, 0]),
        zeta_lo=float(ends[0, 1]),
        zeta_hi=float(ends[1, 1]),
        sigma_q_lo=float(ends[0, 2]),
        sigma_q_hi=float(ends[1, 2]),
        meas_sd_lo=float(ends[0, 3]),
        meas_sd_hi=float(ends[1, 3]),
        # the likelihood of the data, not of the standardised series
        loglik=float(loglik - np.count_nonzero(~np.isnan(series)) * math.log(spread)),
        n_obs=int(np.count_nonzero(~np.isnan(series))),
        converged=converged,
        message=message,
    )
