"""The FindingEmo(-Light) data set: download, load, check, and prepare for evaluation.

FindingEmo (Mertens et al., 2024) annotates about 25 000 photographs of people in
social scenes with valence, arousal and one of Plutchik's 24 emotions. The
annotations and image URLs ship in the ``findingemo-light`` Python package; the
images themselves must be fetched from their original sites.

Two folder layouts are read:

* **flat** (written by :func:`download_findingemo_data`): ``annotations.csv``,
  ``urls.json`` (image id -> URL), ``metadata.json`` and ``images/``;
* **standard** (the package's own): ``data/annotations_single.ann`` (CSV) and
  ``data/dataset_urls_exploded.json`` (a list of ``{"url", "rel_path", "idx_url"}``).

Examples
--------
>>> map_to_emo8(["Serenity", "Rage", "joy"])
['joy', 'anger', 'joy']
"""

from __future__ import annotations

import json
import os
import random
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import DownloadError, InvalidInputError, MissingDependencyError
from .vision.images import fetch_url

__all__ = [
    "EMO8",
    "check_findingemo_quality",
    "download_findingemo_data",
    "load_findingemo_annotations",
    "map_to_emo8",
    "prepare_findingemo_evaluation",
]

#: Plutchik's eight basic emotions.
EMO8: tuple[str, ...] = ("joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation")

# Plutchik's wheel: each basic emotion with its mild and its intense form.
_WHEEL: dict[str, tuple[str, str]] = {
    "joy": ("serenity", "ecstasy"),
    "trust": ("acceptance", "admiration"),
    "fear": ("apprehension", "terror"),
    "surprise": ("distraction", "amazement"),
    "sadness": ("pensiveness", "grief"),
    "disgust": ("boredom", "loathing"),
    "anger": ("annoyance", "rage"),
    "anticipation": ("interest", "vigilance"),
}
_TO_EMO8: dict[str, str] = {name: basic for basic, forms in _WHEEL.items() for name in (basic, *forms)}
IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
_FLAT_FILES = ("annotations.csv", "urls.json")
_STANDARD_FILES = ("data/annotations_single.ann", "data/dataset_urls_exploded.json")


def map_to_emo8(emotions: Sequence[Any]) -> list[str | None]:
    """Map FindingEmo's 24 Plutchik emotions to the 8 basic ones.

    Each basic emotion stands for itself, its mild form and its intense form (e.g.
    serenity, joy and ecstasy are all ``"joy"``).

    Parameters
    ----------
    emotions : sequence of str
        Emotion names, any capitalisation; missing values stay missing.

    Returns
    -------
    list of str or None
        Lower-case basic emotions; ``None`` for names that are not on the wheel.

    Raises
    ------
    InvalidInputError
        ``emotions`` is a single string or holds something other than strings.

    Warns
    -----
    UserWarning
        Names that are not on Plutchik's wheel (they map to ``None``).

    Examples
    --------
    >>> map_to_emo8(["Interest", "Loathing"])
    ['anticipation', 'disgust']
    """
    if isinstance(emotions, str):
        raise InvalidInputError("emotions must be a list of emotion names, not a single string")
    values = list(emotions)
    wrong = [v for v in values if not (v is None or isinstance(v, str) or pd.isna(v))]
    if wrong:
        raise InvalidInputError(f"emotions must be strings; got {wrong[0]!r}")
    mapped = [None if v is None or pd.isna(v) else _TO_EMO8.get(v.strip().lower()) for v in values]
    unknown = sorted({v for v, m in zip(values, mapped) if m is None and isinstance(v, str)})
    if unknown:
        warnings.warn(
            f"{sum(m is None and isinstance(v, str) for v, m in zip(values, mapped))} of {len(values)} emotions "
            f"are not on Plutchik's wheel and map to None: {unknown[:10]}",
            UserWarning,
            stacklevel=2,
        )
    return mapped


