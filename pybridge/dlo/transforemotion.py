"""A number-for-number port of transforEmotion's ``simulate_video()``.

This reproduces the emotion-video simulator of the R package transforEmotion
(``R/dlo.R``, version 0.1.7), so that data simulated in Python can be compared with
data simulated in R, and published simulation designs can be rerun. **It is not a
damped linear oscillator simulator**: its step rule is

* ``level[i] = level[i-1] + velocity[i-1] * dt``
* ``velocity[i] = (eta * level[i-1] + zeta * velocity[i-1] + q[i]) * dt``

which *replaces* the velocity by ``acceleration * dt`` instead of adding it, so the
process is not a discretisation of the DLO and its ``eta``/``zeta`` are not DLO
parameters (the help-page example even uses positive values). The three latent
series (neutral, negative, positive) are clipped at 0 and renormalised to sum to 1
at every step. For DLO data use :func:`pybridge.dlo.simulate_dlo`.

Every random number is taken from a *draw source* (:class:`GeneratorDraws` by
default), which supplies standard normal and uniform variates in the order R's
``rnorm``/``runif`` calls consume them. :class:`RecordedDraws` replays variates
recorded from R, which makes the output identical to R's to the last bit: R adds in
80-bit long double in ``mean()``, ``sum()`` and ``colSums()``, and these sums are
done here with :class:`numpy.longdouble` in the same order.

R behaviours kept on purpose (they define the package's output): loadings are
divided by the column sums alternately by row parity (R recycling), measurement-error
draws are assigned to observables in decreasing order of their variance (eigen order
in ``MASS::mvrnorm``), the emphasis spikes use a quantile threshold for negative and
a fixed 0.2 threshold for positive emotions, and a NaN in the latent series spreads
to whole rows of observables. Inputs on which R fails with an obscure message fail
here with a typed error that explains it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..errors import InvalidInputError
from ..validation import check_integer
from .simulate import as_generator

__all__ = [
    "StandardDraws",
    "GeneratorDraws",
    "RecordedDraws",
    "simulate_video",
    "dlo_dynamics",
    "calculate_moving_average",
    "generate_q",
    "mvrnorm_diagonal",
    "generate_observables",
    "emphasize",
    "r_quantile7",
]

# Initial state of every simulated video in transforEmotion (levels, velocities).
_INITIAL_LEVELS = (0.5, 0.25, 0.25)
_INITIAL_VELOCITIES = (4.0, 2.0, 2.0)
_LATENT_COLUMNS = ["Nt", "dNt", "Ng", "dNg", "Ps", "dPs"]
# The first rows never get a spike; transforEmotion hard-codes this.
_EMPHASIS_FIRST_ROW = 20
_POSITIVE_EMPHASIS_THRESHOLD = 0.2
_WINDOW_ERROR = "only 0's may be mixed with negative subscripts"
_QUANTILE_NAN_ERROR = "missing values and NaN's not allowed if 'na.rm' is FALSE"


class StandardDraws(Protocol):
    """Source of standard random variates, consumed in R's call order.

    ``role`` names what the draw is for (``"q"``, ``"loading_noise_neg"``, ...; see
    :func:`simulate_video`), so a replaying source can check it is in step.
    """

    def normal(self, n: int, role: str) -> np.ndarray:
        """``n`` standard normal variates.

        Parameters
        ----------
        n : int
            Number of variates.
        role : str
            What the draw is for, in the simulator's call order.

        Returns
        -------
        numpy.ndarray of float64, shape (n,)

        Raises
        ------
        InvalidInputError
            A replaying source whose next record does not match ``n`` or ``role``.

        Examples
        --------
        >>> GeneratorDraws(1).normal(2, "q").shape
        (2,)
        """

    def uniform(self, n: int, role: str) -> np.ndarray:
        """``n`` uniform variates on [0, 1); parameters, errors as :meth:`normal`.

        Returns
        -------
        numpy.ndarray of float64, shape (n,)

        Examples
        --------
        >>> bool((GeneratorDraws(1).uniform(4, "emph_neg_trigger") < 1).all())
        True
        """


class GeneratorDraws:
    """Draw source backed by :class:`numpy.random.Generator` (the default).

    Parameters
    ----------
    seed : None, int or numpy.random.Generator
        Randomness source.

    Examples
    --------
    >>> GeneratorDraws(1).normal(3, "q").shape
    (3,)
    """

    def __init__(self, seed: Any = None) -> None:
        self._rng = as_generator(seed)

    def normal(self, n: int, role: str) -> np.ndarray:
        """See :meth:`StandardDraws.normal` (``role`` is not needed here)."""
        return self._rng.standard_normal(n)

    def uniform(self, n: int, role: str) -> np.ndarray:
        """See :meth:`StandardDraws.uniform` (``role`` is not needed here)."""
        return self._rng.random(n)


class RecordedDraws:
    """Draw source that replays recorded standard variates in order.

    Parameters
    ----------
    records : iterable of mappings
        One mapping per R call, in call order, with keys ``fn`` (``"rnorm"`` or
        ``"runif"``) and ``standard`` (the N(0, 1) or U(0, 1) variates R used), and
        optionally ``role`` and ``n``, which are checked when present. The
        ``draws`` list of a case in the transforEmotion fixtures has this form.

    Raises
    ------
    InvalidInputError
        When a request does not match the next record (kind, role or size) or the
        records are used up.

    Examples
    --------
    >>> draws = RecordedDraws([{"fn": "runif", "standard": [0.25]}])
    >>> draws.uniform(1, "emph_neg_trigger")
    array([0.25])
    >>> draws.remaining
    0
    """

    _KINDS = {"normal": "rnorm", "uniform": "runif"}

    def __init__(self, records: Iterable[Mapping[str, Any]]) -> None:
        self._records = list(records)
        self._position = 0

    @property
    def remaining(self) -> int:
        """Number of records not used yet."""
        return len(self._records) - self._position

    def _next(self, kind: str, n: int, role: str) -> np.ndarray:
        if self._position >= len(self._records):
            raise InvalidInputError(
                f"recorded draws are used up: {self._KINDS[kind]}({n}) for {role!r} has no "
                "record left; the records do not belong to this call"
            )
        record = self._records[self._position]
        try:
            recorded_fn = record["fn"]
            standard = np.asarray(record["standard"], dtype=float).reshape(-1)
            expected_role = record.get("role", role)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise InvalidInputError(
                f"draw {self._position + 1} is not a record with keys 'fn' and 'standard' "
                f"(numeric variates): {err!r}; pass the 'draws' list of a fixture case"
            ) from None
        if recorded_fn != self._KINDS[kind] or standard.size != n or expected_role != role:
            raise InvalidInputError(
                f"draw {self._position + 1} is {recorded_fn}({standard.size}) for "
                f"{expected_role!r}, but the simulator asks for {self._KINDS[kind]}({n}) for "
                f"{role!r}; the records do not belong to this call"
            )
        self._position += 1
        return standard

    def normal(self, n: int, role: str) -> np.ndarray:
        """See :meth:`StandardDraws.normal`; raises when out of step with the records."""
        return self._next("normal", n, role)

    def uniform(self, n: int, role: str) -> np.ndarray:
        """See :meth:`StandardDraws.uniform`; raises when out of step with the records."""
        return self._next("uniform", n, role)


def _draw_source(draws: StandardDraws | None, seed: Any) -> StandardDraws:
    if draws is not None and seed is not None:
        raise InvalidInputError("pass either seed or draws, not both")
    return draws if draws is not None else GeneratorDraws(seed)


def _runif(draws: StandardDraws, n: int, low: float, high: float, role: str) -> np.ndarray:
    # R: min + (max - min) * u, in double
    return low + (high - low) * draws.uniform(n, role)


def _r_sum(values: np.ndarray) -> float:
    """R's ``sum()`` of doubles: sequential long-double accumulation."""
    return float(np.cumsum(np.asarray(values, dtype=np.longdouble))[-1])


