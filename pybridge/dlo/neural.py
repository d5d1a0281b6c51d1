"""Neural recovery of DLO parameters: a 1-D CNN followed by an LSTM.

The network reads one observed series and returns, for each of ``eta``, ``zeta``
and ``sigma_q``, a point estimate and a 90 % interval. It was trained on series
simulated with :func:`pybridge.dlo.simulate.simulate_dlo` (see
:mod:`pybridge.dlo.train`); the trained weights ship in ``pybridge/dlo/weights/``
together with a JSON file that records how they were made.

Design
------
*Units.* The network works in frames (time step 1). A series sampled every ``dt``
time units has frame parameters ``eta dt^2``, ``zeta dt`` and ``sigma_q dt^1.5``
(the SDE rescaled to unit steps), so the same weights serve every ``dt`` and the
API converts back to parameters per time unit exactly.

*Scale.* Each series is centred and divided by its standard deviation ``s`` before
it enters the network, and the ``sigma_q`` head predicts ``log(sigma_q dt^1.5 / s)``.
Adding ``log s`` back makes the estimate scale-equivariant: multiplying a series by
``c`` multiplies ``sigma_q`` (and its interval) by ``c`` and leaves ``eta`` and
``zeta`` unchanged. Nothing about the amplitude is thrown away.

*Inputs.* The CNN-LSTM reads the standardised series and its observed mask; the
heads also see summary statistics of the series (sample autocorrelations up to lag
64, the log mean squares of its differences of orders 1-4, the log residual
variances of least-squares autoregressions of orders 1-8 with the coefficients of
orders 2 and 4, and the log power of the tapered periodogram in 12 frequency bands),
which carry the second-order structure and roughness that identify the oscillator
and its noise. The statistics enter standardised by their means and sds under the
training prior (stored with the weights). A linear path from the statistics to the
points sits beside the heads: without measurement noise the autoregressions'
residual variance is nearly linear in the ``sigma_q`` target.

*Admissibility.* The heads predict ``log(-eta dt^2)``, ``log(-zeta dt)`` and the
log-ratio above, so ``eta < 0``, ``zeta < 0`` and ``sigma_q > 0`` by construction.
Each head returns a point (trained with squared error) and the 5 % and 95 %
quantiles (trained with the interval score, a proper scoring rule). The maps back to
the parameters are monotone, so quantiles map to quantiles.

*Missing values.* Leading and trailing NaNs are dropped. Interior gaps are filled by
linear interpolation and a second input channel tells the network which values were
observed; training included random gaps, so the intervals account for them. A
series with more than :data:`MAX_MISSING_FRACTION` missing values inside its observed
span is rejected; use ``method="kalman"``, which handles any missingness pattern
exactly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from ..errors import InvalidInputError, ModelLoadError, SeriesTooShortError
from ..validation import check_dt

__all__ = [
    "PARAMETERS",
    "AUTOCORRELATION_LAGS",
    "DIFFERENCE_ORDERS",
    "AUTOREGRESSION_ORDERS",
    "SPECTRUM_BAND_EDGES",
    "N_STATISTICS",
    "MIN_LENGTH",
    "MAX_LENGTH",
    "MAX_MISSING_FRACTION",
    "INTERVAL_LEVEL",
    "DLONet",
    "PreparedBatch",
    "prepare_series",
    "load_dlo_net",
    "estimate_neural",
    "DEFAULT_WEIGHTS_DIR",
]

PARAMETERS = ("eta", "zeta", "sigma_q")
"""Order of the parameters in the network's outputs."""

MIN_LENGTH = 50
"""Shortest series (in observed frames) the network accepts."""

MAX_LENGTH = 1000
"""Longest series (in frames, gaps included) the network accepts."""

MAX_MISSING_FRACTION = 0.2
"""Largest share of missing values inside a series' observed span."""

INTERVAL_LEVEL = 0.9
"""Nominal coverage of the intervals the network returns."""

DEFAULT_WEIGHTS_DIR = Path(__file__).with_name("weights")
WEIGHTS_FILE = "dlo_cnn_lstm.safetensors"
METADATA_FILE = "dlo_cnn_lstm.json"

