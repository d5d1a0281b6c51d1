"""Exact simulation of the damped linear oscillator (DLO).

The DLO describes a latent emotion level ``x`` that is pulled back towards its
equilibrium and oscillates around it:

.. math::

    dx = v\\,dt, \\qquad dv = (\\eta x + \\zeta v)\\,dt + \\sigma_q\\,dW,

with ``eta < 0`` (squared natural frequency, with a minus sign), ``zeta < 0``
(damping) and ``sigma_q >= 0`` (intensity of the random shocks). Written for the state
``s = (x, v)`` this is the linear SDE ``ds = A s dt + b dW`` with
``A = [[0, 1], [eta, zeta]]`` and ``b = (0, sigma_q)``.

A linear SDE has an exact discrete-time form: over a step of length ``dt``,
``s[t+1] = F s[t] + w[t]`` with ``F = expm(A dt)`` and ``w[t] ~ N(0, Q)``. Simulating
with it has no step-size error, so the distribution of the simulated series does not
depend on ``dt`` (only the sampling grid does). The functions here compute ``F`` and
``Q`` in closed form, the stationary covariance, and convert between ``(eta, zeta)``
and the more readable (damped period, damping ratio).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg

from ..errors import InvalidInputError, UnstableParametersError
from ..validation import check_dt, check_integer

__all__ = [
    "DLOSimulation",
    "simulate_dlo",
    "stationary_covariance",
    "dlo_autocorrelation",
    "measurement_noise_share",
    "exact_discretization",
    "eta_zeta_to_period_damping",
    "period_damping_to_eta_zeta",
    "as_generator",
    "latent_to_scores",
]

# Below this value of (delta * dt)^2 the closed-form expm uses its Taylor series,
# because cosh/sinh(delta dt)/delta lose digits to cancellation near critical damping.
_SERIES_THRESHOLD = 1e-8
# Below this |l1 - l2| dt (near critical damping) the eigenvalue formula for Q cancels.
NEAR_CRITICAL = 1e-3
# Where Q / S falls below this on the diagonal, S - F S F^T has lost more than three
# digits to cancellation and Van Loan's method is the accurate one.
_CANCELLATION_LIMIT = 1e-3


def as_generator(seed: Any) -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` from a seed or an existing generator.

    Parameters
    ----------
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        ``None`` gives fresh OS entropy; a generator is returned unchanged.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    InvalidInputError
        If ``seed`` cannot seed a generator.

    Examples
    --------
    >>> int(as_generator(1).integers(10)) == int(as_generator(1).integers(10))
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(
            f"seed must be None, a non-negative integer or a numpy Generator, got {seed!r}"
        ) from err


def _check_parameters(eta: Any, zeta: Any, sigma_q: Any) -> tuple[np.ndarray, ...]:
    """Validate DLO parameters (broadcast together) and return them as float arrays."""
    arrays = []
    for name, value in (("eta", eta), ("zeta", zeta), ("sigma_q", sigma_q)):
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError) as err:
            raise InvalidInputError(f"{name} must be numeric, got {value!r}") from err
        if not np.all(np.isfinite(array)):
            raise InvalidInputError(f"{name} must be finite, got {value!r}")
        arrays.append(array)
    eta_a, zeta_a, sigma_a = arrays
    if np.any(eta_a >= 0) or np.any(zeta_a >= 0):
        raise UnstableParametersError(
            "the DLO is stable (returns to equilibrium) only for eta < 0 and zeta < 0; got "
            f"eta={eta!r}, zeta={zeta!r}. eta = -(2*pi/period)^2 sets the frequency and "
            "zeta = -2*damping_ratio*sqrt(-eta) the damping (see "
            "period_damping_to_eta_zeta)"
        )
    if np.any(sigma_a < 0):
        raise InvalidInputError(f"sigma_q must be >= 0, got {sigma_q!r}")
    try:
        return tuple(np.broadcast_arrays(eta_a, zeta_a, sigma_a))
    except ValueError as err:
        raise InvalidInputError("eta, zeta and sigma_q must be scalars or arrays of the same length") from err


def stationary_covariance(eta: Any, zeta: Any, sigma_q: Any) -> np.ndarray:
    """Stationary covariance of the state ``(x, v)`` of a stable DLO.

    It solves the Lyapunov equation ``A S + S A^T + b b^T = 0``, whose solution is
    diagonal: ``Var x = sigma_q^2 / (2 eta zeta)``, ``Var v = -sigma_q^2 / (2 zeta)``
    and ``Cov(x, v) = 0``. It does not depend on the sampling interval.

    Parameters
    ----------
    eta, zeta : float or array_like
        Negative frequency and damping parameters (broadcast together).
    sigma_q : float or array_like
        Non-negative noise intensity.

    Returns
    -------
    numpy.ndarray
        Shape ``broadcast_shape + (2, 2)``.

    Raises
    ------
    UnstableParametersError
        If ``eta >= 0`` or ``zeta >= 0`` (no stationary distribution).
    InvalidInputError
        If a value is not finite or ``sigma_q < 0``.

    Examples
    --------
    >>> stationary_covariance(-0.5, -0.5, 1.0)
    array([[2., 0.],
           [0., 1.]])
    """
    eta_a, zeta_a, sigma_a = _check_parameters(eta, zeta, sigma_q)
    cov = np.zeros(eta_a.shape + (2, 2))
    cov[..., 0, 0] = sigma_a**2 / (2.0 * eta_a * zeta_a)
    cov[..., 1, 1] = -(sigma_a**2) / (2.0 * zeta_a)
    return cov


def dlo_autocorrelation(
    eta: float, zeta: float, lags: np.ndarray, dt: float = 1.0, noise_share: float = 0.0
) -> np.ndarray:
    """Autocorrelation of a stationary DLO level at the given lags.

    Parameters
    ----------
    eta, zeta : float
        DLO parameters (both < 0), per unit of time.
    lags : array of int
        Lags in samples.
    dt : float, default 1.0
        Time between samples.
    noise_share : float, default 0.0
        Share of the observed variance that is measurement noise; it lowers every
        autocorrelation except lag 0 by the factor ``1 - noise_share``.

    Returns
    -------
    numpy.ndarray
        ``corr(x[t], x[t + lag])`` for each lag. It does not depend on ``sigma_q``.

    Raises
    ------
    UnstableParametersError
        ``eta`` or ``zeta`` is not negative (an :class:`InvalidInputError`).
    InvalidInputError
        ``dt`` is not positive.

    Notes
    -----
    For the drift ``A = [[0, 1], [eta, zeta]]`` the stationary covariance is
    ``P = diag(1 / (2 eta zeta), -1 / (2 zeta))`` up to the factor ``sigma_q^2``
    (:func:`stationary_covariance`) and the
    lag-``h`` covariance is ``expm(A h) P``; its top-left entry over ``P[0, 0]`` is the
    autocorrelation.

    Examples
    --------
    >>> np.round(dlo_autocorrelation(-1.0, -0.5, np.array([0, 1]), dt=0.25), 4)
    array([1.    , 0.9702])
    """
    if not (eta < 0 and zeta < 0):
        raise UnstableParametersError(
            f"the implied autocorrelation needs a stable oscillator (eta < 0, zeta < 0), got eta={eta}, zeta={zeta}"
        )
    if not dt > 0:
        raise InvalidInputError(f"dt must be positive, got {dt}")
    drift = np.array([[0.0, 1.0], [eta, zeta]])
    stationary = stationary_covariance(eta, zeta, 1.0)
    variance_x = stationary[0, 0]
    step = scipy.linalg.expm(drift * dt)
    lag_array = np.asarray(lags, dtype=int)
    out = np.empty(lag_array.shape, dtype=float)
    for index, lag in np.ndenumerate(lag_array):
        covariance = np.linalg.matrix_power(step, int(lag)) @ stationary
        out[index] = covariance[0, 0] / variance_x
    return np.where(lag_array == 0, 1.0, out * (1.0 - noise_share))


def measurement_noise_share(eta: float, zeta: float, sigma_q: float, meas_sd: float) -> float:
    """Share of the observed variance that is measurement noise, for a stationary DLO.

    Parameters
    ----------
    eta, zeta : float
        DLO parameters (both < 0).
    sigma_q : float
        Noise intensity of the latent level.
    meas_sd : float
        Standard deviation of the measurement noise.

    Returns
    -------
    float
        ``meas_sd^2 / (Var x + meas_sd^2)`` with ``Var x`` from
        :func:`stationary_covariance`.

    Raises
    ------
    UnstableParametersError
        ``eta`` or ``zeta`` is not negative.

    Examples
    --------
    >>> measurement_noise_share(-0.5, -0.5, 1.0, 1.0)
    0.3333333333333333
    """
    variance_x = float(stationary_covariance(eta, zeta, sigma_q)[0, 0])
    return meas_sd**2 / (variance_x + meas_sd**2)


def _transition_matrix(eta: np.ndarray, zeta: np.ndarray, dt: float) -> np.ndarray:
    """``expm(A dt)`` for ``A = [[0, 1], [eta, zeta]]`` in closed form (vectorised).

    For a 2x2 matrix with trace ``zeta`` and discriminant ``delta^2 = zeta^2/4 + eta``,
    ``expm(A h) = exp(zeta h / 2) * ((c - zeta/2 * s) I + s A)`` with
    ``c = cosh(delta h)`` and ``s = sinh(delta h) / delta`` (cos and sin for
    ``delta^2 < 0``, the oscillating case).
    """
    delta_sq = zeta**2 / 4.0 + eta
    arg_sq = delta_sq * dt**2
    root = np.sqrt(np.abs(delta_sq))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cosine = np.where(arg_sq > 0, np.cosh(root * dt), np.cos(root * dt))
        sine_over = np.where(arg_sq > 0, np.sinh(root * dt), np.sin(root * dt)) / root
    near = np.abs(arg_sq) <= _SERIES_THRESHOLD
    cosine = np.where(near, 1.0 + arg_sq / 2.0, cosine)
    sine_over = np.where(near, dt * (1.0 + arg_sq / 6.0), sine_over)
    scale = np.exp(zeta * dt / 2.0)
    transition = np.empty(eta.shape + (2, 2))
    transition[..., 0, 0] = scale * (cosine - zeta / 2.0 * sine_over)
    transition[..., 0, 1] = scale * sine_over
    transition[..., 1, 0] = scale * eta * sine_over
    transition[..., 1, 1] = scale * (cosine + zeta / 2.0 * sine_over)
    return transition


def _exp_integral(rate: Any) -> Any:
    """``integral_0^1 exp(rate u) du = (exp(rate) - 1) / rate`` (complex, vectorised).

    Its Taylor series is used for ``|rate| < 0.1``, where the quotient cancels.
    """
    rate = np.asarray(rate, dtype=complex)
    small = np.abs(rate) < 0.1
    series = np.zeros_like(rate)
    for k in range(16, 0, -1):  # Horner: sum_k rate^(k-1) / k!
        series = 1.0 + series * rate / (k + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        quotient = np.expm1(rate.real) * np.exp(1j * rate.imag) + (np.exp(1j * rate.imag) - 1.0)
        quotient = quotient / rate
    return np.where(small, series, quotient)


def _noise_covariance_eigen(
    eta: np.ndarray, zeta: np.ndarray, sigma: np.ndarray, dt: float
) -> tuple[np.ndarray, np.ndarray]:
    """``Q`` from the eigenvalues of the drift, and where it is reliable.

    With eigenvalues ``l1 != l2``, the second column of ``expm(A s)`` is
    ``(e1 - e2, l1 e1 - l2 e2) / (l1 - l2)`` with ``ei = exp(li s)``, so each entry of
    ``Q = sigma^2 integral_0^dt f f^T ds`` is a combination of
    ``integral exp((li + lj) s) ds``. Unlike ``S - F S F^T`` this keeps full precision
    for steps short against the dynamics, and unlike Van Loan's method for steps long
    against the fastest decay (stiff drifts). It loses digits only when
    ``(l1 - l2) dt`` is tiny (near critical damping): the second array marks where
    it is reliable.
    """
    half_gap = np.sqrt(np.asarray(zeta**2 / 4.0 + eta, dtype=complex))
    reliable = np.abs(half_gap) * dt >= NEAR_CRITICAL
    gap = np.where(reliable, 2.0 * half_gap, 1.0)
    first, second = zeta / 2.0 + gap / 2.0, zeta / 2.0 - gap / 2.0
    i11 = dt * _exp_integral(2.0 * first * dt)
    i12 = dt * _exp_integral((first + second) * dt)
    i22 = dt * _exp_integral(2.0 * second * dt)
    scale = sigma**2 / gap**2
    noise = np.empty(np.shape(eta) + (2, 2))
    noise[..., 0, 0] = (scale * (i11 - 2.0 * i12 + i22)).real
    noise[..., 0, 1] = noise[..., 1, 0] = (scale * (first * i11 - (first + second) * i12 + second * i22)).real
    noise[..., 1, 1] = (scale * (first**2 * i11 - 2.0 * first * second * i12 + second**2 * i22)).real
    return noise, reliable


def _van_loan(eta: np.ndarray, zeta: np.ndarray, sigma: np.ndarray, dt: float):
    """``F`` and ``Q`` from Van Loan's block matrix exponential (scipy)."""
    # expm([[-A, b b^T], [0, A^T]] dt) = [[., F^-1 Q], [0, F^T]]  (Van Loan, 1978)
    block = np.zeros(eta.shape + (4, 4))
    block[..., 0, 1] = -1.0
    block[..., 1, 0] = -eta
    block[..., 1, 1] = -zeta
    block[..., 1, 3] = sigma**2
    block[..., 2, 3] = eta
    block[..., 3, 2] = 1.0
    block[..., 3, 3] = zeta
    exponential = scipy.linalg.expm(block * dt)
    transition = np.swapaxes(exponential[..., 2:, 2:], -1, -2)
    return transition, transition @ exponential[..., :2, 2:]


