"""Regenerate the demo data shipped in this folder (fixed seed, reproducible files).

Run from the repository root::

    python pybridge/data/make_demo_data.py

It writes

``astronaut_clip.mp4``
    A 4-second, 10 fps, 192 x 192 H.264 clip made from scikit-image's ``astronaut``
    photograph (Eileen Collins, NASA, public domain): the camera pans and zooms across
    the photograph, and in frames 16-21 the face is blanked out, so the scoring step
    shows rows without a face (NaN scores) next to rows with one.
``simulated_emotion_series.csv``
    SIMULATED emotion scores for 8 clips x 240 frames at 4 fps, in the shape
    ``video_scores`` returns (``video``, ``frame``, ``time_s``, one column per emotion).
    Each clip has three latent damped linear oscillators (positive, negative and
    low-arousal affect) simulated exactly with :func:`pybridge.dlo.simulate_dlo`; each
    emotion score is a baseline plus a loading times one latent series plus
    measurement noise (a linear measurement model), so the emotions driven by the same
    latent form one community in dynEGA and every score is itself a DLO series whose
    parameters are known.
``simulated_parameters.csv``
    The true parameters behind every (clip, emotion) score: the latent's ``eta`` and
    ``zeta``, the score's ``sigma_q`` (loading x latent sigma_q), ``meas_sd``, the latent
    and the loading.

No real person's emotions are in the series: they are simulated and labelled so.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent
SEED = 20240607

CLIP_FILE = "astronaut_clip.mp4"
SERIES_FILE = "simulated_emotion_series.csv"
PARAMETERS_FILE = "simulated_parameters.csv"

# Clip geometry
CLIP_SIZE = 192
CLIP_FPS = 10
CLIP_FRAMES = 40
BLANK_FRAMES = range(16, 22)
# Haar box of the face in the full 512 x 512 photograph (see docs/test-recipes.md §10)
FACE_BOX = (177, 66, 95, 95)

# Simulated series
N_VIDEOS = 8
N_FRAMES = 240
FPS = 4.0
# Emotion -> (latent, loading, baseline); classes of the cnn-fer model.
MEASUREMENT_MODEL: dict[str, tuple[str, float, float]] = {
    "angry": ("negative", 0.9, 0.10),
    "disgust": ("negative", 0.7, 0.05),
    "fear": ("negative", 0.8, 0.08),
    "happy": ("positive", 1.0, 0.30),
    "sad": ("low_arousal", 0.9, 0.12),
    "surprise": ("positive", 0.7, 0.10),
    "neutral": ("low_arousal", 0.8, 0.40),
}
LATENTS = ("positive", "negative", "low_arousal")
# Inside the range the shipped neural DLO estimator is validated on.
PERIOD_FRAMES = (20.0, 60.0)
DAMPING_RATIO = (0.1, 0.5)
LATENT_SIGMA_Q = (0.15, 0.35)
NOISE_SHARE_OF_SD = 0.1


def make_clip(path: Path) -> None:
    """Write the astronaut pan-and-zoom clip with the face blanked in a few frames.

    Parameters
    ----------
    path : pathlib.Path
        Output ``.mp4`` file (overwritten). The encoding is single-threaded and
        bit-exact, so the same ffmpeg build writes the same bytes.

    Examples
    --------
    >>> make_clip(Path("clip.mp4"))  # doctest: +SKIP
    """
    import imageio_ffmpeg
    from PIL import Image
    from skimage import data

    photo = data.astronaut()
    face_x, face_y, face_w, face_h = FACE_BOX
    face_cx, face_cy = face_x + face_w / 2, face_y + face_h / 2
    frames = []
    for index in range(CLIP_FRAMES):
        phase = index / (CLIP_FRAMES - 1)
        # window shrinks from 320 to 240 px (zoom in) while drifting past the face
        window = int(round(320 - 80 * phase))
        centre_x = face_cx + 40 * np.sin(2 * np.pi * phase)
        centre_y = face_cy + 50 + 20 * np.cos(2 * np.pi * phase)
        left = int(np.clip(round(centre_x - window / 2), 0, photo.shape[1] - window))
        top = int(np.clip(round(centre_y - window / 2), 0, photo.shape[0] - window))
        crop = photo[top : top + window, left : left + window].copy()
        if index in BLANK_FRAMES:
            # a flat grey patch over the face (with a margin) leaves nothing to detect
            x0, y0 = max(face_x - 15 - left, 0), max(face_y - 20 - top, 0)
            x1, y1 = min(face_x + face_w + 15 - left, window), min(face_y + face_h + 25 - top, window)
            crop[y0:y1, x0:x1] = 128
        resized = Image.fromarray(crop).resize((CLIP_SIZE, CLIP_SIZE), Image.Resampling.LANCZOS)
        frames.append(np.asarray(resized))

    writer = imageio_ffmpeg.write_frames(
        str(path),
        (CLIP_SIZE, CLIP_SIZE),
        fps=CLIP_FPS,
        codec="libx264",
        pix_fmt_out="yuv420p",
        macro_block_size=16,
        output_params=[
            "-crf",
            "20",
            "-threads",
            "1",
            "-fflags",
            "+bitexact",
            "-flags:v",
            "+bitexact",
            "-map_metadata",
            "-1",
        ],
        ffmpeg_log_level="error",
    )
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()


def simulate_series(seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate the emotion scores of every clip and the table of their true parameters.

    Parameters
    ----------
    seed : int
        Seed of the one :class:`numpy.random.Generator` every draw comes from.

    Returns
    -------
    series : pandas.DataFrame
        ``video``, ``frame``, ``time_s`` and one column per emotion (rounded to 1e-6).
    parameters : pandas.DataFrame
        One row per (``video``, ``label``) with the true score-level parameters.

    Examples
    --------
    >>> series, parameters = simulate_series()
    >>> series.shape, parameters.shape
    ((1920, 10), (56, 10))
    """
    from pybridge.dlo.simulate import period_damping_to_eta_zeta, simulate_dlo, stationary_covariance

    rng = np.random.default_rng(seed)
    dt = 1.0 / FPS
    score_tables, parameter_rows = [], []
    for clip in range(N_VIDEOS):
        video = f"clip_{clip + 1:02d}"
        n_latents = len(LATENTS)
        period = rng.uniform(*PERIOD_FRAMES, n_latents)
        ratio = rng.uniform(*DAMPING_RATIO, n_latents)
        eta, zeta = period_damping_to_eta_zeta(period, ratio, dt)
        sigma_q = rng.uniform(*LATENT_SIGMA_Q, n_latents)
        latent = simulate_dlo(eta, zeta, sigma_q, n_steps=N_FRAMES, dt=dt, n_series=n_latents, seed=rng)
        latent_sd = np.sqrt(stationary_covariance(eta, zeta, sigma_q)[:, 0, 0])

        table = pd.DataFrame(
            {"video": video, "frame": np.arange(N_FRAMES), "time_s": np.round(np.arange(N_FRAMES) * dt, 6)}
        )
        for emotion, (latent_name, loading, baseline) in MEASUREMENT_MODEL.items():
            k = LATENTS.index(latent_name)
            meas_sd = NOISE_SHARE_OF_SD * loading * latent_sd[k]
            noise = meas_sd * rng.standard_normal(N_FRAMES)
            table[emotion] = np.round(baseline + loading * latent.x[k] + noise, 6)
            parameter_rows.append(
                {
                    "video": video,
                    "label": emotion,
                    "latent": latent_name,
                    "loading": loading,
                    "eta": eta[k],
                    "zeta": zeta[k],
                    "sigma_q": loading * sigma_q[k],
                    "meas_sd": meas_sd,
                    "period_frames": period[k],
                    "damping_ratio": ratio[k],
                }
            )
        score_tables.append(table)
    parameters = pd.DataFrame(parameter_rows).round(8)
    return pd.concat(score_tables, ignore_index=True), parameters


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: write the three files (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output folder [this folder]")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed [{SEED}]")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    make_clip(args.out / CLIP_FILE)
    series, parameters = simulate_series(args.seed)
    series.to_csv(args.out / SERIES_FILE, index=False)
    parameters.to_csv(args.out / PARAMETERS_FILE, index=False)
    for name in (CLIP_FILE, SERIES_FILE, PARAMETERS_FILE):
        size = (args.out / name).stat().st_size
        print(f"wrote {args.out / name} ({size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
