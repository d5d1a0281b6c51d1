"""Dynamic Exploratory Graph Analysis (EGAnet's ``dynEGA``).

Per unit (an id within a group) every variable's series gets GLLA derivatives
(``n_embed``, ``tau``, ``delta``, order 2); the order chosen by ``use_derivatives``
is stacked over units and EGA runs at the population level, per group and/or per
individual. Numbers, unit order and seeds follow EGAnet 2.5.0.
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError, InvalidInputError, SeriesTooShortError
from ..scores_table import face_series_column, score_columns, split_face_series
from .correlation import auto_correlate
from .ega import EGA, EGAResult
from .embed import NA_DERIVATIVE_MODES, glla_matrix
from .rng import reproducible_seeds, ziggurat_normals

__all__ = ["dynEGA", "DynEGAResult", "LEVELS"]

LEVELS = ("population", "group", "individual")


@dataclass
class DynEGAResult:
    """Result of :func:`dynEGA`.

    Attributes
    ----------
    derivatives : pandas.DataFrame
        EGAnet's ``EstimatesDF``: the selected derivative of every variable
        (``"<variable>.DerivOrd<k>"``), units stacked in (group, id) order, plus the
        string columns ``id`` and ``group``.
    population : EGAResult or None
        EGA of all rows (when ``"population"`` is in ``level``).
    group : dict of str to EGAResult
        EGA per group label (string keys, sorted as strings like EGAnet).
    individual : dict of str to EGAResult
        EGA per unit, keyed by the id as a string (``"id--group"`` when an id occurs in
        several groups), in unit order. Variables dropped for a unit (undefined
        correlations, EGAnet's usability check) have a zero network row/column and NaN
        membership. EGAnet names this list with the ids in order of first appearance,
        which mislabels units when that differs from the sorted order; here each
        result carries its own id.
    methods : dict
        The arguments used (``n_embed``, ``tau``, ``delta``, ``use_derivatives``, ...).
    """

    derivatives: pd.DataFrame
    population: EGAResult | None = None
    group: dict[str, EGAResult] = field(default_factory=dict)
    individual: dict[str, EGAResult] = field(default_factory=dict)
    methods: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-type view for JSON and the R package.

        Returns
        -------
        dict
            ``derivatives`` (column -> list, None for NaN), ``population`` (dict or
            None), ``group`` and ``individual`` (name -> dict), ``methods``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(0)
        >>> frame = pd.DataFrame(rng.normal(size=(60, 4)).cumsum(0), columns=list("abcd"))
        >>> sorted(dynEGA(frame, seed=1).to_dict())
        ['derivatives', 'group', 'individual', 'methods', 'population']
        """
        derivatives = {
            str(column): [
                None if (isinstance(v, float) and np.isnan(v)) else v for v in self.derivatives[column].tolist()
            ]
            for column in self.derivatives.columns
        }
        return {
            "derivatives": derivatives,
            "population": None if self.population is None else self.population.to_dict(),
            "group": {k: v.to_dict() for k, v in self.group.items()},
            "individual": {k: v.to_dict() for k, v in self.individual.items()},
            "methods": dict(self.methods),
        }


def _find_column(frame: pd.DataFrame, literal: str, argument, role: str):
    """EGAnet's rule: a column named ``literal`` (any case) wins over the argument."""
    lowered = [str(c).lower() for c in frame.columns]
    if literal in lowered:
        return frame.columns[lowered.index(literal)]
    if argument is None:
        return None
    if isinstance(argument, (int, np.integer)) and not isinstance(argument, bool):
        if not 0 <= argument < frame.shape[1]:
            raise InvalidInputError(f"{role} = {argument} is not a column position (0..{frame.shape[1] - 1})")
        return frame.columns[argument]
    if argument not in frame.columns:
        raise InvalidInputError(f"{role} column {argument!r} not found; columns are {[str(c) for c in frame.columns]}")
    return argument


#: Id column dynEGA makes for a scores table with several faces per frame.
FACE_SERIES_ID = "face_series"


def _one_unit_per_face(data: pd.DataFrame) -> pd.DataFrame:
    """One unit per video and face, each on its video's time axis (see split_face_series)."""
    parts = []
    for keys, part in split_face_series(data):
        name = " ".join(
            str(value) if column == "video" else f"{column.removesuffix('_id')} {value}"
            for column, value in keys.items()
        )
        parts.append(part.assign(**{FACE_SERIES_ID: name}))
    return pd.concat(parts, ignore_index=True)


def _factor_order(values: pd.Series) -> list:
    """Levels sorted as R sorts a factor (numbers numerically, text as strings)."""
    levels = pd.unique(values)
    if pd.api.types.is_numeric_dtype(values):
        return sorted(levels)
    return sorted(levels, key=str)


def _split_units(frame, id_column, group_column):
    ids = frame[id_column] if id_column is not None else pd.Series(1, index=frame.index)
    groups = frame[group_column] if group_column is not None else pd.Series(1, index=frame.index)
    if ids.isna().any() or groups.isna().any():
        raise InvalidInputError("the id and group columns must not contain missing values")
    units = []
    for group_level in _factor_order(groups):
        in_group = (groups == group_level).to_numpy()
        for id_level in _factor_order(ids[in_group]):
            rows = np.flatnonzero(in_group & (ids == id_level).to_numpy())
            units.append((str(id_level), str(group_level), rows))
    return units


def _variable_columns(frame, columns, excluded):
    if columns is not None:
        columns = [columns] if isinstance(columns, str) else list(columns)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InvalidInputError(f"columns {missing} are not in the data")
        chosen = columns
    else:
        chosen = score_columns(frame, exclude=excluded, numeric_only=False)
    non_numeric = [
        str(c) for c in chosen if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
    ]
    if non_numeric:
        raise InvalidInputError(
            f"non-numeric columns {non_numeric} cannot be variables; pass the emotion "
            "columns explicitly with columns=[...] or give the id column with id="
        )
    if len(chosen) < 2:
        raise InvalidInputError(f"dynEGA needs at least 2 variables, found {len(chosen)} ({[str(c) for c in chosen]})")
    empty = [str(c) for c in chosen if frame[c].isna().all()]
    if empty:
        raise InvalidInputError(
            f"columns {empty} have no observed values (e.g. no face was found in any "
            "frame); drop them or pass columns= without them"
        )
    return chosen


def _jitter(matrix: np.ndarray, seed: float, zero_jitter: float) -> np.ndarray:
    """EGAnet's zero-variance jitter: ziggurat normals (SD = zero_jitter) on constant columns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        constant = ~(np.nanmax(matrix, axis=0) > np.nanmin(matrix, axis=0))
    rows = matrix.shape[0]
    if not constant.any() or rows <= 2:
        return matrix
    noise = ziggurat_normals(int(constant.sum()) * rows, seed).reshape(-1, rows).T
    jittered = matrix.copy()
    jittered[:, constant] = matrix[:, constant] + zero_jitter * noise
    return jittered


def _normalise_levels(level) -> list[str]:
    levels = [level] if isinstance(level, str) else list(level)
    unknown = [x for x in levels if x not in LEVELS]
    if unknown or not levels:
        raise InvalidInputError(f"level must be one or more of {', '.join(LEVELS)}; got {level!r}")
    return [x for x in LEVELS if x in levels]


_EGA_OPTIONS = ("gamma", "lambda_min_ratio", "nlambda", "consensus_iter", "ordinal_categories", "algorithm_args")


def _check_arguments(data, n_embed, tau, delta, use_derivatives, zero_jitter, na_derivative, ega_options) -> None:
    """EGAnet's argument checks, as typed errors."""
    if not isinstance(data, pd.DataFrame):
        raise InvalidInputError(f"data must be a pandas DataFrame (rows = time points), got {type(data).__name__}")
    if data.columns.duplicated().any():
        duplicated = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
        raise InvalidInputError(f"duplicate column names {duplicated}; give every column a unique name")
    bounded: tuple[tuple[str, float, float, float], ...] = (
        ("n_embed", n_embed, 3, np.inf),
        ("tau", tau, 1, 3),
        ("delta", delta, 1, 3),
        ("use_derivatives", use_derivatives, 0, 2),
        ("zero_jitter", zero_jitter, 0, 0.001),
    )
    for name, value, low, high in bounded:
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise InvalidInputError(f"{name} must be a number, got {value!r}")
        if not low <= value <= high:
            allowed = f"at least {low}" if high == np.inf else f"between {low} and {high}"
            raise InvalidInputError(f"{name} must be {allowed}, got {value!r}")
    if int(n_embed) != n_embed or n_embed < 3:
        raise InvalidInputError(f"n_embed must be an integer >= 3, got {n_embed!r}")
    if int(use_derivatives) != use_derivatives:
        raise InvalidInputError(f"use_derivatives must be 0, 1 or 2, got {use_derivatives!r}")
    if na_derivative not in NA_DERIVATIVE_MODES:
        raise InvalidInputError(f"na_derivative must be one of {', '.join(NA_DERIVATIVE_MODES)}; got {na_derivative!r}")
    unknown = sorted(set(ega_options) - set(_EGA_OPTIONS))
    if unknown:
        raise InvalidInputError(f"unknown arguments {unknown}; EGA options are {', '.join(_EGA_OPTIONS)}")


def _unit_derivatives(
    series, unit_id, unit_group, unit_seed, n_embed, tau, delta, use_derivatives, na_derivative, zero_jitter, seeded
) -> np.ndarray:
    """One unit's selected derivative columns, jittered where constant (EGAnet)."""
    try:
        # EGAnet always fits order 2, whatever order is analysed
        derivative = glla_matrix(series, n_embed, tau, delta, 2, na_derivative)[:, :, int(use_derivatives)]
    except SeriesTooShortError as err:
        raise SeriesTooShortError(f"id {unit_id!r} (group {unit_group!r}) has {series.shape[0]} rows: {err}") from None
    return _jitter(derivative, unit_seed if seeded else 0, zero_jitter)


def dynEGA(  # noqa: N802 (EGAnet's name)
    data,
    id=None,  # noqa: A002 (EGAnet's argument name)
    group=None,
    n_embed: int = 5,
    tau: int = 1,
    delta: float = 1,
    use_derivatives: int = 1,
    level="population",
    model: str = "glasso",
    algorithm: str = "walktrap",
    corr: str = "auto",
    na_data: str = "pairwise",
    na_derivative: str = "none",
    seed: float | None = None,
    columns=None,
    zero_jitter: float = 0.001,
    uni_method: str = "louvain",
    ncores: int | None = None,
    **ega_options,
) -> DynEGAResult:
    """Dynamic EGA of multivariate time series, numerically as EGAnet 2.5.0.

    **Which columns are variables.** With ``columns=[...]`` exactly those. Otherwise
    the score columns of the table (:func:`pybridge.scores_table.score_columns`: the
    labels a scores table records, else every column that is not the id column, the
    group column or a scores-table metadata column such as ``frame``, ``time_s``,
    ``video``, ``face_id``, ``track_id``, the face box and ``reason``). The id column
    is, as in EGAnet, a column named ``id`` (any case) if there is one, else ``id``
    (name or 0-based position). When neither is given, or ``id="track_id"`` (or
    ``"face_id"``) names the face column: a table with several faces per
    frame (``face_selection="all"``) gets one id per video and face (column
    ``face_series``, e.g. ``"clip.mp4 track 2"``; see
    :func:`pybridge.scores_table.split_face_series`), else a ``video`` column
    (several videos scored together) is the id. The group column is likewise a
    column named ``group`` or the ``group`` argument.

    **Missing values.** Frames where no face was found have NaN scores. With
    ``na_derivative="none"`` (EGAnet's default) every window of ``n_embed``
    observations containing a NaN gives a NaN derivative row; those rows stay in the
    stacked data, correlations use pairwise-complete rows and the sample size is the
    number of rows including NaN rows (EGAnet's rules). ``"kalman"``, ``"rowwise"`` and
    ``"skipover"`` are EGAnet's alternatives (see :func:`pybridge.dynamics.glla`).

    **Constant series** (e.g. an emotion never scored) get EGAnet's jitter: normal
    noise with SD ``zero_jitter`` from EGAnet's ziggurat generator, one seed per unit.

    **Units** are the (group, id) combinations, ordered group by group and, within a
    group, by id (numbers numerically; text by code point, where R uses the locale's
    collation). Rows of a unit keep their order, which must be time order. Variable
    names are kept as given (EGAnet passes ``EstimatesDF`` names through R's
    ``make.names``).

    Parameters
    ----------
    data : pandas.DataFrame
        Rows = time points in time order within each id (e.g. ``video_scores`` output,
        or several videos' outputs concatenated with a ``video`` column).
    id, group : str or int, optional
        Id / group column (name or 0-based position), see above.
    n_embed : int, default 5
        Embedding dimension (>= 3).
    tau : int, default 1
        Offset between window members (1..3).
    delta : float, default 1
        Time between observations (1..3).
    use_derivatives : {0, 1, 2}, default 1
        Derivative order analysed (0 = smoothed level).
    level : str or list of str, default "population"
        Any of ``"population"``, ``"group"``, ``"individual"``.
    model : {"glasso", "TMFG"}, default "glasso"
    algorithm : str, default "walktrap"
        See :func:`pybridge.dynamics.EGA`.
    corr : {"auto", "pearson", "spearman"}, default "auto"
    na_data : {"pairwise", "listwise"}, default "pairwise"
    na_derivative : {"none", "kalman", "rowwise", "skipover"}, default "none"
    seed : float, optional
        EGAnet seed (jitter seeds and every EGA's Louvain runs). ``None`` (EGAnet's
        default) is not reproducible.
    columns : list of str, optional
        Variable columns to analyse.
    zero_jitter : float, default 0.001
        SD of the jitter on constant derivative columns (0..0.001).
    uni_method : {"louvain", "LE"}, default "louvain"
    ncores : int, optional
        Threads for the individual level (the glasso path and Louvain runs release
        the GIL). Default: half the cores, rounded up, as EGAnet's ``ncores``. Results
        do not depend on it.
    **ega_options
        Passed to every :func:`pybridge.dynamics.EGA` call (``gamma``,
        ``lambda_min_ratio``, ``nlambda``, ``consensus_iter``, ``ordinal_categories``,
        ``algorithm_args``).

    Returns
    -------
    DynEGAResult

    Raises
    ------
    InvalidInputError
        Not a DataFrame, duplicated or non-numeric variable columns, unknown options,
        arguments out of EGAnet's ranges, an all-NaN variable.
    SeriesTooShortError
        A unit has fewer rows than one embedding window.
    EstimationError
        A level's correlations are undefined (see :func:`pybridge.dynamics.EGA`).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame(rng.normal(size=(200, 4)).cumsum(0), columns=list("abcd"))
    >>> frame["video"] = np.repeat(["v1.mp4", "v2.mp4"], 100)
    >>> result = dynEGA(frame, level=["population", "individual"], seed=1)
    >>> sorted(result.individual), list(result.derivatives.columns[:2])
    (['v1.mp4', 'v2.mp4'], ['a.DerivOrd1', 'b.DerivOrd1'])
    """
    _check_arguments(data, n_embed, tau, delta, use_derivatives, zero_jitter, na_derivative, ega_options)
    levels = _normalise_levels(level)

    id_column = _find_column(data, "id", id, "id")
    faces = face_series_column(data)
    if faces is not None and id_column in (None, faces):
        # id="track_id" names the same per-face units: rows without a face have no id
        data, id_column = _one_unit_per_face(data), FACE_SERIES_ID
    if id_column is None and "video" in data.columns:
        id_column = "video"
    if id_column is None and "individual" in levels:
        warnings.warn("no id column: the whole data is treated as one individual", stacklevel=2)
    reduced = data.drop(columns=[id_column]) if id_column is not None else data
    group_column = _find_column(reduced, "group", group, "group")
    excluded = {c for c in (id_column, group_column) if c is not None}
    variables = _variable_columns(data, columns, excluded)
    names = [f"{v}.DerivOrd{int(use_derivatives)}" for v in variables]

    units = _split_units(data, id_column, group_column)
    values = data[variables].to_numpy(dtype=float)
    seeds = reproducible_seeds(len(units), seed) if seed is not None else np.zeros(len(units))
    blocks = [
        _unit_derivatives(
            values[rows],
            unit_id,
            unit_group,
            unit_seed,
            n_embed,
            tau,
            delta,
            use_derivatives,
            na_derivative,
            zero_jitter,
            seed is not None,
        )
        for (unit_id, unit_group, rows), unit_seed in zip(units, seeds)
    ]

    stacked = np.vstack(blocks)
    derivatives = pd.DataFrame(stacked, columns=names)
    derivatives["id"] = np.concatenate([[u[0]] * b.shape[0] for u, b in zip(units, blocks)])
    derivatives["group"] = np.concatenate([[u[1]] * b.shape[0] for u, b in zip(units, blocks)])

    options = dict(
        corr=corr, na_data=na_data, model=model, algorithm=algorithm, uni_method=uni_method, seed=seed, **ega_options
    )
    result = DynEGAResult(
        derivatives=derivatives,
        methods=dict(
            n_embed=n_embed,
            tau=tau,
            delta=delta,
            use_derivatives=use_derivatives,
            level=levels,
            na_derivative=na_derivative,
            zero_jitter=zero_jitter,
            variables=[str(v) for v in variables],
            id_column=None if id_column is None else str(id_column),
            group_column=None if group_column is None else str(group_column),
            **options,
        ),
    )
    if "individual" in levels:
        id_counts = pd.Series([u[0] for u in units]).value_counts()
        keys = [unit_id if id_counts[unit_id] == 1 else f"{unit_id}--{unit_group}" for unit_id, unit_group, _ in units]
        threads = ncores or max(1, math.ceil((os.cpu_count() or 1) / 2))
        if threads > 1 and len(blocks) > 1:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                estimates = list(
                    pool.map(
                        lambda pair: _individual_ega(pair[1], names, options, pair[0]),
                        zip(keys, blocks),
                    )
                )
        else:
            estimates = [_individual_ega(block, names, options, key) for key, block in zip(keys, blocks)]
        result.individual = dict(zip(keys, estimates))
    if "group" in levels:
        for label in sorted({u[1] for u in units}):
            rows = np.vstack([b for u, b in zip(units, blocks) if u[1] == label])
            result.group[label] = EGA(pd.DataFrame(rows, columns=names), **options)
    if "population" in levels:
        result.population = EGA(pd.DataFrame(stacked, columns=names), **options)
    return result


def _individual_ega(block: np.ndarray, names: list[str], options: dict, key: str) -> EGAResult:
    """EGA of one unit on its usable variables, padded back to all variables (EGAnet)."""
    correlation = auto_correlate(
        block,
        options["corr"],
        options["na_data"],
        options.get("ordinal_categories", 7),
        force_pd=False,
    )
    usable = np.isfinite(correlation).all(axis=0)
    if usable.sum() < 2:
        raise EstimationError(
            f"id {key!r} has fewer than 2 variables with defined correlations (constant "
            "or unobserved series); drop that id or use level='population'"
        )
    kept = [n for n, keep in zip(names, usable) if keep]
    ega = EGA(pd.DataFrame(block[:, usable], columns=kept), **options)
    if usable.all():
        return ega
    network = pd.DataFrame(0.0, index=names, columns=names)
    network.loc[kept, kept] = ega.network.to_numpy()
    correlation_frame = pd.DataFrame(np.nan, index=names, columns=names)
    correlation_frame.loc[kept, kept] = ega.correlation.to_numpy()
    wc = pd.Series(np.nan, index=names, name="wc")
    wc[kept] = ega.wc.to_numpy()
    return EGAResult(
        network=network,
        correlation=correlation_frame,
        wc=wc,
        n_dim=ega.n_dim,
        tefi=ega.tefi,
        unidimensional=ega.unidimensional,
        n=ega.n,
        methods={**ega.methods, "dropped_variables": [n for n in names if n not in kept]},
    )