def _r_mean(values: np.ndarray) -> float:
    """R's ``mean()`` of doubles: long-double sum / n, plus a residual correction pass."""
    extended = np.asarray(values, dtype=np.longdouble)
    count = extended.size
    mean = np.cumsum(extended)[-1] / count
    if np.isfinite(mean):
        mean = mean + np.cumsum(extended - mean)[-1] / count
    return float(mean)


def r_quantile7(values: Any, prob: float) -> float:
    """R's ``quantile(x, prob)`` with the default type 7, exactly as R computes it.

    Parameters
    ----------
    values : array_like
        Finite numbers.
    prob : float
        Probability in [0, 1].

    Returns
    -------
    float

    Raises
    ------
    InvalidInputError
        If ``values`` contains NaN (R: "missing values and NaN's not allowed if
        'na.rm' is FALSE").

    Examples
    --------
    >>> r_quantile7([1.0, 2.0, 3.0, 4.0, 5.0], 0.8)
    4.2
    """
    array = np.sort(np.asarray(values, dtype=float))
    if np.any(np.isnan(array)):
        raise InvalidInputError(f"quantile of a series with NaN; R fails with '{_QUANTILE_NAN_ERROR}'")
    index = 1.0 + max(array.size - 1, 0) * prob
    low, high = int(np.floor(index)), int(np.ceil(index))
    result = array[low - 1]
    if index > low and array[high - 1] != result:
        weight = index - low
        result = (1.0 - weight) * result + weight * array[high - 1]
    return float(result)


