"""Discrete emotion scores to valence, arousal and dominance through a word lexicon.

A VAD lexicon rates words on valence (unpleasant - pleasant), arousal (calm -
excited) and dominance (controlled - in control). :func:`map_discrete_to_vad` looks
each emotion label of a scores table up in such a lexicon and gives every row the
score-weighted mean of its labels' ratings, or the ratings of its top label.

The NRC VAD Lexicon (Mohammad, 2018) is the usual choice; its terms allow research
use only, so pybridge does not ship it: pass your copy as a data frame or as the path
of its text file (``vad_lexicon=``).

Examples
--------
>>> import pandas as pd
>>> lexicon = pd.DataFrame({"word": ["happy", "sad"], "valence": [1.0, 0.1],
...                         "arousal": [0.7, 0.3], "dominance": [0.6, 0.2]})
>>> scores = pd.DataFrame({"happy": [0.75], "sad": [0.25]})
>>> map_discrete_to_vad(scores, lexicon).round(3).to_dict("records")
[{'valence': 0.775, 'arousal': 0.6, 'dominance': 0.5}]
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .errors import InvalidInputError, InvalidLabelsError
from .scores_table import FACE_ID_COLUMNS, ID_COLUMNS, score_columns

__all__ = ["VAD_COLUMNS", "load_vad_lexicon", "map_discrete_to_vad"]

VAD_COLUMNS: tuple[str, ...] = ("valence", "arousal", "dominance")
# Column names a lexicon may use for its words (the NRC file says "Word" or "term").
_WORD_COLUMNS: tuple[str, ...] = ("word", "term")
# Identifier columns copied from a scores table to the result: a multi-video table's
# "id", R's image_scores_dir() "image_id", and the scores table's own id columns.
_CARRIED_COLUMNS: tuple[str, ...] = ("id", "image_id", *ID_COLUMNS, *FACE_ID_COLUMNS)


def load_vad_lexicon(vad_lexicon: pd.DataFrame | str | os.PathLike) -> pd.DataFrame:
    """Read a VAD lexicon into the columns ``word``, ``valence``, ``arousal``, ``dominance``.

    Parameters
    ----------
    vad_lexicon : pandas.DataFrame, str or path-like
        A table with a word column (``word`` or ``term``) and ``valence``,
        ``arousal`` and ``dominance`` columns (any capitalisation), or the path of a
        tab- or comma-separated file holding one, such as the NRC VAD Lexicon's
        ``NRC-VAD-Lexicon.txt``.

    Returns
    -------
    pandas.DataFrame
        Words lower-cased and stripped, ratings as floats; rows with a missing value
        dropped; for a repeated word the first row kept.

    Raises
    ------
    InvalidInputError
        The file cannot be read, a needed column is missing, a rating is not a
        number, or no complete row is left.

    Examples
    --------
    >>> table = pd.DataFrame({"Word": [" Joy"], "Valence": [0.98], "Arousal": [0.82],
    ...                       "Dominance": [0.79]})
    >>> load_vad_lexicon(table)["word"].tolist()
    ['joy']
    """
    table = _read_lexicon(vad_lexicon) if isinstance(vad_lexicon, (str, os.PathLike)) else vad_lexicon
    if not isinstance(table, pd.DataFrame):
        raise InvalidInputError(
            f"vad_lexicon must be a data frame or the path of a lexicon file, got {type(vad_lexicon).__name__}"
        )
    by_lower = {str(column).strip().lower(): column for column in table.columns}
    word_column = next((by_lower[name] for name in _WORD_COLUMNS if name in by_lower), None)
    missing = [name for name in VAD_COLUMNS if name not in by_lower]
    if word_column is None or missing:
        needed = (["word"] if word_column is None else []) + missing
        raise InvalidInputError(
            f"the VAD lexicon lacks the column(s) {needed}; it needs a word (or term) column and valence, "
            f"arousal and dominance columns. Its columns: {[str(c) for c in table.columns]}"
        )
    out = pd.DataFrame({"word": table[word_column].astype("string").str.strip().str.lower()})
    for name in VAD_COLUMNS:
        values = pd.to_numeric(table[by_lower[name]], errors="coerce")
        if (values.isna() & table[by_lower[name]].notna()).any():
            raise InvalidInputError(f"the lexicon's {name} column holds values that are not numbers")
        out[name] = values.astype(float)
    out = out.dropna().drop_duplicates("word", keep="first").reset_index(drop=True)
    if out.empty:
        raise InvalidInputError("the VAD lexicon has no complete row (word and three ratings)")
    out["word"] = out["word"].astype(str)
    return out


def map_discrete_to_vad(
    scores: pd.DataFrame,
    vad_lexicon: pd.DataFrame | str | os.PathLike,
    weighted: bool = True,
    labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Valence, arousal and dominance of each row of a table of emotion scores.

    Parameters
    ----------
    scores : pandas.DataFrame
        The output of :func:`pybridge.image_scores` or :func:`pybridge.video_scores`,
        or any table whose numeric columns are emotion labels with scores.
    vad_lexicon : pandas.DataFrame, str or path-like
        The lexicon (see :func:`load_vad_lexicon`).
    weighted : bool, default True
        ``True``: the mean of the ratings of the row's labels found in the lexicon,
        weighted by their scores (renormalised over those labels). ``False``: the
        ratings of the row's highest-scoring label.
    labels : sequence of str, optional
        The label columns; by default the table's score columns (the labels recorded
        in its provenance, else its numeric non-metadata columns).

    Returns
    -------
    pandas.DataFrame
        One row per row of ``scores``: its identifier columns (``image``, ``video``,
        ``frame``, ``time_s``, ``face_id``, ... when present), then ``valence``,
        ``arousal`` and ``dominance``. Rows without scores (no face) are NaN.

    Raises
    ------
    InvalidInputError
        ``scores`` is not a data frame or has no rows or no score columns, a bad
        lexicon (see :func:`load_vad_lexicon`), or ``weighted`` is not a bool.
    InvalidLabelsError
        None of the labels is a word of the lexicon.

    Warns
    -----
    UserWarning
        Some labels are not in the lexicon; they are left out (a row whose top label
        is one of them gets NaN with ``weighted=False``).

    Notes
    -----
    Labels are matched to lexicon words exactly, ignoring case and surrounding
    spaces. Unlike transforEmotion there is no substring matching, which would rate
    "anger" with the ratings of "danger".

    Examples
    --------
    >>> lexicon = pd.DataFrame({"word": ["happy", "sad"], "valence": [1.0, 0.1],
    ...                         "arousal": [0.7, 0.3], "dominance": [0.6, 0.2]})
    >>> scores = pd.DataFrame({"image": ["a.jpg"], "happy": [0.75], "sad": [0.25]})
    >>> map_discrete_to_vad(scores, lexicon, weighted=False).to_dict("records")
    [{'image': 'a.jpg', 'valence': 1.0, 'arousal': 0.7, 'dominance': 0.6}]
    """
    if not isinstance(scores, pd.DataFrame):
        raise InvalidInputError(f"scores must be a data frame of emotion scores, got {type(scores).__name__}")
    if scores.empty:
        raise InvalidInputError("scores has no rows; there is nothing to map")
    if not isinstance(weighted, (bool, np.bool_)):
        raise InvalidInputError(f"weighted must be True or False, got {weighted!r}")
    lexicon = load_vad_lexicon(vad_lexicon).set_index("word")
    columns = score_columns(scores, labels, exclude=_CARRIED_COLUMNS)
    if not columns:
        raise InvalidInputError(
            f"scores has no numeric emotion columns; its columns are {[str(c) for c in scores.columns]}"
        )
    keys = [str(label).strip().lower() for label in columns]
    found = [key in lexicon.index for key in keys]
    if not any(found):
        raise InvalidLabelsError(
            f"none of the labels {columns} is a word of the VAD lexicon; use single emotion words "
            "(e.g. 'happy', 'anger') or pass labels= naming the columns to map"
        )
    if not all(found):
        unmatched = [label for label, hit in zip(columns, found) if not hit]
        warnings.warn(
            f"labels {unmatched} are not in the VAD lexicon and are left out of the mapping",
            UserWarning,
            stacklevel=2,
        )
    values = scores[columns].to_numpy(dtype=float)
    ratings = np.full((len(columns), len(VAD_COLUMNS)), np.nan)
    for i, (key, hit) in enumerate(zip(keys, found)):
        if hit:
            ratings[i] = lexicon.loc[key, list(VAD_COLUMNS)].to_numpy(dtype=float)
    mapped = _weighted_ratings(values[:, found], ratings[found]) if weighted else _top_label_ratings(values, ratings)
    out = scores[[c for c in _CARRIED_COLUMNS if c in scores.columns]].reset_index(drop=True)
    for position, name in enumerate(VAD_COLUMNS):
        out[name] = mapped[:, position]
    return out


