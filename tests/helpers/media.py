"""Synthetic videos for tests and benchmarks, made with the ffmpeg bundled by imageio-ffmpeg.

Every builder writes one small file in well under a second (the long benchmark clip
excepted) and returns its path. The index videos carry their own frame number in
their pixels: the left half of a frame has luma ``16 * (n % 16) + 8`` and the right
half ``16 * (n // 16) + 8``, which survives lossless H.264 and the YUV -> RGB
conversion within +-1, so :func:`frame_number` reads the number back from a decoded
RGB frame (up to frame 255).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "ffmpeg_exe",
    "frame_number",
    "make_audio_only",
    "make_benchmark_clip",
    "make_corrupt",
    "make_face_video",
    "make_index_video",
    "make_rotated_video",
    "make_swap_video",
    "swap_frames",
    "make_truncated",
    "make_vfr_video",
    "face_frames",
    "make_zero_byte",
    "VFR_TIMES_S",
]

# Lossless H.264 keeps the pixel-encoded frame numbers exact.
_LOSSLESS = ["-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p"]

# Near-lossless encoders for other containers (frame numbers survive within +-8 levels).
_CODEC_BY_SUFFIX = {
    ".webm": ["-c:v", "libvpx-vp9", "-lossless", "1"],
    ".avi": ["-c:v", "mpeg4", "-q:v", "1"],
    ".mpg": ["-c:v", "mpeg2video", "-q:v", "1"],
}

#: Presentation times of :func:`make_vfr_video`: 10 frames every 0.1 s, then 10 every 0.3 s.
VFR_TIMES_S: tuple[float, ...] = tuple(
    [round(0.1 * n, 1) for n in range(10)] + [round(1.0 + 0.3 * n, 1) for n in range(10)]
)


def ffmpeg_exe() -> str:
    """Path of the static ffmpeg shipped with imageio-ffmpeg."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _run(args: Sequence[str], stdin: bytes | None = None) -> None:
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", *args], input=stdin, check=True)


def _index_filter(size: tuple[int, int], fps: float, n_frames: int) -> str:
    width, height = size
    return (
        f"color=c=black:s={width}x{height}:r={fps}:d={n_frames / fps},format=gray,"
        r"geq=lum='if(lt(X\,W/2)\,16*mod(N\,16)+8\,16*floor(N/16)+8)'"
    )


def frame_number(rgb: np.ndarray) -> int:
    """Read the frame number an index video wrote into a decoded (unrotated) RGB frame."""
    half = rgb.shape[1] // 2
    low = round((float(np.median(rgb[:, :half])) - 8.0) / 16.0)
    high = round((float(np.median(rgb[:, half:])) - 8.0) / 16.0)
    return int(high * 16 + low)


def make_index_video(
    path: Path,
    *,
    n_frames: int = 30,
    fps: float = 10,
    size: tuple[int, int] = (64, 48),
    faststart: bool = False,
    gop: int | None = None,
) -> Path:
    """Constant-frame-rate video whose frames encode their own index (see :func:`frame_number`).

    The container follows the suffix (``.mp4``, ``.mkv``, ``.mov``, ``.ts``, ``.avi``,
    ``.webm``, ``.mpg``, or ``.h264`` for a raw stream without timestamps).

    ``gop`` sets the key-frame interval (x264 then also uses B-frames, so decode
    order differs from presentation order, as in real files).
    """
    if n_frames > 256:
        raise ValueError("index videos hold at most 256 frames")
    extra = ["-movflags", "+faststart"] if faststart else []
    if gop is not None:
        extra += ["-g", str(gop), "-bf", "2"]
    codec = _CODEC_BY_SUFFIX.get(Path(path).suffix, _LOSSLESS)
    _run(["-f", "lavfi", "-i", _index_filter(size, fps, n_frames), *codec, *extra, str(path)])
    return Path(path)


def make_vfr_video(path: Path) -> Path:
    """Variable-frame-rate MP4: frames at :data:`VFR_TIMES_S`, each encoding its index."""
    timing = r"settb=1/1000,setpts='if(lt(N\,10)\,N*100\,1000+(N-10)*300)'"
    _run(
        [
            "-f", "lavfi", "-i", _index_filter((64, 48), 10, 20) + "," + timing,
            *_LOSSLESS, "-fps_mode", "passthrough", "-video_track_timescale", "1000", str(path),
        ]
    )  # fmt: skip
    return Path(path)


def make_rotated_video(path: Path, *, rotation: int = 90, n_frames: int = 10) -> Path:
    """Index video (64x48 stored) with a display-matrix rotation; a white 8x8 block marks the stored top-left."""
    stored = Path(path).with_suffix(".unrotated.mp4")
    marker = "drawbox=x=0:y=0:w=8:h=8:color=white:t=fill"
    _run(["-f", "lavfi", "-i", _index_filter((64, 48), 10, n_frames) + "," + marker, *_LOSSLESS, str(stored)])
    _run(["-display_rotation", str(rotation), "-i", str(stored), "-c", "copy", str(path)])
    stored.unlink()
    return Path(path)