def load_findingemo_annotations(data_dir: str | os.PathLike, output_format: str = "dataframe"):
    """Read the annotations of a FindingEmo folder (flat or standard layout).

    Parameters
    ----------
    data_dir : str or path-like
        The folder given to :func:`download_findingemo_data`, or a copy of the
        ``findingemo-light`` package's folder.
    output_format : {"dataframe", "list"}, default "dataframe"
        ``"list"`` also returns the URLs and the metadata.

    Returns
    -------
    pandas.DataFrame or dict
        The annotations, one row per annotation as in the file; with ``"list"`` a dict
        ``annotations``, ``urls`` (image id -> URL), ``metadata`` (the folder's
        ``metadata.json``, else ``n_annotations``, ``n_urls``, ``columns``,
        ``structure``).

    Raises
    ------
    InvalidInputError
        The folder does not exist, holds neither layout, a file cannot be parsed,
        or ``output_format`` is unknown.

    Examples
    --------
    >>> load_findingemo_annotations("data/findingemo").columns  # doctest: +SKIP
    """
    if output_format not in ("dataframe", "list"):
        raise InvalidInputError(f"output_format must be 'dataframe' or 'list', got {output_format!r}")
    folder, structure = _dataset_layout(data_dir)
    annotation_file, url_file = _layout_files(folder, structure)
    annotations = _read_csv(annotation_file)
    if output_format == "dataframe":
        return annotations
    urls = _read_urls(url_file)
    metadata_file = folder / "metadata.json"
    metadata = (
        _read_json(metadata_file)
        if metadata_file.is_file()
        else {
            "n_annotations": len(annotations),
            "n_urls": len(urls),
            "columns": [str(c) for c in annotations.columns],
            "structure": structure,
        }
    )
    return {"annotations": annotations, "urls": urls, "metadata": metadata}


def prepare_findingemo_evaluation(
    annotations: pd.DataFrame,
    predictions: pd.DataFrame,
    id_col: str = "image_id",
    truth_col: str = "emotion_label",
    pred_col: str = "predicted_emotion",
    include_va: bool = True,
) -> pd.DataFrame:
    """Join annotations with model predictions into an evaluation table.

    Parameters
    ----------
    annotations : pandas.DataFrame
        FindingEmo annotations (e.g. from :func:`load_findingemo_annotations`).
    predictions : pandas.DataFrame
        One row per image with ``id_col``, ``pred_col`` and any other columns (such
        as ``prob_<class>`` probabilities), which are kept.
    id_col : str, default "image_id"
        Image identifier, in both tables.
    truth_col : str, default "emotion_label"
        Reference label column of ``annotations``.
    pred_col : str, default "predicted_emotion"
        Predicted label column of ``predictions``.
    include_va : bool, default True
        Keep the annotations' ``valence`` and ``arousal`` columns when present.

    Returns
    -------
    pandas.DataFrame
        Rows whose id is in both tables (inner join), with ``id_col`` renamed
        ``id``, ``truth_col`` ``truth`` and ``pred_col`` ``pred``: ready for
        :func:`pybridge.evaluate_emotions` (``truth="truth", pred="pred"``).
        Rows missing the truth or the prediction are dropped with a warning.

    Raises
    ------
    InvalidInputError
        Not data frames, a named column missing, or no row left after the join.

    Examples
    --------
    >>> ann = pd.DataFrame({"image_id": [1, 2], "emotion_label": ["joy", "fear"]})
    >>> pred = pd.DataFrame({"image_id": [2, 1], "predicted_emotion": ["fear", "anger"]})
    >>> prepare_findingemo_evaluation(ann, pred)[["id", "truth", "pred"]].values.tolist()
    [[1, 'joy', 'anger'], [2, 'fear', 'fear']]
    """
    for name, table in (("annotations", annotations), ("predictions", predictions)):
        if not isinstance(table, pd.DataFrame):
            raise InvalidInputError(f"{name} must be a data frame, got {type(table).__name__}")
    _require(annotations, [id_col, truth_col], "annotations")
    _require(predictions, [id_col, pred_col], "predictions")
    if not isinstance(include_va, bool):
        raise InvalidInputError(f"include_va must be True or False, got {include_va!r}")
    kept = [id_col, truth_col] + [c for c in ("valence", "arousal") if include_va and c in annotations.columns]
    # the prediction table's own truth/valence columns would clash with the annotations'
    clashing = [c for c in kept if c != id_col and c in predictions.columns]
    merged = annotations[kept].merge(predictions.drop(columns=clashing), on=id_col, how="inner")
    merged = merged.rename(columns={id_col: "id", truth_col: "truth", pred_col: "pred"})
    if merged.empty:
        raise InvalidInputError(
            f"no {id_col!r} value is in both annotations and predictions; check that both use the same ids"
        )
    complete = merged["truth"].notna() & merged["pred"].notna()
    if not complete.all():
        warnings.warn(
            f"dropped {int((~complete).sum())} of {len(merged)} joined rows without a truth or prediction",
            UserWarning,
            stacklevel=2,
        )
        merged = merged.loc[complete].reset_index(drop=True)
    if merged.empty:
        raise InvalidInputError("no joined row has both a truth and a prediction")
    return merged


