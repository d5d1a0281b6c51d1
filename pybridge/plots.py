"""Figures for the emotion-dynamics workflow (matplotlib).

One function per figure of the workflow:

* :func:`plot_emotion_series` - emotion scores over a video (lines or stacked areas),
  one panel per video;
* :func:`plot_network` - a (dynamic) EGA network, nodes coloured by community and
  edges scaled by partial correlation;
* :func:`plot_network_scores` - network scores per community over time;
* :func:`plot_dlo_autocorrelation` - observed autocorrelation of a series against the
  one implied by fitted DLO parameters;
* :func:`plot_dlo_intervals` - DLO estimates with their intervals;
* :func:`plot_recovery` - true against estimated parameters in a simulation study.

Every function returns a :class:`matplotlib.figure.Figure` and, when ``path`` is given,
also saves it there (the format follows the suffix: ``.png``, ``.pdf``, ``.svg``, ...).
Figures are built without :mod:`matplotlib.pyplot`, so no global figure state piles up
when many are drawn in a loop; Jupyter still displays a returned figure.

Results of other stages are read as data only, through their documented attributes
(an EGA result's ``network`` and ``wc``; the columns of ``estimate_dlo``'s DataFrame).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D

from .dlo.simulate import dlo_autocorrelation, measurement_noise_share
from .errors import InvalidInputError
from .scores_table import face_series_column, score_columns, split_face_series
from .validation import require_columns, require_frame

__all__ = [
    "plot_emotion_series",
    "plot_network",
    "plot_network_scores",
    "plot_dlo_autocorrelation",
    "plot_dlo_intervals",
    "plot_recovery",
    "dlo_autocorrelation",
]

# Id and time columns of the other tables drawn here (net_scores, simulations); the
# scores table's own metadata columns are declared in pybridge.scores_table.
_OTHER_ID_COLUMNS = frozenset({"id", "clip", "time", "step", "series"})
_DLO_PARAMETERS = ("eta", "zeta", "sigma_q")
_PARAMETER_LABELS = {"eta": "η (frequency)", "zeta": "ζ (damping)", "sigma_q": "σ_q (noise)"}
_X_LABELS = {"time_s": "time (s)", "frame": "frame"}
_UNASSIGNED_COLOUR = "#bdbdbd"
_NETWORK_LAYOUTS = ("kamada_kawai", "circle", "spring")
_MAX_PANELS = 24


def plot_emotion_series(
    scores: pd.DataFrame,
    labels: Sequence[str] | None = None,
    *,
    x: str = "time_s",
    by: str | None = "video",
    stacked: bool = False,
    path: str | PathLike[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Emotion scores over time, one panel per video.

    Parameters
    ----------
    scores : pandas.DataFrame
        A ``video_scores`` table (``frame``, ``time_s``, face columns, one column per
        label), or any table with a time column and numeric emotion columns. Rows with
        NaN scores (no face found) leave gaps instead of being interpolated.
    labels : list of str, optional
        Emotion columns to draw, in this order. Defaults to every numeric column that is
        not frame / face metadata.
    x : {"time_s", "frame"}, default "time_s"
        Column for the horizontal axis: seconds or frame numbers.
    by : str or None, default "video"
        Column that identifies the video; one panel per value. Ignored when the column
        is absent (a single video).
    stacked : bool, default False
        Draw stacked areas (useful for probabilities that sum to one) instead of lines.
    path : str or path-like, optional
        Where to save the figure.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidInputError
        ``scores`` is not a non-empty DataFrame, ``x`` or a label column is missing or
        not numeric, or there are more than 24 videos (pass a subset).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"frame": [0, 1, 2], "time_s": [0.0, 0.5, 1.0],
    ...                    "happy": [0.7, 0.8, 0.6], "sad": [0.3, 0.2, 0.4]})
    >>> fig = plot_emotion_series(df, stacked=True)
    >>> len(fig.axes)
    1
    """
    frame = require_frame(scores, "scores", task="draw")
    if x not in _X_LABELS:
        raise InvalidInputError(f"x must be 'time_s' (seconds) or 'frame', got {x!r}")
    require_columns(frame, [x], "scores")
    label_list = _value_columns(frame, labels, exclude={x, by} if by else {x})
    if face_series_column(frame) is None:
        groups = _groups(frame, by)
    else:
        # several faces per frame: one panel per video and face
        groups = _checked_panels(
            [
                (
                    " ".join(
                        str(value) if name == by else f"{name.removesuffix('_id')} {value}"
                        for name, value in keys.items()
                    ),
                    part,
                )
                for keys, part in split_face_series(frame, by=by)
            ],
            "video and face",
        )

    fig, axes = _panel_grid(len(groups), sharex=False, sharey=True)
    colours = _colours(len(label_list))
    for ax, (name, group) in zip(axes, groups):
        ordered = group.sort_values(x)
        time = ordered[x].to_numpy(dtype=float)
        values = ordered[label_list].to_numpy(dtype=float)
        if stacked:
            ax.stackplot(time, values.T, labels=label_list, colors=colours, alpha=0.85)
            ax.set_ylim(0, max(1.0, float(np.nanmax(np.nansum(values, axis=1), initial=0))))
        else:
            for j, label in enumerate(label_list):
                ax.plot(time, values[:, j], color=colours[j], lw=1.4, label=label)
        _shade_missing(ax, time, np.isnan(values).all(axis=1))
        _label_panel(ax, name, _X_LABELS[x], "score")
    _legend_outside(fig, axes[0], len(label_list))
    return _finish(fig, path, title)