def dlo_dynamics(x: float, dxdt: float, q: float, dt: float, eta: float, zeta: float) -> tuple[float, float]:
    """transforEmotion's ``dlo_dynamics()``: velocity and acceleration of one series.

    Parameters
    ----------
    x, dxdt : float
        Current level and velocity.
    q : float
        Random shock of this step.
    dt : float
        Step length (unused, as in R).
    eta, zeta : float
        Frequency and damping coefficients.

    Returns
    -------
    tuple of float
        ``(dxdt, eta * x + zeta * dxdt + q)``.

    Examples
    --------
    >>> dlo_dynamics(0.25, 2.0, 0.05, 0.01, 0.5, 0.5)
    (2.0, 1.175)
    """
    return dxdt, eta * x + zeta * dxdt + q


def _check_window(n_points: int, window_size: int) -> None:
    if n_points < 2 * window_size - 1:
        raise InvalidInputError(
            f"a moving average with window_size={window_size} needs at least "
            f"{2 * window_size - 1} time points (2 * window_size - 1), got {n_points}; "
            f"use a smaller window_size or more steps (transforEmotion stops here with "
            f"'{_WINDOW_ERROR}')"
        )


def calculate_moving_average(data: Any, window_size: int) -> np.ndarray:
    """transforEmotion's ``calculate_moving_average()``.

    ``ma[i]`` is the mean of ``data[i - w + 1 .. i + w - 1]`` (1-based, ``w =
    window_size``), a centred window of ``2w - 1`` points cut off at the edges;
    ``w = 1`` returns the data.

    Parameters
    ----------
    data : array_like
        1-D series.
    window_size : int
        Half-width plus one, >= 1.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    InvalidInputError
        If ``window_size < 1`` or the series has fewer than ``2 * window_size - 1``
        points (where R fails with "only 0's may be mixed with negative subscripts").

    Examples
    --------
    >>> calculate_moving_average([1.0, 4.0, 9.0, 16.0], 2)
    array([ 2.5       ,  4.66666667,  9.66666667, 12.5       ])
    """
    series = np.asarray(data, dtype=float).reshape(-1)
    window = check_integer(window_size, "window_size", 1, whole_floats=True)
    _check_window(series.size, window)
    n_points = series.size
    smoothed = np.empty(n_points)
    for i in range(n_points):
        smoothed[i] = _r_mean(series[max(0, i - window + 1) : min(n_points, i + window)])
    return smoothed