def check_findingemo_quality(
    data_dir: str | os.PathLike, check_images: bool = False, sample_size: int = 10, seed: int | None = None
) -> dict[str, Any]:
    """Count what a FindingEmo folder holds: annotations, URLs, downloaded images.

    Parameters
    ----------
    data_dir : str or path-like
        A FindingEmo folder (flat or standard layout).
    check_images : bool, default False
        Also open a random sample of the downloaded images to see that they decode.
    sample_size : int, default 10
        Images in that sample.
    seed : int, optional
        Seed of the sample.

    Returns
    -------
    dict
        ``structure`` ("flat" or "standard"), ``files_found`` (annotations, urls,
        images_dir: bool), ``annotations_count``, ``urls_count``, ``images_count``
        (image files under ``images/``), ``completeness`` (images per URL, in percent,
        one decimal) and ``image_check`` (``sample_size``, ``readable``,
        ``readability_rate`` in percent; ``None`` unless ``check_images``).

    Raises
    ------
    InvalidInputError
        The folder does not exist or holds neither layout, or bad ``sample_size``.

    Examples
    --------
    >>> check_findingemo_quality("data/findingemo")["completeness"]  # doctest: +SKIP
    92.5
    """
    if not isinstance(sample_size, int) or isinstance(sample_size, bool) or sample_size < 1:
        raise InvalidInputError(f"sample_size must be a positive whole number, got {sample_size!r}")
    folder, structure = _dataset_layout(data_dir)
    annotation_file, url_file = _layout_files(folder, structure)
    images_dir = folder / "images"
    images = (
        sorted(p for p in images_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES) if images_dir.is_dir() else []
    )
    n_urls = len(_read_urls(url_file))
    report: dict[str, Any] = {
        "structure": structure,
        "files_found": {
            "annotations": annotation_file.is_file(),
            "urls": url_file.is_file(),
            "images_dir": images_dir.is_dir(),
        },
        "annotations_count": len(_read_csv(annotation_file)),
        "urls_count": n_urls,
        "images_count": len(images),
        "completeness": round(100.0 * len(images) / n_urls, 1) if n_urls else 0.0,
        "image_check": None,
    }
    if check_images and images:
        from PIL import Image

        sample = random.Random(seed).sample(images, min(sample_size, len(images)))
        readable = 0
        for path in sample:
            try:
                with Image.open(path) as image:
                    image.load()
                readable += 1
            except (OSError, ValueError):
                pass
        report["image_check"] = {
            "sample_size": len(sample),
            "readable": readable,
            "readability_rate": round(100.0 * readable / len(sample), 1),
        }
    return report


