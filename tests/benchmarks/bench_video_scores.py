"""Benchmark: video_scores vs a transforEmotion-style loop on a long 720p clip (CPU), fp32 and bf16.

Run: ``python tests/benchmarks/bench_video_scores.py [--seconds 300] [--nframes 100] [--keep DIR]``

It generates a 720p clip (test pattern with the astronaut's face moving over it, 25
fps, x264 ultrafast, a key frame every 10 s) and a random-weight CLIP with oai-base's
exact architecture (ViT-B/32, 224 px) in a temporary folder, prints the CPU model and
whether it has AMX / AVX512-BF16, then times, each in a fresh process, the model
loaded first (load time reported apart) and then the run with the warm model:

- ``pybridge`` (fp32) and ``pybridge_bf16`` (where the CPU computes bf16 natively):
  ``video_scores(clip, labels, nframes, uniform=True)`` with its defaults: one streamed
  decoding pass, faces detected on a copy at most 640 px wide, batched model, label
  embeddings computed once, decoding / face detection / model overlapping;
- ``pybridge_full_res_faces``: fp32 with ``face_detection_size=None`` (faces detected
  at full resolution, as the baseline does);
- ``pybridge_blazeface`` / ``pybridge_bf16_blazeface``: fp32 / bf16 with
  ``detector="blazeface"`` (the faster single-shot detector; MTCNN is the default);
- ``baseline``: what transforEmotion does per sampled frame: seek with OpenCV, write
  the frame as JPEG and read it back, Haar detection on the full frame, then one
  fp32 CLIP forward pass with the image and all labels (labels re-encoded every frame);
- ``pybridge`` again on a clip 1/5 as long, to show peak memory does not grow with
  the clip's length;
- ``stages``: each stage of pybridge's work alone, one after the other: decoding the
  sampled frames (with the frames decoded per sampled frame, against the fewest any
  exact decoder needs: every frame from the key frame before a sampled frame up to
  it), face detection at 640 px, preprocessing, and the bare image encoder at batch 16
  in each precision (and in fp32 once more with torch's BLAS instead of the oneDNN
  products pybridge uses, to show what they gain), with wall and CPU seconds. On a machine with few cores their CPU
  seconds bound what any overlap can reach: the script prints ``baseline / max(encoder
  wall, CPU of decode + detection + preprocessing + encoder / cores)`` per precision
  as the best ratio possible here (warm model).

Ratios are printed for the warm runs (the acceptance measure) and for the whole
process (load included). Nothing is asserted; numbers depend on the machine's load.
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


def _cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_pybridge(clip: str, model_dir: str, nframes: int, precision: str = "fp32", **options) -> dict:
    from pybridge.models import get_model
    from pybridge.vision.video_scoring import video_scores

    started = time.perf_counter()
    get_model("oai-base", local_model_path=model_dir, precision=precision)
    load = time.perf_counter() - started
    started, cpu = time.perf_counter(), _cpu_seconds()
    table = video_scores(clip, LABELS, nframes=nframes, uniform=True, local_model_path=model_dir,
                         precision=precision, **options)  # fmt: skip
    return {"load": load, "seconds": time.perf_counter() - started, "warm_cpu": _cpu_seconds() - cpu,
            "rows": len(table), "faces": int(table["face_found"].sum())}  # fmt: skip


def run_pybridge_bf16(clip: str, model_dir: str, nframes: int) -> dict:
    return run_pybridge(clip, model_dir, nframes, precision="bf16")


def run_pybridge_full_res_faces(clip: str, model_dir: str, nframes: int) -> dict:
    return run_pybridge(clip, model_dir, nframes, face_detection_size=None)


def run_pybridge_blazeface(clip: str, model_dir: str, nframes: int) -> dict:
    return run_pybridge(clip, model_dir, nframes, detector="blazeface")


def run_pybridge_bf16_blazeface(clip: str, model_dir: str, nframes: int) -> dict:
    return run_pybridge(clip, model_dir, nframes, precision="bf16", detector="blazeface")


def count_decoded_frames(clip: str, plan) -> tuple[list, int]:
    """Decode the plan's frames with pybridge's reader, counting every frame the decoder produced."""
    from pybridge.vision import video

    decoded = 0
    original = video._WindowDecoder._decode

    def counting(self):
        nonlocal decoded
        for frame in original(self):
            decoded += 1
            yield frame

    video._WindowDecoder._decode = counting
    try:
        frames = [sampled.rgb for sampled in video.iter_video_frames(clip, plan, prefetch_frames=0)]
    finally:
        video._WindowDecoder._decode = original
    return frames, decoded


def fewest_decodable_frames(clip: str, indices: list[int]) -> int:
    """Frames an exact decoder must decode: from the key frame before each wanted frame up to it (no B-frames)."""
    import av

    with av.open(clip) as container:
        stream = container.streams.video[0]
        keys = [position for position, packet in enumerate(p for p in container.demux(stream) if p.size)
                if packet.is_keyframe]  # fmt: skip
    needed, reached = 0, -1
    for index in sorted(indices):
        key = max(k for k in keys if k <= index)
        needed += index - max(key, reached + 1) + 1 if index > reached else 0
        reached = max(reached, index)
    return needed


def run_stages(clip: str, model_dir: str, nframes: int) -> dict:
    """Time each stage of pybridge's work on its own (wall and CPU seconds)."""
    from pybridge.models import get_model
    from pybridge.models.device import cpu_half_precision_support
    from pybridge.vision.faces import FaceDetector, crop_face, select_faces
    from pybridge.vision.scoring import encode_pixels_in_batches, preprocess_faces
    from pybridge.vision.video import sample_plan

    stages = {}

    def timed(name, function):
        wall, cpu_before = time.perf_counter(), _cpu_seconds()
        result = function()
        stages[name] = {"wall": time.perf_counter() - wall, "cpu": _cpu_seconds() - cpu_before}
        return result

    precisions = ["fp32", "bf16"] if cpu_half_precision_support()["bf16"] else ["fp32"]
    models = {p: timed(f"load_{p}", lambda p=p: get_model("oai-base", local_model_path=model_dir, precision=p))
              for p in precisions}  # fmt: skip
    plan = sample_plan(nframes=nframes, uniform=True)
    frames, decoded = timed("decode", lambda: count_decoded_frames(clip, plan))
    detector = FaceDetector(detection_size=640)
    boxes = timed("detect", lambda: [select_faces(detector.detect(frame), "largest") for frame in frames])
    crops = [crop_face(frame, found[0]) for frame, found in zip(frames, boxes) if found]
    pixels = timed("preprocess", lambda: preprocess_faces(models["fp32"], crops))
    for precision, model in models.items():
        model.encode_pixels(pixels[:16])  # warm-up
        timed(f"encoder_{precision}", lambda model=model: encode_pixels_in_batches(model, pixels, 16))
    # the same fp32 encoder with torch's BLAS products instead of pybridge's oneDNN ones
    os.environ["PYBRIDGE_CPU_MATMUL"] = "blas"
    try:
        timed("encoder_fp32_blas", lambda: encode_pixels_in_batches(models["fp32"], pixels, 16))
    finally:
        del os.environ["PYBRIDGE_CPU_MATMUL"]
    from pybridge.vision.video import probe_video

    info = probe_video(clip)
    instants = [plan.start + k * (info.duration_s - plan.start) / nframes for k in range(nframes)]
    indices = sorted({int(instant * info.average_fps + 1e-6) for instant in instants})
    return {"seconds": sum(stage["wall"] for stage in stages.values()), "rows": len(frames), "faces": len(crops),
            "stages": stages, "decoded": decoded, "fewest_decodable": fewest_decodable_frames(clip, indices)}  # fmt: skip


