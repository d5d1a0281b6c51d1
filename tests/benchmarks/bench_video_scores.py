"""Benchmark: video_scores vs a transforEmotion-style loop on a long 720p clip (CPU).

Run: ``python tests/benchmarks/bench_video_scores.py [--seconds 300] [--nframes 100] [--keep DIR]``

It generates a 720p clip (test pattern with the astronaut's face moving over it, 25
fps, x264 ultrafast) and a random-weight CLIP with oai-base's exact architecture
(ViT-B/32, 224 px) in a temporary folder, then times, each in a fresh process:

- ``pybridge``: ``video_scores(clip, labels, nframes, uniform=True)`` with its
  defaults: one streamed decoding pass, faces detected on a copy at most 640 px
  wide, batched model, label embeddings computed once, decoding / face detection /
  model overlapping;
- ``pybridge_full_res_faces``: the same with ``face_detection_size=None`` (faces
  detected at full resolution, as the baseline does);
- ``baseline``: what transforEmotion does per sampled frame: seek with OpenCV, write
  the frame as JPEG and read it back, Haar detection on the full frame, then one
  CLIP forward pass with the image and all labels (labels re-encoded every frame);
- ``pybridge`` again on a clip 1/5 as long, to show peak memory does not grow with
  the clip's length;
- ``stages``: each stage of pybridge's work alone, one after the other (model load
  with imports, decoding the sampled frames, face detection at 640 px, the bare image
  encoder at batch 16 on the detected faces), with wall and CPU seconds. On a machine
  with few cores their CPU seconds bound what any overlap can reach: the script prints
  ``baseline / (load + max(encoder wall, CPU of decode + detection + encoder / cores))``
  as the best ratio possible here.

It prints wall time, peak resident memory (``ru_maxrss`` of each process) and the
speed ratio. Nothing is asserted; numbers depend on the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LABELS = ["happy", "sad", "angry", "fearful", "surprised", "disgusted", "neutral"]


def run_pybridge(clip: str, model_dir: str, nframes: int, **options) -> dict:
    from pybridge.vision.video_scoring import video_scores

    started = time.perf_counter()
    table = video_scores(clip, LABELS, nframes=nframes, uniform=True, local_model_path=model_dir, **options)
    return {"seconds": time.perf_counter() - started, "rows": len(table), "faces": int(table["face_found"].sum())}


def run_pybridge_full_res_faces(clip: str, model_dir: str, nframes: int) -> dict:
    return run_pybridge(clip, model_dir, nframes, face_detection_size=None)


def run_stages(clip: str, model_dir: str, nframes: int) -> dict:
    """Time each stage of pybridge's work on its own (wall and CPU seconds)."""
    import resource

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    stages = {}

    def timed(name, function):
        wall, cpu_before = time.perf_counter(), cpu()
        result = function()
        stages[name] = {"wall": time.perf_counter() - wall, "cpu": cpu() - cpu_before}
        return result

    def load():
        from pybridge.models import get_model
        from pybridge.vision.scoring import build_scorer

        return get_model("oai-base", local_model_path=model_dir), build_scorer(LABELS, "oai-base", model_dir)

    model, _ = timed("load", load)
    from pybridge.vision.faces import FaceDetector, crop_face, select_faces
    from pybridge.vision.scoring import encode_pixels_in_batches, preprocess_faces
    from pybridge.vision.video import iter_video_frames, sample_plan

    plan = sample_plan(nframes=nframes, uniform=True)
    frames = timed("decode", lambda: [f.rgb for f in iter_video_frames(clip, plan, prefetch_frames=0)])
    detector = FaceDetector(detection_size=640)
    boxes = timed("detect", lambda: [select_faces(detector.detect(frame), "largest") for frame in frames])
    crops = [crop_face(frame, found[0]) for frame, found in zip(frames, boxes) if found]
    pixels = timed("preprocess", lambda: preprocess_faces(model, crops))
    model.encode_pixels(pixels[:16])  # warm-up
    timed("encoder", lambda: encode_pixels_in_batches(model, pixels, 16))
    return {"seconds": sum(stage["wall"] for stage in stages.values()), "rows": len(frames), "faces": len(crops),
            "stages": stages}  # fmt: skip


