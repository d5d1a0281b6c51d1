"""video_scores end to end: faces in a real photograph, parity with image_scores, output files, resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pybridge import scores_table as st
from pybridge.errors import InvalidInputError, InvalidLabelsError, VideoReadError
from pybridge.vision.image_scoring import image_scores
from pybridge.vision.video import ShortWindowWarning, iter_video_frames, sample_plan
from pybridge.vision.video_scoring import video_scores
from tests.helpers import media

REPO_ROOT = Path(__file__).resolve().parents[2]
FACE_COLUMNS = list(st.FACE_COLUMNS)


class MeanColourScorer:
    """A deterministic stand-in for a model: scores are the crop's mean R, G, B shares."""

    face_crop = "padded"

    def __init__(self, delay_s: float = 0.0) -> None:
        self.columns = ["red", "green", "blue"]
        self.delay_s = delay_s
        self.n_scored = 0

    def prepare(self, faces):
        return faces

    def score_prepared(self, faces):
        time.sleep(self.delay_s)
        self.n_scored += len(faces)
        means = np.array([face.reshape(-1, 3).mean(axis=0) for face in faces], dtype=np.float64) + 1.0
        return means / means.sum(axis=1, keepdims=True)

    def provenance(self):
        return {"model": "mean-colour", "labels": list(self.columns)}


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    return {
        "face": media.make_face_video(folder / "astronaut.mp4", n_frames=12, fps=5, blank=(3, 7)),
        "index": media.make_index_video(folder / "index.mp4", n_frames=30, fps=10),
        "index2": media.make_index_video(folder / "index2.mp4", n_frames=20, fps=10),
        "truncated": media.make_truncated(folder / "cut.mp4", faststart=True),
        "audio": media.make_audio_only(folder / "tone.m4a"),
    }


def test_faces_found_and_blank_frames_kept(clips, tiny_clip_dir):
    table = video_scores(
        clips["face"], ["happy", "sad", "neutral"], nframes=12, ffreq=1, local_model_path=tiny_clip_dir
    )
    assert list(table.columns) == [
        "frame", "time_s", "track_id", *FACE_COLUMNS, *st.LANDMARK_COLUMNS, "happy", "sad", "neutral",
    ]  # fmt: skip
    # one person: one track, NaN where there is no face
    assert table.loc[table["face_found"], "track_id"].tolist() == [0.0] * 10
    assert table.loc[~table["face_found"], "track_id"].isna().all()
    assert table["frame"].tolist() == list(range(12))
    np.testing.assert_allclose(table["time_s"], np.arange(12) / 5)
    blank = table["frame"].isin([3, 7])
    assert not table.loc[blank, "face_found"].any()
    assert (table.loc[blank, "reason"] == "no face detected").all()
    assert table.loc[blank, ["happy", "sad", "neutral", "face_x"]].isna().all().all()
    assert table.loc[~blank, "face_found"].all()
    assert table.loc[~blank, "reason"].isna().all()
    np.testing.assert_allclose(table.loc[~blank, ["happy", "sad", "neutral"]].sum(axis=1), 1.0, atol=1e-6)
    # the photo moves right and shrinks: the detected box follows it
    found = table[~blank]
    assert found["face_x"].is_monotonic_increasing and found["face_w"].iloc[0] > found["face_w"].iloc[-1]
    provenance = table.attrs["pybridge"]
    assert provenance["sampling"]["ffreq"] == 1 and provenance["decoder"].startswith("pyav")
    assert provenance["labels"] == ["happy", "sad", "neutral"]
    assert provenance["videos"][str(clips["face"])]["frame_count"] == 12


