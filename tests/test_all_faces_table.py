"""A ``face_selection="all"`` table with track ids through every consumer of the scores table.

Only the label columns are emotions (never ``face_id``, ``track_id`` or ``face_score``),
and each tracked face is its own series: the numbers equal those of the consumers run
on each face's own series, built independently in ``tests/helpers/score_tables.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pybridge import scores_table
from pybridge.dlo import estimate_dlo
from pybridge.dynamics import dynEGA
from pybridge.errors import InvalidInputError
from pybridge.plots import plot_emotion_series
from tests.helpers.score_tables import LABELS, all_faces_table


@pytest.fixture(scope="module")
def table_and_truth():
    return all_faces_table()


def test_split_gives_each_tracked_face_on_its_video_time_axis(table_and_truth):
    table, truth = table_and_truth
    parts = scores_table.split_face_series(table)
    assert [keys for keys, _ in parts] == [
        {"video": "a.mp4", "track_id": 0},
        {"video": "a.mp4", "track_id": 1},
        {"video": "b.mp4", "track_id": 7},
    ]
    for keys, part in parts:
        expected = truth[(keys["video"], keys["track_id"])]
        np.testing.assert_array_equal(part[LABELS].to_numpy(), expected.to_numpy())
        assert part["frame"].tolist() == list(range(0, 270, 3))
        assert not part.loc[part[LABELS[0]].isna(), "face_found"].any()


def test_score_columns_of_an_all_table_are_the_labels(table_and_truth):
    table, _ = table_and_truth
    assert scores_table.score_columns(table) == LABELS
    # without track ids, face_id separates the faces
    assert scores_table.face_series_column(table.drop(columns="track_id")) == "face_id"


def test_estimate_dlo_fits_each_face_and_label(table_and_truth):
    table, truth = table_and_truth
    result = estimate_dlo(table, dt=0.2, method="kalman")
    assert result[["video", "track_id", "label"]].values.tolist() == [
        [video, track, label] for (video, track) in truth for label in LABELS
    ]
    separately = estimate_dlo(
        [truth[key][label].to_numpy() for key in truth for label in LABELS], dt=0.2, method="kalman"
    )
    for column in ("eta", "zeta", "sigma_q", "meas_sd", "loglik", "n_obs"):
        np.testing.assert_array_equal(result[column].to_numpy(), separately[column].to_numpy(), err_msg=column)
    # dt=None reads the spacing of time_s (0.2 s up to rounding of the frame times)
    inferred = estimate_dlo(table, dt=None, method="glla")
    np.testing.assert_allclose(inferred["eta"], estimate_dlo(table, dt=0.2, method="glla")["eta"], rtol=1e-12)


def test_dynega_has_one_individual_per_face_and_only_label_variables(table_and_truth):
    table, truth = table_and_truth
    result = dynEGA(table, level=["population", "individual"], seed=1, na_derivative="kalman")
    assert result.methods["variables"] == LABELS
    assert result.methods["id_column"] == "face_series"
    assert list(result.individual) == ["a.mp4 track 0", "a.mp4 track 1", "b.mp4 track 7"]
    stacked = pd.concat(
        [frame.assign(person=f"{video} track {track}") for (video, track), frame in truth.items()],
        ignore_index=True,
    )
    reference = dynEGA(stacked, id="person", level=["population", "individual"], seed=1, na_derivative="kalman")
    pd.testing.assert_frame_equal(result.derivatives, reference.derivatives)
    pd.testing.assert_frame_equal(result.population.network, reference.population.network)


def test_emotion_plot_draws_one_panel_per_face_with_label_lines(table_and_truth):
    table, _ = table_and_truth
    figure = plot_emotion_series(table)
    titles = [ax.get_title() for ax in figure.axes if ax.get_visible() and ax.lines]
    assert titles == ["a.mp4 track 0", "a.mp4 track 1", "b.mp4 track 7"]
    for ax in figure.axes[:3]:
        assert [line.get_label() for line in ax.lines] == LABELS


def test_a_face_seen_twice_at_one_instant_is_refused(table_and_truth):
    table, _ = table_and_truth
    doubled = pd.concat([table, table.iloc[[0]]], ignore_index=True)
    with pytest.raises(InvalidInputError, match="track_id 0 occurs twice at one time_s"):
        estimate_dlo(doubled)


def test_a_real_all_table_with_tracks_splits_by_person(astronaut, feat_media, tmp_path):
    """video_scores(face_selection="all") on two faces that swap sides: track_id follows each person."""
    import cv2

    from pybridge import video_scores
    from pybridge.vision.images import load_image
    from pybridge.vision.scoring import FunctionScorer
    from tests.helpers import media

    second = np.asarray(load_image(feat_media / "single_face.jpg"))[90:450, 150:420]
    faces = (
        cv2.resize(astronaut[10:250, 120:340], (150, 164), interpolation=cv2.INTER_AREA),
        cv2.resize(second, (150, 200), interpolation=cv2.INTER_AREA),
    )
    clip = media.make_swap_video(tmp_path / "swap.mp4", faces, n_frames=24)

    def mean_colour(crops):
        means = np.array([crop.reshape(-1, 3).mean(axis=0) for crop in crops]) + 1.0
        return means / means.sum(axis=1, keepdims=True)

    scorer = FunctionScorer(mean_colour, ["red", "green", "blue"], provenance={"model": "mean-colour"})
    table = video_scores(clip, nframes=24, ffreq=1, face_selection="all", scorer=scorer, progress=False)
    assert scores_table.score_columns(table) == ["red", "green", "blue"]
    parts = scores_table.split_face_series(table)
    assert [keys for keys, _ in parts] == [{"track_id": 0}, {"track_id": 1}]
    for keys, part in parts:
        rows = table[table["track_id"] == keys["track_id"]].sort_values("time_s")
        np.testing.assert_array_equal(part["red"].to_numpy(), rows["red"].to_numpy())
        # one person's series although the person swaps sides (face_id, left to right, changes)
        assert part["face_id"].nunique() == 2 and part["track_id"].nunique() == 1
    result = estimate_dlo(table, dt=None, method="glla", on_error="nan")
    assert result[["track_id", "label"]].values.tolist() == [
        [track, label] for track in (0, 1) for label in ("red", "green", "blue")
    ]
    figure = plot_emotion_series(table)
    assert [ax.get_title() for ax in figure.axes if ax.lines] == ["track 0", "track 1"]
