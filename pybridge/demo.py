"""The one-command demo: the whole research workflow on data shipped with pybridge.

``pybridge demo`` (or :func:`run_demo`) writes a report folder with, for each step, the
table (CSV) and the figure (PNG) it produced, and a ``report.md`` that links them:

1. **Scoring.** Emotion scores for every frame of a short clip (the bundled
   ``astronaut_clip.mp4``, made from scikit-image's public-domain ``astronaut``
   photograph, or the user's ``video``). It runs with the default CLIP model when its
   weights are cached (or, unless offline, downloadable), else with ``cnn-fer`` when
   its weights are present; when no model can be had, the demo says so in one line
   and goes on.
2. **Emotion time series.** The series the analysis steps use: the bundled,
   SIMULATED scores of 8 clips (see ``pybridge/data/make_demo_data.py``), or the
   user's scored clip when it is long enough.
3. **dynEGA.** Population network of the emotions' first derivatives, communities,
   and network scores per community over time.
4. **DLO.** Damped-linear-oscillator parameters (eta, zeta, sigma_q) with 90 %
   intervals per emotion and clip; fitted-implied against observed autocorrelation;
   and, for the simulated series, recovery of the true parameters.

Examples
--------
>>> from pybridge.demo import run_demo
>>> report = run_demo("pybridge-demo", offline=True, progress=False)  # doctest: +SKIP
>>> sorted(p.name for p in report.parent.iterdir())[:2]  # doctest: +SKIP
['01_clip_scores.csv', '01_clip_scores.png']
"""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from . import plots
from .errors import (
    DownloadError,
    InvalidInputError,
    MissingDependencyError,
    ModelLoadError,
    ModelNotAvailableError,
    PyBridgeError,
    SeriesTooShortError,
)
from .vision.images import is_url

__all__ = ["run_demo", "bundled_data_path", "load_demo_series"]

DATA_DIR = Path(__file__).resolve().parent / "data"
CLIP_FILE = "astronaut_clip.mp4"
SERIES_FILE = "simulated_emotion_series.csv"
PARAMETERS_FILE = "simulated_parameters.csv"

DEFAULT_MODEL = "oai-base"
OFFLINE_MODEL = "cnn-fer"
#: Labels for zero-shot models: the seven classes of cnn-fer, so both kinds of model
#: give comparable columns.
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
#: The bundled clip shows a smiling face in every frame where the face is visible.
BUNDLED_CLIP_EXPRESSION = "happy"

# A scored clip is analysed instead of the bundled series when it has at least this
# many frames with a face (the neural DLO estimator needs 50 observed values).
MIN_FRAMES_FOR_ANALYSIS = 60
# A user's clip is sampled at about 4 frames per second, the rate at which the DLO
# network's supported periods (20-60 frames) are 5-15 s emotion cycles, up to 300
# frames; the bundled clip has 40 frames, all scored.
ANALYSIS_FPS = 4.0
USER_CLIP_FRAMES = 300
BUNDLED_CLIP_FRAMES = 40
# Kalman maximum likelihood is the fallback when the neural weights are missing; it
# takes about a second per series here, so the demo then fits the first clips only.
KALMAN_FALLBACK_CLIPS = 2
# Clips drawn in the per-clip figures (the CSVs hold all of them).
CLIPS_IN_FIGURES = 4
# Series drawn in the autocorrelation figure.
MAX_SERIES_IN_FIGURE = 12
SEED = 1


def bundled_data_path(name: str) -> Path:
    """Path of a file shipped in ``pybridge/data``.

    Parameters
    ----------
    name : str
        ``"astronaut_clip.mp4"``, ``"simulated_emotion_series.csv"`` or
        ``"simulated_parameters.csv"``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InvalidInputError
        No such file is shipped (the installation is incomplete, or a wrong name).

    Examples
    --------
    >>> bundled_data_path("astronaut_clip.mp4").name
    'astronaut_clip.mp4'
    """
    path = DATA_DIR / name
    if not path.is_file():
        shipped = sorted(p.name for p in DATA_DIR.glob("*") if p.is_file() and p.suffix != ".py")
        raise InvalidInputError(
            f"pybridge ships no data file {name!r} (found {shipped} in {DATA_DIR}); reinstall "
            "pybridge or regenerate the data with `python pybridge/data/make_demo_data.py`"
        )
    return path


