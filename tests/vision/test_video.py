"""Video decoding and frame sampling: exact indices and times on videos that carry their own frame numbers."""

from __future__ import annotations

import threading
import time
import warnings

import numpy as np
import pytest

from pybridge.errors import DownloadError, InvalidInputError, VideoReadError
from pybridge.vision.video import (
    ShortWindowWarning,
    iter_video_frames,
    prefetch,
    probe_video,
    sample_plan,
)
from tests.helpers import media


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("videos")
    return {
        "cfr": media.make_index_video(folder / "cfr.mp4", n_frames=30, fps=10),
        "long_gop": media.make_index_video(folder / "gop.mp4", n_frames=200, fps=25, gop=12),
        "vfr": media.make_vfr_video(folder / "vfr.mp4"),
        "rotated": media.make_rotated_video(folder / "rotated.mp4", rotation=90),
        "audio": media.make_audio_only(folder / "tone.m4a"),
        "truncated_header_first": media.make_truncated(folder / "cut_faststart.mp4", faststart=True),
        "truncated_header_last": media.make_truncated(folder / "cut.mp4", faststart=False),
        "empty": media.make_zero_byte(folder / "empty.mp4"),
        "corrupt": media.make_corrupt(folder / "noise.mp4"),
        "folder": folder,
    }