def generate_q(num_steps: int, sigma_q: float, draws: StandardDraws | None = None, seed: Any = None) -> np.ndarray:
    """transforEmotion's ``generate_q()``: the shocks of the three latent series.

    Parameters
    ----------
    num_steps : int
        Number of rows.
    sigma_q : float
        Standard deviation of the shocks.
    draws : StandardDraws, optional
        Source of the ``3 * num_steps`` normal variates (role ``"q"``); filled
        column-major as R's ``matrix(..., ncol = 3)``.
    seed : None, int or numpy.random.Generator, optional
        Used when ``draws`` is not given.

    Returns
    -------
    numpy.ndarray
        Shape ``(num_steps, 3)``: neutral, negative, positive.

    Examples
    --------
    >>> generate_q(4, 0.3, seed=1).shape
    (4, 3)
    """
    num_steps = check_integer(num_steps, "num_steps", 1, whole_floats=True)
    source = _draw_source(draws, seed)
    values = 0.0 + sigma_q * source.normal(3 * num_steps, "q")
    return values.reshape(3, num_steps).T.copy()


def mvrnorm_diagonal(
    n: int, variances: Any, draws: StandardDraws | None = None, seed: Any = None, role: str = "mvrnorm"
) -> np.ndarray:
    """transforEmotion's ``MASS_mvrnorm(n, 0, diag(variances))``, for diagonal Sigma.

    For a diagonal covariance the eigenvectors are unit vectors, so the variates
    drawn for eigen-column ``c`` (in decreasing order of variance) feed the variable
    with the ``c``-th largest variance, scaled by its standard deviation.

    Parameters
    ----------
    n : int
        Number of draws (rows).
    variances : array_like
        Diagonal of Sigma, >= 0.
    draws : StandardDraws, optional
        Source of the ``n * len(variances)`` normal variates.
    seed : None, int or numpy.random.Generator, optional
        Used when ``draws`` is not given.
    role : str, default "mvrnorm"
        Name of the draw, for recorded sources.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, len(variances))``.

    Examples
    --------
    >>> mvrnorm_diagonal(3, [0.05, 0.07], seed=1).shape
    (3, 2)
    """
    var = np.asarray(variances, dtype=float).reshape(-1)
    if np.any(~np.isfinite(var)) or np.any(var < 0):
        raise InvalidInputError(f"variances must be finite and >= 0, got {variances!r}")
    source = _draw_source(draws, seed)
    n_vars = var.size
    standard = source.normal(n * n_vars, role).reshape(n_vars, n).T
    # eigen() orders eigenvalues decreasingly; a stable sort keeps ties in input order
    rank = np.empty(n_vars, dtype=int)
    rank[np.argsort(-var, kind="stable")] = np.arange(n_vars)
    return np.sqrt(var) * standard[:, rank]


