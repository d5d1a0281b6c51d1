"""A ``face_selection="all"`` scores table with tracked faces, and the per-face truth.

Written out column by column (not through :mod:`pybridge.scores_table`), so tests that
carry it through the estimators, dynEGA, the plots and the R package check the
contract against an independent description of the table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pybridge.dlo.simulate import simulate_dlo

LABELS = ["happy", "sad", "angry"]
FPS = 5.0


def all_faces_table(n_frames: int = 90, seed: int = 4) -> tuple[pd.DataFrame, dict[tuple[str, int], pd.DataFrame]]:
    """Two videos: ``a.mp4`` shows tracks 0 and 1 (track 1 leaves for a while, and two
    frames show nobody), ``b.mp4`` shows track 7 alone.

    Returns
    -------
    table : pandas.DataFrame
        Rows as ``video_scores(..., face_selection="all")`` gives them with a tracker:
        one row per face and frame (``face_id`` left to right), one row with NaN ids
        and scores for a frame without a face.
    truth : dict
        ``(video, track_id) -> DataFrame`` of that face's scores on every frame of its
        video (NaN where the face was not seen), in frame order.
    """
    latent = simulate_dlo(-0.3, -0.2, 0.6, n_steps=n_frames, n_series=9, dt=1 / FPS, seed=seed).y
    series = {
        ("a.mp4", 0): latent[0:3],
        ("a.mp4", 1): latent[3:6],
        ("b.mp4", 7): latent[6:9],
    }
    absent = {("a.mp4", 1): set(range(30, 45)) | {70, 71}, ("a.mp4", 0): {70, 71}, ("b.mp4", 7): set()}
    rows, truth = [], {}
    for video in ("a.mp4", "b.mp4"):
        tracks = [key for key in series if key[0] == video]
        for frame in range(n_frames):
            seen = [key for key in tracks if frame not in absent[key]]
            base = {"video": video, "frame": frame * 3, "time_s": frame * 3 / (3 * FPS)}
            if not seen:
                rows.append(
                    {
                        **base,
                        "face_id": np.nan,
                        "track_id": np.nan,
                        "face_found": False,
                        "face_score": np.nan,
                        "face_x": np.nan,
                        "face_y": np.nan,
                        "face_w": np.nan,
                        "face_h": np.nan,
                        "reason": "no face detected",
                        **dict.fromkeys(LABELS, np.nan),
                    }
                )
                continue
            for face_id, key in enumerate(seen):
                rows.append(
                    {
                        **base,
                        "face_id": float(face_id),
                        "track_id": float(key[1]),
                        "face_found": True,
                        "face_score": 0.9 + 0.01 * face_id,
                        "face_x": 10.0 + 100 * face_id,
                        "face_y": 12.0,
                        "face_w": 60.0,
                        "face_h": 64.0,
                        "reason": None,
                        **dict(zip(LABELS, series[key][:, frame])),
                    }
                )
        for key in tracks:
            values = series[key].T.copy()
            values[sorted(absent[key])] = np.nan
            truth[key] = pd.DataFrame(values, columns=LABELS)
    return pd.DataFrame(rows), truth