def plot_network(
    network: Any,
    wc: pd.Series | Sequence[Any] | None = None,
    *,
    ax: Axes | None = None,
    layout: str = "kamada_kawai",
    path: str | PathLike[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Draw a weighted network with nodes coloured by community.

    The one network figure of pybridge (``EGAResult.plot`` draws with it). The default
    layout is Kamada-Kawai (python-igraph) started from a circle, so the same network
    always gives the same picture. Edge width grows with the absolute weight; positive
    edges are solid green, negative ones dashed red (the qgraph convention).

    Parameters
    ----------
    network : EGA result or pandas.DataFrame
        An object with a ``network`` DataFrame and a ``wc`` Series (what ``EGA`` and
        ``dynEGA(...).population`` return), or a square, symmetric weight matrix with
        the variable names as index and columns.
    wc : pandas.Series or list, optional
        Community of each node (NaN: unassigned, drawn grey). Defaults to
        ``network.wc`` when ``network`` has one.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes instead of a new figure.
    layout : {"kamada_kawai", "circle", "spring"}, default "kamada_kawai"
        Node placement: Kamada-Kawai with strong edges short, nodes on a circle in
        variable order, or igraph's Fruchterman-Reingold on the absolute weights.
    path : str or path-like, optional
        Where to save the figure.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidInputError
        The weight matrix is not square and symmetric with matching names, has
        non-finite values, ``wc`` does not have one entry per node, or the layout is
        unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> w = pd.DataFrame([[0, .4, 0], [.4, 0, -.2], [0, -.2, 0]],
    ...                  index=list("abc"), columns=list("abc"))
    >>> fig = plot_network(w, wc=[1, 1, 2])
    >>> fig.axes[0].get_title()
    ''
    """
    if layout not in _NETWORK_LAYOUTS:
        raise InvalidInputError(f"layout must be one of {', '.join(_NETWORK_LAYOUTS)}; got {layout!r}")
    weights = _weight_matrix(network)
    names = [str(c) for c in weights.columns]
    if wc is None:
        wc = getattr(network, "wc", None)
    membership = _membership(wc, weights.columns)

    fig: Figure | SubFigure
    if ax is None:
        fig = Figure(figsize=(5.5, 5.0), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    coords = _network_layout(weights.to_numpy(), layout)
    matrix = weights.to_numpy()
    strongest = float(np.abs(matrix).max()) or 1.0
    for i, j in zip(*np.triu_indices(len(names), k=1)):
        weight = matrix[i, j]
        if weight == 0:
            continue
        ax.plot(
            coords[[i, j], 0],
            coords[[i, j], 1],
            color="#2e7d32" if weight > 0 else "#c62828",
            ls="-" if weight > 0 else "--",
            lw=0.5 + 5.0 * abs(weight) / strongest,
            alpha=0.35 + 0.6 * abs(weight) / strongest,
            zorder=1,
        )
    communities = sorted({m for m in membership if not _is_missing(m)}, key=_sort_key)
    palette = dict(zip(communities, _colours(len(communities))))
    node_colours = [_UNASSIGNED_COLOUR if _is_missing(m) else palette[m] for m in membership]
    ax.scatter(coords[:, 0], coords[:, 1], s=1200, c=node_colours, edgecolors="black", zorder=2)
    for (px, py), name in zip(coords, names):
        ax.text(px, py, name, ha="center", va="center", fontsize=7, zorder=3)
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            markersize=9,
            markerfacecolor=palette[c],
            markeredgecolor="black",
            label=f"community {_format_community(c)}",
        )
        for c in communities
    ]
    if any(_is_missing(m) for m in membership):
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markersize=9,
                markerfacecolor=_UNASSIGNED_COLOUR,
                markeredgecolor="black",
                label="unassigned",
            )
        )
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.12)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return _finish(fig, path, None)


def plot_network_scores(
    scores: pd.DataFrame,
    communities: Sequence[str] | None = None,
    *,
    x: str | None = None,
    by: str | None = "id",
    path: str | PathLike[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Network scores of each community over time, one panel per id.

    Parameters
    ----------
    scores : pandas.DataFrame
        What ``net_scores`` returns: one numeric column per community, one row per
        time point (rows in time order), optionally an id column.
    communities : list of str, optional
        Score columns to draw. Defaults to every numeric column except ``x`` and ``by``.
    x : str, optional
        Column for the horizontal axis (e.g. ``"time_s"``); defaults to the row number
        within each id.
    by : str or None, default "id"
        Column identifying the person or video; one panel per value. Ignored when the
        column is absent.
    path : str or path-like, optional
        Where to save the figure.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidInputError
        ``scores`` is empty, a named column is missing or not numeric, or there are more
        than 24 ids.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"1": [0.1, 0.3, -0.2], "2": [0.5, 0.0, 0.2]})
    >>> fig = plot_network_scores(df)
    >>> fig.axes[0].get_xlabel()
    'time point'
    """
    frame = require_frame(scores, "scores", task="draw")
    if x is not None:
        require_columns(frame, [x], "scores")
    exclude = {c for c in (x, by) if c is not None}
    columns = _value_columns(frame, communities, exclude=exclude)
    groups = _groups(frame, by)
    fig, axes = _panel_grid(len(groups), sharex=False, sharey=True)
    colours = _colours(len(columns))
    for ax, (name, group) in zip(axes, groups):
        position = group[x].to_numpy(dtype=float) if x is not None else np.arange(len(group))
        for j, column in enumerate(columns):
            ax.plot(
                position, group[column].to_numpy(dtype=float), color=colours[j], lw=1.4, label=f"community {column}"
            )
        ax.axhline(0.0, color="black", lw=0.6, alpha=0.5)
        _label_panel(ax, name, _X_LABELS.get(x, x) if x is not None else "time point", "network score")
    _legend_outside(fig, axes[0], len(columns))
    return _finish(fig, path, title)


def plot_dlo_autocorrelation(
    series: Any,
    estimates: pd.DataFrame,
    dt: float = 1.0,
    *,
    max_lag: int | None = None,
    names: Sequence[str] | None = None,
    path: str | PathLike[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Observed autocorrelation of each series against the one its DLO fit implies.

    A fit that describes a series well reproduces its autocorrelation function: the
    frequency (eta) sets where it crosses zero and oscillates, the damping (zeta) how
    fast it decays.

    Parameters
    ----------
    series : array_like or list of array_like
        One 1-D series, a list of them, or a 2-D array with one series per row (NaNs are
        skipped pairwise, so trailing NaNs may pad shorter series).
    estimates : pandas.DataFrame
        ``estimate_dlo`` output with one row per series, in the same order: columns
        ``eta`` and ``zeta``; when ``sigma_q`` and ``meas_sd`` are present too, the
        measurement noise's damping of the autocorrelation is drawn as well.
    dt : float, default 1.0
        Time between samples, as passed to ``estimate_dlo``.
    max_lag : int, optional
        Largest lag in samples; default a quarter of the shortest series (at least 10).
    names : list of str, optional
        Panel titles; default ``series 0``, ``series 1``, ... or the ``label`` / ``video``
        column of ``estimates`` when present.
    path : str or path-like, optional
        Where to save the figure.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidInputError
        The number of series and of estimate rows differ, a required column is missing,
        a series has fewer than 3 observations, or there are more than 24 series.

    Examples
    --------
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> y = np.sin(np.arange(200) / 3) + 0.1 * rng.standard_normal(200)
    >>> fig = plot_dlo_autocorrelation(y, pd.DataFrame({"eta": [-1.0], "zeta": [-0.05]}))
    >>> len(fig.axes)
    1
    """
    series_list = _series_list(series)
    table = require_frame(estimates, "estimates", task="draw")
    require_columns(table, ["eta", "zeta"], "estimates")
    if len(series_list) != len(table):
        raise InvalidInputError(
            f"got {len(series_list)} series but {len(table)} rows of estimates; pass one "
            "estimate row per series, in the same order"
        )
    shortest = min(np.count_nonzero(~np.isnan(s)) for s in series_list)
    if shortest < 3:
        raise InvalidInputError("every series needs at least 3 observations for an autocorrelation")
    if max_lag is None:
        max_lag = max(10, min(s.size for s in series_list) // 4)
    if not (isinstance(max_lag, (int, np.integer)) and max_lag >= 1):
        raise InvalidInputError(f"max_lag must be a positive integer, got {max_lag!r}")
    panel_names = list(names) if names is not None else _row_names(table, "series")
    lags = np.arange(max_lag + 1)

    fig, axes = _panel_grid(len(series_list), sharex=True, sharey=True)
    for ax, values, (_, row), name in zip(axes, series_list, table.iterrows(), panel_names):
        usable_lags = lags[lags < values.size]
        ax.bar(usable_lags, _sample_autocorrelation(values, usable_lags), width=0.8, color="#9e9e9e", label="observed")
        eta, zeta = float(row["eta"]), float(row["zeta"])
        if np.isfinite(eta) and np.isfinite(zeta) and eta < 0 and zeta < 0:
            fine = np.arange(usable_lags[-1] + 1)
            ax.plot(fine, dlo_autocorrelation(eta, zeta, fine, dt), color="#1565c0", lw=1.8, label="implied by the fit")
            share = _noise_share(row, eta, zeta)
            if share > 0:
                ax.plot(
                    fine,
                    dlo_autocorrelation(eta, zeta, fine, dt, share),
                    color="#1565c0",
                    lw=1.2,
                    ls=":",
                    label="implied, with measurement noise",
                )
        ax.axhline(0.0, color="black", lw=0.6)
        ax.set_title(str(name), fontsize=10)
        ax.set_xlabel("lag (samples)")
        ax.set_ylabel("autocorrelation")
    _legend_outside(fig, axes[0], 3)
    return _finish(fig, path, title)


def plot_dlo_intervals(
    estimates: pd.DataFrame,
    parameters: Sequence[str] = _DLO_PARAMETERS,
    *,
    names: Sequence[str] | None = None,
    truth: pd.DataFrame | None = None,
    path: str | PathLike[str] | None = None,
    title: str | None = None,
) -> Figure:
    """DLO estimates with their intervals, one panel per parameter (a forest plot).

    Parameters
    ----------
    estimates : pandas.DataFrame
        ``estimate_dlo`` output: one row per series with a column per parameter and,
        when available, ``<parameter>_lo`` / ``<parameter>_hi`` interval bounds.
    parameters : list of str, default ("eta", "zeta", "sigma_q")
        Parameters to draw.
    names : list of str, optional
        Row labels; default the ``label`` / ``video`` / ``series`` column of
        ``estimates`` when present, else the row number.
    truth : pandas.DataFrame, optional
        True values (same rows, columns named after the parameters), drawn as crosses.
    path : str or path-like, optional
        Where to save the figure.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidInputError
        ``estimates`` is empty, a parameter column is missing, or ``truth`` has a
        different number of rows.

    Examples
    --------
    >>> import pandas as pd
    >>> est = pd.DataFrame({"eta": [-1.0, -0.8], "eta_lo": [-1.2, -1.0], "eta_hi": [-0.8, -0.6]})
    >>> fig = plot_dlo_intervals(est, parameters=["eta"])
    >>> len(fig.axes)
    1
    """
    table = require_frame(estimates, "estimates", task="draw")
    parameter_list = list(parameters)
    require_columns(table, parameter_list, "estimates")
    if truth is not None:
        require_columns(require_frame(truth, "truth", task="draw"), parameter_list, "truth")
        if len(truth) != len(table):
            raise InvalidInputError(f"truth has {len(truth)} rows but estimates has {len(table)}; they must match")
    row_names = list(names) if names is not None else _row_names(table, None)
    position = np.arange(len(table))[::-1]
    fig = Figure(figsize=(3.2 * len(parameter_list) + 1.5, 0.9 + 0.28 * len(table)), layout="constrained")
    axes = fig.subplots(1, len(parameter_list), sharey=True, squeeze=False)[0]
    for ax, parameter in zip(axes, parameter_list):
        value = table[parameter].to_numpy(dtype=float)
        low, high = f"{parameter}_lo", f"{parameter}_hi"
        if low in table.columns and high in table.columns:
            lower = value - table[low].to_numpy(dtype=float)
            upper = table[high].to_numpy(dtype=float) - value
            ax.errorbar(
                value,
                position,
                xerr=np.vstack([lower, upper]),
                fmt="o",
                color="#1565c0",
                ecolor="#90caf9",
                elinewidth=3,
                capsize=0,
                markersize=4,
                label="estimate, interval",
            )
        else:
            ax.plot(value, position, "o", color="#1565c0", markersize=4, label="estimate")
        if truth is not None:
            ax.plot(truth[parameter].to_numpy(dtype=float), position, "x", color="#c62828", label="true value")
        ax.set_xlim(_interval_view(value, table, parameter, truth))
        ax.set_xlabel(_PARAMETER_LABELS.get(parameter, parameter))
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(position, [str(n) for n in row_names], fontsize=8)
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    return _finish(fig, path, title)


def plot_recovery(
    truth: pd.DataFrame,
    estimates: pd.DataFrame,
    parameters: Sequence[str] = _DLO_PARAMETERS,
    *,
    path: str | PathLike[str] | None = None,
    title: str | None = None,
) -> Figure:
    """True against estimated parameters, one panel per parameter.

    Each panel has the identity line and states the Pearson correlation, the RMSE and,
    when ``estimates`` has ``<parameter>_lo`` / ``_hi`` columns, the share of intervals
    that contain the true value.

    Parameters
    ----------
    truth : pandas.DataFrame
        True values, one row per series, a column per parameter.
    estimates : pandas.DataFrame
        Estimates for the same series in the same order (e.g. ``estimate_dlo`` output).
    parameters : list of str, default ("eta", "zeta", "sigma_q")
        Parameters to draw.
    path : str or path-like, optional
        Where to save the figure.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidInputError
        The tables are empty or have different numbers of rows, or a parameter column is
        missing.

    Examples
    --------
    >>> import pandas as pd
    >>> true = pd.DataFrame({"eta": [-1.0, -0.5, -0.2]})
    >>> est = pd.DataFrame({"eta": [-0.9, -0.6, -0.2]})
    >>> fig = plot_recovery(true, est, parameters=["eta"])
    >>> "RMSE" in fig.axes[0].texts[0].get_text()
    True
    """
    true_table = require_frame(truth, "truth", task="draw")
    estimate_table = require_frame(estimates, "estimates", task="draw")
    parameter_list = list(parameters)
    require_columns(true_table, parameter_list, "truth")
    require_columns(estimate_table, parameter_list, "estimates")
    if len(true_table) != len(estimate_table):
        raise InvalidInputError(
            f"truth has {len(true_table)} rows but estimates has {len(estimate_table)}; pass "
            "the same series in the same order"
        )
    fig = Figure(figsize=(3.6 * len(parameter_list), 3.6), layout="constrained")
    axes = fig.subplots(1, len(parameter_list), squeeze=False)[0]
    for ax, parameter in zip(axes, parameter_list):
        true_values = true_table[parameter].to_numpy(dtype=float)
        estimated = estimate_table[parameter].to_numpy(dtype=float)
        low, high = f"{parameter}_lo", f"{parameter}_hi"
        has_interval = low in estimate_table.columns and high in estimate_table.columns
        if has_interval:
            lower = estimate_table[low].to_numpy(dtype=float)
            upper = estimate_table[high].to_numpy(dtype=float)
            ax.vlines(true_values, lower, upper, color="#90caf9", lw=1.0, alpha=0.6, zorder=1)
        ax.scatter(true_values, estimated, s=14, color="#1565c0", zorder=2)
        finite = np.isfinite(true_values) & np.isfinite(estimated)
        span = np.concatenate([true_values[finite], estimated[finite]])
        if span.size:
            low_end, high_end = float(span.min()), float(span.max())
            pad = 0.05 * (high_end - low_end or 1.0)
            limits = (low_end - pad, high_end + pad)
            ax.plot(limits, limits, color="black", lw=0.8, ls="--", zorder=0)
            # the points set the view; a runaway interval must not squash them
            ax.set_xlim(limits)
            ax.set_ylim(limits)
        ax.text(
            0.04,
            0.96,
            _recovery_summary(true_values, estimated, (lower, upper) if has_interval else None),
            transform=ax.transAxes,
            va="top",
            fontsize=8,
            bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
        )
        name = _PARAMETER_LABELS.get(parameter, parameter)
        ax.set_xlabel(f"true {name}")
        ax.set_ylabel(f"estimated {name}")
    return _finish(fig, path, title)


# --------------------------------------------------------------------------- helpers


def _finish(fig: Figure | SubFigure, path: str | PathLike[str] | None, title: str | None) -> Figure:
    if title:
        fig.suptitle(title)
    # axes passed in may sit in a subfigure, which cannot be saved: save and return its root figure
    root = fig if isinstance(fig, Figure) else fig.get_figure(root=True)
    assert isinstance(root, Figure)
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        root.savefig(target, dpi=120)
    return root


def _value_columns(frame: pd.DataFrame, chosen: Sequence[str] | None, exclude: set[Any]) -> list[Any]:
    if chosen is not None:
        if isinstance(chosen, str):
            chosen = [chosen]
        columns = list(chosen)
        require_columns(frame, columns, "the table")
        not_numeric = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
        if not_numeric:
            raise InvalidInputError(f"columns {not_numeric} are not numeric and cannot be drawn")
        return columns
    columns = score_columns(frame, exclude=set(exclude) | _OTHER_ID_COLUMNS)
    if not columns:
        raise InvalidInputError(
            "found no numeric value columns to draw; name them explicitly "
            f"(available: {[str(c) for c in frame.columns]})"
        )
    return columns


def _groups(frame: pd.DataFrame, by: str | None) -> list[tuple[Any, pd.DataFrame]]:
    if by is None or by not in frame.columns:
        return [(None, frame)]
    return _checked_panels(list(frame.groupby(by, sort=False)), f"values of {by!r}")


def _checked_panels(groups: list[tuple[Any, pd.DataFrame]], what: str) -> list[tuple[Any, pd.DataFrame]]:
    if len(groups) > _MAX_PANELS:
        raise InvalidInputError(
            f"{len(groups)} {what} would give {len(groups)} panels; draw at most "
            f"{_MAX_PANELS} at a time (select a subset of rows first)"
        )
    return groups


def _panel_grid(n_panels: int, sharex: bool, sharey: bool) -> tuple[Figure, list[Axes]]:
    if n_panels > _MAX_PANELS:
        raise InvalidInputError(f"{n_panels} panels requested; draw at most {_MAX_PANELS} at a time (pass a subset)")
    n_cols = min(n_panels, 3)
    n_rows = math.ceil(n_panels / n_cols)
    fig = Figure(figsize=(4.2 * n_cols + 1.6, 2.8 * n_rows), layout="constrained")
    grid = fig.subplots(n_rows, n_cols, sharex=sharex, sharey=sharey, squeeze=False).ravel()
    for unused in grid[n_panels:]:
        unused.set_visible(False)
    return fig, list(grid[:n_panels])


def _label_panel(ax: Axes, name: Any, xlabel: str, ylabel: str) -> None:
    if name is not None:
        ax.set_title(str(name), fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.margins(x=0)


def _legend_outside(fig: Figure, ax: Axes, n_entries: int) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(
            handles, labels, loc="outside right upper", frameon=False, fontsize=8, ncols=1 if n_entries <= 12 else 2
        )


def _colours(n: int) -> list[Any]:
    from matplotlib import colormaps

    palette = colormaps["tab10" if n <= 10 else "tab20"]
    return [palette(i % palette.N) for i in range(n)]


def _shade_missing(ax: Axes, time: np.ndarray, missing: np.ndarray) -> None:
    """Grey bands over the frames without a face, so gaps read as 'no face', not 'zero'."""
    if not missing.any() or time.size < 2:
        return
    half_step = float(np.median(np.diff(time))) / 2
    starts = np.flatnonzero(missing & ~np.concatenate([[False], missing[:-1]]))
    ends = np.flatnonzero(missing & ~np.concatenate([missing[1:], [False]]))
    for first, (start, end) in enumerate(zip(starts, ends)):
        ax.axvspan(
            time[start] - half_step,
            time[end] + half_step,
            color="#eeeeee",
            zorder=0,
            label="no face" if first == 0 else None,
        )


def _weight_matrix(network: Any) -> pd.DataFrame:
    weights = getattr(network, "network", network)
    if isinstance(weights, np.ndarray):
        weights = pd.DataFrame(weights)
    if not isinstance(weights, pd.DataFrame):
        raise InvalidInputError(
            "network must be an EGA result (with .network and .wc) or a square DataFrame of "
            f"edge weights, got {type(network).__name__}"
        )
    matrix = np.array(weights.to_numpy(dtype=float), copy=True)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise InvalidInputError(f"the weight matrix must be square and non-empty, got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise InvalidInputError("the weight matrix has NaN or infinite entries")
    if not np.allclose(matrix, matrix.T, atol=1e-10):
        raise InvalidInputError("the weight matrix is not symmetric; pass an undirected network")
    if list(weights.index) != list(weights.columns) and not isinstance(weights.index, pd.RangeIndex):
        raise InvalidInputError("the weight matrix's index and columns must name the same nodes in the same order")
    np.fill_diagonal(matrix, 0.0)  # self-loops carry no information in a network plot
    return pd.DataFrame(matrix, index=weights.columns, columns=weights.columns)


def _membership(wc: Any, nodes: pd.Index) -> list[Any]:
    if wc is None:
        return [math.nan] * len(nodes)
    if isinstance(wc, pd.Series) and set(nodes) <= set(wc.index):
        return list(wc.reindex(nodes))
    values = list(wc)
    if len(values) != len(nodes):
        raise InvalidInputError(f"wc has {len(values)} entries for {len(nodes)} nodes; give one community per node")
    return values


def _network_layout(matrix: np.ndarray, layout: str = "kamada_kawai") -> np.ndarray:
    import igraph

    n = matrix.shape[0]
    angles = 2 * np.pi * np.arange(n) / max(n, 1)
    circle = np.column_stack([np.cos(angles), np.sin(angles)])
    rows, cols = np.nonzero(np.triu(matrix, k=1))
    if n < 3 or rows.size == 0 or layout == "circle":
        return circle
    graph = igraph.Graph(n=n, edges=list(zip(rows.tolist(), cols.tolist())))
    strength = np.abs(matrix[rows, cols])
    if layout == "spring":
        placed = graph.layout_fruchterman_reingold(weights=strength.tolist())
    else:
        # Kamada-Kawai reads weights as lengths: strong partial correlations sit close;
        # the range is kept narrow so weak edges do not push their nodes off to the margin
        lengths = (1.0 + 1.5 * (1.0 - strength / strength.max())).tolist()
        placed = graph.layout_kamada_kawai(seed=circle.tolist(), weights=lengths)
    coords = np.asarray(placed.coords, dtype=float)
    coords -= coords.mean(axis=0)
    scale = np.abs(coords).max()
    return coords / scale if scale > 0 else circle


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, float(value)) if isinstance(value, (int, float, np.number)) else (1, str(value))


def _format_community(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _series_list(series: Any) -> list[np.ndarray]:
    if isinstance(series, pd.DataFrame):
        raise InvalidInputError(
            "pass the series as arrays (one per estimate row), e.g. [df[col].to_numpy() for col in ...]"
        )
    if isinstance(series, (list, tuple)):
        arrays = [np.asarray(s, dtype=float).ravel() for s in series]
    else:
        array = np.asarray(series, dtype=float)
        if array.ndim == 1:
            arrays = [array]
        elif array.ndim == 2:
            arrays = list(array)
        else:
            raise InvalidInputError(f"series must be 1-D or 2-D, got {array.ndim} dimensions")
    if not arrays:
        raise InvalidInputError("no series given")
    if len(arrays) > _MAX_PANELS:
        raise InvalidInputError(f"{len(arrays)} series given; draw at most {_MAX_PANELS} at a time")
    return arrays


def _sample_autocorrelation(values: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Autocorrelation with the overall mean and variance, skipping NaN pairs."""
    centred = values - np.nanmean(values)
    variance = np.nanmean(centred**2)
    n = np.count_nonzero(~np.isnan(values))
    out = np.empty(lags.size)
    for k, lag in enumerate(lags):
        products = centred[: values.size - lag] * centred[lag:]
        # the usual biased estimator (divide by n), which keeps the sequence positive definite
        out[k] = np.nansum(products) / (n * variance) if variance > 0 else np.nan
    return out


def _noise_share(row: pd.Series, eta: float, zeta: float) -> float:
    if "sigma_q" not in row.index or "meas_sd" not in row.index:
        return 0.0
    sigma_q, meas_sd = float(row["sigma_q"]), float(row["meas_sd"])
    if not (np.isfinite(sigma_q) and np.isfinite(meas_sd)) or meas_sd <= 0:
        return 0.0
    return measurement_noise_share(eta, zeta, sigma_q, meas_sd)


def _row_names(table: pd.DataFrame, prefix: str | None) -> list[str]:
    id_columns = [c for c in ("video", "label", "emotion", "series", "id") if c in table.columns]
    if id_columns:
        return [" / ".join(str(v) for v in values) for values in table[id_columns].itertuples(index=False)]
    if prefix is not None:
        return [f"{prefix} {i}" for i in range(len(table))]
    return [str(i) for i in table.index]


def _interval_view(
    value: np.ndarray, table: pd.DataFrame, parameter: str, truth: pd.DataFrame | None
) -> tuple[float, float]:
    """Axis range showing every estimate and true value, and intervals up to one more span.

    A failed fit can report an interval of 1e10; drawn in full it would flatten all
    the other rows, so intervals are cut at the edge of this range.
    """
    pieces = [value]
    if truth is not None:
        pieces.append(truth[parameter].to_numpy(dtype=float))
    points = np.concatenate(pieces)
    points = points[np.isfinite(points)]
    if points.size == 0:
        return (-1.0, 1.0)
    low, high = float(points.min()), float(points.max())
    width = high - low or max(abs(high), 1.0) * 0.1
    bounds = [table[c].to_numpy(dtype=float) for c in (f"{parameter}_lo", f"{parameter}_hi") if c in table]
    if bounds:
        finite = np.concatenate(bounds)
        finite = finite[np.isfinite(finite)]
        if finite.size:
            low = max(min(low, float(finite.min())), low - width)
            high = min(max(high, float(finite.max())), high + width)
    pad = 0.05 * (high - low)
    return (low - pad, high + pad)


def _recovery_summary(
    true_values: np.ndarray, estimated: np.ndarray, interval: tuple[np.ndarray, np.ndarray] | None
) -> str:
    finite = np.isfinite(true_values) & np.isfinite(estimated)
    if finite.sum() < 2:
        return f"n = {int(finite.sum())}"
    error = estimated[finite] - true_values[finite]
    lines = [f"n = {int(finite.sum())}", f"RMSE = {np.sqrt(np.mean(error**2)):.3g}"]
    if np.std(true_values[finite]) > 0 and np.std(estimated[finite]) > 0:
        lines.append(f"r = {np.corrcoef(true_values[finite], estimated[finite])[0, 1]:.3f}")
    if interval is not None:
        lower, upper = interval
        inside = (lower[finite] <= true_values[finite]) & (true_values[finite] <= upper[finite])
        lines.append(f"coverage = {inside.mean():.2f}")
    return "\n".join(lines)
