"""The scores table: the one declaration of the table that every stage passes on.

Image and video scoring, the corpus runner and the embedding functions produce it;
the DLO estimators, dynEGA, the plots, the evaluation metrics and the R package read
it. This module is the only place that names its columns, sets their dtypes and reads
or writes its provenance, so producers and consumers cannot drift apart.

A table has up to four groups of columns, in this order:

``ID_COLUMNS``
    Which input and instant a row belongs to: ``video`` (several videos), ``image``,
    ``frame``, ``time_s``.
``FACE_ID_COLUMNS``
    Which face within a row's image: ``face_id`` (left-to-right index within one
    image or frame, with ``face_selection="all"``) and ``track_id`` (the same value
    for the same person across the sampled frames of a video).
``FACE_COLUMNS`` and ``LANDMARK_COLUMNS``
    The face that was scored: whether one was found, the detector's confidence, the
    box in full-resolution pixels, ``reason`` (why a row has no scores), and five
    facial landmarks where the detector gives them.
score columns
    One per label, named with the user's exact label text, in the user's order. The
    labels are recorded in the provenance, so :func:`score_columns` finds them even
    when a label looks like a metadata column.

The provenance lives in ``table.attrs["pybridge"]`` (a dict of plain values).

Examples
--------
>>> import pandas as pd
>>> table = pd.DataFrame({"frame": [0, 15], "face_found": [True, True], "happy": [0.9, 0.2]})
>>> score_columns(table)
['happy']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from .errors import InvalidInputError

__all__ = [
    "ID_COLUMNS",
    "FACE_ID_COLUMNS",
    "FACE_COLUMNS",
    "BOX_COLUMNS",
    "LANDMARK_NAMES",
    "LANDMARK_COLUMNS",
    "METADATA_COLUMNS",
    "NO_FACE_REASON",
    "PROVENANCE_KEY",
    "face_columns",
    "score_columns",
    "metadata_columns",
    "set_dtypes",
    "records_to_table",
    "get_provenance",
    "set_provenance",
    "transforemotion_shape",
    "person_series",
]

#: Which input and instant a row belongs to.
ID_COLUMNS: tuple[str, ...] = ("video", "image", "frame", "time_s")

#: Which face within one image or frame, and which person across frames.
FACE_ID_COLUMNS: tuple[str, ...] = ("face_id", "track_id")

#: The scored face's box in full-resolution pixels (NaN without a face).
BOX_COLUMNS: tuple[str, ...] = ("face_x", "face_y", "face_w", "face_h")

#: The face that was scored, in column order. ``face_score`` is the detector's
#: confidence in [0, 1] (NaN for detectors without one, such as Haar).
FACE_COLUMNS: tuple[str, ...] = ("face_found", "face_score", *BOX_COLUMNS, "reason")

#: The five facial landmarks that face detectors such as MTCNN and RetinaFace give.
LANDMARK_NAMES: tuple[str, ...] = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")

#: Landmark coordinates in full-resolution pixels, ``landmark_<name>_<x|y>``.
LANDMARK_COLUMNS: tuple[str, ...] = tuple(
    f"landmark_{name}_{axis}" for name in LANDMARK_NAMES for axis in ("x", "y")
)

#: Every column of a scores table that is not a score. A label may not take one of
#: these names: the validation of labels rejects them before any model is loaded.
METADATA_COLUMNS: frozenset[str] = frozenset(
    (*ID_COLUMNS, *FACE_ID_COLUMNS, *FACE_COLUMNS, *LANDMARK_COLUMNS)
)

#: ``reason`` of a row whose image or frame has no face (or none above the threshold).
NO_FACE_REASON = "no face detected"

#: Key of the provenance record in ``DataFrame.attrs``.
PROVENANCE_KEY = "pybridge"

_FLOAT_COLUMNS = (*BOX_COLUMNS, "face_score", *FACE_ID_COLUMNS, *LANDMARK_COLUMNS, "time_s")


def face_columns(
    scorer_columns: Sequence[str],
    face_selection: str,
    *,
    tracked: bool = False,
    landmarks: bool = False,
) -> list[str]:
    """Column order of one scored face record (without the id columns).

    Parameters
    ----------
    scorer_columns : sequence of str
        The score columns (the user's labels, in order).
    face_selection : str
        ``"all"`` adds ``face_id``; every other selection scores one face per image.
    tracked : bool, default False
        Add ``track_id`` (video scoring with a tracker).
    landmarks : bool, default False
        Add :data:`LANDMARK_COLUMNS`.

    Returns
    -------
    list of str

    Examples
    --------
    >>> face_columns(["happy"], "all")
    ['face_id', 'face_found', 'face_score', 'face_x', 'face_y', 'face_w', 'face_h', 'reason', 'happy']
    """
    columns = ["face_id"] if face_selection == "all" else []
    if tracked:
        columns.append("track_id")
    columns.extend(FACE_COLUMNS)
    if landmarks:
        columns.extend(LANDMARK_COLUMNS)
    return columns + list(scorer_columns)


def get_provenance(table: pd.DataFrame) -> dict[str, Any]:
    """The provenance record of a scores table (empty when it has none).

    Parameters
    ----------
    table : pandas.DataFrame

    Returns
    -------
    dict
        The record itself, not a copy.

    Examples
    --------
    >>> get_provenance(pd.DataFrame())
    {}
    """
    record = table.attrs.get(PROVENANCE_KEY)
    return record if isinstance(record, dict) else {}


def set_provenance(table: pd.DataFrame, record: Mapping[str, Any]) -> pd.DataFrame:
    """Attach a provenance record to a scores table, in place.

    Parameters
    ----------
    table : pandas.DataFrame
    record : mapping
        Plain values (model id and revision, labels, device, dtype, face settings ...).

    Returns
    -------
    pandas.DataFrame
        ``table``, for chaining.

    Examples
    --------
    >>> get_provenance(set_provenance(pd.DataFrame(), {"labels": ["happy"]}))
    {'labels': ['happy']}
    """
    table.attrs[PROVENANCE_KEY] = dict(record)
    return table


def score_columns(
    table: pd.DataFrame,
    labels: Sequence[str] | None = None,
    *,
    exclude: Iterable[str] = (),
) -> list[str]:
    """The score (emotion) columns of a table, in table order.

    The labels recorded in the provenance are preferred when every one of them is a
    column; otherwise every numeric, non-boolean column that is not metadata and not
    in ``exclude`` is a score column.

    Parameters
    ----------
    table : pandas.DataFrame
        A scores table, or any table of series with metadata columns.
    labels : sequence of str, optional
        Name the score columns yourself; each must be a column.
    exclude : iterable of str, optional
        Further columns that are not scores (e.g. a user's id or group column).

    Returns
    -------
    list of str

    Raises
    ------
    InvalidInputError
        A named label is not a column.

    Examples
    --------
    >>> table = pd.DataFrame({"face_id": [0.0], "track_id": [1.0], "sad": [0.3]})
    >>> score_columns(table)
    ['sad']
    """
    if labels is not None:
        labels = [str(label) if not isinstance(label, str) else label for label in labels]
        missing = [label for label in labels if label not in table.columns]
        if missing:
            raise InvalidInputError(
                f"label columns {missing} are not in the table; it has {list(table.columns)}"
            )
        return list(labels)
    excluded = set(exclude)
    recorded = get_provenance(table).get("labels")
    if isinstance(recorded, (list, tuple)) and recorded and all(label in table.columns for label in recorded):
        return [label for label in recorded if label not in excluded]
    return [
        column
        for column in table.columns
        if column not in METADATA_COLUMNS
        and column not in excluded
        and pd.api.types.is_numeric_dtype(table[column])
        and not pd.api.types.is_bool_dtype(table[column])
    ]


def metadata_columns(table: pd.DataFrame) -> list[str]:
    """The columns of ``table`` that are declared metadata, in table order.

    Examples
    --------
    >>> metadata_columns(pd.DataFrame(columns=["image", "face_found", "happy"]))
    ['image', 'face_found']
    """
    return [column for column in table.columns if column in METADATA_COLUMNS]


def set_dtypes(table: pd.DataFrame) -> pd.DataFrame:
    """Give the metadata columns present their declared dtypes, in place.

    ``face_found`` is boolean; boxes, confidences, face and track ids, landmarks and
    ``time_s`` are float64 so that "no face" is NaN (R reads it as NA in a numeric
    column); ``frame`` is int64 unless a frame number is missing; ``reason`` holds
    strings or None; ``video`` and ``image`` are strings.

    Parameters
    ----------
    table : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        ``table``, for chaining.

    Examples
    --------
    >>> set_dtypes(pd.DataFrame({"face_found": [1], "face_x": [3]})).dtypes.tolist()
    [dtype('bool'), dtype('float64')]
    """
    if "face_found" in table.columns:
        table["face_found"] = table["face_found"].astype(bool)
    for column in _FLOAT_COLUMNS:
        if column in table.columns:
            table[column] = table[column].astype("float64")
    if "frame" in table.columns:
        frame = table["frame"].astype("float64")
        table["frame"] = frame if frame.isna().any() else frame.astype("int64")
    if "reason" in table.columns:
        table["reason"] = table["reason"].astype(object).where(table["reason"].notna(), None)
    for column in ("video", "image"):
        if column in table.columns:
            table[column] = table[column].astype(str)
    return table


def records_to_table(records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Build a scores table from records, with the declared dtypes.

    Parameters
    ----------
    records : sequence of mapping
        One mapping per row; keys outside ``columns`` are ignored, missing keys are NaN.
    columns : sequence of str
        Column order (id columns, then :func:`face_columns`).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> records_to_table([{"image": "a.jpg", "face_found": False, "reason": NO_FACE_REASON}],
    ...                  ["image", "face_found", "reason"]).dtypes["face_found"]
    dtype('bool')
    """
    return set_dtypes(pd.DataFrame.from_records(list(records), columns=list(columns)))


def transforemotion_shape(table: pd.DataFrame, keep: Sequence[str] = ()) -> pd.DataFrame:
    """The table as transforEmotion returned it: only the label columns.

    transforEmotion's ``image_scores()`` and ``video_scores()`` gave one column per
    label and nothing else (a row of NaN where no face was found), and scripts index
    ``scores[, 1]`` or compare the column names with the labels. This drops every
    other column of a scores table; the rows, including those without a face, stay.

    Parameters
    ----------
    table : pandas.DataFrame
        A scores table.
    keep : sequence of str, optional
        Columns to keep in front of the labels (e.g. ``["image_id"]``, as
        transforEmotion's ``image_scores_dir()`` had).

    Returns
    -------
    pandas.DataFrame
        ``keep`` then the score columns, with the provenance record kept in ``attrs``.

    Raises
    ------
    InvalidInputError
        A ``keep`` column is not in the table.

    Examples
    --------
    >>> table = pd.DataFrame({"image": ["a.jpg"], "face_found": [True], "happy": [0.9], "sad": [0.1]})
    >>> transforemotion_shape(table).columns.tolist()
    ['happy', 'sad']
    """
    keep = list(keep)
    missing = [column for column in keep if column not in table.columns]
    if missing:
        raise InvalidInputError(f"columns {missing} are not in the table; it has {list(table.columns)}")
    shaped = table[keep + score_columns(table, exclude=keep)].reset_index(drop=True)
    shaped.attrs = dict(table.attrs)
    return shaped


def person_series(table: pd.DataFrame) -> pd.DataFrame:
    """One row per tracked person per sampled frame: the per-person series of a video table.

    A :func:`pybridge.video_scores` table with ``face_selection="all"`` has one row per
    face per frame, and a frame without faces has one empty row. This gives every
    ``track_id`` its own series over all sampled frames of its video: the person's row
    where they were found, a row of NaN scores (``face_found`` False) where they were
    not, so gaps stay visible as missing observations. dynEGA (``id="track_id"``) and
    :func:`pybridge.estimate_dlo` call it themselves.

    Parameters
    ----------
    table : pandas.DataFrame
        A scores table with ``track_id`` and ``time_s`` (and ``video`` when several
        videos are stacked).

    Returns
    -------
    pandas.DataFrame
        Same columns, rows ordered by (``video``), ``track_id``, time; the provenance
        is kept. Rows without a track (frames without faces) are dropped.

    Raises
    ------
    InvalidInputError
        No ``track_id`` or ``time_s`` column.

    Examples
    --------
    >>> table = pd.DataFrame({"time_s": [0.0, 0.0, 0.5, 1.0], "track_id": [0, 1, 1, 0],
    ...                       "face_found": [True, True, True, True], "happy": [0.9, 0.1, 0.2, 0.8]})
    >>> person_series(table)[["track_id", "time_s", "happy"]].to_numpy().tolist()
    [[0.0, 0.0, 0.9], [0.0, 0.5, nan], [0.0, 1.0, 0.8], [1.0, 0.0, 0.1], [1.0, 0.5, 0.2], [1.0, 1.0, nan]]
    """
    missing = [column for column in ("track_id", "time_s") if column not in table.columns]
    if missing:
        raise InvalidInputError(
            f"per-person series need the columns {missing}; score the video with video_scores(..., "
            'face_selection="all") to get track_id'
        )
    keys = ["video"] if "video" in table.columns else []
    grid_columns = [column for column in (*keys, "frame", "time_s") if column in table.columns]
    parts = []
    videos = table.groupby(keys, sort=False, dropna=False) if keys else [((), table)]
    for _, part in videos:
        grid = part[grid_columns].drop_duplicates("time_s").sort_values("time_s", kind="stable")
        tracked = part[part["track_id"].notna()]
        for track, rows in tracked.groupby("track_id", sort=True):
            person = grid.merge(rows.drop(columns=[c for c in grid_columns if c != "time_s"]), on="time_s", how="left")
            person["track_id"] = track
            if "face_found" in person.columns:
                person["face_found"] = person["face_found"].astype("boolean").fillna(False)
            parts.append(person)
    result = pd.concat(parts, ignore_index=True) if parts else table.iloc[:0]
    result = set_dtypes(result[list(table.columns)].reset_index(drop=True))
    result.attrs = dict(table.attrs)
    return result
