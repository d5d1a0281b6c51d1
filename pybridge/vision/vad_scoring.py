"""Valence, arousal and dominance of faces in images and video, zero-shot.

Each dimension is a pair of opposite poles described in words (pleasant vs
unpleasant, energetic vs calm, in control vs controlled). A face's score on a
dimension is the probability of the high pole against the low pole: the model's
softmax over the two descriptions. All six descriptions are scored in one pass, and
because a softmax over all labels renormalised within a pair equals the softmax over
that pair alone, one image encoding serves the three dimensions.

Examples
--------
>>> sorted(pole_labels("simple"))
['arousal', 'dominance', 'valence']
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from .faces import DEFAULT_DETECTION_SIZE, DEFAULT_DETECTOR, resolve_detector
from .scoring import build_scorer

__all__ = ["VAD_DIMENSIONS", "LABEL_TYPES", "PolePairScorer", "pole_labels", "vad_scores"]

VAD_DIMENSIONS: tuple[str, ...] = ("valence", "arousal", "dominance")
#: Names of the (high, low) poles of each dimension, as in custom label lists.
POLE_NAMES: dict[str, tuple[str, str]] = {
    "valence": ("positive", "negative"),
    "arousal": ("high", "low"),
    "dominance": ("high", "low"),
}
LABEL_TYPES: tuple[str, ...] = ("definitional", "simple", "custom")

# Descriptions that say what each pole means, with a few words a face can show.
_DEFINITIONAL: dict[str, tuple[str, str]] = {
    "valence": (
        "a person feeling good: pleased, cheerful, content, delighted",
        "a person feeling bad: displeased, miserable, upset, hurt",
    ),
    "arousal": (
        "a person in an activated, energetic state: agitated, thrilled, tense, wide awake",
        "a person in a deactivated, quiet state: relaxed, sleepy, tranquil, at ease",
    ),
    "dominance": (
        "a person who feels in charge: strong, self-assured, commanding, influential",
        "a person who feels at the mercy of others: weak, timid, intimidated, overpowered",
    ),
}
_SIMPLE: dict[str, tuple[str, str]] = {
    "valence": ("pleasant", "unpleasant"),
    "arousal": ("aroused", "calm"),
    "dominance": ("dominant", "submissive"),
}


def pole_labels(
    label_type: str = "definitional",
    custom_labels: Mapping[str, Any] | None = None,
    dimensions: Sequence[str] = VAD_DIMENSIONS,
) -> dict[str, tuple[str, str]]:
    """The (high pole, low pole) description of each requested dimension.

    Parameters
    ----------
    label_type : {"definitional", "simple", "custom"}, default "definitional"
        Descriptions that define each pole, single words, or ``custom_labels``.
    custom_labels : mapping, optional
        For ``"custom"``: ``{"valence": {"positive": ..., "negative": ...},
        "arousal": {"high": ..., "low": ...}, "dominance": {"high": ..., "low": ...}}``,
        at least the requested dimensions.
    dimensions : sequence of str, default all three
        Any of ``"valence"``, ``"arousal"``, ``"dominance"``, no repeats.

    Returns
    -------
    dict of str to (str, str)
        In the order of ``dimensions``.

    Raises
    ------
    InvalidInputError
        Unknown label type or dimension, an empty or repeated dimension list, or
        custom labels without a needed dimension or pole.

    Examples
    --------
    >>> pole_labels("simple", dimensions=["arousal"])
    {'arousal': ('aroused', 'calm')}
    """
    chosen = check_dimensions(dimensions)
    if label_type not in LABEL_TYPES:
        raise InvalidInputError(f"label_type must be one of {list(LABEL_TYPES)}, got {label_type!r}")
    if label_type != "custom":
        if custom_labels is not None:
            raise InvalidInputError("custom_labels are used only with label_type='custom'")
        table = _DEFINITIONAL if label_type == "definitional" else _SIMPLE
        return {dimension: table[dimension] for dimension in chosen}
    if not isinstance(custom_labels, Mapping):
        raise InvalidInputError(
            "label_type='custom' needs custom_labels, a mapping like "
            "{'valence': {'positive': '...', 'negative': '...'}, 'arousal': {'high': '...', 'low': '...'}}"
        )
    pairs = {}
    for dimension in chosen:
        poles = custom_labels.get(dimension)
        high_name, low_name = POLE_NAMES[dimension]
        if not isinstance(poles, Mapping) or high_name not in poles or low_name not in poles:
            raise InvalidInputError(
                f"custom_labels[{dimension!r}] must map {high_name!r} and {low_name!r} to a description; got {poles!r}"
            )
        texts = tuple(poles[name] for name in (high_name, low_name))
        if not all(isinstance(text, str) and text.strip() for text in texts):
            raise InvalidInputError(f"the {dimension} poles must be non-empty strings, got {texts!r}")
        if texts[0] == texts[1]:
            raise InvalidInputError(f"the two {dimension} poles have the same description {texts[0]!r}")
        pairs[dimension] = texts
    return pairs


def check_dimensions(dimensions: Any) -> list[str]:
    """Validate a list of VAD dimension names and return it as a list.

    Parameters
    ----------
    dimensions : str or sequence of str

    Returns
    -------
    list of str

    Raises
    ------
    InvalidInputError
        Empty, repeated or unknown names.

    Examples
    --------
    >>> check_dimensions("valence")
    ['valence']
    """
    chosen = [dimensions] if isinstance(dimensions, str) else list(dimensions)
    unknown = [d for d in chosen if d not in VAD_DIMENSIONS]
    if unknown:
        raise InvalidInputError(f"unknown dimension(s) {unknown}; choose from {list(VAD_DIMENSIONS)}")
    if not chosen or len(set(chosen)) != len(chosen):
        raise InvalidInputError(f"dimensions must list each of {list(VAD_DIMENSIONS)} at most once, got {chosen}")
    return chosen


class PolePairScorer:
    """Score faces on pairs of opposite poles: one column per pair, the high pole's share.

    Parameters
    ----------
    scorer : ZeroShotScorer
        Scores every pole description (columns: high, low of each pair, in order).
    pairs : dict of str to (str, str)
        Column name -> (high pole, low pole) labels of ``scorer``.

    Notes
    -----
    For softmax (CLIP) models the high pole's share ``p_high / (p_high + p_low)`` of
    the softmax over all labels equals the softmax over the pair alone. For sigmoid
    (SigLIP) models it is the share of the two independent sigmoid scores.
    """

    def __init__(self, scorer, pairs: Mapping[str, tuple[str, str]]) -> None:
        self.scorer = scorer
        self.pairs = dict(pairs)
        self.columns = list(self.pairs)
        position = {label: i for i, label in enumerate(scorer.columns)}
        self._high = [position[high] for high, _ in self.pairs.values()]
        self._low = [position[low] for _, low in self.pairs.values()]
        self.face_crop = scorer.face_crop

    def prepare(self, faces: list[np.ndarray]):
        """Preprocess face crops (see :meth:`ZeroShotScorer.prepare`)."""
        return self.scorer.prepare(faces)

    def score_prepared(self, pixel_values) -> np.ndarray:
        """High-pole shares for pixels returned by :meth:`prepare`, ``(n, len(columns))``."""
        return self._shares(self.scorer.score_prepared(pixel_values))

    def score(self, faces: list[np.ndarray]) -> np.ndarray:
        """High-pole shares of RGB uint8 face crops, ``(len(faces), len(columns))``."""
        return self._shares(self.scorer.score(faces))

    def _shares(self, probabilities: np.ndarray) -> np.ndarray:
        high = probabilities[:, self._high]
        return high / (high + probabilities[:, self._low])

    def provenance(self) -> dict:
        """The pole scorer's provenance plus the pole descriptions of each column."""
        return {
            **self.scorer.provenance(),
            "labels": list(self.columns),
            "poles": {name: list(pair) for name, pair in self.pairs.items()},
        }


