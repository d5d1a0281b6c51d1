"""Scoring faces: zero-shot CLIP/SigLIP probabilities or fixed-class classifiers.

The probability CLIP assigns to label *k* for an image is

    p_k = softmax_k( exp(t) * cos(image, text_k) )

over the given labels, where ``exp(t)`` is the model's learnt logit scale. SigLIP
was trained with a sigmoid loss instead, so its scores are
``sigmoid(exp(t) * cos + b)`` with its learnt bias ``b``: each label is judged on its
own and the scores need not sum to one. Either way the numbers are those of the
model's own forward pass (``logits_per_image``), computed faster: label text
embeddings are computed once per (model, labels, templates) and reused, and images
are encoded in batches.

:func:`score_frames` runs the whole face pipeline on decoded images (detect, select,
crop, score) and returns one record per image or face; image and video scoring
both use it.

Examples
--------
>>> validate_labels(["happy", "sad"])
['happy', 'sad']
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import ImageReadError, InvalidInputError, InvalidLabelsError
from ..scores_table import BOX_COLUMNS, LANDMARK_COLUMNS, METADATA_COLUMNS, NO_FACE_REASON
from ..validation import as_ordered_list, check_integer
from .faces import DetectedFace, FaceBox, crop_face, default_detector, select_faces, validate_face_selection

#: Keys the scoring records carry internally; a label of that name would clobber them.
_RECORD_KEYS = frozenset({"_source", "_scored"})

__all__ = [
    "PROMPT_ENSEMBLES",
    "ClassifierScorer",
    "FunctionScorer",
    "Scorer",
    "ZeroShotScorer",
    "build_scorer",
    "check_scoring_arguments",
    "encode_pixels_in_batches",
    "label_embeddings",
    "normalise_label",
    "preprocess_faces",
    "score_frames",
    "score_stream",
    "validate_labels",
]

#: Named prompt-template ensembles for ``templates=``; ``{}`` is replaced by the label.
PROMPT_ENSEMBLES: dict[str, tuple[str, ...]] = {
    "face": (
        "a photo of a {} face.",
        "a photo of a person with a {} facial expression.",
        "a close-up photo of a {} person.",
        "a face that looks {}.",
    ),
}


@runtime_checkable
class Scorer(Protocol):
    """What :func:`score_stream` calls: face crops in, one score per column out.

    Scoring runs in two steps so that a worker thread can prepare the next chunk while
    the model scores this one: ``prepare(faces)`` (CPU work: preprocessing) and
    ``score_prepared(prepared)`` (the model). :class:`ZeroShotScorer`,
    :class:`ClassifierScorer`, :class:`~pybridge.vision.embeddings.ImageEmbedder`,
    the VAD pole scorer and a fitted :class:`~pybridge.vision.probe.EmotionProbe`
    satisfy it; :class:`FunctionScorer` turns a ``score(faces)`` function into one.

    Attributes
    ----------
    columns : list of str
        Output column names (the user's labels, verbatim and in order).
    face_crop : {"padded", "tight"}
        Which crop the scorer expects (see :func:`pybridge.vision.faces.crop_box`).
    """

    columns: list[str]
    face_crop: str

    def prepare(self, faces: list[np.ndarray]) -> Any: ...

    def score_prepared(self, prepared: Any) -> np.ndarray: ...

    def provenance(self) -> dict: ...


# ---------------------------------------------------------------------------- labels and templates


def normalise_label(label: str) -> str:
    """The text a CLIP tokenizer actually sees: lower case, runs of whitespace as one space.

    CLIP's tokenizer (and open_clip's) cleans text this way before encoding, so two
    labels with the same normal form are the same prompt. :func:`validate_labels`
    refuses such pairs for every model.

    Parameters
    ----------
    label : str

    Returns
    -------
    str

    Examples
    --------
    >>> normalise_label("  Very\tHappy ")
    'very happy'
    """
    return " ".join(label.split()).lower()


def validate_labels(labels: Any, *, min_labels: int = 1) -> list[str]:
    """Check a label list and return it as a list of strings, unchanged.

    Parameters
    ----------
    labels : sequence of str
        Labels in the user's order.
    min_labels : int, default 1
        Fewest labels that make sense (2 for softmax scores, which are always 1
        for a single label).

    Returns
    -------
    list of str

    Raises
    ------
    InvalidLabelsError
        ``labels`` is a single string, empty, too short, holds non-strings, empty or
        blank strings, duplicates (also labels that differ only in case or
        whitespace, see :func:`normalise_label`), or the name of a result column
        (:data:`pybridge.scores_table.METADATA_COLUMNS`).

    Examples
    --------
    >>> validate_labels(["sad", "happy"], min_labels=2)
    ['sad', 'happy']
    """
    if labels is None:
        raise InvalidLabelsError("labels are required for zero-shot models; pass e.g. ['happy', 'sad', 'neutral']")
    if isinstance(labels, str):
        raise InvalidLabelsError(
            f"labels must be a list of strings, not the single string {labels!r}; e.g. [{labels!r}, 'neutral']"
        )
    labels = as_ordered_list(
        labels, "labels", "a list of strings in the order of the output columns", InvalidLabelsError
    )
    if not labels:
        raise InvalidLabelsError("labels must not be empty; pass at least two labels, e.g. ['happy', 'sad']")
    wrong = [label for label in labels if not isinstance(label, str)]
    if wrong:
        raise InvalidLabelsError(f"every label must be a string; got {wrong[0]!r} ({type(wrong[0]).__name__})")
    blank = [i for i, label in enumerate(labels) if not label.strip()]
    if blank:
        raise InvalidLabelsError(f"label {blank[0] + 1} is an empty or blank string; every label needs text")
    seen: set[str] = set()
    duplicates = []
    for label in labels:
        if label in seen:
            duplicates.append(label)
        seen.add(label)
    if duplicates:
        raise InvalidLabelsError(
            f"duplicate label(s) {sorted(set(duplicates))}; each label becomes one output column, so give each once"
        )
    reserved = [label for label in labels if label in METADATA_COLUMNS or label in _RECORD_KEYS]
    if reserved:
        raise InvalidLabelsError(
            f"label(s) {reserved} are names of result columns ({', '.join(sorted(METADATA_COLUMNS))}); a score "
            f"column of that name would overwrite them. Reword the label, e.g. {reserved[0] + ' face'!r}"
        )
    first_of: dict[str, str] = {}
    for label in labels:
        key = normalise_label(label)
        if key in first_of:
            raise InvalidLabelsError(
                f"labels {first_of[key]!r} and {label!r} differ only in case or spaces; CLIP's tokenizer lower-cases "
                "and collapses spaces, so they would be scored as the same prompt with the score split between "
                "them. Give each label once"
            )
        first_of[key] = label
    if len(labels) < min_labels:
        raise InvalidLabelsError(
            f"got {len(labels)} label; softmax scores over a single label are always 1. Pass at least {min_labels} "
            "labels (e.g. add 'neutral')"
        )
    return labels


def normalise_templates(templates: Any) -> tuple[str, ...] | None:
    """Check prompt templates and return them as a tuple (a named ensemble expanded).

    Parameters
    ----------
    templates : None, str or sequence of str
        ``None`` (labels verbatim), a name in :data:`PROMPT_ENSEMBLES`, one template or
        several; each holds ``{}`` (or ``{label}``) where the label goes.

    Returns
    -------
    tuple of str or None

    Raises
    ------
    InvalidInputError
        Not strings, empty, or a template without a place for the label.

    Examples
    --------
    >>> normalise_templates("a photo of a {} face.")
    ('a photo of a {} face.',)
    """
    if templates is None:
        return None
    if isinstance(templates, str):
        templates = PROMPT_ENSEMBLES.get(templates, (templates,))
    try:
        templates = tuple(templates)
    except TypeError:
        raise InvalidInputError("templates must be a string, a list of strings or a name in PROMPT_ENSEMBLES") from None
    if not templates:
        raise InvalidInputError("templates must not be empty; pass None to use the labels verbatim")
    for template in templates:
        if not isinstance(template, str) or ("{}" not in template and "{label}" not in template):
            raise InvalidInputError(
                f"template {template!r} has no '{{}}' (or '{{label}}') where the label goes, e.g. 'a photo of a {{}} face'"
            )
    return templates


def _fill(template: str, label: str) -> str:
    # replace, not str.format: labels and templates may contain other braces
    return template.replace("{label}", label).replace("{}", label)


# ---------------------------------------------------------------------------- scorers

# label embeddings per loaded model, keyed by (labels, templates); dropped with the model
_TEXT_CACHE: weakref.WeakKeyDictionary[Any, dict[tuple, Any]] = weakref.WeakKeyDictionary()


def preprocess_faces(model, faces: Sequence[np.ndarray]):
    """Turn RGB uint8 face crops into the model's pixel tensor (CPU work, thread-safe).

    Parameters
    ----------
    model : LoadedEmbeddingModel
        From :func:`pybridge.models.get_model`.
    faces : sequence of numpy.ndarray
        RGB uint8 crops, shape ``(h, w, 3)`` each.

    Returns
    -------
    torch.Tensor
        ``(n, 3, H, W)`` pixel values on the CPU.

    Raises
    ------
    TypeError
        A crop is not an image array.

    Examples
    --------
    >>> pixels = preprocess_faces(model, [face])  # doctest: +SKIP
    """
    from PIL import Image

    return model.preprocess([Image.fromarray(face) for face in faces])


def encode_pixels_in_batches(model, pixel_values, batch_size: int):
    """L2-normalised image embeddings of preprocessed pixels, ``batch_size`` at a time.

    Parameters
    ----------
    model : LoadedEmbeddingModel
    pixel_values : torch.Tensor
        From :func:`preprocess_faces`.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    torch.Tensor
        ``(n, d)`` float32 on the CPU.

    Raises
    ------
    RuntimeError
        The tensor does not fit the model (torch's error).

    Examples
    --------
    >>> encode_pixels_in_batches(model, preprocess_faces(model, [face]), 16).shape  # doctest: +SKIP
    torch.Size([1, 512])
    """
    import torch

    return torch.cat(
        [model.encode_pixels(pixel_values[i : i + batch_size]) for i in range(0, len(pixel_values), batch_size)]
    )


def label_embeddings(model, labels: Sequence[str], templates: Sequence[str] | None = None):
    """Return the (cached) L2-normalised text embeddings of the labels.

    With several templates, each label's embedding is the re-normalised mean of its
    templated texts' embeddings (a prompt ensemble, as in the CLIP paper).

    Parameters
    ----------
    model : LoadedEmbeddingModel
    labels : sequence of str
    templates : sequence of str, optional

    Returns
    -------
    torch.Tensor
        ``(n_labels, d)``.

    Examples
    --------
    >>> model = get_model("oai-base")  # doctest: +SKIP
    >>> label_embeddings(model, ["happy", "sad"]) is label_embeddings(model, ["happy", "sad"])  # doctest: +SKIP
    True
    """
    import torch

    key = (tuple(labels), None if templates is None else tuple(templates))
    per_model = _TEXT_CACHE.setdefault(model, {})
    cached = per_model.get(key)
    if cached is not None:
        return cached
    if templates is None:
        embeddings = model.encode_texts(list(labels))
    else:
        texts = [_fill(template, label) for label in labels for template in templates]
        grouped = model.encode_texts(texts).reshape(len(labels), len(templates), -1).mean(dim=1)
        embeddings = torch.nn.functional.normalize(grouped, dim=-1)
    per_model[key] = embeddings
    return embeddings


class ZeroShotScorer:
    """Score faces against free-text labels with a CLIP-like model.

    Parameters
    ----------
    model : LoadedEmbeddingModel
        From :func:`pybridge.models.get_model`.
    labels : sequence of str
        Used verbatim (unless ``templates`` are given) and as column names.
    templates : str or sequence of str, optional
        Prompt template(s) with ``{}`` for the label, or a name in
        :data:`PROMPT_ENSEMBLES`; several templates are averaged per label.
    batch_size : int, default 16
        Images per forward pass.

    Raises
    ------
    InvalidLabelsError
        Bad labels (fewer than two for softmax models).
    InvalidInputError
        Bad templates.

    Examples
    --------
    >>> scorer = ZeroShotScorer(get_model("oai-base"), ["happy", "sad"])  # doctest: +SKIP
    >>> scorer.score([face]).shape  # doctest: +SKIP
    (1, 2)
    """

    # labels=None is refused by validate_labels with a typed error
    def __init__(self, model, labels: Sequence[str] | None, templates: Any = None, batch_size: int = 16) -> None:
        self.model = model
        self.columns = validate_labels(labels, min_labels=2 if model.probability == "softmax" else 1)
        self.templates = normalise_templates(templates)
        self.batch_size = check_integer(batch_size, "batch_size", 1)
        self.face_crop = model.face_crop
        self.text_embeddings = label_embeddings(model, self.columns, self.templates)
        _check_distinct_prompts(self.columns, self.text_embeddings)

    def prepare(self, faces: list[np.ndarray]):
        """Preprocess face crops into the model's pixel tensor (CPU work, thread-safe)."""
        return preprocess_faces(self.model, faces)

    def score_prepared(self, pixel_values) -> np.ndarray:
        """Scores for pixels returned by :meth:`prepare`, ``(n, len(columns))``."""
        return self.probabilities(encode_pixels_in_batches(self.model, pixel_values, self.batch_size))

    def score(self, faces: list[np.ndarray]) -> np.ndarray:
        """Score RGB uint8 face crops.

        Parameters
        ----------
        faces : list of numpy.ndarray

        Returns
        -------
        numpy.ndarray
            ``(len(faces), len(columns))`` float64: softmax over labels (CLIP) or
            per-label sigmoid (SigLIP).
        """
        if not faces:
            return np.empty((0, len(self.columns)))
        return self.score_prepared(self.prepare(faces))

    def probabilities(self, image_embeddings) -> np.ndarray:
        """Turn L2-normalised image embeddings into label probabilities.

        Parameters
        ----------
        image_embeddings : torch.Tensor
            ``(n, d)``, normalised.

        Returns
        -------
        numpy.ndarray
            ``(n, len(columns))``.
        """
        import torch

        # float64 so that each softmax row sums to one to machine precision
        cosine = (image_embeddings.float() @ self.text_embeddings.float().T).double()
        logits = self.model.logit_scale * cosine
        if self.model.probability == "sigmoid":
            return torch.sigmoid(logits + (self.model.logit_bias or 0.0)).numpy()
        return torch.softmax(logits, dim=-1).numpy()

    def provenance(self) -> dict:
        """Model provenance plus the labels and templates used."""
        return {**self.model.provenance(), "labels": list(self.columns), "templates": _list_or_none(self.templates)}


def _check_distinct_prompts(labels: Sequence[str], embeddings) -> None:
    """Refuse labels that the model's tokenizer turns into the same prompt (e.g. cut at its length limit)."""
    for i in range(1, len(labels)):
        same = (embeddings[:i] - embeddings[i]).abs().amax(dim=-1) <= 1e-6
        if bool(same.any()):
            j = int(same.nonzero()[0, 0])
            raise InvalidLabelsError(
                f"labels {labels[j]!r:.80} and {labels[i]!r:.80} are the same prompt for this model after its "
                "tokenizer's normalisation (lower case, whitespace, cut to its length limit), so they would split "
                "one score between them. Shorten or reword them so that they differ early"
            )


class ClassifierScorer:
    """Score faces with a fixed-class classifier (e.g. ``cnn-fer``).

    Parameters
    ----------
    model : LoadedClassifier
    labels : sequence of str, optional
        Classes to report, in this order and with this text; matched to the
        model's classes ignoring case and surrounding spaces. ``None`` reports all.
        Probabilities are the model's own over all its classes: a subset is **not**
        renormalised.

    Raises
    ------
    InvalidLabelsError
        A label that is not one of the model's classes (the message lists them).

    Examples
    --------
    >>> ClassifierScorer(get_model("cnn-fer"), ["happy", "sad"]).columns  # doctest: +SKIP
    ['happy', 'sad']
    """

    def __init__(self, model, labels: Sequence[str] | None = None) -> None:
        self.model = model
        classes = list(model.classes)
        if labels is None:
            self.columns = classes
            self._indices = list(range(len(classes)))
        else:
            self.columns = validate_labels(labels)
            lookup = {name.strip().lower(): i for i, name in enumerate(classes)}
            unknown = [label for label in self.columns if label.strip().lower() not in lookup]
            if unknown:
                raise InvalidLabelsError(
                    f"{model.spec.alias!r} scores only the classes {', '.join(classes)}; unknown label(s): "
                    f"{', '.join(map(repr, unknown))}. Use a zero-shot model (e.g. 'oai-base') for free-text labels"
                )
            self._indices = [lookup[label.strip().lower()] for label in self.columns]
        self.face_crop = model.face_crop

    def prepare(self, faces: list[np.ndarray]) -> list[np.ndarray]:
        """The crops themselves: the classifier preprocesses inside ``predict_proba``."""
        return list(faces)

    def score_prepared(self, faces: list[np.ndarray]) -> np.ndarray:
        """Class probabilities of RGB uint8 face crops, ``(len(faces), len(columns))``."""
        if not faces:
            return np.empty((0, len(self.columns)))
        return np.asarray(self.model.predict_proba(list(faces)), dtype=np.float64)[:, self._indices]

    def score(self, faces: list[np.ndarray]) -> np.ndarray:
        """Class probabilities of RGB uint8 face crops, ``(len(faces), len(columns))``."""
        return self.score_prepared(self.prepare(faces))

    def provenance(self) -> dict:
        """Model provenance plus the classes reported."""
        return {**self.model.provenance(), "labels": list(self.columns), "templates": None}


def check_scoring_arguments(
    labels: Any,
    *,
    scorer: Any = None,
    model: Any = "oai-base",
    local_model_path: Any = None,
    face_selection: str = "largest",
    batch_size: Any = 16,
    templates: Any = None,
    precision: Any = None,
    dtype: Any = None,
) -> list[str] | None:
    """Check the arguments that every scoring call shares, before any model is loaded.

    Parameters
    ----------
    labels : list of str or None
        ``None`` is accepted only with ``scorer`` or a fixed-class model (``cnn-fer``).
    scorer, model, local_model_path, face_selection, batch_size, templates, precision, dtype
        As in :func:`pybridge.image_scores`.

    Returns
    -------
    list of str or None
        The labels as a list.

    Raises
    ------
    InvalidLabelsError
        As :func:`validate_labels`; or no labels for a zero-shot model.
    InvalidInputError
        Bad ``face_selection``, ``batch_size``, ``templates`` or ``precision``.
    UnknownModelError, ModelNotAvailableError
        Only when ``labels`` is None and the model must be looked up to know
        whether it has fixed classes.

    Examples
    --------
    >>> check_scoring_arguments(["happy", "sad"], batch_size=8)
    ['happy', 'sad']
    """
    validate_face_selection(face_selection)
    check_integer(batch_size, "batch_size", 1)
    normalise_templates(templates)
    from ..models.device import resolve_precision

    resolve_precision(precision, dtype)
    if scorer is not None:
        return None if labels is None else list(labels)
    if labels is not None:
        return validate_labels(labels)
    from ..models.backend_table import get_backend
    from ..models.manager import resolve_spec

    if not get_backend(resolve_spec(model, local_model_path).backend).fixed_classes:
        validate_labels(None)  # raises: zero-shot models need labels
    return None


class FunctionScorer:
    """A :class:`Scorer` made of a function that scores face crops in one step.

    Parameters
    ----------
    score : callable
        ``score(faces) -> array (len(faces), len(columns))`` on RGB uint8 crops.
    columns : sequence of str
        Output column names.
    face_crop : {"padded", "tight"}, default "padded"
        The crop ``score`` expects.
    provenance : dict, optional
        Recorded in the table's provenance (with the columns as ``labels``).

    Examples
    --------
    >>> import numpy as np
    >>> scorer = FunctionScorer(lambda faces: np.ones((len(faces), 1)), ["one"])
    >>> scorer.score_prepared(scorer.prepare([np.zeros((2, 2, 3), np.uint8)])).tolist()
    [[1.0]]
    """

    def __init__(
        self,
        score: Callable[[list[np.ndarray]], np.ndarray],
        columns: Sequence[str],
        face_crop: str = "padded",
        provenance: dict | None = None,
    ) -> None:
        self.score = score
        self.columns = list(columns)
        self.face_crop = face_crop
        self._provenance = dict(provenance or {})

    def prepare(self, faces: list[np.ndarray]) -> list[np.ndarray]:
        """The crops themselves (``score`` does all the work)."""
        return list(faces)

    def score_prepared(self, faces: list[np.ndarray]) -> np.ndarray:
        """``score(faces)`` as float64, ``(len(faces), len(columns))``."""
        return np.asarray(self.score(faces), dtype=np.float64)

    def provenance(self) -> dict:
        """The given provenance with the columns as ``labels``."""
        return {**self._provenance, "labels": list(self.columns)}


def build_scorer(
    labels: Sequence[str] | None,
    model: Any = "oai-base",
    local_model_path: Any = None,
    scorer: Any = None,
    templates: Any = None,
    batch_size: int = 16,
    **model_kwargs: Any,
):
    """Make the scorer for a model and labels (the single entry point for image and video scoring).

    Parameters
    ----------
    labels : sequence of str or None
        Labels (zero-shot) or a subset of classes (classifiers; ``None`` = all).
    model : str, default "oai-base"
        Model alias.
    local_model_path : str or path-like, optional
        Local folder replacing the alias's weights.
    scorer : Scorer, optional
        An already-built scorer (e.g. a fitted probe); it wins over ``model``.
    templates : str or sequence of str, optional
        Prompt templates (zero-shot models only).
    batch_size : int, default 16
        Images per forward pass.
    **model_kwargs
        ``device``, ``dtype``, ``quantization``, ``trust_remote_code`` for
        :func:`pybridge.models.get_model`.

    Returns
    -------
    Scorer

    Raises
    ------
    InvalidLabelsError, InvalidInputError
        Bad labels or templates, or labels that contradict ``scorer``'s columns.
    UnknownModelError, ModelNotAvailableError, ModelLoadError
        From loading the model.

    Examples
    --------
    >>> build_scorer(["happy", "sad"], model="oai-base").columns  # doctest: +SKIP
    ['happy', 'sad']
    """
    if scorer is not None:
        if not isinstance(scorer, Scorer):
            raise InvalidInputError(
                "scorer= must have .columns, .face_crop, .prepare(faces), .score_prepared(prepared) and "
                ".provenance() (the Scorer protocol), e.g. a fitted pybridge.EmotionProbe; wrap a "
                "score(faces) function in pybridge.vision.scoring.FunctionScorer"
            )
        if labels is not None and list(labels) != list(scorer.columns):
            raise InvalidLabelsError(
                f"labels {list(labels)} differ from the scorer's columns {list(scorer.columns)}; "
                "drop labels= when passing scorer="
            )
        return scorer
    from ..models import get_model

    model_kwargs = {key: value for key, value in model_kwargs.items() if value is not None}
    loaded = get_model(model, local_model_path, **model_kwargs)
    if loaded.kind == "classifier":
        if templates is not None:
            raise InvalidInputError(
                f"templates apply to zero-shot models only; {loaded.spec.alias!r} has fixed classes"
            )
        return ClassifierScorer(loaded, labels)
    return ZeroShotScorer(loaded, labels, templates, batch_size=batch_size)


# ---------------------------------------------------------------------------- the face pipeline


def score_frames(
    frames: Iterable[np.ndarray],
    scorer,
    face_selection: str = "largest",
    detector=None,
    batch_size: int = 16,
) -> list[dict]:
    """Detect, select, crop and score faces in decoded RGB images.

    Parameters
    ----------
    frames : iterable of numpy.ndarray
        ``(height, width, 3)`` uint8 RGB images.
    scorer : Scorer
        From :func:`build_scorer`.
    face_selection : {"largest", "left", "right", "none", "all"}, default "largest"
        Which face to score; ``"none"`` scores the whole image without detection;
        ``"all"`` gives one record per face.
    detector : FaceDetector or MtcnnDetector, optional
        Defaults to :func:`~pybridge.vision.faces.default_detector` (MTCNN on a copy
        at most 640 pixels on its longest side, as in
        :func:`~pybridge.vision.image_scoring.image_scores`). Faces below its
        ``threshold`` are not scored.
    batch_size : int, default 16
        Images handled per step.

    Returns
    -------
    list of dict
        One record per frame (per face with ``"all"``), keys as in
        :func:`pybridge.scores_table.face_columns` plus ``"_source"`` (the index of the
        frame). A frame without a face (or none at or above the detector's
        threshold) keeps its record: ``face_found`` False, NaN box and scores, and
        ``reason``.

    Raises
    ------
    InvalidInputError
        Bad ``face_selection`` or ``batch_size``.

    Examples
    --------
    >>> score_frames([face_image], scorer)[0]["face_found"]  # doctest: +SKIP
    True
    """
    records: list[dict] = []
    for chunk in score_stream(
        enumerate(frames), scorer, read=lambda frame: frame, face_selection=face_selection, detector=detector,
        batch_size=batch_size, prefetch=False,
    ):  # fmt: skip
        records.extend(chunk)
    return records


def score_stream(
    items: Iterable[tuple[Any, Any]],
    scorer,
    *,
    read: Callable[[Any], np.ndarray],
    face_selection: str = "largest",
    detector=None,
    batch_size: int = 16,
    prefetch: bool = True,
    tracker=None,
) -> Iterator[list[dict]]:
    """Score ``(key, item)`` pairs chunk by chunk, preparing the next chunk while the model runs.

    ``read(item)`` returns an RGB uint8 array or raises ``ImageReadError`` /
    ``DownloadError`` (the item then gets a record with the reason). Reading, face
    detection, cropping and preprocessing of chunk *k+1* run in a worker thread
    while chunk *k* is encoded: OpenCV, Pillow and torch release the GIL, so on a GPU
    the model is never kept waiting.

    Parameters
    ----------
    items : iterable of (object, object)
        Key (stored as ``"_source"``) and the thing to read.
    scorer : Scorer
    read : callable
    face_selection, detector, batch_size
        As in :func:`score_frames`.
    prefetch : bool, default True
        Overlap preparation with scoring.
    tracker : FaceTracker, optional
        Gives every detected face a ``track_id`` (items must come in time order);
        see :class:`~pybridge.vision.tracking.FaceTracker`.

    Yields
    ------
    list of dict
        The records of one chunk, in input order.
    """
    validate_face_selection(face_selection)
    batch_size = check_integer(batch_size, "batch_size", 1)
    detector = detector if detector is not None or face_selection == "none" else default_detector()
    prepare, score_prepared = scorer.prepare, scorer.score_prepared
    columns = list(scorer.columns)

    def prepare_chunk(chunk: list[tuple[Any, Any]]):
        records: list[dict] = []
        crops: list[np.ndarray] = []
        for key, item in chunk:
            try:
                rgb = read(item)
            except (ImageReadError, OSError) as err:
                records.append(_empty_record(key, face_selection, f"unreadable: {err}"))
                continue
            records.extend(_face_records(key, rgb, face_selection, detector, scorer.face_crop, crops, tracker))
        return records, (prepare(crops) if crops else None)

    def finish_chunk(prepared) -> list[dict]:
        records, inputs = prepared
        scores = score_prepared(inputs) if inputs is not None else np.empty((0, len(columns)))
        position = 0
        for record in records:
            if record.pop("_scored"):
                record.update(zip(columns, scores[position].tolist()))
                position += 1
            else:
                record.update(dict.fromkeys(columns, math.nan))
        return records

    chunks = _chunked(items, batch_size)
    first = next(chunks, None)
    if first is None:
        return
    second = next(chunks, None) if prefetch else None
    if second is None:
        # a single chunk (e.g. one image per call) gains nothing from a worker thread
        yield finish_chunk(prepare_chunk(first))
        for chunk in chunks:
            yield finish_chunk(prepare_chunk(chunk))
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pybridge-prepare") as pool:
        pending = pool.submit(prepare_chunk, first)
        for chunk in itertools.chain([second], chunks):
            upcoming = pool.submit(prepare_chunk, chunk)
            yield finish_chunk(pending.result())
            pending = upcoming
        yield finish_chunk(pending.result())


# ---------------------------------------------------------------------------- internals


def _face_records(key, rgb, face_selection, detector, face_crop, crops: list, tracker=None) -> list[dict]:
    height, width = rgb.shape[:2]
    landmarks = bool(getattr(detector, "has_landmarks", False))
    if face_selection == "none":
        crops.append(rgb)
        return [_record(key, face_selection, None, DetectedFace(FaceBox(0, 0, width, height)), found=False)]
    candidates = detector.detect_faces(rgb, all_candidates=True)
    threshold = getattr(detector, "threshold", None)
    faces = [face for face in candidates if threshold is None or not face.score < threshold]
    tracks = tracker.update([face.box for face in faces]) if tracker is not None else [None] * len(faces)
    track_of = dict(zip(map(id, faces), tracks))
    chosen = select_faces(faces, face_selection)
    if not chosen:
        reason = NO_FACE_REASON
        if candidates:
            best = max(face.score for face in candidates)
            reason = f"{NO_FACE_REASON} at or above face_threshold {threshold:g} (best {best:.3f})"
        return [_empty_record(key, face_selection, reason, landmarks)]
    records = []
    for face_id, face in enumerate(chosen):
        crops.append(crop_face(rgb, face.box, face_crop))
        record = _record(key, face_selection, face_id, face, found=True, landmarks=landmarks)
        if tracker is not None:
            record["track_id"] = track_of[id(face)]
        records.append(record)
    return records


def _record(key, face_selection, face_id, face: DetectedFace | None, *, found: bool, landmarks: bool = False,
            reason=None) -> dict:  # fmt: skip
    record: dict[str, Any] = {"_source": key}
    if face_selection == "all":
        record["face_id"] = face_id
    record["face_found"] = found
    record["face_score"] = face.score if face is not None and found else math.nan
    record.update(zip(BOX_COLUMNS, face.box if face is not None else (math.nan,) * 4))
    record["reason"] = reason
    if landmarks:
        points = face.landmarks if face is not None and face.landmarks is not None else ((math.nan,) * 2,) * 5
        record.update(zip(LANDMARK_COLUMNS, (value for point in points for value in point)))
    record["_scored"] = face is not None
    return record


def _empty_record(key, face_selection, reason: str, landmarks: bool = False) -> dict:
    return _record(key, face_selection, None, None, found=False, landmarks=landmarks, reason=reason)


def _chunked(items: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _list_or_none(values):
    return None if values is None else list(values)