def run_baseline(clip: str, model_dir: str, nframes: int) -> dict:
    """transforEmotion's per-frame loop, re-created with the same libraries."""
    import cv2
    import numpy as np
    import torch
    from PIL import Image
    from transformers import CLIPModel, CLIPProcessor

    started = time.perf_counter()
    model = CLIPModel.from_pretrained(model_dir).eval()
    processor = CLIPProcessor.from_pretrained(model_dir)
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    capture = cv2.VideoCapture(clip)
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    targets = np.linspace(0, total - 1, nframes).astype(int)
    rows, faces = 0, 0
    with tempfile.TemporaryDirectory() as scratch:
        for target in targets:
            capture.set(cv2.CAP_PROP_POS_FRAMES, int(target))
            ok, bgr = capture.read()
            if not ok:
                continue
            jpeg = os.path.join(scratch, f"frame_{target}.jpg")
            cv2.imwrite(jpeg, bgr)
            image = np.asarray(Image.open(jpeg).convert("RGB"))
            grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
            found = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(30, 30))
            rows += 1
            if len(found) == 0:
                continue
            x, y, w, h = max(found, key=lambda box: box[2] * box[3])
            crop = image[max(0, y - 50) : y + h + 50, max(0, x - 50) : x + w + 50]
            inputs = processor(text=LABELS, images=Image.fromarray(crop), return_tensors="pt", padding=True)
            with torch.no_grad():
                torch.softmax(model(**inputs).logits_per_image, dim=-1)
            faces += 1
    capture.release()
    return {"seconds": time.perf_counter() - started, "rows": rows, "faces": faces}


def measure(kind: str, clip: Path, model_dir: Path, nframes: int) -> dict:
    """Run one variant in a fresh process; add its peak memory."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "from tests.benchmarks.bench_video_scores import run_pybridge, run_pybridge_full_res_faces, run_baseline,"
        " run_stages;"
        f"print(json.dumps(run_{kind}(sys.argv[2], sys.argv[3], int(sys.argv[4]))))"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(REPO_ROOT), str(clip), str(model_dir), str(nframes)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
    )  # fmt: skip
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"{kind} run failed (status {status})")
    result = json.loads(output.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    # CPU seconds of the whole process (all threads): less sensitive than wall time to other load
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=300, help="clip length [300]")
    parser.add_argument("--nframes", type=int, default=100, help="frames to score [100]")
    parser.add_argument("--keep", default=None, help="reuse/keep clips and model in this folder")
    parser.add_argument(
        "--variants",
        default="pybridge,baseline,pybridge_full_res_faces,pybridge_short_clip,stages",
        help="comma-separated subset to run",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT))
    from tests.helpers import media, tiny_models

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-video-"))
    folder.mkdir(parents=True, exist_ok=True)
    model_dir = folder / "oai-base-random"
    if not (model_dir / "config.json").exists():
        tiny_models.build_oai_base_architecture(model_dir)
    clips = {}
    for seconds in (args.seconds, max(1, args.seconds // 5)):
        clip = folder / f"clip_{seconds}s_720p.mp4"
        if not clip.exists():
            started = time.perf_counter()
            media.make_benchmark_clip(clip, seconds=seconds)
            print(f"generated {clip.name} ({clip.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
        clips[seconds] = clip

    long_clip, short_clip = clips[args.seconds], clips[max(1, args.seconds // 5)]
    runs = {
        "pybridge": ("pybridge", long_clip),
        "baseline": ("baseline", long_clip),
        "pybridge_full_res_faces": ("pybridge_full_res_faces", long_clip),
        "stages": ("stages", long_clip),
        "pybridge_short_clip": ("pybridge", short_clip),
    }
    results = {}
    for name in args.variants.split(","):
        kind, clip = runs[name]
        results[name] = result = measure(kind, clip, model_dir, args.nframes)
        print(
            f"{name:>20}: {result['seconds']:6.1f} s wall, {result['cpu_seconds']:6.1f} s CPU, "
            f"{result['rows']} rows, {result['faces']} faces, peak RSS {result['peak_rss_mb']:.0f} MB",
            flush=True,
        )
    if "stages" in results:
        stages = results["stages"]["stages"]
        for name, stage in stages.items():
            print(f"  stage {name:>10}: {stage['wall']:6.2f} s wall, {stage['cpu']:6.2f} s CPU")
        if "baseline" in results:
            work_cpu = sum(stages[name]["cpu"] for name in ("decode", "detect", "preprocess", "encoder"))
            floor = stages["load"]["wall"] + max(stages["encoder"]["wall"], work_cpu / (os.cpu_count() or 1))
            print(f"best ratio possible on this machine (perfect overlap of the stages): "
                  f"{results['baseline']['seconds'] / floor:.1f}x ({floor:.1f} s)")  # fmt: skip
    for variant in ("pybridge", "pybridge_full_res_faces"):
        if variant in results and "baseline" in results:
            for measure_name in ("seconds", "cpu_seconds"):
                ratio = results["baseline"][measure_name] / results[variant][measure_name]
                print(f"speed ratio baseline / {variant} by {measure_name} ({args.seconds} s clip): {ratio:.1f}x")
    if "pybridge" in results and "pybridge_short_clip" in results:
        print(
            f"peak RSS pybridge: {results['pybridge']['peak_rss_mb']:.0f} MB ({args.seconds} s clip) vs "
            f"{results['pybridge_short_clip']['peak_rss_mb']:.0f} MB ({max(1, args.seconds // 5)} s clip)"
        )
    if not args.keep:
        print(f"(temporary files in {folder}; delete when done)")


if __name__ == "__main__":
    main()
