"""YouTube URLs: recognised, downloaded once into the cache, typed errors without
pytubefix or without network (no test touches the network)."""

from __future__ import annotations

import sys
import types

import pytest

from pybridge import video_scores
from pybridge.errors import DownloadError, InvalidInputError, MissingDependencyError
from pybridge.vision.youtube import fetch_youtube_video, resolve_video_source, youtube_video_id

URL = "https://www.youtube.com/watch?v=hdYNcv-chgY&ab_channel=Conservatives"


@pytest.mark.parametrize(
    ("source", "video_id"),
    [
        (URL, "hdYNcv-chgY"),
        ("https://youtu.be/hdYNcv-chgY?t=10", "hdYNcv-chgY"),
        ("https://m.youtube.com/shorts/abcdefghijk", "abcdefghijk"),
        ("https://www.youtube.com/watch?feature=share&v=abcdefghijk", "abcdefghijk"),
        ("https://example.org/watch?v=abcdefghijk", None),
        ("clip.mp4", None),
        (None, None),
    ],
)
def test_youtube_urls_are_recognised(source, video_id):
    assert youtube_video_id(source) == video_id


def _fake_pytubefix(monkeypatch, error=None, content=b"mp4 bytes"):
    """A stand-in for pytubefix: writes ``content``, or raises what the network would."""
    calls = []

    class Stream:
        def download(self, output_path, filename):
            calls.append((output_path, filename))
            if error is not None:
                raise error
            with open(f"{output_path}/{filename}", "wb") as handle:
                handle.write(content)

    class Streams:
        def filter(self, **kwargs):
            assert kwargs == {"progressive": True, "file_extension": "mp4"}
            return self

        def get_highest_resolution(self):
            return Stream()

    class YouTube:
        def __init__(self, url):
            self.streams = Streams()

    monkeypatch.setitem(sys.modules, "pytubefix", types.SimpleNamespace(YouTube=YouTube))
    return calls


def test_download_once_then_reuse_the_cached_file(monkeypatch, tmp_path):
    calls = _fake_pytubefix(monkeypatch)
    path = fetch_youtube_video(URL, tmp_path)
    assert path == tmp_path / "hdYNcv-chgY.mp4" and path.read_bytes() == b"mp4 bytes"
    assert fetch_youtube_video("https://youtu.be/hdYNcv-chgY", tmp_path) == path
    assert len(calls) == 1
    assert resolve_video_source("talk.mp4") == "talk.mp4"


def test_no_network_is_a_download_error_and_leaves_no_file(monkeypatch, tmp_path):
    _fake_pytubefix(monkeypatch, error=OSError("[Errno -3] Temporary failure in name resolution"))
    with pytest.raises(DownloadError, match="could not download the YouTube video .* check the network"):
        fetch_youtube_video(URL, tmp_path)
    assert not (tmp_path / "hdYNcv-chgY.mp4").exists()


def test_missing_pytubefix_is_a_typed_error_before_any_model(monkeypatch):
    monkeypatch.setitem(sys.modules, "pytubefix", None)  # import fails
    with pytest.raises(MissingDependencyError, match=r'pip install "pybridge-emotion\[youtube\]"'):
        video_scores(URL, ["happy", "sad"], model="no-such-model")
    with pytest.raises(InvalidInputError, match="not a YouTube video URL"):
        fetch_youtube_video("https://example.org/v.mp4")


def test_video_scores_scores_the_downloaded_youtube_video(monkeypatch, tmp_path, tiny_clip_dir):
    import warnings

    from pybridge.models.cache import pybridge_cache_dir
    from tests.helpers.media import make_face_video

    clip = make_face_video(tmp_path / "face.mp4")
    calls = _fake_pytubefix(monkeypatch, content=clip.read_bytes())
    url = "https://youtu.be/abcdefghijk"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_url = video_scores(url, ["happy", "sad"], nframes=4, ffreq=1, local_model_path=tiny_clip_dir)
        from_file = video_scores(str(clip), ["happy", "sad"], nframes=4, ffreq=1, local_model_path=tiny_clip_dir)
    assert len(calls) == 1 and (pybridge_cache_dir() / "youtube" / "abcdefghijk.mp4").is_file()
    assert from_url[["happy", "sad"]].equals(from_file[["happy", "sad"]])