def download_findingemo_data(
    target_dir: str | os.PathLike,
    max_images: int | None = None,
    randomize: bool = False,
    skip_existing: bool = True,
    force: bool = False,
    seed: int | None = None,
) -> dict[str, Any]:
    """Download FindingEmo images and write the flat layout (needs the network).

    The annotations and image URLs come from the ``findingemo-light`` package
    (``pip install findingemo-light``); the images are fetched from their URLs (some
    are gone: those are counted as failed).

    Parameters
    ----------
    target_dir : str or path-like
        Folder to write ``annotations.csv``, ``urls.json``, ``metadata.json`` and
        ``images/`` to.
    max_images : int, optional
        Download at most this many images (all by default).
    randomize : bool, default False
        Choose the ``max_images`` at random instead of the first ones.
    skip_existing : bool, default True
        Do nothing when ``target_dir`` already holds the flat layout.
    force : bool, default False
        Download again even if it does (overrides ``skip_existing``).
    seed : int, optional
        Seed of the random choice.

    Returns
    -------
    dict
        ``success``, ``skipped`` (the folder was already there), ``target_dir``,
        ``selected``, ``image_count`` (images now in ``images/``), ``failed`` (URLs
        that could not be fetched) and ``annotations_count``.

    Raises
    ------
    InvalidInputError
        Bad arguments.
    DownloadError
        Offline (``HF_HUB_OFFLINE=1``/``PYBRIDGE_OFFLINE=1``) or no image could be
        fetched because the network is unreachable.
    MissingDependencyError
        ``findingemo-light`` is not installed.

    Examples
    --------
    >>> download_findingemo_data("data/findingemo", max_images=200, randomize=True)  # doctest: +SKIP
    """
    if max_images is not None and (not isinstance(max_images, int) or isinstance(max_images, bool) or max_images < 1):
        raise InvalidInputError(f"max_images must be a positive whole number or None, got {max_images!r}")
    for name, flag in (("randomize", randomize), ("skip_existing", skip_existing), ("force", force)):
        if not isinstance(flag, bool):
            raise InvalidInputError(f"{name} must be True or False, got {flag!r}")
    target = Path(target_dir).expanduser()
    if skip_existing and not force and all((target / name).is_file() for name in _FLAT_FILES):
        return {
            "success": True,
            "skipped": True,
            "target_dir": str(target),
            "selected": None,
            "image_count": _count_images(target / "images"),
            "failed": 0,
            "annotations_count": len(_read_csv(target / "annotations.csv")),
        }
    if _offline():
        raise DownloadError(
            "downloading FindingEmo needs the network, and this session is offline (HF_HUB_OFFLINE or "
            "PYBRIDGE_OFFLINE is set); unset it on a machine with internet access, or copy a downloaded "
            "folder here and use load_findingemo_annotations()"
        )
    package_dir = _findingemo_light_dir()
    entries = _read_json(package_dir / "data" / "dataset_urls_exploded.json")
    if not isinstance(entries, list):
        raise InvalidInputError("findingemo-light's dataset_urls_exploded.json is not a list of images")
    if max_images is not None and max_images < len(entries):
        entries = random.Random(seed).sample(entries, max_images) if randomize else entries[:max_images]
    images_dir = target / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    failed: list[str] = []
    unreachable = 0
    for entry in entries:
        path = images_dir / Path(str(entry["rel_path"])).name
        if path.is_file() and path.stat().st_size > 0:
            continue
        try:
            _fetch(str(entry["url"]), path)
        except OSError as err:
            failed.append(str(entry["url"]))
            unreachable += _is_unreachable(err)
    if entries and unreachable == len(entries):
        raise DownloadError(
            f"none of the {len(entries)} FindingEmo images could be fetched: the network is unreachable; "
            "check the connection and try again"
        )
    selected_paths = {str(entry["rel_path"]) for entry in entries}
    annotations = _read_csv(package_dir / "data" / "annotations_single.ann")
    if "image_path" in annotations.columns:
        annotations = annotations[annotations["image_path"].astype(str).isin(selected_paths)]
    annotations.to_csv(target / "annotations.csv", index=False)
    urls = {Path(str(entry["rel_path"])).stem: entry["url"] for entry in entries}
    (target / "urls.json").write_text(json.dumps(urls, indent=2), encoding="utf-8")
    image_count = _count_images(images_dir)
    metadata = {
        "dataset": "FindingEmo-Light",
        "structure": "flat",
        "selected_images": len(entries),
        "downloaded_images": image_count,
        "failed_downloads": len(failed),
        "max_images": max_images,
        "randomize": randomize,
        "seed": seed,
    }
    (target / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    return {
        "success": True,
        "skipped": False,
        "target_dir": str(target),
        "selected": len(entries),
        "image_count": image_count,
        "failed": len(failed),
        "annotations_count": len(annotations),
    }


# --------------------------------------------------------------------------- helpers


def _offline() -> bool:
    from .models.cache import hub_offline

    return hub_offline() or os.environ.get("PYBRIDGE_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def _findingemo_light_dir() -> Path:
    try:
        import findingemo_light
    except ImportError as err:
        raise MissingDependencyError(
            "downloading FindingEmo needs the annotations and URLs of the findingemo-light package: "
            "pip install findingemo-light"
        ) from err
    return Path(findingemo_light.__file__).resolve().parent


def _fetch(url: str, path: Path) -> None:
    # the image loader's fetch: the same connect timeout, total deadline and size cap
    data = fetch_url(url)
    if not data:
        raise OSError(f"{url} returned no data")
    path.write_bytes(data)


def _is_unreachable(err: OSError) -> bool:
    """Whether a failed fetch never reached a server (no network), not a missing image."""
    import requests

    cause = err.__cause__
    return (
        isinstance(getattr(err, "reason", None), OSError)  # urllib's URLError
        or isinstance(err, ConnectionError)
        or isinstance(cause, (requests.ConnectionError, ConnectionError))
    )


def _count_images(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    return sum(1 for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def _dataset_layout(data_dir: Any) -> tuple[Path, str]:
    if not isinstance(data_dir, (str, os.PathLike)):
        raise InvalidInputError(f"data_dir must be a folder path, got {type(data_dir).__name__}")
    folder = Path(data_dir).expanduser()
    if not folder.is_dir():
        raise InvalidInputError(f"FindingEmo folder {os.fspath(data_dir)!r} does not exist")
    if all((folder / name).is_file() for name in _FLAT_FILES):
        return folder, "flat"
    if all((folder / name).is_file() for name in _STANDARD_FILES):
        return folder, "standard"
    raise InvalidInputError(
        f"{os.fspath(data_dir)!r} holds no FindingEmo data: expected annotations.csv and urls.json (written by "
        "download_findingemo_data) or data/annotations_single.ann and data/dataset_urls_exploded.json"
    )


def _layout_files(folder: Path, structure: str) -> tuple[Path, Path]:
    names = _FLAT_FILES if structure == "flat" else _STANDARD_FILES
    return folder / names[0], folder / names[1]


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise InvalidInputError(f"could not read the annotations {os.fspath(path)!r}: {err}") from err


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as err:
        raise InvalidInputError(f"could not read {os.fspath(path)!r} as JSON: {err}") from err


def _read_urls(path: Path) -> dict[str, str]:
    data = _read_json(path)
    if isinstance(data, dict):
        return {str(k): str(v) for k, v in data.items()}
    if isinstance(data, list):
        return {
            Path(str(entry.get("rel_path", i))).stem: str(entry.get("url", ""))
            for i, entry in enumerate(data)
            if isinstance(entry, dict)
        }
    raise InvalidInputError(f"{os.fspath(path)!r} is neither a mapping of image ids to URLs nor a list of images")


def _require(table: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InvalidInputError(f"{name} lack the column(s) {missing}; they have {[str(c) for c in table.columns]}")
