"""Following the same person across the sampled frames of a video: ``track_id``.

:class:`FaceTracker` links the faces detected in one sampled frame to those of the
frames before it. Each live track remembers its last box; a new frame's faces are
assigned to tracks by solving the assignment problem (scipy's
``linear_sum_assignment``, the Hungarian method) on a cost that prefers box overlap
and falls back on the distance between box centres:

* a pair whose boxes overlap (intersection over union at least ``min_iou``) costs
  ``1 - IoU`` (between 0 and 1);
* otherwise a pair whose centres are closer than ``max_distance`` times the track's
  box size costs ``1 + distance / size`` (always worse than any overlap);
* any other pair cannot be matched.

A face that no track takes starts a new track with the next id (0, 1, 2, ...). A
track that finds no face in a frame waits: it stays matchable, at its last
position, for ``max_gap`` sampled frames and is then closed.

**When a person leaves and comes back**: within ``max_gap`` sampled frames and near
where they were last seen, they get their old ``track_id`` back; after a longer
absence, or when they come back far from where they left, they get a new
``track_id`` (the tracker compares positions, not faces, so it cannot recognise
them). The same holds after ``resume=True``: tracks do not continue across the
interruption; the new ids continue the old numbering.

Why an assignment and not greedy matching: when two people pass each other, the
nearest-first choice for one can steal the other's box; the assignment minimises
the total cost over everyone in the frame. No tracker library was needed: the
problem per frame is a few faces, and scipy is already a dependency.

Examples
--------
>>> from pybridge.vision.faces import FaceBox
>>> tracker = FaceTracker()
>>> tracker.update([FaceBox(0, 0, 50, 50), FaceBox(200, 0, 50, 50)])
[0, 1]
>>> tracker.update([FaceBox(190, 5, 50, 50), FaceBox(10, 5, 50, 50)])
[1, 0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict, cast

import numpy as np

from ..errors import InvalidInputError
from .faces import FaceBox

__all__ = ["DEFAULT_TRACKER_SETTINGS", "FaceTracker"]


class _TrackerSettings(TypedDict):
    tracker: str
    min_iou: float
    max_distance: float
    max_gap: int


#: The tracker's defaults, recorded in provenance.
DEFAULT_TRACKER_SETTINGS: _TrackerSettings = {
    "tracker": "iou-hungarian",
    "min_iou": 0.2,
    "max_distance": 1.5,
    "max_gap": 5,
}

_UNMATCHABLE = 1e6


@dataclass
class _Track:
    track_id: int
    box: FaceBox
    missed: int = 0


class FaceTracker:
    """Assign a persistent ``track_id`` to faces frame after frame.

    Parameters
    ----------
    min_iou : float, default 0.2
        Box overlap (intersection over union) from which a face and a track are a
        match by overlap.
    max_distance : float, default 1.5
        Largest distance between box centres, in units of the track's box size (the
        mean of its width and height), for a match without overlap (fast movement
        between sparsely sampled frames).
    max_gap : int, default 5
        Sampled frames a track may go without a face before it is closed.
    first_id : int, default 0
        The first new track's id (e.g. one past the largest id of an interrupted run).

    Raises
    ------
    InvalidInputError
        A setting out of range.

    Examples
    --------
    >>> FaceTracker(max_gap=0).settings()["max_gap"]
    0
    """

    def __init__(
        self,
        *,
        min_iou: float = DEFAULT_TRACKER_SETTINGS["min_iou"],
        max_distance: float = DEFAULT_TRACKER_SETTINGS["max_distance"],
        max_gap: int = DEFAULT_TRACKER_SETTINGS["max_gap"],
        first_id: int = 0,
    ) -> None:
        if not 0.0 < float(min_iou) <= 1.0:
            raise InvalidInputError(f"min_iou must be in (0, 1]; got {min_iou!r}")
        if not float(max_distance) >= 0.0:
            raise InvalidInputError(f"max_distance must be >= 0; got {max_distance!r}")
        if isinstance(max_gap, bool) or not isinstance(max_gap, (int, np.integer)) or max_gap < 0:
            raise InvalidInputError(f"max_gap must be a whole number of frames >= 0; got {max_gap!r}")
        self.min_iou = float(min_iou)
        self.max_distance = float(max_distance)
        self.max_gap = int(max_gap)
        self._next_id = int(first_id)
        self._tracks: list[_Track] = []

    def update(self, boxes: Sequence[FaceBox]) -> list[int]:
        """Assign track ids to the faces of the next sampled frame.

        Parameters
        ----------
        boxes : sequence of FaceBox
            Every face detected in the frame (an empty sequence for a frame without
            faces, so that absences are counted).

        Returns
        -------
        list of int
            One ``track_id`` per box, in the order given.

        Examples
        --------
        >>> FaceTracker().update([])
        []
        """
        from scipy.optimize import linear_sum_assignment

        boxes = [FaceBox(*box) for box in boxes]
        ids: list[int | None] = [None] * len(boxes)
        if self._tracks and boxes:
            cost = self._costs(boxes)
            rows, cols = linear_sum_assignment(cost)
            for row, col in zip(rows, cols):
                if cost[row, col] < _UNMATCHABLE:
                    track = self._tracks[row]
                    track.box, track.missed = boxes[col], -1  # -1: seen now (incremented below)
                    ids[col] = track.track_id
        for track in self._tracks:
            track.missed += 1
        self._tracks = [track for track in self._tracks if track.missed <= self.max_gap]
        for index, box in enumerate(boxes):
            if ids[index] is None:
                ids[index] = self._next_id
                self._tracks.append(_Track(self._next_id, box))
                self._next_id += 1
        # every box without a match got a new id just above
        return [int(cast(int, track_id)) for track_id in ids]

    def settings(self) -> dict[str, float | int | str]:
        """The tracker's settings for provenance records.

        Examples
        --------
        >>> FaceTracker().settings()["tracker"]
        'iou-hungarian'
        """
        return {
            "tracker": DEFAULT_TRACKER_SETTINGS["tracker"],
            "min_iou": self.min_iou,
            "max_distance": self.max_distance,
            "max_gap": self.max_gap,
        }

    def _costs(self, boxes: list[FaceBox]) -> np.ndarray:
        tracks = np.array([track.box for track in self._tracks], dtype=float)
        faces = np.array(boxes, dtype=float)
        iou = _iou(tracks, faces)
        centres_t = tracks[:, :2] + tracks[:, 2:] / 2
        centres_f = faces[:, :2] + faces[:, 2:] / 2
        size = tracks[:, 2:].mean(axis=1, keepdims=True)
        distance = np.linalg.norm(centres_t[:, None, :] - centres_f[None, :, :], axis=2) / np.maximum(size, 1.0)
        cost = np.full(iou.shape, _UNMATCHABLE)
        near = distance <= self.max_distance
        cost[near] = 1.0 + distance[near]
        overlap = iou >= self.min_iou
        cost[overlap] = 1.0 - iou[overlap]
        return cost


def _iou(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Intersection over union of every (x, y, w, h) box in ``first`` with every one in ``second``."""
    left = np.maximum(first[:, None, 0], second[None, :, 0])
    top = np.maximum(first[:, None, 1], second[None, :, 1])
    right = np.minimum(first[:, None, 0] + first[:, None, 2], second[None, :, 0] + second[None, :, 2])
    bottom = np.minimum(first[:, None, 1] + first[:, None, 3], second[None, :, 1] + second[None, :, 3])
    intersection = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    areas_first = first[:, 2] * first[:, 3]
    areas_second = second[:, 2] * second[:, 3]
    union = areas_first[:, None] + areas_second[None, :] - intersection
    return intersection / np.maximum(union, 1e-9)
