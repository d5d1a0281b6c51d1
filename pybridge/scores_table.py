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

A table with ``face_selection="all"`` holds several faces per frame. Consumers that
read time series (the DLO estimators, dynEGA, the plots) split it with
:func:`split_face_series`: one series per video and face (``track_id`` when the
detector tracked faces, else ``face_id``), each on its video's full time axis.

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

import numpy as np
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
    "face_series_column",
    "score_columns",
    "split_face_series",
    "transforemotion_shape",
    "metadata_columns",
    "set_dtypes",
    "records_to_table",
    "get_provenance",
    "set_provenance",
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
LANDMARK_COLUMNS: tuple[str, ...] = tuple(f"landmark_{name}_{axis}" for name in LANDMARK_NAMES for axis in ("x", "y"))

#: Every column of a scores table that is not a score. A label may not take one of
#: these names: the validation of labels rejects them before any model is loaded.
METADATA_COLUMNS: frozenset[str] = frozenset((*ID_COLUMNS, *FACE_ID_COLUMNS, *FACE_COLUMNS, *LANDMARK_COLUMNS))

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
    numeric_only: bool = True,
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
    numeric_only : bool, default True
        ``False`` keeps non-numeric columns that are not metadata, for callers that
        reject them with their own message rather than skip them.

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
            raise InvalidInputError(f"label columns {missing} are not in the table; it has {list(table.columns)}")
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
        and (
            not numeric_only
            or (pd.api.types.is_numeric_dtype(table[column]) and not pd.api.types.is_bool_dtype(table[column]))
        )
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


def face_series_column(table: pd.DataFrame) -> str | None:
    """The column that tells one face's time series from another's, if the table has one.

    Parameters
    ----------
    table : pandas.DataFrame

    Returns
    -------
    str or None
        For a table of several faces per image (``face_selection="all"``, so a
        ``face_id`` column with values): ``"track_id"`` when it has values (faces
        tracked across frames), else ``"face_id"``. ``None`` for a table of one face
        per image (``"largest"``, ``"left"``, ...): its frames make one series per
        recording, as in transforEmotion, even when the rows carry track ids (name
        ``id="track_id"`` in dynEGA to split such a table by person).

    Examples
    --------
    >>> face_series_column(pd.DataFrame({"face_id": [0.0, 1.0], "track_id": [float("nan")] * 2}))
    'face_id'
    >>> face_series_column(pd.DataFrame({"track_id": [0.0, 1.0]})) is None
    True
    """
    if "face_id" not in table.columns or not table["face_id"].notna().any():
        return None
    if "track_id" in table.columns and table["track_id"].notna().any():
        return "track_id"
    return "face_id"


def _time_column(table: pd.DataFrame) -> str | None:
    return next((column for column in ("time_s", "frame", "image") if column in table.columns), None)


def split_face_series(
    table: pd.DataFrame, *, by: str | None = "video", sort_by: str | None = None
) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """Split a scores table into one time series per video and face.

    Without face ids (one face per frame) each ``by`` group is one series, in row order
    or sorted by ``sort_by``. With face ids (see :func:`face_series_column`) each face
    of a group is one series on the group's full time axis: the group's instants
    (``time_s``, else ``frame``, else ``image``) in time order, with NaN scores where
    that face was not seen. Rows without a face id (frames without any face) only
    contribute their instant.

    Parameters
    ----------
    table : pandas.DataFrame
        A scores table.
    by : str or None, default "video"
        Column naming the recording; ignored when absent.
    sort_by : str, optional
        Column to order the rows of a series without face ids by (stable sort).

    Returns
    -------
    list of (dict, pandas.DataFrame)
        The identifying values (``{"video": ..., "track_id": ...}``, empty for a single
        series) and the series' rows, in order of first appearance of the recording
        and increasing face id.

    Raises
    ------
    InvalidInputError
        A face id occurs twice at the same instant of a recording.

    Examples
    --------
    >>> table = pd.DataFrame({"time_s": [0.0, 0.0, 0.5], "face_id": [0.0, 1.0, 0.0],
    ...                       "happy": [0.1, 0.2, 0.3]})
    >>> [(keys, part["happy"].tolist()) for keys, part in split_face_series(table)]
    [({'face_id': 0}, [0.1, 0.3]), ({'face_id': 1}, [0.2, nan])]
    """
    if by is not None and by in table.columns:
        groups = [({by: name}, part) for name, part in table.groupby(by, sort=False, dropna=False)]
    else:
        groups = [({}, table)]
    face_column = face_series_column(table)
    if face_column is None:
        if sort_by is not None and sort_by in table.columns:
            groups = [(keys, part.sort_values(sort_by, kind="stable")) for keys, part in groups]
        return groups
    time_column = _time_column(table)
    instant_columns = [column for column in ("frame", "time_s", "image") if column in table.columns]
    series = []
    for keys, part in groups:
        faces = part[part[face_column].notna()]
        if time_column is not None:
            # every instant of the recording, with its frame number and time
            axis = part[instant_columns].drop_duplicates(time_column).dropna(subset=[time_column])
            if pd.api.types.is_numeric_dtype(axis[time_column]):
                axis = axis.sort_values(time_column, kind="stable")
        for face in np.sort(pd.unique(faces[face_column])):
            rows = faces[faces[face_column] == face]
            if time_column is not None:
                if rows[time_column].duplicated().any():
                    raise InvalidInputError(
                        f"{face_column} {face:g} occurs twice at one {time_column} of "
                        f"{keys or 'the table'}; a face can be seen once per instant. Pass the "
                        "rows of one face selection run"
                    )
                others = [column for column in instant_columns if column != time_column]
                rows = axis.merge(rows.drop(columns=others), on=time_column, how="left")
                rows = rows[[column for column in part.columns if column in rows.columns]]
                rows[face_column] = face
                if "face_found" in rows.columns:
                    rows["face_found"] = rows["face_found"].astype("boolean").fillna(False).astype(bool)
                for name, value in keys.items():
                    rows[name] = value
            identity = int(face) if float(face).is_integer() else face
            series.append(({**keys, face_column: identity}, rows))
    return series


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