def sample(path, **plan):
    """Run the sampler; return (indices, times, pixel frame numbers, warning messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frames = list(iter_video_frames(path, sample_plan(**plan)))
    messages = [str(w.message) for w in caught if issubclass(w.category, ShortWindowWarning)]
    return (
        [f.index for f in frames],
        [f.time_s for f in frames],
        [media.frame_number(f.rgb) for f in frames],
        messages,
    )


# (nframes, ffreq, uniform, start, end) -> expected frame indices, short-window warning?
# The CFR clip has 30 frames at 10 fps: frame n is shown from n/10 s to (n+1)/10 s.
CFR_CASES = [
    pytest.param(5, 3, False, 0, -1, [0, 3, 6, 9, 12], False, id="every-3rd"),
    pytest.param(100, 15, False, 0, -1, [0, 15], True, id="defaults-short-clip"),
    pytest.param(5, 3, False, 1.05, -1, [11, 14, 17, 20, 23], False, id="fractional-start"),
    pytest.param(3, 2, False, 0.15, 0.95, [2, 4, 6], False, id="fractional-window"),
    pytest.param(4, 1, False, 0.3, 0.7, [3, 4, 5, 6], False, id="end-is-exclusive"),
    pytest.param(5, 3, False, 1.0, 1.5, [10, 13], True, id="window-too-short"),
    pytest.param(3, 5, False, 2.0, -1, [20, 25], True, id="start-only"),
    pytest.param(5, 15, False, 5, -1, [], True, id="start-past-end"),
    pytest.param(5, 3, False, 2.5, 9, [25, 28], True, id="end-past-end"),
    pytest.param(4, 1, True, 0, -1, [0, 7, 15, 22], False, id="uniform-4"),
    pytest.param(10, 99, True, 0, -1, [0, 3, 6, 9, 12, 15, 18, 21, 24, 27], False, id="uniform-ignores-ffreq"),
    pytest.param(40, 1, True, 2.5, -1, [25, 26, 27, 28, 29], True, id="uniform-more-than-window"),
    pytest.param(4, 1, True, 1, 10, [10, 15, 20, 25], True, id="uniform-end-past-end"),
    pytest.param(3, 1, True, 0.25, 0.55, [3, 4], True, id="uniform-instant-before-first-frame"),
    pytest.param(3, 1, True, 4, 6, [], True, id="uniform-start-past-end"),
]


@pytest.mark.parametrize("nframes, ffreq, uniform, start, end, expected, warns", CFR_CASES)
def test_cfr_sampling_table(videos, nframes, ffreq, uniform, start, end, expected, warns):
    indices, times, in_pixels, messages = sample(
        videos["cfr"], nframes=nframes, ffreq=ffreq, uniform=uniform, start=start, end=end
    )
    assert indices == expected
    assert in_pixels == expected  # the decoded picture is the frame the index names
    np.testing.assert_allclose(times, np.array(expected) / 10, atol=1e-9)
    assert bool(messages) == warns, messages
    assert all(0 <= i < 30 for i in indices)


def test_short_window_warning_says_what_happened(videos):
    *_, messages = sample(videos["cfr"], nframes=100, ffreq=15)
    assert any("got 2 of nframes=100" in m and "every 15th frame" in m and "3 s long" in m for m in messages)
    *_, messages = sample(videos["cfr"], nframes=4, uniform=True, start=1, end=10)
    assert any("end=10 s is past the end of the video (3 s)" in m for m in messages)


def test_seek_to_start_keeps_source_indices(videos):
    # Key frame every 12 frames: the reader seeks, then decodes only from the key frame before start.
    indices, times, in_pixels, messages = sample(videos["long_gop"], nframes=5, ffreq=3, start=7.35)
    assert indices == in_pixels == [184, 187, 190, 193, 196]
    np.testing.assert_allclose(times, np.array(indices) / 25, atol=1e-9)
    assert messages == []

    indices, _, in_pixels, _ = sample(videos["long_gop"], nframes=5, uniform=True, start=2.01, end=7.9)
    # instants 2.01 + k * 1.178 s -> frames on screen at those instants (25 fps)
    assert indices == in_pixels == [51, 79, 109, 138, 168]


@pytest.mark.parametrize("nframes", [3, 7, 13, 40])
def test_uniform_sampling_seeks_between_distant_instants(videos, monkeypatch, nframes):
    from pybridge.vision import video as video_module

    seeks = []
    original = video_module._WindowDecoder._seek_to
    monkeypatch.setattr(
        video_module._WindowDecoder, "_seek_to", lambda self, pts: seeks.append(pts) or original(self, pts)
    )
    indices, times, in_pixels, _ = sample(videos["long_gop"], nframes=nframes, uniform=True, start=0.3)
    # reference: the frame on screen at each instant of 0.3 + k * 7.7 / nframes s (25 fps, 200 frames),
    # and at least frame 8 (0.32 s), the first inside the window
    instants = 0.3 + np.arange(nframes) * (8.0 - 0.3) / nframes
    expected = sorted(set(np.maximum(np.floor(instants * 25 + 1e-6).astype(int), 8).tolist()))
    assert indices == in_pixels == expected
    # instants more than a key-frame interval (12 frames) apart are reached by seeking, not decoding
    assert len(seeks) >= (nframes if nframes <= 7 else 1)


VFR_TIMES = media.VFR_TIMES_S  # 0.0 .. 0.9 every 0.1 s, then 1.0 .. 3.7 every 0.3 s


@pytest.mark.parametrize(
    "nframes, ffreq, uniform, start, end, expected, warns",
    [
        # instants 0, 0.76, 1.52, 2.28, 3.04 s over the 3.8 s stream -> frames on screen then
        pytest.param(5, 1, True, 0, -1, [0, 7, 11, 14, 16], False, id="uniform-by-time"),
        pytest.param(5, 4, False, 0.95, -1, [10, 14, 18], True, id="every-4th-after-rate-change"),
        pytest.param(4, 1, False, 1.2, 2.0, [11, 12, 13], True, id="window-in-slow-part"),
    ],
)
def test_variable_frame_rate_uses_presentation_times(videos, nframes, ffreq, uniform, start, end, expected, warns):
    indices, times, in_pixels, messages = sample(
        videos["vfr"], nframes=nframes, ffreq=ffreq, uniform=uniform, start=start, end=end
    )
    assert indices == in_pixels == expected
    np.testing.assert_allclose(times, [VFR_TIMES[i] for i in expected], atol=1e-9)
    assert bool(messages) == warns


@pytest.mark.parametrize("suffix", [".mkv", ".mov", ".ts", ".avi", ".webm", ".mpg", ".h264"])
def test_other_containers_and_codecs(tmp_path, suffix):
    # .ts has no index (seeks land late and are retried); .h264 has no timestamps at all
    path = media.make_index_video(tmp_path / f"clip{suffix}", n_frames=30, fps=10)
    for plan, expected in [
        (dict(nframes=4, ffreq=7), [0, 7, 14, 21]),
        (dict(nframes=3, ffreq=2, start=2.05), [21, 23, 25]),
        (dict(nframes=3, uniform=True, start=1.05), [11, 17, 23]),
    ]:
        indices, times, in_pixels, messages = sample(path, **plan)
        assert indices == in_pixels == expected, plan
        np.testing.assert_allclose(times, np.array(expected) / 10, atol=1e-9)
        assert messages == []


def test_http_urls_are_streamed_by_ffmpeg(videos):
    import functools
    import http.server

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(QuietHandler, directory=str(videos["folder"]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        indices, _, in_pixels, _ = sample(f"{base}/cfr.mp4", nframes=3, ffreq=4, start=1.0)
        assert indices == in_pixels == [10, 14, 18]
        with pytest.raises(DownloadError, match="could not stream video .*missing.mp4"):
            probe_video(f"{base}/missing.mp4")
    finally:
        server.shutdown()
        server.server_close()


def test_a_live_stream_url_ends_at_the_download_deadline(videos, monkeypatch):
    """A server that never stops sending (a live MPEG-TS stream) ends in DownloadError, not a run for ever."""
    import http.server

    stream = media.make_index_video(videos["folder"] / "live.ts", n_frames=200, fps=25).read_bytes()
    stop = threading.Event()

    class LiveHandler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "video/mp2t")
            self.end_headers()
            try:
                while not stop.is_set():  # the same 8 s of video over and over, at about 4x real time
                    for start in range(0, len(stream), 4096):
                        self.wfile.write(stream[start : start + 4096])
                        time.sleep(0.01)
            except OSError:
                return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), LiveHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PYBRIDGE_DOWNLOAD_DEADLINE", "2")
    started = time.monotonic()
    try:
        with pytest.raises(DownloadError, match=r"live.ts' took longer than PYBRIDGE_DOWNLOAD_DEADLINE=2 s"):
            sample(f"http://127.0.0.1:{server.server_address[1]}/live.ts", nframes=10**6, ffreq=1)
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
    assert time.monotonic() - started < 30


def test_rotation_matches_ffmpeg_autorotate(videos):
    import imageio_ffmpeg

    frames = list(iter_video_frames(videos["rotated"], sample_plan(nframes=4, ffreq=3)))
    assert [f.index for f in frames] == [0, 3, 6, 9]
    reader = imageio_ffmpeg.read_frames(str(videos["rotated"]))
    meta = next(reader)
    width, height = meta["size"]
    reference = [np.frombuffer(raw, np.uint8).reshape(height, width, 3) for raw in reader]
    for frame in frames:
        assert frame.rgb.shape == (64, 48, 3)  # stored 64x48 landscape, shown portrait
        np.testing.assert_array_equal(frame.rgb, reference[frame.index])
        assert media.frame_number(np.rot90(frame.rgb, k=-1)) == frame.index
    # the white block stored top-left is shown bottom-left after a 90-degree counter-clockwise turn
    assert frames[0].rgb[-8:, :8].min() > 200 and frames[0].rgb[:8, :8].max() < 50
    info = probe_video(videos["rotated"])
    assert (info.width, info.height, info.rotation) == (48, 64, 90)


def test_probe_reports_stream_facts(videos):
    info = probe_video(videos["vfr"])
    assert info.frame_count == 20 and info.codec == "h264"
    assert info.duration_s == pytest.approx(3.8)
    assert (info.width, info.height) == (64, 48)


@pytest.mark.parametrize(
    "name, message",
    [
        ("empty", r"is empty \(0 bytes\)"),
        ("corrupt", "not a format ffmpeg can read, or the file is corrupt or truncated"),
        ("truncated_header_last", "not a format ffmpeg can read, or the file is corrupt or truncated"),
        ("audio", "has no video stream"),
        ("folder", "is a folder, not a video file"),
    ],
)
def test_unreadable_files_raise_typed_error_naming_the_file(videos, name, message):
    path = videos[name]
    with pytest.raises(VideoReadError, match=message) as raised:
        list(iter_video_frames(path, sample_plan()))
    assert str(path) in str(raised.value)
    with pytest.raises(VideoReadError, match=message):
        probe_video(path)


def test_missing_file(tmp_path):
    missing = tmp_path / "no such clip.mp4"
    with pytest.raises(VideoReadError, match="video file not found: .*no such clip.mp4"):
        probe_video(missing)
    with pytest.raises(InvalidInputError, match="file path or an http"):
        probe_video(42)


def test_truncated_file_keeps_unreached_instants_as_unreadable_rows(videos):
    with pytest.warns(ShortWindowWarning, match="truncated or corrupt"):
        frames = list(iter_video_frames(videos["truncated_header_first"], sample_plan(nframes=10, uniform=True)))
    assert len(frames) == 10  # every asked-for instant is a row
    decoded = [f for f in frames if f.rgb is not None]
    lost = [f for f in frames if f.rgb is None]
    assert decoded and lost
    assert [f.index for f in decoded] == [round(f.time_s * 10) for f in decoded]
    assert all(f.index is None and f.reason.startswith("not decoded:") for f in lost)
    np.testing.assert_allclose([f.time_s for f in frames], np.arange(10) * 0.5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"nframes": 0}, "nframes must be >= 1"),
        ({"nframes": 2.5}, "nframes must be a whole number"),
        ({"ffreq": 0}, "ffreq must be >= 1"),
        ({"start": -1}, "start must be >= 0"),
        ({"start": 5, "end": 3}, "end must be after start"),
        ({"end": float("nan")}, "end must be a finite number"),
        ({"uniform": True, "start": "1"}, "start must be a finite number"),
    ],
)
def test_bad_sampling_arguments(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        sample_plan(**kwargs)


def test_plan_description():
    assert sample_plan(nframes=3, ffreq=1).describe() == "every frame from 0 s to the end, at most 3 frames"
    uniform = sample_plan(nframes=8, uniform=True, start=1.5, end=9)
    assert uniform.describe() == "8 frames spread evenly from 1.5 s to 9 s"


def test_prefetch_is_bounded_and_forwards_errors():
    produced = []

    def numbers():
        for n in range(100):
            produced.append(n)
            yield n

    stream = prefetch(numbers(), maxsize=3)
    assert next(stream) == 0
    time.sleep(0.2)
    assert len(produced) <= 1 + 3 + 1  # taken + queued + one waiting to be put
    stream.close()
    assert not any(t.name == "pybridge-video-prefetch" and t.is_alive() for t in threading.enumerate())

    def failing():
        yield 1
        raise VideoReadError("boom")

    with pytest.raises(VideoReadError, match="boom"):
        list(prefetch(failing(), maxsize=2))


def test_decoding_overlaps_with_the_consumer(videos):
    # The first frame arrives while later ones are still being decoded on another thread.
    threads = set()
    for _ in iter_video_frames(videos["cfr"], sample_plan(nframes=3, ffreq=1)):
        threads |= {t.name for t in threading.enumerate()}
    assert "pybridge-video-prefetch" in threads
