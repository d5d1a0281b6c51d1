"""Hostile inputs at every entry point end in a typed error or in correct rows.

One table of cases (:data:`CASES`): each names an input and what must come of it,
either a :class:`pybridge.errors.PyBridgeError` subclass (with a pattern its message
must match) or a check on the rows returned. Network cases run against servers this
module starts on 127.0.0.1 (a socket that accepts and never answers, one that sends
a byte at a time, one with a huge body); every server loop stops by itself, and the
deadlines are made short through pybridge's limits (environment variables). Cases
that could exhaust memory run in a forked child whose resident memory is watched
and capped at 2 GiB; their peak is recorded.

Each case runs on a thread with a time limit, so a hang is reported as a failure
instead of stopping the suite. Set ``PYBRIDGE_ROBUSTNESS_REPORT=<file>`` to write
the outcome of every case and a table of outcomes by kind (typed error, correct
rows, other) to that file.

Examples
--------
.. code-block:: console

    $ python3 -m pytest -q tests/test_robustness.py
    $ PYBRIDGE_ROBUSTNESS_REPORT=/tmp/robustness.txt python3 -m pytest -q tests/test_robustness.py
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import pickle
import re
import shutil
import socket
import struct
import tempfile
import threading
import time
import traceback
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from pybridge import errors as E
from pybridge.vision.scoring import FunctionScorer
from tests.helpers import media

LABELS = ["happy", "sad", "neutral"]
MEMORY_CAP_BYTES = 2 * 1024**3
#: Deadlines the cases run under (seconds); see pybridge.limits.
SHORT_LIMITS = {
    "PYBRIDGE_CONNECT_TIMEOUT": "0.5",
    "PYBRIDGE_REQUEST_DEADLINE": "1.5",
    "PYBRIDGE_DOWNLOAD_DEADLINE": "2",
    "PYBRIDGE_MAX_URL_BYTES": str(4 * 1024**2),
}
#: No stalled-endpoint case may take longer than this (the issue's bound).
STALL_BOUND_S = 30.0


# ------------------------------------------------------------------------- the table


@dataclass
class Case:
    """One hostile input and what must come of it."""

    id: str
    run: Callable[[Ctx], Any]
    expect: Any  # a PyBridgeError subclass, CLI_ERROR, or a predicate on the result
    match: str | None = None  # regex the error message must contain
    isolated: bool = False  # run in a forked child with a 2 GiB resident-memory cap (never use torch there)
    timeout: float = float(os.environ.get("PYBRIDGE_ROBUSTNESS_CASE_TIMEOUT", STALL_BOUND_S))


CLI_ERROR = "cli-error"  # exit status 2, one `error: ...` line, no traceback
CASES: list[Case] = []


def case(id: str, expect: Any, match: str | None = None, **options: Any) -> Callable:
    def register(run: Callable) -> Callable:
        CASES.append(Case(id, run, expect, match, **options))
        return run

    return register


def add(id: str, run: Callable, expect: Any, match: str | None = None, **options: Any) -> None:
    CASES.append(Case(id, run, expect, match, **options))


# ----------------------------------------------------------------- shared environment


class Ctx:
    """Inputs the cases share: a tiny model, media files, servers, scratch folders."""

    def __init__(self, root: Path, model: Path, astronaut: np.ndarray) -> None:
        self.root = root
        self.model = model
        self.no_model = root / "no-model-here"  # proves that a check ran before any model load
        self.astronaut = astronaut
        media_dir = root / "media"
        media_dir.mkdir()
        self.face_png = media_dir / "face.png"
        Image.fromarray(astronaut).save(self.face_png)
        self.grey = np.asarray(Image.fromarray(astronaut).convert("L"))
        self.video = media.make_face_video(media_dir / "a.mp4", n_frames=10, fps=5, blank=(3,))
        self.video_b = media.make_face_video(media_dir / "b.mp4", n_frames=10, fps=5, blank=(6,))
        self.truncated = media.make_truncated(media_dir / "cut.mp4", faststart=True)
        self.audio = media.make_audio_only(media_dir / "tone.m4a")
        self.corrupt = media.make_corrupt(media_dir / "noise.mp4")
        self.bomb = png_bomb(media_dir / "bomb.png", 30000, 30000)  # 3.9 MB file, 900 M pixels
        self.bomb_rgba = png_bomb(media_dir / "bomb-rgba.png", 12000, 12000, mode="RGBA")  # 2.5 MB, 576 MB decoded
        self.servers = Servers()
        self.client = None

    def fresh(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="case-", dir=self.root))  # unique also in forked children

    def dask_client(self):
        if self.client is None:
            from distributed import Client, LocalCluster

            cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0")
            self.client = Client(cluster)
        return self.client

    def close(self) -> None:
        if self.client is not None:
            cluster = self.client.cluster
            self.client.close()
            cluster.close()
        self.servers.close()


class Servers:
    """HTTP and raw-socket servers on 127.0.0.1; every loop ends by itself."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        png = io.BytesIO()
        Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(png, format="PNG")
        self.png = png.getvalue()
        # accepts connections (the kernel completes the handshake) and never answers
        self.silent = socket.socket()
        self.silent.bind(("127.0.0.1", 0))
        self.silent.listen(64)
        self.silent_url = f"http://127.0.0.1:{self.silent.getsockname()[1]}"
        # a port with nothing listening
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.closed_url = f"http://127.0.0.1:{probe.getsockname()[1]}"
        probe.close()
        servers = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                route = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
                mode = self.path.strip("/").split("/")[0]
                try:
                    if mode == "drip":
                        return servers.drip(self)
                    if mode == "huge":
                        return servers.huge(self, chunked=False)
                    if mode == "hugechunked":
                        return servers.huge(self, chunked=True)
                    if mode == "redirect":
                        self.send_response(302)
                        self.send_header("Location", self.path)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    if mode == "error500":
                        return servers.reply(self, 500, b"oops", "text/plain")
                    if mode == "garbage":
                        return servers.reply(self, 200, b"\x00\x01not json{", "application/json")
                    if route.endswith(".png"):
                        return servers.reply(self, 200, servers.png, "image/png")
                    if route.endswith(".html"):
                        return servers.reply(self, 200, b"<html>hello</html>", "text/html")
                    return servers.reply(self, 404, b"not found", "text/plain")
                except (BrokenPipeError, ConnectionResetError, OSError):
                    return

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.thread = threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    @staticmethod
    def reply(handler, status: int, body: bytes, content_type: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def drip(self, handler) -> None:
        """Headers, then one byte every 0.2 s: never idle long enough for a read timeout."""
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Content-Length", str(10**6))
        handler.end_headers()
        for _ in range(600):  # bounded: 120 s at most
            if self.stop.is_set():
                return
            handler.wfile.write(b"\x89")
            handler.wfile.flush()
            time.sleep(0.2)

    def huge(self, handler, *, chunked: bool) -> None:
        """A 1.5 GiB body of zeros, produced lazily until the client hangs up."""
        size = 3 * 2**29
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        if chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Content-Length", str(size))
        handler.end_headers()
        block = b"\x00" * 2**16
        for _ in range(size // len(block)):
            if self.stop.is_set():
                return
            if chunked:
                handler.wfile.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")
            else:
                handler.wfile.write(block)

    def close(self) -> None:
        self.stop.set()
        self.http.shutdown()
        self.http.server_close()
        self.silent.close()


@contextlib.contextmanager
def hub_at(endpoint: str):
    """Point huggingface_hub at ``endpoint`` with downloads allowed, for one case."""
    from huggingface_hub import constants

    saved = constants.HF_HUB_OFFLINE, constants.ENDPOINT
    constants.HF_HUB_OFFLINE, constants.ENDPOINT = False, endpoint
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE, constants.ENDPOINT = saved


@dataclass
class CliResult:
    status: int
    stdout: str
    stderr: str


def cli(*argv: Any) -> CliResult:
    from pybridge.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main([str(a) for a in argv])
        except SystemExit as exit_:  # argparse's own usage errors
            status = exit_.code if isinstance(exit_.code, int) else 1
    return CliResult(status, out.getvalue(), err.getvalue())


# ---------------------------------------------------------------- result predicates


def scored(row) -> bool:
    values = np.array([row[label] for label in LABELS], dtype=float)
    return bool(row["face_found"]) and np.isfinite(values).all() and abs(values.sum() - 1) < 1e-5


def unreadable(row, pattern: str = "") -> bool:
    values = np.array([row[label] for label in LABELS], dtype=float)
    reason = row["reason"] or ""
    return np.isnan(values).all() and reason.startswith("unreadable") and re.search(pattern, reason, re.I) is not None


def rows_ok(*checks: Callable) -> Callable[[Any], bool]:
    """The table has one row per check, in order, and each passes."""

    def check(table) -> bool:
        return (
            isinstance(table, pd.DataFrame)
            and len(table) == len(checks)
            and all(c(table.iloc[i]) for i, c in enumerate(checks))
        )

    return check


def close_to(reference: np.ndarray, tolerance: float) -> Callable[[Any], bool]:
    def check(array) -> bool:
        array = np.asarray(array)
        return array.shape == reference.shape and float(np.abs(array.astype(float) - reference).max()) <= tolerance

    return check


# -------------------------------------------------------------------- helper runners


def _colour_scores(faces):
    """Scores from a crop's mean colour: no torch, so forked (memory-capped) children never touch OpenMP."""
    means = np.array([face.reshape(-1, 3).mean(axis=0) for face in faces], dtype=np.float64) + 1.0
    return means / means.sum(axis=1, keepdims=True)


NO_TORCH = {"scorer": FunctionScorer(_colour_scores, LABELS), "local_model_path": None}


def image_scores(ctx: Ctx, images: Any, labels: Any = LABELS, **kw: Any):
    from pybridge.vision.image_scoring import image_scores as run

    kw.setdefault("local_model_path", ctx.model)
    return run(images, labels, progress=False, **kw)


_DEFAULT_VIDEO = object()


def video_scores(ctx: Ctx, video: Any = _DEFAULT_VIDEO, labels: Any = LABELS, **kw: Any):
    from pybridge.vision.video_scoring import video_scores as run

    kw.setdefault("local_model_path", ctx.model)
    kw.setdefault("nframes", 4)
    kw.setdefault("ffreq", 2)
    return run(ctx.video if video is _DEFAULT_VIDEO else video, labels, progress=False, **kw)


def load_image(source: Any):
    from pybridge.vision.images import load_image as run

    return np.asarray(run(source))


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(data, bytes) else path.write_text)(data)
    return path


_BOMBS: dict[tuple[int, int, str], bytes] = {}


def png_bomb(path: Path, width: int, height: int, *, mode: str = "L") -> Path:
    """A valid PNG of width x height zero pixels, a few MB on disk (built once per size)."""
    key = (width, height, mode)
    if key not in _BOMBS:
        _BOMBS[key] = _png_bytes(width, height, mode)
    return write(path, _BOMBS[key])


def _png_bytes(width: int, height: int, mode: str) -> bytes:
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    colour = {"L": 0, "RGB": 2, "RGBA": 6}[mode]
    row = b"\x00" + b"\x00" * (width * channels)
    compressor = zlib.compressobj(1)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


# ============================================================================ CASES
# ---- 1. labels, checked before any model is loaded (no_model would fail otherwise)

add(
    "labels/none-zero-shot-alias",
    lambda ctx: image_scores(ctx, ctx.face_png, None, local_model_path=None),
    E.InvalidLabelsError,
)
add("labels/one-label-softmax", lambda ctx: image_scores(ctx, ctx.face_png, ["happy"]), E.InvalidLabelsError)
for name, labels in [
    ("empty", []),
    ("single-string", "happy"),
    ("non-string", ["happy", 3]),
    ("none-item", ["happy", None]),
    ("empty-string", ["happy", ""]),
    ("blank", ["happy", "   "]),
    ("exact-duplicate", ["happy", "happy"]),
    ("case-duplicate", ["happy", "Happy"]),
    ("upper-duplicate", ["happy", "HAPPY"]),
    ("trailing-space", ["happy", "happy "]),
    ("leading-space", ["happy", " happy"]),
    ("inner-space", ["very happy", "very  happy"]),
    ("tab-duplicate", ["very happy", "very\thappy"]),
    ("triple", ["happy", "Happy", "happy "]),
    ("dict", {"happy": 1}),
    ("number", 3),
]:
    add(
        f"labels/{name}",
        lambda ctx, labels=labels: image_scores(ctx, ctx.face_png, labels, local_model_path=ctx.no_model),
        E.InvalidLabelsError,
    )

_METADATA_LABELS = [
    "video", "image", "frame", "time_s", "face_id", "track_id", "face_found", "face_score", "face_x", "face_y",
    "face_w", "face_h", "reason", "landmark_left_eye_x", "landmark_mouth_right_y", "_source", "_scored",
]  # fmt: skip
for column in _METADATA_LABELS:
    add(
        f"labels/collides-{column}",
        lambda ctx, column=column: image_scores(ctx, ctx.face_png, ["happy", column], local_model_path=ctx.no_model),
        E.InvalidLabelsError,
        match=re.escape(column),
    )
add(
    "labels/video-collision-time_s-frame",
    lambda ctx: video_scores(ctx, labels=["time_s", "frame"], local_model_path=ctx.no_model),
    E.InvalidLabelsError,
)
add(
    "labels/video-collision-face_found",
    lambda ctx: video_scores(ctx, labels=["face_found", "happy"], local_model_path=ctx.no_model),
    E.InvalidLabelsError,
)
add(
    "labels/truncated-prompts-identical",
    lambda ctx: image_scores(ctx, ctx.face_png, ["a " * 90 + "happy", "a " * 90 + "sad"]),
    E.InvalidLabelsError,
    match="same",
)
add(
    "labels/unicode-ok",
    lambda ctx: image_scores(ctx, ctx.face_png, ["heureux 😀", "traurig", "neutral"]),
    lambda t: list(t.columns[-3:]) == ["heureux 😀", "traurig", "neutral"] and bool(t["face_found"][0]),
)
add(
    "labels/csv-hostile-text-ok",
    lambda ctx: image_scores(ctx, ctx.face_png, ['sad, "really"', "happy\nnot", "x=1"]),
    lambda t: list(t.columns[-3:]) == ['sad, "really"', "happy\nnot", "x=1"],
)
add("labels/generator-ok", lambda ctx: image_scores(ctx, ctx.face_png, (x for x in LABELS)), rows_ok(scored))

# ---- 2. other arguments of image_scores, before the model loads
for name, kwargs in [
    ("batch-size-negative", {"batch_size": -1}),
    ("batch-size-zero", {"batch_size": 0}),
    ("batch-size-float", {"batch_size": 1.5}),
    ("batch-size-string", {"batch_size": "16"}),
    ("batch-size-bool", {"batch_size": True}),
    ("face-selection", {"face_selection": "biggest"}),
    ("face-detection-size-negative", {"face_detection_size": -5}),
    ("face-detection-size-string", {"face_detection_size": "640"}),
    ("precision-unknown", {"precision": "fp8"}),
    ("precision-dtype-disagree", {"precision": "fp32", "dtype": "float16"}),
    ("templates-empty", {"templates": []}),
    ("templates-number", {"templates": 5}),
]:
    add(
        f"image-args/{name}",
        lambda ctx, kwargs=kwargs: image_scores(ctx, ctx.face_png, local_model_path=ctx.no_model, **kwargs),
        E.InvalidInputError,
    )
add(
    "image-args/unknown-alias",
    lambda ctx: image_scores(ctx, ctx.face_png, local_model_path=None, model="no-such-model"),
    E.UnknownModelError,
)
for name, images in [("none", None), ("empty-list", []), ("number", 42), ("list-of-number", [42]), ("dict", {"a": 1})]:
    add(
        f"image-args/images-{name}",
        lambda ctx, images=images: image_scores(ctx, images, local_model_path=ctx.no_model),
        E.InvalidInputError,
    )
add(
    "image-args/missing-path",
    lambda ctx: image_scores(ctx, ctx.root / "nope"),
    lambda t: len(t) == 1 and unreadable(t.iloc[0], "does not exist"),
)
add(
    "image-args/empty-folder",
    lambda ctx: image_scores(ctx, ctx.fresh(), local_model_path=ctx.no_model),
    E.ImageReadError,
)


# ---- 3. images: every input keeps its row; pixels converted as an image library would
def _bad_file(ctx: Ctx, name: str, data: bytes | str) -> Path:
    return write(ctx.fresh() / name, data)


for name, make in [
    ("missing", lambda ctx: ctx.root / "missing.jpg"),
    ("zero-bytes", lambda ctx: _bad_file(ctx, "empty.jpg", b"")),
    ("text", lambda ctx: _bad_file(ctx, "text.png", "not pixels")),
    ("truncated-png", lambda ctx: _bad_file(ctx, "cut.png", ctx.face_png.read_bytes()[:3000])),
    ("random-bytes", lambda ctx: _bad_file(ctx, "noise.jpg", np.random.default_rng(0).bytes(5000))),
    ("png-header-only", lambda ctx: _bad_file(ctx, "head.png", b"\x89PNG\r\n\x1a\n")),
]:
    add(
        f"images/{name}-beside-good",
        lambda ctx, make=make: image_scores(ctx, [ctx.face_png, make(ctx)]),
        rows_ok(scored, unreadable),
    )

add("images/empty-folder-in-list", lambda ctx: image_scores(ctx, [ctx.face_png, ctx.fresh()]), E.ImageReadError)
add(
    "images/bomb-30000px-beside-good",
    lambda ctx: image_scores(ctx, [ctx.face_png, ctx.bomb]),
    rows_ok(scored, lambda r: unreadable(r, "PYBRIDGE_MAX_IMAGE_PIXELS")),
)
add(
    "images/bomb-12000px-rgba-beside-good",
    lambda ctx: image_scores(ctx, [ctx.bomb_rgba, ctx.face_png], **NO_TORCH),
    rows_ok(lambda r: unreadable(r, "PYBRIDGE_MAX_IMAGE_PIXELS"), scored),
    isolated=True,
)
add(
    "images/bomb-load-image",
    lambda ctx: load_image(ctx.bomb),
    E.ImageReadError,
    match="PYBRIDGE_MAX_IMAGE_PIXELS",
    isolated=True,
)
add(
    "images/wide-strip-ok",
    lambda ctx: load_image(png_bomb(ctx.fresh() / "strip.png", 60000, 2)),
    lambda a: a.shape == (2, 60000, 3),
)


def _save(ctx: Ctx, image: Image.Image, name: str, **kw: Any) -> Path:
    path = ctx.fresh() / name
    image.save(path, **kw)
    return path


def _grey16(ctx: Ctx) -> Path:
    return _save(ctx, Image.fromarray(ctx.grey.astype(np.uint16) * 257), "grey16.png")


add(
    "pixels/grey16-png-values",
    lambda ctx: load_image(_grey16(ctx))[..., 0],
    lambda a: a.dtype == np.uint8 and int(np.abs(a.astype(int) - Case_grey(a)).max()) <= 1,
)
add("pixels/grey16-png-face-found", lambda ctx: image_scores(ctx, _grey16(ctx)), rows_ok(scored))
add(
    "pixels/grey16-tiff-values",
    lambda ctx: load_image(_save(ctx, Image.fromarray(ctx.grey.astype(np.uint16) * 257), "grey16.tif"))[..., 0],
    lambda a: int(np.abs(a.astype(int) - Case_grey(a)).max()) <= 1,
)
add(
    "pixels/float-tiff-unit-range",
    lambda ctx: load_image(_save(ctx, Image.fromarray(ctx.grey.astype(np.float32) / 255), "grey.tif"))[..., 0],
    lambda a: int(np.abs(a.astype(int) - Case_grey(a)).max()) <= 1,
)
add(
    "pixels/float-tiff-unit-range-face",
    lambda ctx: image_scores(ctx, _save(ctx, Image.fromarray(ctx.grey.astype(np.float32) / 255), "grey.tif")),
    rows_ok(scored),
)
add(
    "pixels/float-tiff-wide-range",
    lambda ctx: load_image(_save(ctx, Image.fromarray(ctx.grey.astype(np.float32) * 4 - 100), "wide.tif"))[..., 0],
    lambda a: int(a.min()) == 0 and int(a.max()) == 255,
)
add(
    "pixels/float-tiff-nan",
    lambda ctx: load_image(_save(ctx, Image.fromarray(np.full((8, 8), np.nan, np.float32)), "nan.tif")),
    E.ImageReadError,
)
add(
    "pixels/int32-tiff-16bit-data",
    lambda ctx: load_image(_save(ctx, Image.fromarray(ctx.grey.astype(np.int32) * 257), "i32.tif"))[..., 0],
    lambda a: int(np.abs(a.astype(int) - Case_grey(a)).max()) <= 1,
)
add(
    "pixels/pil-int32-8bit-data",
    lambda ctx: load_image(Image.fromarray(ctx.grey.astype(np.int32)))[..., 0],
    lambda a: int(np.abs(a.astype(int) - Case_grey(a)).max()) == 0,
)
add(
    "pixels/palette-png",
    lambda ctx: load_image(_save(ctx, Image.fromarray(ctx.astronaut).quantize(64), "p.png")),
    lambda a: a.shape == (512, 512, 3) and float(np.abs(a.astype(int) - Case_astronaut()).mean()) < 12,
)
add(
    "pixels/palette-transparent-white",
    lambda ctx: load_image(_save(ctx, Image.new("P", (8, 8), 0), "pt.png", transparency=0)),
    lambda a: bool((a == 255).all()),
)
add(
    "pixels/cmyk-jpeg",
    lambda ctx: load_image(_save(ctx, Image.fromarray(ctx.astronaut).convert("CMYK"), "cmyk.jpg", quality=95)),
    lambda a: float(np.abs(a.astype(int) - Case_astronaut()).mean()) < 6,
)
add(
    "pixels/rgba-transparent-white",
    lambda ctx: load_image(_save(ctx, Image.new("RGBA", (8, 8), (10, 200, 30, 0)), "a.png")),
    lambda a: bool((a == 255).all()),
)
add(
    "pixels/rgba-opaque-kept",
    lambda ctx: load_image(_save(ctx, Image.new("RGBA", (8, 8), (10, 200, 30, 255)), "a.png")),
    lambda a: bool((a == [10, 200, 30]).all()),
)
add(
    "pixels/la-half-alpha",
    lambda ctx: load_image(_save(ctx, Image.new("LA", (8, 8), (0, 128)), "la.png")),
    lambda a: bool((np.abs(a.astype(int) - 127) <= 1).all()),
)
add(
    "pixels/one-bit",
    lambda ctx: load_image(_save(ctx, Image.new("1", (8, 8), 1), "b.png")),
    lambda a: bool((a == 255).all()),
)
add(
    "pixels/gif-animated-first-frame",
    lambda ctx: load_image(
        _save(
            ctx,
            Image.new("RGB", (8, 8), (255, 0, 0)),
            "g.gif",
            save_all=True,
            append_images=[Image.new("RGB", (8, 8), (0, 0, 255))],
        )
    ),
    lambda a: bool((a[..., 0] > 200).all()),
)
add(
    "pixels/lab-tiff",
    lambda ctx: load_image(_save(ctx, Image.new("LAB", (8, 8), (50, 0, 0)), "lab.tif")),
    lambda a: a.shape == (8, 8, 3),
)
add(
    "pixels/pil-float-mode",
    lambda ctx: load_image(Image.fromarray(ctx.grey.astype(np.float32) / 255))[..., 0],
    lambda a: int(np.abs(a.astype(int) - Case_grey(a)).max()) <= 1,
)
add(
    "pixels/pil-i16-mode",
    lambda ctx: load_image(Image.fromarray(ctx.grey.astype(np.uint16) * 257))[..., 0],
    lambda a: int(np.abs(a.astype(int) - Case_grey(a)).max()) <= 1,
)
add("pixels/exif-bad-orientation", lambda ctx: load_image(_exif_orientation(ctx, 99)), lambda a: a.shape == (8, 12, 3))


def _exif_orientation(ctx: Ctx, value: int) -> Path:
    exif = Image.Exif()
    exif[0x0112] = value
    return _save(ctx, Image.new("RGB", (12, 8), (1, 2, 3)), "o.jpg", exif=exif)


_GREY: dict[str, np.ndarray] = {}


def Case_grey(_: Any) -> np.ndarray:  # noqa: N802 - reference values, set by the ctx fixture
    return _GREY["grey"].astype(int)


def Case_astronaut() -> np.ndarray:  # noqa: N802
    return _GREY["astronaut"].astype(int)


# arrays
for name, array, expect in [
    (
        "uint16",
        lambda ctx: ctx.grey.astype(np.uint16) * 257,
        lambda a: int(np.abs(a[..., 0].astype(int) - Case_grey(a)).max()) <= 1,
    ),
    (
        "float-unit",
        lambda ctx: ctx.grey / 255.0,
        lambda a: int(np.abs(a[..., 0].astype(int) - Case_grey(a)).max()) <= 1,
    ),
    ("bool", lambda ctx: np.ones((4, 4), bool), lambda a: a.shape == (4, 4, 3)),
    ("rgba", lambda ctx: np.zeros((4, 4, 4), np.uint8), lambda a: a.shape == (4, 4, 3)),
    ("float-nan", lambda ctx: np.full((4, 4), np.nan), E.ImageReadError),
    ("float-out-of-range", lambda ctx: np.full((4, 4), 3.0), E.ImageReadError),
    ("negative-int", lambda ctx: np.full((4, 4), -1, np.int64), E.ImageReadError),
    ("complex", lambda ctx: np.zeros((4, 4), complex), E.ImageReadError),
    ("object", lambda ctx: np.array([[object()]]), E.ImageReadError),
    ("four-d", lambda ctx: np.zeros((2, 2, 2, 3), np.uint8), E.ImageReadError),
    ("zero-size", lambda ctx: np.zeros((0, 0), np.uint8), E.ImageReadError),
    ("two-channels", lambda ctx: np.zeros((4, 4, 2), np.uint8), E.ImageReadError),
]:
    add(f"arrays/{name}", lambda ctx, array=array: load_image(array(ctx)), expect)
add(
    "arrays/bad-array-beside-good",
    lambda ctx: image_scores(ctx, [ctx.astronaut, np.full((4, 4), np.nan)]),
    rows_ok(scored, unreadable),
)


# ---- 4. URLs: deadlines, size caps, bad answers
def _timed(limit: float, run: Callable[[], Any]) -> Any:
    started = time.monotonic()
    result = run()
    if time.monotonic() - started > limit:
        raise AssertionError(f"took {time.monotonic() - started:.1f} s, more than {limit:g} s")
    return result


for name, path, pattern in [
    ("silent-server", "silent", "within|timed out|timeout"),
    ("drip-feed", "/drip/x.png", "within|deadline"),
    ("huge-body", "/huge/x.png", "larger than|PYBRIDGE_MAX_URL_BYTES"),
    ("huge-chunked-body", "/hugechunked/x.png", "larger than|PYBRIDGE_MAX_URL_BYTES"),
    ("http-404", "/nothing.gif", "404"),
    ("html-page", "/page.html", "image"),
    ("redirect-loop", "/redirect/x.png", "redirect"),
    ("closed-port", "closed", "could not fetch|refused"),
]:

    def _url(ctx: Ctx, path: str = path) -> str:
        if path == "silent":
            return ctx.servers.silent_url + "/x.png"
        if path == "closed":
            return ctx.servers.closed_url + "/x.png"
        return ctx.servers.url + path

    add(
        f"urls/{name}-load",
        lambda ctx, _url=_url: _timed(10, lambda: load_image(_url(ctx))),
        E.DownloadError if name != "html-page" else E.ImageReadError,
        match=pattern if name != "html-page" else None,
        isolated=name.startswith("huge"),
    )
    add(
        f"urls/{name}-beside-good",
        lambda ctx, _url=_url, name=name: _timed(
            10, lambda: image_scores(ctx, [ctx.face_png, _url(ctx)], **(NO_TORCH if name.startswith("huge") else {}))
        ),
        rows_ok(scored, unreadable),
        isolated=name.startswith("huge"),
    )
add("urls/good-png", lambda ctx: load_image(ctx.servers.url + "/ok.png"), lambda a: a.shape == (64, 64, 3))
add("urls/malformed", lambda ctx: load_image("http://"), E.DownloadError)


# ---- 5. the model hub: a silent endpoint, a drip feed, errors; bounded by the deadlines
def _download(ctx: Ctx, endpoint: str, repo: str = "openai/clip-vit-base-patch32"):
    from pybridge.models.cache import download_snapshot

    with hub_at(endpoint):
        return _timed(STALL_BOUND_S, lambda: download_snapshot(repo))


add("hub/silent-endpoint", lambda ctx: _download(ctx, ctx.servers.silent_url), E.DownloadError)
add("hub/drip-endpoint", lambda ctx: _download(ctx, ctx.servers.url + "/drip"), E.DownloadError)
add("hub/closed-port", lambda ctx: _download(ctx, ctx.servers.closed_url), E.DownloadError)
add("hub/http-500", lambda ctx: _download(ctx, ctx.servers.url + "/error500"), E.DownloadError)
add("hub/garbage-json", lambda ctx: _download(ctx, ctx.servers.url + "/garbage"), E.DownloadError)
add("hub/404", lambda ctx: _download(ctx, ctx.servers.url), E.DownloadError)
add(
    "hub/image-scores-silent",
    lambda ctx: _hub_call(ctx, lambda: image_scores(ctx, ctx.face_png, local_model_path=None)),
    E.DownloadError,
)
add(
    "hub/video-scores-silent",
    lambda ctx: _hub_call(ctx, lambda: video_scores(ctx, local_model_path=None)),
    E.DownloadError,
)
add(
    "hub/download-model-silent",
    lambda ctx: _hub_call(ctx, lambda: __import__("pybridge").download_model("oai-base")),
    E.DownloadError,
)


def _hub_call(ctx: Ctx, run: Callable[[], Any]) -> Any:
    with hub_at(ctx.servers.silent_url):
        return _timed(STALL_BOUND_S, run)


# ---- 6. video sampling arguments, before the model loads
for name, kwargs in [
    ("nframes-zero", {"nframes": 0}), ("nframes-negative", {"nframes": -1}), ("nframes-nan", {"nframes": math.nan}),
    ("nframes-inf", {"nframes": math.inf}), ("nframes-fraction", {"nframes": 1.5}), ("nframes-string", {"nframes": "10"}),
    ("nframes-bool", {"nframes": True}), ("nframes-none", {"nframes": None}), ("ffreq-zero", {"ffreq": 0}),
    ("ffreq-nan", {"ffreq": math.nan}), ("ffreq-inf", {"ffreq": math.inf}), ("start-negative", {"start": -1}),
    ("start-nan", {"start": math.nan}), ("start-inf", {"start": math.inf}), ("start-string", {"start": "0"}),
    ("end-before-start", {"start": 2, "end": 1}), ("end-nan", {"end": math.nan}), ("batch-size-negative", {"batch_size": -1}),
    ("face-selection", {"face_selection": "middle"}), ("precision-unknown", {"precision": "int4"}),
    ("detector-unknown", {"detector": "yolo"}), ("face-threshold-above-one", {"face_threshold": 1.5}),
    ("out-suffix", {"out": "x.txt"}), ("resume-without-out", {"resume": True}),
]:  # fmt: skip
    add(
        f"video-args/{name}",
        lambda ctx, kwargs=kwargs: video_scores(ctx, local_model_path=ctx.no_model, **kwargs),
        E.InvalidInputError,
    )
for name, make, expect in [
    ("missing", lambda ctx: ctx.root / "missing.mp4", E.VideoReadError),
    ("zero-bytes", lambda ctx: media.make_zero_byte(ctx.fresh() / "z.mp4"), E.VideoReadError),
    ("corrupt", lambda ctx: ctx.corrupt, E.VideoReadError),
    ("audio-only", lambda ctx: ctx.audio, E.VideoReadError),
    ("folder", lambda ctx: ctx.fresh(), E.VideoReadError),
    ("text-file", lambda ctx: _bad_file(ctx, "t.mp4", "hello"), E.VideoReadError),
    ("none", lambda ctx: None, E.InvalidInputError),
    ("empty-list", lambda ctx: [], E.InvalidInputError),
    ("list-of-number", lambda ctx: [1], E.InvalidInputError),
    ("duplicates", lambda ctx: [ctx.video, ctx.video], E.InvalidInputError),
]:
    add(
        f"video-input/{name}",
        lambda ctx, make=make: video_scores(ctx, make(ctx), local_model_path=ctx.no_model),
        expect,
    )
add(
    "video-input/url-silent",
    lambda ctx: _timed(
        STALL_BOUND_S, lambda: video_scores(ctx, ctx.servers.silent_url + "/v.mp4", local_model_path=ctx.no_model)
    ),
    E.DownloadError,
)
add(
    "video-input/url-404",
    lambda ctx: video_scores(ctx, ctx.servers.url + "/v.mp4", local_model_path=ctx.no_model),
    E.DownloadError,
)
add(
    "video-input/url-drip",
    lambda ctx: _timed(
        STALL_BOUND_S, lambda: video_scores(ctx, ctx.servers.url + "/drip/v.mp4", local_model_path=ctx.no_model)
    ),
    (E.DownloadError, E.VideoReadError),
)
add(
    "video-input/truncated-rows",
    lambda ctx: _quiet(lambda: video_scores(ctx, ctx.truncated, nframes=50, ffreq=1)),
    lambda t: len(t) > 0 and t["time_s"].is_monotonic_increasing,
)


def _quiet(run: Callable[[], Any]) -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run()


def _frames_of(nframes: int, **kw: Any):
    """The sampler alone (no model): sampled frame indices."""
    from pybridge.vision.video import iter_video_frames, sample_plan

    def run(ctx: Ctx):
        return _quiet(lambda: [f.index for f in iter_video_frames(ctx.video, sample_plan(nframes=nframes, **kw))])

    return run


add(
    "video-memory/nframes-1e9-uniform", _frames_of(10**9, uniform=True), lambda ix: ix == list(range(10)), isolated=True
)
add(
    "video-memory/nframes-1e12-uniform-window",
    _frames_of(10**12, uniform=True, start=0.5, end=1.5),
    lambda ix: ix == list(range(2, 7)) or ix == list(range(3, 8)),
    isolated=True,
)
add("video-memory/nframes-1e9-every-frame", _frames_of(10**9, ffreq=1), lambda ix: ix == list(range(10)), isolated=True)
add(
    "video-memory/nframes-1e9-video-scores",
    lambda ctx: _quiet(lambda: video_scores(ctx, nframes=10**9, uniform=True, **NO_TORCH)),
    lambda t: len(t) == 10,
    isolated=True,
)


# ---- 7. resume: every setting that defines the result is compared
def _first_run(ctx: Ctx, suffix: str = ".csv", **kw: Any) -> Path:
    out = ctx.fresh() / f"scores{suffix}"
    video_scores(ctx, out=out, **kw)
    return out


def _resume_mismatch(first: dict, second: dict, *, drop_record: bool = False) -> Callable[[Ctx], Any]:
    def run(ctx: Ctx):
        out = _first_run(ctx, **first)
        if drop_record:
            out.with_name(out.name + ".run.json").unlink()
        return video_scores(ctx, out=out, resume=True, **second)

    return run


for name, first, second, drop in [
    ("other-video", {}, {"video": "b"}, False),
    ("other-labels", {}, {"labels": ["happy", "sad", "angry"]}, False),
    ("other-label-order", {}, {"labels": ["sad", "happy", "neutral"]}, False),
    ("other-nframes", {}, {"nframes": 3}, False),
    ("other-ffreq", {}, {"ffreq": 3}, False),
    ("other-uniform", {}, {"uniform": True}, False),
    ("other-start", {}, {"start": 0.2}, False),
    ("other-face-selection", {}, {"face_selection": "none"}, False),
    ("other-detection-size", {}, {"face_detection_size": None}, False),
    ("other-templates", {}, {"templates": "a photo of a {} face"}, False),
    ("record-deleted-other-ffreq", {}, {"ffreq": 3}, True),
    ("record-deleted-same", {}, {}, True),
]:

    def _second(ctx: Ctx, second: dict = second) -> dict:
        return {**second, "video": ctx.video_b} if second.get("video") == "b" else second

    add(
        f"resume/{name}",
        lambda ctx, first=first, _second=_second, drop=drop: _resume_mismatch(first, _second(ctx), drop_record=drop)(
            ctx
        ),
        E.InvalidInputError,
        match="new out=|delete|start over",
    )


def _modified_video(ctx: Ctx):
    folder = ctx.fresh()
    video = shutil.copy(ctx.video, folder / "v.mp4")
    out = folder / "s.csv"
    video_scores(ctx, video, out=out)
    shutil.copy(ctx.video_b, video)  # same name, other content
    return video_scores(ctx, video, out=out, resume=True)


add("resume/same-name-other-content", _modified_video, E.InvalidInputError, match="changed|differ")


def _resume_after_kill(suffix: str) -> Callable[[Ctx], Any]:
    """Cut a finished run back to its first rows (plus half a line), resume, compare with the full run."""

    def run(ctx: Ctx):
        out = _first_run(ctx, suffix, batch_size=2)
        full = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
        if suffix == ".csv":
            lines = out.read_bytes().split(b"\n")
            out.write_bytes(b"\n".join(lines[:3]) + b"\n" + lines[3][: len(lines[3]) // 2])
        else:
            parts = out.with_name(out.name + ".parts")
            parts.mkdir()
            full.iloc[:2].to_parquet(parts / "part-000001.parquet", index=False)
            out.unlink()
        resumed = video_scores(ctx, out=out, resume=True, batch_size=2)
        return full, resumed

    return run


def _same_rows(pair) -> bool:
    full, resumed = pair
    return (
        len(full) == len(resumed)
        and np.allclose(full[LABELS].to_numpy(float), resumed[LABELS].to_numpy(float), equal_nan=True, atol=1e-6)
        and list(full["frame"]) == list(resumed["frame"])
    )


add("resume/killed-csv-continues", _resume_after_kill(".csv"), _same_rows)
add("resume/killed-parquet-continues", _resume_after_kill(".parquet"), _same_rows)
add(
    "resume/finished-same-settings",
    lambda ctx: (lambda out: (video_scores(ctx), video_scores(ctx, out=out, resume=True)))(_first_run(ctx)),
    _same_rows,
)


def _resume_with_damage(damage: Callable[[Path], None], suffix: str = ".csv") -> Callable[[Ctx], Any]:
    def run(ctx: Ctx):
        out = _first_run(ctx, suffix)
        damage(out)
        return video_scores(ctx, out=out, resume=True)

    return run


def _record(out: Path) -> Path:
    return out.with_name(out.name + ".run.json")


for name, damage in [
    ("csv-garbage", lambda out: out.write_bytes(np.random.default_rng(1).bytes(3000))),
    ("csv-binary-nul", lambda out: out.write_bytes(b"\x00" * 500 + b"\n")),
    ("csv-other-columns", lambda out: out.write_text("a,b\n1,2\n")),
    ("record-garbage", lambda out: _record(out).write_bytes(b"\xff\xfe{{{")),
    ("record-list", lambda out: _record(out).write_text("[1, 2]")),
    ("record-empty", lambda out: _record(out).write_text("")),
]:
    add(f"resume/{name}", _resume_with_damage(damage), E.InvalidInputError)
add(
    "resume/parquet-part-corrupt",
    _resume_with_damage(
        lambda out: (
            out.with_name(out.name + ".parts").mkdir(),
            write(out.with_name(out.name + ".parts") / "part-000009.parquet", b"garbage"),
        )[-1],
        ".parquet",
    ),
    E.InvalidInputError,
)
add(
    "resume/parquet-garbage",
    _resume_with_damage(lambda out: out.write_bytes(b"PAR1 nonsense"), ".parquet"),
    E.InvalidInputError,
)


# outputs that cannot be written
add(
    "outputs/out-is-folder-resume",
    lambda ctx: video_scores(ctx, out=_folder_named(ctx, "dir.csv"), resume=True),
    E.InvalidInputError,
)
add("outputs/out-is-folder", lambda ctx: video_scores(ctx, out=_folder_named(ctx, "dir.csv")), E.InvalidInputError)
add(
    "outputs/out-under-a-file",
    lambda ctx: video_scores(ctx, out=write(ctx.fresh() / "file.txt", "x") / "s.csv"),
    E.InvalidInputError,
)
add("outputs/out-unwritable", lambda ctx: video_scores(ctx, out="/proc/pybridge-no/s.csv"), E.InvalidInputError)
add(
    "outputs/save-frames-under-file",
    lambda ctx: video_scores(ctx, save_frames=write(ctx.fresh() / "f", "x") / "crops"),
    E.InvalidInputError,
)
add("outputs/exists-without-resume", lambda ctx: video_scores(ctx, out=_first_run(ctx)), E.InvalidInputError)


def _folder_named(ctx: Ctx, name: str) -> Path:
    folder = ctx.fresh() / name
    folder.mkdir()
    return folder


# ---- 8. model files
def _model_copy(ctx: Ctx, damage: Callable[[Path], Any]) -> Path:
    folder = ctx.fresh() / "model"
    shutil.copytree(ctx.model, folder)
    damage(folder)
    return folder


class _Marker:
    """Unpickling this creates a file: proof that a pickle was executed."""

    path = "/tmp/pybridge-robustness-unpickled"

    def __reduce__(self):
        return (Path(self.path).touch, ())


def _pickle_weights(folder: Path) -> None:
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(_Marker()))


_MODEL_ERRORS = (E.ModelLoadError, E.ModelNotAvailableError, E.InvalidInputError)
for name, damage in [
    (
        "truncated-safetensors",
        lambda f: (f / "model.safetensors").write_bytes((f / "model.safetensors").read_bytes()[:1000]),
    ),
    (
        "garbage-safetensors",
        lambda f: (f / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{garbage"),
    ),
    ("config-is-list", lambda f: (f / "config.json").write_text("[1, 2, 3]")),
    ("config-garbage", lambda f: (f / "config.json").write_bytes(b"\x00\xff not json")),
    ("config-missing", lambda f: (f / "config.json").unlink()),
    ("config-wrong-type", lambda f: (f / "config.json").write_text(json.dumps({"model_type": "no-such-arch"}))),
    ("pickle-weights", _pickle_weights),
    ("no-weights", lambda f: (f / "model.safetensors").unlink()),
    ("tokenizer-garbage", lambda f: (f / "tokenizer.json").write_text("{{{")),
    ("tokenizer-list", lambda f: (f / "tokenizer.json").write_text("[]")),
    ("processor-list", lambda f: (f / "processor_config.json").write_text("[]")),
    ("processor-garbage", lambda f: (f / "processor_config.json").write_bytes(b"\xff\x00")),
]:
    add(
        f"model-files/{name}",
        lambda ctx, damage=damage: image_scores(ctx, ctx.face_png, local_model_path=_model_copy(ctx, damage)),
        _MODEL_ERRORS,
    )
add(
    "model-files/empty-folder", lambda ctx: image_scores(ctx, ctx.face_png, local_model_path=ctx.fresh()), _MODEL_ERRORS
)
add(
    "model-files/path-is-file",
    lambda ctx: image_scores(ctx, ctx.face_png, local_model_path=ctx.face_png),
    (E.ModelLoadError, E.ModelNotAvailableError, E.InvalidInputError),
)
add(
    "model-files/pickle-never-executed",
    lambda ctx: (
        Path(_Marker.path).unlink(missing_ok=True),
        _swallow(lambda: image_scores(ctx, ctx.face_png, local_model_path=_model_copy(ctx, _pickle_weights))),
        Path(_Marker.path).exists(),
    )[-1],
    lambda executed: executed is False,
)


def _spec(alias: str):
    from pybridge.models import get_model_spec

    return get_model_spec(alias)


add(
    "trust/jina-v2-pinned-commit",
    lambda ctx: _spec("jina-v2").revision,
    lambda revision: isinstance(revision, str) and re.fullmatch(r"[0-9a-f]{40}", revision) is not None,
)
add(
    "trust/remote-code-aliases-pinned-or-asked",
    lambda ctx: [
        alias
        for alias in __import__("pybridge.models.registry", fromlist=["x"]).builtin_aliases()
        if _spec(alias).trust_remote_code and not _spec(alias).revision
    ],
    lambda unpinned: unpinned == ["eva-8B"],
)


def _swallow(run: Callable[[], Any]) -> None:
    with contextlib.suppress(E.PyBridgeError):
        run()


# ---- 9. probe files
def _probe_file(ctx: Ctx, edit: Callable[[dict], None] | None = None, *, raw: bytes | None = None) -> Path:
    from pybridge.vision.probe import EmotionProbe

    path = ctx.fresh() / "probe.npz"
    if raw is not None:
        return write(path, raw)
    rng = np.random.default_rng(0)
    probe = EmotionProbe(face_selection="none").fit_embeddings(rng.normal(size=(12, 8)), ["a", "b", "c"] * 4)
    probe.save(path)
    if edit is not None:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
        metadata = json.loads(str(arrays["metadata"]))
        edit(metadata)
        arrays["metadata"] = np.array(json.dumps(metadata))
        np.savez(path, **arrays)
    return path


def _load_probe(path: Path):
    from pybridge.vision.probe import EmotionProbe

    return EmotionProbe.load(path)


def _no_pickle_advice(error: BaseException) -> bool:
    return "allow_pickle" not in str(error)


for name, make in [
    ("zero-bytes", lambda ctx: _probe_file(ctx, raw=b"")),
    ("garbage", lambda ctx: _probe_file(ctx, raw=b"PK\x03\x04 garbage")),
    ("random", lambda ctx: _probe_file(ctx, raw=np.random.default_rng(2).bytes(2000))),
    ("object-array", lambda ctx: _object_npz(ctx)),
    ("npy-not-npz", lambda ctx: _npy(ctx)),
    ("unknown-format-version", lambda ctx: _probe_file(ctx, lambda m: m.update(format_version=99))),
    ("unknown-classifier", lambda ctx: _probe_file(ctx, lambda m: m["params"].update(classifier="exec"))),
    ("missing-layers", lambda ctx: _probe_file(ctx, lambda m: m.update(n_layers=5))),
    ("metadata-not-dict", lambda ctx: _probe_with_metadata(ctx, "[1]")),
    ("missing-file", lambda ctx: ctx.root / "no-probe.npz"),
]:
    add(
        f"probe/{name}",
        lambda ctx, make=make: _load_probe(make(ctx)),
        E.InvalidInputError,
        match=r"^(?!.*allow_pickle)",
    )
add("probe/roundtrip-ok", lambda ctx: _load_probe(_probe_file(ctx)).classes_.tolist(), lambda c: c == ["a", "b", "c"])


def _object_npz(ctx: Ctx) -> Path:
    path = ctx.fresh() / "probe.npz"
    np.savez(path, metadata=np.array([{"format": "x"}], dtype=object))
    return path


def _npy(ctx: Ctx) -> Path:
    path = ctx.fresh() / "probe.npz"
    with open(path, "wb") as handle:
        np.save(handle, np.zeros(3))
    return path


def _probe_with_metadata(ctx: Ctx, text: str) -> Path:
    path = ctx.fresh() / "probe.npz"
    np.savez(path, metadata=np.array(text))
    return path


# ---- 10. corpus: arguments checked before any worker starts; reruns compared
def _corpus(ctx: Ctx, videos: Any = None, labels: Any = LABELS, out: Any = None, **kw: Any):
    from pybridge.corpus import score_corpus

    kw.setdefault("local_model_path", ctx.no_model)
    kw.setdefault("nframes", 2)
    return score_corpus(
        [str(ctx.video)] if videos is None else videos, labels, out or ctx.fresh() / "out", progress=False, **kw
    )


for name, kwargs in [
    ("labels-duplicate", {"labels": ["happy", "Happy"]}), ("labels-collide-video", {"labels": ["video", "happy"]}),
    ("labels-empty", {"labels": []}), ("nframes-zero", {"nframes": 0}), ("nframes-nan", {"nframes": math.nan}),
    ("batch-size-negative", {"batch_size": -1}), ("face-selection", {"face_selection": "tallest"}),
    ("unknown-argument", {"nframez": 3}), ("reserved-out", {"resume": True}), ("n-workers-zero", {"n_workers": 0}),
    ("ffreq-inf", {"ffreq": math.inf}), ("start-negative", {"start": -3}),
]:  # fmt: skip
    add(f"corpus-args/{name}", lambda ctx, kwargs=kwargs: _corpus(ctx, **kwargs), E.InvalidInputError)
for name, make in [
    ("empty-folder", lambda ctx: str(ctx.fresh())),
    ("manifest-binary", lambda ctx: str(_bad_file(ctx, "m.csv", np.random.default_rng(3).bytes(400)))),
    ("manifest-empty", lambda ctx: str(_bad_file(ctx, "m.csv", b""))),
    ("manifest-no-column", lambda ctx: str(_bad_file(ctx, "m.csv", "a,b\n1,2\n"))),
    ("missing", lambda ctx: str(ctx.root / "no-corpus")),
    ("duplicates", lambda ctx: [str(ctx.video), str(ctx.video)]),
    ("non-string", lambda ctx: [3.5]),
]:
    add(f"corpus-input/{name}", lambda ctx, make=make: _corpus(ctx, make(ctx)), E.InvalidInputError)
add("corpus-input/out-is-file", lambda ctx: _corpus(ctx, out=write(ctx.fresh() / "o", "x")), E.InvalidInputError)
add(
    "corpus-net/scheduler-silent",
    lambda ctx: _timed(STALL_BOUND_S, lambda: _corpus(ctx, scheduler=ctx.servers.silent_url.replace("http", "tcp"))),
    E.ServiceUnavailableError,
)
add(
    "corpus-net/scheduler-closed-port",
    lambda ctx: _timed(STALL_BOUND_S, lambda: _corpus(ctx, scheduler=ctx.servers.closed_url.replace("http", "tcp"))),
    E.ServiceUnavailableError,
)
add(
    "corpus-net/scheduler-garbage-address",
    lambda ctx: _corpus(ctx, scheduler="nonsense://x"),
    (E.ServiceUnavailableError, E.InvalidInputError),
)
add("corpus-net/scheduler-number", lambda ctx: _corpus(ctx, scheduler=42), E.InvalidInputError)


def _corpus_rerun(**second: Any) -> Callable[[Ctx], Any]:
    def run(ctx: Ctx):
        out = ctx.fresh() / "out"
        first = _corpus(ctx, out=out, local_model_path=ctx.model, scheduler=ctx.dask_client())
        assert first.scored == 1, first.failures
        if second.pop("touch", False):
            os.utime(second["videos"][0] if "videos" in second else ctx.video, None)
        return _corpus(ctx, out=out, **{"local_model_path": ctx.model, "scheduler": ctx.dask_client(), **second})

    return run


add(
    "corpus-rerun/other-labels",
    _corpus_rerun(labels=["happy", "sad", "angry"]),
    E.InvalidInputError,
    match="start over|new out",
)
add("corpus-rerun/other-nframes", _corpus_rerun(nframes=3), E.InvalidInputError)
add("corpus-rerun/other-model", _corpus_rerun(local_model_path="elsewhere"), E.InvalidInputError)
add("corpus-rerun/same-settings-skips", _corpus_rerun(), lambda r: r.skipped == 1 and r.scored == 0)


def _corpus_changed_video(ctx: Ctx):
    folder = ctx.fresh()
    video = shutil.copy(ctx.video, folder / "v.mp4")
    out = folder / "out"
    _corpus(ctx, [str(video)], out=out, local_model_path=ctx.model, scheduler=ctx.dask_client())
    shutil.copy(ctx.video_b, video)
    return _corpus(ctx, [str(video)], out=out, local_model_path=ctx.model, scheduler=ctx.dask_client())


add("corpus-rerun/video-changed", _corpus_changed_video, E.InvalidInputError, match="changed")


def _corpus_damaged(name: str, data: bytes) -> Callable[[Ctx], Any]:
    def run(ctx: Ctx):
        out = ctx.fresh() / "out"
        _corpus(ctx, out=out, local_model_path=ctx.model, scheduler=ctx.dask_client())
        (out / name).write_bytes(data)
        return _corpus(ctx, out=out, local_model_path=ctx.model, scheduler=ctx.dask_client())

    return run


add("corpus-rerun/run-record-garbage", _corpus_damaged("_run.json", b"\xff{{"), E.InvalidInputError, match="start over")
add("corpus-rerun/manifest-garbage", _corpus_damaged("_manifest.json", b"[1, 2"), E.InvalidInputError)


# ---- 11. command line: `error: ...`, exit status 2, never a traceback
for name, argv in [
    ("dlo-empty-csv", lambda ctx: ["dlo", "estimate", _bad_file(ctx, "e.csv", b"")]),
    ("dlo-garbage-csv", lambda ctx: ["dlo", "estimate", _bad_file(ctx, "g.csv", np.random.default_rng(4).bytes(600))]),
    ("dlo-text-no-numbers", lambda ctx: ["dlo", "estimate", _bad_file(ctx, "t.csv", "a,b\nx,y\n")]),
    ("dlo-missing", lambda ctx: ["dlo", "estimate", ctx.root / "none.csv"]),
    ("dlo-garbage-parquet", lambda ctx: ["dlo", "estimate", _bad_file(ctx, "g.parquet", b"PAR1 junk")]),
    ("dlo-dt-negative", lambda ctx: ["dlo", "estimate", _series_csv(ctx), "--dt", "-1"]),
    ("dlo-dt-nan", lambda ctx: ["dlo", "estimate", _series_csv(ctx), "--dt", "nan"]),
    (
        "labels-file-binary",
        lambda ctx: [
            "image-scores",
            ctx.face_png,
            "--labels-file",
            _bad_file(ctx, "l.txt", b"\xff\xfe\x00\x81 bad"),
            "--local-model-path",
            ctx.no_model,
        ],
    ),
    ("labels-file-missing", lambda ctx: ["image-scores", ctx.face_png, "--labels-file", ctx.root / "nolabels.txt"]),
    (
        "batch-size-negative",
        lambda ctx: [
            "image-scores",
            ctx.face_png,
            "--labels",
            *LABELS,
            "--batch-size",
            "-1",
            "--local-model-path",
            ctx.no_model,
        ],
    ),
    (
        "labels-collide",
        lambda ctx: [
            "image-scores",
            ctx.face_png,
            "--labels",
            "face_found",
            "happy",
            "--local-model-path",
            ctx.no_model,
        ],
    ),
    (
        "nframes-zero",
        lambda ctx: [
            "video-scores",
            ctx.video,
            "--labels",
            *LABELS,
            "--nframes",
            "0",
            "--local-model-path",
            ctx.no_model,
        ],
    ),
    ("nframes-word", lambda ctx: ["video-scores", ctx.video, "--labels", *LABELS, "--nframes", "many"]),
    (
        "start-nan",
        lambda ctx: [
            "video-scores",
            ctx.video,
            "--labels",
            *LABELS,
            "--start",
            "nan",
            "--local-model-path",
            ctx.no_model,
        ],
    ),
    (
        "out-under-file",
        lambda ctx: [
            "image-scores",
            ctx.face_png,
            "--labels",
            *LABELS,
            "--local-model-path",
            ctx.model,
            "--out",
            write(ctx.fresh() / "f", "x") / "s.csv",
        ],
    ),
    (
        "out-unwritable",
        lambda ctx: [
            "image-scores",
            ctx.face_png,
            "--labels",
            *LABELS,
            "--local-model-path",
            ctx.model,
            "--out",
            "/proc/pybridge-no/s.csv",
        ],
    ),
    ("unknown-alias", lambda ctx: ["models", "info", "no-such-model"]),
    ("models-info-no-alias", lambda ctx: ["models", "info"]),
    (
        "batch-scheduler-silent",
        lambda ctx: [
            "batch",
            ctx.video,
            "--labels",
            *LABELS,
            "--out",
            ctx.fresh() / "o",
            "--scheduler",
            ctx.servers.silent_url.replace("http", "tcp"),
        ],
    ),
    (
        "batch-n-workers-zero",
        lambda ctx: [
            "batch",
            ctx.video,
            "--labels",
            *LABELS,
            "--out",
            ctx.fresh() / "o",
            "--n-workers",
            "0",
            "--local-model-path",
            ctx.no_model,
        ],
    ),
    ("video-missing", lambda ctx: ["video-scores", ctx.root / "none.mp4", "--labels", *LABELS]),
    (
        "image-scores-url-silent",
        lambda ctx: [
            "image-scores",
            ctx.servers.silent_url + "/x.png",
            "--labels",
            *LABELS,
            "--local-model-path",
            ctx.model,
            "--out",
            ctx.fresh() / "s.csv",
        ],
    ),
]:
    expected = (
        CLI_ERROR if name != "image-scores-url-silent" else (lambda r: r.status == 0 and "Traceback" not in r.stderr)
    )
    add(f"cli/{name}", lambda ctx, argv=argv: cli(*argv(ctx)), expected)


def _series_csv(ctx: Ctx) -> Path:
    rng = np.random.default_rng(5)
    return write(ctx.fresh() / "s.csv", pd.DataFrame({"happy": rng.normal(size=60)}).to_csv(index=False))


# ---- 12. analysis functions on hostile tables
def _estimate(data: Any, **kw: Any):
    from pybridge import estimate_dlo

    return estimate_dlo(data, **kw)


for name, data, kw, expect in [
    ("empty-frame", lambda: pd.DataFrame(), {}, E.InvalidInputError),
    ("all-nan", lambda: pd.DataFrame({"happy": [np.nan] * 40}), {}, E.InvalidInputError),
    ("too-short", lambda: pd.DataFrame({"happy": np.arange(5.0)}), {}, E.InvalidInputError),
    ("strings", lambda: pd.DataFrame({"happy": ["x"] * 40}), {}, E.InvalidInputError),
    ("infinite", lambda: pd.DataFrame({"happy": [np.inf] * 40}), {}, E.InvalidInputError),
    ("dt-zero", lambda: pd.DataFrame({"happy": np.sin(np.arange(60.0))}), {"dt": 0}, E.InvalidInputError),
    ("dt-nan", lambda: pd.DataFrame({"happy": np.sin(np.arange(60.0))}), {"dt": math.nan}, E.InvalidInputError),
    ("method", lambda: pd.DataFrame({"happy": np.sin(np.arange(60.0))}), {"method": "magic"}, E.InvalidInputError),
    ("not-a-table", lambda: "scores.csv", {}, E.InvalidInputError),
]:
    add(f"dlo/{name}", lambda ctx, data=data, kw=kw: _estimate(data(), **kw), expect)


def _simulate(**kw: Any):
    from pybridge import simulate_dlo

    base = {"eta": -0.1, "zeta": -0.05, "sigma_q": 0.5, "n_steps": 50}
    return simulate_dlo(**{**base, **kw})


for name, kw in [
    ("n-steps-negative", {"n_steps": -3}),
    ("eta-nan", {"eta": math.nan}),
    ("sigma-negative", {"sigma_q": -1}),
    ("dt-inf", {"dt": math.inf}),
    ("n-series-zero", {"n_series": 0}),
]:
    add(f"dlo-simulate/{name}", lambda ctx, kw=kw: _simulate(**kw), E.InvalidInputError)


def _dynega(data: Any):
    from pybridge import dynEGA

    return dynEGA(data)


for name, data in [
    ("empty", lambda: pd.DataFrame()),
    ("one-column", lambda: pd.DataFrame({"a": np.arange(50.0)})),
    ("strings", lambda: pd.DataFrame({"a": ["x"] * 50, "b": ["y"] * 50})),
    ("too-short", lambda: pd.DataFrame({"a": [1.0, 2.0], "b": [2.0, 1.0], "c": [0.0, 1.0]})),
]:
    add(f"dynega/{name}", lambda ctx, data=data: _dynega(data()), E.InvalidInputError)


# ============================================================================ running


@dataclass
class Outcome:
    kind: str  # typed | correct | generic | wrong | hang | oom
    passed: bool
    detail: str = ""
    seconds: float = 0.0
    peak_rss_mb: float | None = None


def _judge(case: Case, result: Any = None, error: BaseException | None = None) -> Outcome:
    if case.expect == CLI_ERROR and error is None:
        ok = result.status == 2 and "error:" in result.stderr and "Traceback" not in result.stderr
        line = (result.stderr.strip().splitlines() or [""])[-1]
        return Outcome(
            "typed" if ok else ("generic" if "Traceback" in result.stderr else "wrong"),
            ok,
            f"status {result.status}: {line[:300]}",
        )
    if error is not None:
        message = f"{type(error).__name__}: {error}"
        if not isinstance(error, E.PyBridgeError):
            return Outcome("generic", False, message[:500])
        expected = case.expect if isinstance(case.expect, tuple) else (case.expect,)
        ok = all(isinstance(e, type) for e in expected) and isinstance(error, expected)
        if ok and case.match is not None:
            ok = re.search(case.match, str(error), re.I | re.S) is not None
        if ok and "allow_pickle" in str(error):
            ok = False
        return Outcome("typed", ok, message[:500])
    if isinstance(case.expect, (type, tuple)):
        return Outcome("wrong", False, f"returned {type(result).__name__} instead of raising {case.expect}")
    try:
        ok = bool(case.expect(result))
    except Exception as err:  # noqa: BLE001 - a predicate failing on an odd result is a wrong result
        ok, message = False, f"check failed: {err!r}"
    else:
        message = "" if ok else f"unexpected result: {str(result)[:400]}"
    return Outcome("correct" if ok else "wrong", ok, message)


def _run_threaded(case: Case, ctx: Ctx) -> Outcome:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = case.run(ctx)
        except BaseException as err:  # noqa: BLE001 - every failure is judged
            box["error"] = err
            box["trace"] = traceback.format_exc()

    worker = threading.Thread(target=target, daemon=True, name=f"case-{case.id}")
    started = time.monotonic()
    worker.start()
    worker.join(case.timeout)
    seconds = time.monotonic() - started
    if worker.is_alive():
        return Outcome("hang", False, f"no result after {case.timeout:g} s", seconds)
    if isinstance(box.get("error"), AssertionError):
        return Outcome("wrong", False, str(box["error"]), seconds)
    outcome = _judge(case, box.get("result"), box.get("error"))
    outcome.seconds = seconds
    return outcome


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _run_isolated(case: Case, ctx: Ctx) -> Outcome:
    """Fork; the child runs the case while a watchdog kills it above the memory cap."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        peak = [_rss_bytes()]

        def watch() -> None:
            while True:
                peak[0] = max(peak[0], _rss_bytes())
                if peak[0] > MEMORY_CAP_BYTES:
                    os.write(write_end, json.dumps({"kind": "oom", "peak": peak[0]}).encode())
                    os._exit(0)
                time.sleep(0.005)

        threading.Thread(target=watch, daemon=True).start()
        try:
            outcome = _run_threaded(case, ctx)
            peak[0] = max(peak[0], _rss_bytes())
            payload = {**outcome.__dict__, "peak": peak[0]}
        except BaseException as err:  # noqa: BLE001
            payload = {"kind": "generic", "passed": False, "detail": repr(err), "peak": peak[0]}
        os.write(write_end, json.dumps(payload, default=str).encode())
        os._exit(0)
    os.close(write_end)
    started = time.monotonic()
    chunks = []
    while True:
        data = os.read(read_end, 65536)
        if not data:
            break
        chunks.append(data)
    os.close(read_end)
    os.waitpid(pid, 0)
    payload = json.loads(b"".join(chunks) or b'{"kind": "generic", "detail": "child died"}')
    peak_mb = payload.pop("peak", 0) / 2**20
    if payload["kind"] == "oom":
        return Outcome(
            "oom",
            False,
            f"resident memory passed {MEMORY_CAP_BYTES / 2**30:g} GiB",
            time.monotonic() - started,
            peak_mb,
        )
    payload.pop("peak_rss_mb", None)
    outcome = Outcome(**{k: payload[k] for k in ("kind", "passed", "detail", "seconds") if k in payload})
    outcome.peak_rss_mb = peak_mb
    return outcome


OUTCOMES: dict[str, Outcome] = {}


@pytest.fixture(scope="module")
def ctx(tmp_path_factory, tiny_clip_dir, astronaut):
    saved = {key: os.environ.get(key) for key in SHORT_LIMITS}
    os.environ.update(SHORT_LIMITS)
    context = Ctx(tmp_path_factory.mktemp("robustness"), tiny_clip_dir, astronaut)
    _GREY["grey"] = context.grey
    _GREY["astronaut"] = astronaut
    yield context
    context.close()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _write_report()


def _write_report() -> None:
    target = os.environ.get("PYBRIDGE_ROBUSTNESS_REPORT")
    if not target or not OUTCOMES:
        return
    import pybridge

    lines = [f"{len(OUTCOMES)} cases, pybridge from {Path(pybridge.__file__).parent}"]
    kinds = Counter(o.kind for o in OUTCOMES.values())
    lines.append(
        "outcome counts: "
        + ", ".join(f"{k} {kinds[k]}" for k in ("typed", "correct", "generic", "wrong", "hang", "oom"))
    )
    lines.append(f"passed {sum(o.passed for o in OUTCOMES.values())} of {len(OUTCOMES)}")
    by_group: dict[str, Counter] = {}
    for case_id, outcome in OUTCOMES.items():
        group = case_id.split("/")[0]
        by_group.setdefault(group, Counter())[outcome.kind if outcome.kind in ("typed", "correct") else "other"] += 1
    lines.append(f"{'group':<22}{'typed':>7}{'correct':>9}{'other':>7}")
    for group, counts in by_group.items():
        lines.append(f"{group:<22}{counts['typed']:>7}{counts['correct']:>9}{counts['other']:>7}")
    lines.append("")
    for case_id, o in OUTCOMES.items():
        rss = f" peak {o.peak_rss_mb:.0f} MB" if o.peak_rss_mb else ""
        lines.append(f"{'PASS' if o.passed else 'FAIL'} {o.kind:<8}{o.seconds:6.1f}s{rss} {case_id}: {o.detail}")
    Path(target).write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, ctx: Ctx) -> None:
    outcome = _run_isolated(case, ctx) if case.isolated else _run_threaded(case, ctx)
    OUTCOMES[case.id] = outcome
    _write_report()
    assert outcome.passed, f"{outcome.kind}: {outcome.detail}"
    if case.id.startswith(("urls/", "hub/", "corpus-net/", "video-input/url")):
        assert outcome.seconds < STALL_BOUND_S


def test_table_is_large_and_ids_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) >= 150
    assert len(set(ids)) == len(ids)