def generate_observables(
    X: Any,
    num_steps: int,
    num_obs: int,
    error: float,
    loadings: float = 0.8,
    draws: StandardDraws | None = None,
    seed: Any = None,
) -> np.ndarray:
    """transforEmotion's ``generate_observables()``: emotion scores from two factors.

    Parameters
    ----------
    X : array_like
        ``(num_steps, 2)`` latent negative and positive levels.
    num_steps : int
        Number of rows.
    num_obs : int
        Observables per factor.
    error : float
        Measurement-error *variance* (before its random perturbation).
    loadings : float, default 0.8
        Loading before its random perturbation and rescaling.
    draws : StandardDraws, optional
        Source of the draws, roles ``loading_noise_neg``, ``loading_noise_pos``,
        ``loading_scale_noise``, ``error_variance_noise``, ``measurement_error``.
    seed : None, int or numpy.random.Generator, optional
        Used when ``draws`` is not given.

    Returns
    -------
    numpy.ndarray
        ``(num_steps, 2 * num_obs)``: negative observables then positive ones,
        clipped at 0 and halved.

    Examples
    --------
    >>> generate_observables([[0.2, 0.3]] * 5, 5, 2, 0.05, seed=1).shape
    (5, 4)
    """
    num_steps = check_integer(num_steps, "num_steps", 1, whole_floats=True)
    num_obs = check_integer(num_obs, "num_obs", 1, whole_floats=True)
    factors = np.asarray(X, dtype=float)
    if factors.shape != (num_steps, 2):
        raise InvalidInputError(f"X must have shape ({num_steps}, 2), got {factors.shape}")
    source = _draw_source(draws, seed)
    negative = loadings + _runif(source, num_obs, -0.15, 0.15, "loading_noise_neg")
    positive = loadings + _runif(source, num_obs, -0.15, 0.15, "loading_noise_pos")
    scale_noise = _runif(source, 1, -0.05, 0.05, "loading_scale_noise")[0]
    column_sums = np.array([_r_sum(negative), _r_sum(positive)])
    raw = np.concatenate([negative, positive])
    # R divides the 2k x 2 loading matrix by a length-2 vector, which recycles down
    # the rows: odd rows use the first column sum, even rows the second.
    denominators = (column_sums + scale_noise)[np.arange(2 * num_obs) % 2]
    scaled = raw / denominators * 2.0
    variances = error + _runif(source, 2 * num_obs, -0.01, 0.01, "error_variance_noise")
    noise = mvrnorm_diagonal(num_steps, variances, source, role="measurement_error")
    own = np.repeat([0, 1], num_obs)
    own_factor = factors[:, own]
    other_factor = factors[:, 1 - own]
    observed = (scaled * own_factor + 0.0 * other_factor) + noise
    observed[observed < 0] = 0.0
    return observed / 2.0


def emphasize(
    data: Any,
    num_observables: int,
    num_steps: int,
    k: int = 10,
    p: float = 0.5,
    draws: StandardDraws | None = None,
    seed: Any = None,
) -> np.ndarray:
    """transforEmotion's ``emphasize()``: spikes in the dominant emotion.

    Parameters
    ----------
    data : array_like or pandas.DataFrame
        ``(num_steps, 6 + 2 * num_observables)`` table of :func:`simulate_video`
        before emphasis.
    num_observables : int
        Observables per factor.
    num_steps : int
        Number of rows.
    k : int, default 10
        Length of a spike episode (``emph.dur``).
    p : float, default 0.5
        Probability that an eligible row starts an episode (``emph.prob``).
    draws : StandardDraws, optional
        Source of the uniform draws (roles ``emph_neg_trigger``, ``emph_neg_spike``,
        ``emph_pos_trigger``, ``emph_pos_spike``).
    seed : None, int or numpy.random.Generator, optional
        Used when ``draws`` is not given.

    Returns
    -------
    numpy.ndarray
        The table with spikes added to the observables, which are then smoothed
        with a window of 2.

    Raises
    ------
    InvalidInputError
        If ``dNg`` (column 4) contains NaN, where R fails in ``quantile()``, or the
        table is too short for the final smoothing.

    Examples
    --------
    >>> table = np.abs(np.random.default_rng(0).normal(size=(40, 10))) / 10
    >>> emphasize(table, 2, 40, k=3, seed=1).shape
    (40, 10)
    """
    table = np.array(data, dtype=float)
    n_obs = check_integer(num_observables, "num_observables", 1, whole_floats=True)
    k = check_integer(k, "k", 1, whole_floats=True)
    n_steps = check_integer(num_steps, "num_steps", 1, whole_floats=True)
    if table.shape != (n_steps, 6 + 2 * n_obs):
        raise InvalidInputError(f"data must have shape ({n_steps}, {6 + 2 * n_obs}), got {table.shape}")
    _check_window(n_steps, 2)
    source = _draw_source(draws, seed)
    velocity = table[:, 3]
    if np.any(np.isnan(velocity)):
        raise InvalidInputError(
            "emphasis needs the negative-emotion velocity dNg, which is NaN here (the "
            "latent levels collapsed to 0 and renormalisation divided by 0); use "
            "emph=False or other parameters (transforEmotion fails in quantile() with "
            f"'{_QUANTILE_NAN_ERROR}')"
        )
    branches = (
        (3, r_quantile7(velocity, 0.8), 6, (0.1, 0.25), "neg"),
        (5, _POSITIVE_EMPHASIS_THRESHOLD, 6 + n_obs, (0.0, 0.25), "pos"),
    )
    for velocity_column, threshold, first, (low, high), tag in branches:
        columns = slice(first, first + n_obs)
        for row in np.flatnonzero(table[:, velocity_column] > threshold):
            one_based = row + 1
            if not (_EMPHASIS_FIRST_ROW < one_based < n_steps - k):
                continue
            ratio = table[row, velocity_column] / 0.2
            if source.uniform(1, f"emph_{tag}_trigger")[0] < p:
                for offset in range(1, k + 1):
                    values = table[row + offset, columns]
                    total = _r_sum(values)
                    dominant = np.flatnonzero(values == values.max()) + first
                    spike = _runif(source, 1, low, high, f"emph_{tag}_spike")[0]
                    table[row + offset, dominant] += spike * total * ratio
    for column in range(6, 6 + 2 * n_obs):
        table[:, column] = calculate_moving_average(table[:, column], 2)
    return table


