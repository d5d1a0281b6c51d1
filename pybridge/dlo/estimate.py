"""One entry point for DLO parameter estimation on arrays or emotion-score tables."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidInputError, MissingDependencyError, PyBridgeError
from ..scores_table import metadata_columns, score_columns, split_face_series
from ..validation import as_observed_series, check_dt
from .glla_regression import fit_dlo_glla
from .kalman import MIN_OBSERVATIONS, fit_dlo_kalman

__all__ = ["estimate_dlo"]

_METHODS = ("kalman", "glla", "neural")
_ESTIMATE_COLUMNS = ("eta", "zeta", "sigma_q")


def _trim_trailing_nan(row: np.ndarray) -> np.ndarray:
    observed = np.flatnonzero(~np.isnan(row))
    return row[: observed[-1] + 1] if observed.size else row[:0]


def _series_from_frame(table: pd.DataFrame, labels: Sequence[str] | None) -> list[tuple[dict[str, Any], np.ndarray]]:
    """Split a scores table into one series per video, face and label column."""
    labels = score_columns(table, labels)
    if not labels:
        raise InvalidInputError(
            "the table has no numeric score columns besides "
            f"{metadata_columns(table)}; pass a video_scores "
            "table or name the columns with labels="
        )
    series = []
    for keys, part in split_face_series(table, sort_by="frame"):
        for label in labels:
            series.append(({**keys, "label": label}, part[label].to_numpy(dtype=float)))
    return series


def _collect_series(series: Any, labels: Sequence[str] | None) -> list[tuple[dict[str, Any], np.ndarray]]:
    """Normalise every accepted input to a list of (identifying columns, 1-D array)."""
    if isinstance(series, pd.DataFrame):
        return _series_from_frame(series, labels)
    if labels is not None:
        raise InvalidInputError("labels= only applies to a scores DataFrame")
    if isinstance(series, pd.Series):
        return [({"series": 0}, series.to_numpy(dtype=float))]
    if isinstance(series, (list, tuple)):
        if not series:
            raise InvalidInputError("the list of series is empty")
        if all(np.isscalar(value) for value in series):
            return [({"series": 0}, np.asarray(series, dtype=float))]
        return [({"series": i}, np.asarray(row, dtype=float)) for i, row in enumerate(series)]
    try:
        array = np.asarray(series, dtype=float)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(
            "series must be a 1-D array, a list of 1-D arrays, a 2-D array (one series "
            f"per row) or a scores DataFrame; got {type(series).__name__}"
        ) from err
    if array.ndim == 1:
        return [({"series": 0}, array)]
    if array.ndim == 2:
        return [({"series": i}, _trim_trailing_nan(row)) for i, row in enumerate(array)]
    raise InvalidInputError(f"series must be 1-D or 2-D, got shape {array.shape}")


def _describe(keys: dict[str, Any]) -> str:
    return ", ".join(f"{name} {value!r}" for name, value in keys.items())


def _load_neural() -> Callable[..., pd.DataFrame]:
    try:
        module = importlib.import_module("pybridge.dlo.neural")
        return module.estimate_neural
    except (ImportError, AttributeError) as err:
        raise MissingDependencyError(
            "the neural DLO estimator (pybridge.dlo.neural.estimate_neural) is not "
            f"available in this installation ({err}); use method='kalman' or "
            "method='glla', or install pybridge with torch"
        ) from err


def estimate_dlo(
    series: Any,
    dt: float | None = 1.0,
    method: str = "kalman",
    *,
    meas_sd: float | None = None,
    n_embed: int = 5,
    level: float = 0.9,
    labels: Sequence[str] | None = None,
    on_error: str = "raise",
) -> pd.DataFrame:
    """Estimate damped-linear-oscillator parameters, one row per series.

    Parameters
    ----------
    series : array_like, list of array_like or pandas.DataFrame
        A 1-D array (one series); a list of 1-D arrays (lengths may differ); a 2-D
        array with one series per row, where trailing NaNs mark a shorter series; or
        a scores table such as :func:`pybridge.video_scores` returns (columns
        ``frame``, ``time_s``, ``face_found``, ``face_x`` ... ``reason``, optional
        ``video``, then one column per label), fitted once per label column, video
        and face (``track_id``, else ``face_id``, of a ``face_selection="all"`` table;
        see :func:`pybridge.scores_table.split_face_series`). Interior NaN (e.g.
        frames without a face) are missing observations.
    dt : float or None, default 1.0
        Time between observations; the estimates are per unit of this time. With
        ``None`` and a table with ``time_s``, the median spacing of ``time_s`` is used
        (estimates per second).
    method : {"kalman", "glla", "neural"}, default "kalman"
        ``"kalman"``: exact Gaussian maximum likelihood
        (:func:`pybridge.dlo.kalman.fit_dlo_kalman`), with standard errors,
        measurement-noise sd and a convergence flag. ``"glla"``: GLLA derivatives
        and OLS (:func:`pybridge.dlo.glla_regression.fit_dlo_glla`), a reference
        whose damping estimate is biased to 0 for stationary series. ``"neural"``:
        the shipped network (``pybridge.dlo.neural.estimate_neural``).
    meas_sd : float, optional
        ``"kalman"`` only: fix the measurement-noise sd instead of estimating it.
    n_embed : int, default 5
        ``"glla"`` only: window length.
    level : float, default 0.9
        Coverage of the intervals (``"kalman"`` and ``"glla"``; the neural intervals
        are 90 %).
    labels : sequence of str, optional
        Score columns of a table to fit; by default
        :func:`pybridge.scores_table.score_columns` (the labels the table records, else
        every numeric column that is not a metadata column).
    on_error : {"raise", "nan"}, default "raise"
        What a series that cannot be fitted (too short, constant, all NaN) does:
        raise its typed error, naming the series, or give a row of NaN with
        ``converged = False`` and the reason in ``message``.

    Returns
    -------
    pandas.DataFrame
        One row per series: identifying columns (``series``; or ``video`` if present,
        ``track_id`` or ``face_id`` if present, and ``label``), then ``eta``, ``zeta``, ``sigma_q`` and the method's extras:
        ``_lo``/``_hi`` interval bounds, ``_se`` standard errors, ``meas_sd``,
        ``mean``, ``loglik``, ``converged`` (kalman), ``r_squared`` (glla),
        ``n_obs``, and ``message`` when ``on_error="nan"``.

    Raises
    ------
    InvalidInputError
        For an unknown method or ``on_error``, ``dt <= 0``, an unusable input
        shape, or (with ``on_error="raise"``) a constant or non-finite series.
    SeriesTooShortError
        With ``on_error="raise"``, for a series with fewer than 20 observations
        (all-NaN included).
    MissingDependencyError
        For ``method="neural"`` when the neural estimator is not installed.

    Examples
    --------
    >>> from pybridge.dlo.simulate import simulate_dlo
    >>> sim = simulate_dlo(-0.1, -0.1, 0.3, 300, n_series=2, seed=1)
    >>> table = estimate_dlo(sim.y, method="glla")
    >>> table[["series", "eta", "zeta", "sigma_q"]].shape
    (2, 4)
    """
    if method not in _METHODS:
        raise InvalidInputError(f"method must be one of {_METHODS}, got {method!r}")
    if on_error not in ("raise", "nan"):
        raise InvalidInputError(f"on_error must be 'raise' or 'nan', got {on_error!r}")
    if dt is None:
        if not (isinstance(series, pd.DataFrame) and "time_s" in series.columns):
            raise InvalidInputError("dt=None needs a scores table with a time_s column")
        spacing = np.diff(np.unique(series["time_s"].dropna().to_numpy(dtype=float)))
        if spacing.size == 0:
            raise InvalidInputError("cannot infer dt: time_s has fewer than two distinct values")
        dt = float(np.median(spacing))
    dt = check_dt(dt)

    collected = _collect_series(series, labels)
    usable: list[int] = []
    failures: dict[int, str] = {}
    for index, (keys, values) in enumerate(collected):
        try:
            as_observed_series(values, MIN_OBSERVATIONS)
            usable.append(index)
        except PyBridgeError as err:
            if on_error == "raise":
                raise type(err)(f"{_describe(keys)}: {err}") from err
            failures[index] = str(err)

    results: dict[int, dict[str, Any]] = {}
    if method == "neural" and usable:
        estimate_neural = _load_neural()
        batch = [collected[i][1] for i in usable]
        try:
            table = estimate_neural(batch, dt)
            for index, row in zip(usable, table.to_dict("records")):
                results[index] = row
        except InvalidInputError:
            # a series the network refuses (e.g. too long); model errors propagate
            if on_error == "raise":
                raise
            for index in usable:
                try:
                    results[index] = estimate_neural([collected[index][1]], dt).iloc[0].to_dict()
                except InvalidInputError as err:
                    failures[index] = str(err)
    else:
        for index in usable:
            values = collected[index][1]
            try:
                if method == "kalman":
                    fit = fit_dlo_kalman(values, dt, meas_sd=meas_sd, level=level).to_dict()
                else:
                    fit = fit_dlo_glla(values, dt, n_embed=n_embed, level=level).to_dict()
                    fit["n_obs"] = int(np.count_nonzero(~np.isnan(values)))
            except PyBridgeError as err:
                if on_error == "raise":
                    raise type(err)(f"{_describe(collected[index][0])}: {err}") from err
                failures[index] = str(err)
                continue
            results[index] = fit

    value_columns: list[str] = []
    for row in results.values():
        value_columns += [column for column in row if column not in value_columns]
    if not value_columns:
        value_columns = [*_ESTIMATE_COLUMNS, "n_obs"]
    rows = []
    for index, (keys, _) in enumerate(collected):
        fit_values = results.get(index)
        if fit_values is None:
            fit_values = {column: math.nan for column in value_columns}
            if "converged" in value_columns or method == "kalman":
                fit_values["converged"] = False
            fit_values["n_obs"] = int(np.count_nonzero(~np.isnan(collected[index][1])))
        row = {**keys, **fit_values}
        if on_error == "nan":
            row["message"] = failures.get(index, fit_values.get("message", ""))
        rows.append(row)
    frame = pd.DataFrame(rows)
    if method == "kalman" and "converged" in frame.columns:
        frame["converged"] = frame["converged"].astype(bool)
    return frame