def _accurate_noise_covariance(
    eta: np.ndarray, zeta: np.ndarray, sigma: np.ndarray, dt: float, transition: np.ndarray
) -> np.ndarray:
    """``Q`` accurate to about 1e-12 relative for any stable drift and step."""
    noise, reliable = _noise_covariance_eigen(eta, zeta, sigma, dt)
    if np.all(reliable):
        return noise
    # Near critical damping both eigenvalues are close, so the drift is not stiff
    # and S - F S F^T (or, where that cancels, Van Loan) is accurate.
    near = ~reliable
    stationary = stationary_covariance(eta[near], zeta[near], sigma[near])
    step = transition[near]
    fallback = stationary - step @ stationary @ np.swapaxes(step, -1, -2)
    ratio = np.diagonal(fallback, axis1=-2, axis2=-1) / np.diagonal(stationary, axis1=-2, axis2=-1)
    cancelled = np.any(ratio < _CANCELLATION_LIMIT, axis=-1)
    if np.any(cancelled):
        fallback[cancelled] = _van_loan(eta[near][cancelled], zeta[near][cancelled], sigma[near][cancelled], dt)[1]
    noise[near] = fallback
    return noise


def exact_discretization(
    eta: Any, zeta: Any, sigma_q: Any, dt: float = 1.0, method: str = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """Exact discrete-time transition and process-noise covariance of the DLO.

    Over one step, ``(x, v)[t+1] = F (x, v)[t] + w[t]`` with ``w[t] ~ N(0, Q)``.

    Parameters
    ----------
    eta, zeta : float or array_like
        Negative frequency and damping parameters (broadcast with ``sigma_q``).
    sigma_q : float or array_like
        Non-negative noise intensity.
    dt : float, default 1.0
        Step length, > 0.
    method : {"auto", "closed_form", "van_loan"}, default "auto"
        ``F`` is always the closed-form 2x2 matrix exponential (except for
        ``"van_loan"``). ``"auto"``: ``Q`` integrated analytically from the drift's
        eigenvalues, accurate to about 1e-12 relative for any step; near critical
        damping ``S - F S F^T`` is used instead. ``"closed_form"``:
        ``Q = S - F S F^T`` with ``S`` the stationary covariance; exact in
        principle, but it loses digits to cancellation when the step is short
        against the dynamics (``Q << S``). ``"van_loan"``: ``F`` and ``Q`` from one
        matrix exponential of Van Loan's 4x4 block matrix (scipy); it loses digits
        when the step is long against the fastest decay, since it goes through
        ``expm(-A dt)``. The last two are kept as references.

    Returns
    -------
    transition : numpy.ndarray
        ``F``, shape ``broadcast_shape + (2, 2)``.
    noise_covariance : numpy.ndarray
        ``Q``, same shape, symmetric.

    Raises
    ------
    UnstableParametersError
        If ``eta >= 0`` or ``zeta >= 0``.
    InvalidInputError
        If ``dt <= 0``, a value is not finite, or ``method`` is unknown.

    Examples
    --------
    >>> F, Q = exact_discretization(-1.0, -0.5, 1.0, dt=0.1)
    >>> F.shape, bool(Q[0, 0] > 0)
    ((2, 2), True)
    """
    dt = check_dt(dt)
    eta_a, zeta_a, sigma_a = _check_parameters(eta, zeta, sigma_q)
    if method == "van_loan":
        transition, noise = _van_loan(eta_a, zeta_a, sigma_a, dt)
    elif method in ("auto", "closed_form"):
        transition = _transition_matrix(eta_a, zeta_a, dt)
        if method == "closed_form":
            stationary = stationary_covariance(eta_a, zeta_a, sigma_a)
            noise = stationary - transition @ stationary @ np.swapaxes(transition, -1, -2)
        else:
            noise = _accurate_noise_covariance(eta_a, zeta_a, sigma_a, dt, transition)
    else:
        raise InvalidInputError(f"method must be 'auto', 'closed_form' or 'van_loan', got {method!r}")
    noise = (noise + np.swapaxes(noise, -1, -2)) / 2.0
    return transition, noise


def eta_zeta_to_period_damping(eta: Any, zeta: Any, dt: float = 1.0) -> tuple[Any, Any]:
    """Convert ``(eta, zeta)`` to (damped period in frames, damping ratio).

    With natural angular frequency ``omega0 = sqrt(-eta)``, the damping ratio is
    ``-zeta / (2 omega0)`` and the damped period is ``2 pi / (omega0 sqrt(1 - ratio^2))``
    time units, i.e. that divided by ``dt`` frames. An over- or critically damped
    oscillator (ratio >= 1) does not oscillate: its period is ``inf``.

    Parameters
    ----------
    eta, zeta : float or array_like
        Negative frequency and damping parameters, in time units of ``dt``.
    dt : float, default 1.0
        Time between frames.

    Returns
    -------
    period_frames : float or numpy.ndarray
        Damped period, in frames.
    damping_ratio : float or numpy.ndarray
        Dimensionless; 0 is undamped, 1 is critical damping.

    Raises
    ------
    UnstableParametersError
        If ``eta >= 0`` or ``zeta >= 0``.
    InvalidInputError
        If ``dt <= 0``.

    Examples
    --------
    >>> eta, zeta = period_damping_to_eta_zeta(40.0, 0.2, dt=0.25)
    >>> [round(float(v), 10) for v in eta_zeta_to_period_damping(eta, zeta, dt=0.25)]
    [40.0, 0.2]
    """
    dt = check_dt(dt)
    eta_a, zeta_a, _ = _check_parameters(eta, zeta, 0.0)
    omega0 = np.sqrt(-eta_a)
    ratio = -zeta_a / (2.0 * omega0)
    with np.errstate(divide="ignore", invalid="ignore"):
        damped = omega0 * np.sqrt(np.clip(1.0 - ratio**2, 0.0, None))
        period = np.where(ratio < 1.0, 2.0 * np.pi / (damped * dt), np.inf)
    if period.ndim == 0:
        return float(period), float(ratio)
    return period, ratio


def period_damping_to_eta_zeta(period_frames: Any, damping_ratio: Any, dt: float = 1.0) -> tuple[Any, Any]:
    """Convert (damped period in frames, damping ratio) to ``(eta, zeta)``.

    The inverse of :func:`eta_zeta_to_period_damping` for oscillating
    (under-damped) oscillators.

    Parameters
    ----------
    period_frames : float or array_like
        Damped period in frames, > 0.
    damping_ratio : float or array_like
        In ``(0, 1)``.
    dt : float, default 1.0
        Time between frames; ``eta`` and ``zeta`` come out in the same time unit.

    Returns
    -------
    eta, zeta : float or numpy.ndarray
        ``eta = -omega0^2`` and ``zeta = -2 ratio omega0`` with
        ``omega0 = 2 pi / (period_frames dt sqrt(1 - ratio^2))``.

    Raises
    ------
    InvalidInputError
        If a period is not positive, a ratio is outside ``(0, 1)`` or ``dt <= 0``.

    Examples
    --------
    >>> eta, zeta = period_damping_to_eta_zeta(20.0, 0.1, dt=0.25)
    >>> round(eta, 4), round(zeta, 4)
    (-1.5951, -0.2526)
    """
    dt = check_dt(dt)
    period = np.asarray(period_frames, dtype=float)
    ratio = np.asarray(damping_ratio, dtype=float)
    if not np.all(np.isfinite(period) & (period > 0)):
        raise InvalidInputError(f"period_frames must be positive and finite, got {period_frames!r}")
    if not np.all((ratio > 0) & (ratio < 1)):
        raise InvalidInputError(f"damping_ratio must be in (0, 1) for an oscillating DLO, got {damping_ratio!r}")
    omega0 = 2.0 * np.pi / (period * dt * np.sqrt(1.0 - ratio**2))
    eta, zeta = -(omega0**2), -2.0 * ratio * omega0
    if eta.ndim == 0:
        return float(eta), float(zeta)
    return eta, zeta


def _per_series(value: Any, name: str, n_series: int, minimum: float | None = None) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(f"{name} must be numeric, got {value!r}") from err
    if array.ndim > 1 or (array.ndim == 1 and array.size not in (1, n_series)):
        raise InvalidInputError(
            f"{name} must be a scalar or have one value per series (n_series={n_series}), got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(f"{name} must be finite, got {value!r}")
    if minimum is not None and np.any(array < minimum):
        raise InvalidInputError(f"{name} must be >= {minimum}, got {value!r}")
    return np.broadcast_to(array.reshape(-1) if array.ndim else array, (n_series,)).copy()


@dataclass(frozen=True)
class DLOSimulation:
    """Series simulated by :func:`simulate_dlo`.

    Attributes
    ----------
    x, v : numpy.ndarray
        Latent level and velocity, shape ``(n_series, n_steps)``.
    y : numpy.ndarray
        Observed series ``x + meas_sd * noise``, shape ``(n_series, n_steps)``.
    eta, zeta, sigma_q, meas_sd : numpy.ndarray
        The parameters of each series, shape ``(n_series,)``.
    dt : float
        Time between samples.
    """

    x: np.ndarray
    v: np.ndarray
    y: np.ndarray
    eta: np.ndarray
    zeta: np.ndarray
    sigma_q: np.ndarray
    meas_sd: np.ndarray
    dt: float
    seed: Any = field(default=None, repr=False)

    @property
    def n_series(self) -> int:
        """Number of simulated series."""
        return self.x.shape[0]

    @property
    def n_steps(self) -> int:
        """Number of time points per series."""
        return self.x.shape[1]

    @property
    def time(self) -> np.ndarray:
        """Sampling times ``0, dt, 2 dt, ...``, shape ``(n_steps,)``."""
        return np.arange(self.n_steps) * self.dt

    def to_frame(self) -> pd.DataFrame:
        """Long (tidy) table: one row per series and time point.

        Returns
        -------
        pandas.DataFrame
            Columns ``series``, ``step``, ``time``, ``x``, ``v``, ``y``, ``eta``,
            ``zeta``, ``sigma_q``, ``meas_sd``.

        Examples
        --------
        >>> simulate_dlo(-0.2, -0.1, 1.0, n_steps=4, n_series=2, seed=1).to_frame().shape
        (8, 10)
        """
        n_series, n_steps = self.x.shape
        repeat = np.repeat(np.arange(n_series), n_steps)
        return pd.DataFrame(
            {
                "series": repeat,
                "step": np.tile(np.arange(n_steps), n_series),
                "time": np.tile(self.time, n_series),
                "x": self.x.reshape(-1),
                "v": self.v.reshape(-1),
                "y": self.y.reshape(-1),
                "eta": self.eta[repeat],
                "zeta": self.zeta[repeat],
                "sigma_q": self.sigma_q[repeat],
                "meas_sd": self.meas_sd[repeat],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-type view (lists of floats) for serialisation and the R package.

        Returns
        -------
        dict
            ``x``, ``v``, ``y`` as nested lists (series x time), the per-series
            parameters as lists, and ``dt``.

        Examples
        --------
        >>> sorted(simulate_dlo(-0.2, -0.1, 1.0, n_steps=3, seed=1).to_dict())
        ['dt', 'eta', 'meas_sd', 'sigma_q', 'v', 'x', 'y', 'zeta']
        """
        return {
            "x": self.x.tolist(),
            "v": self.v.tolist(),
            "y": self.y.tolist(),
            "eta": self.eta.tolist(),
            "zeta": self.zeta.tolist(),
            "sigma_q": self.sigma_q.tolist(),
            "meas_sd": self.meas_sd.tolist(),
            "dt": self.dt,
        }


def simulate_dlo(
    eta: Any,
    zeta: Any,
    sigma_q: Any,
    n_steps: int,
    dt: float = 1.0,
    n_series: int = 1,
    meas_sd: Any = 0.0,
    x0: Any = None,
    v0: Any = None,
    seed: Any = None,
) -> DLOSimulation:
    """Simulate damped linear oscillators exactly (no discretisation error).

    Each series follows ``dx = v dt``, ``dv = (eta x + zeta v) dt + sigma_q dW``,
    sampled every ``dt`` with the exact transition of the linear SDE (see
    :func:`exact_discretization`), and is observed as ``y = x + meas_sd * e`` with
    standard normal ``e``.

    Parameters
    ----------
    eta : float or array_like
        Frequency parameter, < 0 (``eta = -omega0^2``). A scalar or one value per series.
    zeta : float or array_like
        Damping parameter, < 0. A scalar or one value per series.
    sigma_q : float or array_like
        Noise intensity, >= 0. A scalar or one value per series.
    n_steps : int
        Number of time points per series, >= 1.
    dt : float, default 1.0
        Time between samples, > 0; the parameters are per unit of this time.
    n_series : int, default 1
        Number of independent series.
    meas_sd : float or array_like, default 0.0
        Standard deviation of the measurement noise added to ``x``.
    x0, v0 : float or array_like, optional
        Initial level and velocity. Missing ones are drawn from the stationary
        distribution; because ``x`` and ``v`` are uncorrelated there, drawing only
        one of them keeps the other's given value consistent.
    seed : None, int or numpy.random.Generator, optional
        Randomness source.

    Returns
    -------
    DLOSimulation
        Arrays ``x``, ``v``, ``y`` of shape ``(n_series, n_steps)`` and the parameters.

    Raises
    ------
    UnstableParametersError
        If any ``eta >= 0`` or ``zeta >= 0``.
    InvalidInputError
        If ``dt <= 0``, ``n_steps`` or ``n_series`` is not a positive integer, a
        parameter array does not have one value per series, or a value is not finite.

    Examples
    --------
    >>> sim = simulate_dlo(-0.1, -0.05, 0.3, n_steps=200, n_series=3, seed=1)
    >>> sim.y.shape
    (3, 200)
    >>> sim.to_frame().columns[:6].tolist()
    ['series', 'step', 'time', 'x', 'v', 'y']
    """
    n_steps = check_integer(n_steps, "n_steps")
    n_series = check_integer(n_series, "n_series")
    dt = check_dt(dt)
    _check_parameters(eta, zeta, sigma_q)
    eta_s = _per_series(eta, "eta", n_series)
    zeta_s = _per_series(zeta, "zeta", n_series)
    sigma_s = _per_series(sigma_q, "sigma_q", n_series, minimum=0.0)
    meas_s = _per_series(meas_sd, "meas_sd", n_series, minimum=0.0)
    rng = as_generator(seed)

    stationary = stationary_covariance(eta_s, zeta_s, sigma_s)
    start_x = (
        np.sqrt(stationary[:, 0, 0]) * rng.standard_normal(n_series) if x0 is None else _per_series(x0, "x0", n_series)
    )
    start_v = (
        np.sqrt(stationary[:, 1, 1]) * rng.standard_normal(n_series) if v0 is None else _per_series(v0, "v0", n_series)
    )

    # series usually share parameters: discretise each distinct set once
    distinct, inverse = np.unique(np.column_stack([eta_s, zeta_s, sigma_s]), axis=0, return_inverse=True)
    distinct_eta, distinct_zeta, distinct_sigma = distinct.T
    transition, noise_cov = exact_discretization(distinct_eta, distinct_zeta, distinct_sigma, dt)
    transition, noise_cov = transition[inverse.ravel()], noise_cov[inverse.ravel()]
    chol_xx = np.sqrt(np.clip(noise_cov[:, 0, 0], 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        chol_vx = np.where(chol_xx > 0, noise_cov[:, 0, 1] / chol_xx, 0.0)
    chol_vv = np.sqrt(np.clip(noise_cov[:, 1, 1] - chol_vx**2, 0.0, None))

    shocks = rng.standard_normal((2, n_steps - 1, n_series))
    x = np.empty((n_series, n_steps))
    v = np.empty((n_series, n_steps))
    x[:, 0], v[:, 0] = start_x, start_v
    f_xx, f_xv = transition[:, 0, 0], transition[:, 0, 1]
    f_vx, f_vv = transition[:, 1, 0], transition[:, 1, 1]
    for step in range(1, n_steps):
        previous_x, previous_v = x[:, step - 1], v[:, step - 1]
        z_x, z_v = shocks[0, step - 1], shocks[1, step - 1]
        x[:, step] = f_xx * previous_x + f_xv * previous_v + chol_xx * z_x
        v[:, step] = f_vx * previous_x + f_vv * previous_v + chol_vx * z_x + chol_vv * z_v
    y = x + meas_s[:, None] * rng.standard_normal((n_series, n_steps))
    return DLOSimulation(
        x=x,
        v=v,
        y=y,
        eta=eta_s,
        zeta=zeta_s,
        sigma_q=sigma_s,
        meas_sd=meas_s,
        dt=dt,
        seed=seed if not isinstance(seed, np.random.Generator) else None,
    )


def latent_to_scores(
    latent: Any,
    loadings: Any,
    intercepts: Any = 0.0,
    meas_sd: float = 0.0,
    softmax: bool = False,
    seed: Any = None,
) -> np.ndarray:
    """Measurement model: map latent oscillators to observed emotion scores.

    ``scores[t] = intercepts + loadings @ latent[:, t] + meas_sd * e[t]``, optionally
    passed through a softmax over the scores, so that they behave like zero-shot
    classifier probabilities (positive, summing to 1 at every time point).

    Parameters
    ----------
    latent : array_like
        ``(n_latent, n_steps)`` latent series, e.g. ``simulate_dlo(...).x``.
    loadings : array_like
        ``(n_scores, n_latent)`` loading matrix.
    intercepts : float or array_like, default 0.0
        One value or one per score (for the softmax: the log-odds baseline).
    meas_sd : float, default 0.0
        Standard deviation of independent normal noise added before the softmax.
    softmax : bool, default False
        Return softmax probabilities across scores.
    seed : None, int or numpy.random.Generator, optional
        Randomness source of the noise.

    Returns
    -------
    numpy.ndarray
        ``(n_steps, n_scores)``: one row per time point, like a video-scores table.

    Raises
    ------
    InvalidInputError
        If the shapes do not match, a value is not finite or ``meas_sd < 0``.

    Examples
    --------
    >>> sim = simulate_dlo(-0.1, -0.1, 0.3, 50, n_series=2, seed=1)
    >>> scores = latent_to_scores(sim.x, [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], softmax=True)
    >>> scores.shape, bool(np.allclose(scores.sum(axis=1), 1.0))
    ((50, 3), True)
    """
    factors = np.asarray(latent, dtype=float)
    weights = np.asarray(loadings, dtype=float)
    if factors.ndim != 2 or weights.ndim != 2 or weights.shape[1] != factors.shape[0]:
        raise InvalidInputError(
            f"loadings must be (n_scores, n_latent) for latent of shape (n_latent, n_steps); "
            f"got loadings {weights.shape} and latent {factors.shape}"
        )
    offsets = np.asarray(intercepts, dtype=float)
    if offsets.ndim > 1 or (offsets.ndim == 1 and offsets.size != weights.shape[0]):
        raise InvalidInputError(f"intercepts must be a scalar or have {weights.shape[0]} values, got {offsets.shape}")
    if not (np.all(np.isfinite(factors)) and np.all(np.isfinite(weights)) and np.all(np.isfinite(offsets))):
        raise InvalidInputError("latent, loadings and intercepts must be finite")
    if not (np.isfinite(meas_sd) and meas_sd >= 0):
        raise InvalidInputError(f"meas_sd must be >= 0, got {meas_sd!r}")
    scores = offsets + factors.T @ weights.T
    if meas_sd > 0:
        scores = scores + meas_sd * as_generator(seed).standard_normal(scores.shape)
    if softmax:
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores /= scores.sum(axis=1, keepdims=True)
    return scores