def vad_scores(
    inputs: Any,
    input_type: str = "auto",
    dimensions: Sequence[str] = VAD_DIMENSIONS,
    label_type: str = "definitional",
    custom_labels: Mapping[str, Any] | None = None,
    model: str = "oai-base",
    local_model_path: str | os.PathLike | None = None,
    *,
    face_selection: str = "largest",
    templates: Any = None,
    batch_size: int = 16,
    device: Any = None,
    dtype: Any = None,
    precision: Any = None,
    trust_remote_code: bool | None = None,
    face_detection_size: int | None = DEFAULT_DETECTION_SIZE,
    detector: Any = DEFAULT_DETECTOR,
    face_threshold: float | None = None,
    **video_options: Any,
):
    """Valence, arousal and dominance of the faces in images or video frames.

    Parameters
    ----------
    inputs : str, path-like or list of these
        Image files (or folders) or video files / http(s) URLs.
    input_type : {"auto", "image", "video"}, default "auto"
        ``"auto"``: files with an image extension (jpg, jpeg, png, bmp, gif, tif,
        tiff, webp) and folders are images, everything else video.
    dimensions : sequence of str, default ("valence", "arousal", "dominance")
        Dimensions to score, in the order of the output columns.
    label_type : {"definitional", "simple", "custom"}, default "definitional"
        Pole descriptions (see :func:`pole_labels`).
    custom_labels : mapping, optional
        Pole descriptions for ``label_type="custom"``.
    model : str, default "oai-base"
        A zero-shot model alias or Hugging Face id (fixed-class models such as
        ``cnn-fer`` have no free-text poles).
    local_model_path : str or path-like, optional
        Local model folder replacing the alias's weights.
    face_selection, templates, batch_size, device, dtype, precision, trust_remote_code, face_detection_size, detector, face_threshold
        As in :func:`pybridge.image_scores`.
    **video_options
        For video: ``nframes``, ``ffreq``, ``uniform``, ``start``, ``end`` and the
        other options of :func:`pybridge.video_scores`.

    Returns
    -------
    pandas.DataFrame
        The table of :func:`pybridge.image_scores` (one row per image) or
        :func:`pybridge.video_scores` (one row per sampled frame) with one column per
        dimension instead of label columns: the probability, between 0 and 1, of the
        high pole (pleasant, energetic, in control). Rows without a face have NaN.
        ``attrs["pybridge"]["poles"]`` records the descriptions used.

    Raises
    ------
    InvalidInputError
        No inputs, unknown ``input_type``/dimension/label type, bad custom labels,
        video options for images, or a fixed-class model.
    UnknownModelError, ModelNotAvailableError
        Problems with the model.

    Examples
    --------
    >>> vad_scores("face.jpg", dimensions=["valence"])  # doctest: +SKIP
    """
    from .image_scoring import image_scores
    from .video_scoring import video_scores

    pairs = pole_labels(label_type, custom_labels, dimensions)
    sources = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs or [])
    if not sources:
        raise InvalidInputError("no inputs given; pass image or video paths")
    kind = _input_kind(sources, input_type)
    if kind == "image" and video_options:
        raise InvalidInputError(f"{sorted(video_options)} apply to video only; the inputs are images")
    labels = list(dict.fromkeys(label for pair in pairs.values() for label in pair))
    resolve_detector(detector, face_threshold, face_detection_size, face_selection)  # fail before the model loads
    built = build_scorer(
        labels,
        model,
        local_model_path,
        templates=templates,
        batch_size=batch_size,
        device=device,
        dtype=dtype,
        precision=precision,
        trust_remote_code=trust_remote_code,
    )
    if not hasattr(built, "templates"):
        raise InvalidInputError(
            f"model {model!r} has fixed classes; valence, arousal and dominance need a zero-shot model "
            "such as 'oai-base'"
        )
    scorer = PolePairScorer(built, pairs)
    common = dict(
        face_selection=face_selection,
        scorer=scorer,
        batch_size=batch_size,
        face_detection_size=face_detection_size,
        detector=detector,
        face_threshold=face_threshold,
    )
    if kind == "image":
        return image_scores(sources, **common)
    return video_scores(sources if len(sources) > 1 else sources[0], **common, **video_options)


_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def _input_kind(sources: list[Any], input_type: str) -> str:
    if input_type not in ("auto", "image", "video"):
        raise InvalidInputError(
            f"input_type must be 'auto', 'image' or 'video', got {input_type!r} (text is not supported)"
        )
    if input_type != "auto":
        return input_type
    kinds = {
        "image" if os.path.isdir(os.fspath(s)) or os.fspath(s).lower().endswith(_IMAGE_SUFFIXES) else "video"
        for s in sources
    }
    if len(kinds) > 1:
        raise InvalidInputError("inputs mix images and videos; score them in separate calls")
    return kinds.pop()
