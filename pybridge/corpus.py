"""Corpus-scale video scoring on Dask, resumable.

One Dask task scores one video with :func:`pybridge.video_scores` and writes its rows
to one Parquet file in the output folder, atomically (a hidden temporary file renamed
into place), so the output folder is always a valid Parquet dataset:
``pandas.read_parquet(out)`` reads every finished video. A job that is killed and
started again with the same arguments skips the videos whose file exists and loses no
rows. Videos that cannot be scored (corrupt file, no video stream, ...) are listed with
their reason in ``out/_failures.csv`` (the underscore keeps Parquet readers away from
it) instead of stopping the job.

Models are cached per process by :mod:`pybridge.models`, so each Dask worker loads the
model once, on its first task, and reuses it for every later video.

Nothing of Dask is imported unless :func:`score_corpus` runs; install it with
``pip install "pybridge-emotion[dist]"``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InvalidInputError, MissingDependencyError, ServiceUnavailableError, library_errors
from .limits import limit, run_with_deadline
from .progress import progress_bar
from .scores_table import get_provenance, set_dtypes, set_provenance
from .vision.images import is_url
from .vision.run_record import differences, input_identity, read_record, result_settings, write_record
from .vision.video_scoring import check_video_arguments

__all__ = ["score_corpus", "CorpusResult", "resolve_videos", "VIDEO_EXTENSIONS"]

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ts", ".3gp"}
)
FAILURES_FILE = "_failures.csv"
#: The record of what defines the results in an output folder (see ``_check_rerun``).
RUN_RECORD_FILE = "_run.json"
#: The manifest of a corpus run: labels, video_scores arguments, face detector and tracker settings.
MANIFEST_FILE = "_manifest.json"
_MANIFEST_COLUMNS = ("video", "path", "file", "filename")


@dataclass
class CorpusResult:
    """Summary of a :func:`score_corpus` run.

    Attributes
    ----------
    out : pathlib.Path
        The output folder (a Parquet dataset plus ``_failures.csv``).
    n_videos : int
        Videos in the corpus.
    scored : int
        Videos scored by this run.
    skipped : int
        Videos skipped because an earlier run had finished them.
    failed : int
        Videos that could not be scored (see ``failures``).
    n_rows : int
        Rows written by this run.
    seconds : float
        Wall-clock time of this run.
    failures : pandas.DataFrame
        Columns ``video`` and ``reason``, one row per failed video.

    Examples
    --------
    >>> result = score_corpus("videos/", ["happy", "sad"], "scores/")  # doctest: +SKIP
    >>> result.scored, result.failed, result.read().shape  # doctest: +SKIP
    """

    out: Path
    n_videos: int
    scored: int
    skipped: int
    failed: int
    n_rows: int
    seconds: float
    failures: pd.DataFrame = field(repr=False)

    @property
    def frames_per_second(self) -> float:
        """Rows (scored frames) written per second of wall-clock time.

        Returns
        -------
        float
            ``n_rows / seconds``; NaN when no time was measured.

        Examples
        --------
        >>> CorpusResult(Path("out"), 1, 1, 0, 0, 20, 4.0, pd.DataFrame()).frames_per_second
        5.0
        """
        return self.n_rows / self.seconds if self.seconds > 0 else float("nan")

    def read(self) -> pd.DataFrame:
        """Read every finished video's rows back as one DataFrame.

        Returns
        -------
        pandas.DataFrame
            As :func:`read_corpus` on :attr:`out`.

        Raises
        ------
        InvalidInputError
            As :func:`read_corpus` (e.g. the folder was removed since the run).

        Examples
        --------
        >>> rows = result.read()  # doctest: +SKIP
        """
        return read_corpus(self.out)

    def to_dict(self) -> dict[str, Any]:
        """Plain-type summary (for JSON, R).

        Returns
        -------
        dict
            Every attribute as str, int, float or a list of records, plus
            ``frames_per_second``.

        Examples
        --------
        >>> CorpusResult(Path("out"), 1, 1, 0, 0, 20, 4.0, pd.DataFrame()).to_dict()["out"]
        'out'
        """
        return {
            "out": str(self.out),
            "n_videos": self.n_videos,
            "scored": self.scored,
            "skipped": self.skipped,
            "failed": self.failed,
            "n_rows": self.n_rows,
            "seconds": self.seconds,
            "frames_per_second": self.frames_per_second,
            "failures": self.failures.to_dict(orient="records"),
        }

    def __str__(self) -> str:
        return (
            f"{self.n_videos} videos: {self.scored} scored, {self.skipped} already done, "
            f"{self.failed} failed; {self.n_rows} rows in {self.seconds:.1f} s "
            f"({self.frames_per_second:.1f} frames/s); output: {self.out}"
        )


def read_corpus(out: str | os.PathLike) -> pd.DataFrame:
    """Read the rows of every finished video of a corpus output folder.

    Parameters
    ----------
    out : str or path-like
        Output folder of :func:`score_corpus`.

    Returns
    -------
    pandas.DataFrame
        All rows, ordered by video then frame, with the scores table's dtypes and the
        labels in its provenance (:mod:`pybridge.scores_table`); the provenance also
        holds the run's manifest (``"manifest"``, from ``_manifest.json``: labels,
        arguments, face detector and tracker settings) when there is one.

    Raises
    ------
    InvalidInputError
        If the folder does not exist.

    Examples
    --------
    >>> rows = read_corpus("results/")  # doctest: +SKIP
    """
    folder = Path(out)
    if not folder.is_dir():
        raise InvalidInputError(f"corpus output folder not found: {folder}")
    files = sorted(folder.glob("*.parquet"))
    if not files:
        return pd.DataFrame()
    parts = [pd.read_parquet(f) for f in files]
    frame = set_dtypes(pd.concat(parts, ignore_index=True))
    order = [c for c in ("video", "frame") if c in frame.columns]
    if order:
        frame = frame.sort_values(order, kind="stable").reset_index(drop=True)
    record = dict(get_provenance(parts[0]))
    manifest = folder / MANIFEST_FILE
    if manifest.is_file():
        record["manifest"] = json.loads(manifest.read_text(encoding="utf-8"))
    return set_provenance(frame, record)


def resolve_videos(
    videos: str | os.PathLike | Sequence[str | os.PathLike], *, pattern: str | None = None, recursive: bool = False
) -> list[str]:
    """Turn a folder, a manifest CSV or a list into the list of videos to score.

    Parameters
    ----------
    videos : str, path-like or sequence
        A folder (its files with a video extension, sorted), a manifest ``.csv``
        (column ``video``, ``path``, ``file`` or ``filename``; relative paths are taken
        relative to the manifest's folder), or a list of paths / http(s) URLs.
    pattern : str, optional
        Glob for file names inside a folder (e.g. ``"*.mp4"``); default: any video
        extension.
    recursive : bool, default False
        Search the folder's sub-folders too.

    Returns
    -------
    list of str
        Video paths or URLs, in corpus order, without duplicates.

    Raises
    ------
    InvalidInputError
        For a missing folder or manifest, a manifest without a video column, an empty
        corpus, or duplicate entries.

    Examples
    --------
    >>> resolve_videos(["a.mp4", "b.mp4"])
    ['a.mp4', 'b.mp4']
    """
    if isinstance(videos, (str, os.PathLike)) and not is_url(str(videos)):
        source = Path(videos)
        if source.is_dir():
            found = source.rglob(pattern or "*") if recursive else source.glob(pattern or "*")
            items = sorted(str(p) for p in found if p.is_file() and (pattern or p.suffix.lower() in VIDEO_EXTENSIONS))
            if not items:
                raise InvalidInputError(
                    f"no video files in {source}"
                    + (f" matching {pattern!r}" if pattern else f" (extensions: {', '.join(sorted(VIDEO_EXTENSIONS))})")
                )
        elif source.suffix.lower() == ".csv":
            items = _read_manifest(source)
        elif source.exists():
            items = [str(source)]
        else:
            raise InvalidInputError(f"videos not found: {source} is neither a folder, a manifest CSV nor a file")
    elif isinstance(videos, (str, os.PathLike)):
        items = [str(videos)]
    else:
        try:
            entries = list(videos)
        except TypeError:
            raise InvalidInputError(
                f"videos must be a folder, a manifest CSV or a list of paths; got {type(videos).__name__}"
            ) from None
        wrong = [v for v in entries if not isinstance(v, (str, os.PathLike))]
        if wrong:
            raise InvalidInputError(f"every video must be a path or URL string; got {wrong[0]!r:.60}")
        items = [os.fspath(v) for v in entries]
    if not items:
        raise InvalidInputError("the corpus is empty: pass at least one video")
    seen: set[str] = set()
    duplicates = sorted({v for v in items if v in seen or seen.add(v)})  # type: ignore[func-returns-value]
    if duplicates:
        raise InvalidInputError(
            f"{len(duplicates)} videos are listed more than once ({', '.join(duplicates[:5])}); "
            "each video must appear once because its output file is named after it"
        )
    return items


def _read_manifest(path: Path) -> list[str]:
    with library_errors(f"cannot read the manifest {os.fspath(path)!r}", "pass a CSV file with a 'video' column"):
        manifest = pd.read_csv(path)
    column = next((c for c in manifest.columns if str(c).lower() in _MANIFEST_COLUMNS), None)
    if column is None:
        raise InvalidInputError(
            f"manifest {path} has no video column; name one of its columns {', '.join(_MANIFEST_COLUMNS)}"
        )
    entries = [str(v) for v in manifest[column].dropna()]
    return [v if is_url(v) or Path(v).is_absolute() else str(path.parent / v) for v in entries]


def output_name(video: str | os.PathLike) -> str:
    """File name of a video's rows in the output folder: readable stem plus a hash.

    The hash of the full path keeps two ``clip.mp4`` of different folders apart.

    Parameters
    ----------
    video : str or path-like
        The video's path or URL as given to :func:`score_corpus`.

    Returns
    -------
    str
        ``<sanitised stem>-<10 hex digits>.parquet``.

    Raises
    ------
    InvalidInputError
        ``video`` is neither a string nor a path.

    Examples
    --------
    >>> output_name("/data/speech 1.mp4")[:9]
    'speech_1-'
    """
    if not isinstance(video, (str, os.PathLike)):
        raise InvalidInputError(f"a video must be a path or URL string, got {type(video).__name__}")
    video = os.fspath(video)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(video.split("?")[0]).stem).strip("._") or "video"
    digest = hashlib.sha1(video.encode("utf-8")).hexdigest()[:10]
    return f"{stem[:60]}-{digest}.parquet"


def _score_one_video(video: str, destination: str, labels: list[str] | None, options: dict[str, Any]) -> dict:
    """Dask task: score one video and write its rows atomically. Runs on a worker."""
    from .vision.video_scoring import video_scores

    started = time.perf_counter()
    try:
        rows = video_scores(video, labels, progress=False, **options)
    except Exception as err:  # noqa: BLE001 - one bad video must not stop a corpus
        return {"video": video, "status": "failed", "reason": f"{type(err).__name__}: {err}", "n_rows": 0}
    rows.insert(0, "video", video)
    # keep what tells the score columns apart (the labels), not the per-run details
    recorded = get_provenance(rows)
    rows.attrs = {}
    set_provenance(rows, {key: recorded[key] for key in ("labels", "model", "model_id") if key in recorded})
    target = Path(destination)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    rows.to_parquet(temporary, index=False)
    os.replace(temporary, target)
    return {
        "video": video,
        "status": "scored",
        "reason": "",
        "n_rows": len(rows),
        "seconds": time.perf_counter() - started,
    }


def _configure_worker(torch_threads: int) -> int:
    """Give each worker process its share of the cores for torch."""
    from .torch_threads import set_torch_threads

    return set_torch_threads(max(1, torch_threads))


def _write_failures(out: Path, failures: list[dict]) -> None:
    table = pd.DataFrame(failures, columns=["video", "reason"])
    temporary = out / f".{FAILURES_FILE}.tmp"
    table.to_csv(temporary, index=False)
    os.replace(temporary, out / FAILURES_FILE)


def score_corpus(
    videos: str | os.PathLike | Sequence[str | os.PathLike],
    labels: Sequence[str] | None,
    out: str | os.PathLike,
    n_workers: int | None = None,
    scheduler: Any = None,
    *,
    pattern: str | None = None,
    recursive: bool = False,
    progress: bool | None = None,
    **video_scores_kwargs: Any,
) -> CorpusResult:
    """Score a corpus of videos on Dask, one task per video, resumable.

    Parameters
    ----------
    videos : str, path-like or sequence
        A folder of videos, a manifest CSV, or a list of paths / URLs
        (see :func:`resolve_videos`).
    labels : sequence of str or None
        Emotion labels, as for :func:`pybridge.video_scores` (``None`` for fixed-class
        models such as ``cnn-fer``).
    out : str or path-like
        Output folder: one Parquet file per video (columns of ``video_scores`` plus
        ``video`` first) and ``_failures.csv``. Created if needed.
    n_workers : int, optional
        Worker processes of the local cluster; default: one per core. Ignored when
        ``scheduler`` is given.
    scheduler : str or distributed.Client, optional
        Address of an existing Dask scheduler (``"tcp://host:8786"``) or a connected
        client; default: a ``LocalCluster`` on this machine, closed at the end.
    pattern, recursive
        Folder search options (see :func:`resolve_videos`).
    progress : bool, optional
        Show a progress bar with videos done / failed / remaining and frames per
        second; default: when stderr is a terminal.
    **video_scores_kwargs
        Passed to :func:`pybridge.video_scores` (``nframes``, ``uniform``, ``model``,
        ``local_model_path``, ``face_selection``, ``batch_size``, ``precision``, ...).

    Returns
    -------
    CorpusResult
        Counts, timing and failures; ``.read()`` loads every row.

    Raises
    ------
    MissingDependencyError
        If Dask's ``distributed`` is not installed.
    InvalidInputError
        For an empty corpus, duplicate videos, any argument ``video_scores`` would
        refuse (checked here, before Dask starts), ``out``/``resume`` (the corpus job
        manages its own files), or an output folder whose results were made with
        other result-defining settings or from video files that changed since (the
        message says how to start over).
    InvalidLabelsError
        Bad labels, before Dask starts.
    ServiceUnavailableError
        ``scheduler`` could not be reached within ``PYBRIDGE_REQUEST_DEADLINE``
        (see :mod:`pybridge.limits`).

    Examples
    --------
    >>> result = score_corpus("clips/", ["happy", "sad"], "results/", nframes=50)  # doctest: +SKIP
    >>> print(result)  # doctest: +SKIP
    6 videos: 5 scored, 0 already done, 1 failed; 250 rows in 12.3 s (20.3 frames/s); output: results
    """
    for reserved in ("out", "resume", "save_frames", "progress"):
        if reserved in video_scores_kwargs:
            raise InvalidInputError(
                f"score_corpus manages {reserved!r} itself (one Parquet file per video in `out`); remove it"
            )
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as err:
        raise MissingDependencyError(
            'corpus scoring runs on Dask; install it with: pip install "pybridge-emotion[dist]"'
        ) from err

    if n_workers is not None and (
        isinstance(n_workers, bool) or not isinstance(n_workers, (int, np.integer)) or n_workers < 1
    ):
        raise InvalidInputError(f"n_workers must be a whole number >= 1 or None; got {n_workers!r}")
    if not (scheduler is None or isinstance(scheduler, str) or hasattr(scheduler, "submit")):
        raise InvalidInputError(
            f"scheduler must be an address such as 'tcp://host:8786', a distributed.Client or None; got {scheduler!r:.60}"
        )
    # Every argument a worker would reject is rejected here, before Dask starts.
    arguments = check_video_arguments(labels, **video_scores_kwargs)
    items = resolve_videos(videos, pattern=pattern, recursive=recursive)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InvalidInputError(f"out={os.fspath(out)!r} is a file; score_corpus writes a folder of Parquet files")
    label_list = None if labels is None else list(labels)
    manifest = _manifest(label_list, video_scores_kwargs)  # a bad detector fails before any work
    with library_errors(f"cannot create the output folder {os.fspath(out)!r}", "choose a folder you can write to"):
        folder.mkdir(parents=True, exist_ok=True)
    _check_rerun(folder, items, arguments, manifest)
    _write_manifest(folder, manifest)

    pending = [v for v in items if not (folder / output_name(v)).exists()]
    skipped = len(items) - len(pending)
    started = time.perf_counter()
    failures: list[dict] = []
    scored = n_rows = 0

    if pending:
        cluster = None
        own_client = not hasattr(scheduler, "submit")
        if scheduler is None:
            cores = os.cpu_count() or 1
            workers = max(1, min(n_workers or cores, len(pending)))
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
            client = Client(cluster)
            client.run(_configure_worker, max(1, cores // workers))
        elif own_client:
            client = _connect(Client, scheduler)
        else:
            client = scheduler
        try:
            futures = [
                client.submit(
                    _score_one_video,
                    video,
                    str(folder / output_name(video)),
                    label_list,
                    video_scores_kwargs,
                    pure=False,
                    key=f"pybridge-video-{output_name(video)}-{time.time_ns()}",
                )
                for video in pending
            ]
            bar = progress_bar(len(items), progress, unit="video", desc="corpus", initial=skipped)
            for future in as_completed(futures):
                outcome = future.result()
                if outcome["status"] == "scored":
                    scored += 1
                    n_rows += outcome["n_rows"]
                else:
                    failures.append({"video": outcome["video"], "reason": outcome["reason"]})
                    _write_failures(folder, failures)
                elapsed = time.perf_counter() - started
                bar.update(1)
                bar.set_postfix(
                    done=scored + skipped,
                    failed=len(failures),
                    remaining=len(items) - skipped - scored - len(failures),
                    fps=f"{n_rows / elapsed:.1f}" if elapsed > 0 else "-",
                )
            bar.close()
        finally:
            if own_client:
                client.close()
            if cluster is not None:
                cluster.close()
    _write_failures(folder, failures)
    return CorpusResult(
        out=folder,
        n_videos=len(items),
        scored=scored,
        skipped=skipped,
        failed=len(failures),
        n_rows=n_rows,
        seconds=time.perf_counter() - started,
        failures=pd.DataFrame(failures, columns=["video", "reason"]),
    )


def _connect(client_class, address: str):
    """A client of the scheduler at ``address``, or a typed error within the request deadline."""
    seconds = limit("PYBRIDGE_REQUEST_DEADLINE")

    def failed(reason: str) -> ServiceUnavailableError:
        return ServiceUnavailableError(
            f"could not connect to the Dask scheduler {address!r} within {seconds:g} s ({reason}); check that it "
            "runs and the address (e.g. 'tcp://host:8786'), or raise PYBRIDGE_REQUEST_DEADLINE"
        )

    try:
        # Dask's own timeout does not cover a server that accepts and never completes the handshake
        return run_with_deadline(lambda: client_class(address, timeout=seconds), seconds, lambda: failed("no answer"))
    except ServiceUnavailableError:
        raise
    except Exception as err:  # noqa: BLE001 - whatever Dask raises, the scheduler cannot be used
        raise failed(f"{type(err).__name__}: {err}") from err


def _check_rerun(folder: Path, videos: list[str], arguments: dict[str, Any], manifest: dict[str, Any]) -> None:
    """Refuse to continue an output folder written with other settings or other input files.

    ``_run.json`` records the result-defining arguments, the face detector and
    tracker settings of the manifest, and each video's path, size and modification
    time (:mod:`pybridge.vision.run_record`); it is written before any video is
    scored and extended when the corpus grows.
    """
    record_path = folder / RUN_RECORD_FILE
    restart = f"to start over, delete the folder {os.fspath(folder)!r} or pass a new out="
    settings = result_settings({
        **{key: value for key, value in arguments.items() if key not in ("plan", "resolved_detector", "scorer")},
        "face_detector": manifest.get("face_detector"),
        "tracker": manifest.get("tracker"),
    })  # fmt: skip
    identities = {video: input_identity(video) for video in videos}
    recorded_videos: dict[str, Any] = {}
    if record_path.exists() or any(folder.glob("*.parquet")):
        previous = read_record(record_path, restart)
        found = differences(previous.get("settings", {}), settings, "settings.")
        recorded_videos = previous.get("videos", {}) if isinstance(previous.get("videos"), dict) else {}
        for video in videos:
            if (folder / output_name(video)).exists() and recorded_videos.get(video) != identities[video]:
                found.append(f"{video}: changed since it was scored (size or modification time)")
        if found:
            raise InvalidInputError(
                f"cannot continue the corpus in {os.fspath(folder)!r}: its results were made with other settings or "
                f"inputs ({'; '.join(found[:6])}{'; ...' if len(found) > 6 else ''}); {restart}"
            )
    write_record(record_path, {"settings": settings, "videos": {**recorded_videos, **identities}})


def _manifest(labels: list[str] | None, options: dict[str, Any]) -> dict[str, Any]:
    """What every video of a corpus output is scored with, as plain JSON values."""
    from .vision.faces import DEFAULT_DETECTION_SIZE, DEFAULT_DETECTOR, resolve_detector
    from .vision.tracking import FaceTracker

    face_selection = options.get("face_selection", "largest")
    detector = resolve_detector(
        options.get("detector", DEFAULT_DETECTOR), options.get("face_threshold"),
        options.get("face_detection_size", DEFAULT_DETECTION_SIZE), face_selection,
    )  # fmt: skip
    face_detector = None
    if detector is not None:
        face_detector = {key: value for key, value in detector.settings().items() if key != "threads"}
    return json.loads(json.dumps({
        "labels": labels,
        "video_scores": {key: value for key, value in options.items() if key not in ("scorer",)},
        "face_detector": face_detector,
        "tracker": FaceTracker().settings() if detector is not None else None,
    }, default=str))  # fmt: skip


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Record the run's settings; refuse to add videos scored with another face stage."""
    path = folder / MANIFEST_FILE
    if path.exists():
        restart = f"to start over, delete the folder {os.fspath(folder)!r} or pass a new out="
        previous = read_record(path, restart)
        for key in ("face_detector", "tracker"):
            if previous.get(key) != manifest[key]:
                raise InvalidInputError(
                    f"{folder} holds videos scored with {key} {previous.get(key)}, not {manifest[key]}; "
                    "use the same detector settings to continue it, or another output folder"
                )
    temporary = folder / f".{MANIFEST_FILE}.tmp"
    temporary.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(temporary, path)
