"""Emotion time series from videos: :func:`video_scores`.

Frames are sampled with transforEmotion's arguments (``nframes``, ``ffreq``,
``uniform``, ``start``, ``end``), decoded in one streamed pass (see
:mod:`pybridge.vision.video`) and scored by the same face pipeline as still images
(:func:`pybridge.vision.scoring.score_stream`). Three stages overlap: a decoding
thread, a thread that detects, crops and preprocesses faces, and the model on the
caller's thread, so on a CPU the model sets the pace.

Examples
--------
>>> from pybridge import video_scores
>>> series = video_scores("speech.mp4", ["happy", "sad", "neutral"], nframes=50)  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import io
import math
import os
import warnings
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImageReadError, InvalidInputError, library_errors
from ..progress import progress_bar
from ..scores_table import face_columns, set_dtypes, set_provenance
from .faces import DEFAULT_DETECTION_SIZE, DEFAULT_DETECTOR, FaceBox, crop_face, resolve_detector
from .images import is_url
from .run_record import differences, input_identity, read_record, result_settings, write_record
from .scoring import build_scorer, check_scoring_arguments, score_stream
from .tracking import FaceTracker
from .video import SampledFrame, SamplePlan, ShortWindowWarning, iter_video_frames, probe_video, sample_plan
from .youtube import resolve_video_source

__all__ = ["check_video_arguments", "iter_video_score_chunks", "video_scores"]

_OUTPUT_FORMATS = (".csv", ".parquet")


def video_scores(
    video: Any,
    labels: Any = None,
    nframes: int = 100,
    face_selection: str = "largest",
    start: float = 0,
    end: float = -1,
    uniform: bool = False,
    ffreq: int = 15,
    model: str = "oai-base",
    local_model_path: str | os.PathLike | None = None,
    *,
    batch_size: int = 16,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    save_frames: str | os.PathLike | None = None,
    progress: bool | None = None,
    device: Any = None,
    dtype: Any = None,
    precision: Any = None,
    scorer: Any = None,
    templates: Any = None,
    trust_remote_code: bool | None = None,
    face_detection_size: int | None = DEFAULT_DETECTION_SIZE,
    detector: Any = DEFAULT_DETECTOR,
    face_threshold: float | None = None,
):
    """Score the faces in sampled video frames: one row per frame, an emotion time series.

    Parameters
    ----------
    video : str, path-like, or list of these
        Video file(s) in any container/codec ffmpeg reads, or http(s) URLs (streamed
        by ffmpeg). A YouTube URL is downloaded once into the pybridge cache with the
        optional ``pytubefix`` package (``pip install "pybridge-emotion[youtube]"``) and scored
        from there; the ``video`` column then names the cached file. A list adds a
        ``video`` column.
    labels : list of str
        Emotion labels, used verbatim as prompts and as column names, in this order.
        For fixed-class models (``"cnn-fer"``) a subset of the classes, or ``None``
        for all.
    nframes : int, default 100
        Most frames to score per video.
    face_selection : {"largest", "left", "right", "none", "all"}, default "largest"
        Which detected face to score; ``"none"`` scores the whole frame;
        ``"all"`` gives one row per face, with a ``face_id``.
    start : float, default 0
        Window start, in seconds from the first frame.
    end : float, default -1
        Window end in seconds (exclusive); ``-1`` means the end of the file.
    uniform : bool, default False
        Spread ``nframes`` evenly over the window; otherwise take every ``ffreq``-th
        frame from ``start``.
    ffreq : int, default 15
        Frame step when ``uniform=False``.
    model : str, default "oai-base"
        Model alias (see :func:`pybridge.list_models`).
    local_model_path : str or path-like, optional
        Local model folder replacing the alias's weights.
    batch_size : int, default 16
        Faces per forward pass.
    out : str or path-like, optional
        ``.csv`` or ``.parquet`` file that receives rows as they are scored, so a
        long run loses nothing when interrupted. An existing file is never
        overwritten: pass ``resume=True`` to continue it.
    resume : bool, default False
        Continue an interrupted run that wrote to ``out``: frames already in it
        are neither decoded to RGB nor scored again. The sampling, labels and model
        must be those of the first run.
    save_frames : str or path-like, optional
        Folder (created if needed) that receives every scored face crop (the
        whole frame with ``face_selection="none"`` or without a face) as PNG, named
        ``<video>_f<frame>_t<time>.png``. Existing files are never replaced: a
        clashing name gets a ``-1``, ``-2``, ... suffix.
    progress : bool, optional
        Show a progress bar; by default only when stderr is a terminal.
    device : optional
        Force the device (``"cpu"``, ``"cuda"``, ``"mps"``).
    dtype : optional
        Older name of ``precision``.
    precision : {None, "fp32", "bf16", "fp16"}, optional
        Numeric precision of the model, as in :func:`pybridge.image_scores`;
        ``resume=True`` refuses a file written in another precision.
    scorer : Scorer, optional
        An already-built scorer (e.g. a fitted :class:`pybridge.EmotionProbe`);
        replaces ``model``.
    templates : str or list of str, optional
        Prompt templates with ``{}`` for the label; several are averaged.
    trust_remote_code : bool, optional
        Allow a checkpoint's own code to run.
    face_detection_size : int or None, default 640
        Longest side, in pixels, of the copy of each frame the face detector scans
        (boxes are reported in full-resolution pixels). Shrinking makes detection
        about three times cheaper on 720p video; faces must then be at least 48
        pixels tall in a 720p frame. ``None`` scans the full frame, as
        transforEmotion does (slower; finds faces down to 30 pixels).
    detector : {"mtcnn", "blazeface", "haar"} or detector object, default "mtcnn"
        Face detector; see :func:`pybridge.image_scores`.
    face_threshold : float, optional
        Smallest detector confidence, in [0, 1], a face needs; default 0.9 for MTCNN,
        0.5 for BlazeFace.

    Returns
    -------
    pandas.DataFrame
        One row per sampled frame (per face with ``"all"``), in time order, the
        columns of :mod:`pybridge.scores_table`: (``video``), ``frame`` (0-based
        index of the frame in the file), ``time_s`` (its presentation time in
        seconds), (``face_id``), ``track_id`` (the same value for the same person
        across the sampled frames; see :mod:`pybridge.vision.tracking` for what
        happens when someone leaves and comes back), ``face_found``, ``face_score``
        (the detector's confidence; NaN for the Haar detector), ``face_x``,
        ``face_y``, ``face_w``, ``face_h`` (face box in pixels of the upright frame;
        NaN without a face), ``reason`` (why a row has no scores: no face, or a
        frame that could not be decoded; else None), the ``landmark_*`` columns
        (MTCNN), then one column per label. Per-person series:
        ``face_selection="all"``, then ``pybridge.dynEGA(table)`` or
        ``pybridge.estimate_dlo(table)`` (one series per ``track_id``). A frame without a face, or that cannot be decoded, is
        kept with NaN scores. ``frame`` is int64, or float64 with NaN when a frame
        could not be decoded. ``attrs["pybridge"]`` records the provenance: model,
        labels, sampling, decoder, face settings and facts about each video.

    Raises
    ------
    VideoReadError
        A video that is missing, empty, corrupt, truncated before its header, or
        has no video stream (the message names it). Raised before the model loads.
    DownloadError
        An http(s) URL that cannot be fetched, or a YouTube video that cannot be
        downloaded (no network).
    MissingDependencyError
        A YouTube URL without ``pytubefix`` installed.
    InvalidInputError
        Bad sampling arguments, ``face_selection``, ``detector``, ``face_threshold``
        (outside [0, 1]), ``batch_size``, ``out`` suffix,
        an existing ``out`` without ``resume=True``, or ``resume=True`` on a file
        written with other settings.
    InvalidLabelsError
        Empty, single (softmax models), duplicate or blank labels.
    UnknownModelError, ModelNotAvailableError, ModelLoadError
        Problems with the model.

    Warns
    -----
    ShortWindowWarning
        The window holds fewer frames than ``nframes`` (fewer rows come back), or
        ``end`` lies past the end of the file.

    Notes
    -----
    Sampling, for a 30 s clip at 25 fps (frame *n* is shown from *n*/25 s on; the
    window is ``start <= t < end``):

    ============================================= =========================================== ============
    call                                          frames scored                               rows
    ============================================= =========================================== ============
    ``nframes=100`` (defaults: ``ffreq=15``)      0, 15, 30, ..., 735                         50 + warning
    ``nframes=10, ffreq=25``                      0, 25, 50, ..., 225 (one a second)          10
    ``nframes=10, ffreq=25, start=12.5``          313, 338, ..., 538 (first at >= 12.5 s)     10
    ``nframes=5, ffreq=1, start=2, end=2.2``      50, 51, 52, 53, 54                          5
    ``nframes=10, ffreq=1, start=2, end=2.2``     50 .. 54 (``end`` is exclusive)             5 + warning
    ``nframes=4, uniform=True``                   0, 187, 375, 562 (at 0, 7.5, 15, 22.5 s)    4
    ``nframes=5, uniform=True, start=10, end=12`` 250, 260, 270, 280, 290                     5
    ``nframes=100, uniform=True, start=29``       725 .. 749 (every frame of the last second) 25 + warning
    ``nframes=4, uniform=True, start=20, end=60`` 500, 562, 625, 687 (window cut to 20-30 s)  4 + warning
    ``nframes=5, start=40``                       none (``start`` is past the end)            0 + warning
    ============================================= =========================================== ============

    With ``uniform=True`` the instants ``start + k (stop - start) / nframes`` are
    mapped to the frame on screen at each instant, so variable-frame-rate files are
    sampled evenly in time; a frame shown at several instants is scored once. Times
    are presentation timestamps, not index / fps. Rotated phone videos are scored
    upright.

    Examples
    --------
    >>> series = video_scores("speech.mp4", ["happy", "sad", "neutral"],
    ...                       nframes=200, uniform=True)  # doctest: +SKIP
    >>> series[["time_s", "happy"]].plot(x="time_s")  # doctest: +SKIP
    >>> video_scores(["a.mp4", "b.mp4"], ["happy", "sad"], out="scores.csv",
    ...              resume=True)  # doctest: +SKIP
    """
    arguments = dict(locals())  # every parameter, so that new ones join the run record by themselves
    import pandas as pd

    sources, several = _video_list(video)
    arguments = check_video_arguments(**{k: v for k, v in arguments.items() if k != "video"})
    plan, detector, labels = arguments.pop("plan"), arguments.pop("resolved_detector"), arguments["labels"]
    sources = [resolve_video_source(source) for source in sources]  # YouTube pages -> files
    sink = _OutputFile(out, resume, sources, arguments) if out is not None else None
    infos = {source: probe_video(source) for source in sources}  # bad files fail before the model loads
    frame_folder = _FrameFolder(save_frames) if save_frames is not None else None

    built = build_scorer(
        labels, model, local_model_path, scorer=scorer, templates=templates, batch_size=batch_size,
        device=device, dtype=dtype, precision=precision, trust_remote_code=trust_remote_code,
    )  # fmt: skip
    id_columns = (["video"] if several else []) + ["frame", "time_s"]
    columns = id_columns + _face_columns(built.columns, face_selection, detector)
    tracker_settings = FaceTracker().settings() if detector is not None else None
    # the detector as resolved (an object or a name) stands for the detector argument in the run record
    identity = _detector_identity(detector)
    resolved = {**built.provenance(), "detector": identity, "face_detector": identity, "tracker": tracker_settings}
    done = sink.open(columns, resolved) if sink is not None else pd.DataFrame(columns=columns)

    tables = [done] if len(done) else []
    with progress_bar(plan.nframes * len(sources), progress, unit="frame", desc="scoring video frames") as bar:
        for source in sources:
            name = str(source)
            skip = _frames_done(done, name if several else None)
            bar.update(skip)
            if skip >= plan.nframes:
                continue  # finished before the interruption: not even decoded again
            shortfalls: list[str] = []
            for chunk in iter_video_score_chunks(
                source, built, plan, face_selection=face_selection, detector=detector, batch_size=batch_size,
                skip=skip, shortfalls=shortfalls, frame_folder=frame_folder,
                first_track_id=_next_track_id(done, name if several else None),
            ):  # fmt: skip
                if several:
                    chunk.insert(0, "video", name)
                chunk = chunk[columns]
                if sink is not None:
                    sink.append(chunk)
                tables.append(chunk)
                bar.update(chunk["time_s"].nunique())
            for message in shortfalls:
                warnings.warn(message, ShortWindowWarning, stacklevel=2)
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=columns)
    table = set_dtypes(table[columns])
    if sink is not None:
        sink.finish(table)
    set_provenance(
        table,
        {
            **built.provenance(),
            "sampling": asdict(plan),
            "face_selection": face_selection,
            "face_crop": built.face_crop,
            "face_detector": detector.settings() if detector is not None else None,
            "tracker": tracker_settings,
            "batch_size": batch_size,
            "decoder": _decoder_version(),
            "videos": {str(source): asdict(info) for source, info in infos.items()},
        },
    )
    return table


def check_video_arguments(labels: Any = None, **options: Any) -> dict[str, Any]:
    """Check every argument of :func:`video_scores` except the videos, before any model loads.

    The one door that :func:`video_scores` and :func:`pybridge.score_corpus` both
    pass, so that a corpus job refuses bad arguments before a worker starts.

    Parameters
    ----------
    labels : list of str, optional
        As in :func:`video_scores`.
    **options
        Any other argument of :func:`video_scores` by name.

    Returns
    -------
    dict
        Every argument (defaults filled in), plus ``"plan"``: the validated
        :class:`~pybridge.vision.video.SamplePlan`, and ``"resolved_detector"``: the
        face detector (None with ``face_selection="none"``).

    Raises
    ------
    InvalidInputError
        An argument :func:`video_scores` does not have, bad sampling arguments,
        ``face_selection``, ``batch_size``, ``templates``, ``face_detection_size``,
        ``out`` or ``resume`` without ``out``.
    InvalidLabelsError
        As :func:`pybridge.vision.scoring.validate_labels`, or no labels for a
        zero-shot model.

    Examples
    --------
    >>> check_video_arguments(["happy", "sad"], nframes=10)["plan"].nframes
    10
    >>> check_video_arguments(["happy", "sad"], nframez=10)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    pybridge.errors.InvalidInputError: video_scores() has no argument 'nframez'
    """
    defaults = _video_scores_defaults()
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise InvalidInputError(
            f"video_scores() has no argument {', '.join(map(repr, unknown))}; its arguments are {', '.join(defaults)}"
        )
    arguments = {**defaults, **options}
    plan = sample_plan(
        nframes=arguments["nframes"], ffreq=arguments["ffreq"], uniform=arguments["uniform"],
        start=arguments["start"], end=arguments["end"],
    )  # fmt: skip
    arguments["labels"] = check_scoring_arguments(
        labels, scorer=arguments["scorer"], model=arguments["model"], local_model_path=arguments["local_model_path"],
        face_selection=arguments["face_selection"], batch_size=arguments["batch_size"], templates=arguments["templates"],
        precision=arguments["precision"], dtype=arguments["dtype"],
    )  # fmt: skip
    arguments["resolved_detector"] = resolve_detector(
        arguments["detector"],
        arguments["face_threshold"],
        arguments["face_detection_size"],
        arguments["face_selection"],
    )
    if arguments["out"] is not None:
        suffix = Path(os.fspath(arguments["out"])).suffix.lower()
        if suffix not in _OUTPUT_FORMATS:
            raise InvalidInputError(f"out must end in .csv or .parquet; got {os.fspath(arguments['out'])!r}")
    elif arguments["resume"]:
        raise InvalidInputError("resume=True needs out=, the file an interrupted run was writing to")
    return {**arguments, "plan": plan}


def _video_scores_defaults() -> dict[str, Any]:
    parameters = inspect.signature(video_scores).parameters
    return {name: p.default for name, p in parameters.items() if name not in ("video", "labels")}


def iter_video_score_chunks(
    video: str | os.PathLike,
    scorer,
    plan: SamplePlan,
    *,
    face_selection: str = "largest",
    detector=None,
    batch_size: int = 16,
    skip: int = 0,
    shortfalls: list[str] | None = None,
    frame_folder: _FrameFolder | None = None,
    first_track_id: int = 0,
) -> Iterator[Any]:
    """Score one video chunk by chunk (the engine of :func:`video_scores` and of corpus scoring).

    Parameters
    ----------
    video : str or path-like
        File or http(s) URL.
    scorer : Scorer
        From :func:`pybridge.vision.scoring.build_scorer`.
    plan : SamplePlan
        From :func:`pybridge.vision.video.sample_plan`.
    face_selection, detector, batch_size
        As in :func:`pybridge.vision.scoring.score_frames`.
    skip : int, default 0
        Sampled frames to leave out at the start (already scored).
    shortfalls : list, optional
        Receives short-window messages instead of a :class:`ShortWindowWarning`.
    frame_folder : optional
        Internal: where :func:`video_scores` saves crops.
    first_track_id : int, default 0
        Id of the first new face track (after ``skip``, one past the ids already
        written, so a resumed run does not reuse them).

    Yields
    ------
    pandas.DataFrame
        ``batch_size`` frames at a time: ``frame``, ``time_s``, then
        :func:`~pybridge.scores_table.face_columns` (with ``track_id`` when faces
        are detected: every detected face is tracked, the selected ones reported).
        Memory stays bounded by a
        few chunks whatever the video's length.

    Raises
    ------
    VideoReadError, DownloadError
        As :func:`pybridge.vision.video.iter_video_frames`.

    Examples
    --------
    >>> plan = sample_plan(nframes=20, uniform=True)
    >>> for chunk in iter_video_score_chunks("talk.mp4", scorer, plan):  # doctest: +SKIP
    ...     chunk.to_parquet(...)
    """
    import pandas as pd

    if face_selection != "none" and detector is None:
        detector = resolve_detector(face_selection=face_selection)
    tracker = FaceTracker(first_id=first_track_id) if detector is not None else None
    columns = ["frame", "time_s", *_face_columns(scorer.columns, face_selection, detector)]
    in_flight: dict[int, SampledFrame] = {}

    def keyed_frames() -> Iterator[tuple[int, SampledFrame]]:
        for position, sampled in enumerate(iter_video_frames(video, plan, skip=skip, shortfalls=shortfalls)):
            in_flight[position] = sampled
            yield position, sampled

    for records in score_stream(
        keyed_frames(), scorer, read=_frame_pixels, face_selection=face_selection, detector=detector,
        batch_size=batch_size, tracker=tracker,
    ):  # fmt: skip
        for record in records:
            sampled = in_flight[record["_source"]]
            record["frame"] = math.nan if sampled.index is None else sampled.index
            record["time_s"] = sampled.time_s
            if sampled.rgb is None:
                record["reason"] = sampled.reason
            if frame_folder is not None and sampled.rgb is not None:
                frame_folder.save(video, sampled, record, scorer.face_crop)
        for key in {record.pop("_source") for record in records}:
            del in_flight[key]
        yield pd.DataFrame.from_records(records, columns=columns)


# ---------------------------------------------------------------------------- internals


def _frame_pixels(sampled: SampledFrame) -> np.ndarray:
    if sampled.rgb is None:
        raise ImageReadError(sampled.reason)
    return sampled.rgb


def _video_list(video: Any) -> tuple[list[str | os.PathLike], bool]:
    if isinstance(video, (str, os.PathLike)):
        return [video], False
    if video is None:
        raise InvalidInputError("video is None; pass a video file, an http(s) URL or a list of them")
    try:
        sources = list(video)
    except TypeError:
        raise InvalidInputError(
            f"video must be a path, an http(s) URL or a list of them; got {type(video).__name__}"
        ) from None
    if not sources:
        raise InvalidInputError("the list of videos is empty; pass at least one video file or URL")
    wrong = [item for item in sources if not isinstance(item, (str, os.PathLike))]
    if wrong:
        raise InvalidInputError(f"every video must be a path or an http(s) URL; got {wrong[0]!r:.60}")
    names = [str(item) for item in sources]
    if len(set(names)) != len(names):
        raise InvalidInputError("the list of videos names a video twice; give each video once")
    return sources, True


def _frames_done(done, name: str | None) -> int:
    """Sampled frames an interrupted run already wrote for one video (rows per frame vary with "all")."""
    if not len(done):
        return 0
    rows = done if name is None else done[done["video"].astype(str) == name]
    return int(rows["time_s"].nunique())


def _face_columns(scorer_columns, face_selection: str, detector) -> list[str]:
    """A video's face columns: tracked whenever faces are detected, landmarks when the detector gives them."""
    landmarks = bool(getattr(detector, "has_landmarks", False))
    return face_columns(scorer_columns, face_selection, tracked=detector is not None, landmarks=landmarks)


def _detector_identity(detector) -> dict[str, Any] | None:
    """What a resumed run must share with the first: the detector's settings, but not its thread count."""
    if detector is None:
        return None
    return {key: value for key, value in detector.settings().items() if key != "threads"}


def _next_track_id(done, name: str | None) -> int:
    """One past the largest track id an interrupted run wrote for a video (0 when none)."""
    if not len(done) or "track_id" not in done.columns:
        return 0
    rows = done if name is None else done[done["video"].astype(str) == name]
    largest = rows["track_id"].max()
    return 0 if math.isnan(largest) else int(largest) + 1  # NaN: no face tracked yet


def _decoder_version() -> str:
    import av

    return f"pyav {av.__version__} (ffmpeg {av.ffmpeg_version_info})"


class _OutputFile:
    """Rows written as they are scored: appended to a CSV, or Parquet parts merged at the end.

    A ``<out>.run.json`` beside the output records everything that defines the
    result (see :mod:`pybridge.vision.run_record`): the arguments, each video's path,
    size and modification time, and the scorer's provenance. ``resume=True``
    compares them and refuses to mix rows of different runs.
    """

    def __init__(self, out: str | os.PathLike, resume: bool, sources: list, arguments: dict[str, Any]) -> None:
        self.path = Path(out)
        self.format = self.path.suffix.lower()
        self.resume = bool(resume)
        self.settings_file = self.path.with_name(self.path.name + ".run.json")
        self.parts = self.path.with_name(self.path.name + ".parts")
        self.n_parts = 0
        self.restart = (
            f"to start over, delete {os.fspath(self.path)!r} (with {self.settings_file.name!r} and "
            f"{self.parts.name!r} if present) or pass a new out="
        )
        self.record: dict[str, Any] = {
            "settings": result_settings({k: v for k, v in arguments.items() if k != "scorer"}),
            "inputs": {str(i): input_identity(source) for i, source in enumerate(sources)},
        }
        if self.path.is_dir():
            raise InvalidInputError(
                f"out={os.fspath(self.path)!r} is a folder; pass the path of a .csv or .parquet file"
            )
        self.started = self.path.exists() or self.parts.exists()
        if self.started and not self.resume:
            raise InvalidInputError(
                f"{os.fspath(self.path)!r} already exists; pass resume=True to continue that run, or choose "
                "another out= (existing results are never overwritten)"
            )
        if self.started:
            self._compare(read_record(self.settings_file, self.restart), ("settings", "inputs"))
            return
        with library_errors(f"cannot write out={os.fspath(self.path)!r}", "choose a location you can write to"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        write_record(self.settings_file, self.record)  # proves the folder is writable before the model loads

    def open(self, columns: list[str], provenance: dict[str, Any]):
        """Rows already written (resume), after checking the scorer and the columns."""
        import pandas as pd

        self.record["scorer"] = result_settings(provenance)
        self.record["columns"] = list(columns)
        if not self.started:
            write_record(self.settings_file, self.record)
            return pd.DataFrame(columns=columns)
        self._compare(read_record(self.settings_file, self.restart), ("scorer", "columns"))
        with library_errors(f"cannot resume {os.fspath(self.path)!r}: its rows cannot be read", self.restart):
            done = self._read_done()
        if len(done.columns) and list(done.columns) != columns:
            raise InvalidInputError(
                f"cannot resume {os.fspath(self.path)!r}: its columns {list(done.columns)} differ from {columns}; "
                + self.restart
            )
        return done.reindex(columns=columns)

    def _compare(self, previous: dict[str, Any], keys: tuple[str, ...]) -> None:
        found: list[str] = []
        # An argument the scorer's provenance also records (precision=None -> "fp32") is compared
        # as resolved there, so that the default and its explicit value count as the same run.
        resolved = set(previous.get("scorer") or {}) if isinstance(previous.get("scorer"), dict) else set()
        for key in keys:
            before, now = previous.get(key, "<unset>"), self.record.get(key, "<unset>")
            if key == "settings" and isinstance(before, dict) and isinstance(now, dict):
                before = {k: v for k, v in before.items() if k not in resolved}
                now = {k: v for k, v in now.items() if k not in resolved}
            if isinstance(before, dict) and isinstance(now, dict):
                found.extend(differences(before, now, f"{key}."))
            elif before != now:
                found.extend(differences({key: before}, {key: now}))
        if found:
            raise InvalidInputError(
                f"cannot resume {os.fspath(self.path)!r}: the inputs or settings changed since the run that wrote it "
                f"({'; '.join(found[:6])}{'; ...' if len(found) > 6 else ''}); {self.restart}"
            )

    def append(self, chunk) -> None:
        with library_errors(f"cannot write rows to {os.fspath(self.path)!r}", "check the disk and the permissions"):
            self._append(chunk)

    def _append(self, chunk) -> None:
        if self.format == ".csv":
            header = not self.path.exists() or self.path.stat().st_size == 0
            text = chunk.to_csv(index=False, header=header)
            with open(self.path, "a", encoding="utf-8", newline="") as handle:
                handle.write(text)  # one write per chunk: a kill leaves at most one partial line
                handle.flush()
                os.fsync(handle.fileno())
        else:
            self.parts.mkdir(exist_ok=True)
            self.n_parts += 1
            part = self.parts / f"part-{self.n_parts:06d}.parquet"
            temporary = part.with_suffix(".tmp")
            chunk.to_parquet(temporary, index=False)
            os.replace(temporary, part)  # a part is either whole or absent

    def finish(self, table) -> None:
        with library_errors(f"cannot write {os.fspath(self.path)!r}", "check the disk and the permissions"):
            self._finish(table)

    def _finish(self, table) -> None:
        if self.format == ".parquet":
            temporary = self.path.with_name(self.path.name + ".tmp")
            table.to_parquet(temporary, index=False)
            os.replace(temporary, self.path)
            if self.parts.exists():
                for part in self.parts.glob("part-*.parquet"):
                    part.unlink()
                self.parts.rmdir()

    def _read_done(self):
        import pandas as pd

        if self.format == ".csv":
            self._drop_partial_last_line()
            if self.path.stat().st_size == 0:
                return pd.DataFrame()
            return pd.read_csv(self.path, keep_default_na=True)
        frames = []
        if self.path.exists():
            frames.append(pd.read_parquet(self.path))
        if self.parts.exists():
            parts = sorted(self.parts.glob("part-*.parquet"))
            self.n_parts = len(parts)
            frames.extend(pd.read_parquet(part) for part in parts)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def _drop_partial_last_line(self) -> None:
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(self.path, "r+b") as handle:
                handle.truncate(data.rfind(b"\n") + 1)


class _FrameFolder:
    """Writes face crops for inspection without ever replacing an existing file."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise InvalidInputError(f"save_frames={os.fspath(folder)!r} is a file; pass a folder")
        with library_errors(f"cannot create save_frames={os.fspath(folder)!r}", "choose a folder you can write to"):
            self.folder.mkdir(parents=True, exist_ok=True)

    def save(self, video: str | os.PathLike, sampled: SampledFrame, record: dict, face_crop: str) -> None:
        from PIL import Image

        image = sampled.rgb
        assert image is not None  # only decoded frames are saved
        if record.get("face_found"):
            box = FaceBox(*(int(record[key]) for key in ("face_x", "face_y", "face_w", "face_h")))
            image = crop_face(image, box, face_crop)
        face = "" if record.get("face_id") is None else f"_face{int(record['face_id'])}"
        frame = "na" if sampled.index is None else f"{sampled.index:06d}"
        stem = f"{_video_stem(video)}_f{frame}_t{sampled.time_s:.3f}{face}"
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="PNG")
        fix = "check the disk and the permissions, or drop save_frames="
        with library_errors(f"cannot save a face crop in {os.fspath(self.folder)!r}", fix):
            for attempt in range(10_000):
                path = self.folder / (f"{stem}.png" if attempt == 0 else f"{stem}-{attempt}.png")
                try:
                    with open(path, "xb") as handle:  # "x": fail rather than overwrite
                        handle.write(buffer.getvalue())
                    return
                except FileExistsError:
                    continue


def _video_stem(video: str | os.PathLike) -> str:
    text = str(video)
    name = text.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] if is_url(text) else Path(text).name
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in stem) or "video"