def run_baseline(clip: str, model_dir: str, nframes: int) -> dict:
    """transforEmotion's per-frame loop, re-created with the same libraries (fp32)."""
    started = time.perf_counter()  # the load includes the imports, as pybridge's does
    import cv2
    import numpy as np
    import torch
    from PIL import Image
    from transformers import CLIPModel, CLIPProcessor

    model = CLIPModel.from_pretrained(model_dir).eval()
    processor = CLIPProcessor.from_pretrained(model_dir)
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    load = time.perf_counter() - started
    started, cpu = time.perf_counter(), _cpu_seconds()
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
    return {"load": load, "seconds": time.perf_counter() - started, "warm_cpu": _cpu_seconds() - cpu,
            "rows": rows, "faces": faces}  # fmt: skip


def measure(kind: str, clip: Path, model_dir: Path, nframes: int) -> dict:
    """Run one variant in a fresh process; add its peak memory and whole-process CPU time."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "from tests.benchmarks import bench_video_scores as bench;"
        f"print(json.dumps(bench.run_{kind}(sys.argv[2], sys.argv[3], int(sys.argv[4]))))"
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
        default="pybridge,pybridge_bf16,baseline,pybridge_full_res_faces,pybridge_blazeface,pybridge_bf16_blazeface,"
        "pybridge_short_clip,stages",
        help="comma-separated subset to run",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT))
    from tests.benchmarks.machine import bf16_available, describe_machine
    from tests.helpers import media, tiny_models

    print(describe_machine(), flush=True)
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
            print(
                f"generated {clip.name} ({clip.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s"
            )
        clips[seconds] = clip

    long_clip, short_clip = clips[args.seconds], clips[max(1, args.seconds // 5)]
    runs = {
        "pybridge": ("pybridge", long_clip),
        "pybridge_bf16": ("pybridge_bf16", long_clip),
        "baseline": ("baseline", long_clip),
        "pybridge_full_res_faces": ("pybridge_full_res_faces", long_clip),
        "pybridge_blazeface": ("pybridge_blazeface", long_clip),
        "pybridge_bf16_blazeface": ("pybridge_bf16_blazeface", long_clip),
        "stages": ("stages", long_clip),
        "pybridge_short_clip": ("pybridge", short_clip),
    }
    variants = [name for name in args.variants.split(",") if "bf16" not in name or bf16_available()]
    results = {}
    for name in variants:
        kind, clip = runs[name]
        results[name] = result = measure(kind, clip, model_dir, args.nframes)
        warm = f", warm model {result['seconds']:6.1f} s ({result['warm_cpu']:6.1f} s CPU) after a {result['load']:.1f} s load" \
            if "load" in result else ""  # fmt: skip
        print(
            f"{name:>24}: process {result['cpu_seconds']:6.1f} s CPU{warm}; {result['rows']} rows, "
            f"{result['faces']} faces, peak RSS {result['peak_rss_mb']:.0f} MB",
            flush=True,
        )
    if "stages" in results:
        stages = results["stages"]["stages"]
        for name, stage in stages.items():
            print(f"  stage {name:>12}: {stage['wall']:6.2f} s wall, {stage['cpu']:6.2f} s CPU")
        decoded, fewest, rows = (results["stages"][key] for key in ("decoded", "fewest_decodable", "rows"))
        print(f"  decoding: {decoded} frames decoded for {rows} sampled ({decoded / rows:.1f} per sampled frame); "
              f"an exact decoder needs at least {fewest} ({fewest / rows:.1f})")  # fmt: skip
        if "encoder_fp32_blas" in stages:
            print(f"  fp32 encoder with oneDNN products / with torch's BLAS: "
                  f"{stages['encoder_fp32_blas']['wall'] / stages['encoder_fp32']['wall']:.2f}x faster")  # fmt: skip
        if "baseline" in results:
            for precision in ("fp32", "bf16"):
                if f"encoder_{precision}" not in stages:
                    continue
                work = sum(stages[name]["cpu"] for name in ("decode", "detect", "preprocess", f"encoder_{precision}"))
                floor = max(stages[f"encoder_{precision}"]["wall"], work / (os.cpu_count() or 1))
                print(f"best warm ratio possible on this machine, {precision} (perfect overlap of the stages): "
                      f"{results['baseline']['seconds'] / floor:.1f}x ({floor:.1f} s)")  # fmt: skip
    goals = {"pybridge": 3.0, "pybridge_bf16": 4.0, "pybridge_full_res_faces": None, "pybridge_blazeface": None,
             "pybridge_bf16_blazeface": None}  # fmt: skip
    for variant, goal in goals.items():
        if variant in results and "baseline" in results:
            base, ours = results["baseline"], results[variant]
            target = f" (goal >= {goal:g}x)" if goal else ""
            print(f"speed ratio baseline / {variant}, warm model ({args.seconds} s clip): "
                  f"{base['seconds'] / ours['seconds']:.1f}x wall{target}, {base['warm_cpu'] / ours['warm_cpu']:.1f}x CPU; "
                  f"whole process with load: {base['cpu_seconds'] / ours['cpu_seconds']:.1f}x CPU")  # fmt: skip
    if "pybridge" in results and "pybridge_short_clip" in results:
        print(
            f"peak RSS pybridge: {results['pybridge']['peak_rss_mb']:.0f} MB ({args.seconds} s clip) vs "
            f"{results['pybridge_short_clip']['peak_rss_mb']:.0f} MB ({max(1, args.seconds // 5)} s clip)"
        )
    print(describe_machine().split("; ")[-1])
    if not args.keep:
        print(f"(temporary files in {folder}; delete when done)")


if __name__ == "__main__":
    main()