def test_frame_scores_equal_image_scores_on_the_decoded_frames(clips, tiny_clip_dir):
    labels = ["a photo of a happy face", "sad", "angry"]
    table = video_scores(clips["face"], labels, nframes=4, uniform=True, local_model_path=tiny_clip_dir)
    decoded = list(iter_video_frames(clips["face"], sample_plan(nframes=4, uniform=True)))
    assert table["frame"].tolist() == [f.index for f in decoded] == [0, 3, 6, 9]
    reference = image_scores([f.rgb for f in decoded], labels, local_model_path=tiny_clip_dir, batch_size=1)
    same_missing = {"reason": ""}  # None or NaN both mean "no reason"
    pd.testing.assert_frame_equal(
        table[FACE_COLUMNS].fillna(same_missing).reset_index(drop=True),
        reference[FACE_COLUMNS].fillna(same_missing).reset_index(drop=True),
    )
    np.testing.assert_allclose(table[labels].to_numpy(), reference[labels].to_numpy(), atol=1e-6, rtol=0)


def test_several_videos_add_a_video_column(clips):
    table = video_scores(
        [clips["index"], str(clips["index2"])], nframes=3, ffreq=5, face_selection="none", scorer=MeanColourScorer()
    )
    assert list(table.columns[:3]) == ["video", "frame", "time_s"]
    assert table["video"].tolist() == [str(clips["index"])] * 3 + [str(clips["index2"])] * 3
    assert table["frame"].tolist() == [0, 5, 10, 0, 5, 10]
    # face_selection="none" scores the whole frame: the box is the frame, face_found False
    assert (table[["face_x", "face_y", "face_w", "face_h"]].to_numpy() == [0, 0, 64, 48]).all()


def test_all_faces_gives_one_row_per_face(clips):
    table = video_scores(clips["face"], nframes=4, ffreq=3, face_selection="all", scorer=MeanColourScorer())
    assert list(table.columns[:3]) == ["frame", "time_s", "face_id"]
    assert table["frame"].tolist() == [0, 3, 6, 9]  # one face per frame here; frame 3 is blank
    assert table["face_id"].tolist()[0] == 0 and np.isnan(table["face_id"].tolist()[1])
    assert table["face_found"].tolist() == [True, False, True, True]