# Length of the series the length feature is centred on (log scale), in frames.
_REFERENCE_LENGTH = 200.0

AUTOCORRELATION_LAGS = tuple(range(1, 33)) + tuple(range(36, 65, 4))
"""Lags (frames) of the sample autocorrelations given to the heads."""

DIFFERENCE_ORDERS = (1, 2, 3, 4)
"""Orders of the differences whose log mean square (relative to the series' variance)
is given to the heads."""

AUTOREGRESSION_ORDERS = tuple(range(1, 9))
"""Orders of the least-squares autoregressions whose log residual variance (relative to
the series' variance) is given to the heads; the coefficients of orders 2 and 4 are
given too."""

_AUTOREGRESSION_COEFFICIENT_ORDERS = (2, 4)

SPECTRUM_BAND_EDGES = tuple(float(edge) for edge in np.geomspace(0.01, 0.5, 13))
"""Edges (cycles per frame) of the frequency bands whose log mean power of the
Hann-tapered periodogram is given to the heads."""

N_STATISTICS = (
    len(AUTOCORRELATION_LAGS)
    + len(DIFFERENCE_ORDERS)
    + len(AUTOREGRESSION_ORDERS)
    + sum(_AUTOREGRESSION_COEFFICIENT_ORDERS)
    + len(SPECTRUM_BAND_EDGES)
    - 1
)