def make_audio_only(path: Path) -> Path:
    """Two seconds of a sine tone in an M4A file: a media file with no video stream."""
    _run(["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", str(path)])
    return Path(path)


def make_truncated(path: Path, *, faststart: bool) -> Path:
    """First half of a 50-frame index MP4.

    With ``faststart`` the header comes first and about half the frames still decode;
    without it the header (at the end) is lost and nothing can be opened.
    """
    full = Path(path).with_suffix(".full.mp4")
    make_index_video(full, n_frames=50, fps=10, size=(320, 240), faststart=faststart)
    data = full.read_bytes()
    full.unlink()
    Path(path).write_bytes(data[: len(data) // 2])
    return Path(path)


def make_zero_byte(path: Path) -> Path:
    """An empty file with a video name."""
    Path(path).write_bytes(b"")
    return Path(path)


def make_corrupt(path: Path, n_bytes: int = 4096, seed: int = 0) -> Path:
    """Random bytes with a video name."""
    Path(path).write_bytes(np.random.default_rng(seed).bytes(n_bytes))
    return Path(path)


def face_frames(n_frames: int = 12, size: tuple[int, int] = (400, 300), blank: Sequence[int] = (3, 7)) -> np.ndarray:
    """Frames of ``skimage.data.astronaut()`` moving and shrinking across a grey background.

    Frames listed in ``blank`` are plain grey (no face). Returns ``(n, h, w, 3)`` uint8.
    """
    from skimage import data
    from skimage.transform import resize

    width, height = size
    astronaut = data.astronaut()
    frames = np.full((n_frames, height, width, 3), 128, dtype=np.uint8)
    for n in range(n_frames):
        if n in blank:
            continue
        side = int(290 - 60 * n / max(1, n_frames - 1))
        photo = (resize(astronaut, (side, side), anti_aliasing=True) * 255).round().astype(np.uint8)
        x = int((width - side) * n / max(1, n_frames - 1))
        y = (height - side) // 2
        frames[n, y : y + side, x : x + side] = photo
    return frames


def make_face_video(path: Path, *, n_frames: int = 12, fps: float = 5, blank: Sequence[int] = (3, 7)) -> Path:
    """MP4 of :func:`face_frames` (lossless H.264, 400x300)."""
    frames = face_frames(n_frames, blank=blank)
    height, width = frames.shape[1:3]
    _run(
        [
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps), "-i", "-",
            "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p", str(path),
        ],
        stdin=frames.tobytes(),
    )  # fmt: skip
    return Path(path)


def swap_frames(
    faces: Sequence[np.ndarray], n_frames: int = 24, size: tuple[int, int] = (640, 400), absent: Sequence[int] = ()
) -> np.ndarray:
    """Two faces that change sides: ``faces[0]`` moves left to right along the top, ``faces[1]``
    right to left along the bottom, so the left-to-right order of the faces flips half way.

    Frames listed in ``absent`` leave out ``faces[0]`` (a person who leaves and comes back).
    Returns ``(n, h, w, 3)`` uint8 on a grey background.
    """
    width, height = size
    frames = np.full((n_frames, height, width, 3), 128, dtype=np.uint8)
    for n in range(n_frames):
        progress = n / max(1, n_frames - 1)
        for index, face in enumerate(faces[:2]):
            if index == 0 and n in absent:
                continue
            side_h, side_w = face.shape[:2]
            travel = width - side_w
            x = int(round(travel * (progress if index == 0 else 1.0 - progress)))
            y = 0 if index == 0 else height - side_h
            frames[n, y : y + side_h, x : x + side_w] = face
    return frames


def make_swap_video(path: Path, faces: Sequence[np.ndarray], *, n_frames: int = 24, fps: float = 8,
                    absent: Sequence[int] = ()) -> Path:  # fmt: skip
    """MP4 (lossless H.264, 640x400) of :func:`swap_frames`."""
    frames = swap_frames(faces, n_frames, absent=absent)
    height, width = frames.shape[1:3]
    _run(
        [
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps), "-i", "-",
            "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p", str(path),
        ],
        stdin=frames.tobytes(),
    )  # fmt: skip
    return Path(path)


def make_benchmark_clip(path: Path, *, seconds: int = 300, size: tuple[int, int] = (1280, 720), fps: int = 25) -> Path:
    """Long 720p test pattern with the astronaut's face moving over it (x264 ultrafast, keyframe every 10 s)."""
    from PIL import Image
    from skimage import data

    face_png = Path(path).with_suffix(".face.png")
    Image.fromarray(data.astronaut()[20:300, 120:360]).save(face_png)
    width, height = size
    overlay = "overlay=x='(W-w)/2+(W-w)/3*sin(t/7)':y='(H-h)/2+(H-h)/3*cos(t/11)'"
    _run(
        [
            "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}",
            "-loop", "1", "-i", str(face_png),
            "-filter_complex", f"[0:v][1:v]{overlay}:shortest=1,format=yuv420p",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path),
        ]
    )  # fmt: skip
    face_png.unlink()
    return Path(path)
