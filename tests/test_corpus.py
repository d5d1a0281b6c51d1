"""Corpus scoring on a real Dask LocalCluster with 2 worker processes.

Six generated short videos, one of them corrupt: the rows equal ``video_scores`` run
in-process, the corrupt one is in ``_failures.csv``, each worker loads the model
once, and a job killed part-way and started again completes the rest without
recomputing or duplicating rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pybridge.errors import InvalidInputError
from tests.helpers.media import make_corrupt, make_face_video
from tests.helpers.tiny_models import build_tiny_clip

pytest.importorskip("distributed", reason="the [dist] extra (dask.distributed) is part of the test install")

LABELS = ["happy", "sad", "angry"]
OPTIONS = dict(nframes=4, ffreq=2, face_selection="largest")
N_GOOD = 5


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("corpus")
    model = build_tiny_clip(root / "tiny-clip")
    videos = root / "videos"
    videos.mkdir()
    for k in range(N_GOOD):
        make_face_video(videos / f"clip{k}.mp4", n_frames=8 + k, fps=5, blank=(k % 3,))
    make_corrupt(videos / "clip_bad.mp4")
    return {"root": root, "model": model, "videos": videos}


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def _reference(video: Path, model: Path) -> pd.DataFrame:
    from pybridge import video_scores

    return video_scores(str(video), LABELS, local_model_path=str(model), progress=False, **OPTIONS)


def test_corpus_matches_in_process_scores_and_lists_failures(corpus, client):
    from pybridge import score_corpus

    out = corpus["root"] / "out-cluster"
    result = score_corpus(
        corpus["videos"], LABELS, out, scheduler=client, local_model_path=str(corpus["model"]), **OPTIONS
    )

    assert (result.n_videos, result.scored, result.failed, result.skipped) == (6, 5, 1, 0)
    failures = pd.read_csv(out / "_failures.csv")
    assert failures["video"].map(lambda v: Path(v).name).tolist() == ["clip_bad.mp4"]
    assert "VideoReadError" in failures["reason"].iloc[0]

    rows = pd.read_parquet(out)
    assert rows["video"].nunique() == N_GOOD
    assert not rows.duplicated(["video", "frame"]).any()
    for k in range(N_GOOD):
        video = corpus["videos"] / f"clip{k}.mp4"
        mine = rows[rows["video"] == str(video)].sort_values("frame").reset_index(drop=True)
        expected = _reference(video, corpus["model"])
        assert mine.columns.tolist() == ["video", *expected.columns]
        assert mine["frame"].tolist() == expected["frame"].tolist()
        assert mine["face_found"].tolist() == expected["face_found"].tolist()
        np.testing.assert_allclose(mine[LABELS].to_numpy(float), expected[LABELS].to_numpy(float), atol=1e-6)
    assert result.n_rows == len(rows)

    # The model was loaded once per worker, not once per task: 5 videos, <= 2 loads.
    from pybridge.models.manager import loaded_models

    per_worker = client.run(lambda: len(loaded_models()))
    assert sorted(per_worker.values()) in ([0, 1], [1, 1])


def test_killed_job_resumes_without_recomputing(corpus):
    from pybridge import score_corpus

    out = corpus["root"] / "out-resume"
    script = textwrap.dedent(
        f"""
        import os
        os.environ["HF_HUB_OFFLINE"] = "1"
        from pybridge import score_corpus
        score_corpus({str(corpus["videos"])!r}, {LABELS!r}, {str(out)!r}, n_workers=1,
                     local_model_path={str(corpus["model"])!r}, **{OPTIONS!r})
        """
    )
    job = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ), start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and len(list(out.glob("*.parquet"))) < 2 and job.poll() is None:
        time.sleep(0.2)
    os.killpg(job.pid, 9)
    job.wait()
    finished_before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.parquet")}
    assert 1 <= len(finished_before) <= N_GOOD, "the job should have been killed part-way"

    result = score_corpus(corpus["videos"], LABELS, out, n_workers=2, local_model_path=str(corpus["model"]), **OPTIONS)
    assert result.skipped == len(finished_before)
    assert result.scored == N_GOOD - len(finished_before)
    for name, mtime in finished_before.items():
        assert (out / name).stat().st_mtime_ns == mtime, f"{name} was recomputed"
    rows = pd.read_parquet(out)
    assert rows["video"].nunique() == N_GOOD
    assert not rows.duplicated(["video", "frame"]).any()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_output_names_are_readable_distinct_and_typed():
    from pybridge.corpus import output_name

    first, second = output_name("/a/clip 1.mp4"), output_name(Path("/b/clip 1.mp4"))
    assert first.startswith("clip_1-") and first.endswith(".parquet") and first != second
    assert output_name("HTTPS://host/v.mp4?x=1").startswith("v-")
    with pytest.raises(InvalidInputError, match="a video must be a path or URL string, got int"):
        output_name(3)


def test_bad_corpus_input(tmp_path):
    from pybridge import score_corpus
    from pybridge.corpus import resolve_videos

    with pytest.raises(InvalidInputError, match="no video files"):
        resolve_videos(tmp_path)
    with pytest.raises(InvalidInputError, match="more than once"):
        resolve_videos(["a.mp4", "b.mp4", "a.mp4"])
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("name\nx.mp4\n")
    with pytest.raises(InvalidInputError, match="no video column"):
        resolve_videos(manifest)
    manifest.write_text("video\nx.mp4\nsub/y.mp4\n")
    assert resolve_videos(manifest) == [str(tmp_path / "x.mp4"), str(tmp_path / "sub" / "y.mp4")]
    with pytest.raises(InvalidInputError, match="manages 'resume'"):
        score_corpus(["a.mp4"], LABELS, tmp_path / "out", resume=True)
