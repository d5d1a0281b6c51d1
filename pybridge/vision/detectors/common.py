"""What the neural face detectors share: input checks, thread counts, non-maximum suppression, boxes.

:class:`TorchFaceDetector` is the base of :class:`~.mtcnn.MtcnnDetector` and
:class:`~.blazeface.BlazeFaceDetector`: the parts of the face stage's detector contract
(:mod:`pybridge.vision.faces`) that do not depend on the network.

Examples
--------
>>> boxes = np.array([[0, 0, 10, 10, 0.9], [1, 1, 11, 11, 0.8], [20, 20, 30, 30, 0.7]])
>>> nms(boxes, 0.3).tolist()
[0, 2]
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Generic, TypeVar

import numpy as np

from ...errors import InvalidInputError
from ...torch_threads import torch_threads
from ..faces import DetectedFace, FaceBox, check_detector_input

__all__ = [
    "LoadedOnce",
    "TorchFaceDetector",
    "as_rgb",
    "check_threads",
    "nms",
    "to_face_box",
    "torch_threads",
    "weights_version",
]

Network = TypeVar("Network")


class LoadedOnce(Generic[Network]):
    """A network loader that runs once per process, under a lock (use it as a decorator).

    Every detector object shares the one network; threads that ask for it while it loads
    wait for that load instead of starting another. A load that raises is not kept, so
    the next call tries again (after the user installs the missing weights, say).

    Examples
    --------
    >>> @LoadedOnce
    ... def load_answer():
    ...     return 42
    >>> load_answer() is load_answer()
    True
    """

    def __init__(self, load: Callable[[], Network]) -> None:
        functools.update_wrapper(self, load)
        self._load = load
        self._lock = threading.Lock()
        self._network: Network | None = None

    def __call__(self) -> Network:
        with self._lock:
            if self._network is None:
                self._network = self._load()
            return self._network


class TorchFaceDetector:
    """Base of the detectors that give every face a confidence: ``detect`` from ``detect_faces``.

    Subclasses set ``name``, ``has_landmarks``, ``threshold`` and implement
    ``detect_faces(rgb, *, all_candidates=False)`` and ``settings()``.
    """

    name = ""
    has_scores = True
    has_landmarks = False
    threshold: float = 0.5

    def detect_faces(self, rgb: np.ndarray, *, all_candidates: bool = False) -> list[DetectedFace]:
        """Faces with their confidence, most confident first (see the subclasses)."""
        raise NotImplementedError

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        """Boxes of the faces at or above ``threshold``, most confident first.

        Parameters
        ----------
        rgb : numpy.ndarray
            ``(height, width, 3)`` uint8 RGB image (or ``(height, width)`` grey).

        Returns
        -------
        list of FaceBox

        Raises
        ------
        InvalidInputError
            Not a uint8 grey or RGB image.

        Examples
        --------
        >>> from pybridge.vision.faces import make_detector
        >>> make_detector("mtcnn").detect(np.zeros((64, 64, 3), np.uint8))  # doctest: +SKIP
        []
        """
        return [face.box for face in self.detect_faces(rgb)]


def weights_version(distribution: str) -> str | None:
    """The installed version of the distribution that carries a detector's weights (None from a source tree).

    Examples
    --------
    >>> weights_version("no-such-distribution-here") is None
    True
    """
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def check_threads(threads) -> int:
    """Check a detector's torch thread count: a positive whole number.

    Examples
    --------
    >>> check_threads(2)
    2
    """
    if not (isinstance(threads, (int, np.integer)) and not isinstance(threads, bool) and threads >= 1):
        raise InvalidInputError(f"threads must be a positive whole number; got {threads!r}")
    return int(threads)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """A checked detector input as ``(h, w, 3)``: a grey image is repeated on three channels.

    Examples
    --------
    >>> as_rgb(np.zeros((4, 4), np.uint8)).shape
    (4, 4, 3)
    """
    return np.repeat(image[:, :, np.newaxis], 3, axis=2) if check_detector_input(image) else image


def nms(boxes: np.ndarray, overlap: float, *, over_smaller: bool = False) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, highest score first.

    Parameters
    ----------
    boxes : numpy.ndarray
        ``(n, 5)``: x1, y1, x2, y2, score.
    overlap : float
        A box is dropped when its overlap with a kept box exceeds this: intersection
        over union, or over the smaller box's area with ``over_smaller``.

    Returns
    -------
    numpy.ndarray
        Indices into ``boxes``, in decreasing score.

    Examples
    --------
    >>> nms(np.array([[0, 0, 10, 10, 0.5], [0, 0, 10, 10, 0.9]]), 0.5).tolist()
    [1]
    """
    x1, y1, x2, y2, scores = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3], boxes[:, 4]
    areas = np.maximum(0.0, x2 - x1) * np.maximum(0.0, y2 - y1)
    order = np.argsort(-scores, kind="stable")
    kept = []
    while order.size:
        best, rest = order[0], order[1:]
        kept.append(best)
        width = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]))
        height = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]))
        intersection = width * height
        if over_smaller:
            ratio = intersection / np.maximum(np.minimum(areas[best], areas[rest]), 1e-9)
        else:
            ratio = intersection / np.maximum(areas[best] + areas[rest] - intersection, 1e-9)
        order = rest[ratio <= overlap]
    return np.asarray(kept, dtype=int)


def to_face_box(box: np.ndarray, width: int, height: int) -> FaceBox:
    """A float (x1, y1, x2, y2) box as whole pixels inside a ``width`` x ``height`` image.

    Examples
    --------
    >>> to_face_box(np.array([-5.2, 10.4, 50.6, 300.0]), 100, 200)
    FaceBox(x=0, y=10, w=51, h=190)
    """
    left, top = min(width - 1, max(0, round(float(box[0])))), min(height - 1, max(0, round(float(box[1]))))
    right, bottom = min(width, round(float(box[2]))), min(height, round(float(box[3])))
    return FaceBox(left, top, max(1, right - left), max(1, bottom - top))