def _weighted_ratings(values: np.ndarray, ratings: np.ndarray) -> np.ndarray:
    weights = np.where(np.isnan(values), 0.0, values)
    if np.any(weights < 0):
        raise InvalidInputError("scores must not be negative to weight the lexicon ratings")
    totals = weights.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        mapped = (weights @ ratings) / totals
    mapped[totals[:, 0] == 0] = np.nan
    return mapped


def _top_label_ratings(values: np.ndarray, ratings: np.ndarray) -> np.ndarray:
    scored = ~np.all(np.isnan(values), axis=1)
    mapped = np.full((values.shape[0], ratings.shape[1]), np.nan)
    top = np.nanargmax(np.where(np.isnan(values), -np.inf, values)[scored], axis=1)
    mapped[scored] = ratings[top]
    return mapped


def _read_lexicon(path: str | os.PathLike) -> pd.DataFrame:
    text_path = os.fspath(path)
    if not os.path.isfile(text_path):
        raise InvalidInputError(
            f"VAD lexicon file {text_path!r} not found; download the NRC VAD Lexicon from "
            "https://saifmohammad.com/WebPages/nrc-vad.html (research use) and pass the path of "
            "NRC-VAD-Lexicon.txt, or pass a data frame"
        )
    try:
        # tab-separated (the NRC file) or comma-separated, told apart by the parser
        return pd.read_csv(text_path, sep=None, engine="python")
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise InvalidInputError(f"could not read the VAD lexicon {text_path!r}: {err}") from err