def test_docstring_sampling_table(tmp_path):
    # The table in video_scores' docstring: a 30 s clip at 25 fps.
    clip = tmp_path / "thirty.mp4"
    subprocess.run(
        [media.ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", "color=c=gray:s=32x32:r=25:d=30",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip)],
        check=True,
    )  # fmt: skip
    cases = [
        (dict(nframes=100), list(range(0, 736, 15)), True),
        (dict(nframes=10, ffreq=25), list(range(0, 226, 25)), False),
        (dict(nframes=10, ffreq=25, start=12.5), list(range(313, 539, 25)), False),
        (dict(nframes=5, ffreq=1, start=2, end=2.2), [50, 51, 52, 53, 54], False),
        (dict(nframes=10, ffreq=1, start=2, end=2.2), [50, 51, 52, 53, 54], True),
        (dict(nframes=4, uniform=True), [0, 187, 375, 562], False),
        (dict(nframes=5, uniform=True, start=10, end=12), [250, 260, 270, 280, 290], False),
        (dict(nframes=100, uniform=True, start=29), list(range(725, 750)), True),
        (dict(nframes=4, uniform=True, start=20, end=60), [500, 562, 625, 687], True),
        (dict(nframes=5, start=40), [], True),
    ]
    for arguments, expected, warns in cases:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = video_scores(clip, face_selection="none", scorer=MeanColourScorer(), **arguments)
        assert table["frame"].tolist() == expected, arguments
        np.testing.assert_allclose(table["time_s"], np.array(expected) / 25, atol=1e-9)
        assert any(issubclass(w.category, ShortWindowWarning) for w in caught) == warns, arguments


def test_undecodable_frames_are_rows_with_a_reason(clips):
    with pytest.warns(ShortWindowWarning, match="truncated or corrupt"):
        table = video_scores(
            clips["truncated"], nframes=10, uniform=True, face_selection="none", scorer=MeanColourScorer()
        )
    assert len(table) == 10
    lost = table["frame"].isna()
    assert lost.any() and (~lost).any()
    assert table["frame"].dtype == np.float64
    assert table.loc[lost, "reason"].str.contains("not decoded").all()
    assert table.loc[lost, ["red", "green", "blue"]].isna().all().all()
    assert table.loc[~lost, ["red", "green", "blue"]].notna().all().all()


def test_bad_videos_fail_before_the_model_loads(clips, tmp_path):
    # an unknown model would raise UnknownModelError if it were loaded first
    with pytest.raises(VideoReadError, match="has no video stream") as raised:
        video_scores(clips["audio"], ["happy", "sad"], model="no-such-model")
    assert "tone.m4a" in str(raised.value)
    with pytest.raises(VideoReadError, match="not found"):
        video_scores([clips["index"], tmp_path / "gone.mp4"], ["happy", "sad"], model="no-such-model")
    with pytest.raises(InvalidLabelsError):
        video_scores(clips["index"], ["happy", "happy"], model="no-such-model")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(video=[]), "list of videos is empty"),
        (dict(video=None), "video is None"),
        (dict(video=3), "video must be a path"),
        (dict(nframes=0), "nframes must be >= 1"),
        (dict(start=3, end=1), "end must be after start"),
        (dict(face_selection="biggest"), "face_selection must be one of"),
        (dict(out="scores.xlsx"), "out must end in .csv or .parquet"),
        (dict(resume=True), "resume=True needs out="),
    ],
)
def test_bad_arguments(clips, kwargs, message):
    arguments = dict(video=clips["index"], scorer=MeanColourScorer()) | kwargs
    with pytest.raises(InvalidInputError, match=message):
        video_scores(**arguments)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_out_file_matches_the_returned_table_and_is_never_overwritten(clips, tmp_path, suffix):
    out = tmp_path / f"scores{suffix}"
    table = video_scores(clips["index"], nframes=6, ffreq=4, face_selection="none", scorer=MeanColourScorer(), out=out)
    written = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    pd.testing.assert_frame_equal(written[["frame", "time_s", "red"]], table[["frame", "time_s", "red"]])
    with pytest.raises(InvalidInputError, match="already exists; pass resume=True"):
        video_scores(clips["index"], nframes=6, ffreq=4, face_selection="none", scorer=MeanColourScorer(), out=out)
    # resuming a finished run scores nothing and returns the same rows
    again = MeanColourScorer()
    resumed = video_scores(
        clips["index"], nframes=6, ffreq=4, face_selection="none", scorer=again, out=out, resume=True
    )
    assert again.n_scored == 0
    pd.testing.assert_frame_equal(resumed[table.columns], table, check_dtype=False)
    with pytest.raises(
        InvalidInputError, match=r"settings changed since .*settings.nframes: 6 before, 7 now.*to start over"
    ):
        video_scores(
            clips["index"], nframes=7, ffreq=4, face_selection="none", scorer=MeanColourScorer(), out=out, resume=True
        )


class _Interrupt(Exception):
    pass


class CrashingScorer(MeanColourScorer):
    def __init__(self, crash_after: int) -> None:
        super().__init__()
        self.crash_after = crash_after

    def score_prepared(self, faces):
        if self.n_scored >= self.crash_after:
            raise _Interrupt
        return super().score_prepared(faces)


@pytest.mark.filterwarnings("ignore::pybridge.vision.video.ShortWindowWarning")  # the second clip is short
def test_parquet_resume_after_a_crash(clips, tmp_path):
    out = tmp_path / "scores.parquet"
    arguments = dict(nframes=15, ffreq=2, face_selection="none", batch_size=2, out=out)
    with pytest.raises(_Interrupt):
        video_scores([clips["index"], clips["index2"]], scorer=CrashingScorer(crash_after=18), **arguments)
    # 15 + 10 frames in chunks of 2: the first video's 8 chunks and 2 of the second's were saved (19 frames)
    assert not out.exists() and len(list((tmp_path / "scores.parquet.parts").glob("*.parquet"))) == 10
    finisher = MeanColourScorer()
    table = video_scores([clips["index"], clips["index2"]], scorer=finisher, resume=True, **arguments)
    assert finisher.n_scored == 15 + 10 - 19
    reference = video_scores([clips["index"], clips["index2"]], scorer=MeanColourScorer(), **{**arguments, "out": None})
    pd.testing.assert_frame_equal(table, reference)
    pd.testing.assert_frame_equal(pd.read_parquet(out), reference)
    assert not (tmp_path / "scores.parquet.parts").exists()