def load_demo_series() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bundled SIMULATED emotion series and the true parameters behind them.

    Returns
    -------
    series : pandas.DataFrame
        8 clips x 240 frames at 4 fps in the shape ``video_scores`` returns:
        ``video``, ``frame``, ``time_s`` and one column per emotion.
    parameters : pandas.DataFrame
        One row per (``video``, ``label``): true ``eta``, ``zeta``, ``sigma_q``,
        ``meas_sd`` and the latent oscillator and loading of the measurement model.

    Examples
    --------
    >>> series, truth = load_demo_series()
    >>> series["video"].nunique(), len(truth)
    (8, 56)
    """
    series = pd.read_csv(bundled_data_path(SERIES_FILE))
    parameters = pd.read_csv(bundled_data_path(PARAMETERS_FILE))
    return series, parameters


def run_demo(
    out: str | os.PathLike[str] = "pybridge-demo",
    video: str | os.PathLike[str] | None = None,
    model: str | None = None,
    offline: bool = False,
    progress: bool = True,
) -> Path:
    """Run the whole workflow on bundled data and write a report folder.

    Parameters
    ----------
    out : str or path-like, default "pybridge-demo"
        Report folder; created if needed, files in it are overwritten.
    video : str or path-like, optional
        Score this clip (a file or an http(s) URL) instead of the bundled one, at about 4 frames per second (up
        to 300 frames). When it yields at least 60 frames with a face, the analysis
        steps use its scores too.
    model : str, optional
        Model alias for scoring. By default ``oai-base`` when its weights are cached
        (or downloadable unless ``offline``), otherwise ``cnn-fer`` when its weights
        are installed.
    offline : bool, default False
        Never download model weights; use only what is cached or installed.
    progress : bool, default True
        Print one line per step (and the video's progress bar).

    Returns
    -------
    pathlib.Path
        Path of ``report.md`` in the report folder.

    Raises
    ------
    VideoReadError
        ``video`` cannot be read.
    UnknownModelError
        ``model`` is not a registered alias.
    InvalidInputError
        ``out`` exists and is not a folder.

    Notes
    -----
    A model whose weights are not available is not an error: the demo prints one line
    saying so (and how to get them) and continues with the bundled series.

    Examples
    --------
    >>> report = run_demo("pybridge-demo", offline=True, progress=False)  # doctest: +SKIP
    >>> report.name  # doctest: +SKIP
    'report.md'
    """
    started = time.perf_counter()
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InvalidInputError(f"out={os.fspath(out)!r} exists and is not a folder; choose another path")
    # user errors surface before any work is done: a typo in the alias, an unreadable clip
    if model is not None:
        from .models import model_info

        model_info(model)
    clip = os.fspath(video) if video is not None else os.fspath(bundled_data_path(CLIP_FILE))
    if video is not None:
        from .vision.video import probe_video

        probe_video(clip)
    folder.mkdir(parents=True, exist_ok=True)
    log = _Log(progress)
    report = _Report()

    log.step(1, f"scoring the frames of {_clip_name(clip)}")
    scored = _score_clip(clip, model, offline, progress, log)
    _write_scoring(folder, report, scored, clip)

    log.step(2, "emotion time series")
    analysis = _choose_series(scored, clip)
    _write_series(folder, report, analysis)

    log.step(3, "dynEGA: network of the emotions' derivatives")
    _run_dynega(folder, report, analysis, log)

    log.step(4, "DLO parameters per emotion and clip")
    _run_dlo(folder, report, analysis, log)

    elapsed = time.perf_counter() - started
    report_path = report.write(folder / "report.md", elapsed)
    log.done(f"report written to {report_path} ({elapsed:.0f} s)")
    return report_path


# --------------------------------------------------------------------------- step 1: scoring


@dataclass
class _Scored:
    scores: pd.DataFrame | None
    model: str | None
    labels: list[str]
    note: str | None = None


def _score_clip(clip: str, model: str | None, offline: bool, progress: bool, log: _Log) -> _Scored:
    from .models import model_info

    candidates = [model] if model is not None else [DEFAULT_MODEL, OFFLINE_MODEL]
    reasons = []
    for alias in candidates:
        info = model_info(alias)  # UnknownModelError for a typo: a user error, raised
        if not info["cached"] and offline:
            reasons.append(f"{alias}: weights not cached")
            continue
        labels = None if info.get("classes") else list(EMOTIONS)
        try:
            scores = _video_scores(clip, labels, alias, progress)
        except (ModelNotAvailableError, DownloadError, MissingDependencyError, ModelLoadError) as error:
            reasons.append(f"{alias}: {_first_line(error)}")
            continue
        columns = [c for c in scores.columns if c in (info.get("classes") or EMOTIONS)]
        return _Scored(scores, alias, columns)
    hint = f"`pybridge models download {OFFLINE_MODEL}` or `pybridge models download {DEFAULT_MODEL}`"
    note = (
        f"No model weights available for scoring ({'; '.join(reasons)}): skipping the clip "
        f"and continuing with the bundled simulated series (get weights with {hint})."
    )
    log.notice(note)
    return _Scored(None, None, [], note)


def _video_scores(clip: str, labels: list[str] | None, alias: str, progress: bool) -> pd.DataFrame:
    from . import video_scores

    return video_scores(clip, labels, model=alias, progress=progress, **_sampling(clip))


def _sampling(clip: str) -> dict[str, int]:
    """Frames to score: all of the bundled clip; about 4 per second of a user's clip."""
    if _is_bundled_clip(clip):
        return {"nframes": BUNDLED_CLIP_FRAMES, "ffreq": 1}
    from .vision.video import probe_video

    fps = probe_video(clip).average_fps or ANALYSIS_FPS
    return {"nframes": USER_CLIP_FRAMES, "ffreq": max(1, round(fps / ANALYSIS_FPS))}


def _write_scoring(folder: Path, report: _Report, scored: _Scored, clip: str) -> None:
    section = report.section("1. Emotion scores of the clip")
    if scored.scores is None:
        section.text(scored.note or "The clip was not scored.")
        return
    table = scored.scores
    section.table(folder, "01_clip_scores.csv", table)
    # probabilities that sum to one read best as stacked areas (SigLIP's sigmoid scores do not)
    stacked = bool(np.allclose(table[scored.labels].dropna().sum(axis=1), 1.0, atol=1e-3))
    section.figure(
        folder,
        "01_clip_scores.png",
        plots.plot_emotion_series(
            table, scored.labels, stacked=stacked, title=f"{_clip_name(clip)} scored with {scored.model}"
        ),
    )
    found = table["face_found"].astype(bool)
    section.text(
        f"Model `{scored.model}`; {len(table)} frames, a face in {int(found.sum())}; frames "
        "without a face keep their row with NaN scores (grey bands in the figure)."
    )
    if _is_bundled_clip(clip) and found.any():
        _evaluate_bundled_clip(section, table.loc[found], scored)


def _evaluate_bundled_clip(section: _Section, faces: pd.DataFrame, scored: _Scored) -> None:
    """The astronaut smiles throughout, so each frame's reference label is 'happy'."""
    from .evaluate import evaluate_emotions

    labelled = faces.assign(expression=BUNDLED_CLIP_EXPRESSION)
    result = evaluate_emotions(labelled, truth="expression", probs=scored.labels, metrics=["accuracy", "confusion"])
    top = labelled[scored.labels].idxmax(axis=1).value_counts()
    section.text(
        f"Evaluation (`evaluate_emotions`) against the expression the photograph shows "
        f"('{BUNDLED_CLIP_EXPRESSION}'): accuracy {result.accuracy:.2f} over {result.n} "
        f"frames with a face; top classes: " + ", ".join(f"{label} {count}" for label, count in top.items()) + "."
    )


# --------------------------------------------------------------------------- step 2: series


@dataclass
class _Series:
    data: pd.DataFrame
    labels: list[str]
    dt: float
    simulated: bool
    truth: pd.DataFrame | None = None
    note: str = ""


def _choose_series(scored: _Scored, clip: str) -> _Series:
    if scored.scores is not None and not _is_bundled_clip(clip):
        frames_with_face = int(scored.scores["face_found"].astype(bool).sum())
        if frames_with_face >= MIN_FRAMES_FOR_ANALYSIS:
            data = scored.scores
            dt = float(np.median(np.diff(data["time_s"].to_numpy())))
            return _Series(
                data,
                scored.labels,
                dt,
                simulated=False,
                note=f"The scores of {_clip_name(clip)} ({frames_with_face} frames with a face).",
            )
        reason = (
            f"{_clip_name(clip)} has {frames_with_face} frames with a face, fewer than the "
            f"{MIN_FRAMES_FOR_ANALYSIS} the analysis needs, so"
        )
    else:
        reason = "The scored clip is a few seconds long, so"
    series, truth = load_demo_series()
    labels = [c for c in series.columns if c in EMOTIONS]
    dt = float(np.median(np.diff(series["time_s"].to_numpy()[:2])))
    note = (
        f"{reason} the analysis uses the bundled **simulated** series: {series['video'].nunique()} "
        f"clips x {series.groupby('video').size().iloc[0]} frames at {1 / dt:g} fps, three latent "
        "damped linear oscillators (positive, negative, low-arousal affect) measured by seven "
        "emotion scores (`pybridge/data/make_demo_data.py`). They are not real data."
    )
    return _Series(series, labels, dt, simulated=True, truth=truth, note=note)


def _write_series(folder: Path, report: _Report, series: _Series) -> None:
    section = report.section("2. Emotion time series")
    section.text(series.note)
    section.table(folder, "02_emotion_series.csv", series.data)
    shown = _first_clips(series.data)
    section.figure(
        folder,
        "02_emotion_series.png",
        plots.plot_emotion_series(
            shown, series.labels, title="emotion time series" + (" (simulated)" if series.simulated else "")
        ),
    )
    if series.simulated and shown["video"].nunique() < series.data["video"].nunique():
        section.text(f"The figure shows the first {CLIPS_IN_FIGURES} clips; the CSV has all.")


# --------------------------------------------------------------------------- step 3: dynEGA


def _run_dynega(folder: Path, report: _Report, series: _Series, log: _Log) -> None:
    section = report.section("3. dynEGA")
    try:
        from .dynamics import dynEGA
    except ImportError as error:  # the stage is optional in a partial installation
        section.text(f"dynEGA is not available in this installation ({error}).")
        log.notice(f"dynEGA skipped: {error}")
        return
    has_video = "video" in series.data.columns
    columns = [*series.labels, "video"] if has_video else list(series.labels)
    data = series.data[columns]
    try:
        result = dynEGA(
            data, id="video" if has_video else None, n_embed=5, level="population", columns=series.labels, seed=SEED
        )
    except PyBridgeError as error:
        section.text(f"dynEGA could not run on these series: {error}")
        log.notice(f"dynEGA skipped: {_first_line(error)}")
        return
    population = result.population
    assert population is not None  # level="population" always fits the population network
    # dynEGA names the nodes after the derivative ("happy.DerivOrd1"); show the emotions
    names = [_emotion_name(v) for v in population.network.columns]
    network = population.network.set_axis(names, axis=0).set_axis(names, axis=1)
    communities = population.wc.set_axis(names).astype("Int64")
    memberships = pd.DataFrame({"emotion": names, "community": communities.to_numpy()})
    section.text(
        f"Population level, first derivatives (GLLA, n_embed = 5), EBICglasso network, walktrap "
        f"communities: {population.n_dim} dimension(s)."
    )
    section.table(folder, "03_memberships.csv", memberships)
    section.table(folder, "03_network.csv", network, index=True)
    section.figure(
        folder,
        "03_network.png",
        plots.plot_network(network, communities, title="dynEGA population network (first derivatives)"),
    )

    # one score per frame and community, on the emotion scores themselves
    scores = pd.DataFrame(population.net_scores(series.data[series.labels]))
    scores = scores.set_axis([str(c) for c in scores.columns], axis=1).set_axis(series.data.index)
    keys = [c for c in ("video", "frame", "time_s") if c in series.data.columns]
    with_keys = pd.concat([series.data[keys], scores], axis=1)
    section.table(folder, "03_network_scores.csv", with_keys)
    section.figure(
        folder,
        "03_network_scores.png",
        plots.plot_network_scores(
            _first_clips(with_keys),
            [c for c in scores.columns],
            x="time_s" if "time_s" in keys else None,
            by="video" if has_video else None,
            title="network scores per community",
        ),
    )


# --------------------------------------------------------------------------- step 4: DLO


def _run_dlo(folder: Path, report: _Report, series: _Series, log: _Log) -> None:
    from .dlo import estimate_dlo

    section = report.section("4. DLO parameters")
    data = series.data
    method = "neural"
    try:
        estimates = estimate_dlo(data, dt=series.dt, method="neural", labels=series.labels, on_error="nan")
    except (ModelLoadError, MissingDependencyError) as error:
        method = "kalman"
        if series.simulated and "video" in data.columns:
            first = list(dict.fromkeys(data["video"]))[:KALMAN_FALLBACK_CLIPS]
            data = data[data["video"].isin(first)]
        log.notice(
            f"neural DLO weights unavailable ({_first_line(error)}); using Kalman maximum "
            f"likelihood on {data['video'].nunique() if 'video' in data else 1} clip(s)"
        )
        estimates = estimate_dlo(data, dt=series.dt, method="kalman", labels=series.labels, on_error="nan")
    except SeriesTooShortError as error:
        section.text(f"The series are too short for a DLO fit: {error}")
        return
    section.text(
        f"Method `{method}`, dt = {series.dt:g} s per frame, so eta and zeta are per second "
        "(eta < 0: frequency, zeta < 0: damping, sigma_q: noise intensity); 90 % intervals."
    )
    section.table(folder, "04_dlo_parameters.csv", estimates)

    first_video = estimates["video"].iloc[0] if "video" in estimates.columns else None
    rows = estimates[estimates["video"] == first_video] if first_video is not None else estimates
    rows = rows[np.isfinite(rows["eta"].to_numpy(dtype=float))].head(MAX_SERIES_IN_FIGURE)
    if rows.empty:
        section.text("No series could be fitted; see the `message` column of the table.")
        return
    clip_data = data[data["video"] == first_video] if first_video is not None else data
    where = f" of {first_video}" if first_video is not None else ""
    truth = None
    if series.truth is not None and first_video is not None:
        truth = rows[["video", "label"]].merge(series.truth, on=["video", "label"], how="left")
    section.figure(
        folder,
        "04_dlo_intervals.png",
        plots.plot_dlo_intervals(rows, names=list(rows["label"]), truth=truth, title=f"DLO estimates{where}"),
    )
    section.figure(
        folder,
        "04_dlo_autocorrelation.png",
        plots.plot_dlo_autocorrelation(
            [clip_data[label].to_numpy(dtype=float) for label in rows["label"]],
            rows,
            dt=series.dt,
            names=list(rows["label"]),
            title=f"observed vs fitted-implied autocorrelation{where}",
        ),
    )
    if series.truth is not None:
        matched = estimates.merge(series.truth, on=["video", "label"], suffixes=("", "_true"))
        true_values = matched[["eta_true", "zeta_true", "sigma_q_true"]].set_axis(["eta", "zeta", "sigma_q"], axis=1)
        section.figure(
            folder,
            "04_dlo_recovery.png",
            plots.plot_recovery(true_values, matched, title=f"recovery of the simulated parameters ({method})"),
        )
        section.text(
            "Recovery: the simulated series' true parameters against the estimates "
            "(score-level sigma_q = loading x latent sigma_q)."
        )


# --------------------------------------------------------------------------- report and log


class _Log:
    """Progress lines on stdout (when asked) and notices on stderr (always, one line each)."""

    def __init__(self, progress: bool) -> None:
        self.progress = progress

    def step(self, number: int, text: str) -> None:
        if self.progress:
            print(f"[{number}/4] {text}", flush=True)

    def notice(self, text: str) -> None:
        print(f"pybridge demo: {text}", file=sys.stderr, flush=True)

    def done(self, text: str) -> None:
        if self.progress:
            print(text, flush=True)


@dataclass
class _Section:
    title: str
    lines: list[str] = field(default_factory=list)

    def text(self, text: str) -> None:
        self.lines.append(text)

    def table(self, folder: Path, name: str, table: pd.DataFrame, index: bool = False) -> None:
        table.to_csv(folder / name, index=index)
        self.lines.append(f"Table: [{name}]({name}) ({len(table)} rows)")

    def figure(self, folder: Path, name: str, figure: Any) -> None:
        figure.savefig(folder / name, dpi=110)
        self.lines.append(f"![{name}]({name})")


@dataclass
class _Report:
    sections: list[_Section] = field(default_factory=list)

    def section(self, title: str) -> _Section:
        section = _Section(title)
        self.sections.append(section)
        return section

    def write(self, path: Path, elapsed: float) -> Path:
        from . import __version__

        parts = [
            "# pybridge demo report",
            "",
            f"pybridge {__version__}; finished in {elapsed:.0f} s. Every table is a CSV next to "
            "this file; every figure a PNG.",
        ]
        for section in self.sections:
            parts += ["", f"## {section.title}", ""]
            for line in section.lines:
                parts += [line, ""]
        path.write_text("\n".join(parts).rstrip() + "\n", encoding="utf-8")
        return path


def _first_clips(table: pd.DataFrame) -> pd.DataFrame:
    if "video" not in table.columns:
        return table
    first = list(dict.fromkeys(table["video"]))[:CLIPS_IN_FIGURES]
    return table[table["video"].isin(first)]


def _is_bundled_clip(clip: str) -> bool:
    return not is_url(clip) and Path(clip).resolve() == (DATA_DIR / CLIP_FILE).resolve()


def _clip_name(clip: str) -> str:
    return PurePosixPath(urlparse(clip).path).name if is_url(clip) else Path(clip).name


def _emotion_name(variable: Any) -> str:
    return re.sub(r"\.DerivOrd\d+$", "", str(variable))


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
