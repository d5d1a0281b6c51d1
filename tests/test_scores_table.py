"""The scores-table contract: column groups, dtypes, provenance, score columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pybridge import scores_table as st
from pybridge.errors import InvalidInputError


def test_every_face_column_is_metadata_and_groups_are_disjoint():
    groups = [st.ID_COLUMNS, st.FACE_ID_COLUMNS, st.FACE_COLUMNS, st.LANDMARK_COLUMNS]
    names = [name for group in groups for name in group]
    assert len(names) == len(set(names))
    assert set(names) == st.METADATA_COLUMNS
    assert len(st.LANDMARK_COLUMNS) == 10


def test_face_ids_and_track_ids_are_not_scores():
    table = pd.DataFrame(
        {
            "frame": [0, 1],
            "time_s": [0.0, 0.5],
            "face_id": [0.0, 1.0],
            "track_id": [3.0, 4.0],
            "face_found": [True, True],
            "face_score": [0.99, 0.97],
            "happy": [0.8, 0.1],
            "sad": [0.2, 0.9],
        }
    )
    assert st.score_columns(table) == ["happy", "sad"]
    assert st.score_columns(table, exclude=["sad"]) == ["happy"]


def test_recorded_labels_win_even_when_a_label_looks_numeric_metadata():
    table = pd.DataFrame({"image": ["a"], "face_found": [True], "b": [0.5], "a": [0.5], "other": [1.0]})
    st.set_provenance(table, {"labels": ["b", "a"]})
    assert st.score_columns(table) == ["b", "a"]
    # recorded labels that are no longer all columns fall back to the numeric rule
    st.set_provenance(table, {"labels": ["b", "gone"]})
    assert st.score_columns(table) == ["b", "a", "other"]


def test_named_labels_must_exist():
    with pytest.raises(InvalidInputError, match=r"label columns \['joy'\] are not in the table"):
        st.score_columns(pd.DataFrame({"happy": [1.0]}), ["joy"])


def test_dtypes_of_a_table_with_missing_faces():
    records = [
        {"video": "a.mp4", "frame": 0, "time_s": 0, "face_found": True, "face_x": 1, "reason": None, "happy": 0.5},
        {"video": "a.mp4", "frame": 15, "time_s": 0.5, "face_found": False, "reason": st.NO_FACE_REASON},
    ]
    columns = ["video", "frame", "time_s", *st.face_columns(["happy"], "largest")]
    table = st.records_to_table(records, columns)
    assert list(table.columns) == columns
    assert table["frame"].dtype == np.int64
    assert table["face_found"].tolist() == [True, False]
    assert table["face_score"].dtype == np.float64 and table["face_score"].isna().all()
    assert table["reason"].tolist() == [None, "no face detected"]
    assert np.isnan(table.loc[1, "happy"])


def test_face_columns_order():
    assert st.face_columns(["x"], "all", tracked=True, landmarks=True)[:3] == ["face_id", "track_id", "face_found"]
    assert st.face_columns(["x"], "largest")[-1] == "x"


def test_one_face_per_frame_tables_stay_one_series_per_video_despite_track_ids():
    # "largest" tables carry track ids, but a user of transforEmotion expects one series per video
    table = pd.DataFrame(
        {
            "video": ["a.mp4"] * 3 + ["b.mp4"] * 2,
            "frame": [0, 1, 2, 0, 1],
            "track_id": [0.0, 1.0, 0.0, 5.0, 5.0],
            "face_found": [True] * 5,
            "happy": [0.1, 0.2, 0.3, 0.4, 0.5],
        }
    )
    assert st.face_series_column(table) is None
    parts = st.split_face_series(table)
    assert [keys for keys, _ in parts] == [{"video": "a.mp4"}, {"video": "b.mp4"}]
    assert [len(rows) for _, rows in parts] == [3, 2]