_KILLED_RUN = """
import sys
from tests.vision.test_video_scoring import MeanColourScorer
from pybridge.vision.video_scoring import video_scores
video_scores(sys.argv[1], nframes=30, ffreq=1, face_selection="none", batch_size=2,
             scorer=MeanColourScorer(delay_s=0.25), out=sys.argv[2])
"""


def test_kill_and_resume_csv(clips, tmp_path):
    out = tmp_path / "killed.csv"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    run = subprocess.Popen([sys.executable, "-c", _KILLED_RUN, str(clips["index"]), str(out)], cwd=REPO_ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and run.poll() is None:
            if out.exists() and out.read_text().count("\n") >= 7:  # header + at least 3 chunks
                break
            time.sleep(0.05)
        assert run.poll() is None, "the run finished or failed before it could be killed"
        os.kill(run.pid, signal.SIGKILL)
    finally:
        run.wait()
    n_done = pd.read_csv(out)["frame"].nunique()
    assert 6 <= n_done < 30
    finisher = MeanColourScorer()
    table = video_scores(
        clips["index"], nframes=30, ffreq=1, face_selection="none", batch_size=2, scorer=finisher, out=out, resume=True
    )
    assert finisher.n_scored == 30 - n_done  # nothing scored twice
    assert table["frame"].tolist() == list(range(30))  # nothing lost or duplicated
    reference = video_scores(clips["index"], nframes=30, ffreq=1, face_selection="none", scorer=MeanColourScorer())
    np.testing.assert_allclose(table[["red", "green", "blue"]], reference[["red", "green", "blue"]], atol=1e-12)
    assert pd.read_csv(out)["frame"].tolist() == list(range(30))


def test_csv_resume_drops_a_half_written_line(clips, tmp_path):
    out = tmp_path / "partial.csv"
    video_scores(clips["index"], nframes=4, ffreq=1, face_selection="none", scorer=MeanColourScorer(), out=out)
    text = out.read_text()
    out.write_text(text[: text.rstrip("\n").rfind("\n") + 1] + "3,0.3,Fal")  # killed mid-line
    finisher = MeanColourScorer()
    table = video_scores(
        clips["index"], nframes=4, ffreq=1, face_selection="none", scorer=finisher, out=out, resume=True
    )
    assert finisher.n_scored == 1 and table["frame"].tolist() == [0, 1, 2, 3]


def test_save_frames_never_replaces_files(clips, tmp_path, tiny_clip_dir):
    folder = tmp_path / "crops"
    folder.mkdir()
    keep = folder / "astronaut_f000000_t0.000.png"
    keep.write_bytes(b"not mine to delete")
    table = video_scores(
        clips["face"], ["happy", "sad"], nframes=4, ffreq=3, local_model_path=tiny_clip_dir, save_frames=folder
    )
    assert keep.read_bytes() == b"not mine to delete"
    saved = sorted(p.name for p in folder.iterdir())
    assert saved == [
        "astronaut_f000000_t0.000-1.png", "astronaut_f000000_t0.000.png", "astronaut_f000003_t0.600.png",
        "astronaut_f000006_t1.200.png", "astronaut_f000009_t1.800.png",
    ]  # fmt: skip
    from PIL import Image

    crop = Image.open(folder / "astronaut_f000006_t1.200.png")
    row = table.set_index("frame").loc[6]
    assert crop.size[0] >= row["face_w"] and crop.size[1] >= row["face_h"]  # the padded face crop
    blank = Image.open(folder / "astronaut_f000003_t0.600.png")
    assert blank.size == (400, 300)  # no face: the whole frame


def test_progress_bar(clips, capsys):
    video_scores(clips["index"], nframes=2, face_selection="none", scorer=MeanColourScorer(), progress=True)
    assert "scoring video frames" in capsys.readouterr().err
