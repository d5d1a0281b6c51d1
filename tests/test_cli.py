"""The ``pybridge`` command: image-scores and video-scores end to end with a tiny model."""

from __future__ import annotations

import pandas as pd
import pytest

from pybridge import image_scores, video_scores
from pybridge.cli import main
from tests.helpers import media

LABELS = ["happy", "sad", "neutral"]


@pytest.fixture(scope="module")
def face_clip(tmp_path_factory):
    return media.make_face_video(tmp_path_factory.mktemp("cli") / "face.mp4", n_frames=6, fps=5, blank=(2,))


@pytest.mark.filterwarnings("ignore:.*could not be read")
def test_image_scores_command_writes_what_the_api_returns(face_folder, tiny_clip_dir, tmp_path):
    out = tmp_path / "scores.csv"
    status = main(
        ["image-scores", str(face_folder), "--labels", *LABELS, "--local-model-path", str(tiny_clip_dir),
         "--out", str(out)]
    )  # fmt: skip
    assert status == 0
    written = pd.read_csv(out)
    expected = image_scores(face_folder, LABELS, local_model_path=tiny_clip_dir, progress=False)
    assert list(written.columns) == list(expected.columns)
    assert written["reason"].isna().tolist() == expected["reason"].isna().tolist()
    pd.testing.assert_frame_equal(written[LABELS], expected[LABELS], atol=1e-6)


def test_video_scores_command_and_full_resolution_faces(face_clip, tiny_clip_dir, tmp_path):
    out = tmp_path / "video.parquet"
    status = main(
        ["video-scores", str(face_clip), "--labels", *LABELS, "--local-model-path", str(tiny_clip_dir),
         "--nframes", "6", "--ffreq", "1", "--face-detection-size", "full", "--out", str(out)]
    )  # fmt: skip
    assert status == 0
    written = pd.read_parquet(out)
    expected = video_scores(
        face_clip, LABELS, nframes=6, ffreq=1, local_model_path=tiny_clip_dir, face_detection_size=None,
        progress=False,
    )  # fmt: skip
    assert written["frame"].tolist() == expected["frame"].tolist() == list(range(6))
    assert written["face_found"].tolist() == expected["face_found"].tolist()
    assert not written["face_found"].iloc[2]  # the blanked frame is a row, not a gap
    pd.testing.assert_frame_equal(written[LABELS], expected[LABELS], atol=1e-6)


def test_bad_arguments_exit_with_a_message(face_clip, tiny_clip_dir, capsys):
    assert main(["video-scores", str(face_clip.with_name("missing.mp4")), "--labels", *LABELS]) == 2
    assert "video file not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["video-scores", str(face_clip), "--labels", *LABELS, "--face-detection-size", "big"])
    assert "expected a number of pixels or 'full'" in capsys.readouterr().err
    status = main(
        ["image-scores", str(face_clip), "--labels", "happy", "happy", "--local-model-path", str(tiny_clip_dir)]
    )  # fmt: skip
    assert status == 2
    assert "duplicate" in capsys.readouterr().err.lower()