def simulate_video(
    dt: float,
    num_steps: int,
    num_observables: int,
    eta_n: float,
    zeta_n: float,
    eta: float,
    zeta: float,
    sigma_q: float,
    sd_observable: float,
    loadings: float,
    window_size: int,
    emph: bool = False,
    emph_dur: int = 10,
    emph_prob: float = 0.5,
    seed: Any = None,
    draws: StandardDraws | None = None,
) -> pd.DataFrame:
    """Simulate one "video" exactly as transforEmotion's ``simulate_video()`` does.

    This reproduces the R package (see the module docstring); it is **not** a DLO
    simulator, because its step overwrites the velocity. Use
    :func:`pybridge.dlo.simulate_dlo` for DLO data.

    Argument names follow R (``emph.dur`` and ``emph.prob`` become ``emph_dur`` and
    ``emph_prob``). Random variates are consumed in R's order: role ``q``
    (``3 * num_steps`` normals), ``loading_noise_neg`` and ``loading_noise_pos``
    (``num_observables`` uniforms each), ``loading_scale_noise`` (1 uniform),
    ``error_variance_noise`` (``2 * num_observables`` uniforms),
    ``measurement_error`` (``2 * num_observables * num_steps`` normals) and, with
    emphasis, one ``emph_*_trigger`` uniform per eligible row and one
    ``emph_*_spike`` uniform per spiked row.

    Parameters
    ----------
    dt : float
        Step length, > 0.
    num_steps : int
        Number of frames, >= 2 and >= ``2 * window_size - 1``.
    num_observables : int
        Observables per factor (negative, positive), >= 2 (R fails with 1).
    eta_n, zeta_n : float
        Coefficients of the neutral series.
    eta, zeta : float
        Coefficients of the negative and positive series. transforEmotion does not
        restrict their sign and neither does this port.
    sigma_q : float
        Standard deviation of the shocks.
    sd_observable : float
        Measurement-error **variance** (R's name says sd, its code uses a variance).
    loadings : float
        Loading before perturbation and rescaling (R's help page uses 0.8).
    window_size : int
        Moving-average window of the observables (see
        :func:`calculate_moving_average`).
    emph : bool, default False
        Add spikes to the dominant emotion (see :func:`emphasize`).
    emph_dur, emph_prob : int, float
        Spike episode length and probability.
    seed : None, int or numpy.random.Generator, optional
        Randomness source when ``draws`` is not given.
    draws : StandardDraws, optional
        Explicit source of every random variate, e.g. :class:`RecordedDraws` with
        variates recorded in R.

    Returns
    -------
    pandas.DataFrame
        ``num_steps`` rows; columns ``Nt dNt Ng dNg Ps dPs`` (neutral, negative and
        positive levels and velocities), then ``N1..Nk`` and ``P1..Pk``.

    Raises
    ------
    InvalidInputError
        If ``dt <= 0``, a count is not a whole number, the series is shorter than
        the smoothing window needs, or ``emph`` is requested on a simulation whose
        latent series became NaN.

    Examples
    --------
    >>> video = simulate_video(dt=0.01, num_steps=50, num_observables=4, eta_n=0.5,
    ...                        zeta_n=0.5, eta=0.5, zeta=0.5, sigma_q=0.1,
    ...                        sd_observable=0.1, loadings=0.8, window_size=10, seed=1)
    >>> video.shape
    (50, 14)
    """
    try:
        step = float(dt)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(f"dt must be a positive number, got {dt!r}") from err
    if not np.isfinite(step) or step <= 0:
        raise InvalidInputError(f"dt must be a positive finite number, got {dt!r}")
    n_steps = check_integer(num_steps, "num_steps", 2, whole_floats=True)
    n_obs = check_integer(num_observables, "num_observables", 2, whole_floats=True)
    window = check_integer(window_size, "window_size", 1, whole_floats=True)
    _check_window(n_steps, window)
    if emph:
        check_integer(emph_dur, "emph_dur", 1, whole_floats=True)
        _check_window(n_steps, 2)
    source = _draw_source(draws, seed)

    shocks = generate_q(n_steps, sigma_q, source)
    levels = np.empty((n_steps, 3))
    velocities = np.empty((n_steps, 3))
    levels[0], velocities[0] = _INITIAL_LEVELS, _INITIAL_VELOCITIES
    coefficients = ((eta_n, zeta_n), (eta, zeta), (eta, zeta))
    for i in range(1, n_steps):
        new_levels = [0.0, 0.0, 0.0]
        for series, (eta_s, zeta_s) in enumerate(coefficients):
            velocity, acceleration = dlo_dynamics(
                levels[i - 1, series],
                velocities[i - 1, series],
                shocks[i, series],
                step,
                eta_s,
                zeta_s,
            )
            new_levels[series] = levels[i - 1, series] + velocity * step
            velocities[i, series] = acceleration * step
        if np.isnan(new_levels[0]):
            new_levels = [0.0, 0.0, 0.0]
        else:
            new_levels = [0.0 if value < 0 else value for value in new_levels]
            total = new_levels[0] + new_levels[1] + new_levels[2]
            if total != 1:
                factor = 1.0 / total if total != 0 else np.inf
                new_levels = [value * factor for value in new_levels]
        levels[i] = new_levels

    observables = generate_observables(levels[:, 1:], n_steps, n_obs, sd_observable, loadings, source)
    smoothed = np.column_stack([calculate_moving_average(observables[:, c], window) for c in range(2 * n_obs)])
    table = np.column_stack(
        [levels[:, 0], velocities[:, 0], levels[:, 1], velocities[:, 1], levels[:, 2], velocities[:, 2], smoothed]
    )
    if emph:
        table = emphasize(table, n_obs, n_steps, emph_dur, emph_prob, source)
    columns = _LATENT_COLUMNS + [f"N{r}" for r in range(1, n_obs + 1)] + [f"P{r}" for r in range(1, n_obs + 1)]
    return pd.DataFrame(table, columns=columns)
