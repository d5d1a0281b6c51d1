"""Corpus throughput on Dask: 1 vs 2 local workers, and the same job through a scheduler address.

Run: ``python tests/benchmarks/bench_corpus.py [--videos 8] [--nframes 30]``

Uses a random-weight model with oai-base's exact architecture (the compute of the real
one) on generated 320x240 face clips, so the numbers measure pybridge, not a download.
Prints frames per second for each setting and the 2-worker / 1-worker ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

LABELS = ["happy", "sad", "angry", "surprised", "neutral"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--nframes", type=int, default=30)
    args = parser.parse_args()

    from distributed import LocalCluster

    from pybridge import score_corpus
    from tests.helpers.media import make_face_video
    from tests.helpers.tiny_models import build_oai_base_architecture

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_oai_base_architecture(root / "oai-base-random")
        videos = root / "videos"
        videos.mkdir()
        for k in range(args.videos):
            make_face_video(videos / f"clip{k}.mp4", n_frames=args.nframes + 5, fps=10, blank=())
        options = dict(nframes=args.nframes, ffreq=1, local_model_path=str(model))

        results = {}
        for workers in (1, 2):
            result = score_corpus(videos, LABELS, root / f"out-{workers}", n_workers=workers, **options)
            results[f"{workers} worker(s)"] = result
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0")
        try:
            results["scheduler address (2 workers)"] = score_corpus(
                videos, LABELS, root / "out-address", scheduler=cluster.scheduler_address, **options
            )
        finally:
            cluster.close()

    print(
        f"{args.videos} videos x {args.nframes} frames, oai-base architecture (random weights), {os.cpu_count()} cores"
    )
    for name, result in results.items():
        print(
            f"  {name:32s} {result.frames_per_second:7.2f} frames/s  ({result.seconds:.1f} s, {result.failed} failed)"
        )
    one, two = results["1 worker(s)"], results["2 worker(s)"]
    print(f"  ratio 2 workers / 1 worker: {two.frames_per_second / one.frames_per_second:.2f}x")


if __name__ == "__main__":
    main()