class DLONet(nn.Module):
    """1-D CNN -> LSTM -> one head per DLO parameter, with 90 % intervals.

    The convolutional encoder extracts local shape (curvature, roughness that
    reveals measurement noise) and halves the time resolution three times; the LSTM
    integrates it over the whole series. Its last hidden state and time-averaged
    output, the log-length of the series and an embedding of summary statistics
    feed three separate heads. The statistics are the sample autocorrelations at
    :data:`AUTOCORRELATION_LAGS` and the log mean squares of the differences of
    orders :data:`DIFFERENCE_ORDERS`: the first summarise the second-order structure
    that identifies a Gaussian oscillator, the second the roughness of the path,
    which pins down ``sigma_q`` relative to the amplitude and reveals measurement
    noise; then the autoregression summaries of :data:`AUTOREGRESSION_ORDERS`
    (one-step prediction error and coefficients) and the log band powers of the
    tapered periodogram between the :data:`SPECTRUM_BAND_EDGES`, whose
    high-frequency floor measures white measurement noise. With them the network
    learns from far fewer simulated series than it would from the raw series alone.

    Parameters
    ----------
    conv_channels : sequence of int, default (32, 48, 64)
        Output channels of the convolution layers.
    kernel_sizes : sequence of int, default (7, 5, 5)
        Kernel size of each convolution layer.
    strides : sequence of int, default (2, 2, 2)
        Stride of each convolution layer.
    lstm_hidden : int, default 64
        Hidden size of the LSTM.
    statistics_hidden : int, default 64
        Width of the summary-statistics embedding.
    head_hidden : int, default 64
        Hidden width of each parameter head.
    statistics_layers : int, default 2
        Hidden layers of the summary-statistics embedding.
    target_center, target_scale : sequence of float, optional
        Affine map from the heads' normalised outputs to the transformed parameters
        (``log(-eta)``, ``log(-zeta)``, ``log(sigma_q / sd)`` in frame units); set
        by training from the training prior and stored with the weights.
    statistics_center, statistics_scale : sequence of float, optional
        Means and sds of the :data:`N_STATISTICS` summary statistics under the
        training prior, used to standardise them; set by training and stored with
        the weights (default: no standardisation).

    Raises
    ------
    InvalidInputError
        If the layer lists differ in length or the statistics moments do not have
        :data:`N_STATISTICS` values.

    Notes
    -----
    ``forward`` returns normalised transformed parameters; :meth:`transformed`
    undoes the normalisation.
    """

    n_inputs = 2  # standardised series, observed mask
    # buffers registered in __init__ (declared for type checkers)
    target_center: torch.Tensor
    target_scale: torch.Tensor
    statistics_center: torch.Tensor
    statistics_scale: torch.Tensor

    def __init__(
        self,
        conv_channels: Sequence[int] = (32, 48, 64),
        kernel_sizes: Sequence[int] = (7, 5, 5),
        strides: Sequence[int] = (2, 2, 2),
        lstm_hidden: int = 64,
        statistics_hidden: int = 64,
        head_hidden: int = 64,
        statistics_layers: int = 2,
        target_center: Sequence[float] = (0.0, 0.0, 0.0),
        target_scale: Sequence[float] = (1.0, 1.0, 1.0),
        statistics_center: Sequence[float] | None = None,
        statistics_scale: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        if not len(conv_channels) == len(kernel_sizes) == len(strides):
            raise InvalidInputError("conv_channels, kernel_sizes and strides must have the same length")
        self.config = {
            "conv_channels": [int(c) for c in conv_channels],
            "kernel_sizes": [int(k) for k in kernel_sizes],
            "strides": [int(s) for s in strides],
            "lstm_hidden": int(lstm_hidden),
            "statistics_hidden": int(statistics_hidden),
            "head_hidden": int(head_hidden),
            "statistics_layers": int(statistics_layers),
        }
        layers: list[nn.Module] = []
        channels_in = self.n_inputs
        for channels, kernel, stride in zip(conv_channels, kernel_sizes, strides):
            layers += [
                nn.Conv1d(channels_in, channels, kernel, stride=stride, padding=kernel // 2),
                nn.GELU(),
            ]
            channels_in = channels
        self.encoder = nn.Sequential(*layers)
        self.lstm = nn.LSTM(channels_in, lstm_hidden, batch_first=True)
        statistics_layers_list: list[nn.Module] = []
        width_in = N_STATISTICS
        for _ in range(int(statistics_layers)):
            statistics_layers_list += [nn.Linear(width_in, statistics_hidden), nn.GELU()]
            width_in = statistics_hidden
        self.statistics_encoder = nn.Sequential(*statistics_layers_list)
        summary_size = 2 * lstm_hidden + 1 + statistics_hidden
        # point, raw lower offset, raw upper offset
        self.heads = nn.ModuleDict(
            {
                name: nn.Sequential(
                    nn.Linear(summary_size, head_hidden),
                    nn.GELU(),
                    nn.Linear(head_hidden, 3),
                )
                for name in PARAMETERS
            }
        )
        # A linear path from the statistics to the points: without measurement noise the
        # log residual variance of a short autoregression is nearly linear in the
        # sigma_q target, which a linear term represents exactly and the heads refine.
        self.statistics_skip = nn.Linear(N_STATISTICS, len(PARAMETERS))
        # Auxiliary head: log measurement-noise share, used only by the training loss.
        self.noise_head = nn.Linear(summary_size, 1)
        self.register_buffer("target_center", torch.tensor(list(target_center), dtype=torch.float32))
        self.register_buffer("target_scale", torch.tensor(list(target_scale), dtype=torch.float32))
        # The statistics differ by orders of magnitude in spread (an autocorrelation near
        # 1 that varies in its third decimal carries the measurement noise), so they enter
        # standardised with the training prior's mean and sd.
        center = [0.0] * N_STATISTICS if statistics_center is None else list(statistics_center)
        spread = [1.0] * N_STATISTICS if statistics_scale is None else list(statistics_scale)
        if len(center) != N_STATISTICS or len(spread) != N_STATISTICS:
            raise InvalidInputError(f"statistics_center and statistics_scale need {N_STATISTICS} values each")
        self.register_buffer("statistics_center", torch.tensor(center, dtype=torch.float32))
        self.register_buffer("statistics_scale", torch.tensor(spread, dtype=torch.float32))

    def summarize(self, inputs: torch.Tensor, log_length: torch.Tensor, statistics: torch.Tensor) -> torch.Tensor:
        """Fixed-size summary of each series (see the class docstring).

        ``statistics`` must already be standardised (see :meth:`standardise_statistics`).
        """
        features = self.encoder(inputs).transpose(1, 2)
        outputs, (hidden, _) = self.lstm(features)
        return torch.cat(
            [
                hidden[-1],
                outputs.mean(dim=1),
                log_length[:, None],
                self.statistics_encoder(statistics),
            ],
            dim=1,
        )

    def forward(
        self, inputs: torch.Tensor, log_length: torch.Tensor, statistics: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Normalised point estimates, interval bounds and the auxiliary noise share.

        Parameters
        ----------
        inputs : torch.Tensor
            Shape ``(batch, 2, length)``: standardised series and observed mask.
        log_length : torch.Tensor
            Shape ``(batch,)``: ``log(n_frames / 200)``.
        statistics : torch.Tensor
            Shape ``(batch, N_STATISTICS)``: see :attr:`PreparedBatch.statistics`.

        Returns
        -------
        dict of str to torch.Tensor
            ``point``, ``lower``, ``upper`` of shape ``(batch, 3)`` (normalised
            transformed parameters, in :data:`PARAMETERS` order) and ``log_noise``
            of shape ``(batch,)``.
        """
        statistics = self.standardise_statistics(statistics)
        summary = self.summarize(inputs, log_length, statistics)
        raw = torch.stack([self.heads[name](summary) for name in PARAMETERS], dim=1)
        point = raw[..., 0] + self.statistics_skip(statistics)
        # The interval is anchored at a detached point so that the interval score
        # trains the widths and the squared error alone trains the point.
        anchor = point.detach()
        return {
            "point": point,
            "lower": anchor - F.softplus(raw[..., 1]),
            "upper": anchor + F.softplus(raw[..., 2]),
            "log_noise": self.noise_head(summary)[:, 0],
        }

    def standardise_statistics(self, statistics: torch.Tensor) -> torch.Tensor:
        """Centre and scale the summary statistics with the training prior's moments."""
        return (statistics - self.statistics_center) / self.statistics_scale

    def transformed(self, normalised: torch.Tensor) -> torch.Tensor:
        """Map normalised outputs to ``log(-eta)``, ``log(-zeta)``, ``log(sigma_q / sd)``."""
        return normalised * self.target_scale + self.target_center


class PreparedBatch:
    """Series made ready for :class:`DLONet` (all of the same length).

    Attributes
    ----------
    inputs : numpy.ndarray
        ``float32`` array ``(n, 2, length)``: standardised series, observed mask.
    log_scale : numpy.ndarray
        ``log`` of each series' standard deviation, shape ``(n,)``.
    n_obs : numpy.ndarray
        Observed (non-missing) values per series, shape ``(n,)``.
    statistics : numpy.ndarray
        ``float32`` array ``(n, N_STATISTICS)``: sample autocorrelations at
        :data:`AUTOCORRELATION_LAGS`, then ``log(mean((diff^k z)^2)) / 10`` of the
        standardised series ``z`` for ``k`` in :data:`DIFFERENCE_ORDERS`, then the
        autoregression summaries (see ``_autoregression_features``), then the log
        band powers of the tapered periodogram (see ``_log_band_power``).
    """

    def __init__(
        self,
        inputs: np.ndarray,
        log_scale: np.ndarray,
        n_obs: np.ndarray,
        statistics: np.ndarray,
    ) -> None:
        self.inputs = inputs
        self.log_scale = log_scale
        self.n_obs = n_obs
        self.statistics = statistics

    @property
    def log_length(self) -> np.ndarray:
        """``log(length / 200)`` of each series, the network's length feature."""
        length = self.inputs.shape[-1]
        return np.full(self.inputs.shape[0], math.log(length / _REFERENCE_LENGTH), np.float32)


def _validate_series(values: Any, index: int) -> np.ndarray:
    """Return one series as a trimmed float array, or raise a typed error."""
    where = f"series {index}"
    array = np.asarray(values)
    if array.dtype.kind not in "fiu":
        raise InvalidInputError(
            f"{where} has dtype {array.dtype}; the neural estimator needs real numbers "
            "(float or int). Convert it with numpy.asarray(x, dtype=float)"
        )
    array = array.astype(float, copy=False)
    if array.ndim != 1:
        raise InvalidInputError(f"{where} must be 1-D, got shape {array.shape}")
    if np.isinf(array).any():
        raise InvalidInputError(f"{where} contains infinite values; replace them by NaN or drop them")
    observed = np.flatnonzero(~np.isnan(array))
    if observed.size < MIN_LENGTH:
        raise SeriesTooShortError(
            f"{where} has {observed.size} observed values; the neural estimator needs at "
            f"least {MIN_LENGTH} (it was trained on 50-1000 frames). Use method='kalman' "
            "for shorter series"
        )
    array = array[observed[0] : observed[-1] + 1]
    if array.size > MAX_LENGTH:
        raise InvalidInputError(
            f"{where} spans {array.size} frames; the neural estimator accepts at most "
            f"{MAX_LENGTH}. Estimate on windows of at most {MAX_LENGTH} frames or use "
            "method='kalman'"
        )
    missing = 1.0 - observed.size / array.size
    if missing > MAX_MISSING_FRACTION:
        raise InvalidInputError(
            f"{where} has {missing:.0%} missing values inside its observed span; the neural "
            f"estimator accepts at most {MAX_MISSING_FRACTION:.0%}. Use method='kalman', "
            "which handles missing values exactly"
        )
    values = array[observed - observed[0]]
    if values.std() <= 1e-12 * max(1.0, float(np.abs(values).max())):
        raise InvalidInputError(
            f"{where} is constant; a constant series carries no information about the oscillator's dynamics"
        )
    return array


def prepare_series(series: np.ndarray) -> PreparedBatch:
    """Standardise equal-length series (NaN for missing) into network inputs.

    Parameters
    ----------
    series : numpy.ndarray
        Shape ``(n, length)``; NaN marks a missing value. No row may start or end with
        NaN or be constant (callers validate single series first).

    Returns
    -------
    PreparedBatch

    Examples
    --------
    >>> batch = prepare_series(np.array([[1.0, np.nan, 3.0, 2.0, 0.0, 1.0]]))
    >>> batch.inputs[0, 1].tolist()
    [1.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    >>> batch.statistics.shape
    (1, 70)
    """
    series = np.asarray(series, dtype=float)
    observed = ~np.isnan(series)
    center = np.nanmean(series, axis=1, keepdims=True)
    scale = np.nanstd(series, axis=1, keepdims=True)
    standardised = (series - center) / scale
    if not observed.all():
        positions = np.arange(series.shape[1])
        for row in np.flatnonzero(~observed.all(axis=1)):
            keep = observed[row]
            standardised[row] = np.interp(positions, positions[keep], standardised[row, keep])
    inputs = np.stack([standardised, observed.astype(float)], axis=1).astype(np.float32)
    statistics = np.concatenate(
        [
            _autocorrelation(standardised),
            _log_difference_power(standardised),
            _autoregression_features(standardised),
            _log_band_power(standardised),
        ],
        axis=1,
    )
    return PreparedBatch(inputs, np.log(scale[:, 0]), observed.sum(axis=1), statistics)


def _log_difference_power(standardised: np.ndarray) -> np.ndarray:
    """``log(mean((diff^k z)^2)) / 10`` for each order k, scaled to order one.

    For a smooth path these fall steeply with k (the oscillator's velocity is
    continuous); measurement noise lifts the higher orders towards
    ``log(binom(2k, k) meas_var)``.
    """
    powers = []
    difference = standardised
    for order in range(1, max(DIFFERENCE_ORDERS) + 1):
        difference = np.diff(difference, axis=1)
        if order in DIFFERENCE_ORDERS:
            powers.append(np.log(np.mean(difference**2, axis=1) + 1e-30) / 10.0)
    return np.stack(powers, axis=1).astype(np.float32)


def _autoregression_features(standardised: np.ndarray) -> np.ndarray:
    """Least-squares autoregressions of each series, summarised for the heads.

    A DLO observed without noise is an ARMA(2, 1) process whose moving-average root is
    small, so a short autoregression's one-step residual variance pins down the
    innovation variance, and with it ``sigma_q``, almost as well as the exact
    likelihood; its coefficients carry the damped frequency. Least squares rather than
    Yule-Walker because the series are smooth (roots near the unit circle), where
    Yule-Walker is badly biased.

    Returns ``log(residual variance) / 10`` for each order in
    :data:`AUTOREGRESSION_ORDERS`, then the coefficients of the orders in
    ``_AUTOREGRESSION_COEFFICIENT_ORDERS`` (lag 1 first).
    """
    from numpy.lib.stride_tricks import sliding_window_view

    n_series = standardised.shape[0]
    log_variances = np.empty((n_series, len(AUTOREGRESSION_ORDERS)))
    coefficients = []
    for column, order in enumerate(AUTOREGRESSION_ORDERS):
        if standardised.shape[1] < 2 * order + 1:
            # Too short to fit this order (the estimator itself needs 50 frames): neutral values.
            log_variances[:, column] = 0.0
            if order in _AUTOREGRESSION_COEFFICIENT_ORDERS:
                coefficients.append(np.zeros((n_series, order)))
            continue
        windows = sliding_window_view(standardised, order + 1, axis=1)
        lagged = windows[..., :order][..., ::-1]  # lag 1 first
        target = windows[..., order]
        gram = np.einsum("ntp,ntq->npq", lagged, lagged)
        # A ridge of 1e-9 of the trace keeps the solve defined for the smoothest paths.
        ridge = 1e-9 * np.trace(gram, axis1=1, axis2=2)[:, None, None] * np.eye(order)
        beta = np.linalg.solve(gram + ridge, np.einsum("ntp,nt->np", lagged, target)[..., None])[..., 0]
        residual = target - np.einsum("ntp,np->nt", lagged, beta)
        log_variances[:, column] = np.log(np.mean(residual**2, axis=1) + 1e-30) / 10.0
        if order in _AUTOREGRESSION_COEFFICIENT_ORDERS:
            coefficients.append(beta)
    return np.concatenate([log_variances, *coefficients], axis=1).astype(np.float32)


def _log_band_power(standardised: np.ndarray) -> np.ndarray:
    """Log mean power of the Hann-tapered periodogram in each band of
    :data:`SPECTRUM_BAND_EDGES`, divided by 10.

    White measurement noise is a flat floor under the oscillator's spectrum, which
    falls as the fourth power of frequency: in the log spectrum the floor stands out,
    while in the autocorrelations it is a change in the third decimal of lag 1. The
    taper keeps the leakage of the spectral peak below that floor; zero padding to a
    fixed size puts frequencies in every band whatever the length.
    """
    length = standardised.shape[1]
    size = max(2048, 1 << int(np.ceil(np.log2(length))))
    taper = np.hanning(length + 2)[1:-1]
    spectrum = np.fft.rfft(standardised * taper, n=size, axis=1)
    power = np.abs(spectrum) ** 2 / np.sum(taper**2)
    frequencies = np.fft.rfftfreq(size)
    edges = np.array(SPECTRUM_BAND_EDGES)
    band = np.searchsorted(edges, frequencies, side="right") - 1
    features = np.empty((standardised.shape[0], edges.size - 1))
    for index in range(edges.size - 1):
        inside = band == index
        features[:, index] = np.log(power[:, inside].mean(axis=1) + 1e-30) / 10.0
    return features.astype(np.float32)


def _autocorrelation(standardised: np.ndarray) -> np.ndarray:
    """Biased sample autocorrelations (sum of lagged products / length) via the FFT.

    Lags at or beyond the series length are 0, which is also the biased estimate's
    limit, so every length maps to the same feature layout.
    """
    length = standardised.shape[1]
    size = 1 << int(np.ceil(np.log2(2 * length)))
    spectrum = np.fft.rfft(standardised, n=size, axis=1)
    autocovariance = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=1)[:, :length]
    lags = np.array(AUTOCORRELATION_LAGS)
    values = np.zeros((standardised.shape[0], lags.size))
    inside = lags < length
    values[:, inside] = autocovariance[:, lags[inside]] / autocovariance[:, :1]
    return values.astype(np.float32)


def _metadata_path(weights_dir: Path) -> Path:
    return weights_dir / METADATA_FILE


@lru_cache(maxsize=4)
def _load_cached(weights_dir: str) -> tuple[DLONet, dict[str, Any]]:
    from safetensors.torch import load_file

    directory = Path(weights_dir)
    weights_path = directory / WEIGHTS_FILE
    metadata_path = _metadata_path(directory)
    if not weights_path.is_file() or not metadata_path.is_file():
        raise ModelLoadError(
            f"no trained DLO network in {directory} (expected {WEIGHTS_FILE} and "
            f"{METADATA_FILE}); train one with `python -m pybridge.dlo.train --out {directory}`"
        )
    try:
        metadata = json.loads(metadata_path.read_text())
        net = DLONet(**metadata["architecture"])
        net.load_state_dict(load_file(str(weights_path)))
    except (KeyError, TypeError, ValueError, RuntimeError, OSError) as err:
        raise ModelLoadError(
            f"could not load the DLO network from {directory}: {err}. The weights and "
            "metadata do not match this version of pybridge; retrain with "
            "`python -m pybridge.dlo.train`"
        ) from err
    net.eval()
    return net, metadata


def load_dlo_net(weights_dir: str | Path | None = None) -> tuple[DLONet, dict[str, Any]]:
    """Load a trained network and its training metadata (cached).

    Parameters
    ----------
    weights_dir : str or Path, optional
        Folder with ``dlo_cnn_lstm.safetensors`` and ``dlo_cnn_lstm.json``, as written
        by :mod:`pybridge.dlo.train`. Defaults to the weights shipped with pybridge.

    Returns
    -------
    net : DLONet
        In evaluation mode.
    metadata : dict
        How the weights were trained (command, seed, prior, steps, validation scores).

    Raises
    ------
    ModelLoadError
        If the files are missing or do not fit the architecture.

    Examples
    --------
    >>> net, metadata = load_dlo_net()
    >>> metadata["interval_level"]
    0.9
    """
    directory = DEFAULT_WEIGHTS_DIR if weights_dir is None else Path(weights_dir)
    return _load_cached(str(directory.resolve()))


def _as_series_list(series_list: Any) -> list[Any]:
    if isinstance(series_list, np.ndarray):
        if series_list.ndim == 1:
            return [series_list]
        if series_list.ndim == 2:
            return list(series_list)
        raise InvalidInputError(
            f"series must be a 1-D array, a 2-D array (one row per series) or a list of "
            f"1-D arrays, got an array of shape {series_list.shape}"
        )
    if isinstance(series_list, (str, bytes)) or not isinstance(series_list, Iterable):
        raise InvalidInputError(f"series must be a list of 1-D arrays, got {type(series_list).__name__}")
    items = list(series_list)
    if not items:
        raise InvalidInputError("no series given; pass at least one 1-D array")
    if all(np.ndim(item) == 0 for item in items):
        return [np.asarray(items)]
    return items


def _predict_transformed(
    net: DLONet, batch: PreparedBatch, batch_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    points, lowers, uppers = [], [], []
    with torch.inference_mode():
        for start in range(0, batch.inputs.shape[0], batch_size):
            stop = start + batch_size
            output = net(
                torch.from_numpy(batch.inputs[start:stop]),
                torch.from_numpy(batch.log_length[start:stop]),
                torch.from_numpy(batch.statistics[start:stop]),
            )
            points.append(net.transformed(output["point"]).numpy())
            lowers.append(net.transformed(output["lower"]).numpy())
            uppers.append(net.transformed(output["upper"]).numpy())
    return np.concatenate(points), np.concatenate(lowers), np.concatenate(uppers)


def _to_parameters(transformed: np.ndarray, log_scale: np.ndarray, dt: float) -> np.ndarray:
    """Frame-unit transformed parameters -> (eta, zeta, sigma_q) per time unit."""
    with np.errstate(over="ignore"):
        eta = -np.exp(transformed[:, 0]) / dt**2
        zeta = -np.exp(transformed[:, 1]) / dt
        sigma_q = np.exp(transformed[:, 2] + log_scale) / dt**1.5
    return np.stack([eta, zeta, sigma_q], axis=1)


def estimate_neural(
    series_list: Any,
    dt: float = 1.0,
    *,
    batch_size: int = 512,
    weights_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Estimate DLO parameters with the shipped CNN-LSTM network.

    Parameters
    ----------
    series_list : list of array_like, 1-D array or 2-D array
        One or more series of observed values (real numbers), one value per frame.
        Lengths may differ; a 2-D array holds one series per row. NaN marks a missing
        value: leading and trailing NaNs are dropped, interior gaps are interpolated
        and flagged to the network (at most 20 % missing).
    dt : float, default 1.0
        Time between frames. The estimates are per unit of this time (with
        ``dt = 1 / fps`` they are per second).
    batch_size : int, default 512
        Series per forward pass.
    weights_dir : str or Path, optional
        Folder with other trained weights (see :mod:`pybridge.dlo.train`).

    Returns
    -------
    pandas.DataFrame
        One row per series with ``eta``, ``zeta``, ``sigma_q``, their 90 % interval
        bounds ``eta_lo``, ``eta_hi``, ``zeta_lo``, ``zeta_hi``, ``sigma_q_lo``,
        ``sigma_q_hi``, and ``n_obs`` (observed values used). Always
        ``eta < 0``, ``zeta < 0``, ``sigma_q > 0``.

    Raises
    ------
    InvalidInputError
        If a series is not 1-D real numbers, contains infinite values, is constant,
        is longer than 1000 frames or has more than 20 % missing values, or if
        ``dt <= 0``.
    SeriesTooShortError
        If a series has fewer than 50 observed values.
    ModelLoadError
        If the weights cannot be loaded.

    Notes
    -----
    The network was trained for damped periods of about 10-100 frames, damping
    ratios 0.02-0.9 and measurement noise up to 50 % of the process' standard
    deviation; it is validated on periods 20-60 frames, damping ratios 0.05-0.6 and
    series of 100-300 frames. Outside that range prefer ``method="kalman"``.
    On 100-frame series its RMSE is within 3-4 % of that of the exact posterior
    mean (the Kalman likelihood integrated over the validated ranges), and below
    Kalman maximum likelihood's (``tests/benchmarks/bench_dlo_information_limit.py``
    and ``bench_dlo_recovery.py``).

    Examples
    --------
    >>> from pybridge.dlo.simulate import simulate_dlo
    >>> sim = simulate_dlo(-0.5, -0.3, 0.5, n_steps=300, dt=0.25, n_series=2, seed=0)
    >>> table = estimate_neural(list(sim.y), dt=0.25)
    >>> bool((table["eta"] < 0).all() and (table["sigma_q"] > 0).all())
    True
    """
    dt = check_dt(dt)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise InvalidInputError(f"batch_size must be a positive integer, got {batch_size!r}")
    cleaned = [_validate_series(item, index) for index, item in enumerate(_as_series_list(series_list))]
    net, _ = load_dlo_net(weights_dir)

    n_series = len(cleaned)
    point = np.empty((n_series, 3))
    lower = np.empty((n_series, 3))
    upper = np.empty((n_series, 3))
    n_obs = np.empty(n_series, dtype=int)
    lengths = np.array([item.size for item in cleaned])
    # Series of equal length share a batch, so no padding ever reaches the LSTM.
    for length in np.unique(lengths):
        rows = np.flatnonzero(lengths == length)
        batch = prepare_series(np.stack([cleaned[row] for row in rows]))
        center, low, high = _predict_transformed(net, batch, int(batch_size))
        point[rows] = _to_parameters(center, batch.log_scale, dt)
        # eta and zeta decrease in their transformed values, sigma_q increases.
        bound_a = _to_parameters(low, batch.log_scale, dt)
        bound_b = _to_parameters(high, batch.log_scale, dt)
        lower[rows] = np.minimum(bound_a, bound_b)
        upper[rows] = np.maximum(bound_a, bound_b)
        n_obs[rows] = batch.n_obs

    columns: dict[str, Any] = {}
    for index, name in enumerate(PARAMETERS):
        columns[name] = point[:, index]
    for index, name in enumerate(PARAMETERS):
        columns[f"{name}_lo"] = lower[:, index]
        columns[f"{name}_hi"] = upper[:, index]
    columns["n_obs"] = n_obs
    return pd.DataFrame(columns)
