"""Time-delay embedding and GLLA derivative estimates (EGAnet's ``Embed`` and ``glla``).

The weights (:func:`pybridge.glla_weights.glla_weights` with ``offsets="eganet"``) follow
EGAnet 2.5.0 exactly, including its time offsets ``t_i = tau * delta * i - (E + 1) / 2``
(the mean of ``1..E`` is not scaled by ``tau * delta``), so estimates equal EGAnet's
for every ``tau`` and ``delta``, not only for the textbook case ``tau * delta = 1``.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInputError, SeriesTooShortError
from ..glla_weights import glla_weights
from ..validation import as_float_array

__all__ = ["Embed", "glla", "glla_matrix", "NA_DERIVATIVE_MODES"]

NA_DERIVATIVE_MODES = ("none", "kalman", "rowwise", "skipover")


def _as_series(x, name: str = "x", ndim: int = 1) -> np.ndarray:
    values = as_float_array(x, name)
    shape_word = "one-dimensional" if ndim == 1 else "two-dimensional"
    if values.ndim != ndim:
        raise InvalidInputError(f"{name} must be {shape_word}, got shape {values.shape}")
    return values


def _check_embedding(n_obs: int, n_embed: int, tau: int) -> None:
    if int(n_embed) != n_embed or n_embed < 1:
        raise InvalidInputError(f"n_embed must be a positive integer, got {n_embed!r}")
    if int(tau) != tau or tau < 1:
        raise InvalidInputError(f"tau must be a positive integer, got {tau!r}")
    span = (int(n_embed) - 1) * int(tau) + 1
    if n_obs < span:
        raise SeriesTooShortError(
            f"a series of {n_obs} observations is too short for n_embed = {n_embed} and "
            f"tau = {tau}: it needs at least (n_embed - 1) * tau + 1 = {span}; lower n_embed "
            "or tau, or drop this series"
        )


def _window_index(n_obs: int, n_embed: int, tau: int) -> np.ndarray:
    """Row ``r``, column ``c`` holds ``r + c * tau``: indexing a series gives its windows."""
    n_rows = n_obs - (int(n_embed) - 1) * int(tau)
    return np.arange(n_rows)[:, None] + int(tau) * np.arange(int(n_embed))[None, :]


def _check_glla_arguments(n_obs, n_embed, tau, delta, order, na_derivative) -> None:
    if na_derivative not in NA_DERIVATIVE_MODES:
        raise InvalidInputError(f"na_derivative must be one of {', '.join(NA_DERIVATIVE_MODES)}; got {na_derivative!r}")
    if int(order) != order or order < 0:
        raise InvalidInputError(f"order must be a non-negative integer, got {order!r}")
    if not delta > 0:
        raise InvalidInputError(f"delta must be positive, got {delta!r}")
    if int(n_embed) == n_embed and n_embed < order + 1:
        raise InvalidInputError(
            f"n_embed = {n_embed} cannot identify derivatives up to order {order}; use n_embed >= {int(order) + 1}"
        )
    _check_embedding(n_obs, n_embed, tau)


def Embed(x, E: int, tau: int = 1) -> np.ndarray:  # noqa: N802 (EGAnet's name)
    """Time-delay embedding of a series.

    Parameters
    ----------
    x : array-like of float, shape (T,)
        The series.
    E : int
        Embedding dimension (window length), ``1 <= E``.
    tau : int, default 1
        Offset between successive members of a window.

    Returns
    -------
    numpy.ndarray, shape (T - (E - 1) * tau, E)
        Row ``r`` is the window starting at observation ``r``:
        ``X[r, c] = x[r + c * tau]``.

    Raises
    ------
    InvalidInputError
        ``x`` is not a numeric vector or ``E``/``tau`` is not a positive integer.
    SeriesTooShortError
        ``T < (E - 1) * tau + 1``.

    Examples
    --------
    >>> Embed(range(49, 57), E=5, tau=1)[0]
    array([49., 50., 51., 52., 53.])
    """
    values = _as_series(x)
    _check_embedding(values.size, E, tau)
    return values[_window_index(values.size, E, tau)]


def glla(
    x,
    n_embed: int,
    tau: int = 1,
    delta: float = 1,
    order: int = 2,
    na_derivative: str = "none",
) -> np.ndarray:
    """Generalized Local Linear Approximation of derivatives (EGAnet's ``glla``).

    Parameters
    ----------
    x : array-like of float, shape (T,)
        One series in time order; NaN marks a missing observation.
    n_embed : int
        Embedding dimension (window length, >= ``order + 1`` to be identified).
    tau : int, default 1
        Offset between successive members of a window.
    delta : float, default 1
        Time between successive observations.
    order : int, default 2
        Highest derivative order estimated.
    na_derivative : {"none", "kalman", "rowwise", "skipover"}, default "none"
        Missing-data rule, as EGAnet's ``na.derivative``:

        * ``"none"``: a window containing NaN gives a NaN row.
        * ``"kalman"``: NaNs are first imputed by the smoothed local-linear-trend state
          (statsmodels; approximates R's ``StructTS``, so not bit-identical to EGAnet).
        * ``"skipover"``: NaNs are dropped and the remaining values embedded as if
          contiguous; each estimate is stored at the row of the original time of its
          window's first observation (``T - n_embed + 1`` rows, ``tau`` ignored).
        * ``"rowwise"``: each window of observed values is fitted on its own time
          stamps centred on the window's midpoint, without the ``1/k!`` factor and
          ignoring ``delta`` (EGAnet's behaviour: its second-order column is half the
          regular one).

    Returns
    -------
    numpy.ndarray, shape (N, order + 1)
        Column ``k`` is ``DerivOrd<k>``; ``N = T - (n_embed - 1) * tau`` (for
        ``"skipover"``: ``T - n_embed + 1``).

    Raises
    ------
    InvalidInputError
        Non-numeric ``x``, bad ``n_embed``/``tau``/``order`` or unknown ``na_derivative``.
    SeriesTooShortError
        The series is shorter than one window.

    Examples
    --------
    >>> glla([1, 4, 9, 16, 25, 36, 49], n_embed=5)[0]
    array([9., 6., 2.])
    """
    values = _as_series(x)
    _check_glla_arguments(values.size, n_embed, tau, delta, order, na_derivative)
    missing = np.isnan(values)
    if na_derivative == "none" or not missing.any():
        return Embed(values, n_embed, tau) @ glla_weights(n_embed, delta, order, tau, offsets="eganet")
    if na_derivative == "kalman":
        return Embed(_kalman_impute(values), n_embed, tau) @ glla_weights(n_embed, delta, order, tau, offsets="eganet")
    if na_derivative == "skipover":
        return _glla_skipover(values, missing, int(n_embed), tau, delta, int(order))
    return _glla_rowwise(values, missing, int(n_embed), int(tau), int(order))


def glla_matrix(
    values,
    n_embed: int,
    tau: int = 1,
    delta: float = 1,
    order: int = 2,
    na_derivative: str = "none",
) -> np.ndarray:
    """:func:`glla` applied to every column of a matrix at once.

    Parameters
    ----------
    values : array-like, shape (T, p)
        One series per column, rows in time order.
    n_embed, tau, delta, order, na_derivative
        As in :func:`glla`.

    Returns
    -------
    numpy.ndarray, shape (N, p, order + 1)
        ``result[:, j, k]`` is ``glla(values[:, j], ...)[:, k]``.

    Raises
    ------
    InvalidInputError, SeriesTooShortError
        As :func:`glla`.

    Examples
    --------
    >>> glla_matrix(np.column_stack([np.arange(7.0) ** 2, np.arange(7.0)]), 5).shape
    (3, 2, 3)
    """
    matrix = _as_series(values, name="values", ndim=2)
    _check_glla_arguments(matrix.shape[0], n_embed, tau, delta, order, na_derivative)
    if na_derivative != "none" and np.isnan(matrix).any():
        return np.stack(
            [glla(column, n_embed, tau, delta, order, na_derivative) for column in matrix.T],
            axis=1,
        )
    # One embedding and one weight matrix serve every column: the common, fast path.
    windows = matrix[_window_index(matrix.shape[0], n_embed, tau)]  # (N, E, p)
    return np.einsum("nep,ek->npk", windows, glla_weights(n_embed, delta, order, tau, offsets="eganet"))


def _glla_skipover(values, missing, n_embed, tau, delta, order) -> np.ndarray:
    observed_times = np.flatnonzero(~missing)
    # EGAnet sizes the output as T - E + 1 whatever tau is.
    result = np.full((values.size - n_embed + 1, order + 1), np.nan)
    if observed_times.size < (n_embed - 1) * tau + 1:
        return result
    windows = Embed(values[observed_times], n_embed, tau)
    first_times = Embed(observed_times.astype(float), n_embed, tau)[:, 0].astype(int)
    estimates = windows @ glla_weights(n_embed, delta, order, tau, offsets="eganet")
    inside = first_times < result.shape[0]
    result[first_times[inside]] = estimates[inside]
    return result


def _glla_rowwise(values, missing, n_embed, tau, order) -> np.ndarray:
    observed_times = np.flatnonzero(~missing)
    result = np.full((values.size - (n_embed - 1) * tau, order + 1), np.nan)
    if observed_times.size < (n_embed - 1) * tau + 1:
        return result
    windows = Embed(values[observed_times], n_embed, tau)
    times = Embed(observed_times.astype(float), n_embed, tau)
    for window, stamps in zip(windows, times):
        first = int(stamps[0])
        if first >= result.shape[0]:
            continue
        centred = stamps - (stamps.min() + stamps.max()) / 2
        # EGAnet's rowwise design has no 1/k! factor (its order-2 column is half GLLA's).
        design = np.column_stack([centred**k for k in range(order + 1)])
        result[first] = window @ design @ np.linalg.inv(design.T @ design)
    return result


def _local_trend_filter(series: np.ndarray, variances: np.ndarray, smooth: bool):
    """Kalman filter (and RTS smoother) of the local linear trend model.

    State ``(level, slope)``; ``level_t+1 = level_t + slope_t + xi``,
    ``slope_t+1 = slope_t + zeta``, ``y_t = level_t + eps``; ``variances`` =
    ``(var xi, var zeta, var eps)``. NaN observations are skipped (prediction only).
    Returns the negative log-likelihood and, if ``smooth``, the smoothed levels.
    """
    transition = np.array([[1.0, 1.0], [0.0, 1.0]])
    state_noise = np.diag(variances[:2])
    observed_var = variances[2]
    n = series.size
    # StructTS's start: first observation, zero slope, a very vague covariance
    state = np.array([series[np.flatnonzero(~np.isnan(series))[0]], 0.0])
    covariance = np.eye(2) * 1e6 * np.nanvar(series)
    predicted_states = np.empty((n, 2))
    predicted_covs = np.empty((n, 2, 2))
    filtered_states = np.empty((n, 2))
    filtered_covs = np.empty((n, 2, 2))
    negative_loglik = 0.0
    for t in range(n):
        predicted_states[t], predicted_covs[t] = state, covariance
        if not np.isnan(series[t]):
            innovation = series[t] - state[0]
            variance = covariance[0, 0] + observed_var
            gain = covariance[:, 0] / variance
            state = state + gain * innovation
            covariance = covariance - np.outer(gain, covariance[0, :])
            if t > 0:  # the first observation only initialises the diffuse state
                negative_loglik += 0.5 * (np.log(variance) + innovation**2 / variance)
        filtered_states[t], filtered_covs[t] = state, covariance
        state = transition @ state
        covariance = transition @ covariance @ transition.T + state_noise
    if not smooth:
        return negative_loglik, None
    smoothed = filtered_states.copy()
    for t in range(n - 2, -1, -1):
        ahead = transition @ filtered_covs[t] @ transition.T + state_noise
        gain = filtered_covs[t] @ transition.T @ np.linalg.pinv(ahead)
        smoothed[t] = filtered_states[t] + gain @ (smoothed[t + 1] - transition @ filtered_states[t])
    return negative_loglik, smoothed[:, 0]


def _kalman_impute(values: np.ndarray) -> np.ndarray:
    """Fill NaNs with the smoothed level of a fitted local linear trend model.

    Approximates EGAnet's ``na.derivative = "kalman"`` (R's ``StructTS`` + Kalman
    smoothing): variances by maximum likelihood (L-BFGS-B, as R), then the smoothed
    level at the missing time points. R's optimiser path is not reproduced exactly.
    """
    from scipy.optimize import minimize

    series = values.copy()
    observed = np.flatnonzero(~np.isnan(series))
    if observed.size < 3:
        return series
    # EGAnet replaces a leading NA by the first observed value before fitting.
    if np.isnan(series[0]):
        series[0] = series[observed[0]]
    scale = np.nanvar(series) or 1.0

    def objective(log_variances):
        return _local_trend_filter(series, np.exp(log_variances) * scale, smooth=False)[0]

    try:
        fit = minimize(objective, np.log([0.1, 0.01, 0.1]), method="L-BFGS-B", bounds=[(-30.0, 5.0)] * 3)
        _, levels = _local_trend_filter(series, np.exp(fit.x) * scale, smooth=True)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        return series  # EGAnet returns the series untouched when the fit fails
    gaps = np.isnan(series)
    series[gaps] = levels[gaps]
    return series
