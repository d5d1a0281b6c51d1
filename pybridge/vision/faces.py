"""Face detection, selection and cropping with OpenCV's Haar cascade.

The defaults follow transforEmotion's face step, so scores are comparable with
that package: the frontal-face Haar cascade shipped with OpenCV, run on the grey
image with ``scaleFactor=1.1``, ``minNeighbors=5``, ``minSize=(30, 30)``; one face
chosen by ``face_selection``; and a crop box grown by a fixed 50 pixels on every
side and clipped to the image (``crop="padded"``). One difference: the scoring
functions scan a copy whose longest side is at most
:data:`DEFAULT_DETECTION_SIZE` pixels (boxes are mapped back to full resolution),
which makes detection on 720p video about three times cheaper at the price of
missing faces under 48 pixels there; ``face_detection_size=None`` scans the full
resolution as transforEmotion does. CNN classifiers trained on tight
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
    "FACE_SELECTIONS",
    "PADDING_PX",
    "DEFAULT_DETECTION_SIZE",
    "FaceBox",
    "FaceDetector",
    "crop_box",
    "crop_face",
    "default_detector",
    "select_faces",
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
        self.detection_size = _check_detection_size(detection_size)
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
            "detector": f"opencv-{self.method}-frontalface-default",
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


_SHARED_DETECTORS: dict[int | None, FaceDetector] = {}


def default_detector(detection_size: int | None = DEFAULT_DETECTION_SIZE) -> FaceDetector:
    """Return a shared :class:`FaceDetector` with transforEmotion's settings.

    Every scoring function that is not given a detector uses this one, so they all
    agree on the defaults. Loading the cascade takes about 10 ms; reusing it keeps
    one-image calls fast.

    Parameters
    ----------
    detection_size : int or None, default :data:`DEFAULT_DETECTION_SIZE`
        See :class:`FaceDetector` (``None``: full resolution); one shared detector
        per value.

    Returns
    -------
    FaceDetector

    Raises
    ------
    InvalidInputError
        A bad ``detection_size``.

    Examples
    --------
    >>> default_detector() is default_detector()
    True
    """
    detection_size = _check_detection_size(detection_size)
    detector = _SHARED_DETECTORS.get(detection_size)
    if detector is None:
        detector = _SHARED_DETECTORS[detection_size] = FaceDetector(detection_size=detection_size)
    return detector


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


def select_faces(boxes: Sequence[FaceBox], face_selection: str) -> list[FaceBox]:
    """Choose which detected faces to score.

    Parameters
    ----------
    boxes : sequence of FaceBox
        Detections of one image.
    face_selection : {"largest", "left", "right", "none", "all"}
        ``"largest"``: the biggest box; ``"left"`` / ``"right"``: the box whose left
        edge is smallest / largest (as seen in the image); ``"all"``: every box, left
        to right; ``"none"``: no box (the caller scores the whole image).

    Returns
    -------
    list of FaceBox
        Zero or one box, except with ``"all"``.

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
    boxes = [FaceBox(*box) for box in boxes]
    if face_selection == "none" or not boxes:
        return []
    if face_selection == "all":
        return sorted(boxes, key=lambda box: (box.x, box.y))
    if face_selection == "largest":
        return [max(boxes, key=lambda box: box.area)]
    if face_selection == "left":
        return [min(boxes, key=lambda box: box.x)]
    return [max(boxes, key=lambda box: box.x)]


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
        raise ModelLoadError(
            f"OpenCV could not load its face cascade {path!r}; reinstall opencv-python-headless 4.x"
        )
    return cascade


def _check_detection_size(detection_size) -> int | None:
    """``None`` or a whole number of pixels >= 48 (R's doubles such as 640 are fine)."""
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


def _scale_box(box, factor: float, width: int, height: int) -> FaceBox:
    """Map a box found on a shrunk copy back to the original image's pixels."""
    x, y, w, h = (float(v) * factor for v in box)
    left, top = min(width - 1, max(0, round(x))), min(height - 1, max(0, round(y)))
    right, bottom = min(width, round(x + w)), min(height, round(y + h))
    return FaceBox(left, top, max(1, right - left), max(1, bottom - top))


def _to_grey(rgb: np.ndarray, cv2) -> np.ndarray:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8:
        raise InvalidInputError("face detection needs a uint8 numpy image; use pybridge.vision.images.to_rgb_array")
    if rgb.ndim == 2:
        return rgb
    if rgb.ndim == 3 and rgb.shape[2] == 3:
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    raise InvalidInputError(f"face detection needs an (h, w, 3) RGB or (h, w) grey image; got shape {rgb.shape}")
